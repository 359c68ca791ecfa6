/**
 * Pure server selection (server-selection and max-staleness specs): which servers of a topology
 * description are suitable for an operation, which of those are in the latency window, and which
 * one in the window to use. No I/O, no clock, no waiting: the topology owns the selection loop
 * (waiting for a new description until `serverSelectionTimeoutMS`) and calls into this module.
 */
import { MongoCompatibilityError, MongoInvalidArgumentError, MongoServerSelectionError } from '../errors';
import { ReadPreference, ReadPreferenceMode, validateMaxStalenessSeconds } from '../read_preference';
import { ServerType, TopologyType, type ServerDescription, type TagSet, type TopologyDescription } from './types';

/** Minimum wire version at which secondaries run aggregate with `$out`/`$merge` (MongoDB 5.0). */
export const MIN_SECONDARY_WRITE_WIRE_VERSION = 13;

/** The criteria of one selection: a read preference or "writable". */
export interface ServerSelector {
  /** What was asked, for messages and logs, e.g. `read preference secondary` or `a writable server`. */
  readonly description: string;
  /** The read preference, when this selects for a read. */
  readonly readPreference?: ReadPreference;
  /** Throws when the criteria are invalid for this topology (e.g. `maxStalenessSeconds` too small). */
  validate(topology: TopologyDescription): void;
  /** The suitable servers among `candidates` (a subset of the topology's servers), before the latency window. */
  suitable(topology: TopologyDescription, candidates: readonly ServerDescription[]): ServerDescription[];
}

/**
 * An application-provided selector (spec "serverSelector"): receives the suitable servers and
 * returns those that should still be considered. Applied after the read preference and before
 * the latency window.
 */
export type CustomServerSelector = (
  topology: TopologyDescription,
  servers: ServerDescription[]
) => ServerDescription[];

export interface SelectServersOptions {
  /**
   * Addresses already tried by this operation (retries): they are left out unless no other server
   * is suitable. Applies to every topology type.
   */
  deprioritized?: Iterable<string>;
  /** The application-provided selector, if any. */
  serverSelector?: CustomServerSelector;
}

/** Unknown and PossiblePrimary servers are not available; every other type is. */
export function isAvailable(server: ServerDescription): boolean {
  return server.type !== ServerType.Unknown && server.type !== ServerType.PossiblePrimary;
}

/**
 * Selectors of tag-less read preferences, one per ReadPreference object: a selector has no state
 * of its own, and reusing it lets the selection loop recognise a repeated selection (see
 * select_server.ts).
 */
const readPreferenceSelectors = new WeakMap<ReadPreference, ServerSelector>();

/** Selects for a read with `readPreference`. */
export function readPreferenceServerSelector(readPreference: ReadPreference): ServerSelector {
  if (readPreference.tags !== undefined && readPreference.tags.length > 0) return makeReadPreferenceSelector(readPreference);
  let selector = readPreferenceSelectors.get(readPreference);
  if (selector === undefined) {
    selector = makeReadPreferenceSelector(readPreference);
    readPreferenceSelectors.set(readPreference, selector);
  }
  return selector;
}

function makeReadPreferenceSelector(readPreference: ReadPreference): ServerSelector {
  return {
    description: `read preference ${readPreference.toString()}`,
    readPreference,
    validate(topology) {
      if (isReplicaSet(topology.type)) validateMaxStalenessSeconds(readPreference, topology.heartbeatFrequencyMS);
    },
    suitable(topology, candidates) {
      switch (topology.type) {
        case TopologyType.Unknown:
          return [];
        case TopologyType.Single:
          return candidates.filter(isAvailable);
        case TopologyType.LoadBalanced:
          return candidates.filter((s) => s.type === ServerType.LoadBalancer);
        case TopologyType.Sharded:
          return candidates.filter((s) => s.type === ServerType.Mongos);
        case TopologyType.ReplicaSetWithPrimary:
        case TopologyType.ReplicaSetNoPrimary:
          return replicaSetReadSuitable(readPreference, topology, candidates);
      }
    }
  };
}

const WRITABLE_SERVER_SELECTOR: ServerSelector = {
  description: 'a writable server',
  validate() {},
  suitable(topology, candidates) {
    switch (topology.type) {
      case TopologyType.Unknown:
      case TopologyType.ReplicaSetNoPrimary:
        return [];
      case TopologyType.Single:
        return candidates.filter(isAvailable);
      case TopologyType.LoadBalanced:
        return candidates.filter((s) => s.type === ServerType.LoadBalancer);
      case TopologyType.Sharded:
        return candidates.filter((s) => s.type === ServerType.Mongos);
      case TopologyType.ReplicaSetWithPrimary:
        return candidates.filter((s) => s.type === ServerType.RSPrimary);
    }
  }
};

/** Selects a server that accepts writes (one shared, stateless selector). */
export function writableServerSelector(): ServerSelector {
  return WRITABLE_SERVER_SELECTOR;
}

/**
 * For aggregate with `$out`/`$merge` (CRUD spec): the user's read preference when every known
 * server is 5.0+ (`minWireVersion` is the smallest maxWireVersion among available servers),
 * otherwise primary.
 */
export function secondaryWritableServerSelector(
  minWireVersion: number,
  readPreference?: ReadPreference
): ServerSelector {
  if (!readPreference || minWireVersion < MIN_SECONDARY_WRITE_WIRE_VERSION) {
    return readPreferenceServerSelector(ReadPreference.primary);
  }
  return readPreferenceServerSelector(readPreference);
}

/**
 * The suitable servers, before the latency window: incompatible wire versions and invalid max
 * staleness throw; deprioritized servers are left out unless nothing else is suitable; then the
 * application-provided selector filters the result.
 * @throws MongoCompatibilityError when the topology has an incompatible server.
 * @throws MongoInvalidArgumentError when the read preference is invalid for this topology.
 */
export function suitableServers(
  topology: TopologyDescription,
  selector: ServerSelector,
  options: SelectServersOptions = {}
): ServerDescription[] {
  if (!topology.compatible) {
    throw new MongoCompatibilityError(topology.compatibilityError ?? 'The topology contains an incompatible server');
  }
  selector.validate(topology);

  const all = Array.from(topology.servers.values());
  const deprioritized = new Set(options.deprioritized ?? []);
  let suitable: ServerDescription[] = [];
  if (deprioritized.size > 0) {
    suitable = selector.suitable(topology, all.filter((s) => !deprioritized.has(s.address)));
  }
  if (suitable.length === 0) suitable = selector.suitable(topology, all);

  if (options.serverSelector && suitable.length > 0) {
    const picked: unknown = options.serverSelector(topology, suitable);
    if (!Array.isArray(picked)) {
      throw new MongoInvalidArgumentError('The serverSelector option must return an array of server descriptions');
    }
    suitable = picked as ServerDescription[];
  }
  return suitable;
}

/** The suitable servers within the latency window: what one selection attempt may choose from. */
export function selectServers(
  topology: TopologyDescription,
  selector: ServerSelector,
  options: SelectServersOptions = {}
): ServerDescription[] {
  return latencyWindow(suitableServers(topology, selector, options), topology.localThresholdMS);
}

/**
 * Servers whose average RTT is within `localThresholdMS` of the fastest one. A server with no
 * RTT yet (e.g. a load balancer, which is not monitored) is kept: it cannot be compared.
 */
export function latencyWindow(servers: readonly ServerDescription[], localThresholdMS: number): ServerDescription[] {
  const rtts = servers.map((s) => s.roundTripTime).filter((rtt): rtt is number => rtt !== null);
  if (rtts.length === 0) return [...servers];
  const high = Math.min(...rtts) + localThresholdMS;
  return servers.filter((s) => s.roundTripTime === null || s.roundTripTime <= high);
}

/**
 * The multi-threaded/async rule: pick two distinct servers at random from the window and keep
 * the one with fewer in-flight operations (the first one on a tie). `random` returns a number
 * in [0, 1) like `Math.random`.
 */
export function chooseInWindow(
  inWindow: readonly ServerDescription[],
  operationCount: (address: string) => number,
  random: () => number = Math.random
): ServerDescription | undefined {
  if (inWindow.length <= 1) return inWindow[0];
  const i = randomIndex(random, inWindow.length);
  let j = randomIndex(random, inWindow.length - 1);
  if (j >= i) j += 1;
  const first = inWindow[i];
  const second = inWindow[j];
  return operationCount(second.address) < operationCount(first.address) ? second : first;
}

function randomIndex(random: () => number, n: number): number {
  return Math.min(n - 1, Math.floor(random() * n));
}

function isReplicaSet(type: TopologyType): boolean {
  return type === TopologyType.ReplicaSetWithPrimary || type === TopologyType.ReplicaSetNoPrimary;
}

function isPrimary(server: ServerDescription): boolean {
  return server.type === ServerType.RSPrimary;
}

function isSecondary(server: ServerDescription): boolean {
  return server.type === ServerType.RSSecondary;
}

/** Replica-set reads: the mode picks the candidates, then max staleness, then tag sets. */
function replicaSetReadSuitable(
  readPreference: ReadPreference,
  topology: TopologyDescription,
  candidates: readonly ServerDescription[]
): ServerDescription[] {
  const primaries = candidates.filter(isPrimary);
  const eligible = (servers: ServerDescription[]): ServerDescription[] =>
    matchTagSets(readPreference.tags, filterByStaleness(readPreference, topology, servers));
  const eligibleSecondaries = (): ServerDescription[] => eligible(candidates.filter(isSecondary));

  switch (readPreference.mode) {
    case ReadPreferenceMode.primary:
      return primaries;
    case ReadPreferenceMode.primaryPreferred:
      return primaries.length > 0 ? primaries : eligibleSecondaries();
    case ReadPreferenceMode.secondary:
      return eligibleSecondaries();
    case ReadPreferenceMode.secondaryPreferred: {
      const secondaries = eligibleSecondaries();
      return secondaries.length > 0 ? secondaries : primaries;
    }
    case ReadPreferenceMode.nearest:
      return eligible(candidates.filter((s) => isPrimary(s) || isSecondary(s)));
  }
}

/**
 * A secondary's estimated staleness in ms (max-staleness spec); 0 for any other server type.
 * With a primary P: `(S.lastUpdateTime - S.lastWriteDate) - (P.lastUpdateTime - P.lastWriteDate) + heartbeatFrequencyMS`.
 * Without: `SMax.lastWriteDate - S.lastWriteDate + heartbeatFrequencyMS`, SMax being the known
 * secondary with the greatest lastWriteDate. A secondary that reported no lastWriteDate is
 * infinitely stale (it cannot be shown to be fresh).
 */
export function estimateStalenessMS(server: ServerDescription, topology: TopologyDescription): number {
  if (!isSecondary(server)) return 0;
  if (server.lastWriteDate === null) return Infinity;
  const heartbeat = topology.heartbeatFrequencyMS;
  const servers = Array.from(topology.servers.values());

  const primary = servers.find(isPrimary);
  if (topology.type === TopologyType.ReplicaSetWithPrimary && primary && primary.lastWriteDate !== null) {
    return (
      server.lastUpdateTime - server.lastWriteDate - (primary.lastUpdateTime - primary.lastWriteDate) + heartbeat
    );
  }
  const maxLastWriteDate = Math.max(
    ...servers.filter(isSecondary).map((s) => s.lastWriteDate ?? -Infinity),
    server.lastWriteDate
  );
  return maxLastWriteDate - server.lastWriteDate + heartbeat;
}

function filterByStaleness(
  readPreference: ReadPreference,
  topology: TopologyDescription,
  servers: ServerDescription[]
): ServerDescription[] {
  const maxStaleness = readPreference.maxStalenessSeconds;
  if (maxStaleness === undefined || maxStaleness <= 0) return servers;
  return servers.filter((s) => estimateStalenessMS(s, topology) <= maxStaleness * 1000);
}

/** True when every tag of the read preference tag set is on the server (`T ⊆ S`). */
export function tagSetMatches(tagSet: TagSet, serverTags: TagSet): boolean {
  return Object.entries(tagSet).every(([key, value]) => Object.hasOwn(serverTags, key) && serverTags[key] === value);
}

/** The servers matching the first tag set that matches any; all servers when the list is absent or empty. */
function matchTagSets(tagSets: readonly TagSet[] | undefined, servers: ServerDescription[]): ServerDescription[] {
  if (!tagSets || tagSets.length === 0) return servers;
  for (const tagSet of tagSets) {
    const matching = servers.filter((s) => tagSetMatches(tagSet, s.tags));
    if (matching.length > 0) return matching;
  }
  return [];
}

export interface SelectionFailureOptions {
  /** How long selection waited, for the message. */
  timeoutMS?: number;
  /** The operation (command name), for the message. */
  operation?: string;
}

/**
 * A user-facing explanation of a failed selection: what was asked, the topology, and for each
 * known server its address, type, RTT, tags and last error.
 */
export function formatSelectionFailure(
  topology: TopologyDescription,
  selector: ServerSelector,
  options: SelectionFailureOptions = {}
): string {
  const subject = options.operation ? `operation "${options.operation}"` : 'operation';
  const waited = options.timeoutMS !== undefined ? ` after ${options.timeoutMS} ms` : '';
  const parts = [`Server selection timed out${waited}: no server suitable for ${subject} with ${selector.description}.`];

  const topologyParts = [`type ${topology.type}`];
  if (topology.setName) topologyParts.push(`replica set "${topology.setName}"`);
  topologyParts.push(`localThresholdMS ${topology.localThresholdMS}`);
  parts.push(`Topology: ${topologyParts.join(', ')}.`);
  if (!topology.compatible && topology.compatibilityError) parts.push(topology.compatibilityError);

  const servers = Array.from(topology.servers.values());
  if (servers.length === 0) {
    parts.push('No servers are known.');
  } else {
    parts.push(`Servers: ${servers.map(describeServer).join('; ')}.`);
  }
  if (topology.error && !servers.some((s) => s.error?.message === topology.error?.message)) {
    parts.push(`Last error: ${topology.error.message}`);
  }
  return parts.join(' ');
}

function describeServer(server: ServerDescription): string {
  const details: string[] = [server.type];
  if (server.roundTripTime !== null) details.push(`rtt ${Math.round(server.roundTripTime * 10) / 10} ms`);
  if (Object.keys(server.tags).length > 0) details.push(`tags ${JSON.stringify(server.tags)}`);
  if (server.error) details.push(`last error: ${server.error.message}`);
  return `${server.address} (${details.join(', ')})`;
}

/** The error the topology throws when `serverSelectionTimeoutMS` expires; `reason` is the topology description. */
export function serverSelectionError(
  topology: TopologyDescription,
  selector: ServerSelector,
  options: SelectionFailureOptions = {}
): MongoServerSelectionError {
  return new MongoServerSelectionError(formatSelectionFailure(topology, selector, options), topology);
}
