/**
 * `client.bulkWrite` (crud/bulk-write.md): the MongoDB 8.0 `bulkWrite` command on `admin`, with
 * the writes in an `ops` document sequence and their namespaces in an `nsInfo` sequence.
 *
 * - Each batch is one operation through the executor (own txnNumber, retried when it has no
 *   multi-document write). It is cut when executed from the connection's limits:
 *   `maxWriteBatchSize` ops and `maxMessageSizeBytes - 1000 - <command size>` bytes of ops+nsInfo;
 *   an op over `maxBsonObjectSize`, or one that cannot fit at all, is an error.
 * - The reply's results cursor is always drained (getMore in the same session, on the same
 *   server); a top-level error with the cursor open sends killCursors.
 * - Write errors are keyed by the model's index. Ordered bulks stop at the first; write concern
 *   errors never stop the bulk. Errors come as MongoClientBulkWriteError with `partialResult`
 *   when at least one write is known to have succeeded.
 * - `w: 0`: every batch is sent with moreToCome; the result is `{ acknowledged: false }`.
 */
import { Long, type Document } from 'bson';
import type { ClientBulkWriteResult, ClientDeleteResult, ClientInsertOneResult, ClientUpdateResult } from '../bulk_write_result';
import { MongoClientBulkWriteError, MongoError, MongoInvalidArgumentError, MongoServerError, MongoWriteConcernError } from '../errors';
import type { AnyClientBulkWriteModel } from '../mongo_types';
import { ClientSession } from '../sessions';
import { operationDeadline } from '../timeout';
import type { WriteExecutor } from './bulk_write';
import { prepareDocumentForInsert } from './insert';
import { AbstractOperation, Aspect, aspects, CommandOperation, type BaseOperationOptions, type CommandTarget, type OperationContext } from './operation';
import { applyRawData, type RawDataOption } from './raw_data';
import { assertFilter, assertReplacement, assertUpdate, formatSort } from './update';
import { assertStatementSize, bsonSize } from './write_command';

export const CLIENT_BULK_WRITE_MESSAGE_OVERHEAD_BYTES = 1000;
const DEFAULT_MAX_WRITE_BATCH_SIZE = 100_000;
const RESULTS_NAMESPACE = '$cmd.bulkWrite';

export interface ClientBulkWriteOptions extends BaseOperationOptions, RawDataOption {
  /** Stop at the first write error (default true; must be false with `w: 0`). */
  ordered?: boolean;
  bypassDocumentValidation?: boolean;
  let?: Document;
  /** Per-model results in `insertResults`/`updateResults`/`deleteResults` (default false). */
  verboseResults?: boolean;
}

type OpKind = 'insert' | 'update' | 'delete';

/** A model as the body of its `ops` entry (without the leading `<kind>: <nsInfo index>`). */
interface PreparedClientWrite {
  kind: OpKind;
  namespace: string;
  body: Document;
  /** BSON size of the full `ops` entry. */
  size: number;
  multi: boolean;
}

function namespaceOf(model: Document): string {
  const ns = model.namespace;
  if (typeof ns !== 'string' || !/^[^.]+\..+/.test(ns)) throw new MongoInvalidArgumentError(`Invalid namespace ${JSON.stringify(ns)}: expected "db.collection"`);
  return ns;
}

function optionalFields(model: Document, names: readonly string[]): Document {
  const out: Document = {};
  for (const name of names) if (model[name] !== undefined) out[name] = model[name];
  return out;
}

/** Validates one model and builds its `ops` entry body. */
function prepareClientWrite(model: Document): PreparedClientWrite {
  if (model === null || typeof model !== 'object') throw new MongoInvalidArgumentError('Each client bulk write model must be an object');
  const namespace = namespaceOf(model);
  let kind: OpKind;
  let body: Document;
  let multi = false;
  switch (model.name) {
    case 'insertOne':
      kind = 'insert';
      body = { document: prepareDocumentForInsert(model.document as Document) };
      break;
    case 'updateOne':
    case 'updateMany': {
      kind = 'update';
      multi = model.name === 'updateMany';
      assertFilter(model.filter);
      assertUpdate(model.update);
      body = { filter: model.filter, updateMods: model.update, multi, ...optionalFields(model, ['upsert', 'arrayFilters', 'hint', 'collation']) };
      const sort = multi ? undefined : formatSort(model.sort);
      if (sort) body.sort = sort;
      break;
    }
    case 'replaceOne': {
      kind = 'update';
      assertFilter(model.filter);
      assertReplacement(model.replacement);
      body = { filter: model.filter, updateMods: model.replacement, multi: false, ...optionalFields(model, ['upsert', 'hint', 'collation']) };
      const sort = formatSort(model.sort);
      if (sort) body.sort = sort;
      break;
    }
    case 'deleteOne':
    case 'deleteMany':
      kind = 'delete';
      multi = model.name === 'deleteMany';
      assertFilter(model.filter);
      body = { filter: model.filter, multi, ...optionalFields(model, ['hint', 'collation']) };
      break;
    default:
      throw new MongoInvalidArgumentError(`Unknown client bulk write model name ${JSON.stringify(model.name)}`);
  }
  return { kind, namespace, body, size: bsonSize({ [kind]: 0, ...body }), multi };
}

/** The base `bulkWrite` command (without ops/nsInfo). */
function baseCommand(options: ClientBulkWriteOptions, target: CommandTarget): Document {
  const command: Document = { bulkWrite: 1, errorsOnly: options.verboseResults !== true, ordered: options.ordered ?? true };
  if (options.bypassDocumentValidation !== undefined) command.bypassDocumentValidation = options.bypassDocumentValidation;
  if (options.let !== undefined) command.let = options.let;
  if (options.comment !== undefined) command.comment = options.comment;
  return applyRawData(command, options, target);
}

/** The writes of one batch: `writes[start .. start + count)`. */
interface BatchOutcome {
  reply: Document;
  count: number;
  address: string;
}

/** One `bulkWrite` command over the next batch of writes, cut from the connection's limits. */
class ClientBulkWriteBatchOperation extends AbstractOperation<BatchOutcome> {
  readonly commandName = 'bulkWrite';
  /** Writes in the batch of the latest attempt. */
  count = 0;
  address = '';

  constructor(
    private readonly writes: readonly PreparedClientWrite[],
    private readonly start: number,
    private readonly bulkOptions: ClientBulkWriteOptions,
    private readonly limits: { maxWriteBatchSize: number }
  ) {
    super(bulkOptions);
  }

  get aspects(): ReadonlySet<Aspect> {
    return aspects(Aspect.WRITE_OPERATION, Aspect.RETRYABLE);
  }

  get dbName(): string {
    return 'admin';
  }

  override get canRetryWrite(): boolean {
    if (!super.canRetryWrite) return false;
    return !this.writes.slice(this.start, this.start + this.limits.maxWriteBatchSize).some((w) => w.multi);
  }

  async execute(ctx: OperationContext): Promise<BatchOutcome> {
    const target = ctx.target;
    this.limits.maxWriteBatchSize = target.maxWriteBatchSize;
    const command = baseCommand(this.bulkOptions, target);
    const maxBytes = target.maxMessageSizeBytes - CLIENT_BULK_WRITE_MESSAGE_OVERHEAD_BYTES - bsonSize(command);
    const ops: Document[] = [];
    const nsInfo: Document[] = [];
    const nsIndex = new Map<string, number>();
    let bytes = 0;
    for (let i = this.start; i < this.writes.length && ops.length < target.maxWriteBatchSize; i++) {
      const write = this.writes[i];
      assertStatementSize(write.size, target.maxBsonObjectSize);
      let index = nsIndex.get(write.namespace);
      const nsDoc = index === undefined ? { ns: write.namespace } : undefined;
      const added = write.size + (nsDoc ? bsonSize(nsDoc) : 0);
      if (bytes + added > maxBytes) break;
      if (nsDoc) {
        index = nsInfo.length;
        nsIndex.set(write.namespace, index);
        nsInfo.push(nsDoc);
      }
      ops.push({ [write.kind]: index, ...write.body });
      bytes += added;
    }
    if (ops.length === 0) {
      throw new MongoInvalidArgumentError(
        `Client bulk write model ${this.start} does not fit in a message of maxMessageSizeBytes ${target.maxMessageSizeBytes}`
      );
    }
    this.count = ops.length;
    this.address = target.address;
    const reply = await ctx.runCommand('admin', command, {
      sequences: [
        { identifier: 'ops', documents: ops },
        { identifier: 'nsInfo', documents: nsInfo }
      ]
    });
    if (reply.writeConcernError) throw new MongoWriteConcernError(reply as Document & { writeConcernError: Document }, reply);
    return { reply, count: ops.length, address: target.address };
  }
}

/** getMore / killCursors on the results cursor: same server, same session, no concerns. */
class ResultsCursorCommand extends CommandOperation<Document> {
  readonly commandName: string;

  constructor(
    private readonly command: Document,
    address: string,
    options: BaseOperationOptions
  ) {
    super('admin', { session: options.session, timeoutMS: options.timeoutMS, timeoutContext: options.timeoutContext, omitMaxTimeMS: options.omitMaxTimeMS });
    this.commandName = Object.keys(command)[0];
    this.serverAddress = address;
  }

  get aspects(): ReadonlySet<Aspect> {
    return aspects(Aspect.MUST_SELECT_SAME_SERVER);
  }

  buildCommand(): Document {
    return { ...this.command };
  }
}

/** Merges replies and cursor documents into the result and the error lists. */
class ResultsMerger {
  insertedCount = 0;
  upsertedCount = 0;
  matchedCount = 0;
  modifiedCount = 0;
  deletedCount = 0;
  readonly insertResults = new Map<number, ClientInsertOneResult>();
  readonly updateResults = new Map<number, ClientUpdateResult>();
  readonly deleteResults = new Map<number, ClientDeleteResult>();
  readonly writeErrors = new Map<number, { code: number; message: string; errInfo?: Document }>();
  readonly writeConcernErrors: Array<{ code: number; message: string; errInfo?: Document }> = [];
  /** At least one write is known to have succeeded. */
  anySuccess = false;

  constructor(
    private readonly writes: readonly PreparedClientWrite[],
    private readonly verbose: boolean
  ) {}

  addSummary(reply: Document): void {
    this.insertedCount += Number(reply.nInserted ?? 0);
    this.upsertedCount += Number(reply.nUpserted ?? 0);
    this.matchedCount += Number(reply.nMatched ?? 0);
    this.modifiedCount += Number(reply.nModified ?? 0);
    this.deletedCount += Number(reply.nDeleted ?? 0);
  }

  /** The spec's "at least one write was successful" for a batch of `count` writes. */
  noteBatchSuccess(reply: Document, count: number, ordered: boolean, firstErrorIdx: number | undefined): void {
    const nErrors = Number(reply.nErrors ?? 0);
    if (ordered ? nErrors === 0 || (firstErrorIdx !== undefined && firstErrorIdx > 0) : nErrors < count) this.anySuccess = true;
  }

  addWriteConcernError(wce: Document): void {
    this.writeConcernErrors.push({ code: Number(wce.code), message: String(wce.errmsg ?? ''), errInfo: wce.errInfo as Document | undefined });
  }

  /** Records one results-cursor document of the batch starting at `offset`; returns false on a write error. */
  addResult(doc: Document, offset: number): boolean {
    const index = offset + Number(doc.idx);
    if (Number(doc.ok) !== 1) {
      this.writeErrors.set(index, { code: Number(doc.code), message: String(doc.errmsg ?? ''), errInfo: doc.errInfo as Document | undefined });
      return false;
    }
    if (!this.verbose) return true;
    const write = this.writes[index];
    if (write?.kind === 'insert') {
      this.insertResults.set(index, { insertedId: (write.body.document as Document)._id });
    } else if (write?.kind === 'update') {
      const upserted = doc.upserted as Document | undefined;
      const result: ClientUpdateResult = { matchedCount: Number(doc.n ?? 0), modifiedCount: Number(doc.nModified ?? 0), didUpsert: upserted != null };
      if (upserted != null) result.upsertedId = upserted._id;
      this.updateResults.set(index, result);
    } else if (write?.kind === 'delete') {
      this.deleteResults.set(index, { deletedCount: Number(doc.n ?? 0) });
    }
    return true;
  }

  result(): ClientBulkWriteResult {
    const result: ClientBulkWriteResult = {
      acknowledged: true,
      insertedCount: this.insertedCount,
      upsertedCount: this.upsertedCount,
      matchedCount: this.matchedCount,
      modifiedCount: this.modifiedCount,
      deletedCount: this.deletedCount
    };
    if (!this.verbose) return result;
    return { ...result, insertResults: this.insertResults, updateResults: this.updateResults, deleteResults: this.deleteResults };
  }

  hasObservations(): boolean {
    return this.anySuccess || this.writeErrors.size > 0 || this.writeConcernErrors.length > 0;
  }

  toError(message: string, cause?: unknown): MongoClientBulkWriteError<ClientBulkWriteResult> {
    const response = cause instanceof MongoServerError ? cause.errorResponse : undefined;
    const error = new MongoClientBulkWriteError<ClientBulkWriteResult>(message, { cause, response });
    if (cause instanceof MongoError) for (const label of cause.errorLabels) error.addErrorLabel(label);
    for (const [k, v] of this.writeErrors) error.writeErrors.set(k, v);
    error.writeConcernErrors.push(...this.writeConcernErrors);
    if (this.anySuccess) error.partialResult = this.result();
    return error;
  }
}

const UNACKNOWLEDGED_RESULT: ClientBulkWriteResult = Object.freeze({
  acknowledged: false,
  insertedCount: 0,
  upsertedCount: 0,
  matchedCount: 0,
  modifiedCount: 0,
  deletedCount: 0
});

/** Runs `client.bulkWrite(models, options)`. */
export async function executeClientBulkWrite(
  executor: WriteExecutor,
  models: ReadonlyArray<AnyClientBulkWriteModel<Document>>,
  options: ClientBulkWriteOptions = {}
): Promise<ClientBulkWriteResult> {
  if (!Array.isArray(models) || models.length === 0) throw new MongoInvalidArgumentError('client.bulkWrite requires at least one write model');
  const ordered = options.ordered ?? true;
  const unacknowledged = options.writeConcern !== undefined && !options.writeConcern.isAcknowledged;
  if (unacknowledged && options.verboseResults) throw new MongoInvalidArgumentError('Cannot request unacknowledged write concern and verbose results');
  if (unacknowledged && ordered) throw new MongoInvalidArgumentError('Cannot request unacknowledged write concern and ordered writes');
  const writes = models.map((model) => prepareClientWrite(model as unknown as Document));
  const limits = { maxWriteBatchSize: DEFAULT_MAX_WRITE_BATCH_SIZE };
  // CSOT "Batching": every batch and results getMore runs under the one deadline of the bulk write.
  const timeoutContext = operationDeadline(options);
  const bulkOptions: ClientBulkWriteOptions = { ...options, ordered, timeoutContext };

  if (unacknowledged) {
    for (let start = 0; start < writes.length; ) {
      const operation = new ClientBulkWriteBatchOperation(writes, start, bulkOptions, limits);
      start += (await executor.executeOperation(operation)).count;
    }
    return UNACKNOWLEDGED_RESULT;
  }

  const implicitSession = options.session ? undefined : new ClientSession(executor, {}, false);
  const session = options.session ?? implicitSession;
  const merger = new ResultsMerger(writes, options.verboseResults === true);
  try {
    for (let start = 0; start < writes.length; ) {
      const operation = new ClientBulkWriteBatchOperation(writes, start, { ...bulkOptions, session }, limits);
      let outcome: BatchOutcome;
      try {
        outcome = await executor.executeOperation(operation);
      } catch (error) {
        if (!(error instanceof MongoWriteConcernError) || !error.result) {
          if (merger.hasObservations()) throw merger.toError('client bulk write failed', error);
          throw error;
        }
        outcome = { reply: error.result, count: operation.count, address: operation.address };
        merger.addWriteConcernError(error.result.writeConcernError as Document);
      }
      await drainResults(executor, outcome, start, merger, ordered, { session, timeoutMS: options.timeoutMS, timeoutContext });
      start += outcome.count;
    }
  } finally {
    if (implicitSession) await implicitSession.endSession();
  }
  if (merger.writeErrors.size > 0 || merger.writeConcernErrors.length > 0) {
    throw merger.toError('client bulk write encountered errors during execution');
  }
  return merger.result();
}

function toLong(value: unknown): Long {
  if (value instanceof Long) return value;
  if (typeof value === 'bigint') return Long.fromBigInt(value);
  return Long.fromNumber(Number(value ?? 0));
}

/**
 * Reads a batch's results cursor to the end (getMore as needed), merging as it goes. Throws when
 * an ordered bulk hit a write error; a getMore failure kills the cursor and ends the bulk.
 */
async function drainResults(
  executor: WriteExecutor,
  outcome: BatchOutcome,
  offset: number,
  merger: ResultsMerger,
  ordered: boolean,
  cursorOptions: BaseOperationOptions
): Promise<void> {
  const { reply, count, address } = outcome;
  merger.addSummary(reply);
  const cursor = (reply.cursor ?? {}) as Document;
  let cursorId = toLong(cursor.id);
  let batch = (cursor.firstBatch as Document[] | undefined) ?? [];
  let firstErrorIdx: number | undefined;
  let stopped = false;
  for (;;) {
    for (const doc of batch) {
      if (!merger.addResult(doc, offset)) {
        firstErrorIdx ??= Number(doc.idx);
        if (ordered) stopped = true;
      }
    }
    if (cursorId.isZero()) break;
    try {
      // CSOT: the results cursor lives under the bulk write's deadline; its getMores get no maxTimeMS.
      const more = await executor.executeOperation(
        new ResultsCursorCommand({ getMore: cursorId, collection: RESULTS_NAMESPACE }, address, { ...cursorOptions, omitMaxTimeMS: !!cursorOptions.timeoutContext })
      );
      const next = (more.cursor ?? {}) as Document;
      cursorId = toLong(next.id);
      batch = (next.nextBatch as Document[] | undefined) ?? [];
    } catch (error) {
      await executor
        // killCursors under a fresh timeoutMS (CSOT "Cursors").
        .executeOperation(new ResultsCursorCommand({ killCursors: RESULTS_NAMESPACE, cursors: [cursorId] }, address, { ...cursorOptions, timeoutContext: undefined }))
        .catch(() => undefined);
      merger.noteBatchSuccess(reply, count, ordered, firstErrorIdx);
      throw merger.hasObservations() ? merger.toError('client bulk write failed while reading its results', error) : error;
    }
  }
  merger.noteBatchSuccess(reply, count, ordered, firstErrorIdx);
  if (stopped) throw merger.toError('client ordered bulk write encountered a write error');
}
