/**
 * The two drivers under test, loaded as installed packages (mongowire from the bench build,
 * `mongodb` from node_modules) and seen through the small API surface both share.
 */
import * as path from 'node:path';
import type { Document } from 'bson';
import { MONGOWIRE_DIR, OFFICIAL_DIR } from './build';

export interface CursorLike extends AsyncIterable<Document> {
  toArray(): Promise<Document[]>;
  close?(): Promise<void>;
}

export interface CollectionLike {
  findOne?(filter: Document): Promise<Document | null>;
  insertOne?(doc: Document): Promise<unknown>;
  insertMany?(docs: Document[]): Promise<unknown>;
  find?(filter: Document, options?: Document): CursorLike;
}

export interface DbLike {
  command(command: Document): Promise<Document>;
  collection(name: string): CollectionLike;
}

export interface ClientLike {
  connect(): Promise<unknown>;
  close(): Promise<void>;
  db(name: string): DbLike;
}

export interface UploadStreamLike extends NodeJS.WritableStream {
  readonly id: unknown;
}

export interface BucketLike {
  openUploadStream(filename: string): UploadStreamLike;
  openDownloadStream(id: unknown): NodeJS.ReadableStream;
}

export interface DriverModule {
  MongoClient: new (uri: string, options?: Document) => ClientLike;
  GridFSBucket?: new (db: DbLike, options?: Document) => BucketLike;
}

export type DriverName = 'mongowire' | 'official';

export interface Driver {
  name: DriverName;
  /** Package directory (what `require` loads). */
  dir: string;
  mod: DriverModule;
}

/** mongowire's GridFSBucket: from the package entry, or from src/gridfs while index.ts does not export it yet. */
function mongowireModule(): DriverModule {
  const mod = require(MONGOWIRE_DIR) as DriverModule;
  if (mod.GridFSBucket) return mod;
  try {
    const gridfs = require(path.join(MONGOWIRE_DIR, 'dist', 'cjs', 'gridfs')) as Pick<DriverModule, 'GridFSBucket'>;
    return { ...mod, GridFSBucket: gridfs.GridFSBucket };
  } catch {
    return mod;
  }
}

export function loadDrivers(): Driver[] {
  return [
    { name: 'mongowire', dir: MONGOWIRE_DIR, mod: mongowireModule() },
    { name: 'official', dir: OFFICIAL_DIR, mod: require(OFFICIAL_DIR) as DriverModule }
  ];
}
