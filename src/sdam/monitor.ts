/**
 * The server monitor of multi-threaded/asynchronous drivers (server-monitoring spec): one per
 * server, on its own dedicated, never-authenticated connection.
 *
 * - The first check opens the connection; its handshake reply is the check's outcome and its
 *   duration the first RTT sample.
 * - Streaming protocol (server reports `topologyVersion` and streaming is enabled): the monitor
 *   sends an awaitable `hello` (`topologyVersion`, `maxAwaitTimeMS` = heartbeatFrequencyMS) with
 *   exhaustAllowed and reports every streamed reply at once; an RttPinger on a second connection
 *   supplies the RTT, since awaited durations do not measure latency.
 * - Polling protocol otherwise: one plain `hello` per heartbeatFrequencyMS, RTT from the check.
 * - `requestCheck()` cuts a pause short, but never to less than minHeartbeatFrequencyMS since the
 *   previous check ended; it is ignored while a check (or a stream) is in progress.
 * - A network error or `ok: 0` closes the connection, resets the RTT and reports `checkFailed`
 *   (the topology marks the server Unknown and clears its pool). After a network error on a
 *   server that was known, the next check runs immediately (the one retry); otherwise the
 *   monitor pauses before reconnecting.
 * - `reset()` cancels the check in progress and closes the connections without reporting (the
 *   topology already handled the application error); `close()` stops everything for good.
 *
 * Heartbeat events: started before each hello (before opening the socket for a new connection,
 * before reading each further streamed reply), then succeeded or failed, with `awaited` true for
 * awaitable hellos. The pinger publishes nothing.
 */
import type { Document } from 'bson';
import { MongoInvalidArgumentError, MongoNetworkError, MongoRuntimeError } from '../errors';
import { getFaasEnv } from '../pool/client_metadata';
import { connect as defaultConnect, type Connection } from '../pool/connection';
import { RoundTripTimeStats } from './rtt';
import {
  RttPinger,
  monitoringHello,
  openMonitoringConnection,
  type ConnectFunction,
  type MonitoringConnectionOptions,
  type MonitoringConnectionSettings
} from './rtt_monitor';
import { ServerHeartbeatFailedEvent, ServerHeartbeatStartedEvent, ServerHeartbeatSucceededEvent, type ServerHeartbeatEvent } from './sdam_events';
import type { MonitorContext, MonitorFactory, MonitorHandle } from './topology';
import { ServerType } from './types';

export type { ConnectFunction, MonitoringConnectionOptions } from './rtt_monitor';

/** serverMonitoringMode: `auto` streams unless running on a FaaS platform. */
export type ServerMonitoringMode = 'auto' | 'stream' | 'poll';

export const DEFAULT_HEARTBEAT_FREQUENCY_MS = 10_000;
/** The spec's fixed minimum delay between checks. */
export const MIN_HEARTBEAT_FREQUENCY_MS = 500;
const DEFAULT_CONNECT_TIMEOUT_MS = 30_000;
const SERVER_MONITORING_MODES: readonly ServerMonitoringMode[] = ['auto', 'stream', 'poll'];

export interface MonitorOptions {
  /** Options of the monitoring connections (the application's, minus authentication). */
  connectionOptions?: MonitoringConnectionOptions;
  /** Pause between checks, and maxAwaitTimeMS of awaitable hellos. Default 10000. */
  heartbeatFrequencyMS?: number;
  /** Minimum delay between the end of a check and a requested re-check. Default 500; lower it only in tests. */
  minHeartbeatFrequencyMS?: number;
  /** Connect + handshake budget and socket timeout of monitoring sockets. 0 = none. Default 30000. */
  connectTimeoutMS?: number;
  /** Default `auto`. */
  serverMonitoringMode?: ServerMonitoringMode;
  /** Opens connections; defaults to `connect` from src/pool/connection.ts. */
  connect?: ConnectFunction;
  /** Environment variables for FaaS detection in `auto` mode; defaults to `process.env`. */
  env?: Record<string, string | undefined>;
}

/** Validated monitor settings, shared by every monitor a factory creates. */
interface MonitorSettings {
  readonly connectionOptions: MonitoringConnectionOptions;
  readonly heartbeatFrequencyMS: number;
  readonly minHeartbeatFrequencyMS: number;
  readonly connectTimeoutMS: number;
  readonly streamingEnabled: boolean;
  readonly connect: ConnectFunction;
}

/**
 * Whether the streaming protocol may be used: `stream` yes, `poll` no, `auto` unless a FaaS
 * platform is detected by the handshake's `client.env` rules.
 */
export function isStreamingEnabled(mode: ServerMonitoringMode, env: Record<string, string | undefined> = process.env): boolean {
  if (mode === 'stream') return true;
  if (mode === 'poll') return false;
  return getFaasEnv(env) === null;
}

/** A MonitorFactory for `Topology`: each monitor starts checking its server right after creation. */
export function createMonitorFactory(options: MonitorOptions = {}): MonitorFactory {
  const settings = resolveSettings(options);
  return (address, context) => {
    const monitor = new Monitor(address, context, settings);
    monitor.start();
    return monitor;
  };
}

function resolveSettings(options: MonitorOptions): MonitorSettings {
  const heartbeatFrequencyMS = options.heartbeatFrequencyMS ?? DEFAULT_HEARTBEAT_FREQUENCY_MS;
  const minHeartbeatFrequencyMS = options.minHeartbeatFrequencyMS ?? MIN_HEARTBEAT_FREQUENCY_MS;
  const connectTimeoutMS = options.connectTimeoutMS ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const mode = options.serverMonitoringMode ?? 'auto';
  requireNumber('heartbeatFrequencyMS', heartbeatFrequencyMS, 1);
  requireNumber('minHeartbeatFrequencyMS', minHeartbeatFrequencyMS, 0);
  requireNumber('connectTimeoutMS', connectTimeoutMS, 0);
  if (!SERVER_MONITORING_MODES.includes(mode)) {
    throw new MongoInvalidArgumentError(`serverMonitoringMode must be one of ${SERVER_MONITORING_MODES.join(', ')}, got "${String(mode)}"`);
  }
  return {
    connectionOptions: options.connectionOptions ?? {},
    heartbeatFrequencyMS,
    minHeartbeatFrequencyMS,
    connectTimeoutMS,
    streamingEnabled: isStreamingEnabled(mode, options.env),
    connect: options.connect ?? defaultConnect
  };
}

function requireNumber(name: string, value: number, min: number): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
    throw new MongoInvalidArgumentError(`${name} must be a number >= ${min}, got ${String(value)}`);
  }
}

/** What the monitor loop does after a check. */
type NextStep = 'checkNow' | 'pause';

type MonitorState = 'new' | 'checking' | 'paused' | 'closed';

export class Monitor implements MonitorHandle {
  private state: MonitorState = 'new';
  private readonly stats = new RoundTripTimeStats();
  private readonly connectionSettings: MonitoringConnectionSettings;
  private connection: Connection | null = null;
  private pinger: RttPinger | null = null;
  /** The `topologyVersion` of the last reply, sent back in awaitable hellos; null: poll. */
  private topologyVersion: Document | null = null;
  private pause: Pause | null = null;
  /** requestCheck() arrived after reset() while the cancelled check unwound: cut the next pause short. */
  private checkRequested = false;
  private resetPending = false;
  /** Bumped by `reset()` and `close()`: a check begun in an older epoch was cancelled. */
  private epoch = 0;

  constructor(
    readonly address: string,
    private readonly context: MonitorContext,
    private readonly settings: MonitorSettings
  ) {
    this.connectionSettings = {
      address,
      connectionOptions: settings.connectionOptions,
      connectTimeoutMS: settings.connectTimeoutMS,
      connect: settings.connect
    };
  }

  /** Begins monitoring; the first check starts on the next microtask (never inside the factory call). */
  start(): void {
    if (this.state !== 'new') return;
    this.state = 'checking';
    queueMicrotask(() => void this.run());
  }

  requestCheck(): void {
    if (this.state === 'paused') this.pause?.wake();
    // A request made while a reset check unwinds must not be lost (spec: `event.set()`): the
    // server is Unknown and a server selection is waiting for this monitor's next check.
    else if (this.resetPending) this.checkRequested = true;
  }

  reset(): void {
    if (this.state === 'closed') return;
    this.epoch++;
    this.resetPending = true;
    this.dropConnections(new MongoNetworkError(`monitoring connection to ${this.address} was reset after a network error`));
  }

  /**
   * Stops for good: the pause timer is cleared, both connections are destroyed, and a check in
   * progress is abandoned without reporting. (A connection still being opened is destroyed as
   * soon as `connect` settles: it takes no abort signal.)
   */
  close(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.epoch++;
    this.pause?.finish();
    this.pause = null;
    this.dropConnections(new MongoNetworkError(`monitor of ${this.address} was closed`));
  }

  private async run(): Promise<void> {
    while (!this.isClosed()) {
      this.state = 'checking';
      // check() only throws if a topology callback threw; treat that like a failed check.
      const next = await this.check().catch((): NextStep => 'pause');
      if (this.isClosed()) return;
      if (next === 'checkNow') continue;
      this.state = 'paused';
      const pause = new Pause(this.settings.heartbeatFrequencyMS, this.settings.minHeartbeatFrequencyMS);
      this.pause = pause;
      if (this.checkRequested) pause.wake();
      this.checkRequested = false;
      this.resetPending = false;
      await pause.done;
      if (this.pause === pause) this.pause = null;
    }
  }

  /** `state` as seen after an await (close() may have run meanwhile). */
  private isClosed(): boolean {
    return this.state === 'closed';
  }

  /** One check: connect (handshake), one streaming session, or one polled hello. */
  private async check(): Promise<NextStep> {
    const epoch = this.epoch;
    const connection = this.connection;
    let awaited = connection !== null && this.settings.streamingEnabled && this.topologyVersion !== null;
    let start = performance.now();
    this.emit(new ServerHeartbeatStartedEvent(this.address, awaited));
    try {
      if (!connection) {
        await this.connectAndCheck(epoch);
      } else if (awaited) {
        this.pinger ??= new RttPinger({ ...this.connectionSettings, heartbeatFrequencyMS: this.settings.heartbeatFrequencyMS }, this.stats);
        const hello = monitoringHello(connection, this.settings.connectionOptions, {
          topologyVersion: this.topologyVersion,
          maxAwaitTimeMS: this.settings.heartbeatFrequencyMS
        });
        const timeout = this.settings.connectTimeoutMS === 0 ? 0 : this.settings.connectTimeoutMS + this.settings.heartbeatFrequencyMS;
        for await (const reply of connection.exhaustCommand('admin', hello, { socketTimeoutMS: timeout })) {
          if (epoch !== this.epoch) break;
          this.succeeded(performance.now() - start, reply, true);
          if (!connection.busy || epoch !== this.epoch) continue; // the stream ends (or was cancelled)
          start = performance.now();
          this.emit(new ServerHeartbeatStartedEvent(this.address, true));
        }
        if (epoch !== this.epoch) throw cancelledError(this.address);
      } else {
        awaited = false;
        const reply = await connection.command('admin', monitoringHello(connection, this.settings.connectionOptions));
        if (epoch !== this.epoch) throw cancelledError(this.address);
        const duration = performance.now() - start;
        this.stats.addSample(duration);
        this.succeeded(duration, reply, false);
      }
    } catch (error) {
      return this.failed(epoch, performance.now() - start, error, awaited);
    }
    return this.settings.streamingEnabled && this.topologyVersion !== null ? 'checkNow' : 'pause';
  }

  /** Opens the monitoring connection; the handshake reply is the check's outcome. */
  private async connectAndCheck(epoch: number): Promise<void> {
    const { connection, duration } = await openMonitoringConnection(this.connectionSettings);
    if (epoch !== this.epoch) {
      connection.destroy();
      throw cancelledError(this.address);
    }
    this.connection = connection;
    this.stats.addSample(duration);
    this.succeeded(duration, connection.hello ?? {}, false);
  }

  private succeeded(duration: number, reply: Document, awaited: boolean): void {
    const tv: unknown = reply.topologyVersion;
    this.topologyVersion = tv !== null && typeof tv === 'object' ? (tv as Document) : null;
    this.emit(new ServerHeartbeatSucceededEvent(this.address, duration, reply, awaited));
    this.context.checkSucceeded(reply, { roundTripTime: this.stats.average, minRoundTripTime: this.stats.min });
  }

  /**
   * A failed check. Cancelled checks (reset/close) are not reported to the topology; a real
   * failure closes the connections, resets the RTT and reports checkFailed. A network error on
   * a server that was known is retried at once.
   */
  private failed(epoch: number, duration: number, thrown: unknown, awaited: boolean): NextStep {
    if (this.isClosed()) return 'pause';
    const error = thrown instanceof Error ? thrown : new MongoRuntimeError(`monitor check of ${this.address} failed: ${String(thrown)}`);
    if (epoch !== this.epoch) {
      this.emit(new ServerHeartbeatFailedEvent(this.address, duration, error, awaited));
      return 'pause';
    }
    const wasKnown = this.context.description().type !== ServerType.Unknown;
    this.dropConnections(error);
    this.emit(new ServerHeartbeatFailedEvent(this.address, duration, error, awaited));
    this.context.checkFailed(error);
    return error instanceof MongoNetworkError && wasKnown ? 'checkNow' : 'pause';
  }

  /** Closes the monitoring and RTT connections and forgets the RTT and topologyVersion. */
  private dropConnections(reason: Error): void {
    this.connection?.destroy(reason);
    this.connection = null;
    this.pinger?.close();
    this.pinger = null;
    this.stats.reset();
    this.topologyVersion = null;
  }

  private emit(event: ServerHeartbeatEvent): void {
    this.context.emitHeartbeat(event);
  }
}

function cancelledError(address: string): MongoNetworkError {
  return new MongoNetworkError(`monitor check of ${address} was cancelled`);
}

/**
 * The wait between checks: heartbeatFrequencyMS, or shorter once woken by requestCheck, but
 * never less than minHeartbeatFrequencyMS since the pause began (i.e. since the check ended).
 */
class Pause {
  readonly done: Promise<void>;
  private resolve!: () => void;
  private timer: NodeJS.Timeout;
  private woken = false;
  private readonly began = performance.now();

  constructor(
    maxMS: number,
    private readonly minMS: number
  ) {
    this.done = new Promise<void>((resolve) => (this.resolve = resolve));
    this.timer = setTimeout(() => this.finish(), maxMS);
  }

  wake(): void {
    if (this.woken) return;
    this.woken = true;
    clearTimeout(this.timer);
    const remaining = this.minMS - (performance.now() - this.began);
    if (remaining <= 0) this.finish();
    else this.timer = setTimeout(() => this.finish(), remaining);
  }

  finish(): void {
    clearTimeout(this.timer);
    this.resolve();
  }
}
