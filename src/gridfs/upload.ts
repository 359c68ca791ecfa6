/**
 * Uploading a file (gridfs-spec.md "File Upload").
 *
 * `GridFSUpload` is the state machine: bytes are cut into `chunkSize` chunks, each chunk is
 * inserted as soon as it is full (one at a time: at most one chunk is buffered, whatever the file
 * size), and `finish()` inserts the remaining partial chunk and then — last — the files document.
 * `abort()` deletes the chunks already inserted. The bucket's index check runs before the first
 * write. A failed insert is reported as is; its orphaned chunks are left alone (spec).
 *
 * `GridFSBucketWriteStream` is the Node `Writable` over it (`bucket.openUploadStream()`); Motor's
 * `GridIn` (grid_in.ts) is the awaitable one.
 */
import { Writable } from 'node:stream';
import { ObjectId, type Document } from 'bson';
import { MongoAPIError, MongoInvalidArgumentError } from '../errors';
import type { GridFSChunk, GridFSFile, GridFSFileId } from './gridfs_file';

/** Options of an upload (`openUploadStream`, `uploadFromStream`, `openGridIn`). */
export interface GridFSUploadOptions {
  /** Bytes per chunk for this file (default: the bucket's `chunkSizeBytes`). */
  chunkSizeBytes?: number;
  /** The files document's `metadata`. */
  metadata?: Document;
  /** Deprecated by the spec (prefer `metadata.contentType`); still stored when given (Motor). */
  contentType?: string;
  /** Deprecated by the spec (prefer `metadata`). */
  aliases?: string[];
  /** A custom file id (default: a new ObjectId). */
  id?: GridFSFileId;
  /** CSOT: caps the whole upload, from the stream's creation to `finish`/`abort` (default: the bucket's). */
  timeoutMS?: number;
}

/** What an upload needs from its bucket. */
export interface UploadTarget {
  readonly chunkSizeBytes: number;
  insertChunk(chunk: GridFSChunk): Promise<void>;
  insertFile(file: GridFSFile): Promise<void>;
  deleteChunks(id: GridFSFileId): Promise<void>;
  /** The bucket's one-time index check (memoized by the bucket). */
  ensureIndexes(): Promise<void>;
}

type UploadState = 'open' | 'finishing' | 'finished' | 'aborted' | 'failed';

export class GridFSUpload {
  readonly id: GridFSFileId;
  readonly filename: string;
  readonly chunkSizeBytes: number;
  /** Bytes accepted so far. */
  length = 0;
  /** The files document, once `finish()` inserted it. */
  file: GridFSFile | null = null;
  /** Extra top-level fields of the files document (Motor's `GridIn.set` before close). */
  readonly extraFields: Document = {};

  private chunk: Buffer;
  private used = 0;
  private n = 0;
  private state: UploadState = 'open';

  constructor(
    private readonly target: UploadTarget,
    filename: string,
    private readonly options: GridFSUploadOptions = {}
  ) {
    const size = options.chunkSizeBytes ?? target.chunkSizeBytes;
    if (!Number.isInteger(size) || size <= 0) throw new MongoInvalidArgumentError(`chunkSizeBytes must be a positive integer, got ${String(size)}`);
    this.chunkSizeBytes = size;
    this.id = options.id ?? new ObjectId();
    this.filename = filename;
    this.chunk = Buffer.allocUnsafe(size);
  }

  get finished(): boolean {
    return this.state === 'finished';
  }

  get aborted(): boolean {
    return this.state === 'aborted';
  }

  private assertOpen(): void {
    if (this.state === 'aborted') throw new MongoAPIError('The upload was aborted');
    if (this.state !== 'open') throw new MongoAPIError('The upload is already closed');
  }

  /** Buffers `data`, inserting each chunk as it fills. */
  async write(data: Uint8Array | string): Promise<void> {
    this.assertOpen();
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    if (!(bytes instanceof Uint8Array)) throw new MongoInvalidArgumentError('GridFS uploads accept Uint8Array/Buffer or string data');
    let offset = 0;
    while (offset < bytes.length) {
      const take = Math.min(this.chunkSizeBytes - this.used, bytes.length - offset);
      this.chunk.set(bytes.subarray(offset, offset + take), this.used);
      this.used += take;
      offset += take;
      this.length += take;
      if (this.used === this.chunkSizeBytes) await this.flushChunk();
    }
  }

  /** Inserts the last partial chunk, then the files document. */
  async finish(): Promise<GridFSFile> {
    this.assertOpen();
    this.state = 'finishing';
    try {
      if (this.used > 0) await this.flushChunk();
      await this.target.ensureIndexes();
      const file = this.filesDocument();
      await this.target.insertFile(file);
      this.file = file;
      this.state = 'finished';
      return file;
    } catch (error) {
      this.state = 'failed';
      throw error;
    }
  }

  /** Marks the upload aborted (further writes fail) and deletes its chunks. */
  async abort(): Promise<void> {
    if (this.state === 'finished') throw new MongoAPIError('Cannot abort an upload that has completed');
    if (this.state === 'aborted') throw new MongoAPIError('The upload was already aborted');
    this.state = 'aborted';
    this.chunk = Buffer.alloc(0);
    await this.target.deleteChunks(this.id);
  }

  private async flushChunk(): Promise<void> {
    await this.target.ensureIndexes();
    if (this.state === 'aborted') throw new MongoAPIError('The upload was aborted');
    // The chunk's bytes are copied: the buffer is reused for the next chunk.
    const data = Buffer.from(this.chunk.subarray(0, this.used));
    const chunk: GridFSChunk = { _id: new ObjectId(), files_id: this.id, n: this.n, data };
    this.used = 0;
    this.n += 1;
    try {
      await this.target.insertChunk(chunk);
    } catch (error) {
      this.state = 'failed';
      throw error;
    }
  }

  private filesDocument(): GridFSFile {
    const file: GridFSFile = {
      _id: this.id,
      length: this.length,
      chunkSize: this.chunkSizeBytes,
      uploadDate: new Date(),
      filename: this.filename
    };
    if (this.options.contentType !== undefined) file.contentType = this.options.contentType;
    if (this.options.aliases !== undefined) file.aliases = this.options.aliases;
    if (this.options.metadata !== undefined) file.metadata = this.options.metadata;
    for (const [key, value] of Object.entries(this.extraFields)) {
      if (!(key in file)) file[key] = value;
    }
    return file;
  }
}

/**
 * A Node `Writable` that uploads what is written to it (`bucket.openUploadStream()`). `id` is the
 * file's id; `gridFSFile` is the files document once `'finish'` was emitted. Each `write`
 * completes when its chunks are inserted, so piping into it respects backpressure.
 */
export class GridFSBucketWriteStream extends Writable {
  readonly id: GridFSFileId;
  readonly filename: string;
  readonly chunkSizeBytes: number;

  constructor(private readonly upload: GridFSUpload) {
    super();
    this.id = upload.id;
    this.filename = upload.filename;
    this.chunkSizeBytes = upload.chunkSizeBytes;
  }

  /** Bytes accepted so far. */
  get length(): number {
    return this.upload.length;
  }

  /** The files document (after `'finish'`), else null. */
  get gridFSFile(): GridFSFile | null {
    return this.upload.file;
  }

  override _write(chunk: Uint8Array | string, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.upload.write(chunk).then(() => callback(), callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    if (this.upload.aborted) {
      callback(new MongoAPIError('The upload was aborted'));
      return;
    }
    this.upload.finish().then(() => callback(), callback);
  }

  /** Aborts the upload: deletes the chunks written so far; the stream is destroyed. */
  async abort(): Promise<void> {
    try {
      await this.upload.abort();
    } finally {
      // Destroyed even when deleting the chunks failed (e.g. CSOT: the upload's deadline passed).
      this.destroy();
    }
  }
}
