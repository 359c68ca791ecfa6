/**
 * Structured logging (logging spec): per-component minimum severities, a destination (stdout,
 * stderr, a file, or any object with `write(log)`), and relaxed extended JSON truncated to a
 * maximum length. Configured from the client options, which take precedence, and from the
 * environment:
 *
 * - `MONGODB_LOG_COMMAND`, `MONGODB_LOG_TOPOLOGY`, `MONGODB_LOG_SERVER_SELECTION`,
 *   `MONGODB_LOG_CONNECTION`: minimum severity of one component; `MONGODB_LOG_ALL`: of every
 *   component without its own variable. Invalid values are ignored. Default: nothing is logged.
 * - `MONGODB_LOG_PATH`: `stdout`, `stderr` (case-insensitive) or a file path (appended to);
 *   default and fallback for an unusable path: stderr.
 * - `MONGODB_LOG_MAX_DOCUMENT_LENGTH`: a non-negative integer (0 = no truncation); default 1000.
 *
 * The client options use the official Node.js driver's names (`mongodbLogPath`,
 * `mongodbLogComponentSeverities`, `mongodbLogMaxDocumentLength`) and are validated: an invalid
 * value throws MongoInvalidArgumentError. A component's own setting beats a general one
 * (`default` / `MONGODB_LOG_ALL`), and within each level the client option beats the
 * environment. To let an environment variable win over a programmatic default instead, read it
 * yourself: `mongodbLogComponentSeverities: { command: process.env.MONGODB_LOG_COMMAND ?? 'debug' }`.
 *
 * Logging costs nothing when it is off: callers ask `willLog(component, severity)` before
 * building a message.
 */
import * as fs from 'node:fs';
import { EJSON } from 'bson';
import { MongoError, MongoInvalidArgumentError, MongoServerError } from './errors';

/** The logging spec's severity levels (RFC 5424 names), most severe first, plus `off`. */
export const SeverityLevel = Object.freeze({
  EMERGENCY: 'emergency',
  ALERT: 'alert',
  CRITICAL: 'critical',
  ERROR: 'error',
  WARNING: 'warn',
  NOTICE: 'notice',
  INFORMATIONAL: 'info',
  DEBUG: 'debug',
  TRACE: 'trace',
  OFF: 'off'
} as const);
export type SeverityLevel = (typeof SeverityLevel)[keyof typeof SeverityLevel];

/** Severity codes; `off` is below every level, so a component set to `off` logs nothing. */
const SEVERITY_CODE: Readonly<Record<SeverityLevel, number>> = Object.freeze({
  off: -1,
  emergency: 0,
  alert: 1,
  critical: 2,
  error: 3,
  warn: 4,
  notice: 5,
  info: 6,
  debug: 7,
  trace: 8
});

/** The logging spec's components. */
export const MongoLoggableComponent = Object.freeze({
  COMMAND: 'command',
  TOPOLOGY: 'topology',
  SERVER_SELECTION: 'serverSelection',
  CONNECTION: 'connection'
} as const);
export type MongoLoggableComponent = (typeof MongoLoggableComponent)[keyof typeof MongoLoggableComponent];

const COMPONENTS: readonly MongoLoggableComponent[] = Object.values(MongoLoggableComponent);

/** The environment variable of each component. */
const COMPONENT_ENV: Readonly<Record<MongoLoggableComponent, keyof MongoLoggerEnvOptions>> = Object.freeze({
  command: 'MONGODB_LOG_COMMAND',
  topology: 'MONGODB_LOG_TOPOLOGY',
  serverSelection: 'MONGODB_LOG_SERVER_SELECTION',
  connection: 'MONGODB_LOG_CONNECTION'
});

export const DEFAULT_MAX_DOCUMENT_LENGTH = 1000;

/** One log message as handed to the destination. */
export interface Log {
  /** When the message was produced. */
  t: Date;
  /** Component. */
  c: MongoLoggableComponent;
  /** Severity. */
  s: SeverityLevel;
  message: string;
  [field: string]: unknown;
}

/** The fields of a message other than `t`, `c` and `s`. Null/undefined fields are dropped. */
export type LogFields = { message: string } & Record<string, unknown>;

/** A log destination. A returned promise is awaited before the next message is written. */
export interface MongoDBLogWritable {
  write(log: Log): PromiseLike<unknown> | unknown;
}

export interface LogComponentSeveritiesClientOptions {
  command?: SeverityLevel;
  topology?: SeverityLevel;
  serverSelection?: SeverityLevel;
  connection?: SeverityLevel;
  /** For every component without its own setting. */
  default?: SeverityLevel;
}

/** The logging options of MongoClient (the official Node.js driver's names). */
export interface MongoLoggerMongoClientOptions {
  /** `'stdout'`, `'stderr'`, or an object receiving each `Log`. Overrides MONGODB_LOG_PATH. */
  mongodbLogPath?: 'stdout' | 'stderr' | MongoDBLogWritable;
  /** Minimum severity per component. Overrides the MONGODB_LOG_* variables. */
  mongodbLogComponentSeverities?: LogComponentSeveritiesClientOptions;
  /** Maximum length of extended JSON in messages (0 = no limit). Overrides MONGODB_LOG_MAX_DOCUMENT_LENGTH. */
  mongodbLogMaxDocumentLength?: number;
}

export interface MongoLoggerEnvOptions {
  MONGODB_LOG_COMMAND?: string;
  MONGODB_LOG_TOPOLOGY?: string;
  MONGODB_LOG_SERVER_SELECTION?: string;
  MONGODB_LOG_CONNECTION?: string;
  MONGODB_LOG_ALL?: string;
  MONGODB_LOG_PATH?: string;
  MONGODB_LOG_MAX_DOCUMENT_LENGTH?: string;
}

/** Where messages go. */
export type LogDestinationKind = 'stdout' | 'stderr' | 'file' | 'custom';

/** The resolved configuration. */
export interface MongoLoggerOptions {
  componentSeverities: Record<MongoLoggableComponent, SeverityLevel>;
  maxDocumentLength: number;
  logDestination: MongoDBLogWritable;
  logDestinationKind: LogDestinationKind;
  /** The file path, when logging to a file. */
  logFilePath?: string;
}

const LOGGER_CLIENT_OPTION_NAMES = ['mongodbLogPath', 'mongodbLogComponentSeverities', 'mongodbLogMaxDocumentLength'] as const;

/** Splits the logging options off a client options object (the rest goes to option parsing). */
export function splitLoggerOptions<T extends MongoLoggerMongoClientOptions>(
  options: T
): { logger: MongoLoggerMongoClientOptions; rest: Omit<T, (typeof LOGGER_CLIENT_OPTION_NAMES)[number]> } {
  if (typeof options !== 'object' || options === null) return { logger: {}, rest: options };
  const { mongodbLogPath, mongodbLogComponentSeverities, mongodbLogMaxDocumentLength, ...rest } = options;
  const logger: MongoLoggerMongoClientOptions = {};
  if (mongodbLogPath !== undefined) logger.mongodbLogPath = mongodbLogPath;
  if (mongodbLogComponentSeverities !== undefined) logger.mongodbLogComponentSeverities = mongodbLogComponentSeverities;
  if (mongodbLogMaxDocumentLength !== undefined) logger.mongodbLogMaxDocumentLength = mongodbLogMaxDocumentLength;
  return { logger, rest };
}

/** A severity name (case-insensitive), or null when `value` is not one. */
export function parseSeverity(value: unknown): SeverityLevel | null {
  if (typeof value !== 'string') return null;
  const lower = value.toLowerCase();
  return Object.prototype.hasOwnProperty.call(SEVERITY_CODE, lower) ? (lower as SeverityLevel) : null;
}

/** A non-negative integer written in decimal digits, or null. */
function parseMaxDocumentLength(value: string | undefined): number | null {
  if (value === undefined || !/^\s*\d+\s*$/.test(value)) return null;
  const n = Number(value);
  return Number.isSafeInteger(n) ? n : null;
}

function validateClientOptions(options: MongoLoggerMongoClientOptions): void {
  const path = options.mongodbLogPath;
  if (path !== undefined) {
    const isStdio = typeof path === 'string' && /^(stdout|stderr)$/i.test(path);
    const isWritable = typeof path === 'object' && path !== null && typeof (path as { write?: unknown }).write === 'function';
    if (!isStdio && !isWritable) {
      throw new MongoInvalidArgumentError(
        'mongodbLogPath must be "stdout", "stderr" or an object with a write(log) method (use MONGODB_LOG_PATH for a file)'
      );
    }
  }
  const severities: unknown = options.mongodbLogComponentSeverities;
  if (severities !== undefined) {
    if (typeof severities !== 'object' || severities === null || Array.isArray(severities)) {
      throw new MongoInvalidArgumentError('mongodbLogComponentSeverities must be an object');
    }
    for (const [key, value] of Object.entries(severities)) {
      if (key !== 'default' && !COMPONENTS.includes(key as MongoLoggableComponent)) {
        throw new MongoInvalidArgumentError(
          `mongodbLogComponentSeverities: unknown component "${key}" (expected ${[...COMPONENTS, 'default'].join(', ')})`
        );
      }
      if (value !== undefined && parseSeverity(value) === null) {
        throw new MongoInvalidArgumentError(
          `mongodbLogComponentSeverities.${key}: "${String(value)}" is not a severity level (${Object.keys(SEVERITY_CODE).join(', ')})`
        );
      }
    }
  }
  const max = options.mongodbLogMaxDocumentLength;
  if (max !== undefined && (typeof max !== 'number' || !Number.isSafeInteger(max) || max < 0)) {
    throw new MongoInvalidArgumentError('mongodbLogMaxDocumentLength must be a non-negative integer');
  }
}

/**
 * Resolves the configuration: client options first, then the environment.
 * @throws MongoInvalidArgumentError for an invalid client option (environment values never throw).
 */
export function resolveMongoLoggerOptions(
  env: MongoLoggerEnvOptions,
  client: MongoLoggerMongoClientOptions = {}
): MongoLoggerOptions {
  validateClientOptions(client);
  const clientSeverities = client.mongodbLogComponentSeverities ?? {};
  const general = parseSeverity(clientSeverities.default) ?? parseSeverity(env.MONGODB_LOG_ALL) ?? SeverityLevel.OFF;
  const componentSeverities = {} as Record<MongoLoggableComponent, SeverityLevel>;
  for (const component of COMPONENTS) {
    componentSeverities[component] =
      parseSeverity(clientSeverities[component]) ?? parseSeverity(env[COMPONENT_ENV[component]]) ?? general;
  }
  const maxDocumentLength =
    client.mongodbLogMaxDocumentLength ?? parseMaxDocumentLength(env.MONGODB_LOG_MAX_DOCUMENT_LENGTH) ?? DEFAULT_MAX_DOCUMENT_LENGTH;
  const anyEnabled = COMPONENTS.some((c) => componentSeverities[c] !== SeverityLevel.OFF);
  // The destination is only opened (a file created) when something will be logged.
  const destination = anyEnabled ? resolveDestination(env, client) : { logDestination: stderrWritable, logDestinationKind: 'stderr' as const };
  return { componentSeverities, maxDocumentLength, ...destination };
}

function resolveDestination(
  env: MongoLoggerEnvOptions,
  client: MongoLoggerMongoClientOptions
): Pick<MongoLoggerOptions, 'logDestination' | 'logDestinationKind' | 'logFilePath'> {
  const path = client.mongodbLogPath ?? env.MONGODB_LOG_PATH;
  if (typeof path === 'object') return { logDestination: path, logDestinationKind: 'custom' };
  if (path === undefined || path === '' || /^stderr$/i.test(path)) return { logDestination: stderrWritable, logDestinationKind: 'stderr' };
  if (/^stdout$/i.test(path)) return { logDestination: stdoutWritable, logDestinationKind: 'stdout' };
  try {
    fs.appendFileSync(path, '');
  } catch (error) {
    process.emitWarning(`MONGODB_LOG_PATH "${path}" is not writable (${(error as Error).message}); logging to stderr`, {
      code: 'MONGOWIRE_LOG_PATH'
    });
    return { logDestination: stderrWritable, logDestinationKind: 'stderr' };
  }
  return { logDestination: fileWritable(path), logDestinationKind: 'file', logFilePath: path };
}

/** One line of JSON per message (the `Date` as ISO-8601, bigints as strings). */
export function formatLogLine(log: Log): string {
  return `${JSON.stringify(log, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value))}\n`;
}

const stdoutWritable: MongoDBLogWritable = { write: (log) => process.stdout.write(formatLogLine(log)) };
const stderrWritable: MongoDBLogWritable = { write: (log) => process.stderr.write(formatLogLine(log)) };

/** Appends each message to `path` (synchronously: no file handle stays open between messages). */
function fileWritable(path: string): MongoDBLogWritable {
  return { write: (log) => fs.appendFileSync(path, formatLogLine(log)) };
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

export class MongoLogger {
  readonly componentSeverities: Readonly<Record<MongoLoggableComponent, SeverityLevel>>;
  readonly maxDocumentLength: number;
  readonly logDestinationKind: LogDestinationKind;
  private readonly destination: MongoDBLogWritable;
  /** Minimum severity code per component (-1 = off). */
  private readonly thresholds: Record<MongoLoggableComponent, number>;
  /** The write in flight when the destination returned a promise. */
  private pending: Promise<void> | null = null;

  constructor(options: MongoLoggerOptions) {
    this.componentSeverities = Object.freeze({ ...options.componentSeverities });
    this.maxDocumentLength = options.maxDocumentLength;
    this.destination = options.logDestination;
    this.logDestinationKind = options.logDestinationKind;
    this.thresholds = {} as Record<MongoLoggableComponent, number>;
    for (const component of COMPONENTS) this.thresholds[component] = SEVERITY_CODE[options.componentSeverities[component]];
  }

  /** A logger for these client options and environment (default: `process.env`). */
  static fromOptions(client: MongoLoggerMongoClientOptions = {}, env: MongoLoggerEnvOptions = process.env): MongoLogger {
    return new MongoLogger(resolveMongoLoggerOptions(env, client));
  }

  /** Whether a `severity` message of `component` would be written. Cheap: check it before building a message. */
  willLog(component: MongoLoggableComponent, severity: SeverityLevel): boolean {
    return SEVERITY_CODE[severity] <= this.thresholds[component] && severity !== SeverityLevel.OFF;
  }

  /** Whether any component logs anything. */
  get enabled(): boolean {
    return COMPONENTS.some((component) => this.thresholds[component] >= 0);
  }

  /** Writes one message if `component` logs at `severity`; null/undefined fields are omitted. */
  log(component: MongoLoggableComponent, severity: SeverityLevel, fields: LogFields): void {
    if (!this.willLog(component, severity)) return;
    const log: Log = { t: new Date(), c: component, s: severity, message: fields.message };
    for (const key of Object.keys(fields)) {
      const value = fields[key];
      if (value !== null && value !== undefined) log[key] = value;
    }
    this.write(log);
  }

  private write(log: Log): void {
    if (this.pending !== null) {
      this.track(this.pending.then(() => this.destination.write(log)));
      return;
    }
    try {
      const result = this.destination.write(log);
      if (isPromiseLike(result)) this.track(result);
    } catch (error) {
      this.writeFailed(error);
    }
  }

  /** Serializes writes behind a destination's promise; a rejection stops logging. */
  private track(result: PromiseLike<unknown>): void {
    const next: Promise<void> = Promise.resolve(result).then(
      () => {
        if (this.pending === next) this.pending = null;
      },
      (error: unknown) => this.writeFailed(error)
    );
    this.pending = next;
  }

  /** The destination failed: turn logging off (never throw into the driver) and warn once. */
  private writeFailed(error: unknown): void {
    this.pending = null;
    if (!this.enabled) return;
    for (const component of COMPONENTS) this.thresholds[component] = -1;
    const reason = error instanceof Error ? error.message : String(error);
    process.emitWarning(`MongoDB log destination failed (${reason}); logging is turned off`, { code: 'MONGOWIRE_LOG_WRITE' });
  }
}

// ---------------------------------------------------------------------------------------------
// Extended JSON with a maximum length
// ---------------------------------------------------------------------------------------------

/**
 * `text` cut to `maxLength` UTF-16 code units plus `...` when longer (0 = no limit). A cut that
 * would split a surrogate pair is moved one unit down, so the output is always valid Unicode.
 */
export function truncateLogString(text: string, maxLength: number): string {
  if (maxLength <= 0 || text.length <= maxLength) return text;
  let end = maxLength;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end -= 1;
  return `${text.slice(0, end)}...`;
}

/** Thrown inside the writer once enough output exists. */
const ENOUGH = Symbol('enough');

/**
 * Relaxed extended JSON of `value`, truncated to `maxLength` (0 = no limit). The output is the
 * same as truncating `EJSON.stringify(value, { relaxed: true })`, but plain documents and arrays
 * are walked here and the walk stops once `maxLength` is exceeded, so a huge document costs
 * O(maxLength), not O(document size). Serialization errors become a message, never a throw.
 */
export function stringifyWithMaxLen(value: unknown, maxLength: number): string {
  let text: string;
  try {
    text = maxLength > 0 ? boundedEJSON(value, maxLength) : (EJSON.stringify(value, { relaxed: true }) ?? '');
  } catch (error) {
    text = `Extended JSON serialization failed with: ${error instanceof Error ? error.message : String(error)}`;
  }
  return truncateLogString(text, maxLength);
}

function isPlainContainer(value: object): boolean {
  if (Array.isArray(value)) return true;
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return false;
  const record = value as Record<string, unknown>;
  return !('_bsontype' in record) && typeof record.toJSON !== 'function';
}

function boundedEJSON(root: unknown, maxLength: number): string {
  const parts: string[] = [];
  let length = 0;
  const ancestors = new Set<object>();
  const push = (s: string): void => {
    parts.push(s);
    length += s.length;
    if (length > maxLength) throw ENOUGH;
  };
  /** The JSON of a leaf (or a non-plain object), or undefined when JSON omits it. */
  const leaf = (value: unknown): string | undefined => {
    if (typeof value === 'string') return JSON.stringify(value);
    if (typeof value === 'boolean') return value ? 'true' : 'false';
    if (value === null) return 'null';
    return EJSON.stringify(value, { relaxed: true }) as string | undefined;
  };
  const write = (value: unknown): boolean => {
    if (typeof value !== 'object' || value === null || !isPlainContainer(value)) {
      const json = leaf(value);
      if (json === undefined) return false;
      push(json);
      return true;
    }
    if (ancestors.has(value)) throw new TypeError('Converting circular structure to EJSON');
    ancestors.add(value);
    if (Array.isArray(value)) {
      push('[');
      for (let i = 0; i < value.length; i++) {
        if (i > 0) push(',');
        if (!write(value[i])) push('null');
      }
      push(']');
    } else {
      push('{');
      let first = true;
      const record = value as Record<string, unknown>;
      for (const key of Object.keys(record)) {
        const item = record[key];
        if (typeof item === 'function' || typeof item === 'symbol') continue;
        push(`${first ? '' : ','}${JSON.stringify(key)}:`);
        first = false;
        // EJSON writes an undefined field as null.
        if (!write(item === undefined ? null : item)) push('null');
      }
      push('}');
    }
    ancestors.delete(value);
    return true;
  };
  try {
    if (!write(root)) return '';
  } catch (error) {
    if (error !== ENOUGH) throw error;
  }
  return parts.join('');
}

// ---------------------------------------------------------------------------------------------
// Errors and addresses in messages
// ---------------------------------------------------------------------------------------------

/** How an error appears in a message: everything the error classes report, server replies truncated. */
export interface LoggedError {
  name: string;
  message: string;
  code?: number | string;
  codeName?: string;
  errorLabels?: string[];
  /** The server's reply (relaxed extended JSON, truncated), for server errors. */
  errorResponse?: string;
  /** The message of the underlying cause, if any. */
  cause?: string;
}

/** The representation of `error` in a message (logging spec "Representing Errors"). */
export function errorForLog(error: unknown, maxDocumentLength: number): LoggedError {
  if (!(error instanceof Error)) return { name: 'Error', message: String(error) };
  const logged: LoggedError = { name: error.name, message: error.message };
  if (error instanceof MongoError) {
    if (error.code !== undefined) logged.code = error.code;
    if (error.errorLabels.length > 0) logged.errorLabels = error.errorLabels;
  }
  if (error instanceof MongoServerError) {
    if (error.codeName !== undefined) logged.codeName = error.codeName;
    if (Object.keys(error.errorResponse).length > 0) logged.errorResponse = stringifyWithMaxLen(error.errorResponse, maxDocumentLength);
  }
  const cause: unknown = error.cause;
  if (cause instanceof Error && cause.message) logged.cause = cause.message;
  return logged;
}

/** `serverHost` / `serverPort` of a `host:port`, `[ipv6]:port` or Unix socket address. */
export function hostAndPort(address: string): { serverHost: string; serverPort?: number } {
  if (address.endsWith('.sock')) return { serverHost: address };
  const colon = address.lastIndexOf(':');
  if (colon < 0 || address.endsWith(']')) return { serverHost: address.replace(/^\[(.*)\]$/, '$1'), serverPort: 27017 };
  let host = address.slice(0, colon);
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  const port = Number(address.slice(colon + 1));
  return Number.isInteger(port) ? { serverHost: host, serverPort: port } : { serverHost: address };
}
