/**
 * How the mock deployment answers commands: every command gets a generic, correctly shaped reply
 * computed from a shared `MockStore` (cursor replies with batches drawn from the stored data,
 * write replies counting their documents, `ok: 1` for the rest), and fail points configured with
 * `configureFailPoint` are honoured per server:
 *
 * - `failCommand`: `mode` (`alwaysOn`, `off`, `{ times }`, `{ skip }`), `failCommands`,
 *   `errorCode`, `errorLabels` (else the server's usual labels for retryable writes),
 *   `closeConnection`, `writeConcernError`, `blockConnection`/`blockTimeMS`, `appName`,
 *   `namespace`;
 * - `onPrimaryTransactionalWrite`: `failBeforeCommitExceptionCode`, else apply then close;
 * - `failGetMoreAfterCursorCheckout`: `errorCode` for getMore.
 *
 * A `failCommand` on `hello`/`isMaster` also applies to monitoring connections (every streamed
 * reply included). A `find` whose filter is `{ $where: "sleep(N) || true" }` answers after N ms
 * (what the server-side JavaScript would take); `replSetStepDown` on the primary hands the
 * primary role to the next member (see MockDeployment).
 */
import { Binary, Long, Timestamp, type Document } from 'bson';
import { isHelloName, MockAction, type HandlerContext, type MockReply, type MockServer, type RecordedCommand } from '../../test/tools/mock_server';
import { isDocument, toNumeric } from './bson-values';
import {
  applyUpdate,
  cloneDocument,
  ensureId,
  getPath,
  matchesFilter,
  project,
  sortDocuments,
  upsertBase,
  type MockStore
} from './mock_store';

const CODE_NAMES: Readonly<Record<number, string>> = {
  1: 'InternalError', 2: 'BadValue', 6: 'HostUnreachable', 7: 'HostNotFound', 8: 'UnknownError', 11: 'UserNotFound',
  13: 'Unauthorized', 18: 'AuthenticationFailed', 20: 'IllegalOperation', 24: 'LockTimeout', 26: 'NamespaceNotFound',
  43: 'CursorNotFound', 48: 'NamespaceExists', 50: 'MaxTimeMSExpired', 59: 'CommandNotFound', 64: 'WriteConcernFailed',
  85: 'IndexOptionsConflict', 89: 'NetworkTimeout', 91: 'ShutdownInProgress', 100: 'UnsatisfiableWriteConcern',
  112: 'WriteConflict', 133: 'FailedToSatisfyReadPreference', 134: 'ReadConcernMajorityNotAvailableYet',
  175: 'QueryPlanKilled', 189: 'PrimarySteppedDown', 202: 'NetworkInterfaceExceededTimeLimit', 211: 'KeyNotFound',
  236: 'CursorInUse', 237: 'CursorKilled', 251: 'NoSuchTransaction', 262: 'ExceededTimeLimit', 263: 'OperationNotSupportedInTransaction',
  280: 'ChangeStreamFatalError', 286: 'ChangeStreamHistoryLost', 290: 'TransactionExceededLifetimeLimitSeconds',
  462: 'SystemOverloaded', 9001: 'SocketException', 10107: 'NotWritablePrimary', 11000: 'DuplicateKey',
  11600: 'InterruptedAtShutdown', 11601: 'Interrupted', 11602: 'InterruptedDueToReplStateChange', 13388: 'StaleConfig',
  13435: 'NotPrimaryNoSecondaryOk', 13436: 'NotPrimaryOrSecondary', 63: 'StaleShardVersion', 150: 'StaleEpoch',
  234: 'RetryChangeStream', 31082: 'SearchNotEnabled', 10058: 'LegacyNotPrimary', 12587: 'ExceededMemoryLimit'
};

/** Codes for which a server labels a retryable write's error `RetryableWriteError`. */
const RETRYABLE_WRITE_CODES = new Set([6, 7, 89, 91, 189, 262, 9001, 10107, 11600, 11602, 13435, 13436, 64, 134]);

/** What a server that is not Atlas (nor an Atlas CLI local deployment) answers to search index commands. */
const SEARCH_NOT_ENABLED = 31082;
const SEARCH_NOT_ENABLED_MESSAGE =
  'Using Atlas Search Database Commands and the $listSearchIndexes aggregation stage requires additional configuration. Please connect to Atlas or an AtlasCLI local deployment to enable.';

const WRITE_COMMANDS = new Set(['insert', 'update', 'delete', 'findAndModify', 'bulkWrite']);

interface FailPoint {
  name: string;
  mode: 'alwaysOn' | 'off' | { times: number } | { skip: number };
  data: Document;
}

interface ChangeStreamWatch {
  /** `db` and `coll` to watch (undefined: any). */
  db?: string;
  coll?: string;
  /** Oplog position of the next event to return. */
  position: number;
  /** `$match` stages of the pipeline, applied to events. */
  filters: Document[];
}

interface ServerCursor {
  ns: string;
  documents: Document[];
  changeStream?: ChangeStreamWatch;
}

/** One write, as change streams see it. */
interface OplogEntry {
  db: string;
  coll: string;
  event: Document;
}

/** The per-deployment state shared by every member: data, cursors, cluster time. */
export class MockDeploymentState {
  private cursors = new Map<string, ServerCursor>();
  private nextCursorId = 1000;
  private time = 1;

  constructor(readonly store: MockStore) {}

  reset(): void {
    this.store.clear();
    this.cursors.clear();
    this.oplog.length = 0;
  }

  /** Writes so far, for change streams; a resume token is `{ _data: 'pos<N>' }`, N an oplog position. */
  readonly oplog: OplogEntry[] = [];

  record(db: string, coll: string, event: Document): void {
    const position = this.oplog.length + 1;
    this.oplog.push({
      db,
      coll,
      event: { _id: { _data: `pos${position}` }, ...event, ns: { db, coll }, clusterTime: this.tick(), wallTime: new Date(0) }
    });
  }

  /** Events for a change stream cursor (advancing it), at most `limit`. */
  nextEvents(watch: ChangeStreamWatch, limit: number | undefined): Document[] {
    const out: Document[] = [];
    while (watch.position < this.oplog.length && (!limit || out.length < limit)) {
      const entry = this.oplog[watch.position++];
      if (watch.db !== undefined && entry.db !== watch.db) continue;
      if (watch.coll !== undefined && entry.coll !== watch.coll) continue;
      if (watch.filters.every((f) => matchesFilter(entry.event, f))) out.push(entry.event);
    }
    return out;
  }

  openCursor(ns: string, remaining: Document[], changeStream?: ChangeStreamWatch): Long {
    const id = Long.fromNumber(this.nextCursorId++);
    this.cursors.set(id.toString(), { ns, documents: remaining, changeStream });
    return id;
  }

  cursor(id: unknown): ServerCursor | undefined {
    return this.cursors.get(String(id));
  }

  killCursor(id: unknown): boolean {
    return this.cursors.delete(String(id));
  }

  tick(): Timestamp {
    return new Timestamp({ t: 1_700_000_000, i: this.time++ });
  }

  get clusterTime(): Timestamp {
    return new Timestamp({ t: 1_700_000_000, i: this.time });
  }
}

/** One server's command handling: fail points are per server, data is shared. */
export class MockCommandHandler {
  private failPoints = new Map<string, FailPoint>();
  private readonly appNames = new Map<number, string | null>();
  /** Steps this member down when it is the primary (replica set deployments); false when it is not the primary. */
  stepDown: (() => boolean) | undefined;

  constructor(
    private readonly server: MockServer,
    private readonly state: MockDeploymentState,
    /** Replies carry `$clusterTime`/`operationTime` (replica set and sharded members). */
    private readonly gossip: boolean,
    private readonly version = '8.0.0'
  ) {}

  install(): void {
    // Every command but hello (answered by the mock server from its state) comes here.
    this.server.setFallbackHandler((request, ctx) => this.handle(request, ctx));
    // failCommand on hello/isMaster applies to every connection, monitoring ones included, and to
    // each reply of a streaming (exhaust) hello, as on a real server.
    this.server.helloInterceptor = (request, ctx) => {
      const fp = this.triggeredFailCommand(request, ctx.connectionId);
      return fp ? this.failWith(fp, request, ctx.connectionId) : undefined;
    };
  }

  /** Configures a fail point directly (as `configureFailPoint` would). */
  configure(failPoint: Document): void {
    this.configureFailPoint(failPoint);
  }

  clearFailPoints(): void {
    this.failPoints.clear();
  }

  handle(request: RecordedCommand, ctx: HandlerContext): MockReply {
    const body = request.body;
    if (request.commandName === 'configureFailPoint') return this.withTime(this.configureFailPoint(body));

    const failCommand = this.triggeredFailCommand(request, ctx.connectionId);
    if (failCommand) return this.failWith(failCommand, request, ctx.connectionId);

    const primaryWrite = this.failPoints.get('onPrimaryTransactionalWrite');
    if (primaryWrite && WRITE_COMMANDS.has(request.commandName) && body.txnNumber !== undefined && this.consume(primaryWrite)) {
      const code = toNumber(primaryWrite.data.failBeforeCommitExceptionCode);
      if (code !== undefined) return this.withTime(errorReply(code, request));
      const result = this.execute(request);
      return primaryWrite.data.closeConnection === false ? this.withTime(result) : MockAction.close();
    }
    const getMoreFail = this.failPoints.get('failGetMoreAfterCursorCheckout');
    if (getMoreFail && request.commandName === 'getMore' && this.consume(getMoreFail)) {
      return this.withTime(errorReply(toNumber(getMoreFail.data.errorCode) ?? 237, request));
    }
    const sleepMS = request.commandName === 'find' ? whereSleepMS(body.filter) : 0;
    if (sleepMS > 0) return MockAction.delay(sleepMS, this.withTime(this.execute(request)));
    return this.withTime(this.execute(request));
  }

  // ------------------------------------------------------------------------------ fail points

  private configureFailPoint(body: Document): Document {
    const name = String(body.configureFailPoint);
    const rawMode = body.mode;
    let mode: FailPoint['mode'] = 'alwaysOn';
    if (rawMode === 'off') {
      this.failPoints.delete(name);
      return { ok: 1 };
    }
    if (isDocument(rawMode)) {
      if (rawMode.times !== undefined) mode = { times: toNumber(rawMode.times) ?? 0 };
      else if (rawMode.skip !== undefined) mode = { skip: toNumber(rawMode.skip) ?? 0 };
    }
    this.failPoints.set(name, { name, mode, data: isDocument(body.data) ? body.data : {} });
    return { ok: 1 };
  }

  /** Whether the fail point fires now, updating its counters. */
  private consume(fp: FailPoint): boolean {
    if (fp.mode === 'off') return false;
    if (fp.mode === 'alwaysOn') return true;
    if ('skip' in fp.mode) {
      if (fp.mode.skip > 0) {
        fp.mode.skip--;
        return false;
      }
      return true;
    }
    if (fp.mode.times <= 0) {
      this.failPoints.delete(fp.name);
      return false;
    }
    fp.mode.times--;
    if (fp.mode.times === 0) this.failPoints.delete(fp.name);
    return true;
  }

  private triggeredFailCommand(request: RecordedCommand, connectionId: number): FailPoint | undefined {
    const fp = this.failPoints.get('failCommand');
    if (!fp) return undefined;
    const commands = Array.isArray(fp.data.failCommands) ? (fp.data.failCommands as unknown[]).map(String) : [];
    // The server matches the command's canonical name: `ismaster` is an alias of `isMaster`.
    const name = request.commandName === 'ismaster' ? 'isMaster' : request.commandName;
    if (!commands.includes(name)) return undefined;
    if (typeof fp.data.appName === 'string' && this.appNameOf(connectionId) !== fp.data.appName) return undefined;
    if (typeof fp.data.namespace === 'string') {
      const target = request.body[request.commandName];
      if (`${request.db}.${String(target)}` !== fp.data.namespace) return undefined;
    }
    return this.consume(fp) ? fp : undefined;
  }

  private appNameOf(connectionId: number): string | null {
    if (!this.appNames.has(connectionId)) {
      const hello = this.server.hellos().find((r) => r.connectionId === connectionId);
      const name = hello ? getPath(hello.body, 'client.application.name') : undefined;
      this.appNames.set(connectionId, typeof name === 'string' ? name : null);
    }
    return this.appNames.get(connectionId) ?? null;
  }

  private failWith(fp: FailPoint, request: RecordedCommand, connectionId: number): MockReply {
    const data = fp.data;
    const normalReply = (): Document =>
      isHelloName(request.commandName) ? this.server.helloReply(request.body, connectionId) : this.withTime(this.execute(request));
    let reply: MockReply | undefined;
    if (data.closeConnection === true) reply = MockAction.close();
    else if (data.errorCode !== undefined) {
      const error = errorReply(toNumber(data.errorCode) ?? 8, request);
      if (Array.isArray(data.errorLabels)) error.errorLabels = data.errorLabels;
      else if (isRetryableWrite(request) && RETRYABLE_WRITE_CODES.has(error.code as number)) error.errorLabels = ['RetryableWriteError'];
      reply = this.withTime(error);
    } else if (isDocument(data.writeConcernError)) {
      const result = this.execute(request);
      const wce: Document = { ...data.writeConcernError };
      const labels = Array.isArray(data.errorLabels) ? data.errorLabels : (wce.errorLabels as unknown[] | undefined);
      delete wce.errorLabels;
      reply = this.withTime({ ...result, writeConcernError: wce, ...(labels ? { errorLabels: labels } : {}) });
    } else if (Array.isArray(data.errorLabels) && data.errorLabels.length > 0 && data.blockConnection !== true) {
      reply = this.withTime({ ...this.execute(request), errorLabels: data.errorLabels });
    }
    if (data.blockConnection === true) {
      const ms = toNumber(data.blockTimeMS) ?? 0;
      return MockAction.delay(ms, reply ?? normalReply());
    }
    return reply ?? normalReply();
  }

  private withTime(reply: Document): Document {
    if (!this.gossip) return reply;
    const operationTime = this.state.clusterTime;
    return {
      ...reply,
      $clusterTime: { clusterTime: operationTime, signature: { hash: new Binary(Buffer.alloc(20)), keyId: Long.ZERO } },
      operationTime
    };
  }

  // ------------------------------------------------------------------------------ commands

  private execute(request: RecordedCommand): Document {
    const body = request.body;
    const db = request.db;
    const store = this.state.store;
    const name = request.commandName;
    const target = body[name];
    const coll = typeof target === 'string' ? target : '';
    const ns = `${db}.${coll}`;
    switch (name) {
      case 'insert': {
        const c = store.ensure(db, coll);
        const docs = Array.isArray(body.documents) ? (body.documents as Document[]) : [];
        const writeErrors: Document[] = [];
        let n = 0;
        for (let i = 0; i < docs.length; i++) {
          const doc = ensureId(cloneDocument(docs[i]));
          if (c.documents.some((d) => matchesFilter(d, { _id: doc._id }))) {
            writeErrors.push({ index: i, code: 11000, errmsg: `E11000 duplicate key error collection: ${ns} index: _id_` });
            if (body.ordered !== false) break;
            continue;
          }
          c.documents.push(doc);
          this.state.record(db, coll, { operationType: 'insert', documentKey: { _id: doc._id }, fullDocument: doc });
          n++;
        }
        return writeErrors.length > 0 ? { n, writeErrors, ok: 1 } : { n, ok: 1 };
      }
      case 'update': {
        const c = store.ensure(db, coll);
        let n = 0;
        let nModified = 0;
        const upserted: Document[] = [];
        const updates = Array.isArray(body.updates) ? (body.updates as Document[]) : [];
        updates.forEach((u, index) => {
          const matches = c.documents.filter((d) => matchesFilter(d, u.q));
          const targets = u.multi === true ? matches : matches.slice(0, 1);
          for (const t of targets) {
            const updated = applyUpdate(t, u.u);
            c.documents[c.documents.indexOf(t)] = updated;
            this.recordUpdate(db, coll, updated, u.u);
            n++;
            nModified++;
          }
          if (targets.length === 0 && u.upsert === true) {
            const doc = ensureId(applyUpdate(upsertBase(u.q), u.u));
            c.documents.push(doc);
            this.state.record(db, coll, { operationType: 'insert', documentKey: { _id: doc._id }, fullDocument: doc });
            upserted.push({ index, _id: doc._id });
            n++;
          }
        });
        return upserted.length > 0 ? { n, nModified, upserted, ok: 1 } : { n, nModified, ok: 1 };
      }
      case 'delete': {
        const c = store.collection(db, coll);
        let n = 0;
        for (const d of Array.isArray(body.deletes) ? (body.deletes as Document[]) : []) {
          if (!c) break;
          const matches = c.documents.filter((doc) => matchesFilter(doc, d.q));
          const targets = toNumber(d.limit) === 1 ? matches.slice(0, 1) : matches;
          c.documents = c.documents.filter((doc) => !targets.includes(doc));
          for (const t of targets) this.state.record(db, coll, { operationType: 'delete', documentKey: { _id: t._id } });
          n += targets.length;
        }
        return { n, ok: 1 };
      }
      case 'findAndModify':
        return this.findAndModify(request, db, coll);
      case 'find': {
        const docs = store.collection(db, coll)?.documents ?? [];
        let results = sortDocuments(docs.filter((d) => matchesFilter(d, body.filter)), body.sort);
        const skip = toNumber(body.skip) ?? 0;
        const limit = Math.abs(toNumber(body.limit) ?? 0);
        results = results.slice(skip, limit > 0 ? skip + limit : undefined).map((d) => project(d, body.projection));
        return this.cursorReply(ns, results, toNumber(getPath(body, 'batchSize')), body.singleBatch === true);
      }
      case 'aggregate':
        return this.aggregate(request, db, coll);
      case 'getMore': {
        const cursor = this.state.cursor(body.getMore);
        const collection = String(body.collection);
        if (!cursor) return errorReply(43, request, `cursor id ${String(body.getMore)} not found`);
        const size = toNumber(body.batchSize);
        const batch = cursor.changeStream
          ? this.state.nextEvents(cursor.changeStream, size)
          : cursor.documents.splice(0, size && size > 0 ? size : cursor.documents.length);
        const done = cursor.documents.length === 0 && !cursor.changeStream;
        if (done) this.state.killCursor(body.getMore);
        const reply: Document = { cursor: { id: done ? Long.ZERO : Long.fromString(String(body.getMore)), ns: `${db}.${collection}`, nextBatch: batch }, ok: 1 };
        if (cursor.changeStream) reply.cursor.postBatchResumeToken = { _data: `pos${cursor.changeStream.position}` };
        return reply;
      }
      case 'killCursors': {
        const ids = Array.isArray(body.cursors) ? body.cursors : [];
        const killed = ids.filter((id) => this.state.killCursor(id)).map((id) => Long.fromString(String(id)));
        const notFound = ids.filter((id) => !killed.some((k) => k.toString() === String(id))).map((id) => Long.fromString(String(id)));
        return { cursorsKilled: killed, cursorsNotFound: notFound, cursorsAlive: [], cursorsUnknown: [], ok: 1 };
      }
      case 'count': {
        const docs = (store.collection(db, coll)?.documents ?? []).filter((d) => matchesFilter(d, body.query));
        const skip = toNumber(body.skip) ?? 0;
        const limit = toNumber(body.limit) ?? 0;
        const n = docs.slice(skip, limit > 0 ? skip + limit : undefined).length;
        return { n, ok: 1 };
      }
      case 'distinct': {
        const values: unknown[] = [];
        for (const d of (store.collection(db, coll)?.documents ?? []).filter((doc) => matchesFilter(doc, body.query))) {
          const v = getPath(d, String(body.key));
          for (const x of Array.isArray(v) ? v : [v]) {
            if (x !== undefined && !values.some((y) => JSON.stringify(y) === JSON.stringify(x))) values.push(x);
          }
        }
        return { values, ok: 1 };
      }
      case 'listCollections': {
        const names = store.collectionNames(db).filter((n) => matchesFilter({ name: n, type: 'collection' }, body.filter));
        const batch = names.map((n) =>
          body.nameOnly === true ? { name: n, type: 'collection' } : { name: n, type: 'collection', options: store.collection(db, n)?.options ?? {}, info: { readOnly: false } }
        );
        return this.cursorReply(`${db}.$cmd.listCollections`, batch, toNumber(getPath(body, 'cursor.batchSize')), false);
      }
      case 'listIndexes': {
        const c = store.collection(db, coll);
        if (!c) return errorReply(26, request, `ns does not exist: ${ns}`);
        const batch = c.indexes.map((i) => ({ v: 2, ...i }));
        return this.cursorReply(ns, batch, toNumber(getPath(body, 'cursor.batchSize')), false);
      }
      case 'listDatabases': {
        const names = store.databaseNames().filter((n) => matchesFilter({ name: n }, body.filter));
        const databases = names.map((n) => (body.nameOnly === true ? { name: n } : { name: n, sizeOnDisk: 8192, empty: false }));
        return { databases, totalSize: 8192 * databases.length, totalSizeMb: 0, ok: 1 };
      }
      case 'create': {
        if (store.collection(db, coll)) return errorReply(48, request, `Collection ${ns} already exists.`);
        const options = { ...body };
        delete options.create;
        for (const k of ['$db', 'lsid', 'txnNumber', '$clusterTime', 'writeConcern', 'autocommit', 'startTransaction', 'apiVersion', 'apiStrict', 'apiDeprecationErrors', '$readPreference']) {
          delete options[k];
        }
        store.ensure(db, coll, options);
        return { ok: 1 };
      }
      case 'drop':
        if (store.drop(db, coll)) this.state.record(db, coll, { operationType: 'drop' });
        return { nIndexesWas: 1, ns, ok: 1 };
      case 'dropDatabase':
        store.dropDatabase(db);
        return { dropped: db, ok: 1 };
      case 'createIndexes': {
        const c = store.ensure(db, coll);
        const before = c.indexes.length;
        for (const index of Array.isArray(body.indexes) ? (body.indexes as Document[]) : []) {
          const existing = c.indexes.findIndex((i) => i.name === index.name);
          if (existing >= 0) c.indexes[existing] = { ...index } as never;
          else c.indexes.push({ ...index } as never);
        }
        return { numIndexesBefore: before, numIndexesAfter: c.indexes.length, createdCollectionAutomatically: false, ok: 1 };
      }
      case 'dropIndexes': {
        const c = store.collection(db, coll);
        if (!c) return errorReply(26, request, `ns not found ${ns}`);
        const index = body.index;
        const before = c.indexes.length;
        if (index === '*') c.indexes = c.indexes.filter((i) => i.name === '_id_');
        else if (typeof index === 'string') {
          if (!c.indexes.some((i) => i.name === index)) return errorReply(27, request, `index not found with name [${index}]`);
          c.indexes = c.indexes.filter((i) => i.name !== index);
        } else c.indexes = c.indexes.filter((i) => JSON.stringify(i.key) !== JSON.stringify(index));
        return { nIndexesWas: before, ok: 1 };
      }
      case 'renameCollection': {
        const [fromDb, ...fromRest] = String(body.renameCollection).split('.');
        const [toDb, ...toRest] = String(body.to).split('.');
        if (!store.collection(fromDb, fromRest.join('.'))) return errorReply(26, request, 'source namespace does not exist');
        store.rename(fromDb, fromRest.join('.'), toDb, toRest.join('.'));
        return { ok: 1 };
      }
      case 'buildInfo':
      case 'buildinfo':
        return { version: this.version, versionArray: [...this.version.split('.').map(Number), 0], bits: 64, maxBsonObjectSize: 16 * 1024 * 1024, ok: 1 };
      case 'getParameter':
      case 'replSetFreeze':
        return { ok: 1 };
      case 'replSetStepDown':
        if (!this.stepDown?.()) return errorReply(10107, request, 'not primary so can\'t step down');
        return { ok: 1 };
      case 'serverStatus':
        return { host: this.server.address, version: this.version, process: 'mongod', uptime: 1, ok: 1 };
      case 'connectionStatus':
        return { authInfo: { authenticatedUsers: [], authenticatedUserRoles: [] }, ok: 1 };
      case 'bulkWrite': {
        const ops = Array.isArray(body.ops) ? body.ops : [];
        return {
          cursor: { id: Long.ZERO, firstBatch: ops.map((_op, idx) => ({ ok: 1, idx, n: 1 })), ns: 'admin.$cmd.bulkWrite' },
          nErrors: 0,
          nInserted: ops.filter((o) => isDocument(o) && 'insert' in o).length,
          nMatched: 0,
          nModified: 0,
          nUpserted: 0,
          nDeleted: 0,
          ok: 1
        };
      }
      case 'createSearchIndexes':
      case 'updateSearchIndex':
      case 'dropSearchIndex':
        return errorReply(SEARCH_NOT_ENABLED, request, SEARCH_NOT_ENABLED_MESSAGE);
      case 'checkMetadataConsistency':
        // A cursor-returning command (sharded, 7.0+): no inconsistencies.
        return this.cursorReply(`${db}.$cmd.checkMetadataConsistency`, [], toNumber(getPath(body, 'cursor.batchSize')), false);
      default:
        return { ok: 1 };
    }
  }

  private recordUpdate(db: string, coll: string, updated: Document, update: unknown): void {
    const replacement = isDocument(update) && !Object.keys(update).some((k) => k.startsWith('$'));
    if (replacement) this.state.record(db, coll, { operationType: 'replace', documentKey: { _id: updated._id }, fullDocument: updated });
    else {
      const set = isDocument(update) && isDocument(update.$set) ? update.$set : {};
      const removed = isDocument(update) && isDocument(update.$unset) ? Object.keys(update.$unset) : [];
      this.state.record(db, coll, { operationType: 'update', documentKey: { _id: updated._id }, updateDescription: { updatedFields: set, removedFields: removed, truncatedArrays: [] } });
    }
  }

  private cursorReply(ns: string, docs: Document[], batchSize: number | undefined, singleBatch: boolean, changeStream?: ChangeStreamWatch): Document {
    const size = batchSize && batchSize > 0 ? batchSize : docs.length;
    const firstBatch = changeStream ? this.state.nextEvents(changeStream, batchSize === 0 ? -1 : batchSize) : docs.slice(0, size);
    const rest = changeStream ? [] : docs.slice(size);
    const id = (rest.length > 0 && !singleBatch) || changeStream ? this.state.openCursor(ns, rest, changeStream) : Long.ZERO;
    const cursor: Document = { firstBatch, id, ns };
    if (changeStream) cursor.postBatchResumeToken = { _data: `pos${changeStream.position}` };
    return { cursor, ok: 1 };
  }

  private changeStreamWatch(db: string, body: Document, pipeline: Document[]): ChangeStreamWatch {
    const stage = (pipeline.find((st) => isDocument(st) && '$changeStream' in st)?.$changeStream ?? {}) as Document;
    const token = (stage.resumeAfter ?? stage.startAfter) as Document | undefined;
    const fromToken = typeof token?._data === 'string' && /^pos\d+$/.test(token._data) ? Number(token._data.slice(3)) : undefined;
    const cluster = stage.allChangesForCluster === true;
    return {
      db: cluster ? undefined : db,
      coll: typeof body.aggregate === 'string' ? body.aggregate : undefined,
      position: fromToken ?? this.state.oplog.length,
      filters: pipeline.filter((st) => isDocument(st) && '$match' in st).map((st) => st.$match as Document)
    };
  }

  private aggregate(request: RecordedCommand, db: string, coll: string): Document {
    const body = request.body;
    const pipeline = Array.isArray(body.pipeline) ? (body.pipeline as Document[]) : [];
    const ns = `${db}.${typeof body.aggregate === 'string' ? body.aggregate : '$cmd.aggregate'}`;
    const batchSize = toNumber(getPath(body, 'cursor.batchSize'));
    if (pipeline.some((s) => isDocument(s) && '$changeStream' in s)) {
      return this.cursorReply(ns, [], batchSize, false, this.changeStreamWatch(db, body, pipeline));
    }
    if (pipeline.some((s) => isDocument(s) && '$listSearchIndexes' in s)) return errorReply(SEARCH_NOT_ENABLED, request, SEARCH_NOT_ENABLED_MESSAGE);
    let docs: Document[] = typeof body.aggregate === 'string' ? [...(this.state.store.collection(db, coll)?.documents ?? [])] : [];
    for (const stage of pipeline) {
      if (!isDocument(stage)) continue;
      const [op] = Object.keys(stage);
      const arg = stage[op];
      if (op === '$match') docs = docs.filter((d) => matchesFilter(d, arg));
      else if (op === '$sort') docs = sortDocuments(docs, arg);
      else if (op === '$skip') docs = docs.slice(toNumber(arg) ?? 0);
      else if (op === '$limit') docs = docs.slice(0, toNumber(arg) ?? docs.length);
      else if (op === '$project') docs = docs.map((d) => project(d, arg));
      else if (op === '$count') docs = [{ [String(arg)]: docs.length }];
      else if (op === '$group' && isDocument(arg)) {
        const out: Document = { _id: arg._id ?? null };
        for (const [field, acc] of Object.entries(arg)) {
          if (field === '_id' || !isDocument(acc)) continue;
          if ('$sum' in acc) out[field] = typeof toNumber(acc.$sum) === 'number' ? docs.length * (toNumber(acc.$sum) ?? 0) : docs.length;
        }
        docs = docs.length > 0 ? [out] : [];
      } else if (op === '$out' || op === '$merge') docs = [];
    }
    return this.cursorReply(ns, docs, batchSize, false);
  }

  private findAndModify(request: RecordedCommand, db: string, coll: string): Document {
    const body = request.body;
    const c = this.state.store.ensure(db, coll);
    const [found] = sortDocuments(c.documents.filter((d) => matchesFilter(d, body.query)), body.sort);
    if (body.remove === true) {
      if (found) {
        c.documents = c.documents.filter((d) => d !== found);
        this.state.record(db, coll, { operationType: 'delete', documentKey: { _id: found._id } });
      }
      return { lastErrorObject: { n: found ? 1 : 0 }, value: found ? project(found, body.fields) : null, ok: 1 };
    }
    if (found) {
      const updated = applyUpdate(found, body.update);
      c.documents[c.documents.indexOf(found)] = updated;
      this.recordUpdate(db, coll, updated, body.update);
      const value = body.new === true ? updated : found;
      return { lastErrorObject: { n: 1, updatedExisting: true }, value: project(value, body.fields), ok: 1 };
    }
    if (body.upsert === true) {
      const doc = ensureId(applyUpdate(upsertBase(body.query), body.update));
      c.documents.push(doc);
      this.state.record(db, coll, { operationType: 'insert', documentKey: { _id: doc._id }, fullDocument: doc });
      return {
        lastErrorObject: { n: 1, updatedExisting: false, upserted: doc._id },
        value: body.new === true ? project(doc, body.fields) : null,
        ok: 1
      };
    }
    return { lastErrorObject: { n: 0, updatedExisting: false }, value: null, ok: 1 };
  }
}

function isRetryableWrite(request: RecordedCommand): boolean {
  const name = request.commandName;
  if (name === 'commitTransaction' || name === 'abortTransaction') return true;
  return WRITE_COMMANDS.has(name) && request.body.txnNumber !== undefined && request.body.autocommit === undefined;
}

function errorReply(code: number, request: RecordedCommand, errmsg?: string): Document {
  return {
    ok: 0,
    errmsg: errmsg ?? `Failing command ${request.commandName} via 'failCommand' failpoint`,
    code,
    codeName: CODE_NAMES[code] ?? `Error${code}`
  };
}

/** N for a filter `{ $where: "sleep(N) || true" }` (server-side JavaScript the tests use to block), else 0. */
function whereSleepMS(filter: unknown): number {
  if (!isDocument(filter) || typeof filter.$where !== 'string') return 0;
  const match = /sleep\((\d+)\)/.exec(filter.$where);
  return match ? Number(match[1]) : 0;
}

function toNumber(value: unknown): number | undefined {
  const n = toNumeric(value);
  return n ? Number(n.value) : undefined;
}
