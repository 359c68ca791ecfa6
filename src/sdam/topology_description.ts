/**
 * The TopologyDescription state machine of the server-discovery-and-monitoring spec
 * ("Updating the TopologyDescription"): a pure function from the current description and a new
 * ServerDescription to the next description. Nothing here performs I/O or mutates its inputs;
 * the stateful topology (./topology.ts) starts and stops monitors and pools to match.
 */
import type { ObjectId } from 'bson';
import { MongoError } from '../errors';
import {
  allHosts,
  compareObjectIds,
  isDataBearing,
  normalizeAddress,
  serverDescriptionEquals,
  unknownServerDescription
} from './server_description';
import {
  MAX_SUPPORTED_WIRE_VERSION,
  MIN_SUPPORTED_SERVER_VERSION,
  MIN_SUPPORTED_WIRE_VERSION,
  ServerType,
  TopologyType,
  type ServerDescription,
  type TopologyDescription
} from './types';

const DRIVER_NAME = 'mongowire';
/** maxWireVersion from which primaries are ordered by (electionId, setVersion) (MongoDB 6.0). */
const ELECTION_ID_FIRST_WIRE_VERSION = 17;
const DEFAULT_HEARTBEAT_FREQUENCY_MS = 10_000;
const DEFAULT_LOCAL_THRESHOLD_MS = 15;

export interface TopologyDescriptionInit {
  type: TopologyType;
  /** Seed addresses; each becomes an Unknown server (normalized to lower-case `host:port`). */
  seeds: readonly string[];
  /** The `replicaSet` option, if any. */
  setName?: string | null;
  heartbeatFrequencyMS?: number;
  localThresholdMS?: number;
}

export interface InitialTopologyTypeOptions {
  directConnection?: boolean;
  replicaSet?: string | null;
  loadBalanced?: boolean;
}

/** The initial TopologyType for the given options ("Initial TopologyType" and the load balancer spec). */
export function initialTopologyType(options: InitialTopologyTypeOptions): TopologyType {
  if (options.loadBalanced) return TopologyType.LoadBalanced;
  if (options.directConnection) return TopologyType.Single;
  if (options.replicaSet) return TopologyType.ReplicaSetNoPrimary;
  return TopologyType.Unknown;
}

/** The description a topology starts with: every seed is an Unknown server. */
export function createTopologyDescription(init: TopologyDescriptionInit): TopologyDescription {
  const servers = new Map<string, ServerDescription>();
  for (const seed of init.seeds) {
    const address = normalizeAddress(seed);
    if (!servers.has(address)) servers.set(address, unknownServerDescription(address));
  }
  return finish(
    {
      type: init.type,
      setName: init.setName ?? null,
      maxSetVersion: null,
      maxElectionId: null,
      servers
    },
    {
      heartbeatFrequencyMS: init.heartbeatFrequencyMS ?? DEFAULT_HEARTBEAT_FREQUENCY_MS,
      localThresholdMS: init.localThresholdMS ?? DEFAULT_LOCAL_THRESHOLD_MS
    }
  );
}

/**
 * A description of type Unknown with no servers, keeping `settings`' heartbeat and latency
 * settings: the "previous" description of the first TopologyDescriptionChangedEvent, and the
 * description a topology ends with when closed.
 */
export function emptyTopologyDescription(
  settings: Pick<TopologyDescription, 'heartbeatFrequencyMS' | 'localThresholdMS'>
): TopologyDescription {
  return finish(
    { type: TopologyType.Unknown, setName: null, maxSetVersion: null, maxElectionId: null, servers: new Map() },
    settings
  );
}

export interface UpdateTopologyOptions {
  /**
   * How many seeds the client was configured with; decides whether a Standalone discovered
   * while the TopologyType is Unknown makes the topology Single (one seed) or is removed.
   * Defaults to the number of servers in the description.
   */
  seedCount?: number;
}

/**
 * Returns the description that results from processing `server` (a new check outcome or an
 * application error's Unknown description). Outcomes from servers no longer in the
 * description are ignored (the same description is returned).
 */
export function updateTopologyDescription(
  description: TopologyDescription,
  server: ServerDescription,
  options: UpdateTopologyOptions = {}
): TopologyDescription {
  const address = server.address;
  if (!description.servers.has(address)) return description;

  const draft: Draft = {
    type: description.type,
    setName: description.setName,
    maxSetVersion: description.maxSetVersion,
    maxElectionId: description.maxElectionId,
    servers: new Map(description.servers)
  };

  switch (draft.type) {
    case TopologyType.LoadBalanced:
      draft.servers.set(address, server);
      break;
    case TopologyType.Single:
      draft.servers.set(address, verifySingleSetName(draft, server));
      break;
    default:
      draft.servers.set(address, server);
      applyServerToMultiServerTopology(draft, server, options.seedCount ?? description.servers.size);
  }
  return finish(draft, description, server);
}

/** Equality of two topology descriptions for deciding whether to publish TopologyDescriptionChangedEvent. */
/**
 * SRV polling (polling-srv-records-for-mongos-discovery): the description with its server list
 * replaced by `addresses` — servers still listed keep their descriptions, new ones start Unknown,
 * servers no longer listed are removed. Only meaningful for Sharded and Unknown topologies.
 */
export function withSeedList(description: TopologyDescription, addresses: readonly string[]): TopologyDescription {
  const servers = new Map<string, ServerDescription>();
  for (const raw of addresses) {
    const address = normalizeAddress(raw);
    servers.set(address, description.servers.get(address) ?? unknownServerDescription(address));
  }
  return finish(
    {
      type: description.type,
      setName: description.setName,
      maxSetVersion: description.maxSetVersion,
      maxElectionId: description.maxElectionId,
      servers
    },
    description
  );
}

export function topologyDescriptionEquals(a: TopologyDescription, b: TopologyDescription): boolean {
  if (
    a.type !== b.type ||
    a.setName !== b.setName ||
    a.maxSetVersion !== b.maxSetVersion ||
    compareObjectIds(a.maxElectionId, b.maxElectionId) !== 0 ||
    a.compatible !== b.compatible ||
    a.compatibilityError !== b.compatibilityError ||
    a.logicalSessionTimeoutMinutes !== b.logicalSessionTimeoutMinutes ||
    a.servers.size !== b.servers.size
  ) {
    return false;
  }
  for (const [address, server] of a.servers) {
    const other = b.servers.get(address);
    if (!other || !serverDescriptionEquals(server, other)) return false;
  }
  return true;
}

/** True when the description holds a server of type RSPrimary. */
export function hasPrimary(servers: ReadonlyMap<string, ServerDescription>): boolean {
  for (const server of servers.values()) if (server.type === ServerType.RSPrimary) return true;
  return false;
}

interface Draft {
  type: TopologyType;
  setName: string | null;
  maxSetVersion: number | null;
  maxElectionId: ObjectId | null;
  servers: Map<string, ServerDescription>;
}

/** "Verifying setName with TopologyType Single": a wrong or missing setName makes the server Unknown. */
function verifySingleSetName(draft: Draft, server: ServerDescription): ServerDescription {
  if (draft.setName === null || server.type === ServerType.Unknown || server.setName === draft.setName) return server;
  return unknownServerDescription(server.address, {
    error: new MongoError(
      `Server at ${server.address} reports setName ${JSON.stringify(server.setName)}, ` +
        `but the replicaSet option requires ${JSON.stringify(draft.setName)}`
    ),
    topologyVersion: server.topologyVersion
  });
}

/** The TopologyType table for Unknown, Sharded, ReplicaSetNoPrimary and ReplicaSetWithPrimary. */
function applyServerToMultiServerTopology(draft: Draft, server: ServerDescription, seedCount: number): void {
  const type = server.type;
  switch (draft.type) {
    case TopologyType.Unknown:
      if (type === ServerType.Standalone) {
        updateUnknownWithStandalone(draft, server, seedCount);
      } else if (type === ServerType.Mongos) {
        draft.type = TopologyType.Sharded;
      } else if (type === ServerType.RSPrimary) {
        draft.type = TopologyType.ReplicaSetWithPrimary;
        updateRSFromPrimary(draft, server);
      } else if (isNonPrimaryMember(type)) {
        draft.type = TopologyType.ReplicaSetNoPrimary;
        updateRSWithoutPrimary(draft, server);
      }
      // Unknown and RSGhost: no-op (the TopologyType remains Unknown).
      return;
    case TopologyType.Sharded:
      if (type !== ServerType.Unknown && type !== ServerType.Mongos) draft.servers.delete(server.address);
      return;
    case TopologyType.ReplicaSetNoPrimary:
      if (type === ServerType.Standalone || type === ServerType.Mongos) {
        draft.servers.delete(server.address);
      } else if (type === ServerType.RSPrimary) {
        draft.type = TopologyType.ReplicaSetWithPrimary;
        updateRSFromPrimary(draft, server);
      } else if (isNonPrimaryMember(type)) {
        updateRSWithoutPrimary(draft, server);
      }
      return;
    case TopologyType.ReplicaSetWithPrimary:
      if (type === ServerType.Standalone || type === ServerType.Mongos) {
        draft.servers.delete(server.address);
        checkIfHasPrimary(draft);
      } else if (type === ServerType.RSPrimary) {
        updateRSFromPrimary(draft, server);
      } else if (isNonPrimaryMember(type)) {
        updateRSWithPrimaryFromMember(draft, server);
      } else {
        checkIfHasPrimary(draft);
      }
      return;
    default:
      return;
  }
}

function isNonPrimaryMember(type: ServerType): boolean {
  return type === ServerType.RSSecondary || type === ServerType.RSArbiter || type === ServerType.RSOther;
}

function updateUnknownWithStandalone(draft: Draft, server: ServerDescription, seedCount: number): void {
  if (seedCount === 1) draft.type = TopologyType.Single;
  else draft.servers.delete(server.address);
}

function updateRSWithoutPrimary(draft: Draft, server: ServerDescription): void {
  if (draft.setName === null) {
    draft.setName = server.setName;
  } else if (draft.setName !== server.setName) {
    draft.servers.delete(server.address);
    return;
  }
  addUnknownMembers(draft, server);
  markPossiblePrimary(draft, server.primary);
  if (server.me !== null && server.address !== server.me) draft.servers.delete(server.address);
}

function updateRSWithPrimaryFromMember(draft: Draft, server: ServerDescription): void {
  if (draft.setName !== server.setName || (server.me !== null && server.address !== server.me)) {
    draft.servers.delete(server.address);
    checkIfHasPrimary(draft);
    return;
  }
  // Had this member been the primary?
  if (!hasPrimary(draft.servers)) {
    draft.type = TopologyType.ReplicaSetNoPrimary;
    markPossiblePrimary(draft, server.primary);
  }
}

function updateRSFromPrimary(draft: Draft, server: ServerDescription): void {
  if (draft.setName === null) {
    draft.setName = server.setName;
  } else if (draft.setName !== server.setName) {
    // A primary, but not of the replica set the user asked for or previously discovered.
    draft.servers.delete(server.address);
    checkIfHasPrimary(draft);
    return;
  }

  if (!acceptPrimaryVersion(draft, server)) {
    draft.servers.set(
      server.address,
      unknownServerDescription(server.address, {
        error: new MongoError(
          'primary marked stale due to electionId/setVersion mismatch, ' +
            `${formatTuple(server.electionId, server.setVersion)} is stale compared to ` +
            formatTuple(draft.maxElectionId, draft.maxSetVersion)
        )
      })
    );
    checkIfHasPrimary(draft);
    return;
  }

  // Invalidate the previous primary (there is at most one).
  for (const [address, other] of draft.servers) {
    if (address !== server.address && other.type === ServerType.RSPrimary) {
      draft.servers.set(
        address,
        unknownServerDescription(address, {
          error: new MongoError('primary marked stale due to discovery of newer primary')
        })
      );
    }
  }

  addUnknownMembers(draft, server);
  const members = new Set(allHosts(server));
  for (const address of [...draft.servers.keys()]) {
    if (!members.has(address)) draft.servers.delete(address);
  }
  checkIfHasPrimary(draft);
}

/**
 * Applies the (electionId, setVersion) rules to a primary; returns false when the primary is
 * stale. MongoDB 6.0+ (maxWireVersion >= 17) orders by electionId then setVersion; older
 * servers keep the legacy order (setVersion then electionId).
 */
function acceptPrimaryVersion(draft: Draft, server: ServerDescription): boolean {
  if (server.maxWireVersion >= ELECTION_ID_FIRST_WIRE_VERSION) {
    const electionOrder = compareObjectIds(server.electionId, draft.maxElectionId);
    const newer =
      electionOrder > 0 || (electionOrder === 0 && (server.setVersion ?? -1) >= (draft.maxSetVersion ?? -1));
    if (!newer) return false;
    draft.maxElectionId = server.electionId;
    draft.maxSetVersion = server.setVersion;
    return true;
  }

  if (server.setVersion !== null && server.electionId !== null) {
    if (
      draft.maxSetVersion !== null &&
      draft.maxElectionId !== null &&
      (draft.maxSetVersion > server.setVersion ||
        (draft.maxSetVersion === server.setVersion && compareObjectIds(draft.maxElectionId, server.electionId) > 0))
    ) {
      return false;
    }
    draft.maxElectionId = server.electionId;
  }
  if (server.setVersion !== null && (draft.maxSetVersion === null || server.setVersion > draft.maxSetVersion)) {
    draft.maxSetVersion = server.setVersion;
  }
  return true;
}

function formatTuple(electionId: ObjectId | null, setVersion: number | null): string {
  return `{ electionId: ${electionId ? electionId.toHexString() : 'null'}, setVersion: ${setVersion ?? 'null'} }`;
}

function addUnknownMembers(draft: Draft, server: ServerDescription): void {
  for (const address of allHosts(server)) {
    if (!draft.servers.has(address)) draft.servers.set(address, unknownServerDescription(address));
  }
}

function markPossiblePrimary(draft: Draft, primary: string | null): void {
  if (primary === null) return;
  const current = draft.servers.get(primary);
  if (current && current.type === ServerType.Unknown) {
    draft.servers.set(
      primary,
      unknownServerDescription(primary, { type: ServerType.PossiblePrimary, lastUpdateTime: current.lastUpdateTime })
    );
  }
}

function checkIfHasPrimary(draft: Draft): void {
  draft.type = hasPrimary(draft.servers) ? TopologyType.ReplicaSetWithPrimary : TopologyType.ReplicaSetNoPrimary;
}

/** Derives the computed fields (compatibility, logicalSessionTimeoutMinutes, error) and freezes. */
function finish(
  draft: Draft,
  settings: Pick<TopologyDescription, 'heartbeatFrequencyMS' | 'localThresholdMS'>,
  updated?: ServerDescription
): TopologyDescription {
  const servers = draft.servers;
  const compatibilityError = draft.type === TopologyType.LoadBalanced ? null : findCompatibilityError(servers);
  const latest = updated ? servers.get(updated.address) : undefined;
  let error: Error | null = latest?.error ?? null;
  if (error === null) {
    for (const server of servers.values()) {
      if (server.error) {
        error = server.error;
        break;
      }
    }
  }
  return Object.freeze({
    type: draft.type,
    setName: draft.setName,
    maxSetVersion: draft.maxSetVersion,
    maxElectionId: draft.maxElectionId,
    servers,
    compatible: compatibilityError === null,
    compatibilityError,
    logicalSessionTimeoutMinutes: logicalSessionTimeoutMinutes(servers),
    heartbeatFrequencyMS: settings.heartbeatFrequencyMS,
    localThresholdMS: settings.localThresholdMS,
    error
  });
}

/** "Checking wire protocol compatibility" over every known server. */
function findCompatibilityError(servers: ReadonlyMap<string, ServerDescription>): string | null {
  for (const server of servers.values()) {
    if (
      server.type === ServerType.Unknown ||
      server.type === ServerType.PossiblePrimary ||
      server.type === ServerType.LoadBalancer
    ) {
      continue;
    }
    if (server.minWireVersion > MAX_SUPPORTED_WIRE_VERSION) {
      return (
        `Server at ${server.address} requires wire version ${server.minWireVersion}, ` +
        `but this version of ${DRIVER_NAME} only supports up to ${MAX_SUPPORTED_WIRE_VERSION}.`
      );
    }
    if (server.maxWireVersion < MIN_SUPPORTED_WIRE_VERSION) {
      return (
        `Server at ${server.address} reports wire version ${server.maxWireVersion}, ` +
        `but this version of ${DRIVER_NAME} requires at least ${MIN_SUPPORTED_WIRE_VERSION} ` +
        `(MongoDB ${MIN_SUPPORTED_SERVER_VERSION}).`
      );
    }
  }
  return null;
}

/** The smallest logicalSessionTimeoutMinutes among data-bearing servers; null if any lacks one (or none exist). */
function logicalSessionTimeoutMinutes(servers: ReadonlyMap<string, ServerDescription>): number | null {
  let result: number | null = null;
  for (const server of servers.values()) {
    if (!isDataBearing(server.type)) continue;
    if (server.logicalSessionTimeoutMinutes === null) return null;
    result = result === null ? server.logicalSessionTimeoutMinutes : Math.min(result, server.logicalSessionTimeoutMinutes);
  }
  return result;
}
