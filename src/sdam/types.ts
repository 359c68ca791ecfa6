/**
 * The shared vocabulary of SDAM and server selection: server and topology types and the
 * read-only shapes of a server description and a topology description, named as in the
 * server-discovery-and-monitoring spec (camelCase). The logic lives in
 * server_description.ts, topology_description.ts and server_selection.ts.
 */
import type { Document, ObjectId } from 'bson';

export const ServerType = Object.freeze({
  Standalone: 'Standalone',
  Mongos: 'Mongos',
  PossiblePrimary: 'PossiblePrimary',
  RSPrimary: 'RSPrimary',
  RSSecondary: 'RSSecondary',
  RSArbiter: 'RSArbiter',
  RSOther: 'RSOther',
  RSGhost: 'RSGhost',
  LoadBalancer: 'LoadBalancer',
  Unknown: 'Unknown'
} as const);
export type ServerType = (typeof ServerType)[keyof typeof ServerType];

export const TopologyType = Object.freeze({
  Single: 'Single',
  ReplicaSetNoPrimary: 'ReplicaSetNoPrimary',
  ReplicaSetWithPrimary: 'ReplicaSetWithPrimary',
  Sharded: 'Sharded',
  LoadBalanced: 'LoadBalanced',
  Unknown: 'Unknown'
} as const);
export type TopologyType = (typeof TopologyType)[keyof typeof TopologyType];

export interface TopologyVersion {
  processId: ObjectId;
  counter: bigint | number;
}

export type TagSet = Record<string, string>;

/** What the driver knows of one server (immutable). Times are milliseconds. */
export interface ServerDescription {
  /** `host:port` lower-cased, IPv6 as `[::1]:27017`. */
  readonly address: string;
  readonly type: ServerType;
  readonly error: Error | null;
  /** Moving average RTT in ms (alpha 0.2), null when unknown. */
  readonly roundTripTime: number | null;
  readonly minRoundTripTime: number | null;
  /** `lastWrite.lastWriteDate` in ms since the epoch, null when not reported. */
  readonly lastWriteDate: number | null;
  readonly opTime: Document | null;
  /** When this description was created by the monitor, in ms (performance clock). */
  readonly lastUpdateTime: number;
  readonly minWireVersion: number;
  readonly maxWireVersion: number;
  readonly me: string | null;
  readonly hosts: readonly string[];
  readonly passives: readonly string[];
  readonly arbiters: readonly string[];
  readonly tags: TagSet;
  readonly setName: string | null;
  readonly setVersion: number | null;
  readonly electionId: ObjectId | null;
  readonly primary: string | null;
  readonly logicalSessionTimeoutMinutes: number | null;
  readonly topologyVersion: TopologyVersion | null;
  readonly iscryptd: boolean;
  /** Fields used by the connection layer (handshake limits, compression), kept for convenience. */
  readonly maxBsonObjectSize: number | null;
  readonly maxMessageSizeBytes: number | null;
  readonly maxWriteBatchSize: number | null;
  readonly helloOk: boolean;
  readonly serviceId: ObjectId | null;
}

/** What the driver knows of the whole deployment (immutable). */
export interface TopologyDescription {
  readonly type: TopologyType;
  readonly setName: string | null;
  readonly maxSetVersion: number | null;
  readonly maxElectionId: ObjectId | null;
  readonly servers: ReadonlyMap<string, ServerDescription>;
  readonly compatible: boolean;
  readonly compatibilityError: string | null;
  readonly logicalSessionTimeoutMinutes: number | null;
  readonly heartbeatFrequencyMS: number;
  readonly localThresholdMS: number;
  /** The last error that a server check reported, for diagnostics. */
  readonly error: Error | null;
}

/**
 * Wire versions this driver supports: MongoDB 4.2 (wire 8) through 8.2 (wire 27). A server is
 * incompatible when its range does not overlap this one (SDAM "Checking wire protocol
 * compatibility").
 */
export const MIN_SUPPORTED_WIRE_VERSION = 8;
export const MAX_SUPPORTED_WIRE_VERSION = 27;
export const MIN_SUPPORTED_SERVER_VERSION = '4.2';
