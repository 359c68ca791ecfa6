/**
 * MongoClient: resolves options, owns the topology (monitors + one CMAP pool per server), the
 * server session pool and the executor's view of the deployment. Database/Collection handles
 * hang off it. Events from SDAM, CMAP and command monitoring are re-emitted on the client.
 */
import { EventEmitter } from 'node:events';
import type { Document } from 'bson';
import { authenticate, prepareAuthHandshake } from './auth/authenticate';
import type { AuthContext } from './auth/auth_provider';
import { buildMongoOptions, parseConnectionString, parseOptions } from './connection_string';
import { MongoInvalidArgumentError, MongoNotConnectedError, MongoTopologyClosedError } from './errors';
import type { MongoClientOptions, MongoOptions } from './mongo_client_options';
import { executeOperation, type ExecutorClient, type ExecutorTopology, type SelectServerOptions } from './operations/execute_operation';
import type { AbstractOperation } from './operations/operation';
import { connect as connectSocket, Connection, type ConnectionOptions } from './pool/connection';
import { makeClientMetadata } from './pool/client_metadata';
import { ConnectionPool } from './pool/pool';
import type { ConnectionPoolEvents } from './pool/pool_events';
import { CommandEvents, CommandMonitor } from './command_monitoring';
import { MongoLogger, splitLoggerOptions, type MongoLoggerMongoClientOptions } from './logger';
import { logPoolAndTopologyEvents, type LoggedEventSource } from './log_messages';
import { ReadPreference } from './read_preference';
import { ReadConcern } from './read_concern';
import { WriteConcern } from './write_concern';
import { createMonitorFactory } from './sdam/monitor';
import { logsSelection, SelectionCache, selectServerDescription, selectServerNow, type SelectionOptions } from './sdam/select_server';
import { Server } from './sdam/server';
import type { CustomServerSelector, ServerSelector } from './sdam/server_selection';
import type { SdamEventMap } from './sdam/sdam_events';
import { Topology } from './sdam/topology';
import { ServerType, TopologyType, type ServerDescription, type TopologyDescription } from './sdam/types';
import { ClientSession, ServerSessionPool, type ClientSessionOptions, type ClusterTime, type SessionOwner } from './sessions';
import { formatHostAddress } from './mongo_client_options';
import { dnsSrvResolver, type SrvResolver } from './srv';
import { SrvPoller } from './sdam/srv_poller';
import { Database, type DatabaseOptions } from './database';
import { RunCommandOperation } from './operations/run_command';
import { ChangeStream, type ChangeStreamOptions } from './change_stream';
import type { ChangeStreamDocument } from './change_stream_events';
import { inheritOptions, type WithCallOptions } from './operations/inherited_options';
import { ListDatabasesOperation, type ListDatabasesOptions, type ListDatabasesResult } from './operations/list_databases';
import type { BaseOperationOptions } from './operations/operation';
import type { ClientBulkWriteResult } from './bulk_write_result';
import type { AnyClientBulkWriteModel } from './mongo_types';
import { executeClientBulkWrite, type ClientBulkWriteOptions } from './operations/client_bulk_write';
import type { WriteConcernOptions } from './write_concern';

export type MongoClientEvents = SdamEventMap & ConnectionPoolEvents & CommandEvents;

/** Options accepted by the MongoClient constructor: URI options plus code-only hooks. */
export interface MongoClientConstructorOptions extends MongoClientOptions {
  /** Narrows the servers eligible for an operation (PyMongo's `server_selector`). */
  serverSelector?: CustomServerSelector;
  /** DNS used for `mongodb+srv://` seedlist discovery and SRV polling (default: node:dns). */
  srvResolver?: SrvResolver;
}

const SDAM_EVENTS: ReadonlyArray<keyof SdamEventMap> = [
  'topologyOpening',
  'topologyClosed',
  'topologyDescriptionChanged',
  'serverOpening',
  'serverClosed',
  'serverDescriptionChanged',
  'serverHeartbeatStarted',
  'serverHeartbeatSucceeded',
  'serverHeartbeatFailed'
];

/** The topology as the executor sees it: selection with a timeout, returning Server adapters. */
class ClientTopology implements ExecutorTopology {
  clusterTime?: ClusterTime;
  /** Set once connected: the selection that connect() itself makes is not an operation's, so it is not logged. */
  logger?: MongoLogger;
  readonly pools = new Map<string, ConnectionPool<Connection>>();
  /** The last latency window (reused while the description and the selector are the same). */
  private readonly selectionCache = new SelectionCache();
  /** The last Server adapter per address (reused while its pool and description are the same). */
  private readonly servers = new Map<string, Server<Connection>>();
  private readonly operationCount = (address: string): number => this.pools.get(address)?.operationCount ?? 0;

  constructor(
    readonly topology: Topology,
    private readonly options: MongoOptions,
    private readonly serverSelector?: CustomServerSelector
  ) {}

  get description(): TopologyDescription {
    return this.topology.description;
  }

  /** The selected server; synchronously when one is suitable now (and selection is not logged). */
  selectServer(selector: ServerSelector, options: SelectServerOptions): Server<Connection> | Promise<Server<Connection>> {
    const timeoutMS =
      options.timeoutMS !== undefined && options.timeoutMS > 0
        ? Math.min(options.timeoutMS, this.options.serverSelectionTimeoutMS)
        : this.options.serverSelectionTimeoutMS;
    const selectionOptions: SelectionOptions = {
      operationName: options.operationName,
      deprioritized: options.deprioritized,
      timeoutMS,
      signal: options.signal,
      serverSelector: this.serverSelector,
      operationCount: this.operationCount,
      logger: this.logger,
      cache: this.selectionCache
    };
    if (!logsSelection(selectionOptions)) {
      const now = selectServerNow(this.topology, selector, selectionOptions);
      if (now) return this.serverFor(now);
    }
    return selectServerDescription(this.topology, selector, selectionOptions).then((description) => this.serverFor(description));
  }

  private serverFor(description: ServerDescription): Server<Connection> {
    const pool = this.pools.get(description.address);
    if (!pool) {
      this.servers.delete(description.address);
      throw new MongoTopologyClosedError(`Server ${description.address} is no longer part of the topology`);
    }
    const cached = this.servers.get(description.address);
    if (cached !== undefined && cached.pool === pool && cached.description === description) return cached;
    const server = new Server(this.topology, pool, description);
    this.servers.set(description.address, server);
    return server;
  }
}

export class MongoClient extends EventEmitter<MongoClientEvents> implements SessionOwner {
  /** The connection string, with any password masked. */
  readonly url: string;
  /** The connection string as given (may hold a password): an ES private field, so util.inspect never shows it. */
  readonly #rawUrl: string;
  private readonly clientOptions: MongoClientConstructorOptions;
  private resolved?: MongoOptions;
  private clientTopology?: ClientTopology;
  /** What the executor sees of this client (built once per topology, see runOperation). */
  private executor?: ExecutorClient;
  private connecting?: Promise<this>;
  private closed = false;
  readonly serverSessionPool: ServerSessionPool;
  private readonly activeSessions = new Set<ClientSession>();
  private readonly commandMonitor: CommandMonitor;
  private srvPoller?: SrvPoller;
  /** Structured logging (src/logger.ts), configured from the options and the environment. */
  private readonly logger: MongoLogger;
  private readonly loggerOptions: MongoLoggerMongoClientOptions;

  constructor(url: string, options: MongoClientConstructorOptions = {}) {
    super();
    if (typeof url !== 'string') throw new MongoInvalidArgumentError('MongoClient requires a connection string');
    this.#rawUrl = url;
    this.url = url.replace(/(\/\/[^:@/]*:)[^@/]*@/, '$1****@').replace(/([?&;](?:tlsCertificateKeyFilePassword|proxyPassword)=)[^&;#]*/gi, '$1****');
    // The logging options are validated here and kept out of URI option parsing.
    const { logger: loggerOptions, rest: clientOptions } = splitLoggerOptions(options);
    this.loggerOptions = loggerOptions;
    this.logger = MongoLogger.fromOptions(loggerOptions);
    this.clientOptions = clientOptions;
    // Validate the URI, options and credentials now (spec: errors at construction). A
    // mongodb+srv URI is only syntax-checked here; its options are resolved by connect().
    const connectionString = parseConnectionString(url);
    if (!connectionString.isSrv) this.resolved = hideSecrets({ ...buildMongoOptions(connectionString, parsableOptions(clientOptions)), ...loggerOptions });
    this.serverSessionPool = new ServerSessionPool(() => this.clientTopology?.description.logicalSessionTimeoutMinutes ?? null, {
      // load-balancers.md "Session Expiration": no pruning by logicalSessionTimeoutMinutes.
      loadBalanced: () => this.clientTopology?.description.type === TopologyType.LoadBalanced
    });
    this.commandMonitor = new CommandMonitor(this, { logger: this.logger });
    if (this.logger.enabled) logPoolAndTopologyEvents(this as unknown as LoggedEventSource, this.logger);
  }

  /** The resolved options (available after `connect()`). */
  get options(): Readonly<MongoOptions> {
    if (!this.resolved) throw new MongoNotConnectedError('MongoClient must be connected before its options are resolved');
    return this.resolved;
  }

  /** Resolves options (SRV), starts monitoring, and waits until a server can be selected. */
  async connect(): Promise<this> {
    if (this.closed) throw new MongoTopologyClosedError('MongoClient is closed');
    if (this.clientTopology) return this;
    this.connecting ??= this.doConnect().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private async doConnect(): Promise<this> {
    const options =
      this.resolved ??
      hideSecrets({
        ...(await parseOptions(this.#rawUrl, parsableOptions(this.clientOptions), { srvResolver: this.clientOptions.srvResolver })),
        ...this.loggerOptions
      });
    for (const warning of options.warnings) process.emitWarning(warning, { code: 'MONGOWIRE_OPTION' });
    this.resolved = options;
    this.commandMonitor.publishEvents = options.monitorCommands;
    const metadata = makeClientMetadata({ appName: options.appName, driverInfo: options.driverInfo ? [options.driverInfo] : undefined });
    const connectionOptions: ConnectionOptions = {
      address: '',
      tls: options.tls,
      tlsCAFile: options.tlsCAFile,
      tlsCertificateKeyFile: options.tlsCertificateKeyFile,
      tlsCertificateKeyFilePassword: options.tlsCertificateKeyFilePassword,
      tlsAllowInvalidCertificates: options.tlsAllowInvalidCertificates,
      tlsAllowInvalidHostnames: options.tlsAllowInvalidHostnames,
      tlsInsecure: options.tlsInsecure,
      connectTimeoutMS: options.connectTimeoutMS,
      socketTimeoutMS: options.socketTimeoutMS,
      metadata,
      compressors: options.compressors,
      zlibCompressionLevel: options.zlibCompressionLevel >= 0 ? options.zlibCompressionLevel : undefined,
      loadBalanced: options.loadBalanced,
      serverApi: options.serverApi
    };

    const credentials = options.credentials;
    let topology!: Topology;
    const pools = new Map<string, ConnectionPool<Connection>>();
    topology = new Topology({
      seeds: options.hosts.map(formatHostAddress),
      replicaSet: options.replicaSet ?? null,
      directConnection: options.directConnection,
      loadBalanced: options.loadBalanced,
      heartbeatFrequencyMS: options.heartbeatFrequencyMS,
      localThresholdMS: options.localThresholdMS,
      createPool: (address) => {
        const pool = new ConnectionPool<Connection>(
          address,
          async ({ id, generation, signal }) => {
            const authContext: Partial<AuthContext> = {};
            const conn = await connectSocket({
              ...connectionOptions,
              address,
              id,
              generation,
              signal,
              commandMonitor: options.monitorCommands || this.commandMonitor.logging ? this.commandMonitor.forConnection() : undefined,
              prepareHandshake: credentials
                ? (hello) => {
                    authContext.credentials = credentials;
                    return prepareAuthHandshake(hello, authContext as AuthContext);
                  }
                : undefined,
              authenticate: credentials
                ? (c, helloReply) =>
                    authenticate({ ...(authContext as AuthContext), credentials, connection: c, hello: helloReply })
                : undefined
            });
            return conn;
          },
          {
            maxPoolSize: options.maxPoolSize,
            minPoolSize: options.minPoolSize,
            maxConnecting: options.maxConnecting,
            maxIdleTimeMS: options.maxIdleTimeMS,
            waitQueueTimeoutMS: options.waitQueueTimeoutMS,
            loadBalanced: options.loadBalanced,
            onEstablishmentError: (error, ctx) =>
              topology.handleApplicationError(address, error, { generation: ctx.generation, handshakeCompleted: false })
          }
        );
        pool.forwardEventsTo(this);
        pools.set(address, pool);
        return {
          get generation() {
            return pool.generation;
          },
          generationFor: (serviceId) => pool.generationFor(serviceId),
          clear: (opts) => pool.clear(opts),
          ready: () => pool.ready(),
          close: () => {
            pools.delete(address);
            pool.close();
          }
        };
      },
      createMonitor: createMonitorFactory({
        connectionOptions,
        heartbeatFrequencyMS: options.heartbeatFrequencyMS,
        minHeartbeatFrequencyMS: options.minHeartbeatFrequencyMS,
        connectTimeoutMS: options.connectTimeoutMS,
        serverMonitoringMode: options.serverMonitoringMode
      })
    });
    forwardEvents(topology, SDAM_EVENTS, this);
    const clientTopology = new ClientTopology(topology, options, this.clientOptions.serverSelector);
    for (const [address, pool] of pools) clientTopology.pools.set(address, pool);
    // Pools created later (discovered servers) register through the shared map.
    (clientTopology as { pools: Map<string, ConnectionPool<Connection>> }).pools = pools;
    this.clientTopology = clientTopology;
    topology.open();
    if (options.isSrv && options.srvHost && !options.loadBalanced) {
      this.srvPoller = new SrvPoller(topology, {
        srvHost: options.srvHost,
        srvServiceName: options.srvServiceName,
        srvMaxHosts: options.srvMaxHosts,
        heartbeatFrequencyMS: options.heartbeatFrequencyMS,
        resolver: this.clientOptions.srvResolver ?? dnsSrvResolver
      });
      this.srvPoller.start();
    }
    try {
      // As the official driver does: connect() succeeds once any server can be selected.
      await clientTopology.selectServer(
        { description: 'any available server', validate: () => undefined, suitable: (_t, c) => c.filter((s) => s.type !== ServerType.Unknown && s.type !== ServerType.PossiblePrimary) },
        { operationName: 'connect' }
      );
      clientTopology.logger = this.logger;
    } catch (error) {
      // Not close(): it waits for `this.connecting`, i.e. for this very call (deadlock).
      // Tear the topology down; the client may connect again, as the official driver allows.
      this.clientTopology = undefined;
      this.srvPoller?.stop();
      this.srvPoller = undefined;
      topology.close();
      throw error;
    }
    return this;
  }

  /** Ends pooled sessions (endSessions), stops monitors, closes every pool and socket. */
  async close(): Promise<void> {
    if (this.closed && !this.clientTopology) return;
    this.closed = true;
    if (this.connecting) await this.connecting.catch(() => undefined);
    const ct = this.clientTopology;
    for (const session of [...this.activeSessions]) await session.endSession().catch(() => undefined);
    if (ct && ct.topology.isOpen) {
      const batches = this.serverSessionPool.drainForEndSessions();
      // Best effort, bounded: selection waits at most 1 s (it asks the monitors for an immediate
      // check, so a server marked Unknown by a recent network error usually comes back in time).
      for (const ids of batches) {
        await this.runOperation(
          new RunCommandOperation('admin', { endSessions: ids }, { readPreference: ReadPreference.primaryPreferred, noSession: true }),
          { serverSelectionTimeoutMS: 1000 }
        ).catch(() => undefined);
      }
    }
    this.clientTopology = undefined;
    this.srvPoller?.stop();
    this.srvPoller = undefined;
    ct?.topology.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** Runs an operation (connecting first if needed). */
  executeOperation<T>(operation: AbstractOperation<T>): Promise<T> {
    // Connected: straight to the executor (no extra async layer on every operation).
    if (this.clientTopology) return this.runOperation(operation);
    return this.connectAndRun(operation);
  }

  private async connectAndRun<T>(operation: AbstractOperation<T>): Promise<T> {
    if (!this.clientTopology) {
      if (this.closed) throw new MongoTopologyClosedError('MongoClient is closed');
      await this.connect();
    }
    return this.runOperation(operation);
  }

  private runOperation<T>(operation: AbstractOperation<T>, overrides: { serverSelectionTimeoutMS?: number } = {}): Promise<T> {
    const ct = this.clientTopology;
    if (!ct) return Promise.reject(new MongoTopologyClosedError('MongoClient is closed'));
    const options = this.resolved;
    const serverSelectionTimeoutMS = overrides.serverSelectionTimeoutMS ?? options?.serverSelectionTimeoutMS;
    // The executor's view only changes with the topology (connect) and the overrides (close): reused.
    let executor = this.executor;
    if (executor === undefined || executor.topology !== ct || executor.serverSelectionTimeoutMS !== serverSelectionTimeoutMS) {
      executor = {
        topology: ct,
        retryReads: options?.retryReads ?? true,
        retryWrites: options?.retryWrites ?? true,
        sessionOwner: this,
        serverSelectionTimeoutMS,
        maxAdaptiveRetries: options?.maxAdaptiveRetries,
        enableOverloadRetargeting: options?.enableOverloadRetargeting
      };
      if (overrides.serverSelectionTimeoutMS === undefined) this.executor = executor;
    }
    return executeOperation(executor, operation);
  }

  // ---------------------------------------------------------------- databases and sessions

  db(name?: string, options?: DatabaseOptions): Database {
    const dbName = name ?? this.resolved?.dbName ?? defaultDbFromUrl(this.#rawUrl) ?? 'test';
    return new Database(this, dbName, options);
  }

  /** Motor's spelling. */
  getDatabase(name: string, options?: DatabaseOptions): Database {
    return this.db(name, options);
  }

  getDefaultDatabase(options?: DatabaseOptions): Database {
    const name = defaultDbFromUrl(this.#rawUrl);
    if (!name) throw new MongoInvalidArgumentError('No default database name was given in the connection string');
    return this.db(name, options);
  }

  startSession(options?: ClientSessionOptions): ClientSession {
    const session = new ClientSession(this, options ?? {}, true);
    this.activeSessions.add(session);
    return session;
  }

  onSessionEnded(session: ClientSession): void {
    this.activeSessions.delete(session);
  }

  /** Client-level defaults inherited by databases and collections. */
  get readPreference(): ReadPreference {
    const rp = this.resolved?.readPreference ?? this.clientOptions.readPreference;
    return ReadPreference.fromOptions({ readPreference: rp as never }) ?? ReadPreference.primary;
  }

  get readConcern(): ReadConcern | undefined {
    return ReadConcern.fromOptions({ readConcern: this.resolved?.readConcern ?? this.clientOptions.readConcern });
  }

  get writeConcern(): WriteConcern | undefined {
    return WriteConcern.fromOptions({ writeConcern: this.resolved?.writeConcern ?? this.clientOptions.writeConcern });
  }

  get timeoutMS(): number | undefined {
    return this.resolved?.timeoutMS ?? this.clientOptions.timeoutMS;
  }

  // ---------------------------------------------------------------- topology surface (Motor)

  get topologyDescription(): TopologyDescription | undefined {
    return this.clientTopology?.description;
  }

  private servers(): ServerDescription[] {
    return Array.from(this.clientTopology?.description.servers.values() ?? []);
  }

  /** `[host, port]` of the server for a single/direct or mongos connection, else the primary. */
  get address(): [string, number] | null {
    const d = this.clientTopology?.description;
    if (!d) return null;
    if (d.type === TopologyType.Single || d.type === TopologyType.Sharded || d.type === TopologyType.LoadBalanced) {
      const s = this.servers().find((x) => x.type !== ServerType.Unknown);
      return s ? splitAddress(s.address) : null;
    }
    return this.primary;
  }

  get primary(): [string, number] | null {
    const p = this.servers().find((s) => s.type === ServerType.RSPrimary);
    return p ? splitAddress(p.address) : null;
  }

  get secondaries(): Array<[string, number]> {
    return this.servers().filter((s) => s.type === ServerType.RSSecondary).map((s) => splitAddress(s.address));
  }

  get arbiters(): Array<[string, number]> {
    return this.servers().filter((s) => s.type === ServerType.RSArbiter).map((s) => splitAddress(s.address));
  }

  get isPrimary(): boolean {
    const d = this.clientTopology?.description;
    if (!d) return false;
    if (d.type === TopologyType.Single) return this.servers().some((s) => s.type === ServerType.Standalone || s.type === ServerType.RSPrimary);
    return this.primary !== null;
  }

  get isMongos(): boolean {
    return this.servers().some((s) => s.type === ServerType.Mongos);
  }

  /** Every known, available server. */
  get nodes(): Array<[string, number]> {
    return this.servers().filter((s) => s.type !== ServerType.Unknown).map((s) => splitAddress(s.address));
  }

  /** Runs `{ping: 1}` style commands on admin; used by tests and health checks. */
  async command(command: Document): Promise<Document> {
    return this.executeOperation(new RunCommandOperation('admin', command, {}));
  }

  // ---------------------------------------------------------------- client.bulkWrite (MongoDB 8.0)

  /**
   * Mixed writes across namespaces in as few `bulkWrite` commands as possible (crud/bulk-write.md).
   * Throws MongoClientBulkWriteError (writeErrors, writeConcernErrors, partialResult).
   */
  async bulkWrite<TSchema extends Document = Document>(
    models: ReadonlyArray<AnyClientBulkWriteModel<TSchema>>,
    options: ClientBulkWriteCallOptions = {}
  ): Promise<ClientBulkWriteResult> {
    const { writeConcern, ...rest } = options;
    return executeClientBulkWrite(this, models as unknown as ReadonlyArray<AnyClientBulkWriteModel<Document>>, {
      ...rest,
      writeConcern: WriteConcern.fromOptions({ writeConcern }) ?? this.writeConcern,
      timeoutMS: options.timeoutMS ?? this.timeoutMS
    });
  }

  // ---------------------------------------------------------------- databases: list, drop, server info

  /** `listDatabases` on admin (enumerate-databases.md); `filter` goes in the options, as in the official driver. */
  async listDatabases(options: WithCallOptions<ListDatabasesOptions> = {}): Promise<ListDatabasesResult> {
    const resolved = inheritOptions({ readPreference: ReadPreference.primary, timeoutMS: this.timeoutMS }, options);
    return this.executeOperation(new ListDatabasesOperation(resolved));
  }

  /** The database names (`listDatabases` with nameOnly). */
  async listDatabaseNames(options: WithCallOptions<Omit<ListDatabasesOptions, 'nameOnly'>> = {}): Promise<string[]> {
    const result = await this.listDatabases({ ...options, nameOnly: true });
    return result.databases.map((database) => database.name);
  }

  /** Drops the named database. */
  async dropDatabase(name: string, options?: WithCallOptions<BaseOperationOptions>): Promise<boolean> {
    return this.db(name).dropDatabase(options);
  }

  /** `buildInfo` (Motor's `server_info`). */
  async serverInfo(): Promise<Document> {
    return this.executeOperation(new RunCommandOperation('admin', { buildinfo: 1 }, { readPreference: ReadPreference.primary }));
  }

  /** A change stream on every database of the cluster but admin, local and config (4.0+). */
  watch<TSchema extends Document = Document, TChange extends Document = ChangeStreamDocument<TSchema>>(
    pipeline: Document[] = [],
    options: ChangeStreamOptions = {}
  ): ChangeStream<TSchema, TChange> {
    return new ChangeStream<TSchema, TChange>(this, { db: 'admin', collection: '', cluster: true }, pipeline, options, this);
  }
}

/** `client.bulkWrite` options as callers give them (`writeConcern` may be a plain object). */
export type ClientBulkWriteCallOptions = Omit<ClientBulkWriteOptions, 'writeConcern'> & { writeConcern?: WriteConcernOptions | WriteConcern };

/**
 * Keeps secret option values usable but out of enumeration, so util.inspect(client),
 * JSON.stringify(client.options) and log lines never show them.
 */
function hideSecrets<T extends MongoOptions>(options: T): T {
  for (const key of ['tlsCertificateKeyFilePassword', 'proxyPassword'] as const) {
    if (options[key] !== undefined) Object.defineProperty(options, key, { value: options[key], enumerable: false, writable: false });
  }
  return options;
}

/** The options URI parsing understands: the code-only hooks removed. */
function parsableOptions(options: MongoClientConstructorOptions): MongoClientOptions {
  const { serverSelector: _serverSelector, srvResolver: _srvResolver, ...rest } = options;
  return rest;
}

/** Re-emits `names` from `source` on `target`. */
function forwardEvents(source: EventEmitter, names: readonly string[], target: EventEmitter): void {
  const plain = source as unknown as NodeJS.EventEmitter;
  for (const name of names) plain.on(name, (event: unknown) => EventEmitter.prototype.emit.call(target, name, event));
}

function splitAddress(address: string): [string, number] {
  const i = address.lastIndexOf(':');
  if (i < 0) return [address, 27017];
  let host = address.slice(0, i);
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  return [host, Number(address.slice(i + 1))];
}

function defaultDbFromUrl(url: string): string | undefined {
  const m = /^mongodb(?:\+srv)?:\/\/[^/]*\/([^?]*)/.exec(url);
  if (!m || !m[1]) return undefined;
  return decodeURIComponent(m[1]);
}
