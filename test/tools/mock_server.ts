/**
 * A scripted MongoDB server for tests: a real TCP (or TLS, or Unix socket) listener that speaks
 * OP_MSG and OP_QUERY/OP_REPLY through `src/wire`.
 *
 * - Every command received is recorded (`server.commands()`), with its connection id, db,
 *   body (document sequences merged in as arrays), opCode, requestId and flags.
 * - Replies come from per-command handlers: a static document, or `(request, ctx) => reply`.
 *   `setFallbackHandler` answers every command no handler name matches.
 *   A reply may also be a `MockAction` (see `actions`): close the socket, reset it, write half a
 *   reply, write raw bytes, never answer, or delay any of those.
 * - `hello`/`isMaster` are answered from the server's state (standalone, replica-set member,
 *   mongos) with `topologyVersion`; awaitable hello (`topologyVersion` + `maxAwaitTimeMS`)
 *   waits for a topology change or the timeout, and streams with `moreToCome` when the request
 *   sets `exhaustAllowed`.
 * - `close()` destroys every socket and timer.
 */
import * as net from 'net';
import * as tls from 'tls';
import { Long, ObjectId, type Document } from 'bson';
import {
  CompressorId,
  MessageReader,
  OpCode,
  compressMessage,
  decodeMessage,
  encodeOpMsg,
  encodeOpReply,
  type Compressor,
  type DocumentSequence
} from '../../src/wire';

export type MockServerType = 'standalone' | 'primary' | 'secondary' | 'arbiter' | 'mongos' | 'ghost' | 'other';

/** One command as the server received it. */
export interface RecordedCommand {
  connectionId: number;
  commandName: string;
  db: string;
  /** The command body; kind-1 sequences are merged in as arrays (`documents`, `updates`, …). */
  body: Document;
  sequences: DocumentSequence[];
  opCode: number;
  requestId: number;
  /** The request arrived wrapped in OP_COMPRESSED with this compressor. */
  compressor: Compressor | 'noop' | null;
  moreToCome: boolean;
  exhaustAllowed: boolean;
  /** Date.now() at receipt. */
  time: number;
}

/** What a handler can do instead of answering with a document. */
export class MockAction {
  private constructor(
    readonly kind: 'close' | 'reset' | 'halfReply' | 'raw' | 'rawThenClose' | 'noReply' | 'delay',
    readonly reply?: Document,
    readonly bytes?: Buffer | ((request: RecordedCommand) => Buffer),
    readonly then?: MockReply,
    readonly ms?: number
  ) {}
  /** Close the socket without answering. */
  static close(): MockAction {
    return new MockAction('close');
  }
  /** Reset the socket (RST). */
  static reset(): MockAction {
    return new MockAction('reset');
  }
  /** Write the first half of the encoded reply, then close. */
  static halfReply(reply: Document = { ok: 1 }): MockAction {
    return new MockAction('halfReply', reply);
  }
  /**
   * Write these bytes verbatim (a function receives the request, e.g. to use its requestId);
   * with `thenClose`, close the socket once they are written.
   */
  static raw(bytes: Buffer | ((request: RecordedCommand) => Buffer), thenClose = false): MockAction {
    return new MockAction(thenClose ? 'rawThenClose' : 'raw', undefined, bytes);
  }
  /** Never answer. */
  static noReply(): MockAction {
    return new MockAction('noReply');
  }
  /** Wait `ms`, then perform `then`. */
  static delay(ms: number, then: MockReply): MockAction {
    return new MockAction('delay', undefined, undefined, then, ms);
  }
}
export const actions = MockAction;

export type MockReply = Document | MockAction;

export interface HandlerContext {
  server: MockServer;
  connectionId: number;
  /** Sends an extra unsolicited OP_MSG on this connection (e.g. for exhaust tests). */
  send(body: Document, options?: { responseTo?: number; moreToCome?: boolean }): number;
}

export type MockHandler = MockReply | ((request: RecordedCommand, ctx: HandlerContext) => MockReply | Promise<MockReply>);

/**
 * Consulted before each reply of the default hello (handshake, awaitable and every streamed reply):
 * a reply or action replaces that reply (a streamed exhaust hello then ends), undefined keeps it.
 */
export type HelloInterceptor = (request: RecordedCommand, ctx: HandlerContext) => MockReply | undefined;

/** The state the default `hello` reply is built from. */
export interface MockServerState {
  type: MockServerType;
  setName?: string;
  hosts?: string[];
  passives?: string[];
  arbiters?: string[];
  primary?: string;
  setVersion?: number;
  electionId?: ObjectId;
  tags?: Record<string, string>;
  minWireVersion: number;
  maxWireVersion: number;
  /** Compressors the server accepts. */
  compressors: Compressor[];
  /** Returned as `saslSupportedMechs` when the hello asks for it. */
  saslSupportedMechs?: string[];
  /** Include a `serviceId` (load balancer). */
  loadBalanced?: boolean;
  serviceId?: ObjectId;
  /** Extra/overriding hello fields. */
  helloExtra?: Document;
}

export interface MockServerOptions extends Partial<MockServerState> {
  /** Listen on this Unix socket path instead of TCP. */
  path?: string;
  /** TCP port (default: ephemeral). */
  port?: number;
  /** Serve TLS with this key/cert. */
  tls?: tls.TlsOptions;
  handlers?: Record<string, MockHandler>;
}

interface MockConnection {
  id: number;
  socket: net.Socket;
  closed: boolean;
  closedPromise: Promise<void>;
  /** The request stream is processed in order. */
  queue: Promise<void>;
  /** Active exhaust hello stream (cancelled when the socket closes). */
  streaming: boolean;
}

const COMPRESSOR_NAMES: Record<number, Compressor | 'noop'> = {
  [CompressorId.noop]: 'noop',
  [CompressorId.snappy]: 'snappy',
  [CompressorId.zlib]: 'zlib',
  [CompressorId.zstd]: 'zstd'
};

let mockRequestId = 1_000_000;
const nextMockRequestId = () => (mockRequestId = mockRequestId >= 0x7fffffff ? 1_000_000 : mockRequestId + 1);

export class MockServer {
  /** `127.0.0.1:port`, or the socket path. */
  address = '';
  port = 0;
  readonly path: string | undefined;
  state: MockServerState;
  readonly processId = new ObjectId();
  topologyCounter = 0;
  /** Every command received, in order. */
  readonly records: RecordedCommand[] = [];
  /** See HelloInterceptor (e.g. a `failCommand` fail point on hello applied to monitoring connections). */
  helloInterceptor: HelloInterceptor | undefined;

  private server: net.Server | null = null;
  private readonly tlsOptions: tls.TlsOptions | undefined;
  private readonly handlers = new Map<string, MockHandler>();
  /** Answers every command no handler matches (hello excepted, which keeps its default). */
  private fallbackHandler: MockHandler | undefined;
  private readonly connections = new Map<number, MockConnection>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private topologyWaiters: Array<() => void> = [];
  private nextConnectionId = 1;
  private recordWaiters: Array<() => void> = [];

  constructor(options: MockServerOptions = {}) {
    this.path = options.path;
    this.port = options.port ?? 0;
    this.tlsOptions = options.tls;
    this.state = {
      type: options.type ?? 'standalone',
      setName: options.setName,
      hosts: options.hosts,
      passives: options.passives,
      arbiters: options.arbiters,
      primary: options.primary,
      setVersion: options.setVersion,
      electionId: options.electionId,
      tags: options.tags,
      minWireVersion: options.minWireVersion ?? 0,
      maxWireVersion: options.maxWireVersion ?? 25,
      compressors: options.compressors ?? ['zlib', 'zstd', 'snappy'],
      saslSupportedMechs: options.saslSupportedMechs,
      loadBalanced: options.loadBalanced,
      serviceId: options.serviceId,
      helloExtra: options.helloExtra
    };
    for (const [name, handler] of Object.entries(options.handlers ?? {})) this.handlers.set(name, handler);
  }

  /** Creates and starts a server. */
  static async start(options: MockServerOptions = {}): Promise<MockServer> {
    const server = new MockServer(options);
    await server.listen();
    return server;
  }

  /** Starts listening (again, on the same port/path after `stop()`). */
  async listen(): Promise<void> {
    if (this.server) return;
    const onConnection = (socket: net.Socket) => this.accept(socket);
    const server = this.tlsOptions ? tls.createServer(this.tlsOptions, onConnection) : net.createServer(onConnection);
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      const done = () => {
        server.removeListener('error', reject);
        resolve();
      };
      if (this.path) server.listen(this.path, done);
      else server.listen(this.port, '127.0.0.1', done);
    });
    if (this.path) {
      this.address = this.path;
    } else {
      this.port = (server.address() as net.AddressInfo).port;
      this.address = `127.0.0.1:${this.port}`;
    }
  }

  /** Stops listening and destroys every connection; `listen()` brings it back on the same port. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    for (const conn of this.connections.values()) conn.socket.destroy();
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    const waiters = this.topologyWaiters;
    this.topologyWaiters = [];
    for (const w of waiters) w();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    await Promise.all(Array.from(this.connections.values(), (c) => c.closedPromise));
  }

  /** Stops the server for good. */
  async close(): Promise<void> {
    await this.stop();
  }

  // ---- scripting ----------------------------------------------------------------------------

  /** Replaces the handler for `commandName` (exact name; `hello` also covers `isMaster`/`ismaster` when those have none). */
  setHandler(commandName: string, handler: MockHandler): void {
    this.handlers.set(commandName, handler);
  }

  removeHandler(commandName: string): void {
    this.handlers.delete(commandName);
  }

  /**
   * A catch-all handler for commands that no `setHandler` name matches, instead of the built-in
   * defaults (`defaultHandler`, CommandNotFound for unknown names). `hello`/`isMaster` without a
   * handler of their own still get the default hello; `undefined` removes the fallback.
   */
  setFallbackHandler(handler: MockHandler | undefined): void {
    this.fallbackHandler = handler;
  }

  /** Changes the server state and bumps `topologyVersion.counter` (wakes awaitable hellos). */
  setState(changes: Partial<MockServerState>): void {
    this.state = { ...this.state, ...changes };
    this.bumpTopologyVersion();
  }

  bumpTopologyVersion(): void {
    this.topologyCounter++;
    const waiters = this.topologyWaiters;
    this.topologyWaiters = [];
    for (const w of waiters) w();
  }

  get topologyVersion(): Document {
    return { processId: this.processId, counter: Long.fromNumber(this.topologyCounter) };
  }

  /** The default hello reply for this server's state. */
  helloReply(request?: Document, connectionId = 0): Document {
    const s = this.state;
    const legacy = request ? !('hello' in request) : false;
    const writable = s.type === 'standalone' || s.type === 'primary' || s.type === 'mongos';
    const reply: Document = {};
    if (request?.helloOk) reply.helloOk = true;
    reply[legacy ? 'ismaster' : 'isWritablePrimary'] = writable;
    reply.topologyVersion = this.topologyVersion;
    reply.maxBsonObjectSize = 16 * 1024 * 1024;
    reply.maxMessageSizeBytes = 48_000_000;
    reply.maxWriteBatchSize = 100_000;
    reply.localTime = new Date();
    reply.logicalSessionTimeoutMinutes = 30;
    reply.connectionId = connectionId;
    reply.minWireVersion = s.minWireVersion;
    reply.maxWireVersion = s.maxWireVersion;
    reply.readOnly = false;
    if (s.type === 'mongos') reply.msg = 'isdbgrid';
    if (s.type === 'ghost') reply.isreplicaset = true;
    if (s.type === 'primary' || s.type === 'secondary' || s.type === 'arbiter' || s.type === 'other') {
      reply.setName = s.setName ?? 'rs0';
      reply.setVersion = s.setVersion ?? 1;
      reply.hosts = s.hosts ?? [this.address];
      if (s.passives) reply.passives = s.passives;
      if (s.arbiters) reply.arbiters = s.arbiters;
      if (s.primary) reply.primary = s.primary;
      else if (s.type === 'primary') reply.primary = this.address;
      reply.me = this.address;
      reply.secondary = s.type === 'secondary';
      if (s.type === 'arbiter') reply.arbiterOnly = true;
      if (s.type === 'other') reply.hidden = true;
      if (s.type === 'primary') reply.electionId = s.electionId ?? new ObjectId('7fffffff0000000000000001');
      if (s.tags) reply.tags = s.tags;
      reply.lastWrite = { lastWriteDate: new Date() };
    }
    if (request && Array.isArray(request.compression)) {
      reply.compression = (request.compression as unknown[]).filter((c) => s.compressors.includes(c as Compressor));
    }
    if (request?.saslSupportedMechs !== undefined && s.saslSupportedMechs) reply.saslSupportedMechs = s.saslSupportedMechs;
    if (s.loadBalanced || s.serviceId) reply.serviceId = s.serviceId ?? this.processId;
    Object.assign(reply, s.helloExtra);
    reply.ok = 1;
    return reply;
  }

  // ---- inspection ---------------------------------------------------------------------------

  /** Recorded commands, optionally only those named `name` (case-insensitive for hello aliases). */
  commands(name?: string): RecordedCommand[] {
    if (name === undefined) return [...this.records];
    return this.records.filter((r) => r.commandName === name);
  }

  /** Recorded handshake/monitoring hellos (`hello`, `isMaster`, `ismaster`). */
  hellos(): RecordedCommand[] {
    return this.records.filter((r) => isHelloName(r.commandName));
  }

  /** Commands other than hellos. */
  nonHelloCommands(): RecordedCommand[] {
    return this.records.filter((r) => !isHelloName(r.commandName));
  }

  lastCommand(name?: string): RecordedCommand | undefined {
    const list = this.commands(name);
    return list[list.length - 1];
  }

  clearRecords(): void {
    this.records.length = 0;
  }

  /** Resolves once a command named `name` has been received (or rejects after `timeoutMS`). */
  async waitForCommand(name: string, timeoutMS = 5000): Promise<RecordedCommand> {
    const deadline = Date.now() + timeoutMS;
    for (;;) {
      const found = this.lastCommand(name);
      if (found) return found;
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new Error(`mock server never received "${name}"`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, remaining);
        function done() {
          clearTimeout(timer);
          resolve();
        }
        this.recordWaiters.push(done);
      });
    }
  }

  /** Ids of connections ever accepted (closed ones included). */
  connectionIds(): number[] {
    return Array.from({ length: this.nextConnectionId - 1 }, (_, i) => i + 1);
  }

  /** Connections currently open. */
  get openConnectionCount(): number {
    let n = 0;
    for (const c of this.connections.values()) if (!c.closed) n++;
    return n;
  }

  isConnectionClosed(connectionId: number): boolean {
    return this.connections.get(connectionId)?.closed ?? true;
  }

  /** Resolves when the given connection (default: the latest) has been closed by either side. */
  async waitForConnectionClose(connectionId?: number): Promise<void> {
    const id = connectionId ?? this.nextConnectionId - 1;
    await this.connections.get(id)?.closedPromise;
  }

  /** The TLS client certificate presented on a connection, or undefined (no TLS, no certificate). */
  peerCertificate(connectionId: number): tls.PeerCertificate | undefined {
    const socket = this.connections.get(connectionId)?.socket;
    if (!(socket instanceof tls.TLSSocket)) return undefined;
    const cert = socket.getPeerCertificate();
    return cert && Object.keys(cert).length > 0 ? cert : undefined;
  }

  /** Writes raw bytes on a connection (default: the latest). */
  injectRaw(bytes: Buffer, connectionId?: number): void {
    const id = connectionId ?? this.nextConnectionId - 1;
    this.connections.get(id)?.socket.write(bytes);
  }

  /** Destroys one connection (default: the latest) from the server side. */
  dropConnection(connectionId?: number): void {
    const id = connectionId ?? this.nextConnectionId - 1;
    this.connections.get(id)?.socket.destroy();
  }

  // ---- internals ----------------------------------------------------------------------------

  private accept(socket: net.Socket): void {
    const id = this.nextConnectionId++;
    let markClosed!: () => void;
    const conn: MockConnection = {
      id,
      socket,
      closed: false,
      closedPromise: new Promise<void>((resolve) => (markClosed = resolve)),
      queue: Promise.resolve(),
      streaming: false
    };
    this.connections.set(id, conn);
    const reader = new MessageReader();
    socket.setNoDelay(true);
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      conn.closed = true;
      // Forget closed connections (long runs churn through many); ids stay sequential.
      this.connections.delete(id);
      markClosed();
      // Wake any awaitable hello parked on this connection so it notices.
      this.bumpWaitersOnly();
    });
    socket.on('data', (chunk: Buffer) => {
      let frames: Buffer[];
      try {
        frames = reader.push(chunk);
      } catch {
        socket.destroy();
        return;
      }
      for (const frame of frames) {
        conn.queue = conn.queue.then(() => this.handleFrame(conn, frame)).catch(() => void socket.destroy());
      }
    });
  }

  private bumpWaitersOnly(): void {
    const waiters = this.topologyWaiters;
    this.topologyWaiters = [];
    for (const w of waiters) w();
  }

  private async handleFrame(conn: MockConnection, frame: Buffer): Promise<void> {
    if (conn.closed) return;
    const outerOpCode = frame.readInt32LE(12);
    const compressor = outerOpCode === OpCode.OP_COMPRESSED ? (COMPRESSOR_NAMES[frame[24]] ?? null) : null;
    const message = decodeMessage(frame);
    let record: RecordedCommand;
    if (message.opCode === OpCode.OP_MSG) {
      const body: Document = { ...message.body };
      for (const seq of message.sequences) body[seq.identifier] = [...((body[seq.identifier] as Document[]) ?? []), ...seq.documents];
      record = {
        connectionId: conn.id,
        commandName: firstKey(message.body),
        db: String(message.body.$db ?? ''),
        body,
        sequences: message.sequences,
        opCode: OpCode.OP_MSG,
        requestId: message.header.requestId,
        compressor,
        moreToCome: message.moreToCome,
        exhaustAllowed: message.exhaustAllowed,
        time: Date.now()
      };
    } else if (message.opCode === OpCode.OP_QUERY) {
      const query = message.query.$query && typeof message.query.$query === 'object' ? (message.query.$query as Document) : message.query;
      record = {
        connectionId: conn.id,
        commandName: firstKey(query),
        db: message.fullCollectionName.replace(/\.\$cmd$/, ''),
        body: query,
        sequences: [],
        opCode: OpCode.OP_QUERY,
        requestId: message.header.requestId,
        compressor,
        moreToCome: false,
        exhaustAllowed: false,
        time: Date.now()
      };
    } else {
      conn.socket.destroy();
      return;
    }
    this.records.push(record);
    const waiters = this.recordWaiters;
    this.recordWaiters = [];
    for (const w of waiters) w();

    const ctx: HandlerContext = {
      server: this,
      connectionId: conn.id,
      send: (body, options) => {
        const requestId = nextMockRequestId();
        conn.socket.write(encodeOpMsg({ requestId, responseTo: options?.responseTo ?? 0, body, moreToCome: options?.moreToCome }));
        return requestId;
      }
    };

    const handler = this.handlerFor(record.commandName);
    if (handler === undefined && isHelloName(record.commandName)) {
      await this.answerHello(conn, record, compressor, ctx);
      return;
    }
    const reply = await resolveHandler(handler ?? defaultHandler, record, ctx);
    if (record.moreToCome) return; // fire-and-forget request: never answered
    await this.perform(conn, record, reply, compressor);
  }

  private handlerFor(name: string): MockHandler | undefined {
    const exact = this.handlers.get(name);
    if (exact !== undefined) return exact;
    if (isHelloName(name)) {
      for (const alias of ['hello', 'isMaster', 'ismaster']) {
        const h = this.handlers.get(alias);
        if (h !== undefined) return h;
      }
      return undefined;
    }
    return this.fallbackHandler;
  }

  /** Default hello: immediate, awaitable, or streaming (exhaust). */
  private async answerHello(conn: MockConnection, record: RecordedCommand, compressor: Compressor | 'noop' | null, ctx: HandlerContext): Promise<void> {
    const body = record.body;
    const awaitable = body.topologyVersion != null && body.maxAwaitTimeMS != null;
    const reply = (): MockReply => this.helloInterceptor?.(record, ctx) ?? this.helloReply(body, conn.id);
    if (!awaitable) {
      await this.perform(conn, record, reply(), compressor);
      return;
    }
    const clientTv = body.topologyVersion as Document;
    let knownCounter = Number(clientTv.counter);
    const sameProcess = String(clientTv.processId) === this.processId.toHexString();
    const maxAwait = Number(body.maxAwaitTimeMS);
    if (sameProcess && this.topologyCounter <= knownCounter) await this.waitForTopologyChange(conn, maxAwait, knownCounter);
    if (conn.closed) return;
    if (!record.exhaustAllowed) {
      await this.perform(conn, record, reply(), compressor);
      return;
    }
    // Streaming: keep replying with moreToCome until the connection goes away.
    let responseTo = record.requestId;
    conn.streaming = true;
    while (!conn.closed && this.server) {
      const intercepted = this.helloInterceptor?.(record, ctx);
      if (intercepted !== undefined) {
        conn.streaming = false;
        await this.perform(conn, { ...record, requestId: responseTo }, intercepted, compressor);
        return;
      }
      const requestId = nextMockRequestId();
      const reply = this.helloReply(body, conn.id);
      conn.socket.write(encodeOpMsg({ requestId, responseTo, body: reply, moreToCome: true }));
      responseTo = requestId;
      knownCounter = this.topologyCounter;
      await this.waitForTopologyChange(conn, maxAwait, knownCounter);
    }
  }

  private waitForTopologyChange(conn: MockConnection, maxAwaitMS: number, knownCounter: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, maxAwaitMS);
      this.timers.add(timer);
      const self = this;
      function done() {
        clearTimeout(timer);
        self.timers.delete(timer);
        self.topologyWaiters = self.topologyWaiters.filter((w) => w !== check);
        resolve();
      }
      function check() {
        if (conn.closed || !self.server || self.topologyCounter > knownCounter) done();
        else self.topologyWaiters.push(check);
      }
      this.topologyWaiters.push(check);
    });
  }

  private async perform(conn: MockConnection, record: RecordedCommand, reply: MockReply, compressor: Compressor | 'noop' | null): Promise<void> {
    if (conn.closed) return;
    if (!(reply instanceof MockAction)) {
      conn.socket.write(this.encodeReply(record, reply, compressor));
      return;
    }
    switch (reply.kind) {
      case 'close':
        conn.socket.destroy();
        return;
      case 'reset':
        conn.socket.resetAndDestroy();
        return;
      case 'halfReply': {
        const bytes = this.encodeReply(record, reply.reply ?? { ok: 1 }, null);
        conn.socket.write(bytes.subarray(0, Math.floor(bytes.length / 2)), () => conn.socket.destroy());
        return;
      }
      case 'raw':
      case 'rawThenClose': {
        const bytes = typeof reply.bytes === 'function' ? reply.bytes(record) : (reply.bytes ?? Buffer.alloc(0));
        if (reply.kind === 'raw') conn.socket.write(bytes);
        else conn.socket.write(bytes, () => conn.socket.destroy());
        return;
      }
      case 'noReply':
        return;
      case 'delay': {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(() => {
            this.timers.delete(timer);
            resolve();
          }, reply.ms ?? 0);
          this.timers.add(timer);
          conn.closedPromise.then(() => {
            clearTimeout(timer);
            this.timers.delete(timer);
            resolve();
          });
        });
        await this.perform(conn, record, reply.then ?? { ok: 1 }, compressor);
        return;
      }
    }
  }

  private encodeReply(record: RecordedCommand, reply: Document, compressor: Compressor | 'noop' | null): Buffer {
    const requestId = nextMockRequestId();
    const encoded =
      record.opCode === OpCode.OP_QUERY
        ? encodeOpReply({ requestId, responseTo: record.requestId, documents: [reply] })
        : encodeOpMsg({ requestId, responseTo: record.requestId, body: reply });
    return compressor && compressor !== 'noop' ? compressMessage(encoded, compressor) : encoded;
  }
}

function firstKey(doc: Document): string {
  for (const key in doc) return key;
  return '';
}

export function isHelloName(name: string): boolean {
  return name === 'hello' || name === 'isMaster' || name === 'ismaster';
}

async function resolveHandler(handler: MockHandler, record: RecordedCommand, ctx: HandlerContext): Promise<MockReply> {
  return typeof handler === 'function' ? await handler(record, ctx) : handler;
}

/** An `ok: 0` reply. */
export function errorReply(code: number, errmsg = `mock error ${code}`, extra: Document = {}): Document {
  return { ok: 0, errmsg, code, codeName: extra.codeName ?? `MockError${code}`, ...extra };
}

/** Sensible answers for common commands; anything else is CommandNotFound. */
export function defaultHandler(request: RecordedCommand): MockReply {
  const body = request.body;
  const ns = (coll: unknown) => `${request.db}.${String(coll)}`;
  switch (request.commandName) {
    case 'ping':
    case 'endSessions':
    case 'commitTransaction':
    case 'abortTransaction':
    case 'logout':
    case 'drop':
    case 'dropDatabase':
    case 'create':
    case 'createIndexes':
    case 'dropIndexes':
    case 'configureFailPoint':
      return { ok: 1 };
    case 'buildInfo':
    case 'buildinfo':
      return { version: '8.0.0', versionArray: [8, 0, 0, 0], bits: 64, maxBsonObjectSize: 16 * 1024 * 1024, ok: 1 };
    case 'serverStatus':
      return { host: 'mock', version: '8.0.0', process: 'mongod', uptime: 1, ok: 1 };
    case 'find':
    case 'aggregate':
    case 'listIndexes':
      return { cursor: { id: Long.ZERO, ns: ns(body[request.commandName]), firstBatch: [] }, ok: 1 };
    case 'listCollections':
      return { cursor: { id: Long.ZERO, ns: `${request.db}.$cmd.listCollections`, firstBatch: [] }, ok: 1 };
    case 'listDatabases':
      return { databases: [], totalSize: 0, ok: 1 };
    case 'getMore':
      return { cursor: { id: Long.ZERO, ns: ns(body.collection), nextBatch: [] }, ok: 1 };
    case 'killCursors':
      return { cursorsKilled: body.cursors ?? [], cursorsNotFound: [], cursorsAlive: [], cursorsUnknown: [], ok: 1 };
    case 'insert':
      return { n: Array.isArray(body.documents) ? body.documents.length : 0, ok: 1 };
    case 'update':
      return { n: 0, nModified: 0, ok: 1 };
    case 'delete':
      return { n: 0, ok: 1 };
    case 'count':
      return { n: 0, ok: 1 };
    case 'distinct':
      return { values: [], ok: 1 };
    case 'findAndModify':
      return { lastErrorObject: { n: 0, updatedExisting: false }, value: null, ok: 1 };
    default:
      return errorReply(59, `no such command: '${request.commandName}'`, { codeName: 'CommandNotFound' });
  }
}
