/**
 * The data: databases of collections, each with its documents (in insertion order), its indexes
 * (`_id_` always, unique ones enforced) and its creation options (views keep `viewOn`/`pipeline`).
 */
import { EJSON, type Document } from 'bson';
import { CommandError } from './command_error';
import { matches } from './query';
import { getPath, isDocument, isTruthyFlag, toNumber } from './values';

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

/** A canonical string for an index key value: equal values (1, 1.0, Long 1) give equal strings. */
function keyString(value: unknown): string {
  if (value === undefined || value === null) return 'null';
  const n = toNumber(value);
  if (n !== undefined) return `n${n}`;
  if (typeof value === 'string') return `s${JSON.stringify(value)}`;
  if (Array.isArray(value)) return `[${value.map(keyString).join(',')}]`;
  if (value instanceof Date) return `d${value.getTime()}`;
  if (isDocument(value)) return `{${Object.entries(value).map(([k, v]) => `${JSON.stringify(k)}:${keyString(v)}`).join(',')}}`;
  return `x${EJSON.stringify({ v: value }, { relaxed: false })}`;
}

/**
 * The unique keys of a collection, for checking a command's writes: built once per command from
 * the documents, then kept up to date by `insert`/`replace` (E11000 when a key would repeat).
 */
export class UniqueKeys {
  private readonly indexes: Array<{ index: StoredIndex; counts: Map<string, number> }>;

  constructor(
    private readonly ns: string,
    coll: StoredCollection
  ) {
    this.indexes = coll.indexes.filter(isUnique).map((index) => ({ index, counts: new Map<string, number>() }));
    for (const doc of coll.documents) this.add(doc);
  }

  private keys(doc: Document): Array<string | undefined> {
    return this.indexes.map(({ index }) => (indexCovers(index, doc) ? keyString(indexKeyValue(index, doc)) : undefined));
  }

  private add(doc: Document): void {
    this.keys(doc).forEach((key, i) => {
      if (key !== undefined) this.indexes[i].counts.set(key, (this.indexes[i].counts.get(key) ?? 0) + 1);
    });
  }

  private remove(doc: Document): void {
    this.keys(doc).forEach((key, i) => {
      if (key === undefined) return;
      const left = (this.indexes[i].counts.get(key) ?? 1) - 1;
      if (left > 0) this.indexes[i].counts.set(key, left);
      else this.indexes[i].counts.delete(key);
    });
  }

  /** Throws E11000 if `doc` would repeat a key (of the documents other than `replacing`). */
  check(doc: Document, replacing?: Document): void {
    const own = replacing ? this.keys(replacing) : [];
    this.keys(doc).forEach((key, i) => {
      if (key === undefined) return;
      const taken = (this.indexes[i].counts.get(key) ?? 0) - (own[i] === key ? 1 : 0);
      if (taken > 0) throw duplicateKey(this.ns, this.indexes[i].index, indexKeyValue(this.indexes[i].index, doc));
    });
  }

  /** Checks and records a new document. */
  insert(doc: Document): void {
    this.check(doc);
    this.add(doc);
  }

  /** Checks and records a document replacing another. */
  replace(before: Document, after: Document): void {
    this.check(after, before);
    this.remove(before);
    this.add(after);
  }
}

/** Throws E11000 when the documents already in `coll` violate the new unique `index`. */
export function checkIndexBuild(ns: string, coll: StoredCollection, index: StoredIndex): void {
  const keys = new UniqueKeys(ns, { documents: [], indexes: [index], options: {} });
  for (const doc of coll.documents) keys.insert(doc);
}

export function duplicateKey(ns: string, index: StoredIndex, keyValue: Document): CommandError {
  const shown = EJSON.stringify(keyValue, { relaxed: true }).replace(/"([^"]+)":/g, '$1: ').replace(/^\{/, '{ ').replace(/\}$/, ' }');
  return new CommandError(11000, 'DuplicateKey', `E11000 duplicate key error collection: ${ns} index: ${index.name} dup key: ${shown}`, {
    keyPattern: index.key,
    keyValue
  });
}
