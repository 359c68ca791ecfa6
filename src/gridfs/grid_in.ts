/**
 * Motor's `MotorGridIn`: an upload as an awaitable object.
 *
 *   const gridIn = bucket.openGridIn('report.csv', { contentType: 'text/csv' });
 *   await gridIn.write('a,b\n');
 *   await gridIn.writelines(rows);
 *   await gridIn.set('department', 'sales');   // extra files-document field
 *   await gridIn.close();                       // inserts the files document
 *
 * Attributes: `_id`, `filename`/`name`, `contentType`, `chunkSize`, `length`, `closed`, and after
 * `close()` `uploadDate` and `document`. `abort()` deletes the chunks written so far.
 */
import type { Document } from 'bson';
import { MongoGridFSStreamError } from '../errors';
import type { GridFSFile, GridFSFileId } from './gridfs_file';
import type { GridFSUpload } from './upload';

/** How GridIn updates its files document after close (`set`). */
export type SetFileField = (id: GridFSFileId, name: string, value: unknown) => Promise<void>;

const RESERVED_FIELDS = new Set(['_id', 'length', 'chunkSize', 'uploadDate', 'filename']);

export class GridIn {
  constructor(
    private readonly upload: GridFSUpload,
    private readonly setField: SetFileField,
    private readonly contentTypeValue?: string
  ) {}

  get _id(): GridFSFileId {
    return this.upload.id;
  }
  get filename(): string {
    return this.upload.filename;
  }
  /** Motor's alias of `filename`. */
  get name(): string {
    return this.upload.filename;
  }
  get contentType(): string | undefined {
    return this.contentTypeValue;
  }
  get chunkSize(): number {
    return this.upload.chunkSizeBytes;
  }
  /** Bytes written so far. */
  get length(): number {
    return this.upload.length;
  }
  /** True once `close()` inserted the files document (or after `abort()`). */
  get closed(): boolean {
    return this.upload.finished || this.upload.aborted;
  }
  /** The upload date (after close). */
  get uploadDate(): Date | undefined {
    return this.upload.file?.uploadDate;
  }
  /** The files document (after close). */
  get document(): GridFSFile | null {
    return this.upload.file;
  }

  async write(data: Uint8Array | string): Promise<void> {
    await this.upload.write(data);
  }

  /** Writes each item in turn (Python's `writelines`: no separators are added). */
  async writelines(lines: Iterable<Uint8Array | string> | AsyncIterable<Uint8Array | string>): Promise<void> {
    for await (const line of lines) await this.upload.write(line);
  }

  /**
   * Sets a top-level field of the files document: stored with it at close, or `$set` on it when
   * the file is already closed. `_id`, `length`, `chunkSize`, `uploadDate` and `filename` are
   * managed by GridFS.
   */
  async set(name: string, value: unknown): Promise<void> {
    if (RESERVED_FIELDS.has(name)) throw new MongoGridFSStreamError(`Cannot set the GridFS-managed field "${name}"`);
    if (this.upload.finished) {
      await this.setField(this.upload.id, name, value);
      const file = this.upload.file as GridFSFile;
      file[name] = value;
      return;
    }
    this.upload.extraFields[name] = value;
  }

  /** A field of the files document (after close), or a field given to `set` before it. */
  get(name: string): unknown {
    const file = this.upload.file as Document | null;
    return file ? file[name] : this.upload.extraFields[name];
  }

  /** Flushes the last chunk and inserts the files document. Closing twice is a no-op. */
  async close(): Promise<void> {
    if (this.upload.finished) return;
    await this.upload.finish();
  }

  /** Deletes the chunks written so far; the GridIn can no longer be written. */
  async abort(): Promise<void> {
    await this.upload.abort();
  }
}
