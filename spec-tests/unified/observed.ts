/**
 * The shapes the unified runner converts the driver's events, log messages and errors into before
 * checking them against a test's expectations. Keeping these small and driver-neutral lets the
 * expectation logic stay pure.
 */
import type { Document } from 'bson';

export type CommandEventKind = 'commandStartedEvent' | 'commandSucceededEvent' | 'commandFailedEvent';

export type CmapEventKind =
  | 'poolCreatedEvent'
  | 'poolReadyEvent'
  | 'poolClearedEvent'
  | 'poolClosedEvent'
  | 'connectionCreatedEvent'
  | 'connectionReadyEvent'
  | 'connectionClosedEvent'
  | 'connectionCheckOutStartedEvent'
  | 'connectionCheckOutFailedEvent'
  | 'connectionCheckedOutEvent'
  | 'connectionCheckedInEvent';

export type SdamEventKind =
  | 'serverDescriptionChangedEvent'
  | 'serverHeartbeatStartedEvent'
  | 'serverHeartbeatSucceededEvent'
  | 'serverHeartbeatFailedEvent'
  | 'topologyDescriptionChangedEvent'
  | 'topologyOpeningEvent'
  | 'topologyClosedEvent';

export type EventType = 'command' | 'cmap' | 'sdam';

export const COMMAND_EVENT_KINDS: readonly CommandEventKind[] = ['commandStartedEvent', 'commandSucceededEvent', 'commandFailedEvent'];

export const CMAP_EVENT_KINDS: readonly CmapEventKind[] = [
  'poolCreatedEvent',
  'poolReadyEvent',
  'poolClearedEvent',
  'poolClosedEvent',
  'connectionCreatedEvent',
  'connectionReadyEvent',
  'connectionClosedEvent',
  'connectionCheckOutStartedEvent',
  'connectionCheckOutFailedEvent',
  'connectionCheckedOutEvent',
  'connectionCheckedInEvent'
];

export const SDAM_EVENT_KINDS: readonly SdamEventKind[] = [
  'serverDescriptionChangedEvent',
  'serverHeartbeatStartedEvent',
  'serverHeartbeatSucceededEvent',
  'serverHeartbeatFailedEvent',
  'topologyDescriptionChangedEvent',
  'topologyOpeningEvent',
  'topologyClosedEvent'
];

export interface ObservedCommandEvent {
  kind: CommandEventKind;
  commandName: string;
  databaseName: string;
  /** commandStartedEvent only. */
  command?: Document;
  /** commandSucceededEvent only. */
  reply?: Document;
  /** An ObjectId when connected through a load balancer. */
  serviceId?: unknown;
  /** Int32/number/Long/bigint, or null/undefined when unknown. */
  serverConnectionId?: unknown;
}

export interface ObservedCmapEvent {
  kind: CmapEventKind;
  /** poolClearedEvent. */
  serviceId?: unknown;
  /** poolClearedEvent. */
  interruptInUseConnections?: boolean;
  /** connectionClosedEvent / connectionCheckOutFailedEvent, using the CMAP spec's reason strings. */
  reason?: string;
}

export interface ObservedSdamEvent {
  kind: SdamEventKind;
  /** server/topologyDescriptionChangedEvent: the ServerType or TopologyType name. */
  previousDescription?: { type: string };
  newDescription?: { type: string };
  /** serverHeartbeat*Event. */
  awaited?: boolean;
}

export type ObservedEvent = ObservedCommandEvent | ObservedCmapEvent | ObservedSdamEvent;

export interface ObservedLogMessage {
  /** Severity level name from the logging spec (e.g. `debug`). */
  level: string;
  /** Component name from the logging spec (e.g. `command`, `connection`). */
  component: string;
  /** The structured data of the message. */
  data: Document;
}

/** An error raised by an operation, flattened for assertions. */
export interface ObservedError {
  name: string;
  message: string;
  /** Server error code (top-level `error` for a client bulk write exception). */
  code?: number;
  codeName?: string;
  errorLabels?: readonly string[];
  /** Raised by the driver rather than derived from a server response (includes network errors). */
  isClientError: boolean;
  /** A timeoutMS (CSOT) expiry. */
  isTimeoutError: boolean;
  /** The server's error response document, if any. */
  errorResponse?: Document;
  /**
   * Errors aggregated by a (collection) BulkWriteException: its write errors and write concern
   * error. `errorContains` and `errorCodeName` are satisfied by any of them.
   */
  aggregatedErrors?: ReadonlyArray<{ message?: string; code?: number; codeName?: string }>;
  /** Client bulk write: write errors by operation index. */
  writeErrors?: ReadonlyMap<number, Document> | Readonly<Record<number, Document>>;
  /** Client bulk write: write concern errors in order. */
  writeConcernErrors?: readonly Document[];
  /** A result carried by the error (BulkWriteException `writeResult`, client bulk write `partialResult`). */
  partialResult?: unknown;
}
