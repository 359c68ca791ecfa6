/** `expectError` (expectedError) checks over an error raised by an operation. */
import type { Document } from 'bson';
import { describeValue, isDocument, scalarsEqual } from './bson-values';
import { MATCH_OK, matchResult, type EntityLookup, type MatchResult } from './matcher';
import type { ObservedError } from './observed';

export interface ExpectedError {
  isError?: true;
  isClientError?: boolean;
  isTimeoutError?: boolean;
  errorContains?: string;
  errorCode?: unknown;
  errorCodeName?: string;
  errorLabelsContain?: string[];
  errorLabelsOmit?: string[];
  writeErrors?: Document;
  writeConcernErrors?: Document[];
  errorResponse?: Document;
  expectResult?: unknown;
}

const FIELDS = new Set([
  'isError',
  'isClientError',
  'isTimeoutError',
  'errorContains',
  'errorCode',
  'errorCodeName',
  'errorLabelsContain',
  'errorLabelsOmit',
  'writeErrors',
  'writeConcernErrors',
  'errorResponse',
  'expectResult'
]);

function fail(path: string, message: string): MatchResult {
  return { ok: false, path, message };
}

function at(path: string, r: MatchResult): MatchResult {
  return r.ok ? r : { ok: false, path: path + r.path.replace(/^\$/, ''), message: r.message };
}

/** Checks an operation's outcome against `expectError`; `error` is undefined when the operation succeeded. */
export function checkExpectedError(expected: ExpectedError, error: ObservedError | undefined, entities?: EntityLookup): MatchResult {
  if (!error) return fail('$', 'expected an error, but the operation succeeded');
  for (const field of Object.keys(expected)) {
    if (!FIELDS.has(field)) return fail(`.${field}`, `unsupported expectError field "${field}"`);
  }
  const { isClientError, isTimeoutError, errorContains, errorCode, errorCodeName } = expected;

  if (isClientError !== undefined && error.isClientError !== isClientError) {
    return fail('.isClientError', `expected ${isClientError ? 'a client' : 'a server'} error, got ${describe(error)}`);
  }
  if (isTimeoutError !== undefined && error.isTimeoutError !== isTimeoutError) {
    return fail('.isTimeoutError', `expected ${isTimeoutError ? 'a' : 'no'} timeout error, got ${describe(error)}`);
  }
  if (errorContains !== undefined) {
    const needle = errorContains.toLowerCase();
    const messages = [error.message, ...(error.aggregatedErrors ?? []).map((e) => e.message ?? '')];
    if (!messages.some((m) => m.toLowerCase().includes(needle))) {
      return fail('.errorContains', `expected the error message to contain "${errorContains}", got ${describe(error)}`);
    }
  }
  if (errorCode !== undefined && (error.code === undefined || !scalarsEqual(errorCode, error.code))) {
    return fail('.errorCode', `expected code ${describeValue(errorCode)}, got ${describeValue(error.code)} (${describe(error)})`);
  }
  if (errorCodeName !== undefined) {
    const names = [error.codeName, ...(error.aggregatedErrors ?? []).map((e) => e.codeName)];
    if (!names.some((n) => typeof n === 'string' && n.toLowerCase() === errorCodeName.toLowerCase())) {
      return fail('.errorCodeName', `expected codeName ${errorCodeName}, got ${describeValue(error.codeName)} (${describe(error)})`);
    }
  }
  const labels = error.errorLabels ?? [];
  for (const label of expected.errorLabelsContain ?? []) {
    if (!labels.includes(label)) return fail('.errorLabelsContain', `expected label ${label}, error has [${labels.join(', ')}]`);
  }
  for (const label of expected.errorLabelsOmit ?? []) {
    if (labels.includes(label)) return fail('.errorLabelsOmit', `expected no label ${label}, error has [${labels.join(', ')}]`);
  }
  if (expected.errorResponse !== undefined) {
    if (!error.errorResponse) return fail('.errorResponse', `expected a server response, got ${describe(error)}`);
    const r = matchResult(expected.errorResponse, error.errorResponse, { entities, isRoot: true });
    if (!r.ok) return at('.errorResponse', r);
  }
  if (expected.writeErrors !== undefined) {
    const r = checkWriteErrors(expected.writeErrors, error.writeErrors, entities);
    if (!r.ok) return at('.writeErrors', r);
  }
  if (expected.writeConcernErrors !== undefined) {
    const actual = error.writeConcernErrors;
    if (!actual) return fail('.writeConcernErrors', 'expected write concern errors, the error has none');
    if (actual.length !== expected.writeConcernErrors.length) {
      return fail('.writeConcernErrors', `expected ${expected.writeConcernErrors.length} write concern errors, got ${actual.length}`);
    }
    for (let i = 0; i < actual.length; i++) {
      const r = matchResult(expected.writeConcernErrors[i], actual[i], { entities, isRoot: true });
      if (!r.ok) return at(`.writeConcernErrors[${i}]`, r);
    }
  }
  if (Object.prototype.hasOwnProperty.call(expected, 'expectResult')) {
    const r = matchResult(expected.expectResult, error.partialResult, { entities, isRoot: true });
    if (!r.ok) return at('.expectResult', r);
  }
  return MATCH_OK;
}

function checkWriteErrors(expected: Document, actual: ObservedError['writeErrors'], entities: EntityLookup | undefined): MatchResult {
  if (!isDocument(expected)) return fail('$', `writeErrors must be a document, got ${describeValue(expected)}`);
  if (!actual) return fail('$', 'expected write errors, the error has none');
  const byIndex = new Map<number, Document>(
    actual instanceof Map ? [...actual.entries()] : Object.entries(actual).map(([k, v]) => [Number(k), v as Document])
  );
  const expectedIndexes = Object.keys(expected).map(Number);
  for (const index of expectedIndexes) {
    const found = byIndex.get(index);
    if (!found) return fail(`[${index}]`, `expected a write error at index ${index}`);
    const r = matchResult(expected[String(index)], found, { entities, isRoot: true });
    if (!r.ok) return at(`[${index}]`, r);
  }
  const extra = [...byIndex.keys()].filter((i) => !expectedIndexes.includes(i));
  if (extra.length > 0) return fail('$', `unexpected write errors at index ${extra.join(', ')}`);
  return MATCH_OK;
}

function describe(error: ObservedError): string {
  const code = error.code !== undefined ? ` code ${error.code}` : '';
  const codeName = error.codeName ? ` (${error.codeName})` : '';
  return `${error.name}${code}${codeName}: ${error.message}`;
}
