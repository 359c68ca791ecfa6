/**
 * Motor's `MotorGridOut`: a stored file as an object with a read position.
 *
 * `await gridOut.open()` loads the files document (FileNotFound otherwise) and fills the
 * attributes (`_id`, `filename`/`name`, `length`, `chunkSize`, `uploadDate`, `metadata`,
 * `contentType`, `aliases`, `md5`). Then `read(size?)`, `readline(size?)`, `readChunk()` read from
 * the position, `seek(pos, whence?)` / `tell()` move it. Sequential reads reuse one chunk cursor;
 * a seek outside the current chunk starts a new one at the right chunk. `for await` yields the
 * rest of the file chunk by chunk.
 */
import { MongoGridFSStreamError, MongoInvalidArgumentError } from '../errors';
import { ChunkReader, fileNotFoundError, type DownloadSource, type GridFSFileLookup } from './download';
import type { GridFSFile, GridFSFileId } from './gridfs_file';
import type { Document } from 'bson';

/** `seek` origins, as in Python's `io` module. */
export const SEEK_SET = 0;
export const SEEK_CUR = 1;
export const SEEK_END = 2;

const NEWLINE = 0x0a;

export class GridOut implements AsyncIterable<Buffer> {
  private fileDocument: GridFSFile | null;
  private position = 0;
  private reader?: ChunkReader;
  /** The chunk that holds `position`, once read. */
  private current?: { n: number; data: Buffer };

  constructor(
    private readonly source: DownloadSource,
    private readonly lookup: GridFSFileLookup,
    file: GridFSFile | null = null
  ) {
    this.fileDocument = file;
  }

  /** Loads the files document (once). Throws FileNotFound (`code: 'ENOENT'`). */
  async open(): Promise<this> {
    if (!this.fileDocument) {
      const file = await this.source.findFile(this.lookup);
      if (!file) throw fileNotFoundError(this.lookup);
      this.fileDocument = file;
    }
    return this;
  }

  private get file(): GridFSFile {
    if (!this.fileDocument) throw new MongoGridFSStreamError('GridOut is not open: await gridOut.open() first');
    return this.fileDocument;
  }

  // ------------------------------------------------------------------ attributes

  /** The whole files document. */
  get document(): GridFSFile {
    return this.file;
  }
  get _id(): GridFSFileId {
    return this.file._id;
  }
  get filename(): string {
    return this.file.filename;
  }
  /** Motor's alias of `filename`. */
  get name(): string {
    return this.file.filename;
  }
  get length(): number {
    return this.file.length;
  }
  get chunkSize(): number {
    return this.file.chunkSize;
  }
  get uploadDate(): Date {
    return this.file.uploadDate;
  }
  get metadata(): Document | undefined {
    return this.file.metadata;
  }
  get contentType(): string | undefined {
    return this.file.contentType;
  }
  get aliases(): string[] | undefined {
    return this.file.aliases;
  }
  get md5(): string | undefined {
    return this.file.md5;
  }
  /** Any other field of the files document (Motor: attribute access). */
  get(name: string): unknown {
    return this.file[name];
  }

  // ------------------------------------------------------------------ position

  tell(): number {
    return this.position;
  }

  /** Moves the position (`whence`: SEEK_SET, SEEK_CUR, SEEK_END); returns the new position. */
  seek(offset: number, whence: number = SEEK_SET): number {
    const base = whence === SEEK_SET ? 0 : whence === SEEK_CUR ? this.position : whence === SEEK_END ? this.file.length : Number.NaN;
    if (Number.isNaN(base)) throw new MongoInvalidArgumentError(`Invalid whence ${whence}: use SEEK_SET (0), SEEK_CUR (1) or SEEK_END (2)`);
    const target = base + offset;
    if (!Number.isInteger(target) || target < 0) throw new MongoInvalidArgumentError(`Cannot seek to position ${target}`);
    this.position = target;
    return target;
  }

  // ------------------------------------------------------------------ reading

  /** The rest of the chunk holding the position (empty at the end of the file); advances past it. */
  async readChunk(): Promise<Buffer> {
    const bytes = await this.bytesAtPosition();
    if (!bytes) return Buffer.alloc(0);
    this.position += bytes.length;
    return bytes;
  }

  /** Up to `size` bytes (all the rest when `size` is omitted or negative). */
  async read(size = -1): Promise<Buffer> {
    await this.open();
    const remaining = Math.max(0, this.file.length - this.position);
    const wanted = size < 0 ? remaining : Math.min(size, remaining);
    return this.collect(wanted, false);
  }

  /** Up to and including the next newline, at most `size` bytes. */
  async readline(size = -1): Promise<Buffer> {
    await this.open();
    const remaining = Math.max(0, this.file.length - this.position);
    return this.collect(size < 0 ? remaining : Math.min(size, remaining), true);
  }

  private async collect(wanted: number, stopAtNewline: boolean): Promise<Buffer> {
    const pieces: Buffer[] = [];
    let got = 0;
    while (got < wanted) {
      const bytes = await this.bytesAtPosition();
      if (!bytes) break;
      let take = Math.min(bytes.length, wanted - got);
      if (stopAtNewline) {
        const newline = bytes.subarray(0, take).indexOf(NEWLINE);
        if (newline >= 0) take = newline + 1;
      }
      pieces.push(bytes.subarray(0, take));
      got += take;
      this.position += take;
      if (stopAtNewline && pieces[pieces.length - 1][take - 1] === NEWLINE) break;
    }
    return pieces.length === 1 ? pieces[0] : Buffer.concat(pieces, got);
  }

  /** The bytes from the position to the end of its chunk, or null at the end of the file. */
  private async bytesAtPosition(): Promise<Buffer | null> {
    await this.open();
    const file = this.file;
    if (this.position >= file.length) return null;
    const n = Math.floor(this.position / file.chunkSize);
    if (!this.current || this.current.n !== n) {
      if (!this.reader || this.reader.nextN !== n) {
        await this.reader?.close();
        this.reader = new ChunkReader(this.source, file, n);
      }
      const data = await this.reader.next();
      if (!data) return null;
      this.current = { n, data };
    }
    return this.current.data.subarray(this.position - n * file.chunkSize);
  }

  /** The rest of the file, chunk by chunk. */
  async *[Symbol.asyncIterator](): AsyncGenerator<Buffer, void, void> {
    try {
      for (;;) {
        const chunk = await this.readChunk();
        if (chunk.length === 0) return;
        yield chunk;
      }
    } finally {
      await this.close();
    }
  }

  /** Releases the chunk cursor (reading again reopens one). */
  async close(): Promise<void> {
    const reader = this.reader;
    this.reader = undefined;
    this.current = undefined;
    await reader?.close();
  }
}
