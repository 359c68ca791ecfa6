/**
 * The data: databases of collections, each with its documents (in insertion order), its indexes
 * (`_id_` always, unique ones enforced) and its creation options (views keep `viewOn`/`pipeline`).
 */
import { EJSON, type Document } from 'bson';
import { CommandError } from './command_error';
import { matches } from './query';
import { getPath, isTruthyFlag, valuesEqual } from './values';

export interface StoredIndex {
  name: string;
  key: Document;
  [option: string]: unknown;
}

export interface StoredCollection {
  documents: Document[];
  indexes: StoredIndex[];
  options: Document;
}

export const ID_INDEX: Readonly<StoredIndex> = { name: '_id_', key: { _id: 1 } };

export class Store {
  private readonly databases = new Map<string, Map<string, StoredCollection>>();

  clear(): void {
    this.databases.clear();
  }

  collection(db: string, coll: string): StoredCollection | undefined {
    return this.databases.get(db)?.get(coll);
  }

  /** The collection, created (with its `_id_` index) when missing. */
  ensure(db: string, coll: string, options: Document = {}): StoredCollection {
    let colls = this.databases.get(db);
    if (!colls) this.databases.set(db, (colls = new Map()));
    let c = colls.get(coll);
    // Views have no indexes; time series collections no unique _id index.
    if (!c) colls.set(coll, (c = { documents: [], indexes: options.viewOn || options.timeseries ? [] : [{ ...ID_INDEX }], options }));
    return c;
  }

  /** Replaces (or creates) a collection's contents. */
  seed(db: string, coll: string, documents: Document[]): StoredCollection {
    this.drop(db, coll);
    const c = this.ensure(db, coll);
    c.documents = documents.map((d) => ({ ...d }));
    return c;
  }

  drop(db: string, coll: string): boolean {
    const colls = this.databases.get(db);
    const dropped = colls?.delete(coll) ?? false;
    if (colls && colls.size === 0) this.databases.delete(db);
    return dropped;
  }

  dropDatabase(db: string): boolean {
    return this.databases.delete(db);
  }

  collectionNames(db: string): string[] {
    return [...(this.databases.get(db)?.keys() ?? [])];
  }

  databaseNames(): string[] {
    return [...this.databases.keys()].filter((d) => (this.databases.get(d)?.size ?? 0) > 0);
  }

  rename(fromDb: string, fromColl: string, toDb: string, toColl: string): void {
    const c = this.collection(fromDb, fromColl);
    if (!c) return;
    this.drop(fromDb, fromColl);
    this.drop(toDb, toColl);
    let colls = this.databases.get(toDb);
    if (!colls) this.databases.set(toDb, (colls = new Map()));
    colls.set(toColl, c);
  }
}

/** The values of an index's key fields in `doc` (missing fields are null). */
function indexKeyValue(index: StoredIndex, doc: Document): Document {
  const out: Document = {};
  for (const field of Object.keys(index.key)) out[field] = getPath(doc, field) ?? null;
  return out;
}

/** Whether a unique index covers `doc` (sparse indexes skip documents lacking every key field; partial ones those outside the filter). */
function indexCovers(index: StoredIndex, doc: Document): boolean {
  if (isTruthyFlag(index.sparse) && Object.keys(index.key).every((f) => getPath(doc, f) === undefined)) return false;
  if (index.partialFilterExpression !== undefined && !matches(doc, index.partialFilterExpression)) return false;
  return true;
}

function isUnique(index: StoredIndex): boolean {
  return index.name === '_id_' || isTruthyFlag(index.unique);
}

/**
 * Throws the E11000 error when `doc` would duplicate a unique key of `coll` (other than the
 * document it replaces, `self`).
 */
export function checkUnique(ns: string, coll: StoredCollection, doc: Document, self?: Document): void {
  for (const index of coll.indexes) {
    if (!isUnique(index) || !indexCovers(index, doc)) continue;
    const key = indexKeyValue(index, doc);
    const clash = coll.documents.some((other) => other !== self && indexCovers(index, other) && valuesEqual(indexKeyValue(index, other), key));
    if (clash) throw duplicateKey(ns, index, key);
  }
}

/** Throws E11000 when the documents already in `coll` violate the new unique `index`. */
export function checkIndexBuild(ns: string, coll: StoredCollection, index: StoredIndex): void {
  if (!isUnique(index)) return;
  const seen: Document[] = [];
  for (const doc of coll.documents) {
    if (!indexCovers(index, doc)) continue;
    const key = indexKeyValue(index, doc);
    if (seen.some((k) => valuesEqual(k, key))) throw duplicateKey(ns, index, key);
    seen.push(key);
  }
}

export function duplicateKey(ns: string, index: StoredIndex, keyValue: Document): CommandError {
  const shown = EJSON.stringify(keyValue, { relaxed: true }).replace(/"([^"]+)":/g, '$1: ').replace(/^\{/, '{ ').replace(/\}$/, ' }');
  return new CommandError(11000, 'DuplicateKey', `E11000 duplicate key error collection: ${ns} index: ${index.name} dup key: ${shown}`, {
    keyPattern: index.key,
    keyValue
  });
}
