/**
 * SRV polling for mongos discovery (polling-srv-records-for-mongos-discovery spec): while the
 * topology is Sharded or Unknown, re-query `_<srvServiceName>._tcp.<srvHost>` every
 * rescanSRVIntervalMS (60 s: Node's resolver does not expose TTLs) and hand the verified hosts
 * to the topology. A failed or empty lookup changes nothing and shortens the interval to
 * heartbeatFrequencyMS until a lookup succeeds again.
 */
import { matchesParentDomain, selectSrvHosts, type SrvResolver } from '../srv';
import { TopologyType, type TopologyDescription } from './types';

export const DEFAULT_RESCAN_SRV_INTERVAL_MS = 60_000;

export interface SrvPollerTarget {
  readonly description: TopologyDescription;
  applySrvHosts(addresses: readonly string[]): void;
}

export interface SrvPollerOptions {
  srvHost: string;
  srvServiceName: string;
  srvMaxHosts: number;
  heartbeatFrequencyMS: number;
  resolver: SrvResolver;
  /** Default 60 s; lowered in tests. */
  rescanSrvIntervalMS?: number;
  random?: () => number;
  /** Non-compliant hosts and lookup failures are reported here (never raised). */
  onWarning?: (message: string) => void;
}

export class SrvPoller {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private lastLookupFailed = false;

  constructor(
    private readonly target: SrvPollerTarget,
    private readonly options: SrvPollerOptions
  ) {}

  start(): void {
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private get intervalMS(): number {
    return this.lastLookupFailed ? this.options.heartbeatFrequencyMS : (this.options.rescanSrvIntervalMS ?? DEFAULT_RESCAN_SRV_INTERVAL_MS);
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.poll().finally(() => this.schedule());
    }, this.intervalMS);
    this.timer.unref();
  }

  /** One rescan; exposed for tests. Never throws. */
  async poll(): Promise<void> {
    const type = this.target.description.type;
    if (type !== TopologyType.Sharded && type !== TopologyType.Unknown) return;
    const { srvHost, srvServiceName, resolver } = this.options;
    let records;
    try {
      records = await resolver.resolveSrv(`_${srvServiceName}._tcp.${srvHost}`);
    } catch (error) {
      this.lastLookupFailed = true;
      this.options.onWarning?.(`SRV polling for ${srvHost} failed: ${(error as Error).message}`);
      return;
    }
    if (this.stopped) return;
    const verified: string[] = [];
    for (const record of records) {
      const host = record.name.endsWith('.') ? record.name.slice(0, -1) : record.name;
      if (!matchesParentDomain(srvHost, host)) {
        this.options.onWarning?.(`SRV polling for ${srvHost}: ignoring host ${host} outside the parent domain`);
        continue;
      }
      verified.push(`${host.toLowerCase()}:${record.port}`);
    }
    if (verified.length === 0) {
      this.lastLookupFailed = true;
      this.options.onWarning?.(`SRV polling for ${srvHost} returned no usable hosts; keeping the current list`);
      return;
    }
    this.lastLookupFailed = false;
    this.target.applySrvHosts(this.chooseHosts(verified));
  }

  /** srvMaxHosts: keep hosts still listed, then fill up with randomly chosen new ones. */
  private chooseHosts(verified: string[]): string[] {
    const max = this.options.srvMaxHosts;
    if (max <= 0 || max >= verified.length) return verified;
    const current = new Set(this.target.description.servers.keys());
    const kept = verified.filter((h) => current.has(h)).slice(0, max);
    const fresh = verified.filter((h) => !current.has(h));
    return [...kept, ...selectSrvHosts(fresh, max - kept.length, this.options.random)];
  }
}
