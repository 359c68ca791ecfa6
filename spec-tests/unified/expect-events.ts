/**
 * `expectEvents` (expectedEventsForClient / expectedEvent) checks over observed events, and the
 * single-event matching that `waitForEvent` and `assertEventCount` reuse.
 */
import type { Document } from 'bson';
import { bsonTypeTag, describeValue, isDocument, toNumeric } from './bson-values';
import { MATCH_OK, matchResult, type EntityLookup, type MatchResult } from './matcher';
import {
  CMAP_EVENT_KINDS,
  COMMAND_EVENT_KINDS,
  SDAM_EVENT_KINDS,
  type EventType,
  type ObservedCmapEvent,
  type ObservedCommandEvent,
  type ObservedEvent,
  type ObservedSdamEvent
} from './observed';

export interface ExpectedEventsForClient {
  client: string;
  /** Defaults to `command`. */
  eventType?: EventType;
  events: Document[];
  ignoreExtraEvents?: boolean;
}

export function eventTypeOf(kind: string): EventType | undefined {
  if ((COMMAND_EVENT_KINDS as readonly string[]).includes(kind)) return 'command';
  if ((CMAP_EVENT_KINDS as readonly string[]).includes(kind)) return 'cmap';
  if ((SDAM_EVENT_KINDS as readonly string[]).includes(kind)) return 'sdam';
  return undefined;
}

/** The assertion fields each event kind allows (kinds not listed allow none). */
const ALLOWED_FIELDS: Readonly<Record<string, readonly string[]>> = {
  commandStartedEvent: ['command', 'commandName', 'databaseName', 'hasServiceId', 'hasServerConnectionId'],
  commandSucceededEvent: ['reply', 'commandName', 'databaseName', 'hasServiceId', 'hasServerConnectionId'],
  commandFailedEvent: ['commandName', 'databaseName', 'hasServiceId', 'hasServerConnectionId'],
  poolClearedEvent: ['hasServiceId', 'interruptInUseConnections'],
  connectionClosedEvent: ['reason'],
  connectionCheckOutFailedEvent: ['reason'],
  serverDescriptionChangedEvent: ['previousDescription', 'newDescription'],
  topologyDescriptionChangedEvent: ['previousDescription', 'newDescription'],
  serverHeartbeatStartedEvent: ['awaited'],
  serverHeartbeatSucceededEvent: ['awaited'],
  serverHeartbeatFailedEvent: ['awaited']
};

function fail(path: string, message: string): MatchResult {
  return { ok: false, path, message };
}

function prefixed(prefix: string, r: MatchResult): MatchResult {
  return r.ok ? r : { ok: false, path: prefix + r.path.replace(/^\$/, ''), message: r.message };
}

/** Checks one `expectedEventsForClient` against every event observed on that client (all types). */
export function checkExpectedEvents(expected: ExpectedEventsForClient, observed: readonly ObservedEvent[], entities?: EntityLookup): MatchResult {
  const eventType: EventType = expected.eventType ?? 'command';
  const relevant = observed.filter((e) => eventTypeOf(e.kind) === eventType);
  const wanted = expected.events;
  for (let i = 0; i < wanted.length; i++) {
    const path = `events[${i}]`;
    const kind = singleKey(wanted[i]);
    if (!kind) return fail(path, `an expected event must have exactly one key, got ${describeValue(wanted[i])}`);
    if (eventTypeOf(kind) !== eventType) return fail(path, `${kind} is not a ${eventType} event`);
    if (i >= relevant.length) {
      return fail(path, `expected ${wanted.length} ${eventType} events, observed ${relevant.length}: ${summarize(relevant)}`);
    }
    const r = matchEvent(wanted[i], relevant[i], entities);
    if (!r.ok) return prefixed(path, r);
  }
  if (!expected.ignoreExtraEvents && relevant.length > wanted.length) {
    return fail(
      `events[${wanted.length}]`,
      `expected ${wanted.length} ${eventType} events, observed ${relevant.length}; extra: ${summarize(relevant.slice(wanted.length))}`
    );
  }
  return MATCH_OK;
}

/** Whether one observed event satisfies one expectedEvent (`{ <kind>: { …assertions } }`). */
export function matchEvent(expected: Document, observed: ObservedEvent, entities?: EntityLookup): MatchResult {
  const kind = singleKey(expected);
  if (!kind) return fail('$', `an expected event must have exactly one key, got ${describeValue(expected)}`);
  const assertions = expected[kind] as unknown;
  if (!isDocument(assertions)) return fail(`.${kind}`, `event assertions must be a document, got ${describeValue(assertions)}`);
  if (observed.kind !== kind) return fail('$', `expected ${kind}, observed ${observed.kind}`);

  const allowed = ALLOWED_FIELDS[kind] ?? [];
  for (const field of Object.keys(assertions)) {
    const path = `.${kind}.${field}`;
    if (!allowed.includes(field)) return fail(path, `unsupported assertion field "${field}" for ${kind}`);
    const want = assertions[field] as unknown;
    const r = checkField(field, want, observed, entities);
    if (!r.ok) return prefixed(path, r);
  }
  return MATCH_OK;
}

function checkField(field: string, want: unknown, observed: ObservedEvent, entities: EntityLookup | undefined): MatchResult {
  const command = observed as ObservedCommandEvent;
  const cmap = observed as ObservedCmapEvent;
  const sdam = observed as ObservedSdamEvent;
  switch (field) {
    case 'command':
      return matchResult(want, command.command, { entities, isRoot: true });
    case 'reply':
      return matchResult(want, command.reply, { entities, isRoot: true });
    case 'commandName':
    case 'databaseName': {
      const actual = command[field];
      return actual === want ? MATCH_OK : fail('$', `expected ${describeValue(want)}, observed ${describeValue(actual)}`);
    }
    case 'hasServiceId': {
      const has = isNonEmptyObjectId(observed.kind === 'poolClearedEvent' ? cmap.serviceId : command.serviceId);
      return has === want ? MATCH_OK : fail('$', want ? 'expected a non-empty serviceId' : 'expected no serviceId');
    }
    case 'hasServerConnectionId': {
      const n = toNumeric(command.serverConnectionId);
      const has = n !== undefined && n.kind === 'integer' && n.value > 0n;
      return has === want
        ? MATCH_OK
        : fail('$', `expected ${want ? 'a positive' : 'no'} serverConnectionId, observed ${describeValue(command.serverConnectionId)}`);
    }
    case 'interruptInUseConnections':
    case 'reason':
    case 'awaited': {
      const actual = (field === 'awaited' ? sdam.awaited : cmap[field]) as unknown;
      return actual === want ? MATCH_OK : fail('$', `expected ${describeValue(want)}, observed ${describeValue(actual)}`);
    }
    case 'previousDescription':
    case 'newDescription': {
      if (!isDocument(want)) return fail('$', `expected a description document, got ${describeValue(want)}`);
      const actual = sdam[field];
      for (const key of Object.keys(want)) {
        if (key !== 'type') return fail(`.${key}`, `unsupported description field "${key}"`);
        if (actual?.type !== want.type) return fail('.type', `expected ${describeValue(want.type)}, observed ${describeValue(actual?.type)}`);
      }
      return MATCH_OK;
    }
    default:
      return fail('$', `unsupported assertion field "${field}"`);
  }
}

/** An ObjectId with at least one non-zero byte. */
export function isNonEmptyObjectId(value: unknown): boolean {
  if (bsonTypeTag(value) !== 'ObjectId') return false;
  return /[^0]/.test((value as { toHexString(): string }).toHexString());
}

function singleKey(doc: unknown): string | undefined {
  if (!isDocument(doc)) return undefined;
  const keys = Object.keys(doc);
  return keys.length === 1 ? keys[0] : undefined;
}

function summarize(events: readonly ObservedEvent[]): string {
  if (events.length === 0) return '(none)';
  return events.map((e) => ('commandName' in e && e.commandName ? `${e.kind}(${e.commandName})` : e.kind)).join(', ');
}
