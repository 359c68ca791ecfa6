/**
 * The two documents GridFS stores (gridfs-spec.md "Terms"): one files-collection document per
 * stored file and one chunks-collection document per `chunkSize` bytes of its content.
 */
import type { Document, ObjectId } from 'bson';

/**
 * A file id: an ObjectId by default, or any BSON value the application chose
 * (`openUploadStreamWithId`).
 */
export type GridFSFileId = ObjectId | string | number | bigint | Document;

/** A files-collection document (`<bucket>.files`). */
export interface GridFSFile {
  _id: GridFSFileId;
  /** Length of the file in bytes. */
  length: number;
  /** Size of every chunk but the last one. */
  chunkSize: number;
  uploadDate: Date;
  filename: string;
  metadata?: Document;
  /** Deprecated by the spec (store it in `metadata`), still read and written for Motor compatibility. */
  contentType?: string;
  /** Deprecated by the spec (store them in `metadata`). */
  aliases?: string[];
  /** Legacy MD5 checksum (hex), present on files written by older drivers. */
  md5?: string;
  /** Extra top-level attributes (Motor's `GridIn.set(name, value)`). */
  [key: string]: unknown;
}

/** A chunks-collection document (`<bucket>.chunks`). */
export interface GridFSChunk {
  _id: ObjectId;
  files_id: GridFSFileId;
  n: number;
  data: Uint8Array;
}

/** 255 KiB: the spec's default chunk size. */
export const DEFAULT_CHUNK_SIZE_BYTES = 255 * 1024;
