/**
 * The mini mongod: answers the data commands of a MockServer from an in-memory Store with real
 * semantics (see the command list below), keeps server-side cursors, and leaves everything else
 * (hello, sessions, transactions' commit/abort, …) to the mock server's defaults. It is a test
 * tool, not a database: no isolation, no durability, no query planner.
 *
 * One MiniMongod may answer for several mock servers (a replica set sharing its data): install it
 * on each, or call `execute()` from a handler of your own (e.g. to add fail points).
 */
import { calculateObjectSize, Long, ObjectId, type Document } from 'bson';
import { MockServer, errorReply, type MockReply, type MockServerOptions, type RecordedCommand } from '../mock_server';
import { runPipeline, type PipelineContext, type PipelineHost } from './aggregate';
import { CommandError, badValue } from './command_error';
import { evaluate } from './expressions';
import { equalityFields, matches, project, sortDocuments, type Variables } from './query';
import { checkIndexBuild, duplicateKey, ID_INDEX, Store, UniqueKeys, type StoredCollection, type StoredIndex } from './store';
import { applyUpdate, isReplacement, validateUpdate } from './update';
import { clone, compareValues, getPath, isDocument, queryValues, toLong, toNumber, valuesEqual, withCollation } from './values';

/** The commands a MiniMongod answers. */
export const MINI_MONGOD_COMMANDS: readonly string[] = [
  'insert', 'update', 'delete', 'findAndModify', 'find', 'getMore', 'killCursors', 'aggregate', 'count', 'distinct',
  'listCollections', 'listIndexes', 'create', 'drop', 'dropDatabase', 'createIndexes', 'dropIndexes', 'renameCollection',
  'listDatabases', 'buildInfo', 'buildinfo', 'ping', 'dbStats', 'collStats', 'validate'
];

/** The server version the mini mongod reports. */
export const MINI_MONGOD_VERSION = '8.0.0';

/** A write, as a change stream would see it. */
export interface ChangeEvent {
  db: string;
  coll: string;
  operationType: 'insert' | 'update' | 'replace' | 'delete' | 'drop' | 'rename' | 'dropDatabase';
  documentKey?: Document;
  fullDocument?: Document;
  updateDescription?: Document;
  to?: { db: string; coll: string };
}

/** A cursor whose documents are produced on demand (e.g. change events); it stays open until killed. */
export interface CursorFeed {
  /** Up to `limit` more documents (undefined: as many as are available). */
  next(limit: number | undefined): Document[];
  /** Adds fields to the `cursor` document of every reply (e.g. `postBatchResumeToken`). */
  decorate?(cursor: Document): void;
}

/** A one-shot reply for the next command of a given name. */
export interface InjectedError {
  commandName: string;
  reply: MockReply;
}

export interface MiniMongodOptions {
  /** Called after every write, for change streams. */
  onChange?: (event: ChangeEvent) => void;
  /**
   * What `drop` answers for a collection that does not exist: NamespaceNotFound (default, as
   * MongoDB before 7.0, which exercises drivers' handling of it) or `ok: 1` (MongoDB 7.0+).
   */
  dropMissingCollection?: 'NamespaceNotFound' | 'ok';
}

interface ServerCursor {
  ns: string;
  source: Document[] | CursorFeed;
}

/** A command as the mini mongod needs it (a RecordedCommand fits). */
export interface MiniCommand {
  commandName: string;
  db: string;
  body: Document;
}

/** The first batch is at most 101 documents by default; any batch at most 16 MiB. */
const DEFAULT_FIRST_BATCH = 101;
const MAX_BATCH_BYTES = 16 * 1024 * 1024;

export class MiniMongod implements PipelineHost {
  readonly store = new Store();
  /** Inserted documents that had no `_id`, to which the server gave one (drivers should generate them). */
  serverGeneratedIds = 0;
  private readonly servers: MockServer[] = [];
  private readonly cursors = new Map<string, ServerCursor>();
  private nextCursorId = 1000;
  private readonly injected: InjectedError[] = [];
  private readonly options: MiniMongodOptions;

  /** With a server, installs itself on it at once. */
  constructor(server?: MockServer, options: MiniMongodOptions = {}) {
    this.options = options;
    if (server) this.install(server);
  }

  /** Starts a mock server (standalone unless told otherwise) answered by a new MiniMongod. */
  static async start(options: MockServerOptions & MiniMongodOptions = {}): Promise<MiniMongod> {
    const { onChange, dropMissingCollection, ...serverOptions } = options;
    const server = await MockServer.start(serverOptions);
    return new MiniMongod(server, { onChange, dropMissingCollection });
  }

  /** Answers this server's data commands. */
  install(server: MockServer): void {
    this.servers.push(server);
    for (const name of MINI_MONGOD_COMMANDS) server.setHandler(name, (request) => this.handle(request));
  }

  /** The (first) server this mini mongod is installed on. */
  get server(): MockServer {
    if (this.servers.length === 0) throw new Error('this MiniMongod is not installed on a server');
    return this.servers[0];
  }

  get address(): string {
    return this.server.address;
  }

  /** `mongodb://<address>/?directConnection=true`. */
  get uri(): string {
    return `mongodb://${this.address}/?directConnection=true`;
  }

  /** Closes the servers it was installed on. */
  async close(): Promise<void> {
    await Promise.all(this.servers.map((s) => s.close()));
  }

  // ---- test helpers ---------------------------------------------------------------------------

  /** Replaces a collection's contents (initial data). */
  seed(db: string, coll: string, documents: Document[]): void {
    this.store.seed(db, coll, documents);
  }

  /** The live documents of a collection, undefined when it does not exist. */
  contents(db: string, coll: string): Document[] | undefined {
    return this.store.collection(db, coll)?.documents;
  }

  /** The live documents of a collection ([] when it does not exist). */
  docs(db: string, coll: string): Document[] {
    return this.contents(db, coll) ?? [];
  }

  exists(db: string, coll: string): boolean {
    return this.store.collection(db, coll) !== undefined;
  }

  /** Forgets all data, cursors and injected errors. */
  reset(): void {
    this.store.clear();
    this.cursors.clear();
    this.injected.length = 0;
  }

  /** The next command named `commandName` gets `reply` instead of its answer. */
  injectError(error: InjectedError): void {
    this.injected.push(error);
  }

  /** Open server cursors (for leak checks). */
  get openCursorCount(): number {
    return this.cursors.size;
  }

  /** Commands received other than hellos and endSessions, as `name target` strings. */
  trace(): string[] {
    return this.server
      .nonHelloCommands()
      .filter((c) => c.commandName !== 'endSessions')
      .map((c) => `${c.commandName} ${String(c.body[c.commandName])}`);
  }

  handles(commandName: string): boolean {
    return MINI_MONGOD_COMMANDS.includes(commandName);
  }

  // ---- command execution ----------------------------------------------------------------------

  private handle(request: RecordedCommand): MockReply {
    const injected = this.injected.findIndex((e) => e.commandName === request.commandName);
    if (injected >= 0) return this.injected.splice(injected, 1)[0].reply;
    return this.execute(request);
  }

  /** The reply to one command (server errors as `ok: 0` replies). */
  execute(request: MiniCommand): Document {
    try {
      return withCollation(request.body.collation, () => this.dispatch(request));
    } catch (error) {
      if (error instanceof CommandError) return { ...error.reply };
      throw error;
    }
  }

  /**
   * Opens a server cursor over `source` and returns the command reply with its first batch
   * (a feed cursor stays open until killed; an array one closes once drained).
   */
  openCursor(ns: string, source: Document[] | CursorFeed, batchSize?: number, singleBatch = false): Document {
    const list = Array.isArray(source) ? [...source] : source;
    const firstBatch = this.takeBatch(list, Array.isArray(list) ? (batchSize ?? DEFAULT_FIRST_BATCH) : batchSize);
    const open = !singleBatch && (!Array.isArray(list) || list.length > 0);
    const id = open ? Long.fromNumber(this.nextCursorId++) : Long.ZERO;
    if (open) this.cursors.set(id.toString(), { ns, source: list });
    const cursor: Document = { firstBatch, id, ns };
    if (!Array.isArray(list)) list.decorate?.(cursor);
    return { cursor, ok: 1 };
  }

  private takeBatch(source: Document[] | CursorFeed, batchSize: number | undefined): Document[] {
    const limit = batchSize !== undefined && batchSize > 0 ? batchSize : batchSize === 0 ? 0 : undefined;
    if (!Array.isArray(source)) return limit === 0 ? [] : source.next(limit);
    const batch: Document[] = [];
    let bytes = 0;
    while (source.length > 0 && (limit === undefined || batch.length < limit)) {
      const size = calculateObjectSize(source[0]);
      if (batch.length > 0 && bytes + size > MAX_BATCH_BYTES) break;
      bytes += size;
      batch.push(source.shift() as Document);
    }
    return batch;
  }

  private dispatch(request: MiniCommand): Document {
    const body = request.body;
    const db = request.db;
    const name = request.commandName;
    const target = body[name];
    const coll = typeof target === 'string' ? target : '';
    const ns = `${db}.${coll}`;
    const vars: Variables = {};
    for (const [k, v] of Object.entries(isDocument(body.let) ? body.let : {})) vars[k] = evaluate(v, { root: {}, vars });
    switch (name) {
      case 'insert':
        return this.insert(db, coll, body);
      case 'update':
        return this.update(db, coll, body, vars);
      case 'delete':
        return this.delete(db, coll, body, vars);
      case 'findAndModify':
        return this.findAndModify(db, coll, body, vars);
      case 'find': {
        let docs = this.read(db, coll).filter((d) => matches(d, body.filter, vars));
        docs = sortDocuments(docs, body.sort);
        const skip = toNumber(body.skip) ?? 0;
        const limit = toNumber(body.limit) ?? 0;
        docs = docs.slice(skip, limit !== 0 ? skip + Math.abs(limit) : undefined);
        if (body.projection !== undefined) docs = docs.map((d) => project(d, body.projection, vars));
        return this.openCursor(ns, docs.map((d) => clone(d)), toNumber(body.batchSize), body.singleBatch === true || limit < 0);
      }
      case 'getMore': {
        const id = toLong(body.getMore).toString();
        const cursor = this.cursors.get(id);
        if (!cursor) return errorReply(43, `cursor id ${id} not found`, { codeName: 'CursorNotFound' });
        const batch = this.takeBatch(cursor.source, toNumber(body.batchSize));
        const done = Array.isArray(cursor.source) && cursor.source.length === 0;
        if (done) this.cursors.delete(id);
        const reply: Document = { id: done ? Long.ZERO : toLong(body.getMore), ns: cursor.ns, nextBatch: batch };
        if (!Array.isArray(cursor.source)) cursor.source.decorate?.(reply);
        return { cursor: reply, ok: 1 };
      }
      case 'killCursors': {
        const ids = Array.isArray(body.cursors) ? body.cursors : [];
        const killed = ids.filter((id) => this.cursors.delete(toLong(id).toString())).map(toLong);
        const notFound = ids.map(toLong).filter((id) => !killed.some((k) => k.equals(id)));
        return { cursorsKilled: killed, cursorsNotFound: notFound, cursorsAlive: [], cursorsUnknown: [], ok: 1 };
      }
      case 'aggregate':
        return this.aggregate(db, body, vars);
      case 'count': {
        const docs = this.read(db, coll).filter((d) => matches(d, body.query, vars));
        const skip = toNumber(body.skip) ?? 0;
        const limit = Math.abs(toNumber(body.limit) ?? 0);
        return { n: docs.slice(skip, limit > 0 ? skip + limit : undefined).length, ok: 1 };
      }
      case 'distinct': {
        if (typeof body.key !== 'string') throw badValue("'key' must be a string");
        const values: unknown[] = [];
        for (const d of this.read(db, coll).filter((x) => matches(x, body.query, vars))) {
          for (const v of queryValues(d, body.key).flatMap((x) => (Array.isArray(x) ? x : [x]))) {
            if (v !== undefined && !values.some((x) => valuesEqual(x, v))) values.push(v);
          }
        }
        return { values: values.sort(compareValues), ok: 1 };
      }
      case 'listCollections':
        return this.listCollections(db, body);
      case 'listIndexes': {
        const c = this.store.collection(db, coll);
        if (!c) return errorReply(26, `ns does not exist: ${ns}`, { codeName: 'NamespaceNotFound' });
        const indexes = c.indexes.map(({ name: indexName, key, ...rest }) => ({ v: 2, key, name: indexName, ...clone(rest) }));
        return this.openCursor(ns, indexes, toNumber(getPath(body, 'cursor.batchSize')));
      }
      case 'create':
        return this.create(db, coll, body);
      case 'drop': {
        if (!this.store.drop(db, coll)) {
          return this.options.dropMissingCollection === 'ok' ? { ok: 1 } : errorReply(26, 'ns not found', { codeName: 'NamespaceNotFound' });
        }
        this.emit({ db, coll, operationType: 'drop' });
        return { nIndexesWas: 1, ns, ok: 1 };
      }
      case 'dropDatabase':
        if (this.store.dropDatabase(db)) this.emit({ db, coll: '', operationType: 'dropDatabase' });
        return { dropped: db, ok: 1 };
      case 'createIndexes':
        return this.createIndexes(db, coll, body);
      case 'dropIndexes':
        return this.dropIndexes(db, coll, body);
      case 'renameCollection':
        return this.renameCollection(body);
      case 'listDatabases': {
        const names = this.store.databaseNames();
        const databases = names
          .map((n) => (body.nameOnly === true ? { name: n } : { name: n, sizeOnDisk: 8192, empty: false }))
          .filter((d) => matches(d, body.filter, vars));
        return body.nameOnly === true ? { databases, ok: 1 } : { databases, totalSize: 8192 * databases.length, totalSizeMb: 0, ok: 1 };
      }
      case 'buildInfo':
      case 'buildinfo':
        return { version: MINI_MONGOD_VERSION, versionArray: [8, 0, 0, 0], gitVersion: 'mini', bits: 64, maxBsonObjectSize: 16 * 1024 * 1024, ok: 1 };
      case 'ping':
        return { ok: 1 };
      case 'dbStats': {
        const names = this.store.collectionNames(db);
        const objects = names.reduce((n, c) => n + (this.store.collection(db, c)?.documents.length ?? 0), 0);
        return { db, collections: names.length, views: 0, objects, dataSize: 0, storageSize: 0, indexes: names.length, indexSize: 0, ok: 1 };
      }
      case 'collStats': {
        const c = this.store.collection(db, coll);
        if (!c) return errorReply(26, `ns not found: ${ns}`, { codeName: 'NamespaceNotFound' });
        const size = c.documents.reduce((n, d) => n + calculateObjectSize(d), 0);
        return { ns, count: c.documents.length, size, storageSize: size, nindexes: c.indexes.length, ok: 1 };
      }
      case 'validate':
        // A missing collection is the mini mongod's only "invalid" one (a real server: NamespaceNotFound).
        return { ns, valid: this.exists(db, coll), errors: [], warnings: [], ok: 1 };
      default:
        return errorReply(59, `no such command: '${name}'`, { codeName: 'CommandNotFound' });
    }
  }

  // ---- PipelineHost -------------------------------------------------------------------------

  /** A collection's documents; a view's are its pipeline applied to its source. */
  read(db: string, coll: string): Document[] {
    const c = this.store.collection(db, coll);
    if (!c) return [];
    if (typeof c.options.viewOn === 'string') {
      return runPipeline(this.read(db, c.options.viewOn), (c.options.pipeline as Document[] | undefined) ?? [], this.pipelineContext(db, {}));
    }
    return c.documents;
  }

  replaceContents(db: string, coll: string, docs: Document[]): void {
    const c = this.store.ensure(db, coll);
    const replacement: StoredCollection = { documents: [], indexes: c.indexes, options: c.options };
    const unique = new UniqueKeys(`${db}.${coll}`, replacement);
    for (const d of docs) this.insertOne(replacement, unique, d);
    c.documents = replacement.documents;
  }

  merge(db: string, coll: string, docs: Document[], spec: Document): void {
    const c = this.writable(db, coll);
    const on = spec.on === undefined ? ['_id'] : Array.isArray(spec.on) ? spec.on.map(String) : [String(spec.on)];
    const whenMatched = spec.whenMatched ?? 'merge';
    const whenNotMatched = spec.whenNotMatched ?? 'insert';
    const unique = new UniqueKeys(`${db}.${coll}`, c);
    for (const doc of docs) {
      const existing = c.documents.find((x) => on.every((f) => valuesEqual(getPath(x, f), getPath(doc, f))));
      if (!existing) {
        if (whenNotMatched === 'discard') continue;
        if (whenNotMatched === 'fail') throw new CommandError(13113, 'MergeStageNoMatchingDocument', '$merge could not find a matching document in the target collection');
        this.insertOne(c, unique, doc);
        continue;
      }
      if (whenMatched === 'keepExisting') continue;
      if (whenMatched === 'fail') {
        throw duplicateKey(`${db}.${coll}`, { name: '_id_', key: { _id: 1 } }, { _id: doc._id });
      }
      let updated: Document;
      if (whenMatched === 'replace') updated = { ...doc, _id: existing._id };
      else if (Array.isArray(whenMatched)) updated = applyUpdate(existing, whenMatched, { vars: { new: doc } });
      else updated = { ...existing, ...doc, _id: existing._id };
      this.replaceIn(c, unique, existing, updated);
    }
  }

  private pipelineContext(db: string, vars: Variables, lsid?: Document): PipelineContext {
    return { db, host: this, vars, lsid };
  }

  // ---- writes -------------------------------------------------------------------------------

  private emit(event: ChangeEvent): void {
    this.options.onChange?.(event);
  }

  /** The collection for a write (created if missing); views cannot be written. */
  private writable(db: string, coll: string): StoredCollection {
    if (coll === '') throw new CommandError(73, 'InvalidNamespace', `Invalid namespace specified '${db}.'`);
    const c = this.store.ensure(db, coll);
    if (c.options.viewOn !== undefined) throw new CommandError(166, 'CommandNotSupportedOnView', `Namespace ${db}.${coll} is a view, not a collection`);
    return c;
  }

  private insertOne(c: StoredCollection, unique: UniqueKeys, input: Document): Document {
    let doc = clone(input);
    if (doc._id === undefined) {
      this.serverGeneratedIds++;
      doc = { _id: new ObjectId(), ...doc };
    }
    if (Array.isArray(doc._id)) throw new CommandError(2, 'BadValue', "can't use an array for _id");
    unique.insert(doc);
    c.documents.push(doc);
    return doc;
  }

  private replaceIn(c: StoredCollection, unique: UniqueKeys, before: Document, after: Document): void {
    unique.replace(before, after);
    c.documents[c.documents.indexOf(before)] = after;
  }

  /** Runs each statement of a write command, collecting write errors (ordered stops at the first). */
  private writeStatements<T>(body: Document, field: string, run: (statement: T, index: number) => void): Document {
    const statements = Array.isArray(body[field]) ? (body[field] as T[]) : [];
    const writeErrors: Document[] = [];
    for (let i = 0; i < statements.length; i++) {
      try {
        run(statements[i], i);
      } catch (error) {
        if (!(error instanceof CommandError)) throw error;
        const { ok: _ok, codeName: _codeName, ...details } = error.reply;
        writeErrors.push({ index: i, ...details });
        if (body.ordered !== false) break;
      }
    }
    return writeErrors.length > 0 ? { writeErrors } : {};
  }

  private insert(db: string, coll: string, body: Document): Document {
    const c = this.writable(db, coll);
    const unique = new UniqueKeys(`${db}.${coll}`, c);
    let n = 0;
    const errors = this.writeStatements<Document>(body, 'documents', (doc) => {
      const stored = this.insertOne(c, unique, doc);
      n++;
      this.emit({ db, coll, operationType: 'insert', documentKey: { _id: stored._id }, fullDocument: clone(stored) });
    });
    return { n, ...errors, ok: 1 };
  }

  private update(db: string, coll: string, body: Document, vars: Variables): Document {
    const c = this.writable(db, coll);
    const unique = new UniqueKeys(`${db}.${coll}`, c);
    let n = 0;
    let nModified = 0;
    const upserted: Document[] = [];
    const errors = this.writeStatements<Document>(body, 'updates', (statement, index) => {
      const multi = statement.multi === true;
      validateUpdate(statement.u, multi);
      const options = { query: statement.q as Document, arrayFilters: statement.arrayFilters as Document[] | undefined, vars };
      withCollation(statement.collation, () => {
        const matching = sortDocuments(
          c.documents.filter((d) => matches(d, statement.q, vars)),
          statement.sort
        );
        const targets = multi ? matching : matching.slice(0, 1);
        for (const before of targets) {
          const after = applyUpdate(before, statement.u, options);
          n++;
          if (valuesEqual(before, after)) continue;
          this.replaceIn(c, unique, before, after);
          nModified++;
          this.emitUpdate(db, coll, before, after, statement.u);
        }
        if (targets.length === 0 && statement.upsert === true) {
          const doc = this.upsert(db, coll, c, unique, statement.q, statement.u, options);
          upserted.push({ index, _id: doc._id });
          n++;
        }
      });
    });
    return { n, nModified, ...(upserted.length > 0 ? { upserted } : {}), ...errors, ok: 1 };
  }

  private upsert(db: string, coll: string, c: StoredCollection, unique: UniqueKeys, query: unknown, update: unknown, options: { arrayFilters?: Document[]; vars: Variables }): Document {
    const base = equalityFields(query);
    const doc = isReplacement(update) ? { ...(base._id !== undefined ? { _id: base._id } : {}), ...update } : applyUpdate(base, update, { ...options, isInsert: true });
    const stored = this.insertOne(c, unique, doc);
    this.emit({ db, coll, operationType: 'insert', documentKey: { _id: stored._id }, fullDocument: clone(stored) });
    return stored;
  }

  private emitUpdate(db: string, coll: string, before: Document, after: Document, update: unknown): void {
    if (isReplacement(update)) {
      this.emit({ db, coll, operationType: 'replace', documentKey: { _id: after._id }, fullDocument: clone(after) });
      return;
    }
    const updatedFields: Document = {};
    for (const [k, v] of Object.entries(after)) if (!valuesEqual(before[k], v)) updatedFields[k] = clone(v);
    const removedFields = Object.keys(before).filter((k) => !(k in after));
    this.emit({ db, coll, operationType: 'update', documentKey: { _id: after._id }, updateDescription: { updatedFields, removedFields, truncatedArrays: [] } });
  }

  private delete(db: string, coll: string, body: Document, vars: Variables): Document {
    const c = this.store.collection(db, coll);
    if (c?.options.viewOn !== undefined) throw new CommandError(166, 'CommandNotSupportedOnView', `Namespace ${db}.${coll} is a view, not a collection`);
    let n = 0;
    const errors = this.writeStatements<Document>(body, 'deletes', (statement) => {
      const limit = toNumber(statement.limit) ?? 0;
      if (limit !== 0 && limit !== 1) throw new CommandError(9, 'FailedToParse', 'The limit field in delete objects must be 0 or 1.');
      if (!c) return;
      withCollation(statement.collation, () => {
        const matching = sortDocuments(c.documents.filter((d) => matches(d, statement.q, vars)), statement.sort);
        const victims = limit === 1 ? matching.slice(0, 1) : matching;
        c.documents = c.documents.filter((d) => !victims.includes(d));
        for (const v of victims) this.emit({ db, coll, operationType: 'delete', documentKey: { _id: v._id } });
        n += victims.length;
      });
    });
    return { n, ...errors, ok: 1 };
  }

  private findAndModify(db: string, coll: string, body: Document, vars: Variables): Document {
    const remove = body.remove === true;
    if (remove && body.update !== undefined) throw new CommandError(9, 'FailedToParse', 'Cannot specify both an update and remove=true');
    if (!remove && body.update === undefined) throw new CommandError(9, 'FailedToParse', 'Either an update or remove=true must be specified');
    if (remove && body.upsert === true) throw new CommandError(9, 'FailedToParse', 'Cannot specify both upsert=true and remove=true');
    const c = this.writable(db, coll);
    const unique = new UniqueKeys(`${db}.${coll}`, c);
    const [found] = sortDocuments(c.documents.filter((d) => matches(d, body.query, vars)), body.sort);
    const shape = (doc: Document | undefined | null) => (doc ? (body.fields !== undefined ? project(doc, body.fields, vars) : clone(doc)) : null);
    if (remove) {
      if (found) {
        c.documents = c.documents.filter((d) => d !== found);
        this.emit({ db, coll, operationType: 'delete', documentKey: { _id: found._id } });
      }
      return { lastErrorObject: { n: found ? 1 : 0 }, value: shape(found), ok: 1 };
    }
    validateUpdate(body.update, false);
    const options = { query: body.query as Document, arrayFilters: body.arrayFilters as Document[] | undefined, vars };
    if (found) {
      const updated = applyUpdate(found, body.update, options);
      if (!valuesEqual(found, updated)) {
        this.replaceIn(c, unique, found, updated);
        this.emitUpdate(db, coll, found, updated, body.update);
      }
      return { lastErrorObject: { n: 1, updatedExisting: true }, value: shape(body.new === true ? updated : found), ok: 1 };
    }
    if (body.upsert === true) {
      const doc = this.upsert(db, coll, c, unique, body.query, body.update, options);
      return { lastErrorObject: { n: 1, updatedExisting: false, upserted: doc._id }, value: body.new === true ? shape(doc) : null, ok: 1 };
    }
    return { lastErrorObject: { n: 0, updatedExisting: false }, value: null, ok: 1 };
  }

  // ---- reads and management ------------------------------------------------------------------

  private aggregate(db: string, body: Document, vars: Variables): Document {
    const target = body.aggregate;
    const pipeline = Array.isArray(body.pipeline) ? (body.pipeline as Document[]) : [];
    if (!Array.isArray(body.pipeline)) throw new CommandError(14, 'TypeMismatch', "'pipeline' option must be specified as an array");
    const collectionless = toNumber(target) === 1;
    if (!collectionless && typeof target !== 'string') throw new CommandError(2, 'BadValue', "'aggregate' must be a collection name or 1");
    const first = pipeline[0] ? Object.keys(pipeline[0])[0] : undefined;
    if (collectionless && first !== '$documents' && first !== '$listLocalSessions' && first !== '$currentOp') {
      throw new CommandError(73, 'InvalidNamespace', `{aggregate: 1} is not valid for '${String(first)}'; a collection is required.`);
    }
    const source = collectionless ? [] : this.read(db, String(target));
    const docs = runPipeline(source, pipeline, this.pipelineContext(db, vars, isDocument(body.lsid) ? body.lsid : undefined));
    const ns = collectionless ? `${db}.$cmd.aggregate` : `${db}.${String(target)}`;
    const writes = first !== undefined && pipeline.some((s) => '$out' in s || '$merge' in s);
    if (body.explain === true) return { stages: pipeline, ok: 1 };
    return this.openCursor(ns, writes ? [] : docs.map((d) => clone(d)), toNumber(getPath(body, 'cursor.batchSize')));
  }

  private listCollections(db: string, body: Document): Document {
    const infos: Document[] = [];
    for (const name of this.store.collectionNames(db)) {
      const c = this.store.collection(db, name) as StoredCollection;
      const type = c.options.viewOn !== undefined ? 'view' : c.options.timeseries !== undefined ? 'timeseries' : 'collection';
      const info: Document = body.nameOnly === true ? { name, type } : { name, type, options: clone(c.options), info: { readOnly: type === 'view' } };
      if (body.nameOnly !== true && type === 'collection') info.idIndex = { v: 2, key: { _id: 1 }, name: '_id_' };
      if (matches(info, body.filter)) infos.push(info);
    }
    return this.openCursor(`${db}.$cmd.listCollections`, infos, toNumber(getPath(body, 'cursor.batchSize')));
  }

  private create(db: string, coll: string, body: Document): Document {
    const ns = `${db}.${coll}`;
    if (coll === '') throw new CommandError(73, 'InvalidNamespace', `Invalid namespace specified '${ns}'`);
    if (this.store.collection(db, coll)) return errorReply(48, `Collection ${ns} already exists.`, { codeName: 'NamespaceExists' });
    const options: Document = {};
    const notOptions = new Set(['create', '$db', 'lsid', 'txnNumber', '$clusterTime', 'writeConcern', 'autocommit', 'startTransaction', 'apiVersion', 'apiStrict', 'apiDeprecationErrors', '$readPreference', 'comment', 'maxTimeMS']);
    for (const [k, v] of Object.entries(body)) if (!notOptions.has(k)) options[k] = v;
    const c = this.store.ensure(db, coll, options);
    if (isDocument(options.clusteredIndex)) {
      const ci = options.clusteredIndex;
      options.clusteredIndex = { v: 2, ...ci, name: ci.name ?? '_id_' };
      c.indexes = [{ name: String(ci.name ?? '_id_'), key: ci.key as Document, unique: ci.unique, clustered: true }];
    }
    return { ok: 1 };
  }

  private createIndexes(db: string, coll: string, body: Document): Document {
    const ns = `${db}.${coll}`;
    const specs = body.indexes;
    if (!Array.isArray(specs) || specs.length === 0) throw new CommandError(2, 'BadValue', "Must specify at least one index to create");
    const created = !this.store.collection(db, coll);
    const c = this.writable(db, coll);
    const before = c.indexes.length;
    for (const spec of specs as Document[]) {
      if (!isDocument(spec.key) || Object.keys(spec.key).length === 0) throw new CommandError(67, 'CannotCreateIndex', "Index keys cannot be empty.");
      if (typeof spec.name !== 'string') throw new CommandError(9, 'FailedToParse', "The 'name' field is a required property of an index specification");
      const sameName = c.indexes.find((i) => i.name === spec.name);
      const sameKey = c.indexes.find((i) => valuesEqual(i.key, spec.key));
      if (sameName && !valuesEqual(sameName.key, spec.key)) {
        throw new CommandError(86, 'IndexKeySpecsConflict', `An existing index has the same name as the requested index. Requested index: ${JSON.stringify(spec)}`);
      }
      if (sameName) continue;
      if (sameKey && sameKey.name !== spec.name) {
        throw new CommandError(85, 'IndexOptionsConflict', `Index already exists with a different name: ${sameKey.name}`);
      }
      const index: StoredIndex = { ...clone(spec), name: spec.name, key: clone(spec.key) };
      checkIndexBuild(ns, c, index);
      c.indexes.push(index);
    }
    const reply: Document = { numIndexesBefore: before, numIndexesAfter: c.indexes.length, createdCollectionAutomatically: created, ok: 1 };
    if (before === c.indexes.length) reply.note = 'all indexes already exist';
    return reply;
  }

  private dropIndexes(db: string, coll: string, body: Document): Document {
    const c = this.store.collection(db, coll);
    if (!c) return errorReply(26, `ns not found ${db}.${coll}`, { codeName: 'NamespaceNotFound' });
    const before = c.indexes.length;
    const index = body.index;
    const drop = (match: (i: StoredIndex) => boolean, label: string) => {
      const found = c.indexes.find(match);
      if (!found) throw new CommandError(27, 'IndexNotFound', `index not found with name [${label}]`);
      if (found.name === ID_INDEX.name) throw new CommandError(72, 'InvalidOptions', 'cannot drop _id index');
      c.indexes = c.indexes.filter((i) => i !== found);
    };
    if (index === '*') c.indexes = c.indexes.filter((i) => i.name === ID_INDEX.name || i.clustered === true);
    else if (typeof index === 'string') drop((i) => i.name === index, index);
    else if (Array.isArray(index)) for (const name of index) drop((i) => i.name === name, String(name));
    else if (isDocument(index)) drop((i) => valuesEqual(i.key, index), JSON.stringify(index));
    else throw new CommandError(14, 'TypeMismatch', 'invalid index argument');
    return { nIndexesWas: before, ok: 1 };
  }

  private renameCollection(body: Document): Document {
    const split = (ns: unknown): [string, string] => {
      const s = String(ns);
      const dot = s.indexOf('.');
      return [s.slice(0, dot), s.slice(dot + 1)];
    };
    const [fromDb, fromColl] = split(body.renameCollection);
    const [toDb, toColl] = split(body.to);
    if (!this.store.collection(fromDb, fromColl)) return errorReply(26, 'Source collection does not exist', { codeName: 'NamespaceNotFound' });
    if (this.store.collection(toDb, toColl) && body.dropTarget !== true) return errorReply(48, 'Target namespace exists', { codeName: 'NamespaceExists' });
    this.store.rename(fromDb, fromColl, toDb, toColl);
    this.emit({ db: fromDb, coll: fromColl, operationType: 'rename', to: { db: toDb, coll: toColl } });
    return { ok: 1 };
  }
}
