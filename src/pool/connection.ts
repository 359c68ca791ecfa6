/**
 * One socket to one server: open it (TCP, TLS or a Unix domain socket), run the MongoDB
 * handshake (`hello`/legacy hello, compression negotiation, auth hooks), then send commands
 * as OP_MSG and match replies.
 *
 * Concurrency: a Connection runs ONE command at a time. Callers (the pool, the monitor) must
 * wait for a command to settle before sending the next; a second concurrent `command()` is
 * rejected with MongoRuntimeError. An exhaust stream (`exhaustCommand`) owns the connection
 * until the server sends a reply without `moreToCome`.
 *
 * Failure: any network error, protocol error (malformed frame, unmatched `responseTo`),
 * timeout or abort destroys the socket and rejects the pending command. A destroyed
 * Connection never comes back; `destroy()` is idempotent.
 */
import * as fs from 'fs';
import * as net from 'net';
import * as tls from 'tls';
import { deserialize, type Document, type ObjectId } from 'bson';
import {
  MongoCompatibilityError,
  MongoError,
  MongoErrorLabel,
  MongoInvalidArgumentError,
  MongoNetworkError,
  MongoNetworkTimeoutError,
  MongoOperationTimeoutError,
  MongoProtocolError,
  MongoRuntimeError,
  MongoServerError
} from '../errors';
import {
  DEFAULT_MAX_BSON_OBJECT_SIZE,
  DEFAULT_MAX_MESSAGE_SIZE_BYTES,
  MessageReader,
  OpCode,
  compressMessage,
  decodeMessage,
  encodeOpMsg,
  nextRequestId,
  type BsonDecodeOptions,
  type Compressor,
  type DecodeOptions,
  type DocumentSequence,
  type OpMsgMessage,
  type OpReplyMessage
} from '../wire';
import { makeClientMetadata, type DriverInfoOptions } from './client_metadata';

/** Stable API options (versioned-api spec). */
export interface ServerApi {
  version: string;
  strict?: boolean;
  deprecationErrors?: boolean;
}

/**
 * One report per command phase for command monitoring (structurally the `ConnectionCommandInfo`
 * of src/command_monitoring.ts, declared here so this layer does not import upward).
 */
export interface CommandReport {
  phase: 'started' | 'succeeded' | 'failed';
  requestId: number;
  databaseName: string;
  commandName: string;
  /** The command as sent (with `$db` and API fields), for `started`. */
  command?: Document;
  reply?: Document;
  error?: Error;
  /** Milliseconds, for `succeeded`/`failed`. */
  duration?: number;
  address: string;
  connectionId: number;
  serverConnectionId: number | null;
  serviceId?: ObjectId;
}

export interface ConnectionOptions {
  /** `host:port`, `[ipv6]:port`, or a Unix domain socket path ending in `.sock`. */
  address: string;
  /** Pool-assigned id (CMAP `connectionId`). */
  id?: number;
  /** Pool generation at creation time. */
  generation?: number;
  /** Aborting it cancels the establishment: the socket is closed and `connect()` rejects with the reason. */
  signal?: AbortSignal;

  tls?: boolean;
  tlsCAFile?: string;
  tlsCertificateKeyFile?: string;
  tlsCertificateKeyFilePassword?: string;
  tlsAllowInvalidCertificates?: boolean;
  tlsAllowInvalidHostnames?: boolean;
  tlsInsecure?: boolean;

  /** Budget for TCP connect + TLS + handshake + auth. 0 = none. Default 30000. */
  connectTimeoutMS?: number;
  /** Inactivity timeout while waiting for a reply. 0 = none (default). */
  socketTimeoutMS?: number;
  /** TCP keep-alive initial delay. Default 120000. */
  keepAliveInitialDelayMS?: number;

  /** A prebuilt handshake `client` document (the pool builds it once); else built from appName/driverInfo. */
  metadata?: Document;
  appName?: string;
  driverInfo?: readonly DriverInfoOptions[];

  /** Compressors to offer, in preference order. */
  compressors?: readonly Compressor[];
  zlibCompressionLevel?: number;
  loadBalanced?: boolean;
  serverApi?: ServerApi;

  /** Default BSON decoding options for replies. */
  bson?: BsonDecodeOptions;

  /** Auth hook: may add `saslSupportedMechs` / `speculativeAuthenticate` to the hello command. */
  prepareHandshake?: (hello: Document) => Promise<Document>;
  /** Auth hook: runs after the handshake; any error destroys the connection. */
  authenticate?: (conn: Connection, helloReply: Document) => Promise<void>;
  /**
   * Command monitoring: called for every `command()` once the connection is established (never
   * for the handshake or the authentication conversation, nor for exhaust streams). Redaction
   * of sensitive commands is the receiver's job.
   */
  commandMonitor?: (report: CommandReport) => void;
}

export interface CommandOptions {
  /** Kind-1 document sequences (e.g. `documents` for insert). */
  sequences?: DocumentSequence[];
  /** Unacknowledged write (w:0): set moreToCome and resolve `{ ok: 1 }` once written. */
  moreToCome?: boolean;
  /** Allow the server to stream replies (use `exhaustCommand` to read them). */
  exhaustAllowed?: boolean;
  /** Aborting destroys the connection and rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Client-side timeout for this command; on expiry the connection is destroyed (MongoOperationTimeoutError). */
  timeoutMS?: number;
  /** Overrides the connection's socketTimeoutMS for this command (e.g. awaitable hello). 0 = none. */
  socketTimeoutMS?: number;
  /** BSON decoding options for this reply. */
  bson?: BsonDecodeOptions;
}

/** Commands that must never be compressed (OP_COMPRESSED spec). */
const UNCOMPRESSIBLE_COMMANDS = new Set([
  'hello',
  'ismaster',
  'saslstart',
  'saslcontinue',
  'getnonce',
  'authenticate',
  'createuser',
  'updateuser',
  'copydbsaslstart',
  'copydbgetnonce',
  'copydb'
]);

const DEFAULT_CONNECT_TIMEOUT_MS = 30_000;
const DEFAULT_KEEP_ALIVE_INITIAL_DELAY_MS = 120_000;
const DEFAULT_MAX_WRITE_BATCH_SIZE = 100_000;
const QUERY_FAILURE_FLAG = 2;

type Reply = OpMsgMessage | OpReplyMessage;

interface ParsedAddress {
  host: string;
  port: number;
  path?: string;
}

/** Parses `host:port`, `[::1]:port` or a `.sock` path. */
export function parseAddress(address: string): ParsedAddress {
  if (address.endsWith('.sock')) return { host: address, port: 0, path: address };
  let host = address;
  let port = 27017;
  if (address.startsWith('[')) {
    const close = address.indexOf(']');
    if (close < 0) throw new MongoInvalidArgumentError(`invalid address "${address}"`);
    host = address.slice(1, close);
    if (address.length > close + 1) {
      if (address[close + 1] !== ':') throw new MongoInvalidArgumentError(`invalid address "${address}"`);
      port = Number(address.slice(close + 2));
    }
  } else {
    const colon = address.lastIndexOf(':');
    if (colon >= 0) {
      host = address.slice(0, colon);
      port = Number(address.slice(colon + 1));
    }
  }
  if (!host || !Number.isInteger(port) || port <= 0 || port > 65535) {
    throw new MongoInvalidArgumentError(`invalid address "${address}"`);
  }
  return { host, port };
}

function hasGuards(options: CommandOptions): boolean {
  return options.signal !== undefined || (options.timeoutMS ?? 0) > 0 || options.socketTimeoutMS !== undefined;
}

/**
 * The reply as monitoring shows it: when the caller asked for some fields raw (e.g. cursor
 * batches kept as BSON for lazy decoding), the fully decoded body, so events and logs look the
 * same whatever the caller's decoding choice.
 */
function reportedReply(message: Reply, body: Document, options: CommandOptions | undefined): Document {
  if (options?.bson?.fieldsAsRaw === undefined || message.opCode !== OpCode.OP_MSG) return body;
  return deserialize(message.bodyBytes);
}

function commandName(cmd: Document): string {
  for (const key in cmd) return key;
  return '';
}

export class Connection {
  readonly id: number;
  /** The pool generation this connection belongs to (the pool may update it once established). */
  generation: number;
  /** `host:port` (or socket path) as given. */
  readonly address: string;
  /** The handshake reply. */
  hello: Document | null = null;
  /** The server answered the handshake with `helloOk: true`: monitor with `hello`. */
  helloOk = false;
  /** The server-side id of this connection (`connectionId` in the hello reply). */
  serverConnectionId: number | null = null;
  /** Set in load-balanced mode from the hello reply. */
  serviceId: ObjectId | undefined = undefined;
  /** The negotiated compressor, or null. */
  compressor: Compressor | null = null;
  maxBsonObjectSize = DEFAULT_MAX_BSON_OBJECT_SIZE;
  maxMessageSizeBytes = DEFAULT_MAX_MESSAGE_SIZE_BYTES;
  maxWriteBatchSize = DEFAULT_MAX_WRITE_BATCH_SIZE;
  maxWireVersion = 0;
  /** performance.now() of the last command start/finish (for idle checks). */
  lastUseTime = performance.now();
  /** True once the connection was destroyed (by us or by the peer). */
  closed = false;
  /** The error that closed the connection, if any. */
  closeError: Error | null = null;

  private readonly socket: net.Socket;
  private readonly reader: MessageReader;
  private readonly serverApi: ServerApi | undefined;
  private readonly zlibLevel: number | undefined;
  private socketTimeoutMS: number;
  private readonly decodeDefaults: DecodeOptions;
  private decodeOptions: DecodeOptions;
  private inHandshake = true;
  private readonly commandMonitor: ((report: CommandReport) => void) | undefined;
  /** Set by connect() once handshake and auth are done: from then on commands are monitored. */
  private established = false;
  /** The request id and body of the last request sent (read by command monitoring). */
  private sentRequestId = 0;
  private sentBody: Document | null = null;

  /** `responseTo` the next reply must carry, or -1 when nothing is expected. */
  private expected = -1;
  /** The server may set moreToCome on replies to the current request. */
  private exhausting = false;
  private resolveReply: ((reply: Reply) => void) | null = null;
  private rejectReply: ((error: Error) => void) | null = null;
  /** Replies of an exhaust stream that arrived before the consumer asked for them. */
  private backlog: Reply[] = [];
  private closeListeners: Array<(error: Error) => void> = [];

  /** Use `connect()`; the constructor only wraps an already connected socket. */
  constructor(socket: net.Socket, options: ConnectionOptions) {
    this.socket = socket;
    this.id = options.id ?? 0;
    this.generation = options.generation ?? 0;
    this.address = options.address;
    this.serverApi = options.serverApi;
    this.zlibLevel = options.zlibCompressionLevel;
    this.socketTimeoutMS = 0; // applied by connect() once the handshake is done
    this.reader = new MessageReader({ maxMessageSizeBytes: DEFAULT_MAX_MESSAGE_SIZE_BYTES });
    this.decodeDefaults = { bson: options.bson, maxMessageSizeBytes: DEFAULT_MAX_MESSAGE_SIZE_BYTES };
    this.decodeOptions = this.decodeDefaults;
    this.commandMonitor = options.commandMonitor;

    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (error: Error) => this.onSocketError(error));
    socket.on('close', () => this.destroy(new MongoNetworkError(`connection to ${this.address} closed`, this.errorOptions())));
    socket.on('timeout', () => this.onSocketTimeout());
  }

  /** Whether a command or an exhaust stream is in flight. */
  get busy(): boolean {
    return this.expected !== -1;
  }

  /** Milliseconds since the connection was last used. */
  get idleTime(): number {
    return performance.now() - this.lastUseTime;
  }

  /** Registers a callback run once when the connection closes (with the reason). */
  onClose(listener: (error: Error) => void): void {
    if (this.closed) listener(this.closeError ?? new MongoNetworkError(`connection to ${this.address} closed`));
    else this.closeListeners.push(listener);
  }

  /**
   * Runs `cmd` on database `db` and resolves with the reply body. Rejects with MongoServerError
   * when the server answers `ok: 0`, with MongoNetworkError/MongoProtocolError (and the
   * connection destroyed) on transport failures.
   */
  async command(db: string, cmd: Document, options?: CommandOptions): Promise<Document> {
    if (this.commandMonitor !== undefined && this.established) return this.monitoredCommand(this.commandMonitor, db, cmd, options);
    const reply = await this.send(db, cmd, options, false);
    return reply === null ? { ok: 1 } : this.replyBody(reply);
  }

  private async monitoredCommand(
    monitor: (report: CommandReport) => void,
    db: string,
    cmd: Document,
    options: CommandOptions | undefined
  ): Promise<Document> {
    const name = commandName(cmd);
    const started = performance.now();
    const report = (phase: CommandReport['phase'], extra: Partial<CommandReport>) =>
      monitor({
        phase,
        requestId: this.sentRequestId,
        databaseName: db,
        commandName: name,
        address: this.address,
        connectionId: this.id,
        serverConnectionId: this.serverConnectionId,
        serviceId: this.serviceId,
        ...extra
      });
    let pending: Promise<Reply> | null;
    try {
      pending = this.send(db, cmd, options, false);
    } catch (error) {
      this.sentRequestId = 0;
      report('started', { command: { ...cmd, $db: db } });
      report('failed', { error: error as Error, duration: performance.now() - started });
      throw error;
    }
    report('started', { command: this.sentBody ?? { ...cmd, $db: db } });
    this.sentBody = null;
    try {
      const message = pending === null ? null : await pending;
      const body = message === null ? { ok: 1 } : this.replyBody(message);
      report('succeeded', { reply: message === null ? body : reportedReply(message, body, options), duration: performance.now() - started });
      return body;
    } catch (error) {
      report('failed', { error: error as Error, duration: performance.now() - started });
      throw error;
    }
  }

  /**
   * Sends `cmd` with `exhaustAllowed` and yields every reply while the server keeps setting
   * `moreToCome` (streaming hello). `signal`, `timeoutMS` and `socketTimeoutMS` apply to the
   * whole stream. Breaking out early destroys the connection, since the server would keep
   * writing to it.
   */
  async *exhaustCommand(db: string, cmd: Document, options?: CommandOptions): AsyncGenerator<Document, void, void> {
    const first = this.send(db, cmd, options, true);
    const release = options && hasGuards(options) ? this.installGuards(options) : null;
    let finished = false;
    try {
      let reply = await first;
      while (reply) {
        const more = reply.opCode === OpCode.OP_MSG && reply.moreToCome;
        if (!more) finished = true;
        yield this.replyBody(reply);
        if (!more) return;
        reply = await this.nextReply();
      }
    } finally {
      release?.();
      if (!finished && !this.closed) {
        this.destroy(new MongoNetworkError(`exhaust stream on ${this.address} was abandoned`));
      }
    }
  }

  /**
   * Closes the socket and rejects whatever is pending with `reason` (default: a
   * MongoNetworkError "connection to host closed"). Idempotent.
   */
  destroy(reason?: Error): void {
    if (this.closed) return;
    this.closed = true;
    const error = reason ?? new MongoNetworkError(`connection to ${this.address} closed`, this.errorOptions());
    this.closeError = error;
    this.expected = -1;
    this.exhausting = false;
    this.backlog = [];
    this.reader.reset();
    this.socket.destroy();
    const reject = this.rejectReply;
    this.resolveReply = null;
    this.rejectReply = null;
    if (reject) reject(error);
    const listeners = this.closeListeners;
    this.closeListeners = [];
    for (const listener of listeners) listener(error);
  }

  /** CMAP "interrupt in-use connection": destroy with `error` (rejects the running command). */
  interrupt(error: Error): void {
    this.destroy(error);
  }

  /** Runs the handshake; called by `connect()`. */
  async handshake(options: ConnectionOptions, signal?: AbortSignal): Promise<Document> {
    const useHello = options.serverApi !== undefined || options.loadBalanced === true;
    let cmd: Document = useHello ? { hello: 1 } : { isMaster: 1 };
    cmd.helloOk = true;
    cmd.backpressure = '2';
    cmd.client = options.metadata ?? makeClientMetadata({ appName: options.appName, driverInfo: options.driverInfo });
    if (options.compressors && options.compressors.length > 0) cmd.compression = [...options.compressors];
    if (options.loadBalanced) cmd.loadBalanced = true;
    if (options.prepareHandshake) cmd = await options.prepareHandshake(cmd);

    const reply = await this.command('admin', cmd, { signal });

    if (options.loadBalanced && reply.serviceId == null) {
      throw new MongoCompatibilityError(
        'Driver attempted to initialize in load balancing mode, but the server does not support this mode.'
      );
    }
    this.hello = reply;
    this.helloOk = reply.helloOk === true;
    this.serviceId = reply.serviceId ?? undefined;
    if (reply.connectionId != null) this.serverConnectionId = Number(reply.connectionId);
    if (reply.maxBsonObjectSize != null) this.maxBsonObjectSize = Number(reply.maxBsonObjectSize);
    if (reply.maxMessageSizeBytes != null) this.maxMessageSizeBytes = Number(reply.maxMessageSizeBytes);
    if (reply.maxWriteBatchSize != null) this.maxWriteBatchSize = Number(reply.maxWriteBatchSize);
    if (reply.maxWireVersion != null) this.maxWireVersion = Number(reply.maxWireVersion);
    const readerMax = Math.max(DEFAULT_MAX_MESSAGE_SIZE_BYTES, this.maxMessageSizeBytes);
    this.reader.maxMessageSizeBytes = readerMax;
    this.decodeDefaults.maxMessageSizeBytes = readerMax;

    const offered = options.compressors ?? [];
    if (Array.isArray(reply.compression)) {
      const agreed = reply.compression.find((c: unknown) => offered.includes(c as Compressor));
      this.compressor = (agreed as Compressor | undefined) ?? null;
    }
    this.inHandshake = false;
    return reply;
  }

  // ---- internals -------------------------------------------------------------------------

  /**
   * Encodes and writes one request. Returns null for a moreToCome request, else the promise of
   * the (first) reply. Throws synchronously when the connection is closed or busy.
   */
  private send(db: string, cmd: Document, options: CommandOptions | undefined, exhaust: boolean): Promise<Reply> | null {
    if (this.closed) {
      throw new MongoNetworkError(`connection to ${this.address} is closed`, { cause: this.closeError ?? undefined });
    }
    if (this.expected !== -1) {
      throw new MongoRuntimeError(`connection to ${this.address} is busy: one command at a time`);
    }
    // Object.assign, not a spread: on Node 20 a spread followed by more properties is much slower
    // (a spread keeps an own `__proto__` key a key, Object.assign would make it the prototype).
    const body: Document = Object.hasOwn(cmd, '__proto__') ? { ...cmd, $db: db } : Object.assign({}, cmd, { $db: db });
    const api = this.serverApi;
    if (api) {
      body.apiVersion = api.version;
      if (api.strict !== undefined) body.apiStrict = api.strict;
      if (api.deprecationErrors !== undefined) body.apiDeprecationErrors = api.deprecationErrors;
    }
    const requestId = nextRequestId();
    this.sentRequestId = requestId;
    if (this.commandMonitor !== undefined) {
      // Command monitoring shows document sequences as arrays in the command (command-logging-and-monitoring spec).
      const sequences = options?.sequences;
      this.sentBody = sequences?.length ? { ...body, ...Object.fromEntries(sequences.map((s) => [s.identifier, s.documents])) } : body;
    }
    const moreToCome = options?.moreToCome === true;
    const exhaustAllowed = exhaust || options?.exhaustAllowed === true;
    let message = encodeOpMsg({ requestId, body, sequences: options?.sequences, moreToCome, exhaustAllowed });
    if (this.compressor !== null && !UNCOMPRESSIBLE_COMMANDS.has(commandName(cmd).toLowerCase())) {
      message = compressMessage(message, this.compressor, this.zlibLevel);
    }
    this.lastUseTime = performance.now();

    if (moreToCome) {
      this.socket.write(message);
      return null;
    }

    this.expected = requestId;
    this.exhausting = exhaustAllowed;
    this.decodeOptions = options?.bson ? { ...this.decodeDefaults, bson: options.bson } : this.decodeDefaults;
    const reply = new Promise<Reply>((resolve, reject) => {
      this.resolveReply = resolve;
      this.rejectReply = reject;
    });
    this.socket.write(message);
    if (!exhaust && options && hasGuards(options)) {
      const release = this.installGuards(options);
      return reply.finally(release);
    }
    return reply;
  }

  /** The next reply of an exhaust stream. */
  private nextReply(): Promise<Reply> {
    const queued = this.backlog.shift();
    if (queued) return Promise.resolve(queued);
    if (this.closed) return Promise.reject(this.closeError ?? new MongoNetworkError(`connection to ${this.address} closed`));
    return new Promise<Reply>((resolve, reject) => {
      this.resolveReply = resolve;
      this.rejectReply = reject;
    });
  }

  /** Applies the optional signal / timeoutMS / socketTimeoutMS; returns the function that removes them. */
  private installGuards(options: CommandOptions): () => void {
    const { signal, timeoutMS, socketTimeoutMS } = options;
    let timer: NodeJS.Timeout | undefined;
    const onAbort = () => {
      const reason: unknown = signal?.reason;
      this.destroy(reason instanceof Error ? reason : new MongoNetworkError(`command on ${this.address} was aborted`));
    };
    if (socketTimeoutMS !== undefined && !this.closed) this.socket.setTimeout(socketTimeoutMS);
    if (timeoutMS && timeoutMS > 0) {
      timer = setTimeout(() => {
        this.destroy(new MongoOperationTimeoutError(`command on ${this.address} timed out after ${timeoutMS}ms`));
      }, timeoutMS);
    }
    if (signal) {
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
    }
    return () => {
      if (timer) clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      if (socketTimeoutMS !== undefined && !this.closed) this.socket.setTimeout(this.socketTimeoutMS);
    };
  }

  /** Called by connect() once the handshake and authentication are done. */
  markEstablished(): void {
    this.established = true;
  }

  /** Sets the socket inactivity timeout used while waiting for replies (0 = none). */
  setSocketTimeout(ms: number): void {
    this.socketTimeoutMS = ms;
    if (!this.closed) this.socket.setTimeout(ms);
  }

  private replyBody(reply: Reply): Document {
    let body: Document;
    if (reply.opCode === OpCode.OP_MSG) {
      body = reply.body;
    } else {
      body = reply.documents[0] ?? {};
      if (reply.responseFlags & QUERY_FAILURE_FLAG) throw new MongoServerError(body);
    }
    const ok: unknown = body.ok;
    if (ok === 0 || ok === false || (typeof ok === 'object' && ok !== null && Number(ok) === 0)) {
      throw new MongoServerError(body);
    }
    return body;
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    let frames: Buffer[];
    try {
      frames = this.reader.push(chunk);
    } catch (error) {
      this.destroy(this.protocolError(error));
      return;
    }
    for (let i = 0; i < frames.length && !this.closed; i++) this.onFrame(frames[i]);
  }

  private onFrame(frame: Buffer): void {
    const responseTo = frame.readInt32LE(8);
    if (responseTo !== this.expected) {
      this.destroy(
        new MongoProtocolError(
          `unexpected reply from ${this.address}: responseTo ${responseTo} matches no pending request` +
            (this.expected === -1 ? '' : ` (expected ${this.expected})`)
        )
      );
      return;
    }
    let message;
    try {
      message = decodeMessage(frame, this.decodeOptions);
    } catch (error) {
      this.destroy(this.protocolError(error));
      return;
    }
    if (message.opCode === OpCode.OP_QUERY) {
      this.destroy(new MongoProtocolError(`unexpected OP_QUERY message from ${this.address}`));
      return;
    }
    if (message.opCode === OpCode.OP_MSG && message.moreToCome) {
      if (!this.exhausting) {
        this.destroy(new MongoProtocolError(`reply from ${this.address} set moreToCome on a request without exhaustAllowed`));
        return;
      }
      this.expected = message.header.requestId;
    } else {
      this.expected = -1;
      this.exhausting = false;
      this.lastUseTime = performance.now();
    }
    const resolve = this.resolveReply;
    if (resolve) {
      this.resolveReply = null;
      this.rejectReply = null;
      resolve(message);
    } else {
      this.backlog.push(message);
    }
  }

  private onSocketError(error: Error): void {
    const what = this.inHandshake ? 'during the handshake' : '';
    this.destroy(
      new MongoNetworkError(`connection to ${this.address} failed${what ? ' ' + what : ''}: ${error.message}`, {
        ...this.errorOptions(),
        cause: error
      })
    );
  }

  private onSocketTimeout(): void {
    // The socket timeout only counts while a reply is awaited; idle pooled sockets are fine.
    if (this.expected === -1) return;
    const ms = this.socket.timeout ?? this.socketTimeoutMS;
    this.destroy(new MongoNetworkTimeoutError(`connection to ${this.address} timed out after ${ms}ms waiting for a reply`, this.errorOptions()));
  }

  private protocolError(error: unknown): MongoError {
    const detail = error instanceof Error ? error.message : String(error);
    return new MongoProtocolError(`invalid message from ${this.address}: ${detail}`, { cause: error });
  }

  private errorOptions(): { beforeHandshake: boolean } {
    return { beforeHandshake: this.inHandshake };
  }
}

// ---- connect ---------------------------------------------------------------------------------

/** Errors that are never caused by server overload (CMAP "backpressure-enabled"). */
function isOverloadCandidate(error: unknown): boolean {
  if (!(error instanceof MongoNetworkError)) return false;
  const cause = error.cause as NodeJS.ErrnoException | undefined;
  const code = cause?.code;
  if (code === undefined) return true; // our own timeouts and "closed" errors
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EAI_NONAME') return false; // DNS
  return /^E[A-Z]+$/.test(code); // system I/O errors; TLS verification errors (ERR_TLS_*, CERT_*) are not
}

async function readTlsFile(label: string, file: string): Promise<Buffer> {
  try {
    return await fs.promises.readFile(file);
  } catch (error) {
    throw new MongoInvalidArgumentError(`cannot read ${label} "${file}": ${(error as Error).message}`, { cause: error });
  }
}

async function tlsOptions(options: ConnectionOptions, host: string): Promise<tls.ConnectionOptions> {
  const result: tls.ConnectionOptions = {};
  if (!net.isIP(host)) result.servername = host;
  if (options.tlsCAFile) result.ca = await readTlsFile('tlsCAFile', options.tlsCAFile);
  if (options.tlsCertificateKeyFile) {
    const pem = await readTlsFile('tlsCertificateKeyFile', options.tlsCertificateKeyFile);
    result.cert = pem;
    result.key = pem;
    if (options.tlsCertificateKeyFilePassword !== undefined) result.passphrase = options.tlsCertificateKeyFilePassword;
  }
  if (options.tlsInsecure || options.tlsAllowInvalidCertificates) result.rejectUnauthorized = false;
  if (options.tlsInsecure || options.tlsAllowInvalidHostnames) result.checkServerIdentity = () => undefined;
  return result;
}

/** Opens the socket; resolves once TCP (and TLS) is established. */
function openSocket(options: ConnectionOptions, tlsConfig: tls.ConnectionOptions | null, signal: AbortSignal): Promise<net.Socket> {
  const { host, port, path } = parseAddress(options.address);
  const address = options.address;
  return new Promise<net.Socket>((resolve, reject) => {
    let socket: net.Socket;
    if (tlsConfig) {
      socket = path ? tls.connect({ ...tlsConfig, path }) : tls.connect({ ...tlsConfig, host, port });
    } else {
      socket = path ? net.createConnection({ path }) : net.createConnection({ host, port });
    }
    const readyEvent = tlsConfig ? 'secureConnect' : 'connect';
    const cleanup = () => {
      socket.removeListener('error', onError);
      socket.removeListener('close', onClose);
      socket.removeListener(readyEvent, onReady);
      signal.removeEventListener('abort', onAbort);
    };
    const fail = (error: Error) => {
      cleanup();
      socket.destroy();
      reject(error);
    };
    const onError = (error: Error) =>
      fail(new MongoNetworkError(`connection to ${address} failed: ${error.message}`, { beforeHandshake: true, cause: error }));
    const onClose = () => fail(new MongoNetworkError(`connection to ${address} closed`, { beforeHandshake: true }));
    const onAbort = () => fail(signal.reason as Error);
    const onReady = () => {
      cleanup();
      socket.setNoDelay(true);
      socket.setKeepAlive(true, options.keepAliveInitialDelayMS ?? DEFAULT_KEEP_ALIVE_INITIAL_DELAY_MS);
      resolve(socket);
    };
    socket.once('error', onError);
    socket.once('close', onClose);
    socket.once(readyEvent, onReady);
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Opens a connection and runs the handshake (and the `authenticate` hook). `connectTimeoutMS`
 * bounds the whole sequence. Network errors during connect/hello carry the
 * `SystemOverloadedError` and `RetryableError` labels (CMAP backpressure), except DNS and TLS
 * verification failures. Any failure destroys the socket.
 */
export async function connect(options: ConnectionOptions): Promise<Connection> {
  const connectTimeoutMS = options.connectTimeoutMS ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const tlsConfig = options.tls || options.tlsInsecure ? await tlsOptions(options, parseAddress(options.address).host) : null;

  const abort = new AbortController();
  let conn: Connection | undefined;
  const external = options.signal;
  const onExternalAbort = () => {
    const reason: unknown = external?.reason;
    const error = reason instanceof Error ? reason : new MongoNetworkError(`connection to ${options.address} was cancelled`);
    abort.abort(error);
    conn?.destroy(error);
  };
  if (external?.aborted) onExternalAbort();
  else external?.addEventListener('abort', onExternalAbort, { once: true });
  const timer =
    connectTimeoutMS > 0
      ? setTimeout(() => {
          const error = new MongoNetworkTimeoutError(`connection to ${options.address} timed out after ${connectTimeoutMS}ms`, {
            beforeHandshake: true
          });
          abort.abort(error);
          conn?.destroy(error);
        }, connectTimeoutMS)
      : undefined;

  let stage: 'connect' | 'auth' = 'connect';
  try {
    const socket = await openSocket(options, tlsConfig, abort.signal);
    conn = new Connection(socket, options);
    const reply = await conn.handshake(options, abort.signal);
    if (options.authenticate) {
      stage = 'auth';
      await options.authenticate(conn, reply);
    }
    if (conn.closed) throw conn.closeError ?? new MongoNetworkError(`connection to ${options.address} closed`);
    if (options.socketTimeoutMS) conn.setSocketTimeout(options.socketTimeoutMS);
    conn.markEstablished();
    return conn;
  } catch (error) {
    conn?.destroy(error instanceof Error ? error : undefined);
    if (stage === 'connect' && !external?.aborted && error instanceof MongoError && isOverloadCandidate(error)) {
      error.addErrorLabel(MongoErrorLabel.SystemOverloadedError);
      error.addErrorLabel(MongoErrorLabel.RetryableError);
    }
    throw error;
  } finally {
    if (timer) clearTimeout(timer);
    external?.removeEventListener('abort', onExternalAbort);
  }
}
