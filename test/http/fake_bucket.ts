/** An in-memory stand-in for GridFSBucket, as the HTTP handler sees it. */
import { Readable } from 'node:stream';
import { ObjectId } from 'bson';
import type { GridFSFile, GridFSFileId } from '../../src/gridfs/gridfs_file';
import type { GridFSHandlerBucket } from '../../src/gridfs/http_handler';

export interface FakeEntry {
  file: GridFSFile;
  /** The stored bytes, or a generator of `length` bytes (large synthetic files). */
  data?: Buffer;
}

export class FakeBucket implements GridFSHandlerBucket {
  readonly files = new Map<string, FakeEntry>();
  readonly downloads: Array<{ id: GridFSFileId; start?: number; end?: number }> = [];
  /** Chunk size of the synthetic streams. */
  pieceSize = 64 * 1024;

  add(filename: string, data: Buffer, extra: Partial<GridFSFile> = {}): GridFSFile {
    const file: GridFSFile = {
      _id: new ObjectId(),
      filename,
      length: data.length,
      chunkSize: 255 * 1024,
      uploadDate: new Date('2024-03-01T10:20:30.456Z'),
      ...extra
    };
    this.files.set(filename, { file, data });
    return file;
  }

  /** A file of `length` zero-ish bytes that are generated while streaming (never held in memory). */
  addSynthetic(filename: string, length: number): GridFSFile {
    const file: GridFSFile = { _id: new ObjectId(), filename, length, chunkSize: 255 * 1024, uploadDate: new Date() };
    this.files.set(filename, { file });
    return file;
  }

  async findFileByName(filename: string): Promise<GridFSFile | null> {
    return this.files.get(filename)?.file ?? null;
  }

  openDownloadStream(id: GridFSFileId, options?: { start?: number; end?: number }): Readable {
    this.downloads.push({ id, start: options?.start, end: options?.end });
    const entry = Array.from(this.files.values()).find((e) => e.file._id === id);
    if (!entry) throw new Error('no such id');
    const start = options?.start ?? 0;
    const end = options?.end ?? entry.file.length;
    if (entry.data) {
      const data = entry.data.subarray(start, end);
      const pieces: Buffer[] = [];
      for (let i = 0; i < data.length; i += this.pieceSize) pieces.push(data.subarray(i, i + this.pieceSize));
      return Readable.from(pieces, { objectMode: false });
    }
    let position = start;
    const pieceSize = this.pieceSize;
    return new Readable({
      read() {
        if (position >= end) {
          this.push(null);
          return;
        }
        const n = Math.min(pieceSize, end - position);
        position += n;
        this.push(Buffer.alloc(n, 7));
      }
    });
  }
}
