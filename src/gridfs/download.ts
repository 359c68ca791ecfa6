/**
 * Downloading a file (gridfs-spec.md "File Download", "Partial File Retrieval").
 *
 * `ChunkReader` reads the chunks of one file in order from a `{files_id, n >= first}` query sorted
 * by `n`, checking each one: the expected `n` (a gap is `ChunkIsMissing`, a repeat or a chunk past
 * the end is `ExtraChunk`) and the expected size (`ChunkIsWrongSize`), all `MongoGridFSChunkError`.
 * Only the chunks covering the requested range are queried (`n >= first`, `limit`), and a
 * zero-length file sends no chunk query at all.
 *
 * `GridFSBucketReadStream` is the Node `Readable` over it (`bucket.openDownloadStream()`): it
 * loads the files document on the first read, emits `'file'`, then pushes one chunk (sliced to
 * `[start, end)`) per `_read`, so memory stays at about one chunk whatever the file size.
 */
import { Readable } from 'node:stream';
import { Binary, EJSON, ObjectId, type Document } from 'bson';
import { MongoGridFSChunkError, MongoGridFSStreamError, MongoInvalidArgumentError } from '../errors';
import type { GridFSFile, GridFSFileId } from './gridfs_file';

/** How a file is found: by id, or by name and revision (0 oldest, -1 newest, -2 …). */
export type GridFSFileLookup = { id: GridFSFileId } | { filename: string; revision: number };

/** A cursor over chunk documents, as the reader uses it. */
export interface ChunkCursor {
  next(): Promise<Document | null>;
  close(): Promise<void>;
}

/** What downloads need from the bucket. */
export interface DownloadSource {
  findFile(lookup: GridFSFileLookup): Promise<GridFSFile | null>;
  /** Chunks of `file` with `n >= first`, sorted by `n`, at most `limit` of them. */
  findChunks(file: GridFSFile, first: number, limit: number | undefined): ChunkCursor;
}

export interface GridFSDownloadOptions {
  /** First byte (default 0). */
  start?: number;
  /** End byte, exclusive (default: the file length). */
  end?: number;
}

export interface GridFSDownloadByNameOptions extends GridFSDownloadOptions {
  /** 0 = the original, 1 = the first revision, …, -2 = the second newest, -1 = the newest (default). */
  revision?: number;
}

/** A readable form of a file id for messages. */
export function describeFileId(id: GridFSFileId): string {
  if (id instanceof ObjectId) return id.toHexString();
  if (typeof id === 'string') return JSON.stringify(id);
  return EJSON.stringify(id as Document);
}

/** FileNotFound (code `ENOENT`), with distinct messages for a missing file and a missing revision. */
export function fileNotFoundError(lookup: GridFSFileLookup): MongoGridFSStreamError {
  let message: string;
  if ('id' in lookup) message = `FileNotFound: file ${describeFileId(lookup.id)} was not found`;
  else if (lookup.revision === -1) message = `FileNotFound: no file named ${JSON.stringify(lookup.filename)} was found`;
  else message = `RevisionNotFound: revision ${lookup.revision} of the file named ${JSON.stringify(lookup.filename)} was not found`;
  const error = new MongoGridFSStreamError(message);
  error.code = 'ENOENT';
  return error;
}

/** The bytes of a chunk's `data` field. */
function chunkBytes(data: unknown): Buffer | undefined {
  if (data instanceof Binary) {
    const value = data.value();
    return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  }
  if (data instanceof Uint8Array) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return undefined;
}

export function chunkCount(file: GridFSFile): number {
  return file.length === 0 ? 0 : Math.ceil(file.length / file.chunkSize);
}

/** Validates `[start, end)` against the file (spec: negative, past the length, or start > end are errors). */
export function validateRange(file: GridFSFile, options: GridFSDownloadOptions): { start: number; end: number } {
  const start = options.start ?? 0;
  const end = options.end ?? file.length;
  for (const [name, value] of [['start', start], ['end', end]] as const) {
    if (!Number.isInteger(value) || value < 0) throw new MongoInvalidArgumentError(`Download ${name} (${value}) must be a non-negative integer`);
    if (value > file.length) throw new MongoInvalidArgumentError(`Download ${name} (${value}) must not be more than the length of the file (${file.length})`);
  }
  if (start > end) throw new MongoInvalidArgumentError(`Download start (${start}) must not be greater than end (${end})`);
  return { start, end };
}

/** Reads chunks `first … last-1` of a file, in order, validated. */
export class ChunkReader {
  /** The `n` of the next chunk this reader returns. */
  nextN: number;
  private cursor?: ChunkCursor;
  private readonly total: number;

  constructor(
    private readonly source: DownloadSource,
    private readonly file: GridFSFile,
    first: number,
    private readonly last: number = chunkCount(file)
  ) {
    this.nextN = first;
    this.total = chunkCount(file);
  }

  /** The next chunk's bytes, or null after `last - 1`. */
  async next(): Promise<Buffer | null> {
    if (this.nextN >= this.last) {
      await this.close();
      return null;
    }
    this.cursor ??= this.source.findChunks(this.file, this.nextN, this.last < this.total ? this.last - this.nextN : undefined);
    const doc = await this.cursor.next();
    const expected = this.nextN;
    const id = describeFileId(this.file._id);
    if (!doc) throw new MongoGridFSChunkError(`ChunkIsMissing: chunk n=${expected} of file ${id} was not found`);
    const n = Number(doc.n);
    if (n > expected) throw new MongoGridFSChunkError(`ChunkIsMissing: got chunk n=${n} of file ${id}, expected n=${expected}`);
    if (n < expected) throw new MongoGridFSChunkError(`ExtraChunk: got chunk n=${n} of file ${id} again, expected n=${expected}`);
    const data = chunkBytes(doc.data);
    if (!data) throw new MongoGridFSChunkError(`ChunkIsWrongSize: chunk n=${n} of file ${id} has no binary data`);
    const expectedSize = n === this.total - 1 ? this.file.length - n * this.file.chunkSize : this.file.chunkSize;
    if (data.length !== expectedSize) {
      throw new MongoGridFSChunkError(`ChunkIsWrongSize: chunk n=${n} of file ${id} has ${data.length} bytes, expected ${expectedSize}`);
    }
    this.nextN += 1;
    if (this.nextN === this.total) await this.checkNoExtraChunk(id);
    return data;
  }

  /** After the last chunk of the file: anything further in the query is an extra chunk. */
  private async checkNoExtraChunk(id: string): Promise<void> {
    const extra = await this.cursor?.next();
    if (extra) throw new MongoGridFSChunkError(`ExtraChunk: got chunk n=${String(extra.n)} of file ${id}, which has ${this.total} chunks`);
    await this.close();
  }

  async close(): Promise<void> {
    const cursor = this.cursor;
    this.cursor = undefined;
    await cursor?.close();
  }
}

/**
 * A Node `Readable` of a stored file (or of `[start, end)` of it). Emits `'file'` with the files
 * document before the first data. Errors: FileNotFound (`code: 'ENOENT'`), invalid range
 * (MongoInvalidArgumentError), corrupt chunks (MongoGridFSChunkError).
 */
export class GridFSBucketReadStream extends Readable {
  /** The files document, once loaded. */
  file: GridFSFile | null = null;
  private reader?: ChunkReader;
  private range = { start: 0, end: 0 };

  constructor(
    private readonly source: DownloadSource,
    private readonly lookup: GridFSFileLookup,
    private readonly options: GridFSDownloadOptions = {}
  ) {
    super();
  }

  override _read(): void {
    this.readNext().then(
      (data) => {
        if (!this.destroyed) this.push(data);
      },
      (error: Error) => this.destroy(error)
    );
  }

  private async readNext(): Promise<Buffer | null> {
    if (!this.file) {
      const file = await this.source.findFile(this.lookup);
      if (!file) throw fileNotFoundError(this.lookup);
      this.range = validateRange(file, this.options);
      this.file = file;
      this.emit('file', file);
      if (this.range.start === this.range.end) return null;
      const first = Math.floor(this.range.start / file.chunkSize);
      const last = Math.ceil(this.range.end / file.chunkSize);
      this.reader = new ChunkReader(this.source, file, first, last);
    }
    const reader = this.reader;
    if (!reader) return null;
    for (;;) {
      const n = reader.nextN;
      const data = await reader.next();
      if (!data) return null;
      const chunkStart = n * this.file.chunkSize;
      const from = Math.max(0, this.range.start - chunkStart);
      const to = Math.min(data.length, this.range.end - chunkStart);
      if (to > from) return data.subarray(from, to);
    }
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    const reader = this.reader;
    this.reader = undefined;
    if (!reader) {
      callback(error);
      return;
    }
    reader.close().then(
      () => callback(error),
      () => callback(error)
    );
  }

  /** Stops the download: kills the chunk cursor and destroys the stream. */
  async abort(): Promise<void> {
    const reader = this.reader;
    this.reader = undefined;
    this.destroy();
    await reader?.close();
  }
}
