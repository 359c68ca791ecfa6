/**
 * Client options: the typed `MongoClientOptions` users pass in code, the resolved `MongoOptions`
 * (every option with its default applied) the rest of the driver reads, and the table describing
 * each connection-string option (canonical name, value type, accepted range).
 *
 * Parsing of the connection string itself lives in connection_string.ts; this module only knows
 * how to turn one option's value (a URI string or a value given in code) into its typed form.
 *
 * Precedence (documented, per the connection-string spec): defaults < TXT record (mongodb+srv)
 * < connection string < options passed in code.
 */
import { MongoInvalidArgumentError, MongoParseError } from './errors';
import { AuthMechanism, type AuthMechanismName, type AuthMechanismProperties, type MongoCredentials } from './auth/mongo_credentials';
import type { TagSet } from './sdam/types';
import { ReadPreferenceMode, type HedgeOptions } from './read_preference';
import type { LogComponentSeveritiesClientOptions, MongoLoggerMongoClientOptions } from './logger';

export type { TagSet } from './sdam/types';

// ---------------------------------------------------------------------------------------------
// Value types
// ---------------------------------------------------------------------------------------------

export { ReadPreferenceMode };
export type { HedgeOptions };

/** A read preference as plain data (the ReadPreference class is built from this). */
export interface ReadPreferenceData {
  mode: ReadPreferenceMode;
  tags?: TagSet[];
  /** Absent means "no maximum staleness" (the URI value -1). */
  maxStalenessSeconds?: number;
  /** Deprecated by the server (8.0); passed through when given in code. */
  hedge?: HedgeOptions;
}

/** Anything shaped like a read preference (a ReadPreference instance or plain data). */
export interface ReadPreferenceLike {
  mode: ReadPreferenceMode | string;
  tags?: TagSet[];
  maxStalenessSeconds?: number;
  hedge?: HedgeOptions;
}

export type W = number | 'majority' | (string & {});

export interface WriteConcernData {
  w?: W;
  wtimeoutMS?: number;
  journal?: boolean;
}

/** A write concern given in code; the legacy `j`/`wtimeout` spellings are accepted. */
export interface WriteConcernLike extends WriteConcernData {
  j?: boolean;
  wtimeout?: number;
}

export interface ReadConcernData {
  /** Any string: unknown levels are passed to the server for forwards compatibility. */
  level?: string;
}

export const ServerApiVersion = Object.freeze({ v1: '1' } as const);
export type ServerApiVersion = (typeof ServerApiVersion)[keyof typeof ServerApiVersion];

export interface ServerApi {
  version: ServerApiVersion;
  strict?: boolean;
  deprecationErrors?: boolean;
}

export interface DriverInfo {
  name?: string;
  version?: string;
  platform?: string;
}

export type CompressorName = 'snappy' | 'zlib' | 'zstd';
export const KNOWN_COMPRESSORS: readonly CompressorName[] = ['snappy', 'zlib', 'zstd'];

export type ServerMonitoringMode = 'auto' | 'poll' | 'stream';

/** How a host was written in the connection string. */
export type HostType = 'hostname' | 'ipv4' | 'ip_literal' | 'unix';

/** One seed: a TCP host and port, or a Unix domain socket path. */
export interface HostAddress {
  /** Lower-cased hostname, IPv4 address, IPv6 address without brackets, or a socket path (case kept). */
  readonly host: string;
  /** The TCP port (27017 when none was given); undefined for Unix domain sockets. */
  readonly port?: number;
  readonly type: HostType;
}

export const DEFAULT_PORT = 27017;

/** `host:port`, `[::1]:27017`, or the socket path — the address form SDAM uses. */
export function formatHostAddress(address: HostAddress): string {
  if (address.type === 'unix') return address.host;
  const port = address.port ?? DEFAULT_PORT;
  return address.type === 'ip_literal' ? `[${address.host}]:${port}` : `${address.host}:${port}`;
}

// ---------------------------------------------------------------------------------------------
// Options
// ---------------------------------------------------------------------------------------------

/** Every option that can appear in a connection string, by canonical (camelCase) name, typed. */
export interface UriOptions {
  appName?: string;
  authMechanism?: AuthMechanismName;
  authMechanismProperties?: AuthMechanismProperties;
  authSource?: string;
  compressors?: CompressorName[];
  connectTimeoutMS?: number;
  directConnection?: boolean;
  enableOverloadRetargeting?: boolean;
  heartbeatFrequencyMS?: number;
  journal?: boolean;
  loadBalanced?: boolean;
  localThresholdMS?: number;
  maxAdaptiveRetries?: number;
  maxConnecting?: number;
  maxIdleTimeMS?: number;
  maxPoolSize?: number;
  /** -1 means "no maximum staleness". */
  maxStalenessSeconds?: number;
  minPoolSize?: number;
  proxyHost?: string;
  proxyPort?: number;
  proxyUsername?: string;
  proxyPassword?: string;
  readConcernLevel?: string;
  readPreference?: ReadPreferenceMode;
  /** Ordered list; each `readPreferenceTags` occurrence is one tag set (empty value = `{}`). */
  readPreferenceTags?: TagSet[];
  replicaSet?: string;
  retryReads?: boolean;
  retryWrites?: boolean;
  serverMonitoringMode?: ServerMonitoringMode;
  serverSelectionTimeoutMS?: number;
  /** Accepted for compatibility; only single-threaded drivers honour it. */
  serverSelectionTryOnce?: boolean;
  socketTimeoutMS?: number;
  srvMaxHosts?: number;
  srvServiceName?: string;
  timeoutMS?: number;
  /** `ssl` in a connection string is an alias of `tls`. */
  tls?: boolean;
  tlsAllowInvalidCertificates?: boolean;
  tlsAllowInvalidHostnames?: boolean;
  tlsCAFile?: string;
  tlsCertificateKeyFile?: string;
  tlsCertificateKeyFilePassword?: string;
  tlsDisableCertificateRevocationCheck?: boolean;
  tlsDisableOCSPEndpointCheck?: boolean;
  tlsInsecure?: boolean;
  w?: W;
  waitQueueTimeoutMS?: number;
  wtimeoutMS?: number;
  zlibCompressionLevel?: number;
}
export type UriOptionName = keyof UriOptions;

/** The options a user passes to the client in code. They override the connection string. */
export interface MongoClientOptions extends Omit<UriOptions, 'readPreference' | 'compressors'> {
  /** A mode, or a read preference object (e.g. a ReadPreference instance). */
  readPreference?: ReadPreferenceMode | ReadPreferenceLike;
  /** An array, or a comma-separated string as in the connection string. */
  compressors?: CompressorName[] | string;
  /** Alias of `tls`; giving both with different values is an error. */
  ssl?: boolean;
  /** Username and password; override the connection string's userinfo. */
  auth?: { username?: string; password?: string };
  readConcern?: ReadConcernData;
  writeConcern?: WriteConcernLike;
  /** Stable API declaration (code only: never accepted from the connection string). */
  serverApi?: ServerApiVersion | ServerApi;
  /** Emit command monitoring events. */
  monitorCommands?: boolean;
  /** Wrapping library metadata appended to the handshake. */
  driverInfo?: DriverInfo;
  /** Minimum time between server checks (SDAM `minHeartbeatFrequencyMS`); for tests. */
  minHeartbeatFrequencyMS?: number;
  /** Log destination (logging spec): `'stdout'`, `'stderr'` or `{ write(log) }`; overrides MONGODB_LOG_PATH. */
  mongodbLogPath?: MongoLoggerMongoClientOptions['mongodbLogPath'];
  /** Minimum log severity per component (`command`, `topology`, `serverSelection`, `connection`, `default`); overrides MONGODB_LOG_*. */
  mongodbLogComponentSeverities?: LogComponentSeveritiesClientOptions;
  /** Maximum length of extended JSON in log messages (default 1000, 0 = no limit); overrides MONGODB_LOG_MAX_DOCUMENT_LENGTH. */
  mongodbLogMaxDocumentLength?: number;
}

/** The resolved options: every option present with its default applied. Immutable by convention. */
export interface MongoOptions {
  /** The seed list (after SRV resolution and `srvMaxHosts` selection). */
  hosts: HostAddress[];
  /** The `mongodb+srv` host name, when the URI used that scheme. */
  srvHost?: string;
  isSrv: boolean;
  /** The database named in the URI path, or `test`. */
  dbName: string;
  /** Undefined when no authentication is configured. */
  credentials?: MongoCredentials;
  /** The authSource given (code, URI or TXT record), even when no credential is configured. */
  authSource?: string;
  appName?: string;
  compressors: CompressorName[];
  /** -1 = zlib's default level. */
  zlibCompressionLevel: number;
  connectTimeoutMS: number;
  /** 0 = no timeout. */
  socketTimeoutMS: number;
  directConnection: boolean;
  loadBalanced: boolean;
  replicaSet?: string;
  heartbeatFrequencyMS: number;
  minHeartbeatFrequencyMS: number;
  localThresholdMS: number;
  serverSelectionTimeoutMS: number;
  serverSelectionTryOnce: boolean;
  serverMonitoringMode: ServerMonitoringMode;
  /** 0 = no maximum. */
  maxPoolSize: number;
  minPoolSize: number;
  maxConnecting: number;
  /** 0 = connections never idle out. */
  maxIdleTimeMS: number;
  /** 0 = no timeout. */
  waitQueueTimeoutMS: number;
  retryReads: boolean;
  retryWrites: boolean;
  maxAdaptiveRetries: number;
  enableOverloadRetargeting: boolean;
  readPreference: ReadPreferenceData;
  readConcern: ReadConcernData;
  writeConcern: WriteConcernData;
  /** Client-side operation timeout (CSOT); undefined when not set, 0 = no timeout. */
  timeoutMS?: number;
  tls: boolean;
  tlsAllowInvalidCertificates: boolean;
  tlsAllowInvalidHostnames: boolean;
  tlsInsecure: boolean;
  tlsDisableOCSPEndpointCheck: boolean;
  tlsDisableCertificateRevocationCheck: boolean;
  tlsCAFile?: string;
  tlsCertificateKeyFile?: string;
  tlsCertificateKeyFilePassword?: string;
  proxyHost?: string;
  /** 1080 when proxyHost is set. */
  proxyPort?: number;
  proxyUsername?: string;
  proxyPassword?: string;
  srvMaxHosts: number;
  srvServiceName: string;
  serverApi?: ServerApi;
  monitorCommands: boolean;
  driverInfo?: DriverInfo;
  /** The logging options as given in code (see src/logger.ts; the environment is read separately). */
  mongodbLogPath?: MongoLoggerMongoClientOptions['mongodbLogPath'];
  mongodbLogComponentSeverities?: LogComponentSeveritiesClientOptions;
  mongodbLogMaxDocumentLength?: number;
  /** Warnings found while parsing (unknown keys, ignored values, deprecated spellings). */
  warnings: string[];
}

export const DEFAULT_OPTIONS = Object.freeze({
  dbName: 'test',
  zlibCompressionLevel: -1,
  connectTimeoutMS: 30_000,
  socketTimeoutMS: 0,
  heartbeatFrequencyMS: 10_000,
  minHeartbeatFrequencyMS: 500,
  localThresholdMS: 15,
  serverSelectionTimeoutMS: 30_000,
  serverSelectionTryOnce: false,
  serverMonitoringMode: 'auto' as ServerMonitoringMode,
  maxPoolSize: 100,
  minPoolSize: 0,
  maxConnecting: 2,
  maxIdleTimeMS: 0,
  waitQueueTimeoutMS: 0,
  retryReads: true,
  retryWrites: true,
  maxAdaptiveRetries: 2,
  enableOverloadRetargeting: false,
  srvMaxHosts: 0,
  srvServiceName: 'mongodb',
  proxyPort: 1080
});

// ---------------------------------------------------------------------------------------------
// Option table
// ---------------------------------------------------------------------------------------------

type OptionKind =
  | 'boolean'
  | 'integer'
  | 'string'
  | 'enum'
  | 'tagSet'
  | 'mechanismProperties'
  | 'compressors'
  | 'w'
  | 'authMechanism';

export interface OptionDescriptor {
  readonly name: UriOptionName;
  readonly kind: OptionKind;
  readonly min?: number;
  readonly max?: number;
  readonly values?: readonly string[];
  /** The value is a secret: never echo it in messages. */
  readonly sensitive?: boolean;
}

const INT32_MAX = 2 ** 31 - 1;
const INT64_SAFE_MAX = Number.MAX_SAFE_INTEGER;

const d = (name: UriOptionName, kind: OptionKind, extra: Partial<OptionDescriptor> = {}): OptionDescriptor =>
  Object.freeze({ name, kind, ...extra });
const nonNegative = (name: UriOptionName, max = INT32_MAX): OptionDescriptor => d(name, 'integer', { min: 0, max });

const DESCRIPTORS: readonly OptionDescriptor[] = [
  d('appName', 'string'),
  d('authMechanism', 'authMechanism'),
  d('authMechanismProperties', 'mechanismProperties', { sensitive: true }),
  d('authSource', 'string'),
  d('compressors', 'compressors'),
  nonNegative('connectTimeoutMS'),
  d('directConnection', 'boolean'),
  d('enableOverloadRetargeting', 'boolean'),
  // The spec lists >= 500; the monitor enforces minHeartbeatFrequencyMS, so any positive value parses.
  d('heartbeatFrequencyMS', 'integer', { min: 1, max: INT32_MAX }),
  d('journal', 'boolean'),
  d('loadBalanced', 'boolean'),
  nonNegative('localThresholdMS'),
  nonNegative('maxAdaptiveRetries'),
  d('maxConnecting', 'integer', { min: 1, max: INT32_MAX }),
  nonNegative('maxIdleTimeMS'),
  nonNegative('maxPoolSize'),
  d('maxStalenessSeconds', 'integer', { min: -1, max: INT32_MAX }),
  nonNegative('minPoolSize'),
  d('proxyHost', 'string'),
  d('proxyPort', 'integer', { min: 0, max: 65535 }),
  d('proxyUsername', 'string'),
  d('proxyPassword', 'string', { sensitive: true }),
  d('readConcernLevel', 'string'),
  d('readPreference', 'enum', { values: Object.values(ReadPreferenceMode) }),
  d('readPreferenceTags', 'tagSet'),
  d('replicaSet', 'string'),
  d('retryReads', 'boolean'),
  d('retryWrites', 'boolean'),
  d('serverMonitoringMode', 'enum', { values: ['auto', 'poll', 'stream'] }),
  nonNegative('serverSelectionTimeoutMS'),
  d('serverSelectionTryOnce', 'boolean'),
  nonNegative('socketTimeoutMS'),
  nonNegative('srvMaxHosts'),
  d('srvServiceName', 'string'),
  nonNegative('timeoutMS', INT64_SAFE_MAX),
  d('tls', 'boolean'),
  d('tlsAllowInvalidCertificates', 'boolean'),
  d('tlsAllowInvalidHostnames', 'boolean'),
  d('tlsCAFile', 'string'),
  d('tlsCertificateKeyFile', 'string'),
  d('tlsCertificateKeyFilePassword', 'string', { sensitive: true }),
  d('tlsDisableCertificateRevocationCheck', 'boolean'),
  d('tlsDisableOCSPEndpointCheck', 'boolean'),
  d('tlsInsecure', 'boolean'),
  d('w', 'w'),
  nonNegative('waitQueueTimeoutMS'),
  nonNegative('wtimeoutMS', INT64_SAFE_MAX),
  d('zlibCompressionLevel', 'integer', { min: -1, max: 9 })
];

/** Descriptors by lower-cased connection-string key (aliases included: `ssl` → tls). */
export const URI_OPTIONS: ReadonlyMap<string, OptionDescriptor> = new Map([
  ...DESCRIPTORS.map((desc) => [desc.name.toLowerCase(), desc] as const),
  ['ssl', DESCRIPTORS.find((desc) => desc.name === 'tls') as OptionDescriptor] as const
]);

/**
 * Deprecated connection-string keys: the old key, the key that replaces it. The old key is used
 * (with a warning) only when the new one is absent.
 */
export const DEPRECATED_URI_KEYS: ReadonlyMap<string, string> = new Map([
  ['wtimeout', 'wtimeoutms'],
  ['j', 'journal'],
  ['gssapiservicename', 'authmechanismproperties']
]);

/** Auth mechanism properties whose names are matched case-insensitively and normalized. */
export const KNOWN_MECHANISM_PROPERTIES = [
  'SERVICE_NAME',
  'SERVICE_REALM',
  'SERVICE_HOST',
  'CANONICALIZE_HOST_NAME',
  'AWS_SESSION_TOKEN',
  'AWS_CREDENTIAL_PROVIDER',
  'ENVIRONMENT',
  'TOKEN_RESOURCE',
  'OIDC_CALLBACK',
  'OIDC_HUMAN_CALLBACK',
  'ALLOWED_HOSTS'
] as const;

/** Properties that only code can provide (functions, arrays). */
const CODE_ONLY_MECHANISM_PROPERTIES = new Set(['AWS_CREDENTIAL_PROVIDER', 'OIDC_CALLBACK', 'OIDC_HUMAN_CALLBACK', 'ALLOWED_HOSTS']);

export function normalizeMechanismPropertyName(name: string): string {
  const upper = name.toUpperCase();
  return (KNOWN_MECHANISM_PROPERTIES as readonly string[]).includes(upper) ? upper : name;
}

// ---------------------------------------------------------------------------------------------
// URI value conversion
// ---------------------------------------------------------------------------------------------

/** Outcome of converting one URI value: the typed value, or a reason it is ignored (a warning). */
export type UriValueResult<T = unknown> = { ok: true; value: T; warning?: string } | { ok: false; warning: string };

const TRUE_VALUES = new Set(['true']);
const FALSE_VALUES = new Set(['false']);
const LEGACY_TRUE = new Set(['1', 'yes', 'y', 't']);
const LEGACY_FALSE = new Set(['0', '-1', 'no', 'n', 'f']);

function describeValue(desc: OptionDescriptor, raw: string, show: (s: string) => string): string {
  return desc.sensitive ? '' : ` : "${show(raw)}"`;
}

/**
 * Converts one (already percent-decoded) connection-string value. Invalid values are reported as
 * warnings (the option is then ignored), except where a specification requires an error.
 * `key` is the key as written (for messages); `show` redacts fragments that may be secret.
 */
export function parseUriOptionValue(
  desc: OptionDescriptor,
  key: string,
  raw: string,
  show: (s: string) => string = (s) => s
): UriValueResult {
  const invalid = (why?: string): UriValueResult => ({
    ok: false,
    warning: `Unsupported value for "${show(key)}"${describeValue(desc, raw, show)}${why ? ` (${why})` : ''}; the option is ignored`
  });

  if (raw === '') {
    if (desc.kind === 'tagSet') return { ok: true, value: {} };
    if (desc.name === 'authSource') throw new MongoParseError('authSource must not be empty');
    return { ok: false, warning: `Empty value for "${show(key)}"; the option is ignored` };
  }

  switch (desc.kind) {
    case 'boolean': {
      const lower = raw.toLowerCase();
      if (TRUE_VALUES.has(lower)) return { ok: true, value: true };
      if (FALSE_VALUES.has(lower)) return { ok: true, value: false };
      const legacy = LEGACY_TRUE.has(lower) ? true : LEGACY_FALSE.has(lower) ? false : undefined;
      if (legacy === undefined) return invalid('expected "true" or "false"');
      return {
        ok: true,
        value: legacy,
        warning: `Deprecated boolean value for "${show(key)}" : "${raw}", please update to "${show(key)}=${legacy}"`
      };
    }
    case 'integer': {
      if (!/^[+-]?\d+$/.test(raw)) return invalid('expected an integer');
      const value = Number(raw);
      if (!Number.isSafeInteger(value)) return invalid('out of range');
      if (desc.min !== undefined && value < desc.min) return invalid(`must be at least ${desc.min}`);
      if (desc.max !== undefined && value > desc.max) return invalid(`must be at most ${desc.max}`);
      return { ok: true, value };
    }
    case 'string': {
      if (desc.name === 'appName' && Buffer.byteLength(raw, 'utf8') > 128) return invalid('longer than 128 bytes');
      if (desc.name === 'srvServiceName' && !isValidSrvServiceName(raw)) return invalid('not a valid SRV service name');
      return { ok: true, value: raw };
    }
    case 'enum': {
      const match = desc.values?.find((v) => v.toLowerCase() === raw.toLowerCase());
      return match === undefined ? invalid(`expected one of ${desc.values?.join(', ')}`) : { ok: true, value: match };
    }
    case 'authMechanism': {
      const match = Object.values(AuthMechanism).find((m) => m !== AuthMechanism.MONGODB_DEFAULT && m === raw.toUpperCase());
      if (match === undefined) throw new MongoParseError(`authMechanism "${show(raw)}" is not supported`);
      return { ok: true, value: match };
    }
    case 'tagSet': {
      const tags: TagSet = {};
      for (const pair of raw.split(',')) {
        const colon = pair.indexOf(':');
        if (colon <= 0) return invalid('expected comma-separated key:value pairs');
        tags[pair.slice(0, colon)] = pair.slice(colon + 1);
      }
      return { ok: true, value: tags };
    }
    case 'mechanismProperties': {
      const properties: Record<string, string | boolean> = {};
      const skipped: string[] = [];
      for (const pair of raw.split(',')) {
        const colon = pair.indexOf(':');
        if (colon <= 0) {
          skipped.push(pair);
          continue;
        }
        const name = normalizeMechanismPropertyName(pair.slice(0, colon));
        if (CODE_ONLY_MECHANISM_PROPERTIES.has(name)) {
          throw new MongoParseError(`Auth mechanism property ${name} cannot be given in the connection string`);
        }
        const value = pair.slice(colon + 1);
        properties[name] = name === 'CANONICALIZE_HOST_NAME' && (value === 'true' || value === 'false') ? value === 'true' : value;
      }
      const warning = skipped.length
        ? `Ignored ${skipped.length} malformed authMechanismProperties entr${skipped.length === 1 ? 'y' : 'ies'} (expected KEY:value; values must not contain ",")`
        : undefined;
      return { ok: true, value: properties, warning };
    }
    case 'compressors': {
      const names: CompressorName[] = [];
      const unknown: string[] = [];
      for (const entry of raw.split(',')) {
        const name = entry.trim().toLowerCase();
        if ((KNOWN_COMPRESSORS as readonly string[]).includes(name)) {
          if (!names.includes(name as CompressorName)) names.push(name as CompressorName);
        } else if (name !== 'none' && name !== '') {
          unknown.push(entry);
        }
      }
      const warning = unknown.length ? `Unsupported compressor(s) ignored: ${unknown.map((u) => `"${show(u)}"`).join(', ')}` : undefined;
      return { ok: true, value: names, warning };
    }
    case 'w': {
      if (/^[+-]?\d+$/.test(raw)) {
        const value = Number(raw);
        // read-write-concern spec: a negative w is an error, not a warning.
        if (value < 0 || !Number.isSafeInteger(value)) throw new MongoParseError(`w must be a non-negative integer or a string`);
        return { ok: true, value };
      }
      return { ok: true, value: raw };
    }
  }
}

/** RFC 6335 service name, allowing more than 15 characters (up to 62, the DNS label limit less "_"). */
export function isValidSrvServiceName(name: string): boolean {
  return name.length <= 62 && /^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?$/.test(name) && /[A-Za-z]/.test(name) && !name.includes('--');
}

// ---------------------------------------------------------------------------------------------
// Code value conversion
// ---------------------------------------------------------------------------------------------

function invalidCode(desc: OptionDescriptor, key: string, value: unknown, expected: string): MongoInvalidArgumentError {
  const shown = desc.sensitive ? '' : ` (got ${typeof value === 'string' ? JSON.stringify(value) : String(value)})`;
  return new MongoInvalidArgumentError(`Option "${key}" must be ${expected}${shown}`);
}

/**
 * Validates one option given in code against its descriptor and returns the typed value.
 * Strings are accepted for non-string options and parsed as in the connection string.
 * Throws MongoInvalidArgumentError for a value of the wrong type or out of range.
 */
export function parseCodeOptionValue(desc: OptionDescriptor, key: string, value: unknown): unknown {
  if (typeof value === 'string' && desc.kind !== 'string' && desc.kind !== 'w' && desc.kind !== 'tagSet') {
    const result = parseUriOptionValue(desc, key, value);
    if (!result.ok) throw new MongoInvalidArgumentError(result.warning.replace(/; the option is ignored$/, ''));
    return result.value;
  }
  switch (desc.kind) {
    case 'boolean':
      if (typeof value !== 'boolean') throw invalidCode(desc, key, value, 'a boolean');
      return value;
    case 'integer': {
      if (typeof value !== 'number' || !Number.isInteger(value)) throw invalidCode(desc, key, value, 'an integer');
      if ((desc.min !== undefined && value < desc.min) || (desc.max !== undefined && value > desc.max)) {
        throw invalidCode(desc, key, value, `an integer between ${desc.min ?? '-∞'} and ${desc.max ?? '∞'}`);
      }
      return value;
    }
    case 'string': {
      if (typeof value !== 'string') throw invalidCode(desc, key, value, 'a string');
      if (desc.name === 'authSource' && value === '') throw new MongoInvalidArgumentError('authSource must not be empty');
      const result = parseUriOptionValue(desc, key, value);
      if (!result.ok) throw new MongoInvalidArgumentError(result.warning.replace(/; the option is ignored$/, ''));
      return value;
    }
    case 'enum':
    case 'authMechanism':
      throw invalidCode(desc, key, value, 'a string');
    case 'tagSet': {
      const valid =
        Array.isArray(value) &&
        value.every((tagSet) => tagSet !== null && typeof tagSet === 'object' && Object.values(tagSet).every((v) => typeof v === 'string'));
      if (!valid) throw invalidCode(desc, key, value, 'an array of tag sets ({ name: value } objects)');
      return (value as TagSet[]).map((tagSet) => ({ ...tagSet }));
    }
    case 'mechanismProperties': {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) throw invalidCode(desc, key, value, 'an object');
      const properties: AuthMechanismProperties = {};
      for (const [name, v] of Object.entries(value)) properties[normalizeMechanismPropertyName(name)] = v;
      return properties;
    }
    case 'compressors': {
      if (!Array.isArray(value) || !value.every((c) => typeof c === 'string')) {
        throw invalidCode(desc, key, value, 'an array of compressor names or a comma-separated string');
      }
      const result = parseUriOptionValue(desc, key, value.join(','));
      if (result.ok && result.warning) throw new MongoInvalidArgumentError(result.warning);
      return result.ok ? result.value : [];
    }
    case 'w':
      if (typeof value === 'number') {
        if (!Number.isInteger(value) || value < 0) throw invalidCode(desc, key, value, 'a non-negative integer or a string');
        return value;
      }
      if (typeof value !== 'string' || value === '') throw invalidCode(desc, key, value, 'a non-negative integer or a string');
      return /^\d+$/.test(value) ? Number(value) : value;
  }
}
