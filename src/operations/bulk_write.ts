/**
 * Collection-level bulk writes (`collection.bulkWrite`, `insertMany`) over the `insert`, `update`
 * and `delete` commands.
 *
 * - The models become statements up front (validation and `_id` generation happen before anything
 *   is sent). Ordered bulks run consecutive same-kind writes together; unordered bulks group all
 *   inserts, then all updates, then all deletes.
 * - Each batch is ONE operation run through the executor (its own txnNumber and retry). A batch is
 *   cut from its group when it is executed, from the selected connection's limits:
 *   `maxWriteBatchSize` statements and `maxMessageSizeBytes` (minus the command and a fixed
 *   allowance) of document sequence; a statement over `maxBsonObjectSize` fails the whole bulk
 *   before the first batch is sent.
 * - Write errors are remapped to the caller's indexes. Ordered stops after the batch with the
 *   first write error; unordered runs every batch and reports all errors at the end. A write
 *   concern error or a command error stops the bulk; the error carries the partial result.
 */
import type { Document, ObjectId } from 'bson';
import { BulkWriteResult, emptyBulkResult, WriteConcernError, WriteError, type BulkResult } from '../bulk_write_result';
import {
  MongoBulkWriteError,
  MongoDriverError,
  MongoError,
  MongoInvalidArgumentError,
  MongoServerError,
  MongoWriteConcernError
} from '../errors';
import type { AnyBulkWriteOperation } from '../mongo_types';
import { ClientSession, type SessionOwner } from '../sessions';
import { operationDeadline } from '../timeout';
import { DeleteOperation, makeDeleteStatement } from './delete';
import { generateInsertId, idFirstCopy, InsertOperation } from './insert';
import { AbstractOperation, Aspect, aspects, type BaseOperationOptions, type CommandTarget, type OperationContext } from './operation';
import { assertReplacement, assertUpdate, makeUpdateStatement, UpdateOperation } from './update';
import type { RawDataOption } from './raw_data';
import { assertStatementSize, bsonSize, type Namespace, type WriteCommandOperation, type WriteCommandOptions } from './write_command';
import { BsonSequenceWriter } from '../wire';

/** Room left in each OP_MSG for the message header, lsid, txnNumber, $clusterTime, writeConcern… */
export const MESSAGE_OVERHEAD_BYTES = 1000;
const DEFAULT_MAX_WRITE_BATCH_SIZE = 100_000;

export interface BulkWriteOptions extends BaseOperationOptions, RawDataOption {
  /** Stop at the first write error (default true). */
  ordered?: boolean;
  bypassDocumentValidation?: boolean;
  /** Variables for `$$var` in update and delete statements. */
  let?: Document;
  /** Let the server generate `_id`s. */
  forceServerObjectId?: boolean;
}

/** What runs a bulk: the client (executeOperation, and the session pool for an implicit session). */
export interface WriteExecutor extends SessionOwner {
  executeOperation<T>(operation: AbstractOperation<T>): Promise<T>;
}

export type WriteKind = 'insert' | 'update' | 'delete';

/** One model, as a statement of its command, with its index in the caller's list. */
export interface PreparedWrite {
  readonly kind: WriteKind;
  readonly statement: Document;
  readonly index: number;
  /** The statement's BSON size. */
  size: number;
  /** Where the statement's BSON starts in the bulk's serialized statements (see PreparedWrites). */
  offset: number;
  /** updateMany / deleteMany: makes the batch non-retryable. */
  readonly multi: boolean;
}

/**
 * An insert whose `_id` the driver generated: the statement is `{ _id, ...document }` (see
 * prepareDocumentForInsert), but that copy is only made if something reads `statement` (command
 * monitoring, a write error, a document the plain encoder leaves to bson): the BSON is written
 * straight from the caller's document.
 */
class GeneratedIdInsert implements PreparedWrite {
  readonly kind = 'insert';
  readonly multi = false;
  size = 0;
  offset = 0;
  private copy?: Document;

  constructor(
    readonly index: number,
    readonly document: Document,
    readonly insertedId: ObjectId
  ) {}

  get statement(): Document {
    return (this.copy ??= idFirstCopy(this.document, this.insertedId));
  }
}

/**
 * The statements of a bulk, each serialized once: `bytes` holds their BSON back to back (a write's
 * is `bytes[offset, offset + size)`), sent as is in the batches' document sequences. `bytes` is
 * undefined when a statement cannot be serialized: the batches then serialize at send time, and
 * fail there as any command would.
 */
export interface PreparedWrites {
  writes: PreparedWrite[];
  bytes?: Buffer;
}

function modelBody(model: Document, key: string): Document {
  const body = model[key] as unknown;
  if (body === null || typeof body !== 'object') throw new MongoInvalidArgumentError(`${key} must be an object`);
  return body as Document;
}

/** Validates the models and turns them into statements (generating `_id`s), each serialized once. */
export function prepareWrites(models: ReadonlyArray<AnyBulkWriteOperation<Document>>, options: { forceServerObjectId?: boolean } = {}): PreparedWrites {
  if (!Array.isArray(models)) throw new MongoInvalidArgumentError('Argument "operations" must be an array of documents');
  const writes: PreparedWrite[] = new Array(models.length);
  for (let index = 0; index < models.length; index++) writes[index] = prepareWrite(models[index] as unknown as Document, index, options);
  return serializeStatements(writes);
}

/** `insertMany`: the documents as insert statements (generating `_id`s), each serialized once. */
export function prepareInserts(documents: ReadonlyArray<Document>, options: { forceServerObjectId?: boolean } = {}): PreparedWrites {
  const writes: PreparedWrite[] = new Array(documents.length);
  for (let index = 0; index < documents.length; index++) writes[index] = preparedInsert(documents[index], index, options);
  return serializeStatements(writes);
}

function preparedInsert(document: Document, index: number, options: { forceServerObjectId?: boolean }): PreparedWrite {
  const _id = generateInsertId(document, options.forceServerObjectId);
  return _id === undefined ? preparedWrite('insert', document, index, false) : new GeneratedIdInsert(index, document, _id);
}

function preparedWrite(kind: WriteKind, statement: Document, index: number, multi: boolean): PreparedWrite {
  return { kind, statement, index, size: 0, offset: 0, multi };
}

/** Serializes every statement into one buffer and records each one's place and size. */
function serializeStatements(writes: PreparedWrite[]): PreparedWrites {
  const writer = new BsonSequenceWriter();
  try {
    for (const write of writes) {
      write.offset = writer.length;
      const size = write instanceof GeneratedIdInsert ? writer.appendWithId(write.document, write.insertedId) : -1;
      write.size = size >= 0 ? size : writer.append(write.statement);
    }
  } catch {
    // Left to the connection (see PreparedWrites); sizes as before, from the statements.
    for (const write of writes) {
      write.offset = 0;
      write.size = bsonSize(write.statement);
    }
    return { writes };
  }
  return { writes, bytes: writer.view() };
}

function prepareWrite(model: Document, index: number, options: { forceServerObjectId?: boolean }): PreparedWrite {
  if (model === null || typeof model !== 'object' || Array.isArray(model)) {
    throw new MongoInvalidArgumentError('Operation must be an object with an operation key');
  }
  if ('insertOne' in model) {
    const body = modelBody(model, 'insertOne');
    // As in the official driver, `{ insertOne: doc }` (without `document`) is accepted.
    const document = (body.document ?? body) as Document;
    return preparedInsert(document, index, options);
  }
  if ('replaceOne' in model) {
    const body = modelBody(model, 'replaceOne');
    assertReplacement(body.replacement);
    return preparedWrite('update', makeUpdateStatement(body.filter as Document, body.replacement, { ...body, multi: false }), index, false);
  }
  if ('updateOne' in model || 'updateMany' in model) {
    const multi = 'updateMany' in model;
    const body = modelBody(model, multi ? 'updateMany' : 'updateOne');
    assertUpdate(body.update);
    return preparedWrite('update', makeUpdateStatement(body.filter as Document, body.update, { ...body, multi }), index, multi);
  }
  if ('deleteOne' in model || 'deleteMany' in model) {
    const multi = 'deleteMany' in model;
    const body = modelBody(model, multi ? 'deleteMany' : 'deleteOne');
    return preparedWrite('delete', makeDeleteStatement(body.filter as Document, { ...body, limit: multi ? 0 : 1 }), index, multi);
  }
  throw new MongoInvalidArgumentError('bulkWrite only supports insertOne, replaceOne, updateOne, updateMany, deleteOne and deleteMany');
}

/** Ordered: runs of consecutive same-kind writes. Unordered: inserts, updates, deletes. */
export function groupWrites(writes: readonly PreparedWrite[], ordered: boolean): PreparedWrite[][] {
  if (!ordered) {
    return (['insert', 'update', 'delete'] as const).map((kind) => writes.filter((w) => w.kind === kind)).filter((g) => g.length > 0);
  }
  const groups: PreparedWrite[][] = [];
  for (const write of writes) {
    const last = groups[groups.length - 1];
    if (last && last[0].kind === write.kind) last.push(write);
    else groups.push([write]);
  }
  return groups;
}

function commandFor(
  kind: WriteKind,
  ns: Namespace,
  statements: Document[] | (() => Document[]),
  options: WriteCommandOptions,
  serialized?: Uint8Array
): WriteCommandOperation {
  switch (kind) {
    case 'insert':
      return new InsertOperation(ns, statements, options, serialized);
    case 'update':
      return new UpdateOperation(ns, statements, options, serialized);
    case 'delete':
      return new DeleteOperation(ns, statements, options, serialized);
  }
}

/** The bulk's statements and the limits last seen, shared by its batch operations. */
class BulkPlan {
  private validated = false;
  lastMaxWriteBatchSize = DEFAULT_MAX_WRITE_BATCH_SIZE;
  readonly writes: readonly PreparedWrite[];
  /** The statements' BSON (see PreparedWrites). */
  private readonly bytes?: Buffer;

  constructor(
    readonly ns: Namespace,
    prepared: PreparedWrites,
    readonly commandOptions: WriteCommandOptions
  ) {
    this.writes = prepared.writes;
    this.bytes = prepared.bytes;
  }

  /**
   * The batch as one command, sending the statements' BSON serialized at preparation; the
   * statement documents themselves are only collected if read (command monitoring).
   */
  command(kind: WriteKind, batch: readonly PreparedWrite[]): WriteCommandOperation {
    let contiguous = true;
    for (let i = 1; i < batch.length; i++) {
      if (batch[i].offset !== batch[i - 1].offset + batch[i - 1].size) contiguous = false;
    }
    let serialized: Uint8Array | undefined;
    const bytes = this.bytes;
    if (bytes && batch.length > 0) {
      const last = batch[batch.length - 1];
      serialized = contiguous
        ? bytes.subarray(batch[0].offset, last.offset + last.size)
        : Buffer.concat(batch.map((w) => bytes.subarray(w.offset, w.offset + w.size)));
    }
    const statements = serialized ? () => batch.map((w) => w.statement) : batch.map((w) => w.statement);
    return commandFor(kind, this.ns, statements, this.commandOptions, serialized);
  }

  /** The writes of the next batch of `group` from `start`, as large as `target` allows. */
  cut(group: readonly PreparedWrite[], start: number, target: CommandTarget, kind: WriteKind): PreparedWrite[] {
    if (!this.validated) {
      for (const write of this.writes) assertStatementSize(write.size, target.maxBsonObjectSize);
      this.validated = true;
    }
    this.lastMaxWriteBatchSize = target.maxWriteBatchSize;
    const base = commandFor(kind, this.ns, [], this.commandOptions).buildCommand(target);
    const maxBytes = target.maxMessageSizeBytes - MESSAGE_OVERHEAD_BYTES - bsonSize(base);
    const batch: PreparedWrite[] = [];
    let bytes = 0;
    for (let i = start; i < group.length && batch.length < target.maxWriteBatchSize; i++) {
      const write = group[i];
      if (batch.length > 0 && bytes + write.size > maxBytes) break;
      batch.push(write);
      bytes += write.size;
    }
    return batch;
  }
}

const BATCH_ASPECTS = aspects(Aspect.WRITE_OPERATION, Aspect.RETRYABLE);

/** One batch of a bulk write: cut when executed, run as one insert/update/delete command. */
class BulkBatchOperation extends AbstractOperation<Document> {
  readonly commandName: WriteKind;
  /** The writes the latest attempt sent. */
  batch: PreparedWrite[] = [];

  constructor(
    private readonly plan: BulkPlan,
    private readonly group: readonly PreparedWrite[],
    private readonly start: number,
    options: BaseOperationOptions
  ) {
    super(options);
    this.commandName = group[0].kind;
  }

  get aspects(): ReadonlySet<Aspect> {
    return BATCH_ASPECTS;
  }

  get dbName(): string {
    return this.plan.ns.db;
  }

  /** A batch with an updateMany/deleteMany is not retryable (judged on the largest batch it can be). */
  override get canRetryWrite(): boolean {
    if (!super.canRetryWrite) return false;
    const end = Math.min(this.group.length, this.start + this.plan.lastMaxWriteBatchSize);
    for (let i = this.start; i < end; i++) if (this.group[i].multi) return false;
    return true;
  }

  async execute(ctx: OperationContext): Promise<Document> {
    this.batch = this.plan.cut(this.group, this.start, ctx.target, this.commandName);
    return this.plan.command(this.commandName, this.batch).execute(ctx);
  }
}

/** Adds one batch's reply to the merged result (official driver's mergeBatchResults). */
export function mergeBatchResult(result: BulkResult, batch: readonly PreparedWrite[], reply: Document): void {
  const kind = batch[0].kind;
  const n = Number(reply.n ?? 0);
  if (kind === 'insert') {
    result.nInserted += n;
    for (const write of batch) {
      result.insertedIds.push({ index: write.index, _id: write instanceof GeneratedIdInsert ? write.insertedId : write.statement._id });
    }
  } else if (kind === 'delete') {
    result.nRemoved += n;
  } else {
    const upserted = Array.isArray(reply.upserted) ? (reply.upserted as Document[]) : [];
    for (const u of upserted) result.upserted.push({ index: batch[Number(u.index)]?.index ?? Number(u.index), _id: u._id });
    result.nUpserted += upserted.length;
    result.nMatched += n - upserted.length;
    result.nModified += Number(reply.nModified ?? 0);
  }
  if (Array.isArray(reply.writeErrors)) {
    for (const we of reply.writeErrors as Document[]) {
      const write = batch[Number(we.index)];
      result.writeErrors.push(
        new WriteError({
          index: write?.index ?? Number(we.index),
          code: Number(we.code),
          errmsg: we.errmsg as string | undefined,
          errInfo: we.errInfo as Document | undefined,
          op: write?.statement
        })
      );
    }
  }
  if (reply.writeConcernError) result.writeConcernErrors.push(new WriteConcernError(reply.writeConcernError as Document));
}

function writeErrorsError(result: BulkResult, ordered: boolean): MongoBulkWriteError<BulkWriteResult> {
  const first = result.writeErrors[0];
  return new MongoBulkWriteError(
    { message: first.errmsg ?? 'write operation failed', code: first.code, errInfo: first.errInfo, writeErrors: result.writeErrors },
    new BulkWriteResult(result, ordered)
  );
}

function writeConcernErrorError(wce: WriteConcernError, result: BulkResult, ordered: boolean, labels: string[]): MongoBulkWriteError<BulkWriteResult> {
  return new MongoBulkWriteError(
    {
      message: wce.errmsg ?? 'write concern error',
      code: wce.code,
      errInfo: wce.errInfo,
      errorLabels: labels,
      writeConcernError: wce.serverError,
      writeErrors: result.writeErrors
    },
    new BulkWriteResult(result, ordered)
  );
}

/** Runs a collection-level bulk write; throws MongoBulkWriteError with the partial result. */
export async function executeBulkWrite(
  executor: WriteExecutor,
  ns: Namespace,
  models: ReadonlyArray<AnyBulkWriteOperation<Document>>,
  options: BulkWriteOptions = {}
): Promise<BulkWriteResult> {
  return runBulkWrite(executor, ns, prepareWrites(models, options), options);
}

/** `insertMany`: a bulk write of insert statements, without building a model per document. */
export async function executeInsertMany(
  executor: WriteExecutor,
  ns: Namespace,
  documents: ReadonlyArray<Document>,
  options: BulkWriteOptions = {}
): Promise<BulkWriteResult> {
  return runBulkWrite(executor, ns, prepareInserts(documents, options), options);
}

async function runBulkWrite(executor: WriteExecutor, ns: Namespace, prepared: PreparedWrites, options: BulkWriteOptions): Promise<BulkWriteResult> {
  const writes = prepared.writes;
  if (writes.length === 0) throw new MongoInvalidArgumentError('Invalid BulkOperation, Batch cannot be empty');
  const ordered = options.ordered ?? true;
  const { forceServerObjectId: _ignored, ...rest } = options;
  // CSOT "Batching": every batch runs under the one deadline of the bulk write.
  const commandOptions: WriteCommandOptions = { ...rest, ordered, timeoutContext: operationDeadline(options) };
  const plan = new BulkPlan(ns, prepared, commandOptions);
  const unacknowledged = options.writeConcern !== undefined && !options.writeConcern.isAcknowledged;
  // One implicit session for the whole bulk, as the official driver does.
  const implicitSession = !options.session && !unacknowledged ? new ClientSession(executor, {}, false) : undefined;
  const session = options.session ?? implicitSession;
  const result = emptyBulkResult();
  try {
    for (const group of groupWrites(writes, ordered)) {
      for (let start = 0; start < group.length; ) {
        const operation = new BulkBatchOperation(plan, group, start, { ...commandOptions, session });
        let reply: Document;
        try {
          reply = await executor.executeOperation(operation);
        } catch (error) {
          throw batchFailure(error, operation.batch, result, ordered);
        }
        start += operation.batch.length;
        mergeBatchResult(result, operation.batch, reply);
        if (ordered && result.writeErrors.length > 0) throw writeErrorsError(result, ordered);
      }
    }
  } finally {
    if (implicitSession) await implicitSession.endSession();
  }
  if (result.writeErrors.length > 0) throw writeErrorsError(result, ordered);
  const final = new BulkWriteResult(result, ordered);
  const wce = final.getWriteConcernError();
  if (wce) throw writeConcernErrorError(wce, result, ordered, []);
  return final;
}

/** The error a failed batch ends the bulk with. Client-side errors are rethrown as they are. */
function batchFailure(error: unknown, batch: readonly PreparedWrite[], result: BulkResult, ordered: boolean): unknown {
  if (error instanceof MongoWriteConcernError && batch.length > 0) {
    const reply = (error.result ?? error.errorResponse) as Document;
    mergeBatchResult(result, batch, reply);
    const wce = result.writeConcernErrors[result.writeConcernErrors.length - 1];
    return writeConcernErrorError(wce, result, ordered, error.errorLabels);
  }
  if (error instanceof MongoDriverError || !(error instanceof MongoError)) return error;
  const details = error instanceof MongoServerError ? error.errorResponse : undefined;
  return new MongoBulkWriteError(
    {
      message: error.message,
      code: typeof error.code === 'number' ? error.code : undefined,
      codeName: details?.codeName,
      errInfo: details?.errInfo,
      errorLabels: error.errorLabels,
      writeErrors: result.writeErrors,
      cause: error
    },
    new BulkWriteResult(result, ordered)
  );
}
