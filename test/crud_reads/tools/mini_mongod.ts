/**
 * A tiny in-memory "mongod" on top of the mock server, enough to answer the read, index and
 * collection-management commands of the CRUD spec tests with real data: find (filter, sort,
 * skip, limit, batchSize, singleBatch, projection), getMore/killCursors with server-side cursors,
 * aggregate ($match, $sort, $skip, $limit, $project, $addFields, $group count/sum, $count,
 * $documents, $out, $merge, $listLocalSessions), count, distinct, listCollections, listIndexes,
 * create, drop, createIndexes, dropIndexes, renameCollection, listDatabases.
 *
 * The query language covers what the spec tests use: equality, $eq/$ne/$gt/$gte/$lt/$lte/$in/
 * $nin/$exists, $and/$or, dotted paths. Collation, hint and let are accepted and ignored.
 */
import { Long, type Document } from 'bson';
import { errorReply, type MockReply, type MockServer, type RecordedCommand } from '../../tools/mock_server';

interface StoredCollection {
  documents: Document[];
  indexes: Document[];
  options: Document;
}

interface ServerCursor {
  ns: string;
  remaining: Document[];
}

/** A one-shot error for the next command of a given name. */
export interface InjectedError {
  commandName: string;
  reply: MockReply;
}

/** Per-command evaluation settings: collation strength ≤ 2 compares strings case-insensitively; `let` variables. */
const context = { caseInsensitive: false, vars: {} as Document };

export class MiniMongod {
  private readonly collections = new Map<string, StoredCollection>();
  private readonly cursors = new Map<string, ServerCursor>();
  private nextCursorId = 1000;
  private readonly injected: InjectedError[] = [];

  constructor(readonly server: MockServer) {
    for (const name of [
      'find', 'getMore', 'killCursors', 'aggregate', 'count', 'distinct', 'listCollections', 'listIndexes', 'create', 'drop',
      'dropDatabase', 'createIndexes', 'dropIndexes', 'renameCollection', 'listDatabases', 'insert', 'validate', 'dbStats'
    ]) {
      server.setHandler(name, (request) => this.handle(request));
    }
  }

  /** Replaces a collection's contents (initialData). */
  seed(db: string, collection: string, documents: Document[]): void {
    this.collections.set(`${db}.${collection}`, { documents: documents.map((d) => ({ ...d })), indexes: [{ v: 2, key: { _id: 1 }, name: '_id_' }], options: {} });
  }

  contents(db: string, collection: string): Document[] | undefined {
    return this.collections.get(`${db}.${collection}`)?.documents;
  }

  exists(db: string, collection: string): boolean {
    return this.collections.has(`${db}.${collection}`);
  }

  reset(): void {
    this.collections.clear();
    this.cursors.clear();
    this.injected.length = 0;
  }

  injectError(error: InjectedError): void {
    this.injected.push(error);
  }

  /** Open server cursors (for leak checks). */
  get openCursorCount(): number {
    return this.cursors.size;
  }

  private handle(request: RecordedCommand): MockReply {
    try {
      return this.answer(request);
    } catch (error) {
      if (error instanceof MiniError) return error.reply;
      throw error;
    }
  }

  private answer(request: RecordedCommand): MockReply {
    const injected = this.injected.findIndex((e) => e.commandName === request.commandName);
    if (injected >= 0) return this.injected.splice(injected, 1)[0].reply;
    const body = request.body;
    const db = request.db;
    const collation = body.collation as Document | undefined;
    context.caseInsensitive = !!collation && Number(collation.strength ?? 3) <= 2;
    context.vars = Object.fromEntries(Object.entries((body.let as Document | undefined) ?? {}).map(([k, v]) => [k, evaluate({}, v)]));
    switch (request.commandName) {
      case 'find': {
        let docs = this.source(db, String(body.find)).filter((d) => matches(d, (body.filter as Document) ?? {}));
        if (body.sort) docs = sortDocuments(docs, body.sort as Document);
        if (typeof body.skip === 'number') docs = docs.slice(body.skip);
        if (typeof body.limit === 'number' && body.limit > 0) docs = docs.slice(0, body.limit);
        if (body.projection) docs = docs.map((d) => project(d, body.projection as Document));
        return this.openCursor(`${db}.${String(body.find)}`, docs, num(body.batchSize), body.singleBatch === true);
      }
      case 'getMore': {
        const id = Long.isLong(body.getMore) ? body.getMore.toString() : String(body.getMore);
        const cursor = this.cursors.get(id);
        if (!cursor) return errorReply(43, `cursor id ${id} not found`, { codeName: 'CursorNotFound' });
        const size = num(body.batchSize) ?? cursor.remaining.length;
        const batch = cursor.remaining.splice(0, size || cursor.remaining.length);
        const done = cursor.remaining.length === 0;
        if (done) this.cursors.delete(id);
        return { cursor: { id: done ? Long.ZERO : Long.fromString(id), ns: cursor.ns, nextBatch: batch }, ok: 1 };
      }
      case 'killCursors': {
        const ids = (body.cursors as unknown[]).map((c) => String(c));
        for (const id of ids) this.cursors.delete(id);
        return { cursorsKilled: body.cursors, cursorsNotFound: [], cursorsAlive: [], cursorsUnknown: [], ok: 1 };
      }
      case 'aggregate': {
        const target = body.aggregate;
        const source = typeof target === 'string' ? this.source(db, target) : [];
        const docs = this.runPipeline(db, source, body.pipeline as Document[], body.lsid as Document | undefined);
        const ns = typeof target === 'string' ? `${db}.${target}` : `${db}.$cmd.aggregate`;
        return this.openCursor(ns, docs, num((body.cursor as Document | undefined)?.batchSize), false);
      }
      case 'count': {
        return { n: this.source(db, String(body.count)).filter((d) => matches(d, (body.query as Document) ?? {})).length, ok: 1 };
      }
      case 'distinct': {
        const values: unknown[] = [];
        for (const d of this.source(db, String(body.distinct)).filter((x) => matches(x, (body.query as Document) ?? {}))) {
          const v = getPath(d, String(body.key));
          if (v !== undefined && !values.some((x) => compare(x, v) === 0)) values.push(v);
        }
        return { values, ok: 1 };
      }
      case 'listCollections': {
        const infos: Document[] = [];
        for (const [ns, coll] of this.collections) {
          if (!ns.startsWith(`${db}.`)) continue;
          const name = ns.slice(db.length + 1);
          const info: Document = body.nameOnly ? { name, type: 'collection' } : { name, type: 'collection', options: coll.options, info: { readOnly: false } };
          if (matches(info, (body.filter as Document) ?? {})) infos.push(info);
        }
        return this.openCursor(`${db}.$cmd.listCollections`, infos, num((body.cursor as Document | undefined)?.batchSize), false);
      }
      case 'listIndexes': {
        const coll = this.collections.get(`${db}.${body.listIndexes}`);
        if (!coll) return errorReply(26, `ns does not exist: ${db}.${String(body.listIndexes)}`, { codeName: 'NamespaceNotFound' });
        return this.openCursor(`${db}.${String(body.listIndexes)}`, coll.indexes, num((body.cursor as Document | undefined)?.batchSize), false);
      }
      case 'create': {
        const ns = `${db}.${body.create}`;
        if (this.collections.has(ns)) return errorReply(48, `Collection ${ns} already exists.`, { codeName: 'NamespaceExists' });
        const { create: _c, lsid: _l, $db: _d, $clusterTime: _t, writeConcern: _w, $readPreference: _r, ...options } = body;
        let indexes: Document[] = [{ v: 2, key: { _id: 1 }, name: '_id_' }];
        if (options.clusteredIndex) {
          const ci = options.clusteredIndex as Document;
          options.clusteredIndex = { v: 2, ...ci, name: ci.name ?? '_id_' };
          indexes = [{ v: 2, key: ci.key, name: ci.name ?? '_id_', unique: ci.unique, clustered: true }];
        }
        this.collections.set(ns, { documents: [], indexes: options.viewOn ? [] : indexes, options });
        return { ok: 1 };
      }
      case 'drop': {
        const ns = `${db}.${body.drop}`;
        if (!this.collections.delete(ns)) return errorReply(26, 'ns not found', { codeName: 'NamespaceNotFound' });
        return { ns, nIndexesWas: 1, ok: 1 };
      }
      case 'dropDatabase': {
        for (const ns of [...this.collections.keys()]) if (ns.startsWith(`${db}.`)) this.collections.delete(ns);
        return { ok: 1 };
      }
      case 'createIndexes': {
        const coll = this.ensure(`${db}.${body.createIndexes}`);
        const before = coll.indexes.length;
        for (const index of body.indexes as Document[]) {
          if (!coll.indexes.some((i) => i.name === index.name)) coll.indexes.push({ v: 2, ...index });
        }
        return { numIndexesBefore: before, numIndexesAfter: coll.indexes.length, createdCollectionAutomatically: false, ok: 1 };
      }
      case 'dropIndexes': {
        const coll = this.collections.get(`${db}.${body.dropIndexes}`);
        if (!coll) return errorReply(26, 'ns not found', { codeName: 'NamespaceNotFound' });
        const before = coll.indexes.length;
        if (body.index === '*') coll.indexes = coll.indexes.filter((i) => i.name === '_id_');
        else {
          const i = coll.indexes.findIndex((x) => x.name === body.index);
          if (i < 0) return errorReply(27, `index not found with name [${String(body.index)}]`, { codeName: 'IndexNotFound' });
          coll.indexes.splice(i, 1);
        }
        return { nIndexesWas: before, ok: 1 };
      }
      case 'renameCollection': {
        const from = this.collections.get(String(body.renameCollection));
        if (!from) return errorReply(26, 'source namespace does not exist', { codeName: 'NamespaceNotFound' });
        if (this.collections.has(String(body.to)) && !body.dropTarget) return errorReply(48, 'target namespace exists', { codeName: 'NamespaceExists' });
        this.collections.delete(String(body.renameCollection));
        this.collections.set(String(body.to), from);
        return { ok: 1 };
      }
      case 'listDatabases': {
        const names = new Set([...this.collections.keys()].map((ns) => ns.slice(0, ns.indexOf('.'))));
        const databases = [...names].map((name) => (body.nameOnly ? { name } : { name, sizeOnDisk: 8192, empty: false }));
        return { databases: databases.filter((d) => matches(d, (body.filter as Document) ?? {})), totalSize: 8192 * names.size, ok: 1 };
      }
      case 'insert': {
        const coll = this.ensure(`${db}.${body.insert}`);
        for (const d of body.documents as Document[]) coll.documents.push({ ...d });
        return { n: (body.documents as Document[]).length, ok: 1 };
      }
      case 'validate':
        return { ns: `${db}.${body.validate}`, valid: this.collections.has(`${db}.${body.validate}`), ok: 1 };
      case 'dbStats':
        return { db, collections: [...this.collections.keys()].filter((ns) => ns.startsWith(`${db}.`)).length, ok: 1 };
      default:
        return errorReply(59, `no such command: '${request.commandName}'`, { codeName: 'CommandNotFound' });
    }
  }

  /** A collection's documents; a view's are its pipeline applied to its source. */
  private source(db: string, name: string): Document[] {
    const coll = this.collections.get(`${db}.${name}`);
    if (!coll) return [];
    if (typeof coll.options.viewOn === 'string') {
      return this.runPipeline(db, this.source(db, coll.options.viewOn), (coll.options.pipeline as Document[] | undefined) ?? []);
    }
    return coll.documents;
  }

  private ensure(ns: string): StoredCollection {
    let coll = this.collections.get(ns);
    if (!coll) {
      coll = { documents: [], indexes: [{ v: 2, key: { _id: 1 }, name: '_id_' }], options: {} };
      this.collections.set(ns, coll);
    }
    return coll;
  }

  private openCursor(ns: string, docs: Document[], batchSize: number | undefined, singleBatch: boolean): Document {
    const size = batchSize === undefined || batchSize === 0 ? 101 : batchSize;
    const firstBatch = docs.slice(0, size);
    const remaining = docs.slice(size);
    let id = Long.ZERO;
    if (remaining.length > 0 && !singleBatch) {
      id = Long.fromNumber(this.nextCursorId++);
      this.cursors.set(id.toString(), { ns, remaining });
    }
    return { cursor: { id, ns, firstBatch }, ok: 1 };
  }

  private runPipeline(db: string, source: Document[], pipeline: Document[], lsid?: Document): Document[] {
    let docs = source.map((d) => ({ ...d }));
    for (const stage of pipeline) {
      const [name, spec] = Object.entries(stage)[0] as [string, unknown];
      switch (name) {
        case '$match':
          docs = docs.filter((d) => matches(d, spec as Document));
          break;
        case '$sort':
          docs = sortDocuments(docs, spec as Document);
          break;
        case '$skip':
          docs = docs.slice(Number(spec));
          break;
        case '$limit':
          docs = docs.slice(0, Number(spec));
          break;
        case '$project':
          docs = docs.map((d) => project(d, spec as Document));
          break;
        case '$addFields':
        case '$set':
          docs = docs.map((d) => {
            const out = { ...d };
            for (const [k, v] of Object.entries(spec as Document)) out[k] = evaluate(d, v);
            return out;
          });
          break;
        case '$count':
          docs = [{ [String(spec)]: docs.length }];
          break;
        case '$group': {
          const g = spec as Document;
          if (docs.length === 0) break;
          const out: Document = { _id: g._id };
          for (const [k, acc] of Object.entries(g)) {
            if (k === '_id') continue;
            const sumOf = (acc as Document).$sum;
            out[k] = docs.reduce((total, d) => total + Number(evaluate(d, sumOf)), 0);
          }
          docs = [out];
          break;
        }
        case '$documents':
          docs = (spec as Document[]).map((d) => ({ ...d }));
          break;
        case '$listLocalSessions':
          // The session of this very command is the one the server knows about.
          docs = lsid ? [{ _id: lsid }] : [];
          break;
        case '$out': {
          const target = typeof spec === 'string' ? `${db}.${spec}` : `${(spec as Document).db}.${(spec as Document).coll}`;
          this.ensure(target).documents = docs.map((d) => ({ ...d }));
          docs = [];
          break;
        }
        case '$merge': {
          const into = (spec as Document).into;
          const target = typeof into === 'string' ? `${db}.${into}` : `${(into as Document).db}.${(into as Document).coll}`;
          const coll = this.ensure(target);
          for (const d of docs) {
            const i = coll.documents.findIndex((x) => compare(x._id, d._id) === 0);
            if (i >= 0 && (spec as Document).whenMatched === 'fail') {
              throw new MiniError({ ok: 0, code: 11000, codeName: 'DuplicateKey', errmsg: 'E11000 duplicate key error', keyPattern: { _id: 1 }, keyValue: { _id: d._id } });
            }
            if (i >= 0) coll.documents[i] = { ...coll.documents[i], ...d };
            else coll.documents.push({ ...d });
          }
          docs = [];
          break;
        }
        default:
          throw new Error(`mini mongod: unsupported stage ${name}`);
      }
    }
    return docs;
  }
}

/** A server error raised while evaluating a command. */
class MiniError extends Error {
  constructor(readonly reply: Document) {
    super(String(reply.errmsg));
  }
}

function num(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (Long.isLong(value)) return value.toNumber();
  return undefined;
}

export function getPath(doc: unknown, path: string): unknown {
  let value: unknown = doc;
  for (const part of path.split('.')) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Document)[part];
  }
  return value;
}

function plain(value: unknown): unknown {
  if (value && typeof value === 'object' && typeof (value as { valueOf(): unknown }).valueOf === 'function') {
    const bsontype = (value as { _bsontype?: string })._bsontype;
    if (bsontype === 'Int32' || bsontype === 'Double') return Number((value as { valueOf(): unknown }).valueOf());
    if (bsontype === 'Long') return (value as Long).toNumber();
  }
  return value;
}

function compare(a: unknown, b: unknown): number {
  const x = plain(a);
  const y = plain(b);
  if (typeof x === 'number' && typeof y === 'number') return x - y;
  if (typeof x === 'string' && typeof y === 'string') {
    const [p, q] = context.caseInsensitive ? [x.toLowerCase(), y.toLowerCase()] : [x, y];
    return p < q ? -1 : p > q ? 1 : 0;
  }
  return JSON.stringify(x) === JSON.stringify(y) ? 0 : JSON.stringify(x) < JSON.stringify(y) ? -1 : 1;
}

function matchCondition(value: unknown, condition: unknown): boolean {
  if (condition && typeof condition === 'object' && !Array.isArray(condition) && Object.keys(condition).some((k) => k.startsWith('$'))) {
    return Object.entries(condition as Document).every(([op, operand]) => {
      switch (op) {
        case '$eq':
          return value !== undefined && compare(value, operand) === 0;
        case '$ne':
          return value === undefined || compare(value, operand) !== 0;
        case '$gt':
          return value !== undefined && compare(value, operand) > 0;
        case '$gte':
          return value !== undefined && compare(value, operand) >= 0;
        case '$lt':
          return value !== undefined && compare(value, operand) < 0;
        case '$lte':
          return value !== undefined && compare(value, operand) <= 0;
        case '$in':
          return (operand as unknown[]).some((o) => value !== undefined && compare(value, o) === 0);
        case '$nin':
          return !(operand as unknown[]).some((o) => value !== undefined && compare(value, o) === 0);
        case '$exists':
          return (value !== undefined) === Boolean(operand);
        default:
          throw new Error(`mini mongod: unsupported operator ${op}`);
      }
    });
  }
  if (Array.isArray(value) && !Array.isArray(condition)) return value.some((v) => compare(v, condition) === 0);
  return value !== undefined ? compare(value, condition) === 0 : condition === null;
}

export function matches(doc: Document, filter: Document): boolean {
  return Object.entries(filter).every(([key, condition]) => {
    if (key === '$and') return (condition as Document[]).every((f) => matches(doc, f));
    if (key === '$or') return (condition as Document[]).some((f) => matches(doc, f));
    if (key === '$comment') return true;
    if (key === '$expr') return Boolean(evaluate(doc, condition));
    return matchCondition(getPath(doc, key), condition);
  });
}

function sortDocuments(docs: Document[], sort: Document | Map<string, unknown>): Document[] {
  const entries = sort instanceof Map ? [...sort.entries()] : Object.entries(sort);
  return [...docs].sort((a, b) => {
    for (const [key, dir] of entries) {
      const c = compare(getPath(a, key), getPath(b, key));
      if (c !== 0) return Number(plain(dir)) < 0 ? -c : c;
    }
    return 0;
  });
}

function evaluate(doc: Document, expression: unknown): unknown {
  if (typeof expression === 'string' && expression.startsWith('$$')) return getPath(context.vars, expression.slice(2));
  if (typeof expression === 'string' && expression.startsWith('$')) return getPath(doc, expression.slice(1));
  if (expression && typeof expression === 'object' && !Array.isArray(expression)) {
    const [op, args] = Object.entries(expression as Document)[0] ?? [];
    if (op === '$literal') return args;
    if (op === '$rand') return Math.random();
    if (op === '$toLower') return String(evaluate(doc, args)).toLowerCase();
    if (op === '$eq') return compare(evaluate(doc, (args as unknown[])[0]), evaluate(doc, (args as unknown[])[1])) === 0;
  }
  return expression;
}

function project(doc: Document, projection: Document): Document {
  const entries = Object.entries(projection);
  const inclusive = entries.some(([k, v]) => k !== '_id' && (v === 1 || v === true || (typeof v !== 'number' && typeof v !== 'boolean')));
  if (!inclusive) {
    const out = { ...doc };
    for (const [k, v] of entries) if (v === 0 || v === false) delete out[k];
    return out;
  }
  const out: Document = {};
  if (projection._id !== 0 && projection._id !== false && '_id' in doc) out._id = doc._id;
  for (const [k, v] of entries) {
    if (k === '_id') continue;
    if (v === 1 || v === true) {
      const value = getPath(doc, k);
      if (value !== undefined) out[k] = value;
    } else {
      out[k] = evaluate(doc, v);
    }
  }
  return out;
}
