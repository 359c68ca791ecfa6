/**
 * The in-memory data behind the mock deployment: databases of collections of documents, with
 * just enough of the query language to answer the unified tests' commands plausibly (equality
 * and comparison filters, `$and`/`$or`/`$in`/`$exists`, `$set`/`$unset`/`$inc`/`$push` updates,
 * sort on plain fields, inclusion/exclusion projections). It is not a database: anything it does
 * not model is answered generically by the command layer. Both drivers see the same answers,
 * which is what the differential mode needs.
 */
import { EJSON, ObjectId, type Document } from 'bson';
import { isDocument, toNumeric, valuesEqual } from './bson-values';

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

export class MockStore {
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
    if (!c) colls.set(coll, (c = { documents: [], indexes: [{ name: '_id_', key: { _id: 1 } }], options }));
    return c;
  }

  drop(db: string, coll: string): boolean {
    return this.databases.get(db)?.delete(coll) ?? false;
  }

  dropDatabase(db: string): void {
    this.databases.delete(db);
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
    const target = this.ensure(toDb, toColl, c.options);
    target.documents = c.documents;
    target.indexes = c.indexes;
  }
}

/** A deep copy through Extended JSON (keeps BSON types). */
export function cloneDocument<T>(doc: T): T {
  return EJSON.deserialize(EJSON.serialize(doc, { relaxed: false }), { relaxed: false }) as T;
}

// --------------------------------------------------------------------------------------- queries

export function getPath(doc: unknown, path: string): unknown {
  let value: unknown = doc;
  for (const part of path.split('.')) {
    if (Array.isArray(value) && /^\d+$/.test(part)) value = value[Number(part)];
    else if (isDocument(value)) value = value[part];
    else return undefined;
  }
  return value;
}

/** -1/0/1 ordering for sort and comparison operators: numbers by value, then strings, then EJSON text. */
export function compareValues(a: unknown, b: unknown): number {
  const na = toNumeric(a);
  const nb = toNumeric(b);
  if (na && nb) {
    const x = Number(na.value);
    const y = Number(nb.value);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (a === undefined || a === null) return b === undefined || b === null ? 0 : -1;
  if (b === undefined || b === null) return 1;
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  if (a instanceof Date && b instanceof Date) return a.getTime() - b.getTime();
  const sa = JSON.stringify(EJSON.serialize({ v: a }));
  const sb = JSON.stringify(EJSON.serialize({ v: b }));
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}

function matchesCondition(value: unknown, condition: unknown): boolean {
  if (isDocument(condition) && Object.keys(condition).some((k) => k.startsWith('$'))) {
    return Object.entries(condition).every(([op, arg]) => matchesOperator(value, op, arg));
  }
  if (Array.isArray(value) && !Array.isArray(condition)) return value.some((v) => valuesEqual(v, condition));
  if (condition === null) return value === null || value === undefined;
  return valuesEqual(value, condition);
}

function matchesOperator(value: unknown, op: string, arg: unknown): boolean {
  const values = Array.isArray(value) ? [value, ...value] : [value];
  switch (op) {
    case '$eq':
      return matchesCondition(value, arg);
    case '$ne':
      return !matchesCondition(value, arg);
    case '$gt':
      return values.some((v) => v !== undefined && compareValues(v, arg) > 0);
    case '$gte':
      return values.some((v) => v !== undefined && compareValues(v, arg) >= 0);
    case '$lt':
      return values.some((v) => v !== undefined && compareValues(v, arg) < 0);
    case '$lte':
      return values.some((v) => v !== undefined && compareValues(v, arg) <= 0);
    case '$in':
      return Array.isArray(arg) && arg.some((a) => matchesCondition(value, a));
    case '$nin':
      return Array.isArray(arg) && !arg.some((a) => matchesCondition(value, a));
    case '$exists':
      return (value !== undefined) === !!arg;
    case '$not':
      return !matchesCondition(value, arg);
    default:
      // Operators not modeled ($regex, $expr, …) match everything.
      return true;
  }
}

export function matchesFilter(doc: Document, filter: unknown): boolean {
  if (!isDocument(filter)) return true;
  return Object.entries(filter).every(([key, condition]) => {
    if (key === '$and') return Array.isArray(condition) && condition.every((f) => matchesFilter(doc, f));
    if (key === '$or') return Array.isArray(condition) && condition.some((f) => matchesFilter(doc, f));
    if (key === '$nor') return Array.isArray(condition) && !condition.some((f) => matchesFilter(doc, f));
    if (key.startsWith('$')) return true;
    return matchesCondition(getPath(doc, key), condition);
  });
}

export function sortDocuments(docs: Document[], sort: unknown): Document[] {
  if (!isDocument(sort) || Object.keys(sort).length === 0) return docs;
  const keys = Object.entries(sort).map(([k, dir]) => [k, Number(toNumeric(dir)?.value ?? 1) < 0 ? -1 : 1] as const);
  return [...docs].sort((a, b) => {
    for (const [k, dir] of keys) {
      const c = compareValues(getPath(a, k), getPath(b, k));
      if (c !== 0) return c * dir;
    }
    return 0;
  });
}

export function project(doc: Document, projection: unknown): Document {
  if (!isDocument(projection) || Object.keys(projection).length === 0) return doc;
  const entries = Object.entries(projection);
  const included = entries.filter(([k, v]) => k !== '_id' && isTruthy(v)).map(([k]) => k);
  const idOnly = entries.length === 1 && entries[0][0] === '_id' && isTruthy(entries[0][1]);
  if (included.length > 0 || idOnly) {
    const out: Document = {};
    if (projection._id === undefined || isTruthy(projection._id)) out._id = doc._id;
    for (const k of included) if (doc[k] !== undefined) out[k] = doc[k];
    return out;
  }
  const out: Document = { ...doc };
  for (const [k] of entries) delete out[k];
  return out;
}

function isTruthy(v: unknown): boolean {
  const n = toNumeric(v);
  return n ? n.value !== 0 && n.value !== 0n : !!v;
}

// --------------------------------------------------------------------------------------- updates

/** Applies an update document (operators) or a replacement; pipelines are not modeled (no change). */
export function applyUpdate(doc: Document, update: unknown): Document {
  if (Array.isArray(update)) return doc;
  if (!isDocument(update)) return doc;
  const isOperatorUpdate = Object.keys(update).some((k) => k.startsWith('$'));
  if (!isOperatorUpdate) return { _id: doc._id, ...update };
  const out = cloneDocument(doc);
  for (const [op, fields] of Object.entries(update)) {
    if (!isDocument(fields)) continue;
    for (const [path, value] of Object.entries(fields)) {
      switch (op) {
        case '$set':
          setPath(out, path, value);
          break;
        case '$unset':
          unsetPath(out, path);
          break;
        case '$inc': {
          const current = toNumeric(getPath(out, path));
          const by = toNumeric(value);
          setPath(out, path, Number(current?.value ?? 0) + Number(by?.value ?? 0));
          break;
        }
        case '$push': {
          const current = getPath(out, path);
          setPath(out, path, [...(Array.isArray(current) ? current : []), value]);
          break;
        }
        default:
          break;
      }
    }
  }
  return out;
}

function setPath(doc: Document, path: string, value: unknown): void {
  const parts = path.split('.');
  let target: Document = doc;
  for (const part of parts.slice(0, -1)) {
    if (!isDocument(target[part])) target[part] = {};
    target = target[part] as Document;
  }
  target[parts[parts.length - 1]] = value;
}

function unsetPath(doc: Document, path: string): void {
  const parts = path.split('.');
  const parent = getPath(doc, parts.slice(0, -1).join('.'));
  const container = parts.length === 1 ? doc : parent;
  if (isDocument(container)) delete container[parts[parts.length - 1]];
}

/** The equality fields of a filter, used as the base of an upserted document. */
export function upsertBase(filter: unknown): Document {
  const out: Document = {};
  if (!isDocument(filter)) return out;
  for (const [k, v] of Object.entries(filter)) {
    if (k.startsWith('$')) continue;
    if (isDocument(v) && Object.keys(v).some((x) => x.startsWith('$'))) {
      if ('$eq' in v) out[k] = v.$eq;
      continue;
    }
    out[k] = v;
  }
  return out;
}

export function ensureId(doc: Document): Document {
  return doc._id === undefined ? { _id: new ObjectId(), ...doc } : doc;
}
