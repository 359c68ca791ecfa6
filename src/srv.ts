/**
 * DNS for `mongodb+srv://` (initial-dns-seedlist-discovery spec): the SRV lookup that yields the
 * seed list, the parent-domain check on every returned host, the TXT lookup that yields default
 * options, and the random `srvMaxHosts` selection. DNS goes through an injectable `SrvResolver`
 * (`node:dns/promises` by default) so tests can serve records from a table.
 */
import * as dns from 'node:dns/promises';
import { MongoParseError } from './errors';
import type { HostAddress } from './mongo_client_options';

export interface SrvRecord {
  /** Target host name (a trailing dot is allowed). */
  name: string;
  port: number;
  /** Ignored (the spec says so). */
  priority?: number;
  weight?: number;
}

/** The two DNS queries seedlist discovery needs. */
export interface SrvResolver {
  resolveSrv(name: string): Promise<SrvRecord[]>;
  /** One entry per TXT record, each the record's character strings in order. */
  resolveTxt(name: string): Promise<string[][]>;
}

/** The system resolver. */
export const dnsSrvResolver: SrvResolver = {
  resolveSrv: (name) => dns.resolveSrv(name),
  resolveTxt: (name) => dns.resolveTxt(name)
};

function trimDot(name: string): string {
  return name.endsWith('.') ? name.slice(0, -1) : name;
}

/**
 * True when `returnedHost` may be used for the SRV name `srvHost`: it must end with the SRV
 * name's `{domainname}` (all but the first label when the name has three or more labels, the
 * whole name otherwise) preceded by a `.`, so it always has at least one more label.
 */
export function matchesParentDomain(srvHost: string, returnedHost: string): boolean {
  const srv = trimDot(srvHost.toLowerCase());
  const returned = trimDot(returnedHost.toLowerCase());
  const labels = srv.split('.');
  const domain = labels.length >= 3 ? labels.slice(1).join('.') : srv;
  return returned.endsWith(`.${domain}`) && returned.length > domain.length + 1;
}

function describeDnsError(error: unknown): string {
  const e = error as { code?: unknown; message?: unknown };
  return typeof e?.code === 'string' ? e.code : typeof e?.message === 'string' ? e.message : String(error);
}

/**
 * Queries `_<serviceName>._tcp.<srvHost>` and returns every target as a seed, after checking
 * each shares the SRV name's parent domain. Throws MongoParseError when the query fails or
 * returns nothing, or when any target is outside the domain.
 */
export async function resolveSrvHosts(srvHost: string, serviceName: string, resolver: SrvResolver): Promise<HostAddress[]> {
  const query = `_${serviceName}._tcp.${srvHost}`;
  let records: SrvRecord[];
  try {
    records = await resolver.resolveSrv(query);
  } catch (error) {
    throw new MongoParseError(`Could not find hosts for SRV name ${query}: ${describeDnsError(error)}`, { cause: error });
  }
  if (!records || records.length === 0) {
    throw new MongoParseError(`Could not find hosts for SRV name ${query}: no SRV records`);
  }
  return records.map((record) => {
    const host = trimDot(record.name).toLowerCase();
    if (!matchesParentDomain(srvHost, host)) {
      throw new MongoParseError(`SRV record target ${host} for ${srvHost} is not within the parent domain of ${srvHost}`);
    }
    return { host, port: record.port, type: 'hostname' as const };
  });
}

/**
 * Queries the TXT records of `srvHost` and returns the single record's strings joined, or
 * undefined when there is none. More than one record is an error; a DNS failure other than
 * "no such data" is an error.
 */
export async function resolveTxtOptions(srvHost: string, resolver: SrvResolver): Promise<string | undefined> {
  let records: string[][];
  try {
    records = await resolver.resolveTxt(srvHost);
  } catch (error) {
    const code = (error as { code?: unknown })?.code;
    if (code === 'ENODATA' || code === 'ENOTFOUND' || code === dns.NODATA || code === dns.NOTFOUND) return undefined;
    throw new MongoParseError(`Could not query TXT records for ${srvHost}: ${describeDnsError(error)}`, { cause: error });
  }
  if (!records || records.length === 0) return undefined;
  if (records.length > 1) throw new MongoParseError(`Multiple TXT records are not allowed for ${srvHost}`);
  return records[0].join('');
}

/**
 * `srvMaxHosts`: all hosts when `max` is 0 or at least the number of hosts, otherwise `max`
 * hosts chosen at random (Fisher-Yates). `random` returns a number in [0, 1).
 */
export function selectSrvHosts<T>(hosts: readonly T[], max: number, random: () => number = Math.random): T[] {
  if (max <= 0 || max >= hosts.length) return [...hosts];
  const shuffled = [...hosts];
  for (let i = shuffled.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [shuffled[i], shuffled[j]] = [shuffled[j], shuffled[i]];
  }
  return shuffled.slice(0, max);
}
