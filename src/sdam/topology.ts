/**
 * The stateful part of SDAM: holds the current TopologyDescription, applies monitor check
 * outcomes and application errors to it ("Error handling" in the server-discovery-and-monitoring
 * spec), keeps one connection pool and one monitor per server in step with the description,
 * and publishes the SDAM events.
 *
 * Pools and monitors are reached only through the small handles below, created by injected
 * factories, so the CMAP pool (src/pool) and the socket-level monitor plug in without this
 * module importing them. Every update is processed one at a time, synchronously: clearing or
 * readying a pool happens together with the description update it belongs to.
 */
import { EventEmitter } from 'node:events';
import type { Document, ObjectId } from 'bson';
import {
  MongoError,
  MongoErrorLabel,
  MongoInvalidArgumentError,
  MongoNetworkError,
  MongoNetworkTimeoutError,
  MongoPoolClearedError,
  MongoServerError
} from '../errors';
import { isNodeShuttingDownError, isStateChangeError } from './error_classification';
import {
  ServerClosedEvent,
  ServerDescriptionChangedEvent,
  ServerOpeningEvent,
  TopologyClosedEvent,
  TopologyDescriptionChangedEvent,
  TopologyOpeningEvent,
  type SdamEventMap,
  type ServerHeartbeatEvent,
  type TopologyId
} from './sdam_events';
import {
  compareTopologyVersion,
  isDataBearing,
  isOkReply,
  loadBalancerServerDescription,
  normalizeAddress,
  parseTopologyVersion,
  serverDescriptionEquals,
  serverDescriptionFromHello,
  unknownServerDescription
} from './server_description';
import {
  createTopologyDescription,
  emptyTopologyDescription,
  initialTopologyType,
  topologyDescriptionEquals,
  updateTopologyDescription,
  withSeedList
} from './topology_description';
import { ServerType, TopologyType, type ServerDescription, type TopologyDescription, type TopologyVersion } from './types';

export interface PoolClearOptions {
  /** Also close connections currently checked out (after a monitor timeout). */
  interruptInUseConnections?: boolean;
  /** Load-balanced mode: clear only the connections to this service. */
  serviceId?: ObjectId;
}

/** What the topology needs of a server's connection pool (a CMAP pool satisfies it). */
export interface PoolHandle {
  /** Incremented by each clear; connections and errors carry the generation they were created in. */
  readonly generation: number;
  /** Load-balanced mode: the generation of `serviceId`'s connections (each service is cleared on its own). */
  generationFor?(serviceId?: ObjectId): number;
  clear(options?: PoolClearOptions): void;
  /** Marks the pool usable after a successful check. */
  ready(): void;
  /** Closes the pool when its server leaves the topology or the topology closes. */
  close(): void | Promise<void>;
}

/** What the topology needs of a server's monitor. */
export interface MonitorHandle {
  /** Checks the server as soon as allowed (ignored while a check is in progress). */
  requestCheck(): void;
  /** Cancels an in-progress check and closes the monitoring connection (after an application network error). */
  reset?(): void;
  /** Stops monitoring for good. */
  close(): void;
}

export interface RoundTripTimes {
  roundTripTime?: number | null;
  minRoundTripTime?: number | null;
}

/**
 * Given to a monitor when it is created: how it reports check outcomes and heartbeat events.
 * These callbacks must not be invoked synchronously from within the monitor factory.
 */
export interface MonitorContext {
  readonly topologyId: TopologyId;
  /** The monitored server's address (`host:port`). */
  readonly address: string;
  /** The server's current description (e.g. to know whether it was known before a failure). */
  description(): ServerDescription;
  /** A check returned `hello`; a reply without `ok: 1` counts as a failed check. */
  checkSucceeded(hello: Document, rtt?: RoundTripTimes): void;
  /** A check failed: the server becomes Unknown and its pool is cleared (interrupting in-use connections after a timeout). */
  checkFailed(error: Error): void;
  /** Publishes a heartbeat event through the topology. */
  emitHeartbeat(event: ServerHeartbeatEvent): void;
}

export type PoolFactory = (address: string) => PoolHandle;
export type MonitorFactory = (address: string, context: MonitorContext) => MonitorHandle;

export interface TopologyOptions {
  /** Seed list (`host[:port]`); normalized to lower-case `host:port`. */
  seeds: readonly string[];
  /** The `replicaSet` option. */
  replicaSet?: string | null;
  directConnection?: boolean;
  loadBalanced?: boolean;
  heartbeatFrequencyMS?: number;
  localThresholdMS?: number;
  createPool: PoolFactory;
  /** Omitted: servers are not monitored (load-balanced mode never monitors). */
  createMonitor?: MonitorFactory;
}

/** Where an application error happened and on which connection. */
export interface ApplicationErrorContext {
  /**
   * The generation of the connection the error occurred on (for an error while establishing a
   * connection, the pool's generation when the attempt started). Defaults to the pool's current
   * generation.
   */
  generation?: number;
  /**
   * Whether the connection had completed its handshake (hello and authentication). Defaults to
   * false for errors flagged `beforeHandshake` or labelled `HandshakeError`, true otherwise.
   */
  handshakeCompleted?: boolean;
  /** Load-balanced mode: the service the connection belongs to. */
  serviceId?: ObjectId;
}

interface ServerHandles {
  readonly pool: PoolHandle;
  readonly monitor: MonitorHandle | null;
}

type TopologyState = 'new' | 'open' | 'closed';

let nextTopologyId = 0;

export class Topology extends EventEmitter<SdamEventMap> {
  readonly id: TopologyId = nextTopologyId++;
  private state: TopologyState = 'new';
  private current: TopologyDescription;
  private readonly initial: TopologyDescription;
  private readonly seedCount: number;
  private readonly servers = new Map<string, ServerHandles>();
  private readonly createPool: PoolFactory;
  private readonly createMonitor: MonitorFactory | undefined;
  private readonly pending: Array<() => void> = [];
  private processing = false;

  constructor(options: TopologyOptions) {
    super();
    // Every operation waiting in server selection listens for description changes (and removes
    // its listener when done): any number of concurrent waiters is normal, not a leak.
    this.setMaxListeners(0);
    const seeds = [...new Set(options.seeds.map(normalizeAddress))];
    validateOptions(options, seeds);
    this.seedCount = seeds.length;
    this.createPool = options.createPool;
    this.createMonitor = options.loadBalanced ? undefined : options.createMonitor;
    this.initial = createTopologyDescription({
      type: initialTopologyType(options),
      seeds,
      setName: options.replicaSet ?? null,
      heartbeatFrequencyMS: options.heartbeatFrequencyMS,
      localThresholdMS: options.localThresholdMS
    });
    this.current = emptyTopologyDescription(this.initial);
  }

  /** The current description (immutable; replaced on every change). */
  get description(): TopologyDescription {
    return this.current;
  }

  get isOpen(): boolean {
    return this.state === 'open';
  }

  /** The pool of a server in the topology. */
  getPool(address: string): PoolHandle | undefined {
    return this.servers.get(normalizeAddress(address))?.pool;
  }

  /**
   * Starts the topology: publishes TopologyOpeningEvent and the initial description, then
   * opens a pool and a monitor per seed. No I/O happens here beyond what the factories start.
   */
  open(): void {
    if (this.state !== 'new') return;
    this.state = 'open';
    this.serialize(() => {
      this.emit('topologyOpening', new TopologyOpeningEvent(this.id));
      const previous = this.current;
      this.current = this.initial;
      this.emit('topologyDescriptionChanged', new TopologyDescriptionChangedEvent(this.id, previous, this.current));
      this.reconcileServers();
      if (this.current.type === TopologyType.LoadBalanced) {
        for (const address of this.current.servers.keys()) this.apply(loadBalancerServerDescription(address));
      }
    });
  }

  /**
   * Stops every monitor and pool (ServerClosedEvent each), moves the description to Unknown
   * with no servers, and publishes TopologyClosedEvent last.
   */
  close(): void {
    if (this.state === 'closed') return;
    const wasOpen = this.state === 'open';
    this.state = 'closed';
    this.serialize(() => {
      const previous = this.current;
      this.current = emptyTopologyDescription(previous);
      for (const address of [...this.servers.keys()]) this.closeServer(address);
      if (!wasOpen) return;
      if (!topologyDescriptionEquals(previous, this.current)) {
        this.emit('topologyDescriptionChanged', new TopologyDescriptionChangedEvent(this.id, previous, this.current));
      }
      this.emit('topologyClosed', new TopologyClosedEvent(this.id));
    });
  }

  /** Asks every monitor to check its server now (while server selection finds no suitable server). */
  requestCheck(): void {
    for (const { monitor } of this.servers.values()) monitor?.requestCheck();
  }

  /**
   * Applies a new description of one server: a monitor check outcome, or the hello reply of a
   * new application connection's handshake. Ignored for servers no longer in the topology and
   * for descriptions with an older topologyVersion than the current one.
   */
  updateServerDescription(description: ServerDescription): void {
    this.serialize(() => {
      if (this.state === 'open') this.apply(description);
    });
  }

  /**
   * SRV polling: the hosts the latest SRV lookup returned (already checked against the parent
   * domain and trimmed to srvMaxHosts). Only a Sharded or Unknown topology changes; hosts that
   * stay are left untouched, new ones are added as Unknown, missing ones are removed.
   */
  applySrvHosts(addresses: readonly string[]): void {
    this.serialize(() => {
      if (this.state !== 'open' || addresses.length === 0) return;
      const previous = this.current;
      if (previous.type !== TopologyType.Sharded && previous.type !== TopologyType.Unknown) return;
      const next = withSeedList(previous, addresses);
      if (topologyDescriptionEquals(previous, next)) return;
      this.current = next;
      this.reconcileServers();
      this.emit('topologyDescriptionChanged', new TopologyDescriptionChangedEvent(this.id, previous, next));
    });
  }

  /**
   * SDAM error handling for an error raised by an application operation on `address`
   * (including while establishing a connection). Stale errors (older connection generation or
   * topologyVersion) are ignored; State Change Errors mark the server Unknown, clear its pool
   * when the node is shutting down, and request an immediate check; network errors (and any
   * error before the handshake completed) mark the server Unknown and clear its pool, unless
   * labelled SystemOverloadedError; network timeouts after the handshake change nothing.
   */
  handleApplicationError(address: string, error: Error, context: ApplicationErrorContext = {}): void {
    this.serialize(() => {
      if (this.state === 'open') this.processApplicationError(normalizeAddress(address), error, context);
    });
  }

  private processApplicationError(address: string, error: Error, context: ApplicationErrorContext): void {
    const server = this.current.servers.get(address);
    const handles = this.servers.get(address);
    if (!server || !handles) return;
    // Checkout failing because the pool was just cleared says nothing new about the server.
    if (error instanceof MongoPoolClearedError) return;

    const loadBalanced = this.current.type === TopologyType.LoadBalanced;
    // Stale: the connection predates the last clear of its pool (load-balanced: of its service).
    const currentGeneration = (loadBalanced ? handles.pool.generationFor?.(context.serviceId) : undefined) ?? handles.pool.generation;
    const generation = context.generation ?? currentGeneration;
    if (generation < currentGeneration) return;
    const errorTopologyVersion = topologyVersionOf(error);
    if (compareTopologyVersion(server.topologyVersion, errorTopologyVersion) >= 0) return;

    if (isStateChangeError(error)) {
      const shuttingDown = isNodeShuttingDownError(error);
      if (!loadBalanced) {
        this.apply(unknownServerDescription(address, { error, topologyVersion: errorTopologyVersion }), {
          clearPool: shuttingDown ? {} : undefined
        });
      } else if (shuttingDown && context.serviceId) {
        // Without a serviceId the error came before or during the handshake: load-balancers.md
        // "Initial Handshake Errors" says such errors MUST be ignored for SDAM error handling.
        handles.pool.clear({ serviceId: context.serviceId });
      }
      handles.monitor?.requestCheck();
      return;
    }

    const handshakeCompleted = context.handshakeCompleted ?? !isHandshakeError(error);
    const isNetwork = error instanceof MongoNetworkError;
    const isTimeout = error instanceof MongoNetworkTimeoutError;
    if ((isNetwork && !(isTimeout && handshakeCompleted)) || !handshakeCompleted) {
      if (error instanceof MongoError && error.hasErrorLabel(MongoErrorLabel.SystemOverloadedError)) return;
      if (!loadBalanced) {
        this.apply(unknownServerDescription(address, { error }), { clearPool: {} });
        if (isNetwork) handles.monitor?.reset?.();
      } else if (context.serviceId) {
        handles.pool.clear({ serviceId: context.serviceId });
      }
    }
  }

  /** Runs `task` now, or after the update in progress (events may trigger re-entrant calls). */
  private serialize(task: () => void): void {
    this.pending.push(task);
    if (this.processing) return;
    this.processing = true;
    try {
      for (let next = this.pending.shift(); next; next = this.pending.shift()) next();
    } finally {
      this.processing = false;
    }
  }

  /**
   * "onServerDescriptionChanged": replaces the server's description, updates the topology,
   * clears or readies the pool together with the update, opens/closes servers to match, and
   * publishes ServerDescriptionChanged / ServerOpening / ServerClosed / TopologyDescriptionChanged.
   */
  private apply(incoming: ServerDescription, actions: { clearPool?: PoolClearOptions } = {}): void {
    const previousTopology = this.current;
    const address = incoming.address;
    const previous = previousTopology.servers.get(address);
    if (!previous) return;
    // Ignore a description older (by topologyVersion) than the current one.
    if (compareTopologyVersion(previous.topologyVersion, incoming.topologyVersion) > 0) return;

    const next = updateTopologyDescription(previousTopology, incoming, { seedCount: this.seedCount });
    this.current = next;
    const stored = next.servers.get(address);

    const handles = this.servers.get(address);
    if (handles) {
      if (actions.clearPool) {
        handles.pool.clear(actions.clearPool);
      } else if (incoming.error === null && stored && shouldMarkPoolReady(stored, next.type)) {
        handles.pool.ready();
      }
    }

    if (stored && !serverDescriptionEquals(previous, stored)) {
      this.emit('serverDescriptionChanged', new ServerDescriptionChangedEvent(this.id, address, previous, stored));
    }
    this.reconcileServers();
    if (!topologyDescriptionEquals(previousTopology, next)) {
      this.emit('topologyDescriptionChanged', new TopologyDescriptionChangedEvent(this.id, previousTopology, next));
    }
    this.requestChecksOfDemotedPrimaries(previousTopology, next, address);
  }

  /** A primary invalidated by the discovery of a newer one is checked again as soon as possible. */
  private requestChecksOfDemotedPrimaries(before: TopologyDescription, after: TopologyDescription, updated: string): void {
    for (const [address, server] of before.servers) {
      if (address === updated || server.type !== ServerType.RSPrimary) continue;
      if (after.servers.get(address)?.type === ServerType.Unknown) this.servers.get(address)?.monitor?.requestCheck();
    }
  }

  /** Opens a pool and monitor for each new server, and closes those of removed servers. */
  private reconcileServers(): void {
    for (const address of this.current.servers.keys()) {
      if (!this.servers.has(address)) this.openServer(address);
    }
    for (const address of [...this.servers.keys()]) {
      if (!this.current.servers.has(address)) this.closeServer(address);
    }
  }

  private openServer(address: string): void {
    this.emit('serverOpening', new ServerOpeningEvent(this.id, address));
    const pool = this.createPool(address);
    const handles: { pool: PoolHandle; monitor: MonitorHandle | null } = { pool, monitor: null };
    this.servers.set(address, handles);
    if (this.createMonitor) handles.monitor = this.createMonitor(address, this.monitorContext(address));
  }

  private closeServer(address: string): void {
    const handles = this.servers.get(address);
    if (!handles) return;
    this.servers.delete(address);
    // A monitor or pool failing to close must not keep the other servers open.
    try {
      handles.monitor?.close();
    } catch {
      // ignored: the monitor is discarded either way
    }
    try {
      const closing = handles.pool.close();
      if (closing instanceof Promise) closing.catch(() => undefined);
    } catch {
      // ignored: the pool is discarded either way
    }
    this.emit('serverClosed', new ServerClosedEvent(this.id, address));
  }

  private monitorContext(address: string): MonitorContext {
    // A monitor of a server that left the topology may still report once; that is ignored.
    const isCurrent = (): boolean => this.state === 'open' && this.servers.has(address);
    return {
      topologyId: this.id,
      address,
      description: () => this.current.servers.get(address) ?? unknownServerDescription(address),
      checkSucceeded: (hello, rtt) => {
        if (!isOkReply(hello)) {
          this.serialize(() => {
            if (isCurrent()) this.applyCheckFailure(address, new MongoServerError(hello));
          });
          return;
        }
        this.serialize(() => {
          if (isCurrent()) this.apply(serverDescriptionFromHello(address, hello, rtt));
        });
      },
      checkFailed: (error) => {
        this.serialize(() => {
          if (isCurrent()) this.applyCheckFailure(address, error);
        });
      },
      emitHeartbeat: (event) => {
        if (!isCurrent()) return;
        switch (event.name) {
          case 'serverHeartbeatStarted':
            this.emit('serverHeartbeatStarted', event);
            break;
          case 'serverHeartbeatSucceeded':
            this.emit('serverHeartbeatSucceeded', event);
            break;
          case 'serverHeartbeatFailed':
            this.emit('serverHeartbeatFailed', event);
            break;
        }
      }
    };
  }

  /** Server-monitoring "Network or command error during server check": Unknown, and clear the pool. */
  private applyCheckFailure(address: string, error: Error): void {
    this.apply(unknownServerDescription(address, { error }), {
      clearPool: { interruptInUseConnections: error instanceof MongoNetworkTimeoutError }
    });
  }
}

function validateOptions(options: TopologyOptions, seeds: readonly string[]): void {
  if (seeds.length === 0) throw new MongoInvalidArgumentError('A topology needs at least one seed address');
  if (options.directConnection && seeds.length > 1) {
    throw new MongoInvalidArgumentError('directConnection=true cannot be used with multiple seeds');
  }
  if (options.loadBalanced) {
    if (seeds.length > 1) throw new MongoInvalidArgumentError('loadBalanced=true cannot be used with multiple seeds');
    if (options.directConnection) {
      throw new MongoInvalidArgumentError('loadBalanced=true cannot be used with directConnection=true');
    }
    if (options.replicaSet) throw new MongoInvalidArgumentError('loadBalanced=true cannot be used with replicaSet');
  }
}

/** Pools become ready after a successful check of a data-bearing server, or of any known server in a direct connection. */
function shouldMarkPoolReady(server: ServerDescription, topologyType: TopologyType): boolean {
  return isDataBearing(server.type) || (server.type !== ServerType.Unknown && topologyType === TopologyType.Single);
}

/** The topologyVersion a State Change Error (or write concern error reply) carried, if any. */
function topologyVersionOf(error: Error): TopologyVersion | null {
  if (!(error instanceof MongoServerError)) return null;
  return parseTopologyVersion(error.errorResponse.topologyVersion);
}

/** An error raised while establishing a connection (before hello and authentication completed). */
function isHandshakeError(error: Error): boolean {
  if (error instanceof MongoNetworkError && error.beforeHandshake) return true;
  return error instanceof MongoError && error.hasErrorLabel(MongoErrorLabel.HandshakeError);
}
