/**
 * The connection string: `mongodb://` and `mongodb+srv://` parsing (connection-string spec),
 * typed URI options (uri-options spec), SRV/TXT seedlist discovery (initial-dns-seedlist-discovery
 * spec), credentials (auth spec), and the merge with the options given in code into the resolved
 * `MongoOptions`.
 *
 * Entry points:
 * - `parseConnectionString(uri)`: synchronous; syntax, hosts, userinfo, database, typed options,
 *   the checks that do not depend on DNS. Never touches the network.
 * - `parseOptions(uri, options?, deps?)`: the whole pipeline, resolving SRV/TXT records when the
 *   scheme is `mongodb+srv`.
 * - `buildMongoOptions(cs, options?, srv?)`: the synchronous merge (enough for `mongodb://`).
 *
 * Errors are MongoParseError (MongoInvalidArgumentError for a malformed value passed in code);
 * warnings are collected in `warnings`, never printed. No message ever contains the password:
 * fragments of the URI are echoed only when they do not occur in the userinfo region.
 */
import { isIPv6 } from 'node:net';
import { MongoInvalidArgumentError, MongoParseError } from './errors';
import { MongoCredentials, type AuthMechanismProperties } from './auth/mongo_credentials';
import {
  DEFAULT_OPTIONS,
  DEFAULT_PORT,
  DEPRECATED_URI_KEYS,
  ReadPreferenceMode,
  ServerApiVersion,
  URI_OPTIONS,
  parseCodeOptionValue,
  parseUriOptionValue,
  type DriverInfo,
  type HostAddress,
  type MongoClientOptions,
  type MongoOptions,
  type ReadPreferenceData,
  type ReadPreferenceLike,
  type ServerApi,
  type TagSet,
  type UriOptionName,
  type UriOptions,
  type WriteConcernData,
  type WriteConcernLike
} from './mongo_client_options';
import { dnsSrvResolver, resolveSrvHosts, resolveTxtOptions, selectSrvHosts, type SrvResolver } from './srv';

/** The parsed connection string, before DNS and before the options given in code. */
export interface ConnectionString {
  readonly scheme: 'mongodb' | 'mongodb+srv';
  readonly isSrv: boolean;
  /** The seeds (empty for `mongodb+srv`: see `srvHost`). */
  readonly hosts: readonly HostAddress[];
  /** The lower-cased `mongodb+srv` host name. */
  readonly srvHost?: string;
  /** True when the URI had a userinfo part (`…@host`), even an empty one. */
  readonly hasUserInfo: boolean;
  readonly username?: string;
  readonly password?: string;
  /** The percent-decoded database from the path, if any. */
  readonly database?: string;
  readonly options: Readonly<UriOptions>;
  /** The options that appeared (with a valid value), by canonical name (`ssl` counts as `tls`). */
  readonly specified: ReadonlySet<UriOptionName>;
  readonly warnings: readonly string[];
}

/** What SRV and TXT resolution contributed. */
export interface SrvResolution {
  /** Every host the SRV records named (before `srvMaxHosts` selection). */
  readonly hosts: readonly HostAddress[];
  /** Options from the TXT record (only authSource, replicaSet, loadBalanced). */
  readonly options: Readonly<UriOptions>;
  readonly specified: ReadonlySet<UriOptionName>;
  readonly warnings: readonly string[];
}

export interface ParseOptionsDeps {
  /** DNS for `mongodb+srv` (defaults to `node:dns/promises`). */
  srvResolver?: SrvResolver;
  /** Random source for `srvMaxHosts` selection, in [0, 1). */
  random?: () => number;
}

const REDACTED = '<redacted>';
const TXT_ALLOWED_KEYS = new Set(['authsource', 'replicaset', 'loadbalanced']);
const USERINFO_ALLOWED = /^[A-Za-z0-9\-._~!$&'()*+,;=:%\u0080-\uffff]*$/;
const FORBIDDEN_DB_CHARS = /[/\\ "$]/;

/**
 * Decides which URI fragments may appear in messages: anything that occurs in the region
 * between `://` and the last `@` (where a password may be, even a mis-encoded one) is redacted.
 */
class Redactor {
  private readonly regions: string[];
  constructor(text: string, start = 0) {
    const at = text.lastIndexOf('@');
    const region = at > start ? text.slice(start, at) : '';
    this.regions = region ? [region, safeDecode(region) ?? region] : [];
  }
  readonly show = (fragment: string): string =>
    fragment !== '' && this.regions.some((r) => r.includes(fragment)) ? REDACTED : fragment;
}

function safeDecode(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// Syntax
// ---------------------------------------------------------------------------------------------

/**
 * Parses a connection string without any DNS lookup. Throws MongoParseError for a malformed
 * string or a conflict the URI alone determines (TLS options, directConnection with several
 * hosts or SRV, SRV-only options with `mongodb://`, and for `mongodb://` the loadBalanced rules).
 */
export function parseConnectionString(uri: string): ConnectionString {
  if (typeof uri !== 'string') throw new MongoParseError('The connection string must be a string');
  const match = /^(mongodb(?:\+srv)?):\/\//i.exec(uri);
  if (!match) throw new MongoParseError('Invalid scheme: the connection string must start with "mongodb://" or "mongodb+srv://"');
  const scheme = match[1].toLowerCase() as 'mongodb' | 'mongodb+srv';
  const isSrv = scheme === 'mongodb+srv';
  const redactor = new Redactor(uri, match[0].length);
  const show = redactor.show;

  const rest = uri.slice(match[0].length);
  const authorityEnd = rest.search(/[/?]/);
  const authority = authorityEnd < 0 ? rest : rest.slice(0, authorityEnd);
  const afterAuthority = authorityEnd < 0 ? '' : rest.slice(authorityEnd);
  let path = '';
  let query = '';
  if (afterAuthority.startsWith('/')) {
    const q = afterAuthority.indexOf('?');
    path = q < 0 ? afterAuthority.slice(1) : afterAuthority.slice(1, q);
    query = q < 0 ? '' : afterAuthority.slice(q + 1);
  } else if (afterAuthority.startsWith('?')) {
    query = afterAuthority.slice(1);
  }
  if (path.includes('@')) {
    // e.g. mongodb://user:pa/ss@host — the userinfo contains an unescaped "/" (or "?").
    throw new MongoParseError('Unescaped "@" after the host list: the username and password must be URL encoded');
  }

  const at = authority.lastIndexOf('@');
  const userinfo = at < 0 ? undefined : authority.slice(0, at);
  const hostList = at < 0 ? authority : authority.slice(at + 1);
  const credentials = userinfo === undefined ? {} : parseUserInfo(userinfo);

  if (hostList === '') throw new MongoParseError('The connection string contains no host');
  const hosts = hostList.split(',').map((host) => parseHost(host, show));

  let srvHost: string | undefined;
  if (isSrv) {
    if (hosts.length !== 1) throw new MongoParseError('A mongodb+srv connection string must have exactly one host name');
    const [host] = hosts;
    if (host.type !== 'hostname') throw new MongoParseError('A mongodb+srv connection string needs a host name (not an IP address or socket)');
    if (host.port !== undefined) throw new MongoParseError('A mongodb+srv connection string must not contain a port');
    srvHost = host.host;
  }

  let database: string | undefined;
  if (path !== '') {
    const decoded = safeDecode(path);
    if (decoded === undefined) throw new MongoParseError(`Invalid percent-encoding in database name "${show(path)}"`);
    if (FORBIDDEN_DB_CHARS.test(decoded)) {
      throw new MongoParseError(`Database name "${show(decoded)}" must not contain "/", "\\", space, '"' or "$"`);
    }
    database = decoded;
  }

  const parsed = parseQuery(query, show);
  const result: ConnectionString = {
    scheme,
    isSrv,
    hosts: isSrv ? [] : hosts.map(withDefaultPort),
    srvHost,
    hasUserInfo: userinfo !== undefined,
    username: credentials.username,
    password: credentials.password,
    database,
    options: parsed.options,
    specified: parsed.specified,
    warnings: parsed.warnings
  };
  checkOptionConflicts(result.options, result.specified, { isSrv, hostCount: hosts.length, dnsResolved: false });
  return result;
}

function withDefaultPort(host: HostAddress): HostAddress {
  return host.type === 'unix' || host.port !== undefined ? host : { ...host, port: DEFAULT_PORT };
}

function parseUserInfo(userinfo: string): { username?: string; password?: string } {
  const mustEncode = 'the username and password must be URL encoded';
  if (userinfo.includes('@')) throw new MongoParseError(`Unescaped "@" in the userinfo: ${mustEncode}`);
  if (userinfo.split(':').length > 2) throw new MongoParseError(`More than one ":" in the userinfo: ${mustEncode}`);
  if (/%(?![0-9A-Fa-f]{2})/.test(userinfo)) throw new MongoParseError(`Invalid "%" in the userinfo: ${mustEncode}`);
  if (!USERINFO_ALLOWED.test(userinfo)) throw new MongoParseError(`Disallowed character in the userinfo: ${mustEncode}`);
  const colon = userinfo.indexOf(':');
  const decode = (text: string): string => {
    const decoded = safeDecode(text);
    if (decoded === undefined) throw new MongoParseError(`Invalid percent-encoding in the userinfo: ${mustEncode}`);
    return decoded;
  };
  return colon < 0
    ? { username: decode(userinfo) }
    : { username: decode(userinfo.slice(0, colon)), password: decode(userinfo.slice(colon + 1)) };
}

function parsePort(text: string, hostForMessage: string): number {
  const port = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
  if (!(port >= 1 && port <= 65535)) {
    throw new MongoParseError(`Invalid port for host "${hostForMessage}": must be an integer between 1 and 65535`);
  }
  return port;
}

function parseHost(raw: string, show: (s: string) => string): HostAddress {
  if (raw === '') throw new MongoParseError('Empty host in the host list');
  if (raw.startsWith('[')) {
    const close = raw.indexOf(']');
    const ip = close < 0 ? '' : raw.slice(1, close);
    if (close < 0 || !isIPv6(ip)) throw new MongoParseError(`Invalid IP literal "${show(raw.split(']')[0])}]"`);
    const after = raw.slice(close + 1);
    if (after !== '' && !after.startsWith(':')) throw new MongoParseError(`Unexpected characters after IP literal "[${show(ip)}]"`);
    const host = ip.toLowerCase();
    return { host, type: 'ip_literal', ...(after ? { port: parsePort(after.slice(1), show(`[${host}]`)) } : {}) };
  }
  const parts = raw.split(':');
  const name = show(parts[0]);
  if (parts.length > 2) {
    throw new MongoParseError(`Invalid host "${name}": too many ":" (IPv6 addresses must be enclosed in brackets)`);
  }
  const decoded = safeDecode(parts[0]);
  if (decoded === undefined) throw new MongoParseError(`Invalid percent-encoding in host "${name}"`);
  if (decoded === '') throw new MongoParseError('Missing host name before ":"');
  const port = parts.length === 2 ? parsePort(parts[1], name) : undefined;
  if (decoded.includes('/')) {
    if (!decoded.endsWith('.sock')) throw new MongoParseError(`Unsupported host "${show(decoded)}": Unix domain socket paths must end in ".sock"`);
    if (port !== undefined) throw new MongoParseError(`Unix domain socket "${show(decoded)}" cannot have a port`);
    return { host: decoded, type: 'unix' };
  }
  const host = decoded.toLowerCase();
  const type = /^\d{1,3}(\.\d{1,3}){3}$/.test(host) ? 'ipv4' : 'hostname';
  return port === undefined ? { host, type } : { host, port, type };
}

interface ParsedQuery {
  options: UriOptions;
  specified: Set<UriOptionName>;
  warnings: string[];
}

/** Parses `key=value&…` (connection string options or a TXT record) into typed options. */
function parseQuery(query: string, show: (s: string) => string, allowedKeys?: ReadonlySet<string>): ParsedQuery {
  const entries: { key: string; lower: string; value: string }[] = [];
  for (const piece of query.split('&')) {
    if (piece === '') continue;
    const eq = piece.indexOf('=');
    if (eq < 0) throw new MongoParseError(`Option "${show(safeDecode(piece) ?? piece)}" has no value (expected key=value)`);
    const key = safeDecode(piece.slice(0, eq));
    if (key === undefined || key === '') throw new MongoParseError(`Invalid option key "${show(piece.slice(0, eq))}"`);
    const value = safeDecode(piece.slice(eq + 1));
    if (value === undefined) throw new MongoParseError(`Invalid percent-encoding in the value of option "${show(key)}"`);
    const lower = key.toLowerCase();
    if (allowedKeys && !allowedKeys.has(lower)) {
      throw new MongoParseError(`Option "${show(key)}" is not allowed in a TXT record (only authSource, replicaSet and loadBalanced)`);
    }
    entries.push({ key, lower, value });
  }

  const options: Record<string, unknown> = {};
  const specified = new Set<UriOptionName>();
  const warnings: string[] = [];
  const present = new Set(entries.map((e) => e.lower));
  const seen = new Map<string, number>();
  const tlsValues = new Set<boolean>();
  let gssapiServiceName: string | undefined;

  for (const { key, lower: written, value } of entries) {
    let lower = written;
    const replacement = DEPRECATED_URI_KEYS.get(lower);
    if (replacement !== undefined) {
      if (lower === 'gssapiservicename') {
        warnings.push(`Deprecated key "${show(key)}" has been replaced with "authMechanismProperties=SERVICE_NAME:<name>"`);
        gssapiServiceName = value;
        continue;
      }
      if (present.has(replacement)) {
        warnings.push(`Deprecated key "${show(key)}" present and ignored as found replacement "${replacement}" value`);
        continue;
      }
      warnings.push(`Deprecated key "${show(key)}" has been replaced with "${replacement}"`);
      lower = replacement;
    }
    const desc = URI_OPTIONS.get(lower);
    if (desc === undefined) {
      warnings.push(`Unsupported option "${show(key)}"`);
      continue;
    }
    const count = (seen.get(lower) ?? 0) + 1;
    seen.set(lower, count);
    if (count === 2 && desc.kind !== 'tagSet') warnings.push(`Repeated option "${show(key)}": the last value is used`);

    const result = parseUriOptionValue(desc, key, value, show);
    if (result.warning) warnings.push(result.warning);
    if (!result.ok) continue;
    if (desc.name === 'tls') tlsValues.add(result.value as boolean);
    if (desc.kind === 'tagSet') {
      options[desc.name] = [...((options[desc.name] as TagSet[] | undefined) ?? []), result.value as TagSet];
    } else {
      options[desc.name] = result.value;
    }
    specified.add(desc.name);
  }

  if (tlsValues.size > 1) throw new MongoParseError('All instances of "tls" and "ssl" must have the same value');
  if (gssapiServiceName !== undefined) {
    const properties = (options.authMechanismProperties ?? {}) as AuthMechanismProperties;
    if (properties.SERVICE_NAME === undefined) {
      options.authMechanismProperties = { ...properties, SERVICE_NAME: gssapiServiceName };
      specified.add('authMechanismProperties');
    } else {
      warnings.push('Deprecated key "gssapiServiceName" ignored as authMechanismProperties contains SERVICE_NAME');
    }
  }
  return { options: options as UriOptions, specified, warnings };
}

// ---------------------------------------------------------------------------------------------
// Cross-option rules
// ---------------------------------------------------------------------------------------------

const TLS_CONFLICTS: readonly [UriOptionName, UriOptionName][] = [
  ['tlsInsecure', 'tlsAllowInvalidCertificates'],
  ['tlsInsecure', 'tlsAllowInvalidHostnames'],
  ['tlsInsecure', 'tlsDisableOCSPEndpointCheck'],
  ['tlsInsecure', 'tlsDisableCertificateRevocationCheck'],
  ['tlsAllowInvalidCertificates', 'tlsDisableOCSPEndpointCheck'],
  ['tlsAllowInvalidCertificates', 'tlsDisableCertificateRevocationCheck'],
  ['tlsDisableOCSPEndpointCheck', 'tlsDisableCertificateRevocationCheck']
];

interface ConflictContext {
  isSrv: boolean;
  /** Seeds in the URI, or SRV targets once resolved. */
  hostCount: number;
  /** For SRV: whether TXT options are known (rules TXT can affect wait until then). */
  dnsResolved: boolean;
}

function checkOptionConflicts(options: UriOptions, specified: ReadonlySet<UriOptionName>, ctx: ConflictContext): void {
  for (const [a, b] of TLS_CONFLICTS) {
    if (specified.has(a) && specified.has(b)) throw new MongoParseError(`The "${a}" and "${b}" options cannot both be given`);
  }
  if (options.directConnection === true) {
    if (ctx.isSrv) throw new MongoParseError('directConnection=true is not allowed with a mongodb+srv connection string');
    if (ctx.hostCount > 1) throw new MongoParseError('directConnection=true is not allowed with multiple hosts');
  }
  if (!ctx.isSrv) {
    for (const name of ['srvMaxHosts', 'srvServiceName'] as const) {
      if (specified.has(name)) throw new MongoParseError(`The "${name}" option is only allowed with mongodb+srv connection strings`);
    }
  }
  if (ctx.isSrv && !ctx.dnsResolved) return;
  const srvMaxHosts = options.srvMaxHosts ?? 0;
  if (options.loadBalanced === true) {
    if (ctx.hostCount > 1) throw new MongoParseError('loadBalanced=true is not allowed with multiple hosts');
    if (options.replicaSet !== undefined) throw new MongoParseError('loadBalanced=true is not allowed with replicaSet');
    if (options.directConnection === true) throw new MongoParseError('loadBalanced=true is not allowed with directConnection=true');
    if (srvMaxHosts > 0) throw new MongoParseError('loadBalanced=true is not allowed with a positive srvMaxHosts');
  }
  if (srvMaxHosts > 0 && options.replicaSet !== undefined) {
    throw new MongoParseError('A positive srvMaxHosts is not allowed with replicaSet');
  }
}

// ---------------------------------------------------------------------------------------------
// SRV
// ---------------------------------------------------------------------------------------------

/**
 * Resolves the SRV seed list and the TXT options of a `mongodb+srv` connection string. The SRV
 * service name comes from the code options, else the URI, else `mongodb`.
 */
export async function resolveSrvSeedlist(
  cs: ConnectionString,
  options: MongoClientOptions | undefined,
  resolver: SrvResolver = dnsSrvResolver
): Promise<SrvResolution> {
  if (!cs.isSrv || cs.srvHost === undefined) throw new MongoInvalidArgumentError('Not a mongodb+srv connection string');
  let serviceName = cs.options.srvServiceName ?? DEFAULT_OPTIONS.srvServiceName;
  if (options?.srvServiceName !== undefined) {
    serviceName = parseCodeOptionValue(URI_OPTIONS.get('srvservicename')!, 'srvServiceName', options.srvServiceName) as string;
  }
  const [hosts, txt] = await Promise.all([
    resolveSrvHosts(cs.srvHost, serviceName, resolver),
    resolveTxtOptions(cs.srvHost, resolver)
  ]);
  const parsed = txt === undefined ? { options: {}, specified: new Set<UriOptionName>(), warnings: [] } : parseQuery(txt, (s) => s, TXT_ALLOWED_KEYS);
  return {
    hosts,
    options: parsed.options,
    specified: parsed.specified,
    warnings: parsed.warnings.map((w) => `TXT record: ${w}`)
  };
}

// ---------------------------------------------------------------------------------------------
// Options given in code
// ---------------------------------------------------------------------------------------------

interface CodeOptions {
  options: UriOptions;
  specified: Set<UriOptionName>;
  warnings: string[];
  readPreference?: ReadPreferenceLike;
  auth?: { username?: string; password?: string };
  writeConcern?: WriteConcernLike;
  readConcernLevel?: string;
  serverApi?: ServerApi;
  monitorCommands?: boolean;
  driverInfo?: DriverInfo;
  minHeartbeatFrequencyMS?: number;
  ssl?: boolean;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function optionalString(value: unknown, name: string): string | undefined {
  if (value !== undefined && typeof value !== 'string') throw new MongoInvalidArgumentError(`${name} must be a string`);
  return value;
}

function optionalBoolean(value: unknown, name: string): boolean | undefined {
  if (value !== undefined && typeof value !== 'boolean') throw new MongoInvalidArgumentError(`${name} must be a boolean`);
  return value;
}

function convertReadPreference(value: unknown): ReadPreferenceLike {
  const modes = Object.values(ReadPreferenceMode) as string[];
  const checkMode = (mode: unknown): ReadPreferenceMode => {
    if (typeof mode !== 'string' || !modes.includes(mode)) {
      throw new MongoInvalidArgumentError(`readPreference mode must be one of ${modes.join(', ')}`);
    }
    return mode as ReadPreferenceMode;
  };
  if (typeof value === 'string') return { mode: checkMode(value) };
  if (!isPlainObject(value)) throw new MongoInvalidArgumentError('readPreference must be a mode or a read preference object');
  const tags = value.tags === undefined ? undefined : (parseCodeOptionValue(URI_OPTIONS.get('readpreferencetags')!, 'readPreference.tags', value.tags) as TagSet[]);
  const maxStalenessSeconds =
    value.maxStalenessSeconds === undefined || value.maxStalenessSeconds === null
      ? undefined
      : (parseCodeOptionValue(URI_OPTIONS.get('maxstalenessseconds')!, 'readPreference.maxStalenessSeconds', value.maxStalenessSeconds) as number);
  if (value.hedge !== undefined && !isPlainObject(value.hedge)) throw new MongoInvalidArgumentError('readPreference.hedge must be an object');
  return {
    mode: checkMode(value.mode),
    ...(tags !== undefined ? { tags } : {}),
    ...(maxStalenessSeconds !== undefined ? { maxStalenessSeconds } : {}),
    ...(value.hedge !== undefined ? { hedge: { ...(value.hedge as { enabled?: boolean }) } } : {})
  };
}

function convertServerApi(value: unknown): ServerApi {
  const versions = Object.values(ServerApiVersion) as string[];
  const api = typeof value === 'string' ? { version: value } : value;
  if (!isPlainObject(api) || typeof api.version !== 'string' || !versions.includes(api.version)) {
    throw new MongoInvalidArgumentError(`serverApi version must be one of ${versions.map((v) => `"${v}"`).join(', ')}`);
  }
  const strict = optionalBoolean(api.strict, 'serverApi.strict');
  const deprecationErrors = optionalBoolean(api.deprecationErrors, 'serverApi.deprecationErrors');
  return Object.freeze({
    version: api.version as ServerApi['version'],
    ...(strict !== undefined ? { strict } : {}),
    ...(deprecationErrors !== undefined ? { deprecationErrors } : {})
  });
}

function convertCodeOptions(input: MongoClientOptions | undefined): CodeOptions {
  const out: CodeOptions = { options: {}, specified: new Set(), warnings: [] };
  if (input === undefined || input === null) return out;
  if (typeof input !== 'object') throw new MongoInvalidArgumentError('Client options must be an object');
  const options = out.options as Record<string, unknown>;
  for (const [key, value] of Object.entries(input)) {
    if (value === undefined) continue;
    switch (key) {
      case 'ssl':
        out.ssl = optionalBoolean(value, 'ssl');
        break;
      case 'readPreference':
        out.readPreference = convertReadPreference(value);
        break;
      case 'compressors': {
        const desc = URI_OPTIONS.get('compressors')!;
        options.compressors = parseCodeOptionValue(desc, key, typeof value === 'string' ? value.split(',') : value);
        out.specified.add('compressors');
        break;
      }
      case 'auth': {
        if (!isPlainObject(value)) throw new MongoInvalidArgumentError('auth must be an object { username, password }');
        out.auth = { username: optionalString(value.username, 'auth.username'), password: optionalString(value.password, 'auth.password') };
        break;
      }
      case 'readConcern':
        if (!isPlainObject(value)) throw new MongoInvalidArgumentError('readConcern must be an object { level }');
        out.readConcernLevel = optionalString(value.level, 'readConcern.level');
        break;
      case 'writeConcern':
        if (!isPlainObject(value)) throw new MongoInvalidArgumentError('writeConcern must be an object { w, wtimeoutMS, journal }');
        out.writeConcern = {
          w: value.w === undefined ? undefined : (parseCodeOptionValue(URI_OPTIONS.get('w')!, 'writeConcern.w', value.w) as WriteConcernData['w']),
          wtimeoutMS: (value.wtimeoutMS ?? value.wtimeout) === undefined
            ? undefined
            : (parseCodeOptionValue(URI_OPTIONS.get('wtimeoutms')!, 'writeConcern.wtimeoutMS', value.wtimeoutMS ?? value.wtimeout) as number),
          journal: optionalBoolean(value.journal ?? value.j, 'writeConcern.journal')
        };
        break;
      case 'serverApi':
        out.serverApi = convertServerApi(value);
        break;
      case 'monitorCommands':
        out.monitorCommands = optionalBoolean(value, 'monitorCommands');
        break;
      case 'driverInfo': {
        if (!isPlainObject(value)) throw new MongoInvalidArgumentError('driverInfo must be an object');
        out.driverInfo = Object.freeze({
          name: optionalString(value.name, 'driverInfo.name'),
          version: optionalString(value.version, 'driverInfo.version'),
          platform: optionalString(value.platform, 'driverInfo.platform')
        });
        break;
      }
      case 'minHeartbeatFrequencyMS':
        if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
          throw new MongoInvalidArgumentError('minHeartbeatFrequencyMS must be a non-negative integer');
        }
        out.minHeartbeatFrequencyMS = value;
        break;
      default: {
        const desc = URI_OPTIONS.get(key.toLowerCase());
        if (desc === undefined) {
          out.warnings.push(`Unsupported client option "${key}"`);
          break;
        }
        options[desc.name] = parseCodeOptionValue(desc, key, value);
        out.specified.add(desc.name);
      }
    }
  }
  if (out.ssl !== undefined) {
    if (out.options.tls !== undefined && out.options.tls !== out.ssl) {
      throw new MongoParseError('The "tls" and "ssl" options must have the same value');
    }
    out.options.tls = out.ssl;
    out.specified.add('tls');
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Merge
// ---------------------------------------------------------------------------------------------

function resolveReadPreference(merged: UriOptions, uri: UriOptions, code: CodeOptions): ReadPreferenceData {
  let data: ReadPreferenceLike;
  if (code.readPreference && (code.readPreference.tags !== undefined || code.readPreference.maxStalenessSeconds !== undefined || code.readPreference.hedge)) {
    // A full read preference object in code replaces the URI's mode, tags and staleness.
    data = { ...code.readPreference };
  } else {
    data = {
      mode: code.readPreference?.mode ?? uri.readPreference ?? ReadPreferenceMode.primary,
      tags: uri.readPreferenceTags,
      maxStalenessSeconds: uri.maxStalenessSeconds
    };
  }
  if (code.specified.has('readPreferenceTags')) data.tags = merged.readPreferenceTags;
  if (code.specified.has('maxStalenessSeconds')) data.maxStalenessSeconds = merged.maxStalenessSeconds;

  const mode = data.mode as ReadPreferenceMode;
  const tags = data.tags?.map((t) => ({ ...t }));
  const maxStalenessSeconds = data.maxStalenessSeconds === -1 ? undefined : data.maxStalenessSeconds;
  if (mode === ReadPreferenceMode.primary) {
    if (tags?.some((t) => Object.keys(t).length > 0)) throw new MongoParseError('Read preference mode "primary" cannot be combined with tags');
    if (maxStalenessSeconds !== undefined && maxStalenessSeconds > 0) {
      throw new MongoParseError('Read preference mode "primary" cannot be combined with maxStalenessSeconds');
    }
    if (data.hedge !== undefined) throw new MongoParseError('Read preference mode "primary" cannot be combined with hedge');
  }
  return {
    mode,
    ...(tags !== undefined ? { tags } : {}),
    ...(maxStalenessSeconds !== undefined ? { maxStalenessSeconds } : {}),
    ...(data.hedge !== undefined ? { hedge: data.hedge } : {})
  };
}

function resolveWriteConcern(merged: UriOptions, uri: UriOptions, code: CodeOptions): WriteConcernData {
  const pick = <K extends 'w' | 'wtimeoutMS' | 'journal'>(name: K, fromObject: WriteConcernData[K] | undefined): WriteConcernData[K] =>
    code.specified.has(name) ? (merged[name] as WriteConcernData[K]) : (fromObject ?? (uri[name] as WriteConcernData[K]));
  const w = pick('w', code.writeConcern?.w);
  const wtimeoutMS = pick('wtimeoutMS', code.writeConcern?.wtimeoutMS);
  const journal = pick('journal', code.writeConcern?.journal);
  if (w === 0 && journal === true) throw new MongoParseError('An unacknowledged write concern (w=0) cannot request journal=true');
  return {
    ...(w !== undefined ? { w } : {}),
    ...(wtimeoutMS !== undefined ? { wtimeoutMS } : {}),
    ...(journal !== undefined ? { journal } : {})
  };
}

function resolveProxy(merged: UriOptions): Pick<MongoOptions, 'proxyHost' | 'proxyPort' | 'proxyUsername' | 'proxyPassword'> {
  const { proxyHost } = merged;
  const proxyUsername = merged.proxyUsername || undefined;
  const proxyPassword = merged.proxyPassword || undefined;
  if (proxyHost === undefined) {
    if (merged.proxyPort !== undefined || proxyUsername !== undefined || proxyPassword !== undefined) {
      throw new MongoParseError('The proxyPort, proxyUsername and proxyPassword options require proxyHost');
    }
    return {};
  }
  if ((proxyUsername === undefined) !== (proxyPassword === undefined)) {
    throw new MongoParseError('The proxyUsername and proxyPassword options must be given together');
  }
  return { proxyHost, proxyPort: merged.proxyPort ?? DEFAULT_OPTIONS.proxyPort, proxyUsername, proxyPassword };
}

/**
 * Merges the parsed connection string, the SRV/TXT results (for `mongodb+srv`) and the options
 * given in code (highest precedence) into the resolved options, applying defaults and every
 * cross-option rule. Throws MongoParseError (MongoInvalidArgumentError for a malformed code value).
 */
export function buildMongoOptions(cs: ConnectionString, clientOptions?: MongoClientOptions, srv?: SrvResolution, random?: () => number): MongoOptions {
  if (cs.isSrv && srv === undefined) {
    throw new MongoInvalidArgumentError('A mongodb+srv connection string needs SRV resolution: use parseOptions()');
  }
  const code = convertCodeOptions(clientOptions);
  const merged: UriOptions = { ...srv?.options, ...cs.options, ...code.options };
  const specified = new Set<UriOptionName>([...(srv?.specified ?? []), ...cs.specified, ...code.specified]);
  const uriOnly: UriOptions = { ...srv?.options, ...cs.options };
  const hostCount = srv ? srv.hosts.length : cs.hosts.length;
  checkOptionConflicts(merged, specified, { isSrv: cs.isSrv, hostCount, dnsResolved: true });

  const hosts = srv ? selectSrvHosts(srv.hosts, merged.srvMaxHosts ?? 0, random) : [...cs.hosts];

  const useCodeAuth = code.auth !== undefined;
  const credentials = MongoCredentials.fromInput({
    username: useCodeAuth ? code.auth?.username : cs.username,
    password: useCodeAuth ? code.auth?.password : cs.password,
    hasUserInfo: cs.hasUserInfo || useCodeAuth,
    mechanism: merged.authMechanism,
    source: merged.authSource,
    database: cs.database,
    mechanismProperties: merged.authMechanismProperties
  });

  const minPoolSize = merged.minPoolSize ?? DEFAULT_OPTIONS.minPoolSize;
  const maxPoolSize = merged.maxPoolSize ?? DEFAULT_OPTIONS.maxPoolSize;
  if (maxPoolSize !== 0 && minPoolSize > maxPoolSize) throw new MongoParseError('minPoolSize cannot exceed maxPoolSize');

  const tlsImplied = merged.tlsCAFile !== undefined || merged.tlsCertificateKeyFile !== undefined;
  const tls = merged.tls ?? (cs.isSrv || tlsImplied);
  const tlsInsecure = merged.tlsInsecure ?? false;

  const readConcernLevel = code.readConcernLevel ?? merged.readConcernLevel;
  const warnings = [...cs.warnings, ...(srv?.warnings ?? []), ...code.warnings];

  const result: MongoOptions = {
    hosts,
    ...(cs.srvHost !== undefined ? { srvHost: cs.srvHost } : {}),
    isSrv: cs.isSrv,
    dbName: cs.database || DEFAULT_OPTIONS.dbName,
    ...(credentials ? { credentials } : {}),
    ...(merged.authSource !== undefined ? { authSource: merged.authSource } : {}),
    ...(merged.appName !== undefined ? { appName: merged.appName } : {}),
    compressors: merged.compressors ?? [],
    zlibCompressionLevel: merged.zlibCompressionLevel ?? DEFAULT_OPTIONS.zlibCompressionLevel,
    connectTimeoutMS: merged.connectTimeoutMS ?? DEFAULT_OPTIONS.connectTimeoutMS,
    socketTimeoutMS: merged.socketTimeoutMS ?? DEFAULT_OPTIONS.socketTimeoutMS,
    directConnection: merged.directConnection ?? false,
    loadBalanced: merged.loadBalanced ?? false,
    ...(merged.replicaSet !== undefined ? { replicaSet: merged.replicaSet } : {}),
    heartbeatFrequencyMS: merged.heartbeatFrequencyMS ?? DEFAULT_OPTIONS.heartbeatFrequencyMS,
    minHeartbeatFrequencyMS: code.minHeartbeatFrequencyMS ?? DEFAULT_OPTIONS.minHeartbeatFrequencyMS,
    localThresholdMS: merged.localThresholdMS ?? DEFAULT_OPTIONS.localThresholdMS,
    serverSelectionTimeoutMS: merged.serverSelectionTimeoutMS ?? DEFAULT_OPTIONS.serverSelectionTimeoutMS,
    serverSelectionTryOnce: merged.serverSelectionTryOnce ?? DEFAULT_OPTIONS.serverSelectionTryOnce,
    serverMonitoringMode: merged.serverMonitoringMode ?? DEFAULT_OPTIONS.serverMonitoringMode,
    maxPoolSize,
    minPoolSize,
    maxConnecting: merged.maxConnecting ?? DEFAULT_OPTIONS.maxConnecting,
    maxIdleTimeMS: merged.maxIdleTimeMS ?? DEFAULT_OPTIONS.maxIdleTimeMS,
    waitQueueTimeoutMS: merged.waitQueueTimeoutMS ?? DEFAULT_OPTIONS.waitQueueTimeoutMS,
    retryReads: merged.retryReads ?? DEFAULT_OPTIONS.retryReads,
    retryWrites: merged.retryWrites ?? DEFAULT_OPTIONS.retryWrites,
    maxAdaptiveRetries: merged.maxAdaptiveRetries ?? DEFAULT_OPTIONS.maxAdaptiveRetries,
    enableOverloadRetargeting: merged.enableOverloadRetargeting ?? DEFAULT_OPTIONS.enableOverloadRetargeting,
    readPreference: resolveReadPreference(merged, uriOnly, code),
    readConcern: readConcernLevel !== undefined ? { level: readConcernLevel } : {},
    writeConcern: resolveWriteConcern(merged, uriOnly, code),
    ...(merged.timeoutMS !== undefined ? { timeoutMS: merged.timeoutMS } : {}),
    tls,
    tlsAllowInvalidCertificates: merged.tlsAllowInvalidCertificates ?? tlsInsecure,
    tlsAllowInvalidHostnames: merged.tlsAllowInvalidHostnames ?? tlsInsecure,
    tlsInsecure,
    tlsDisableOCSPEndpointCheck: merged.tlsDisableOCSPEndpointCheck ?? tlsInsecure,
    tlsDisableCertificateRevocationCheck: merged.tlsDisableCertificateRevocationCheck ?? tlsInsecure,
    ...(merged.tlsCAFile !== undefined ? { tlsCAFile: merged.tlsCAFile } : {}),
    ...(merged.tlsCertificateKeyFile !== undefined ? { tlsCertificateKeyFile: merged.tlsCertificateKeyFile } : {}),
    ...(merged.tlsCertificateKeyFilePassword !== undefined ? { tlsCertificateKeyFilePassword: merged.tlsCertificateKeyFilePassword } : {}),
    ...resolveProxy(merged),
    srvMaxHosts: merged.srvMaxHosts ?? DEFAULT_OPTIONS.srvMaxHosts,
    srvServiceName: merged.srvServiceName ?? DEFAULT_OPTIONS.srvServiceName,
    ...(code.serverApi !== undefined ? { serverApi: code.serverApi } : {}),
    monitorCommands: code.monitorCommands ?? false,
    ...(code.driverInfo !== undefined ? { driverInfo: code.driverInfo } : {}),
    warnings
  };
  return result;
}

/**
 * The client's entry point: parses `uri`, resolves SRV/TXT records for `mongodb+srv`, and merges
 * `options` (which override the connection string, which overrides the TXT record).
 */
export async function parseOptions(uri: string, options?: MongoClientOptions, deps: ParseOptionsDeps = {}): Promise<MongoOptions> {
  const cs = parseConnectionString(uri);
  if (!cs.isSrv) return buildMongoOptions(cs, options, undefined, deps.random);
  const srv = await resolveSrvSeedlist(cs, options, deps.srvResolver ?? dnsSrvResolver);
  return buildMongoOptions(cs, options, srv, deps.random);
}
