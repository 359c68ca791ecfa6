/**
 * Fuzz targets shared by the short runs inside `npm test` (test/fuzz/*.test.ts) and the long run
 * of `scripts/fuzz.ts`. Each target is a fast-check property: random and mutated inputs go in;
 * the only acceptable outcomes are a result or a `MongoError` subclass, within a time budget.
 *
 * - wire: `decodeMessage` on random frames and mutated valid frames (OP_MSG with sequences and
 *   checksums, OP_REPLY, OP_QUERY, OP_COMPRESSED zlib/zstd); `MessageReader` on random chunkings.
 * - uri: `parseConnectionString` on grammar-built and mutated URIs; `parseOptions` with a stub
 *   SRV resolver serving random SRV/TXT records.
 * - replies: a Unix-socket server answers a real `Connection`'s command with random/mutated
 *   bytes and closes; the command must settle with a reply or a MongoError, and a failed
 *   connection must be closed.
 */
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import fc from 'fast-check';
import { Long, type Document } from 'bson';
import { MongoError, MongoNetworkError, MongoProtocolError } from '../../src/errors';
import {
  MessageReader,
  availableCompressors,
  compressMessage,
  decodeMessage,
  encodeOpMsg,
  encodeOpQuery,
  encodeOpReply
} from '../../src/wire';
import { parseConnectionString, parseOptions } from '../../src/connection_string';
import type { SrvResolver } from '../../src/srv';
import { Connection } from '../../src/pool/connection';

/** A case whose outcome broke the contract. */
export interface Finding {
  target: string;
  kind: 'non-typed exception' | 'hang' | 'slow' | 'connection left open' | 'crash';
  detail: string;
  input: string;
}

export interface TargetStats {
  target: string;
  cases: number;
  ms: number;
  /** Outcome counts, e.g. `ok`, `MongoProtocolError`. */
  outcomes: Record<string, number>;
  findings: Finding[];
}

function outcomeName(error: unknown): string {
  return error instanceof MongoError ? error.name : 'ok';
}

function describeInput(input: unknown): string {
  if (Buffer.isBuffer(input)) return `hex:${input.toString('hex').slice(0, 4000)}`;
  if (Array.isArray(input)) return JSON.stringify(input.map((x) => (Buffer.isBuffer(x) ? x.toString('hex') : x))).slice(0, 4000);
  return JSON.stringify(input)?.slice(0, 4000) ?? String(input);
}

function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}\n${error.stack ?? ''}`.slice(0, 2000);
  return String(error);
}

// ------------------------------------------------------------------------------ seeds and mutations

const SAMPLE_DOCS: Document[] = [
  { ok: 1 },
  { hello: 1, $db: 'admin', client: { driver: { name: 'mongowire', version: '0' } } },
  { insert: 'c', $db: 'db', ordered: true, lsid: { id: Buffer.alloc(16, 7) }, txnNumber: Long.fromNumber(3) },
  { cursor: { id: Long.fromNumber(0), ns: 'db.c', firstBatch: [{ _id: 1, a: 'x', b: [1, 2, { c: null }] }] }, ok: 1 },
  { ok: 0, errmsg: 'not primary', code: 10107, codeName: 'NotWritablePrimary', errorLabels: ['RetryableWriteError'] },
  { n: 1, nested: { deep: { deeper: { s: 'é✓', d: new Date(0), r: /x/i } } }, ok: 1 }
];

/** Valid frames of every message kind the codec knows. */
export function seedFrames(): Buffer[] {
  const frames: Buffer[] = [];
  let id = 1;
  for (const body of SAMPLE_DOCS) {
    frames.push(encodeOpMsg({ requestId: id++, responseTo: 7, body }));
    frames.push(encodeOpMsg({ requestId: id++, responseTo: 7, body, checksum: true }));
    frames.push(encodeOpReply({ requestId: id++, responseTo: 7, documents: [body] }));
    frames.push(encodeOpQuery({ requestId: id++, fullCollectionName: 'admin.$cmd', query: body }));
  }
  frames.push(
    encodeOpMsg({
      requestId: id++,
      responseTo: 7,
      body: { insert: 'c', $db: 'db' },
      sequences: [{ identifier: 'documents', documents: [{ _id: 1 }, { _id: 2, x: 'y' }] }],
      moreToCome: true
    })
  );
  for (const compressor of availableCompressors()) {
    frames.push(compressMessage(encodeOpMsg({ requestId: id++, responseTo: 7, body: SAMPLE_DOCS[3] }), compressor));
  }
  return frames;
}

/** One mutation step. */
type Mutation =
  | { op: 'flip'; at: number; bit: number }
  | { op: 'set'; at: number; value: number }
  | { op: 'int32'; at: number; value: number }
  | { op: 'truncate'; at: number }
  | { op: 'insert'; at: number; bytes: Uint8Array }
  | { op: 'delete'; at: number; count: number };

const INTERESTING_INT32 = [0, 1, -1, 4, 5, 16, 20, 21, 0x7f, 0x80, 0xff, 0x7fffffff, -0x80000000, 48_000_000, 16 * 1024 * 1024, 2012, 2013, 1, 2004];

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('flip' as const), at: fc.nat(), bit: fc.nat(7) }),
  fc.record({ op: fc.constant('set' as const), at: fc.nat(), value: fc.nat(255) }),
  fc.record({ op: fc.constant('int32' as const), at: fc.nat(), value: fc.oneof(fc.constantFrom(...INTERESTING_INT32), fc.integer()) }),
  fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ maxLength: 16 }) }),
  fc.record({ op: fc.constant('delete' as const), at: fc.nat(), count: fc.integer({ min: 1, max: 16 }) })
);

export function mutate(seed: Buffer, mutations: Mutation[]): Buffer {
  let buf = Buffer.from(seed);
  for (const m of mutations) {
    if (buf.length === 0 && m.op !== 'insert') continue;
    const at = buf.length === 0 ? 0 : m.at % buf.length;
    switch (m.op) {
      case 'flip':
        buf[at] ^= 1 << m.bit;
        break;
      case 'set':
        buf[at] = m.value;
        break;
      case 'int32':
        if (at + 4 <= buf.length) buf.writeInt32LE(m.value | 0, at);
        break;
      case 'truncate':
        buf = buf.subarray(0, at);
        break;
      case 'insert':
        buf = Buffer.concat([buf.subarray(0, at), Buffer.from(m.bytes), buf.subarray(at)]);
        break;
      case 'delete':
        buf = Buffer.concat([buf.subarray(0, at), buf.subarray(at + m.count)]);
        break;
    }
  }
  return buf;
}

/** Sets the header's messageLength to the buffer's length (so parsing goes past the header). */
function fixLength(buf: Buffer): Buffer {
  if (buf.length >= 4) buf.writeInt32LE(buf.length, 0);
  return buf;
}

/** Random frames: raw bytes, or mutated seeds, with the length field fixed most of the time. */
export function frameArb(): fc.Arbitrary<Buffer> {
  const seeds = seedFrames();
  const mutated = fc
    .tuple(fc.constantFrom(...seeds), fc.array(mutationArb, { minLength: 1, maxLength: 6 }), fc.boolean(), fc.boolean())
    .map(([seed, ms, fix, fixInner]) => {
      const buf = mutate(seed, ms);
      // For OP_COMPRESSED, also fix the uncompressed size sometimes so decompression is reached.
      if (fixInner && buf.length >= 25 && buf.readInt32LE(12) === 2012) buf.writeInt32LE(Math.max(0, buf.length * 4), 20);
      return fix ? fixLength(buf) : buf;
    });
  const headered = fc
    .tuple(fc.constantFrom(1, 2004, 2012, 2013, 0, 9999), fc.uint8Array({ maxLength: 300 }), fc.integer(), fc.integer())
    .map(([opCode, rest, requestId, responseTo]) => {
      const buf = Buffer.alloc(16 + rest.length);
      buf.writeInt32LE(buf.length, 0);
      buf.writeInt32LE(requestId | 0, 4);
      buf.writeInt32LE(responseTo | 0, 8);
      buf.writeInt32LE(opCode, 12);
      Buffer.from(rest).copy(buf, 16);
      return buf;
    });
  const opMsgBody = fc
    .tuple(fc.integer(), fc.uint8Array({ maxLength: 200 }))
    .map(([flags, tail]) => fixLength(Buffer.concat([Buffer.alloc(16), int32(flags | 0), Buffer.from([0]), docish(tail)])))
    .map((buf) => {
      buf.writeInt32LE(2013, 12);
      return buf;
    });
  const raw = fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a));
  return fc.oneof(
    { arbitrary: mutated, weight: 6 },
    { arbitrary: headered, weight: 2 },
    { arbitrary: opMsgBody, weight: 2 },
    { arbitrary: raw, weight: 1 },
    { arbitrary: fc.constantFrom(...seeds).map((s) => Buffer.from(s)), weight: 1 }
  );
}

function int32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32LE(n, 0);
  return b;
}

/** Bytes that start like a BSON document (length prefix), then random content. */
function docish(tail: Uint8Array): Buffer {
  return Buffer.concat([int32(tail.length + 5), Buffer.from(tail), Buffer.from([0])]);
}

// ------------------------------------------------------------------------------ target: decodeMessage

export function decodeProperty(findings: Finding[], outcomes: Record<string, number>): fc.IPropertyWithHooks<[Buffer]> {
  return fc.property(frameArb(), (frame) => {
    const started = performance.now();
    let outcome = 'ok';
    try {
      decodeMessage(frame, { maxMessageSizeBytes: 48_000_000 });
    } catch (error) {
      if (!(error instanceof MongoError)) {
        findings.push({ target: 'decodeMessage', kind: 'non-typed exception', detail: describeError(error), input: describeInput(frame) });
      }
      outcome = outcomeName(error);
    }
    outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
    const ms = performance.now() - started;
    if (ms > 1000) findings.push({ target: 'decodeMessage', kind: 'slow', detail: `${ms.toFixed(0)} ms`, input: describeInput(frame) });
  });
}

// ------------------------------------------------------------------------------ target: MessageReader

/** A stream of frames (valid and mutated) cut into random chunks. */
export function chunkedStreamArb(): fc.Arbitrary<{ stream: Buffer; cuts: number[] }> {
  return fc
    .tuple(fc.array(frameArb(), { minLength: 1, maxLength: 4 }), fc.array(fc.nat(), { maxLength: 12 }))
    .map(([frames, cuts]) => ({ stream: Buffer.concat(frames), cuts }));
}

export function readerProperty(findings: Finding[], outcomes: Record<string, number>): fc.IPropertyWithHooks<[{ stream: Buffer; cuts: number[] }]> {
  return fc.property(chunkedStreamArb(), ({ stream, cuts }) => {
    const reader = new MessageReader({ maxMessageSizeBytes: 48_000_000 });
    const points = [...new Set(cuts.map((c) => (stream.length === 0 ? 0 : c % stream.length)))].sort((a, b) => a - b);
    let outcome = 'ok';
    let frames = 0;
    try {
      let prev = 0;
      for (const p of [...points, stream.length]) {
        const chunk = stream.subarray(prev, p);
        prev = p;
        if (chunk.length === 0) continue;
        for (const frame of reader.push(chunk)) {
          frames++;
          // Every frame handed out is exactly as long as its header says.
          if (frame.length < 16 || frame.readInt32LE(0) !== frame.length) {
            findings.push({ target: 'MessageReader', kind: 'crash', detail: `frame of ${frame.length} bytes with length field ${frame.length >= 4 ? frame.readInt32LE(0) : 'n/a'}`, input: describeInput(stream) });
          }
          try {
            decodeMessage(frame);
          } catch (error) {
            if (!(error instanceof MongoError)) {
              findings.push({ target: 'MessageReader+decode', kind: 'non-typed exception', detail: describeError(error), input: describeInput(frame) });
            }
          }
        }
      }
    } catch (error) {
      if (!(error instanceof MongoError)) {
        findings.push({ target: 'MessageReader', kind: 'non-typed exception', detail: describeError(error), input: describeInput({ stream: stream.toString('hex'), cuts }) });
      }
      outcome = outcomeName(error);
    }
    if (outcome === 'ok') outcome = frames > 0 ? 'ok (frames)' : 'ok (partial)';
    outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
  });
}

// ------------------------------------------------------------------------------ target: connection strings

const OPTION_NAMES = [
  'replicaSet', 'tls', 'ssl', 'tlsCAFile', 'tlsInsecure', 'tlsAllowInvalidCertificates', 'tlsAllowInvalidHostnames', 'tlsCertificateKeyFile',
  'tlsCertificateKeyFilePassword', 'connectTimeoutMS', 'socketTimeoutMS', 'maxPoolSize', 'minPoolSize', 'maxIdleTimeMS', 'waitQueueTimeoutMS',
  'w', 'wtimeoutMS', 'journal', 'readConcernLevel', 'readPreference', 'readPreferenceTags', 'maxStalenessSeconds', 'authSource',
  'authMechanism', 'authMechanismProperties', 'appName', 'compressors', 'zlibCompressionLevel', 'retryWrites', 'retryReads',
  'directConnection', 'loadBalanced', 'srvMaxHosts', 'srvServiceName', 'heartbeatFrequencyMS', 'serverSelectionTimeoutMS',
  'localThresholdMS', 'timeoutMS', 'serverMonitoringMode', 'maxConnecting', 'uuidRepresentation', 'proxyHost', 'proxyPort'
];
const OPTION_VALUES = [
  'true', 'false', '0', '-1', '1', '99999999999999999999', 'majority', 'primary', 'secondaryPreferred', 'nearest', 'dc:ny,rack:1', '',
  'SCRAM-SHA-256', 'MONGODB-X509', 'MONGODB-AWS', 'GSSAPI', 'PLAIN', 'MONGODB-OIDC', 'SERVICE_NAME:other,CANONICALIZE_HOST_NAME:true',
  'zlib,snappy,zstd', 'local', 'snapshot', '%', '%zz', '%00', 'stream', 'poll', 'auto', '1e3', '0x10', 'NaN', 'Infinity', '∞', '\u0000'
];
const SPECIAL = ['@', '/', ':', '?', '&', '=', '%', ',', '[', ']', '.', ';', '#', ' ', '%40', '%2F', '%3A', '\u0000', '\uD800', 'é'];

const hostArb = fc.oneof(
  fc.constantFrom('localhost', '127.0.0.1', '[::1]', 'a.example.com', 'cluster0.example.com', '/tmp/mongodb-27017.sock', '%2Ftmp%2Fm.sock', '[::1', 'h_o-st', ''),
  fc.domain(),
  fc.ipV4(),
  fc.ipV6().map((ip) => `[${ip}]`)
);
const portArb = fc.oneof(fc.constant(''), fc.integer({ min: -1, max: 70000 }).map((p) => `:${p}`), fc.constantFrom(':', ':abc', ':0', ':65535', ':27017x'));
const userinfoArb = fc.oneof(
  fc.constant(''),
  fc.tuple(fc.string({ maxLength: 8 }), fc.option(fc.string({ maxLength: 8 }))).map(([u, p]) => (p === null ? `${u}@` : `${u}:${p}@`)),
  fc.tuple(fc.webSegment(), fc.webSegment()).map(([u, p]) => `${encodeURIComponent(u)}:${encodeURIComponent(p)}@`)
);
const optionArb = fc.tuple(fc.oneof(fc.constantFrom(...OPTION_NAMES), fc.string({ maxLength: 10 })), fc.oneof(fc.constantFrom(...OPTION_VALUES), fc.string({ maxLength: 12 })));

export function uriArb(): fc.Arbitrary<string> {
  const grammar = fc
    .tuple(
      fc.constantFrom('mongodb://', 'mongodb+srv://', 'mongodb:/', 'MONGODB://', 'mongodb+srv:/', 'http://', ''),
      userinfoArb,
      fc.array(fc.tuple(hostArb, portArb).map(([h, p]) => h + p), { minLength: 0, maxLength: 3 }).map((hs) => hs.join(',')),
      fc.oneof(fc.constant(''), fc.constant('/'), fc.webSegment().map((s) => `/${s}`), fc.constantFrom('/a.b', '/a$b', '/%2F')),
      fc.oneof(
        fc.constant(''),
        fc.tuple(fc.array(optionArb, { maxLength: 5 }), fc.constantFrom('&', ';')).map(([opts, sep]) => '?' + opts.map(([k, v]) => `${k}=${v}`).join(sep))
      )
    )
    .map((parts) => parts.join(''));
  const mutatedUri = fc
    .tuple(grammar, fc.array(fc.tuple(fc.nat(), fc.constantFrom(...SPECIAL), fc.boolean()), { maxLength: 4 }))
    .map(([uri, edits]) => {
      let s = uri;
      for (const [at, text, del] of edits) {
        const i = s.length === 0 ? 0 : at % s.length;
        s = del ? s.slice(0, i) + s.slice(i + 1) : s.slice(0, i) + text + s.slice(i);
      }
      return s;
    });
  return fc.oneof({ arbitrary: grammar, weight: 4 }, { arbitrary: mutatedUri, weight: 4 }, { arbitrary: fc.string({ maxLength: 80 }), weight: 1 }, { arbitrary: fc.string({ unit: 'binary', maxLength: 60 }).map((s) => `mongodb://${s}`), weight: 1 });
}

export function uriProperty(findings: Finding[], outcomes: Record<string, number>): fc.IPropertyWithHooks<[string]> {
  return fc.property(uriArb(), (uri) => {
    const started = performance.now();
    let outcome = 'ok';
    try {
      parseConnectionString(uri);
    } catch (error) {
      if (!(error instanceof MongoError)) {
        findings.push({ target: 'parseConnectionString', kind: 'non-typed exception', detail: describeError(error), input: describeInput(uri) });
      }
      outcome = outcomeName(error);
    }
    outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
    const ms = performance.now() - started;
    if (ms > 1000) findings.push({ target: 'parseConnectionString', kind: 'slow', detail: `${ms.toFixed(0)} ms`, input: describeInput(uri) });
  });
}

/** A stub SRV resolver serving fuzzed records (or failing). */
const resolverArb: fc.Arbitrary<{ srv: Array<{ name: string; port: number }> | 'fail'; txt: string[][] | 'fail' }> = fc.record({
  srv: fc.oneof(
    fc.constant('fail' as const),
    fc.array(
      fc.record({
        name: fc.oneof(fc.constantFrom('a.example.com', 'b.example.com.', 'evil.com', 'example.com', 'x.cluster0.example.com', ''), fc.domain(), fc.string({ maxLength: 20 })),
        port: fc.oneof(fc.integer({ min: 0, max: 70000 }), fc.constantFrom(27017, -1, NaN))
      }),
      { maxLength: 4 }
    )
  ),
  txt: fc.oneof(
    fc.constant('fail' as const),
    fc.array(fc.array(fc.oneof(fc.constantFrom('replicaSet=rs0', 'authSource=admin', 'loadBalanced=true', 'ssl=false', 'w=1', 'replicaSet=rs0&authSource=x'), fc.string({ maxLength: 30 })), { maxLength: 3 }), { maxLength: 3 })
  )
});

function stubResolver(spec: { srv: Array<{ name: string; port: number }> | 'fail'; txt: string[][] | 'fail' }): SrvResolver {
  return {
    resolveSrv: async () => {
      if (spec.srv === 'fail') throw Object.assign(new Error('queryTxt ENOTFOUND'), { code: 'ENOTFOUND' });
      return spec.srv;
    },
    resolveTxt: async () => {
      if (spec.txt === 'fail') throw Object.assign(new Error('queryTxt ENODATA'), { code: 'ENODATA' });
      return spec.txt;
    }
  };
}

export function parseOptionsProperty(findings: Finding[], outcomes: Record<string, number>): fc.IAsyncPropertyWithHooks<[string, { srv: Array<{ name: string; port: number }> | 'fail'; txt: string[][] | 'fail' }]> {
  const srvUri = fc.oneof(uriArb(), uriArb().map((u) => u.replace(/^[a-zA-Z+]*:\/\/?/, 'mongodb+srv://')), fc.constantFrom('mongodb+srv://cluster0.example.com/', 'mongodb+srv://u:p@cluster0.example.com/db?srvMaxHosts=1'));
  return fc.asyncProperty(srvUri, resolverArb, async (uri, spec) => {
    let outcome = 'ok';
    try {
      await withBudget(parseOptions(uri, {}, { srvResolver: stubResolver(spec) }), 2000);
    } catch (error) {
      if (error instanceof BudgetExceeded) {
        findings.push({ target: 'parseOptions', kind: 'hang', detail: 'did not settle in 2000 ms', input: describeInput({ uri, spec }) });
        outcome = 'hang';
      } else {
        if (!(error instanceof MongoError)) {
          findings.push({ target: 'parseOptions', kind: 'non-typed exception', detail: describeError(error), input: describeInput({ uri, spec }) });
        }
        outcome = outcomeName(error);
      }
    }
    outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
  });
}

class BudgetExceeded extends Error {}

function withBudget<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new BudgetExceeded(`over ${ms} ms`)), ms);
    })
  ]).finally(() => clearTimeout(timer));
}

// ------------------------------------------------------------------------------ target: reply handling

/**
 * A Unix-socket server: for each connection it reads one request frame and answers with
 * `reply(requestId)` (whatever bytes the current case wants), then closes.
 */
export class FuzzReplyServer {
  readonly path: string;
  private server: net.Server | null = null;
  private readonly sockets = new Set<net.Socket>();
  /** The bytes to answer the next request with (function of its requestId). */
  reply: (requestId: number) => Buffer = () => Buffer.alloc(0);

  constructor() {
    this.path = path.join(os.tmpdir(), `mongowire-fuzz-${process.pid}-${Math.random().toString(36).slice(2)}.sock`);
  }

  async start(): Promise<void> {
    fs.rmSync(this.path, { force: true });
    const server = net.createServer((socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      socket.on('error', () => socket.destroy());
      const reader = new MessageReader();
      socket.on('data', (chunk) => {
        let frames: Buffer[];
        try {
          frames = reader.push(chunk);
        } catch {
          socket.destroy();
          return;
        }
        for (const frame of frames) {
          const bytes = this.reply(frame.readInt32LE(4));
          socket.end(bytes);
          return;
        }
      });
    });
    this.server = server;
    await new Promise<void>((resolve) => server.listen(this.path, resolve));
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    fs.rmSync(this.path, { force: true });
  }
}

/** The reply bytes of one case: a frame (mutated or random) whose responseTo may be patched to match. */
export function replyArb(): fc.Arbitrary<{ frame: Buffer; matchResponseTo: boolean; split: number }> {
  return fc.record({ frame: frameArb(), matchResponseTo: fc.boolean(), split: fc.nat() });
}

function connectUnix(socketPath: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.createConnection({ path: socketPath });
    socket.once('connect', () => {
      socket.removeListener('error', reject);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

export function replyProperty(
  server: FuzzReplyServer,
  findings: Finding[],
  outcomes: Record<string, number>
): fc.IAsyncPropertyWithHooks<[{ frame: Buffer; matchResponseTo: boolean; split: number }]> {
  return fc.asyncProperty(replyArb(), async ({ frame, matchResponseTo }) => {
    server.reply = (requestId) => {
      const bytes = Buffer.from(frame);
      if (matchResponseTo && bytes.length >= 12) bytes.writeInt32LE(requestId, 8);
      return bytes;
    };
    const socket = await connectUnix(server.path);
    const conn = new Connection(socket, { address: server.path });
    let outcome = 'ok';
    try {
      await withBudget(conn.command('admin', { ping: 1 }), 3000);
    } catch (error) {
      if (error instanceof BudgetExceeded) {
        findings.push({ target: 'Connection reply', kind: 'hang', detail: 'command did not settle within 3000 ms after the server closed', input: describeInput(frame) });
        outcome = 'hang';
      } else {
        if (!(error instanceof MongoError)) {
          findings.push({ target: 'Connection reply', kind: 'non-typed exception', detail: describeError(error), input: describeInput(frame) });
        }
        if ((error instanceof MongoProtocolError || error instanceof MongoNetworkError) && !conn.closed) {
          findings.push({ target: 'Connection reply', kind: 'connection left open', detail: describeError(error), input: describeInput(frame) });
        }
        outcome = outcomeName(error);
      }
    } finally {
      conn.destroy();
    }
    outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
  });
}

// ------------------------------------------------------------------------------ runner

export type TargetName = 'decodeMessage' | 'MessageReader' | 'parseConnectionString' | 'parseOptions' | 'Connection reply';
export const TARGETS: TargetName[] = ['decodeMessage', 'MessageReader', 'parseConnectionString', 'parseOptions', 'Connection reply'];

/** Runs one target for `numRuns` cases; never stops early (findings are collected). */
export async function runTarget(target: TargetName, numRuns: number, seed?: number): Promise<TargetStats> {
  const findings: Finding[] = [];
  const outcomes: Record<string, number> = {};
  const started = performance.now();
  const params = { numRuns, seed, endOnFailure: true };
  switch (target) {
    case 'decodeMessage':
      fc.check(decodeProperty(findings, outcomes), params);
      break;
    case 'MessageReader':
      fc.check(readerProperty(findings, outcomes), params);
      break;
    case 'parseConnectionString':
      fc.check(uriProperty(findings, outcomes), params);
      break;
    case 'parseOptions':
      await fc.check(parseOptionsProperty(findings, outcomes), params);
      break;
    case 'Connection reply': {
      const server = new FuzzReplyServer();
      await server.start();
      try {
        await fc.check(replyProperty(server, findings, outcomes), params);
      } finally {
        await server.close();
      }
      break;
    }
  }
  const cases = Object.values(outcomes).reduce((a, b) => a + b, 0);
  return { target, cases, ms: performance.now() - started, outcomes, findings };
}
