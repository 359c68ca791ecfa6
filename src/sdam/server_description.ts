/**
 * Building ServerDescriptions (server-discovery-and-monitoring spec, "Parsing a hello or legacy
 * hello response"), the spec's equality rule used to decide whether to publish
 * ServerDescriptionChangedEvents, and topologyVersion comparison.
 *
 * Descriptions are plain frozen objects shaped as `ServerDescription` in ./types.
 */
import { performance } from 'node:perf_hooks';
import type { Document, ObjectId } from 'bson';
import { ServerType, type ServerDescription, type TagSet, type TopologyVersion } from './types';

const DEFAULT_PORT = 27017;

/** Server types from which a client can receive application data. */
const DATA_BEARING_TYPES: ReadonlySet<ServerType> = new Set<ServerType>([
  ServerType.Mongos,
  ServerType.RSPrimary,
  ServerType.RSSecondary,
  ServerType.Standalone,
  ServerType.LoadBalancer
]);

export function isDataBearing(type: ServerType): boolean {
  return DATA_BEARING_TYPES.has(type);
}

/**
 * Normalizes `host[:port]` to `host:port` with the host lower-cased and the default port 27017
 * filled in; an IPv6 literal is kept in brackets (`[::1]:27017`).
 */
export function normalizeAddress(address: string): string {
  const trimmed = address.trim();
  let host: string;
  let port: string | undefined;
  if (trimmed.startsWith('[')) {
    const close = trimmed.indexOf(']');
    host = close === -1 ? trimmed : trimmed.slice(0, close + 1);
    const rest = close === -1 ? '' : trimmed.slice(close + 1);
    port = rest.startsWith(':') ? rest.slice(1) : undefined;
  } else if ((trimmed.match(/:/g) ?? []).length > 1) {
    // A bare IPv6 literal without brackets has no port.
    host = `[${trimmed}]`;
  } else {
    const colon = trimmed.lastIndexOf(':');
    host = colon === -1 ? trimmed : trimmed.slice(0, colon);
    port = colon === -1 ? undefined : trimmed.slice(colon + 1);
  }
  return `${host.toLowerCase()}:${port && port.length > 0 ? port : DEFAULT_PORT}`;
}

export interface ServerDescriptionOptions {
  /** The moving-average RTT in ms of the check that produced `hello`. */
  roundTripTime?: number | null;
  minRoundTripTime?: number | null;
  /** Why the server is Unknown. */
  error?: Error | null;
  /** A topologyVersion to record (e.g. from a State Change Error); overrides the reply's. */
  topologyVersion?: TopologyVersion | null;
  /** Overrides the monotonic `lastUpdateTime` (ms). */
  lastUpdateTime?: number;
}

/** The ServerType a hello (or legacy hello) reply describes. */
export function parseServerType(hello: Document | null | undefined): ServerType {
  if (!hello || !isOkReply(hello)) return ServerType.Unknown;
  if (hello.isreplicaset === true) return ServerType.RSGhost;
  if (hello.msg === 'isdbgrid') return ServerType.Mongos;
  if (typeof hello.setName === 'string') {
    if (hello.hidden === true) return ServerType.RSOther;
    const writablePrimary = hello.isWritablePrimary ?? hello.ismaster;
    if (writablePrimary === true) return ServerType.RSPrimary;
    if (hello.secondary === true) return ServerType.RSSecondary;
    if (hello.arbiterOnly === true) return ServerType.RSArbiter;
    return ServerType.RSOther;
  }
  return ServerType.Standalone;
}

/**
 * The description of `address` after a check that returned `hello`. A reply without `ok: 1`
 * produces an Unknown description.
 */
export function serverDescriptionFromHello(
  address: string,
  hello: Document,
  options: ServerDescriptionOptions = {}
): ServerDescription {
  const type = parseServerType(hello);
  if (type === ServerType.Unknown) {
    return unknownServerDescription(address, {
      ...options,
      error: options.error ?? new Error(`Server at ${normalizeAddress(address)} replied to hello without ok: 1`)
    });
  }
  const lastWrite = isDocument(hello.lastWrite) ? hello.lastWrite : null;
  return freeze({
    address: normalizeAddress(address),
    type,
    error: null,
    roundTripTime: options.roundTripTime ?? null,
    minRoundTripTime: options.minRoundTripTime ?? null,
    lastWriteDate: lastWrite ? toMillis(lastWrite.lastWriteDate) : null,
    opTime: lastWrite && isDocument(lastWrite.opTime) ? lastWrite.opTime : null,
    lastUpdateTime: options.lastUpdateTime ?? performance.now(),
    minWireVersion: toInteger(hello.minWireVersion) ?? 0,
    maxWireVersion: toInteger(hello.maxWireVersion) ?? 0,
    me: typeof hello.me === 'string' ? normalizeAddress(hello.me) : null,
    hosts: addressList(hello.hosts),
    passives: addressList(hello.passives),
    arbiters: addressList(hello.arbiters),
    tags: parseTags(hello.tags),
    setName: typeof hello.setName === 'string' ? hello.setName : null,
    setVersion: toInteger(hello.setVersion),
    electionId: isObjectId(hello.electionId) ? hello.electionId : null,
    primary: typeof hello.primary === 'string' ? normalizeAddress(hello.primary) : null,
    logicalSessionTimeoutMinutes: toInteger(hello.logicalSessionTimeoutMinutes),
    topologyVersion: options.topologyVersion !== undefined ? options.topologyVersion : parseTopologyVersion(hello.topologyVersion),
    iscryptd: hello.iscryptd === true,
    maxBsonObjectSize: toInteger(hello.maxBsonObjectSize),
    maxMessageSizeBytes: toInteger(hello.maxMessageSizeBytes),
    maxWriteBatchSize: toInteger(hello.maxWriteBatchSize),
    helloOk: hello.helloOk === true,
    serviceId: isObjectId(hello.serviceId) ? hello.serviceId : null
  });
}

/** A default description of type Unknown (or PossiblePrimary), optionally carrying an error. */
export function unknownServerDescription(
  address: string,
  options: ServerDescriptionOptions & { type?: typeof ServerType.Unknown | typeof ServerType.PossiblePrimary } = {}
): ServerDescription {
  return defaultDescription(address, options.type ?? ServerType.Unknown, options);
}

/** The description of a load balancer: type LoadBalancer, every other field unset. */
export function loadBalancerServerDescription(address: string): ServerDescription {
  return defaultDescription(address, ServerType.LoadBalancer, {});
}

function defaultDescription(address: string, type: ServerType, options: ServerDescriptionOptions): ServerDescription {
  return freeze({
    address: normalizeAddress(address),
    type,
    error: options.error ?? null,
    roundTripTime: null,
    minRoundTripTime: null,
    lastWriteDate: null,
    opTime: null,
    lastUpdateTime: options.lastUpdateTime ?? performance.now(),
    minWireVersion: 0,
    maxWireVersion: 0,
    me: null,
    hosts: [],
    passives: [],
    arbiters: [],
    tags: {},
    setName: null,
    setVersion: null,
    electionId: null,
    primary: null,
    logicalSessionTimeoutMinutes: null,
    topologyVersion: options.topologyVersion ?? null,
    iscryptd: false,
    maxBsonObjectSize: null,
    maxMessageSizeBytes: null,
    maxWriteBatchSize: null,
    helloOk: false,
    serviceId: null
  });
}

/** Every member address the server reported: hosts, passives and arbiters. */
export function allHosts(description: ServerDescription): string[] {
  return [...description.hosts, ...description.passives, ...description.arbiters];
}

/**
 * The spec's "Server Description Equality": equal when every field marked (=) is equal
 * (error, type, wire versions, me, hosts/passives/arbiters as sets, tags, setName, setVersion,
 * electionId, primary, logicalSessionTimeoutMinutes, topologyVersion, iscryptd). RTT and
 * lastUpdateTime do not count.
 */
export function serverDescriptionEquals(a: ServerDescription, b: ServerDescription): boolean {
  return (
    a.address === b.address &&
    a.type === b.type &&
    errorsEqual(a.error, b.error) &&
    a.minWireVersion === b.minWireVersion &&
    a.maxWireVersion === b.maxWireVersion &&
    a.me === b.me &&
    sameSet(a.hosts, b.hosts) &&
    sameSet(a.passives, b.passives) &&
    sameSet(a.arbiters, b.arbiters) &&
    tagsEqual(a.tags, b.tags) &&
    a.setName === b.setName &&
    a.setVersion === b.setVersion &&
    compareObjectIds(a.electionId, b.electionId) === 0 &&
    a.primary === b.primary &&
    a.logicalSessionTimeoutMinutes === b.logicalSessionTimeoutMinutes &&
    topologyVersionsEqual(a.topologyVersion, b.topologyVersion) &&
    a.iscryptd === b.iscryptd
  );
}

/**
 * Compares two topologyVersions per "topologyVersion Comparison": -1 when `current` is older
 * than `incoming` (or either is missing, or the processIds differ: the incoming one is assumed
 * more recent), 0 when equal, 1 when `current` is newer.
 */
export function compareTopologyVersion(
  current: TopologyVersion | null | undefined,
  incoming: TopologyVersion | null | undefined
): -1 | 0 | 1 {
  if (current == null || incoming == null) return -1;
  if (!sameObjectId(current.processId, incoming.processId)) return -1;
  const a = counterToBigInt(current.counter);
  const b = counterToBigInt(incoming.counter);
  if (a === b) return 0;
  return a < b ? -1 : 1;
}

/** Reads a `topologyVersion` sub-document from a reply (hello or a State Change Error). */
export function parseTopologyVersion(value: unknown): TopologyVersion | null {
  if (!isDocument(value) || !isObjectId(value.processId)) return null;
  const counter = value.counter;
  if (typeof counter === 'number' || typeof counter === 'bigint') return { processId: value.processId, counter };
  if (isLong(counter)) return { processId: value.processId, counter: counter.toBigInt() };
  return null;
}

/** Orders ObjectIds as 12-byte sequences; null sorts before every ObjectId. */
export function compareObjectIds(a: ObjectId | null, b: ObjectId | null): -1 | 0 | 1 {
  if (a == null || b == null) return a == null && b == null ? 0 : a == null ? -1 : 1;
  const x = a.toHexString();
  const y = b.toHexString();
  return x === y ? 0 : x < y ? -1 : 1;
}

function topologyVersionsEqual(a: TopologyVersion | null, b: TopologyVersion | null): boolean {
  if (a == null || b == null) return a == null && b == null;
  return compareTopologyVersion(a, b) === 0;
}

function sameObjectId(a: ObjectId, b: ObjectId): boolean {
  return a.toHexString() === b.toHexString();
}

function counterToBigInt(counter: unknown): bigint {
  if (typeof counter === 'bigint') return counter;
  if (typeof counter === 'number') return BigInt(Math.trunc(counter));
  if (isLong(counter)) return counter.toBigInt();
  return 0n;
}

function errorsEqual(a: Error | null, b: Error | null): boolean {
  if (a == null || b == null) return a == null && b == null;
  const codeA = (a as { code?: unknown }).code;
  const codeB = (b as { code?: unknown }).code;
  return a.name === b.name && a.message === b.message && codeA === codeB;
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  const setA = new Set(a);
  const setB = new Set(b);
  if (setA.size !== setB.size) return false;
  for (const item of setA) if (!setB.has(item)) return false;
  return true;
}

function tagsEqual(a: TagSet, b: TagSet): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((key) => Object.prototype.hasOwnProperty.call(b, key) && b[key] === a[key]);
}

/** True when a reply has `ok: 1` (a number, boolean, or BSON Double / Int32). */
export function isOkReply(reply: Document): boolean {
  const ok: unknown = reply.ok;
  return (typeof ok === 'number' || typeof ok === 'boolean' || isDocument(ok)) && Number(ok) === 1;
}

function isDocument(value: unknown): value is Document {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isObjectId(value: unknown): value is ObjectId {
  return isDocument(value) && (value as { _bsontype?: unknown })._bsontype === 'ObjectId';
}

interface LongLike {
  _bsontype: 'Long';
  toBigInt(): bigint;
  toNumber(): number;
}

function isLong(value: unknown): value is LongLike {
  return isDocument(value) && (value as { _bsontype?: unknown })._bsontype === 'Long';
}

/** An integer from a number, bigint, Long, Int32 or Double; null otherwise. */
function toInteger(value: unknown): number | null {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'bigint') return Number(value);
  if (isLong(value)) return value.toNumber();
  if (isDocument(value)) {
    const bsontype = (value as { _bsontype?: unknown })._bsontype;
    if (bsontype === 'Int32' || bsontype === 'Double') return Number(value.valueOf());
  }
  return null;
}

function toMillis(value: unknown): number | null {
  if (value instanceof Date) return value.getTime();
  return toInteger(value);
}

function addressList(value: unknown): string[] {
  if (!Array.isArray(value)) return [];
  return value.filter((item): item is string => typeof item === 'string').map(normalizeAddress);
}

function parseTags(value: unknown): TagSet {
  if (!isDocument(value)) return {};
  const tags: TagSet = {};
  for (const [key, tag] of Object.entries(value)) {
    if (typeof tag === 'string') tags[key] = tag;
  }
  return tags;
}

function freeze(description: ServerDescription): ServerDescription {
  Object.freeze(description.hosts);
  Object.freeze(description.passives);
  Object.freeze(description.arbiters);
  Object.freeze(description.tags);
  return Object.freeze(description);
}
