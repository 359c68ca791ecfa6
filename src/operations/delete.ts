/**
 * The `delete` command: DeleteOperation (one batch of statements, used by bulk writes) and the
 * single-statement API operations deleteOne / deleteMany.
 */
import type { Document } from 'bson';
import type { CollationOptions, DeleteResult, Hint } from '../mongo_types';
import type { CommandTarget } from './operation';
import { assertFilter, assertHintAllowed } from './update';
import { throwFirstWriteError, WriteCommandOperation, type Namespace, type WriteCommandOptions } from './write_command';

export interface DeleteStatementOptions {
  /** 1 deletes one document, 0 all matching documents. */
  limit: 0 | 1;
  collation?: CollationOptions | Document;
  hint?: Hint;
}

export interface DeleteOptions extends WriteCommandOptions {
  collation?: CollationOptions | Document;
  hint?: Hint;
}

/** `{ q, limit, collation?, hint? }` */
export function makeDeleteStatement(filter: Document, options: DeleteStatementOptions): Document {
  assertFilter(filter);
  const statement: Document = { q: filter, limit: options.limit };
  if (options.collation) statement.collation = options.collation;
  if (options.hint) statement.hint = options.hint;
  return statement;
}

/** One `delete` command over a batch of statements. Retryable only without `limit: 0` statements. */
export class DeleteOperation<TResult = Document> extends WriteCommandOperation<TResult> {
  readonly commandName = 'delete';
  protected readonly sequenceName = 'deletes';

  /** `serialized`: the statements' BSON, already size-checked (bulk writes). */
  constructor(ns: Namespace, statements: Document[] | (() => Document[]), options: WriteCommandOptions = {}, serialized?: Uint8Array) {
    super(ns, statements, options, serialized);
  }

  override get canRetryWrite(): boolean {
    return super.canRetryWrite && this.statements.every((s) => s.limit !== 0);
  }

  override buildCommand(target: CommandTarget): Document {
    assertHintAllowed(this.statements, this.unacknowledged, target);
    return super.buildCommand(target);
  }
}

abstract class SingleDeleteOperation extends DeleteOperation<DeleteResult> {
  protected override toResult(reply: Document): DeleteResult {
    throwFirstWriteError(reply);
    return { acknowledged: !this.unacknowledged, deletedCount: Number(reply.n ?? 0) };
  }
}

export class DeleteOneOperation extends SingleDeleteOperation {
  constructor(ns: Namespace, filter: Document, options: DeleteOptions = {}) {
    super(ns, [makeDeleteStatement(filter, { ...options, limit: 1 })], options);
  }
}

export class DeleteManyOperation extends SingleDeleteOperation {
  constructor(ns: Namespace, filter: Document, options: DeleteOptions = {}) {
    super(ns, [makeDeleteStatement(filter, { ...options, limit: 0 })], options);
  }
}
