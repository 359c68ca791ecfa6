/**
 * The entity map of one test, and the client entity's bookkeeping: observed events (converted to
 * the driver-neutral shapes of observed.ts), log messages, checked-out connection count, events
 * stored as entities.
 */
import { BSON, type Document } from 'bson';
import { HELLO_COMMANDS, SENSITIVE_COMMANDS } from '../../src/auth/sensitive_commands';
import { prop, type DriverObject } from './driver_adapter';
import type { EntityLookup } from './matcher';
import type { ObservedEvent, ObservedLogMessage } from './observed';

export type EntityType =
  | 'client'
  | 'database'
  | 'collection'
  | 'session'
  | 'bucket'
  | 'thread'
  | 'cursor'
  | 'changeStream'
  | 'topologyDescription'
  | 'events'
  | 'result';

interface Entry {
  type: EntityType;
  value: unknown;
}

/** Driver event name → unified event kind. */
export const EVENT_KIND_BY_NAME: Readonly<Record<string, string>> = {
  commandStarted: 'commandStartedEvent',
  commandSucceeded: 'commandSucceededEvent',
  commandFailed: 'commandFailedEvent',
  connectionPoolCreated: 'poolCreatedEvent',
  connectionPoolReady: 'poolReadyEvent',
  connectionPoolCleared: 'poolClearedEvent',
  connectionPoolClosed: 'poolClosedEvent',
  connectionCreated: 'connectionCreatedEvent',
  connectionReady: 'connectionReadyEvent',
  connectionClosed: 'connectionClosedEvent',
  connectionCheckOutStarted: 'connectionCheckOutStartedEvent',
  connectionCheckOutFailed: 'connectionCheckOutFailedEvent',
  connectionCheckedOut: 'connectionCheckedOutEvent',
  connectionCheckedIn: 'connectionCheckedInEvent',
  serverDescriptionChanged: 'serverDescriptionChangedEvent',
  serverHeartbeatStarted: 'serverHeartbeatStartedEvent',
  serverHeartbeatSucceeded: 'serverHeartbeatSucceededEvent',
  serverHeartbeatFailed: 'serverHeartbeatFailedEvent',
  topologyDescriptionChanged: 'topologyDescriptionChangedEvent',
  topologyOpening: 'topologyOpeningEvent',
  topologyClosed: 'topologyClosedEvent'
};

export interface ClientEntitySpec {
  id: string;
  uriOptions?: Document;
  useMultipleMongoses?: boolean;
  observeEvents?: string[];
  ignoreCommandMonitoringEvents?: string[];
  observeSensitiveCommands?: boolean;
  storeEventsAsEntities?: Array<{ id: string; events: string[] }>;
  observeLogMessages?: Document;
  serverApi?: Document;
  awaitMinPoolSizeMS?: unknown;
}

/** A client entity: the driver client plus what the runner observes on it. */
export class ClientEntity {
  client!: DriverObject;
  readonly events: ObservedEvent[] = [];
  readonly logs: ObservedLogMessage[] = [];
  /** Every commandStartedEvent's command (observed or not), for the lsid assertions. */
  readonly startedCommands: Document[] = [];
  /** Every commandStartedEvent not ignored, whether or not observeEvents asks for it (differential mode). */
  readonly allCommandsStarted: ObservedEvent[] = [];
  checkedOut = 0;
  /** connectionReady events so far (awaitMinPoolSizeMS). */
  readyConnections = 0;
  /** Event listeners are disabled once the test's operations are done. */
  observing = true;
  private readonly observe: Set<string>;
  private readonly ignore: Set<string>;
  private readonly sensitiveRequestIds = new Set<unknown>();
  private readonly stored: Array<{ events: Set<string>; target: Document[] }> = [];

  constructor(
    readonly spec: ClientEntitySpec,
    entities: EntityMap
  ) {
    this.observe = new Set(spec.observeEvents ?? []);
    this.ignore = new Set(['configureFailPoint', ...(spec.ignoreCommandMonitoringEvents ?? [])]);
    for (const store of spec.storeEventsAsEntities ?? []) {
      const target: Document[] = [];
      entities.set(store.id, 'events', target);
      this.stored.push({ events: new Set(store.events), target });
    }
  }

  get id(): string {
    return this.spec.id;
  }

  /** The listener handed to the driver adapter. */
  readonly onEvent = (eventName: string, event: unknown): void => {
    if (eventName === 'connectionCheckedOut') this.checkedOut++;
    if (eventName === 'connectionCheckedIn') this.checkedOut--;
    if (eventName === 'connectionReady') this.readyConnections++;
    if (!this.observing) return;
    const kind = EVENT_KIND_BY_NAME[eventName];
    if (!kind) return;
    for (const store of this.stored) {
      if (store.events.has(kind) || store.events.has(eventName)) store.target.push({ name: eventName, observedAt: Date.now() / 1000, ...toPlain(event) });
    }
    if (kind.startsWith('command')) {
      if (this.isIgnoredCommand(kind, event)) return;
      if (kind === 'commandStartedEvent') {
        const converted = convertEvent(kind, event) as { command?: Document };
        this.startedCommands.push(converted.command ?? {});
        this.allCommandsStarted.push(converted as ObservedEvent);
      }
    }
    if (!this.observe.has(kind)) return;
    this.events.push(kind === 'commandStartedEvent' ? this.allCommandsStarted[this.allCommandsStarted.length - 1] : convertEvent(kind, event));
  };

  readonly onLog = (message: ObservedLogMessage): void => {
    if (this.observing) this.logs.push(message);
  };

  private isIgnoredCommand(kind: string, event: unknown): boolean {
    const name = String(prop(event, 'commandName'));
    const requestId = prop(event, 'requestId');
    if (this.ignore.has(name)) return true;
    if (this.spec.observeSensitiveCommands === true) return false;
    // Commands whose monitoring events are ignored unless `observeSensitiveCommands` (CLAM spec "Security").
    if (SENSITIVE_COMMANDS.has(name.toLowerCase())) return true;
    if (HELLO_COMMANDS.has(name.toLowerCase())) {
      // hello is sensitive when it carries speculativeAuthenticate: the driver redacts it to {}.
      if (kind === 'commandStartedEvent') {
        const command = prop(event, 'command');
        const redacted = !command || Object.keys(command as Document).length === 0;
        if (redacted) this.sensitiveRequestIds.add(requestId);
        return redacted;
      }
      return this.sensitiveRequestIds.has(requestId);
    }
    return false;
  }
}

function toPlain(event: unknown): Document {
  const out: Document = {};
  for (const key of ['commandName', 'databaseName', 'address', 'connectionId', 'reason', 'duration', 'durationMS', 'requestId']) {
    const v = prop(event, key);
    if (v !== undefined) out[key] = v;
  }
  return out;
}

/**
 * A snapshot of a command or reply as it was when the event fired: drivers may mutate the objects
 * afterwards (a commitTransaction retry adding `wtimeout` to a shared write concern). The BSON
 * round trip also gives the values their wire types.
 */
export function snapshotDocument(doc: unknown): Document | undefined {
  if (doc === null || typeof doc !== 'object') return undefined;
  try {
    return BSON.deserialize(BSON.serialize(doc as Document, { ignoreUndefined: true }), { promoteValues: false, promoteBuffers: false });
  } catch {
    return doc as Document;
  }
}

export function convertEvent(kind: string, event: unknown): ObservedEvent {
  if (kind.startsWith('command')) {
    return {
      kind: kind as 'commandStartedEvent',
      commandName: String(prop(event, 'commandName')),
      databaseName: String(prop(event, 'databaseName')),
      command: snapshotDocument(prop(event, 'command')),
      reply: snapshotDocument(prop(event, 'reply')),
      serviceId: prop(event, 'serviceId'),
      serverConnectionId: prop(event, 'serverConnectionId')
    };
  }
  if (kind.startsWith('server') || kind.startsWith('topology')) {
    const previous = prop(event, 'previousDescription');
    const next = prop(event, 'newDescription');
    return {
      kind: kind as 'serverDescriptionChangedEvent',
      previousDescription: previous ? { type: String(prop(previous, 'type')) } : undefined,
      newDescription: next ? { type: String(prop(next, 'type')) } : undefined,
      awaited: prop(event, 'awaited') as boolean | undefined
    };
  }
  const interrupt = prop(event, 'interruptInUseConnections');
  return {
    kind: kind as 'poolClearedEvent',
    serviceId: prop(event, 'serviceId'),
    interruptInUseConnections: typeof interrupt === 'boolean' ? interrupt : undefined,
    reason: prop(event, 'reason') as string | undefined
  };
}

/** A test's entities by id, with their types. */
export class EntityMap implements EntityLookup {
  private readonly entries = new Map<string, Entry>();

  set(id: string, type: EntityType, value: unknown): void {
    if (this.entries.has(id)) throw new Error(`entity "${id}" is already defined`);
    this.entries.set(id, { type, value });
  }

  has(id: string): boolean {
    return this.entries.has(id);
  }

  typeOf(id: string): EntityType | undefined {
    return this.entries.get(id)?.type;
  }

  /** The raw entity (for the matcher: sessions resolve to `{ lsid }`). */
  get(id: string): unknown {
    const entry = this.entries.get(id);
    if (!entry) return undefined;
    if (entry.type === 'session') return { lsid: (entry.value as SessionEntity).lsid };
    if (entry.type === 'client') return (entry.value as ClientEntity).client;
    return entry.value;
  }

  /** The entity, checked to be of `type`. */
  require<T>(id: unknown, type: EntityType | readonly EntityType[]): T {
    if (typeof id !== 'string') throw new Error(`expected an entity name, got ${JSON.stringify(id)}`);
    const entry = this.entries.get(id);
    if (!entry) throw new Error(`entity "${id}" is not defined`);
    const types = Array.isArray(type) ? type : [type];
    if (!types.includes(entry.type) && !(entry.type === 'result' && types.some((t) => t === 'cursor' || t === 'changeStream'))) {
      throw new Error(`entity "${id}" is a ${entry.type}, expected a ${types.join(' or ')}`);
    }
    return entry.value as T;
  }

  entry(id: string): Entry | undefined {
    return this.entries.get(id);
  }

  all(): Array<[string, Entry]> {
    return [...this.entries.entries()];
  }
}

/** A session entity: the driver session and its lsid, captured when the session was created. */
export interface SessionEntity {
  session: DriverObject;
  client: ClientEntity;
  lsid: Document | undefined;
}

/** A "thread": operations dispatched to it run one after the other, in the background. */
export class ThreadEntity {
  private queue: Promise<void> = Promise.resolve();
  private error: unknown;

  run(task: () => Promise<void>): void {
    this.queue = this.queue.then(task).catch((err: unknown) => {
      this.error ??= err;
    });
  }

  async wait(): Promise<void> {
    await this.queue;
    if (this.error !== undefined) {
      const err = this.error;
      this.error = undefined;
      throw err;
    }
  }
}
