/**
 * GridFSBucket (gridfs-spec.md): files stored as a files document in `<bucketName>.files` and
 * `chunkSize`-byte chunks in `<bucketName>.chunks`.
 *
 * - Node streams: `openUploadStream` / `openUploadStreamWithId` (Writable), `uploadFromStream`,
 *   `openDownloadStream` / `openDownloadStreamByName` (Readable, optional byte range),
 *   `downloadToStream` / `downloadToStreamByName`.
 * - Motor's file objects: `openGridIn` (GridIn), `openGridOut` / `openGridOutByName` (GridOut),
 *   `findGridOut` (a cursor of GridOut).
 * - Management: `find` (files documents; query metadata with e.g. `{'metadata.owner': 'ann'}`),
 *   `findFileByName`, `delete`, `deleteByName`, `rename`, `renameByName`, `drop`.
 *
 * The index check (indexes.ts) runs once per bucket, right before its first write. Missing files
 * raise a MongoGridFSStreamError with `code: 'ENOENT'` naming the id or the file name.
 *
 * CSOT (client-side-operations-timeout.md "GridFS API"): `timeoutMS` is inherited from the
 * database (or given to the bucket) and can be given to every method. It is ONE deadline for the
 * whole call — `delete` is the files delete and the chunks delete together — and for streams, from
 * their creation to their end: every find, getMore, index check, insert, `finish` and `abort` of an
 * upload or download draws from it (cursors run in `cursorLifetime` mode). A stream that is not read
 * or written for a while still spends its time. On expiry the operation fails with
 * MongoOperationTimeoutError (an upload stream errors and accepts no more writes; call `abort()` —
 * under the same deadline — to remove its chunks). `uploadFromStream` / `downloadToStream` use the
 * deadline for the whole copy; the caller's stream is not timed out, so a slow source or destination
 * can make the call end later than `timeoutMS`.
 */
import { once } from 'node:events';
import type { Readable } from 'node:stream';
import type { Document } from 'bson';
import type { Collection, FindCallOptions } from '../collection';
import type { FindCursor } from '../cursor/find_cursor';
import type { Database } from '../database';
import { MongoInvalidArgumentError } from '../errors';
import type { Filter } from '../mongo_types';
import type { ReadConcernLike } from '../read_concern';
import type { ReadPreferenceLike } from '../read_preference';
import { TimeoutContext, validateTimeoutMS } from '../timeout';
import type { WriteConcern, WriteConcernOptions } from '../write_concern';
import {
  fileNotFoundError,
  GridFSBucketReadStream,
  type ChunkCursor,
  type DownloadSource,
  type GridFSDownloadByNameOptions,
  type GridFSDownloadOptions,
  type GridFSFileLookup
} from './download';
import { DEFAULT_CHUNK_SIZE_BYTES, type GridFSChunk, type GridFSFile, type GridFSFileId } from './gridfs_file';
import { GridIn } from './grid_in';
import { GridOut } from './grid_out';
import { createGridOutCursor, type GridOutCursor } from './grid_out_cursor';
import type { GridFSHandlerBucket } from './http_handler';
import { ensureGridFSIndexes } from './indexes';
import { GridFSBucketWriteStream, GridFSUpload, type GridFSUploadOptions, type UploadTarget } from './upload';

export interface GridFSBucketOptions {
  /** Prefix of the files and chunks collections (default `fs`). */
  bucketName?: string;
  /** Chunk size of new files (default 255 KiB). */
  chunkSizeBytes?: number;
  /** Default: the database's. */
  writeConcern?: WriteConcernOptions | WriteConcern;
  /** Default: the database's. */
  readPreference?: ReadPreferenceLike;
  /** Default: the database's. */
  readConcern?: ReadConcernLike;
  timeoutMS?: number;
}

/** Per-call CSOT option of the bucket's methods. */
export interface GridFSCallOptions {
  /** Overrides the bucket's timeoutMS for this call (one deadline for all of its commands). */
  timeoutMS?: number;
}

/** The deadline of one bucket call or stream, as collection call options (empty without CSOT). */
interface CallTimeout {
  timeoutContext?: TimeoutContext;
}

/** A source of bytes for `uploadFromStream`: a Readable or any async iterable of bytes/strings. */
export type GridFSUploadSource = Readable | AsyncIterable<Uint8Array | string>;

export class GridFSBucket implements GridFSHandlerBucket {
  readonly bucketName: string;
  readonly chunkSizeBytes: number;
  /** `<bucketName>.files`. */
  readonly filesCollection: Collection<GridFSFile>;
  /** `<bucketName>.chunks`. */
  readonly chunksCollection: Collection<GridFSChunk>;
  /** CSOT: the bucket's timeoutMS (inherited from the database when not given). */
  readonly timeoutMS?: number;
  private indexCheck?: Promise<void>;

  constructor(
    readonly db: Database,
    options: GridFSBucketOptions = {}
  ) {
    this.bucketName = options.bucketName ?? 'fs';
    if (typeof this.bucketName !== 'string' || this.bucketName === '') throw new MongoInvalidArgumentError('bucketName must be a non-empty string');
    this.chunkSizeBytes = options.chunkSizeBytes ?? DEFAULT_CHUNK_SIZE_BYTES;
    if (!Number.isInteger(this.chunkSizeBytes) || this.chunkSizeBytes <= 0) {
      throw new MongoInvalidArgumentError(`chunkSizeBytes must be a positive integer, got ${String(options.chunkSizeBytes)}`);
    }
    this.timeoutMS = validateTimeoutMS(options.timeoutMS) ?? db.timeoutMS;
    const collectionOptions = {
      writeConcern: options.writeConcern,
      readPreference: options.readPreference,
      readConcern: options.readConcern,
      timeoutMS: this.timeoutMS
    };
    this.filesCollection = db.collection<GridFSFile>(`${this.bucketName}.files`, collectionOptions);
    this.chunksCollection = db.collection<GridFSChunk>(`${this.bucketName}.chunks`, collectionOptions);
  }

  /** CSOT: a new deadline for one call or stream (the call's timeoutMS, else the bucket's); empty without CSOT. */
  private callTimeout(options?: GridFSCallOptions): CallTimeout {
    const timeoutMS = validateTimeoutMS(options?.timeoutMS) ?? this.timeoutMS;
    return timeoutMS === undefined ? {} : { timeoutContext: new TimeoutContext({ timeoutMS }) };
  }

  /** Where an upload writes, every command under the upload's deadline. */
  private uploadTarget(timeout: CallTimeout): UploadTarget {
    const files = this.filesCollection;
    const chunks = this.chunksCollection;
    return {
      chunkSizeBytes: this.chunkSizeBytes,
      insertChunk: async (chunk) => {
        await chunks.insertOne(chunk, timeout);
      },
      insertFile: async (file) => {
        await files.insertOne(file, timeout);
      },
      deleteChunks: async (id) => {
        await chunks.deleteMany({ files_id: { $eq: id } }, timeout);
      },
      ensureIndexes: () => this.ensureIndexes(timeout)
    };
  }

  /** Where a download reads, every command (and cursor) under the download's deadline. */
  private downloadSource(timeout: CallTimeout): DownloadSource {
    const chunks = this.chunksCollection;
    return {
      findFile: (lookup) => this.findFile(lookup, timeout),
      findChunks: (file, first, limit): ChunkCursor => {
        const filter: Document = { files_id: { $eq: file._id } };
        if (first > 0) filter.n = { $gte: first };
        const cursor = chunks.find(filter, timeout).sort({ n: 1 });
        if (limit !== undefined) cursor.limit(limit);
        return cursor;
      }
    };
  }

  /** The spec's index check, once per bucket (retried after a failure), under the first writer's deadline. */
  private ensureIndexes(timeout: CallTimeout): Promise<void> {
    this.indexCheck ??= ensureGridFSIndexes(this.filesCollection, this.chunksCollection, timeout).catch((error: unknown) => {
      this.indexCheck = undefined;
      throw error;
    });
    return this.indexCheck;
  }

  private createUpload(filename: string, options: GridFSUploadOptions = {}): GridFSUpload {
    if (typeof filename !== 'string') throw new MongoInvalidArgumentError('filename must be a string');
    return new GridFSUpload(this.uploadTarget(this.callTimeout(options)), filename, options);
  }

  private async findFile(lookup: GridFSFileLookup, timeout: CallTimeout): Promise<GridFSFile | null> {
    const files = this.filesCollection;
    if ('id' in lookup) return (await files.findOne(byId(lookup.id), timeout)) as GridFSFile | null;
    const { filename, revision } = lookup;
    if (!Number.isInteger(revision)) throw new MongoInvalidArgumentError(`revision must be an integer, got ${String(revision)}`);
    const newestFirst = revision < 0;
    return (await files.findOne(
      { filename },
      { ...timeout, sort: { uploadDate: newestFirst ? -1 : 1 }, skip: newestFirst ? -revision - 1 : revision }
    )) as GridFSFile | null;
  }

  // ------------------------------------------------------------------ uploads

  /** A Writable that stores what is written as `filename`; its `id` is the new file's id. */
  openUploadStream(filename: string, options?: GridFSUploadOptions): GridFSBucketWriteStream {
    return new GridFSBucketWriteStream(this.createUpload(filename, options));
  }

  openUploadStreamWithId(id: GridFSFileId, filename: string, options?: GridFSUploadOptions): GridFSBucketWriteStream {
    return this.openUploadStream(filename, { ...options, id });
  }

  /**
   * Reads `source` to its end and stores it; returns the file id. The source is not closed. If
   * the source fails, the upload is aborted (its chunks deleted) and the source's error is thrown.
   */
  async uploadFromStream(filename: string, source: GridFSUploadSource, options?: GridFSUploadOptions): Promise<GridFSFileId> {
    const upload = this.createUpload(filename, options);
    const iterator = (source as AsyncIterable<Uint8Array | string>)[Symbol.asyncIterator]();
    for (;;) {
      let item: IteratorResult<Uint8Array | string>;
      try {
        item = await iterator.next();
      } catch (sourceError) {
        await upload.abort().catch(() => undefined);
        throw sourceError;
      }
      if (item.done) break;
      await upload.write(item.value);
    }
    await upload.finish();
    return upload.id;
  }

  async uploadFromStreamWithId(id: GridFSFileId, filename: string, source: GridFSUploadSource, options?: GridFSUploadOptions): Promise<void> {
    await this.uploadFromStream(filename, source, { ...options, id });
  }

  /** Motor's `open_upload_stream`: an awaitable GridIn (`write`, `writelines`, `set`, `close`, `abort`). */
  openGridIn(filename: string, options: GridFSUploadOptions = {}): GridIn {
    const files = this.filesCollection;
    return new GridIn(
      this.createUpload(filename, options),
      async (id, name, value) => {
        await files.updateOne(byId(id), { $set: { [name]: value } }, this.callTimeout(options));
      },
      options.contentType
    );
  }

  openGridInWithId(id: GridFSFileId, filename: string, options?: GridFSUploadOptions): GridIn {
    return this.openGridIn(filename, { ...options, id });
  }

  // ------------------------------------------------------------------ downloads

  /** A Readable of the file (or of bytes `[start, end)`); `timeoutMS` caps the whole download from now. */
  openDownloadStream(id: GridFSFileId, options?: GridFSDownloadOptions & GridFSCallOptions): GridFSBucketReadStream {
    return new GridFSBucketReadStream(this.downloadSource(this.callTimeout(options)), { id }, options);
  }

  /** A Readable of a revision of `filename` (default: the newest, `revision: -1`). */
  openDownloadStreamByName(filename: string, options: GridFSDownloadByNameOptions & GridFSCallOptions = {}): GridFSBucketReadStream {
    const { revision = -1, timeoutMS, ...range } = options;
    return new GridFSBucketReadStream(this.downloadSource(this.callTimeout({ timeoutMS })), { filename, revision }, range);
  }

  /** Writes the file to `destination` (respecting backpressure); `destination` is not ended. */
  async downloadToStream(id: GridFSFileId, destination: NodeJS.WritableStream, options?: GridFSDownloadOptions & GridFSCallOptions): Promise<void> {
    await copyTo(this.openDownloadStream(id, options), destination);
  }

  async downloadToStreamByName(
    filename: string,
    destination: NodeJS.WritableStream,
    options?: GridFSDownloadByNameOptions & GridFSCallOptions
  ): Promise<void> {
    await copyTo(this.openDownloadStreamByName(filename, options), destination);
  }

  /** Motor's `open_download_stream`: an opened GridOut (FileNotFound when there is no such file). */
  async openGridOut(id: GridFSFileId, options?: GridFSCallOptions): Promise<GridOut> {
    return new GridOut(this.downloadSource(this.callTimeout(options)), { id }).open();
  }

  /** Motor's `open_download_stream_by_name`. */
  async openGridOutByName(filename: string, options: { revision?: number } & GridFSCallOptions = {}): Promise<GridOut> {
    return new GridOut(this.downloadSource(this.callTimeout(options)), { filename, revision: options.revision ?? -1 }).open();
  }

  /** Motor's `bucket.find`: a cursor of GridOut objects (each GridOut's reads get their own deadline). */
  findGridOut(filter: Document = {}, options?: FindCallOptions): GridOutCursor {
    return createGridOutCursor(this.find(filter, options), (file) => new GridOut(this.downloadSource(this.callTimeout()), { id: file._id }, file));
  }

  /** The files document of a revision of `filename` (default: the newest), or null. */
  async findFileByName(filename: string, options: { revision?: number } & GridFSCallOptions = {}): Promise<GridFSFile | null> {
    return this.findFile({ filename, revision: options.revision ?? -1 }, this.callTimeout(options));
  }

  // ------------------------------------------------------------------ management

  /** A cursor over the files documents matching `filter`, e.g. `{'metadata.owner': 'ann'}`. */
  find(filter: Document = {}, options?: FindCallOptions): FindCursor<GridFSFile> {
    return this.filesCollection.find(filter, options) as FindCursor<GridFSFile>;
  }

  /** Deletes the files document, then the chunks (orphaned chunks are removed even when the file is missing). */
  async delete(id: GridFSFileId, options?: GridFSCallOptions): Promise<void> {
    const timeout = this.callTimeout(options);
    const files = this.filesCollection;
    const chunks = this.chunksCollection;
    const { deletedCount } = await files.deleteOne(byId(id), timeout);
    await chunks.deleteMany({ files_id: { $eq: id } }, timeout);
    if (deletedCount === 0) throw fileNotFoundError({ id });
  }

  /** Deletes every revision of `filename`. */
  async deleteByName(filename: string, options?: GridFSCallOptions): Promise<void> {
    const timeout = this.callTimeout(options);
    const files = this.filesCollection;
    const chunks = this.chunksCollection;
    const ids = (await files.find({ filename }, { ...timeout, projection: { _id: 1 } }).toArray()).map((doc) => doc._id);
    if (ids.length === 0) throw fileNotFoundError({ filename, revision: -1 });
    await files.deleteMany({ _id: { $in: ids } }, timeout);
    await chunks.deleteMany({ files_id: { $in: ids } }, timeout);
  }

  /** Sets the `filename` of the file `id`. */
  async rename(id: GridFSFileId, newFilename: string, options?: GridFSCallOptions): Promise<void> {
    const files = this.filesCollection;
    const { matchedCount } = await files.updateOne(byId(id), { $set: { filename: newFilename } }, this.callTimeout(options));
    if (matchedCount === 0) throw fileNotFoundError({ id });
  }

  /** Renames every revision of `filename`. */
  async renameByName(filename: string, newFilename: string, options?: GridFSCallOptions): Promise<void> {
    const files = this.filesCollection;
    const { matchedCount } = await files.updateMany({ filename }, { $set: { filename: newFilename } }, this.callTimeout(options));
    if (matchedCount === 0) throw fileNotFoundError({ filename, revision: -1 });
  }

  /** Drops the files collection, then the chunks collection (one deadline for both). */
  async drop(options?: GridFSCallOptions): Promise<void> {
    const timeout = this.callTimeout(options);
    await this.filesCollection.drop(timeout);
    await this.chunksCollection.drop(timeout);
    this.indexCheck = undefined;
  }
}

/** `{_id: {$eq: id}}`: with `$eq`, an id that is a document is never read as query operators. */
function byId(id: GridFSFileId): Filter<GridFSFile> {
  return { _id: { $eq: id } } as Filter<GridFSFile>;
}

/** Copies a download into a writable without ending it, waiting for 'drain' when it is full. */
async function copyTo(download: GridFSBucketReadStream, destination: NodeJS.WritableStream): Promise<void> {
  for await (const chunk of download) {
    if (!destination.write(chunk as Buffer)) await once(destination as unknown as NodeJS.EventEmitter, 'drain');
  }
}
