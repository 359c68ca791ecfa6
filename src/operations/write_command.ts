/**
 * The shared shape of the `insert`, `update` and `delete` commands (server_write_commands spec):
 * `{ <cmd>: <collection>, ordered, bypassDocumentValidation?, let?, comment? }` with the statements
 * sent as an OP_MSG document sequence (`documents` / `updates` / `deletes`). One operation is one
 * batch; splitting a large write into batches is the caller's job (bulk_write.ts).
 */
import { calculateObjectSize, type Document } from 'bson';
import { MongoInvalidArgumentError, MongoServerError, MongoWriteConcernError } from '../errors';
import { Aspect, aspects, CommandOperation, type BaseOperationOptions, type CommandSendOptions, type CommandTarget } from './operation';
import { applyRawData, type RawDataOption } from './raw_data';
import { BsonSequenceWriter, type DocumentSequence } from '../wire';

/** First buffer for the statements of a single write (grown as needed). */
const SINGLE_WRITE_CAPACITY = 1024;

export interface Namespace {
  db: string;
  collection: string;
}

export interface WriteCommandOptions extends BaseOperationOptions, RawDataOption {
  /** Stop at the first write error (default true). */
  ordered?: boolean;
  /** Let the writes opt out of document validation. Sent only when a boolean. */
  bypassDocumentValidation?: boolean;
  /** Variables for `$$var` in filters/updates (update and delete). */
  let?: Document;
}

const WRITE_ASPECTS = aspects(Aspect.WRITE_OPERATION, Aspect.RETRYABLE);

/** The BSON size of a document, as sent. */
export function bsonSize(doc: Document): number {
  return calculateObjectSize(doc, { ignoreUndefined: false, serializeFunctions: false });
}

/** Throws before anything is sent when one statement exceeds the server's maxBsonObjectSize. */
export function assertStatementSize(size: number, maxBsonObjectSize: number): void {
  if (size > maxBsonObjectSize) {
    throw new MongoInvalidArgumentError(`Document is larger than the maximum size ${maxBsonObjectSize} bytes (got ${size} bytes)`);
  }
}

/** Raises a write concern error carried by an `ok: 1` reply, so the retry engine can see its labels. */
export function throwIfWriteConcernError(reply: Document): void {
  if (reply.writeConcernError && typeof reply.writeConcernError === 'object') {
    throw new MongoWriteConcernError(reply as Document & { writeConcernError: Document }, reply);
  }
}

/** Single-statement writes surface `writeErrors[0]` as a MongoServerError (e.g. code 11000), like the official driver. */
export function throwFirstWriteError(reply: Document): void {
  const writeErrors = reply.writeErrors as Document[] | undefined;
  if (Array.isArray(writeErrors) && writeErrors.length > 0) throw new MongoServerError(writeErrors[0]);
}

export abstract class WriteCommandOperation<TResult = Document> extends CommandOperation<TResult> {
  abstract override readonly commandName: 'insert' | 'update' | 'delete';
  /** The OP_MSG document sequence identifier. */
  protected abstract readonly sequenceName: 'documents' | 'updates' | 'deletes';

  /** The BSON of `statements`, back to back: serialized once, sent by every attempt. */
  private serialized?: Uint8Array;
  /** Statement sizes to check against the server's maxBsonObjectSize (unset when the caller checked them). */
  private statementSizes?: number[];

  /**
   * `serialized`: the statements' BSON, back to back, when the caller already serialized them
   * and checked their sizes (bulk writes); otherwise each statement is serialized once, at the
   * first attempt.
   */
  private statementList?: Document[];
  private readonly collectStatements?: () => Document[];

  /**
   * `statements` may be given as a function when `serialized` is: the documents are then only
   * collected if something reads them (command monitoring).
   */
  protected constructor(
    readonly ns: Namespace,
    statements: Document[] | (() => Document[]),
    readonly writeOptions: WriteCommandOptions,
    serialized?: Uint8Array
  ) {
    super(ns.db, writeOptions);
    if (typeof statements === 'function') this.collectStatements = statements;
    else this.statementList = statements;
    this.serialized = serialized;
  }

  get statements(): Document[] {
    return (this.statementList ??= (this.collectStatements as () => Document[])());
  }

  get aspects(): ReadonlySet<Aspect> {
    return WRITE_ASPECTS;
  }

  buildCommand(target: CommandTarget): Document {
    if (this.serialized === undefined) this.serializeStatements();
    if (this.statementSizes) for (const size of this.statementSizes) assertStatementSize(size, target.maxBsonObjectSize);
    const command: Document = { [this.commandName]: this.ns.collection, ordered: this.writeOptions.ordered ?? true };
    // `delete` has no document validation to bypass (the official driver does not send it either).
    if (typeof this.writeOptions.bypassDocumentValidation === 'boolean' && this.commandName !== 'delete') {
      command.bypassDocumentValidation = this.writeOptions.bypassDocumentValidation;
    }
    if (this.writeOptions.let && this.commandName !== 'insert') command.let = this.writeOptions.let;
    if (this.writeOptions.comment !== undefined) command.comment = this.writeOptions.comment;
    return applyRawData(command, this.writeOptions, target);
  }

  override sendOptions(_target: CommandTarget): CommandSendOptions {
    if (this.statementList === undefined && this.serialized !== undefined) {
      // The documents stay uncollected unless the connection reads them (command monitoring).
      const operation = this;
      const sequence: DocumentSequence = {
        identifier: this.sequenceName,
        get documents(): Document[] {
          return operation.statements;
        },
        serialized: this.serialized
      };
      return { sequences: [sequence] };
    }
    return { sequences: [{ identifier: this.sequenceName, documents: this.statements, serialized: this.serialized }] };
  }

  /**
   * Serializes each statement (as the connection would: bson's default options) and keeps the
   * sizes. A statement that cannot be serialized is left to the connection, which fails the
   * command as before (with its command monitoring events).
   */
  private serializeStatements(): void {
    const writer = new BsonSequenceWriter(SINGLE_WRITE_CAPACITY);
    try {
      this.statementSizes = this.statements.map((statement) => writer.append(statement));
    } catch {
      this.statementSizes = this.statements.map(bsonSize);
      return;
    }
    this.serialized = writer.view();
  }

  /** A write concern error is raised as MongoWriteConcernError; otherwise `toResult(reply)`. */
  override handleReply(reply: Document): TResult {
    throwIfWriteConcernError(reply);
    return this.toResult(reply);
  }

  /** Maps the reply to the API result; by default the raw reply (bulk writes merge it). */
  protected toResult(reply: Document): TResult {
    return reply as TResult;
  }

  /** True when the write concern is `w: 0` (no reply will come). */
  get unacknowledged(): boolean {
    return this.writeConcern !== undefined && !this.writeConcern.isAcknowledged;
  }
}
