/**
 * `expectLogMessages` (expectedLogMessagesForClient / expectedLogMessage) checks over the log
 * messages observed on a client.
 */
import type { Document } from 'bson';
import { describeValue, isDocument, presentKeys } from './bson-values';
import { MATCH_OK, matchResult, type EntityLookup, type MatchResult } from './matcher';
import type { ObservedLogMessage } from './observed';

export interface ExpectedLogMessage {
  level: string;
  component: string;
  failureIsRedacted?: boolean;
  data: Document;
}

export interface ExpectedLogMessagesForClient {
  client: string;
  messages: ExpectedLogMessage[];
  ignoreMessages?: ExpectedLogMessage[];
  ignoreExtraMessages?: boolean;
}

function fail(path: string, message: string): MatchResult {
  return { ok: false, path, message };
}

/**
 * Whether a `failure` value has been redacted. Failures are flexible in form: a redacted one is
 * absent-ish (null, empty string, empty document), a string marked "REDACTED", or a document
 * that keeps nothing but `code`, `codeName` and `errorLabels` (what the CLAM spec allows to remain).
 */
export function isRedactedFailure(failure: unknown): boolean {
  if (failure === null || failure === undefined) return true;
  if (typeof failure === 'string') return failure === '' || failure.includes('REDACTED');
  if (isDocument(failure)) {
    const kept = presentKeys(failure).filter((k) => failure[k] !== null && failure[k] !== '');
    return kept.every((k) => k === 'code' || k === 'codeName' || k === 'errorLabels');
  }
  return false;
}

export function matchLogMessage(expected: ExpectedLogMessage, observed: ObservedLogMessage, entities?: EntityLookup): MatchResult {
  if (observed.level !== expected.level) return fail('.level', `expected ${expected.level}, observed ${observed.level}`);
  if (observed.component !== expected.component) {
    return fail('.component', `expected ${expected.component}, observed ${observed.component}`);
  }
  if (expected.failureIsRedacted !== undefined) {
    if (!Object.prototype.hasOwnProperty.call(observed.data, 'failure')) return fail('.data.failure', 'expected a failure');
    const redacted = isRedactedFailure(observed.data.failure);
    if (redacted !== expected.failureIsRedacted) {
      return fail(
        '.data.failure',
        `expected the failure ${expected.failureIsRedacted ? '' : 'not '}to be redacted, observed ${describeValue(observed.data.failure)}`
      );
    }
  }
  const r = matchResult(expected.data, observed.data, { entities, isRoot: true });
  return r.ok ? r : { ok: false, path: `.data${r.path.replace(/^\$/, '')}`, message: r.message };
}

export function checkExpectedLogMessages(
  expected: ExpectedLogMessagesForClient,
  observed: readonly ObservedLogMessage[],
  entities?: EntityLookup
): MatchResult {
  const ignore = expected.ignoreMessages ?? [];
  const relevant = observed.filter((m) => !ignore.some((i) => matchLogMessage(i, m, entities).ok));
  const wanted = expected.messages;
  for (let i = 0; i < wanted.length; i++) {
    const path = `messages[${i}]`;
    if (i >= relevant.length) {
      return fail(path, `expected ${wanted.length} log messages, observed ${relevant.length}: ${summarize(relevant)}`);
    }
    const r = matchLogMessage(wanted[i], relevant[i], entities);
    if (!r.ok) return { ok: false, path: path + r.path, message: r.message };
  }
  if (!expected.ignoreExtraMessages && relevant.length > wanted.length) {
    return fail(
      `messages[${wanted.length}]`,
      `expected ${wanted.length} log messages, observed ${relevant.length}; extra: ${summarize(relevant.slice(wanted.length))}`
    );
  }
  return MATCH_OK;
}

function summarize(messages: readonly ObservedLogMessage[]): string {
  if (messages.length === 0) return '(none)';
  return messages.map((m) => `${m.component}/${m.level}: ${String(m.data.message ?? '')}`).join(', ');
}
