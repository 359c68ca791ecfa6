/**
 * Monitoring connections and the RTT pinger (server-monitoring spec, "Measuring RTT").
 *
 * A monitoring connection does the handshake but never authenticates, and uses connectTimeoutMS
 * as its socket timeout. While a monitor streams awaitable hello replies (whose durations say
 * nothing about latency), the RTT pinger keeps a second, dedicated connection and runs a plain
 * `hello` on it every heartbeatFrequencyMS, feeding the durations into the monitor's
 * RoundTripTimeStats. Its errors never update the topology and it publishes no events: on an
 * error it drops its connection and reconnects at the next ping.
 */
import type { Document } from 'bson';
import type { Connection, ConnectionOptions } from '../pool/connection';
import type { RoundTripTimeStats } from './rtt';

/** Opens a connection and runs the handshake (`connect` from src/pool/connection.ts, or a test double). */
export type ConnectFunction = (options: ConnectionOptions) => Promise<Connection>;

/**
 * The connection options of monitoring sockets: the same TLS, compression, serverApi,
 * loadBalanced and metadata as application connections, without authentication, pool
 * bookkeeping or timeouts (the monitor derives those from connectTimeoutMS).
 */
export type MonitoringConnectionOptions = Omit<
  ConnectionOptions,
  'address' | 'id' | 'generation' | 'authenticate' | 'prepareHandshake' | 'connectTimeoutMS' | 'socketTimeoutMS'
>;

/** Where and how a monitor (or its pinger) opens its connections. */
export interface MonitoringConnectionSettings {
  readonly address: string;
  readonly connectionOptions: MonitoringConnectionOptions;
  /** Budget for connect + handshake, and the socket timeout of plain hellos. 0 = none. */
  readonly connectTimeoutMS: number;
  readonly connect: ConnectFunction;
}

export interface OpenedMonitoringConnection {
  connection: Connection;
  /** Milliseconds from opening the socket to the end of the handshake (the first RTT sample). */
  duration: number;
}

/** Opens a monitoring connection: handshake only, never authenticated, socket timeout = connectTimeoutMS. */
export async function openMonitoringConnection(settings: MonitoringConnectionSettings): Promise<OpenedMonitoringConnection> {
  const options: ConnectionOptions = {
    ...settings.connectionOptions,
    address: settings.address,
    connectTimeoutMS: settings.connectTimeoutMS,
    socketTimeoutMS: settings.connectTimeoutMS
  };
  // The type already excludes these; strip them at runtime too, in case a caller passed pool options.
  delete options.authenticate;
  delete options.prepareHandshake;
  delete options.id;
  delete options.generation;
  const start = performance.now();
  const connection = await settings.connect(options);
  return { connection, duration: performance.now() - start };
}

/**
 * The monitoring hello command: `hello` when a server API version is requested (or in
 * load-balanced mode, where the handshake used `hello` too) or when the handshake reply said
 * `helloOk: true`; else legacy `isMaster`. Always sends `helloOk: true`.
 */
export function monitoringHello(
  connection: Connection,
  connectionOptions: MonitoringConnectionOptions,
  extra: Document = {}
): Document {
  const useHello = connectionOptions.serverApi !== undefined || connectionOptions.loadBalanced === true || connection.helloOk;
  return { [useHello ? 'hello' : 'isMaster']: 1, helloOk: true, ...extra };
}

/** Runs `hello` on its own connection every heartbeatFrequencyMS and records the durations. Starts pinging at once. */
export class RttPinger {
  private connection: Connection | null = null;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly settings: MonitoringConnectionSettings & { readonly heartbeatFrequencyMS: number },
    private readonly stats: RoundTripTimeStats
  ) {
    void this.ping();
  }

  /** Stops pinging and destroys the connection; an in-flight ping is abandoned without recording. */
  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.connection?.destroy();
    this.connection = null;
  }

  private async ping(): Promise<void> {
    try {
      const sample = await this.measure();
      if (this.closed) return;
      this.stats.addSample(sample);
    } catch {
      // RTT errors never mark the server Unknown; reconnect at the next ping.
      this.connection?.destroy();
      this.connection = null;
      if (this.closed) return;
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.ping();
    }, this.settings.heartbeatFrequencyMS);
  }

  /** One RTT sample: the handshake duration of a new connection, else the duration of a hello. */
  private async measure(): Promise<number> {
    if (!this.connection) {
      const opened = await openMonitoringConnection(this.settings);
      if (this.closed) {
        opened.connection.destroy();
        return 0;
      }
      this.connection = opened.connection;
      return opened.duration;
    }
    const start = performance.now();
    await this.connection.command('admin', monitoringHello(this.connection, this.settings.connectionOptions));
    return performance.now() - start;
  }
}
