/**
 * How the mock deployment answers commands: data commands (CRUD, cursors, aggregation, indexes,
 * collections) from a mini mongod shared by every member (test/tools/mini_mongod.ts), change
 * streams from the writes it reports, `ok: 1` for most of the rest, and fail points configured
 * with `configureFailPoint` are honoured per server:
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
import { getPath, matches, MiniMongod, type ChangeEvent, type CursorFeed, type Store } from '../../test/tools/mini_mongod';
import { isDocument, toNumeric } from './bson-values';

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

/** One write, as change streams see it. */
interface OplogEntry {
  db: string;
  coll: string;
  event: Document;
}

/** The change events the mock records (others, e.g. rename, are not modeled). */
const RECORDED_CHANGES = new Set(['insert', 'update', 'replace', 'delete', 'drop']);

/**
 * The per-deployment state shared by every member: the data and cursors (a mini mongod,
 * test/tools/mini_mongod.ts), the oplog of change events, the cluster time.
 */
export class MockDeploymentState {
  readonly mini = new MiniMongod(undefined, { onChange: (event) => this.recordChange(event), dropMissingCollection: 'ok' });
  private time = 1;

  get store(): Store {
    return this.mini.store;
  }

  reset(): void {
    this.mini.reset();
    this.oplog.length = 0;
  }

  /** Writes so far, for change streams; a resume token is `{ _data: 'pos<N>' }`, N an oplog position. */
  readonly oplog: OplogEntry[] = [];

  private recordChange({ db, coll, operationType, ...details }: ChangeEvent): void {
    if (!RECORDED_CHANGES.has(operationType)) return;
    this.record(db, coll, { operationType, ...details });
  }

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
      if (watch.filters.every((f) => matches(entry.event, f))) out.push(entry.event);
    }
    return out;
  }

  /** A change stream as a cursor feed: events as they come, and the resume token of each batch. */
  changeStreamFeed(watch: ChangeStreamWatch): CursorFeed {
    return {
      next: (limit) => this.nextEvents(watch, limit),
      decorate: (cursor) => {
        cursor.postBatchResumeToken = { _data: `pos${watch.position}` };
      }
    };
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
    const sleeping = withoutWhereSleep(request);
    if (sleeping) return MockAction.delay(sleeping.sleepMS, this.withTime(this.execute(sleeping.request)));
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
    // `isMaster` and its alias `ismaster` are one command (tests list either spelling, drivers send either).
    const canonical = (name: string): string => (name === 'ismaster' ? 'isMaster' : name);
    const commands = Array.isArray(fp.data.failCommands) ? (fp.data.failCommands as unknown[]).map((c) => canonical(String(c))) : [];
    if (!commands.includes(canonical(request.commandName))) return undefined;
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

  /** Data commands go to the mini mongod; change streams, search indexes and the rest are answered here. */
  private execute(request: RecordedCommand): Document {
    const body = request.body;
    const db = request.db;
    const name = request.commandName;
    const mini = this.state.mini;
    if (name === 'aggregate') {
      const pipeline = Array.isArray(body.pipeline) ? (body.pipeline as Document[]) : [];
      if (pipeline.some((s) => isDocument(s) && '$changeStream' in s)) {
        const ns = `${db}.${typeof body.aggregate === 'string' ? body.aggregate : '$cmd.aggregate'}`;
        const feed = this.state.changeStreamFeed(this.changeStreamWatch(db, body, pipeline));
        return mini.openCursor(ns, feed, toNumber(getPath(body, 'cursor.batchSize')));
      }
      if (pipeline.some((s) => isDocument(s) && '$listSearchIndexes' in s)) return errorReply(SEARCH_NOT_ENABLED, request, SEARCH_NOT_ENABLED_MESSAGE);
    }
    if (mini.handles(name) && name !== 'buildInfo' && name !== 'buildinfo') return mini.execute(request);
    switch (name) {
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
        return mini.openCursor(`${db}.$cmd.checkMetadataConsistency`, [], toNumber(getPath(body, 'cursor.batchSize')));
      default:
        return { ok: 1 };
    }
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

/**
 * A find, update, delete or findAndModify whose filter(s) use `$where: "sleep(N) || true"`: how
 * long the server would take (the longest sleep) and the request without the `$where` (the sleep
 * is its whole point; the mock runs no JavaScript). Undefined when there is none.
 */
function withoutWhereSleep(request: RecordedCommand): { sleepMS: number; request: RecordedCommand } | undefined {
  const body = request.body;
  const strip = (filter: unknown): unknown => {
    if (whereSleepMS(filter) === 0) return filter;
    const { $where: _where, ...rest } = filter as Document;
    return rest;
  };
  const statements = (key: string, filterKey: string): Document[] => (Array.isArray(body[key]) ? (body[key] as Document[]) : []).map((s) => ({ ...s, [filterKey]: strip(s[filterKey]) }));
  let sleepMS = 0;
  let stripped: Document = body;
  switch (request.commandName) {
    case 'find':
      sleepMS = whereSleepMS(body.filter);
      stripped = { ...body, filter: strip(body.filter) };
      break;
    case 'findAndModify':
      sleepMS = whereSleepMS(body.query);
      stripped = { ...body, query: strip(body.query) };
      break;
    case 'update':
    case 'delete': {
      const key = request.commandName === 'update' ? 'updates' : 'deletes';
      sleepMS = Math.max(0, ...(Array.isArray(body[key]) ? (body[key] as Document[]) : []).map((s) => whereSleepMS(s.q)));
      stripped = { ...body, [key]: statements(key, 'q') };
      break;
    }
  }
  return sleepMS > 0 ? { sleepMS, request: { ...request, body: stripped } } : undefined;
}

function toNumber(value: unknown): number | undefined {
  const n = toNumeric(value);
  return n ? Number(n.value) : undefined;
}
