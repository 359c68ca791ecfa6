/**
 * A zero-latency MongoDB stand-in for the benchmark, run in its own process (`fork`). It answers
 * every command at once with a canned, correctly-shaped reply, so the benchmark measures the
 * client side only:
 *
 * - `hello` / legacy `isMaster` (OP_MSG or OP_QUERY): a standalone server with sessions;
 * - `find` with an `_id` filter: one document; on `corpus_<n>`: a cursor over n small documents
 *   (first batch `batchSize` or 101, `getMore` batches `batchSize` or as many as fit in 16 MiB,
 *   as a real server does); GridFS `*.files` / `*.chunks` lookups: a file of `--gridfs-bytes`;
 * - `insert` → `{n}`, `update`/`delete` → `{n, nModified}`, `killCursors`, `listIndexes`,
 *   everything else → `{ok: 1}`.
 *
 * Replies are assembled from pre-serialized documents (no per-request BSON encoding of batches),
 * and request bodies are decoded with write payloads kept raw, so server cost is small and the
 * same whichever way a driver sends its documents (body array or OP_MSG document sequence).
 *
 * Start: `fork('bench/canned_server.ts', ['--corpus', '100000', '--gridfs-bytes', '52428800'])`;
 * it sends `{ port }` over IPC when listening and exits when the parent disconnects.
 */
import * as net from 'node:net';
import { Binary, Long, ObjectId, deserialize, serialize, type Document } from 'bson';
import { GRIDFS_CHUNK_SIZE, SINGLE_ID, smallDoc } from './dataset';
import {
  FrameSplitter,
  HEADER_SIZE,
  OP_MSG,
  OP_QUERY,
  bsonArrayOf,
  cursorReplyBody,
  opMsg,
  opMsgPrefix,
  opReply
} from './wire_frames';

const MAX_BATCH_BYTES = 16 * 1024 * 1024;
const DEFAULT_FIRST_BATCH = 101;
/** Write payloads stay raw Buffers (counted, never decoded into objects). */
const RAW_PAYLOADS = { fieldsAsRaw: { documents: true, updates: true, deletes: true } };

interface Request {
  body: Document;
  /** Number of documents per kind-1 section identifier. */
  sequenceCounts: Map<string, number>;
}

interface OpenCursor {
  docs: readonly Uint8Array[];
  pos: number;
  end: number;
  ns: string;
  batchSize: number | undefined;
}

function argValue(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

class CannedServer {
  private readonly corpus: Uint8Array[] = [];
  private readonly cursors = new Map<bigint, OpenCursor>();
  private nextCursorId = 1000n;
  private nextConnectionId = 1;
  private requestId = 1;
  private readonly arrayCache = new Map<string, Buffer>();
  private readonly singleReply: Buffer;
  private chunkCache: { filesId: string; docs: Uint8Array[] } | null = null;

  constructor(
    corpusSize: number,
    private readonly gridfsBytes: number
  ) {
    this.growCorpus(corpusSize);
    const single = serialize({ _id: SINGLE_ID, ...smallDoc(0) });
    this.singleReply = cursorReplyBody('firstBatch', bsonArrayOf([single]), 0n, 'bench.single');
  }

  listen(): Promise<net.Server> {
    const server = net.createServer((socket) => this.serve(socket));
    return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
  }

  private growCorpus(n: number): void {
    for (let i = this.corpus.length; i < n; i++) this.corpus.push(serialize({ _id: new ObjectId(), ...smallDoc(i) }));
  }

  private serve(socket: net.Socket): void {
    socket.setNoDelay(true);
    const connectionId = this.nextConnectionId++;
    const splitter = new FrameSplitter();
    socket.on('error', () => socket.destroy());
    socket.on('data', (chunk: Buffer) => {
      for (const frame of splitter.push(chunk)) {
        try {
          this.answer(socket, frame, connectionId);
        } catch (error) {
          process.stderr.write(`canned server: ${(error as Error).stack}\n`);
          socket.destroy();
        }
      }
    });
  }

  private answer(socket: net.Socket, frame: Buffer, connectionId: number): void {
    const requestId = frame.readInt32LE(4);
    const opCode = frame.readInt32LE(12);
    if (opCode === OP_QUERY) {
      // Legacy handshake: flags, fullCollectionName, numberToSkip, numberToReturn, query.
      const nameEnd = frame.indexOf(0, HEADER_SIZE + 4);
      const queryAt = nameEnd + 1 + 8;
      const query = deserialize(frame.subarray(queryAt, queryAt + frame.readInt32LE(queryAt)));
      const reply = isHello(query) ? this.hello(connectionId) : { ok: 1 };
      socket.write(opReply(this.requestId++, requestId, reply));
      return;
    }
    if (opCode !== OP_MSG) {
      socket.destroy();
      return;
    }
    const flags = frame.readUInt32LE(HEADER_SIZE);
    const request = parseOpMsg(frame);
    const reply = this.reply(request, connectionId);
    if ((flags & 2) !== 0) return; // moreToCome: unacknowledged, no reply
    if (reply instanceof Buffer) {
      socket.cork();
      socket.write(opMsgPrefix(this.requestId++, requestId, reply.length));
      socket.write(reply);
      socket.uncork();
    } else {
      socket.write(opMsg(this.requestId++, requestId, reply));
    }
  }

  /** A reply document, or already encoded body bytes. */
  private reply(request: Request, connectionId: number): Document | Buffer {
    const { body } = request;
    const name = firstKey(body);
    if (isHello(body)) return this.hello(connectionId);
    const db = String(body.$db ?? 'test');
    switch (name) {
      case 'find':
        return this.find(db, String(body.find), body);
      case 'getMore':
        return this.getMore(body);
      case 'killCursors': {
        const ids = (body.cursors as unknown[]) ?? [];
        for (const id of ids) this.cursors.delete(toBigInt(id));
        return { cursorsKilled: ids, cursorsNotFound: [], cursorsAlive: [], cursorsUnknown: [], ok: 1 };
      }
      case 'insert':
        return { n: countPayload(request, 'documents'), ok: 1 };
      case 'update': {
        const n = countPayload(request, 'updates');
        return { n, nModified: n, ok: 1 };
      }
      case 'delete':
        return { n: countPayload(request, 'deletes'), ok: 1 };
      case 'listIndexes':
      case 'listCollections':
      case 'aggregate':
        return cursorReplyBody('firstBatch', bsonArrayOf([]), 0n, `${db}.${String(body[name])}`);
      case 'buildInfo':
      case 'buildinfo':
        return { version: '7.0.0', versionArray: [7, 0, 0, 0], ok: 1 };
      default:
        return { ok: 1 };
    }
  }

  private hello(connectionId: number): Document {
    return {
      helloOk: true,
      ismaster: true,
      isWritablePrimary: true,
      maxBsonObjectSize: 16 * 1024 * 1024,
      maxMessageSizeBytes: 48_000_000,
      maxWriteBatchSize: 100_000,
      localTime: new Date(),
      logicalSessionTimeoutMinutes: 30,
      connectionId,
      minWireVersion: 0,
      maxWireVersion: 21,
      readOnly: false,
      ok: 1
    };
  }

  private find(db: string, collection: string, body: Document): Document | Buffer {
    const ns = `${db}.${collection}`;
    const filter = (body.filter ?? {}) as Document;
    if (collection.endsWith('.files')) {
      if (filter._id === undefined) return cursorReplyBody('firstBatch', bsonArrayOf([]), 0n, ns);
      const file = serialize({
        _id: filter._id,
        length: this.gridfsBytes,
        chunkSize: GRIDFS_CHUNK_SIZE,
        uploadDate: new Date(1_700_000_000_000),
        filename: 'bench.bin'
      });
      return cursorReplyBody('firstBatch', bsonArrayOf([file]), 0n, ns);
    }
    if (collection.endsWith('.chunks')) {
      if (filter.files_id === undefined) return cursorReplyBody('firstBatch', bsonArrayOf([]), 0n, ns);
      return this.openCursor(this.chunks(filter.files_id), ns, body);
    }
    if (filter._id !== undefined) return this.singleReply;
    const match = /_(\d+)$/.exec(collection);
    const size = match ? Number(match[1]) : 0;
    this.growCorpus(size);
    return this.openCursor(this.corpus, ns, body, size);
  }

  private chunks(filesId: unknown): Uint8Array[] {
    const key = String(filesId);
    if (this.chunkCache?.filesId === key) return this.chunkCache.docs;
    const docs: Uint8Array[] = [];
    const data = Buffer.alloc(GRIDFS_CHUNK_SIZE, 0x61);
    for (let n = 0, left = this.gridfsBytes; left > 0; n++, left -= GRIDFS_CHUNK_SIZE) {
      const size = Math.min(left, GRIDFS_CHUNK_SIZE);
      docs.push(serialize({ _id: new ObjectId(), files_id: filesId, n, data: new Binary(data.subarray(0, size)) }));
    }
    this.chunkCache = { filesId: key, docs };
    return docs;
  }

  private openCursor(docs: readonly Uint8Array[], ns: string, body: Document, size = docs.length): Buffer {
    const limit = positive(body.limit);
    const end = limit === undefined ? size : Math.min(size, limit);
    const batchSize = positive(body.batchSize);
    const first = this.batch(docs, 0, end, batchSize ?? DEFAULT_FIRST_BATCH);
    const done = first.end >= end || body.singleBatch === true;
    let id = 0n;
    if (!done) {
      id = this.nextCursorId++;
      this.cursors.set(id, { docs, pos: first.end, end, ns, batchSize });
    }
    return cursorReplyBody('firstBatch', first.array, id, ns);
  }

  private getMore(body: Document): Document | Buffer {
    const id = toBigInt(body.getMore);
    const cursor = this.cursors.get(id);
    if (!cursor) return { ok: 0, errmsg: `cursor id ${id} not found`, code: 43, codeName: 'CursorNotFound' };
    const next = this.batch(cursor.docs, cursor.pos, cursor.end, positive(body.batchSize) ?? cursor.batchSize ?? Infinity);
    cursor.pos = next.end;
    const done = cursor.pos >= cursor.end;
    if (done) this.cursors.delete(id);
    return cursorReplyBody('nextBatch', next.array, done ? 0n : id, cursor.ns);
  }

  /** Up to `max` documents from `start` (bounded by 16 MiB), as encoded array bytes; cached. */
  private batch(docs: readonly Uint8Array[], start: number, end: number, max: number): { array: Buffer; end: number } {
    let stop = start;
    let bytes = 0;
    while (stop < end && stop - start < max && bytes + docs[stop].length <= MAX_BATCH_BYTES) bytes += docs[stop++].length;
    const key = `${docs === this.corpus ? 'c' : 'g'}:${start}:${stop}`;
    let array = this.arrayCache.get(key);
    if (!array) {
      array = bsonArrayOf(docs.slice(start, stop));
      if (docs === this.corpus) this.arrayCache.set(key, array);
    }
    return { array, end: stop };
  }
}

function parseOpMsg(frame: Buffer): Request {
  let body: Document | undefined;
  const sequenceCounts = new Map<string, number>();
  let offset = HEADER_SIZE + 4;
  const end = frame.length - ((frame.readUInt32LE(HEADER_SIZE) & 1) !== 0 ? 4 : 0);
  while (offset < end) {
    const kind = frame[offset++];
    const size = frame.readInt32LE(offset);
    if (kind === 0) {
      body = deserialize(frame.subarray(offset, offset + size), RAW_PAYLOADS);
      offset += size;
    } else {
      const seqEnd = offset + size;
      const nul = frame.indexOf(0, offset + 4);
      const identifier = frame.toString('utf8', offset + 4, nul);
      let count = 0;
      for (let p = nul + 1; p < seqEnd; p += frame.readInt32LE(p)) count++;
      sequenceCounts.set(identifier, count);
      offset = seqEnd;
    }
  }
  return { body: body ?? {}, sequenceCounts };
}

function countPayload(request: Request, field: string): number {
  const inline = request.body[field];
  return request.sequenceCounts.get(field) ?? (Array.isArray(inline) ? inline.length : 0);
}

function firstKey(doc: Document): string {
  for (const key in doc) return key;
  return '';
}

function isHello(doc: Document): boolean {
  const name = firstKey(doc);
  return name === 'hello' || name === 'isMaster' || name === 'ismaster';
}

function positive(value: unknown): number | undefined {
  const n = typeof value === 'number' ? value : value instanceof Long ? value.toNumber() : Number(value);
  return Number.isFinite(n) && n > 0 ? n : undefined;
}

function toBigInt(value: unknown): bigint {
  if (value instanceof Long) return value.toBigInt();
  if (typeof value === 'bigint') return value;
  return BigInt(Number(value));
}

async function main(): Promise<void> {
  const server = await new CannedServer(argValue('--corpus', 0), argValue('--gridfs-bytes', 0)).listen();
  const address = server.address() as net.AddressInfo;
  if (process.send) process.send({ port: address.port });
  else process.stdout.write(`listening on 127.0.0.1:${address.port}\n`);
  process.on('disconnect', () => process.exit(0));
}

void main();
