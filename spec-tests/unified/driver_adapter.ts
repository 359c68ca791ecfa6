/**
 * What the unified runner needs from a driver, so that the same test file can be executed by
 * mongowire and by the official `mongodb` package (differential mode).
 *
 * Both drivers share the Node.js driver's API shape (MongoClient → Db → Collection, ClientSession,
 * cursors, event names), so entity operations call driver objects by method name (see
 * operations.ts); the adapter covers only what differs: construction, option objects, internals
 * the test-runner operations inspect, and a few helpers a driver may lack.
 */
import type { Document } from 'bson';
import { ConnectionPoolEventName } from '../../src/pool/pool_events';
import { SDAM_EVENT_NAMES } from '../../src/sdam/sdam_events';
import type { ObservedLogMessage } from './observed';

/** A driver object (client, database, collection, session, cursor, …) used by method name. */
export type DriverObject = Record<string, unknown>;

export type DriverEventListener = (eventName: string, event: unknown) => void;

export interface CreateClientOptions {
  /** Driver options beyond the connection string (serverApi, monitorCommands, …). */
  options: Document;
  /** Receives every command, CMAP and SDAM event the client emits. */
  onEvent: DriverEventListener;
  /** Components → minimum severity; present when the client entity has `observeLogMessages`. */
  observeLogMessages?: Document;
  onLog?: (message: ObservedLogMessage) => void;
}

export interface TopologyView {
  type: string;
  /** Address of the primary, if any. */
  primary?: string;
}

export interface DriverAdapter {
  /** `mongowire` or `mongodb`; used in messages ("operation X not implemented in mongowire"). */
  readonly name: string;
  /** Every event name to subscribe to (command, CMAP, SDAM). */
  readonly eventNames: readonly string[];
  /** Creates a client that is not connected yet, with `onEvent` subscribed. */
  createClient(uri: string, create: CreateClientOptions): DriverObject;
  /** Driver read preference from a unified `readPreference` document. */
  readPreference(doc: Document): unknown;
  readConcern(doc: Document): unknown;
  writeConcern(doc: Document): unknown;
  /** A GridFS bucket on `db`; throws NotImplementedError when the driver has none. */
  createBucket(db: DriverObject, options: Document): DriverObject;
  /** Makes a new change stream open its server-side cursor without consuming a document. */
  initChangeStream(stream: DriverObject): Promise<void>;
  topology(client: DriverObject): TopologyView | undefined;
  /** The snapshot of the topology description kept by `recordTopologyDescription`. */
  topologyDescription(client: DriverObject): unknown;
  /** `NO_TRANSACTION`, `STARTING_TRANSACTION`, … (the Node driver's state names). */
  transactionState(session: DriverObject): string;
  isPinned(session: DriverObject): boolean;
  /** `host:port` of the mongos a session's transaction is pinned to, if any. */
  pinnedAddress(session: DriverObject): string | undefined;
  isDirty(session: DriverObject): boolean;
}

/** An operation or option the driver under test does not offer (the test fails, never skips). */
export class NotImplementedError extends Error {
  constructor(what: string, driver: string) {
    super(`${what} not implemented in ${driver}`);
  }
  override get name(): string {
    return 'NotImplementedError';
  }
}

/** The event names the Node.js driver (and mongowire) emit on a MongoClient. */
export const CLIENT_EVENT_NAMES: readonly string[] = [
  'commandStarted',
  'commandSucceeded',
  'commandFailed',
  ...Object.values(ConnectionPoolEventName),
  ...SDAM_EVENT_NAMES
];

/**
 * The client options (the official driver's names, which src/logger.ts takes too) that send the
 * client's log messages (`{ t, c, s, message, …fields }`) to `create.onLog`; none when the entity
 * observes no log messages. `keep` may leave messages out.
 */
export function logMessageOptions(create: CreateClientOptions, keep: (component: unknown, data: Document) => boolean = () => true): Document {
  const onLog = create.onLog;
  if (!create.observeLogMessages || !onLog) return {};
  return {
    mongodbLogComponentSeverities: { ...create.observeLogMessages },
    mongodbLogMaxDocumentLength: create.options.mongodbLogMaxDocumentLength ?? 1000,
    mongodbLogPath: {
      write(log: Document): void {
        const { s, c, t: _t, ...data } = log;
        if (keep(c, data)) onLog({ level: String(s), component: String(c), data });
      }
    }
  };
}

/** Reads a property of a loosely typed driver object. */
export function prop(target: unknown, name: string): unknown {
  return target !== null && (typeof target === 'object' || typeof target === 'function') ? (target as DriverObject)[name] : undefined;
}
