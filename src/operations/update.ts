/**
 * The `update` command: UpdateOperation (one batch of statements, used by bulk writes) and the
 * single-statement API operations updateOne / updateMany / replaceOne. Also the validation every
 * update path shares (update documents need operators, replacements must not have them) and the
 * sort formatting used by updateOne/replaceOne (8.0) and findAndModify.
 */
import type { Document } from 'bson';
import { MongoCompatibilityError, MongoInvalidArgumentError } from '../errors';
import type { CollationOptions, Hint, Sort, UpdateResult } from '../mongo_types';
import type { CommandTarget } from './operation';
import { throwFirstWriteError, WriteCommandOperation, type Namespace, type WriteCommandOptions } from './write_command';

/** Servers before 4.4 (wire version 9) ignore `hint` on unacknowledged writes. */
export const HINT_UNACKNOWLEDGED_MIN_WIRE_VERSION = 9;

export interface UpdateStatementOptions {
  upsert?: boolean;
  multi?: boolean;
  arrayFilters?: Document[];
  collation?: CollationOptions | Document;
  hint?: Hint;
  /** updateOne/replaceOne only (MongoDB 8.0). */
  sort?: Sort;
}

export interface UpdateOptions extends WriteCommandOptions, Omit<UpdateStatementOptions, 'multi'> {}

export type SortForCommand = Map<string, 1 | -1 | { $meta: string }>;

function isDocumentLike(value: unknown): value is Document {
  return value !== null && typeof value === 'object';
}

/** True when `update` is an operator document (first key `$…`) or a pipeline with a `$` stage. */
export function hasAtomicOperators(update: Document | Document[]): boolean {
  if (Array.isArray(update)) return update.some((stage) => isDocumentLike(stage) && hasAtomicOperators(stage));
  const keys = Object.keys(update);
  return keys.length > 0 && keys[0].startsWith('$');
}

export function assertFilter(filter: unknown, name = 'filter'): asserts filter is Document {
  if (!isDocumentLike(filter) || Array.isArray(filter)) {
    throw new MongoInvalidArgumentError(`Argument "${name}" must be a document`);
  }
}

/** An update document must be non-empty with operator keys; a pipeline must be an array of stages. */
export function assertUpdate(update: unknown): asserts update is Document | Document[] {
  if (!isDocumentLike(update)) throw new MongoInvalidArgumentError('Argument "update" must be a document or a pipeline');
  if (!hasAtomicOperators(update as Document)) throw new MongoInvalidArgumentError('Update document requires atomic operators');
}

/** A replacement document must not start with an operator (the server checks the other keys). */
export function assertReplacement(replacement: unknown): asserts replacement is Document {
  if (!isDocumentLike(replacement) || Array.isArray(replacement)) {
    throw new MongoInvalidArgumentError('Argument "replacement" must be a document');
  }
  if (hasAtomicOperators(replacement)) throw new MongoInvalidArgumentError('Replacement document must not contain atomic operators');
}

function sortDirection(direction: unknown = 1): 1 | -1 | { $meta: string } {
  if (isDocumentLike(direction) && typeof (direction as Document).$meta === 'string') return direction as { $meta: string };
  switch (`${String(direction)}`.toLowerCase()) {
    case 'ascending':
    case 'asc':
    case '1':
      return 1;
    case 'descending':
    case 'desc':
    case '-1':
      return -1;
    default:
      throw new MongoInvalidArgumentError(`Invalid sort direction: ${JSON.stringify(direction)}`);
  }
}

function isSortPair(value: unknown): value is [string, unknown] {
  if (!Array.isArray(value) || value.length !== 2 || Array.isArray(value[1])) return false;
  try {
    sortDirection(value[1]);
    return true;
  } catch {
    return false;
  }
}

/**
 * Normalises every accepted sort spelling (`'a'`, `['a', -1]`, `[['a', 1], ['b', -1]]`, `['a', 'b']`,
 * `{a: 'desc'}`, a Map) to an ordered Map of 1 / -1 / {$meta}; undefined when empty.
 */
export function formatSort(sort: Sort | undefined): SortForCommand | undefined {
  if (sort == null) return undefined;
  if (typeof sort === 'string') return new Map([[sort, 1]]);
  if (typeof sort !== 'object') throw new MongoInvalidArgumentError(`Invalid sort format: ${JSON.stringify(sort)}`);
  let entries: Array<[string, unknown]>;
  if (sort instanceof Map) entries = Array.from(sort as ReadonlyMap<string, unknown>);
  else if (Array.isArray(sort)) {
    if (sort.length === 0) return undefined;
    if (Array.isArray(sort[0])) entries = (sort as ReadonlyArray<readonly [string, unknown]>).map(([k, v]) => [`${k}`, v]);
    else if (isSortPair(sort)) entries = [[`${sort[0]}`, sort[1]]];
    else entries = (sort as ReadonlyArray<unknown>).map((k) => [`${String(k)}`, 1]);
  } else entries = Object.entries(sort as Document);
  if (entries.length === 0) return undefined;
  return new Map(entries.map(([k, v]) => [k, sortDirection(v)]));
}

/** `{ q, u, upsert?, multi?, hint?, arrayFilters?, collation?, sort? }` */
export function makeUpdateStatement(filter: Document, update: Document | Document[], options: UpdateStatementOptions): Document {
  assertFilter(filter);
  const statement: Document = { q: filter, u: update };
  if (typeof options.upsert === 'boolean') statement.upsert = options.upsert;
  if (options.multi) statement.multi = true;
  if (options.hint) statement.hint = options.hint;
  if (options.arrayFilters) statement.arrayFilters = options.arrayFilters;
  if (options.collation) statement.collation = options.collation;
  if (!options.multi && options.sort != null) {
    const sort = formatSort(options.sort);
    if (sort) statement.sort = sort;
  }
  return statement;
}

/** Unacknowledged `hint` on a pre-4.4 server is silently ignored there, so the driver refuses it. */
export function assertHintAllowed(statements: readonly Document[], unacknowledged: boolean, target: CommandTarget): void {
  if (unacknowledged && target.maxWireVersion < HINT_UNACKNOWLEDGED_MIN_WIRE_VERSION && statements.some((s) => s.hint !== undefined)) {
    throw new MongoCompatibilityError('hint is not supported with unacknowledged writes on servers before MongoDB 4.4');
  }
}

/** One `update` command over a batch of statements. Retryable only without `multi` statements. */
export class UpdateOperation<TResult = Document> extends WriteCommandOperation<TResult> {
  readonly commandName = 'update';
  protected readonly sequenceName = 'updates';

  /** `serialized`: the statements' BSON, already size-checked (bulk writes). */
  constructor(ns: Namespace, statements: Document[] | (() => Document[]), options: WriteCommandOptions = {}, serialized?: Uint8Array) {
    super(ns, statements, options, serialized);
  }

  override get canRetryWrite(): boolean {
    return super.canRetryWrite && this.statements.every((s) => !s.multi);
  }

  override buildCommand(target: CommandTarget): Document {
    assertHintAllowed(this.statements, this.unacknowledged, target);
    return super.buildCommand(target);
  }
}

/** updateOne / updateMany / replaceOne: one statement, an UpdateResult, writeErrors[0] thrown. */
abstract class SingleUpdateOperation extends UpdateOperation<UpdateResult> {
  protected override toResult(reply: Document): UpdateResult {
    throwFirstWriteError(reply);
    const upserted = Array.isArray(reply.upserted) ? (reply.upserted as Document[]) : [];
    const n = Number(reply.n ?? 0);
    return {
      acknowledged: !this.unacknowledged,
      modifiedCount: Number(reply.nModified ?? reply.n ?? 0),
      upsertedId: upserted.length > 0 ? (upserted[0]._id as UpdateResult['upsertedId']) : null,
      upsertedCount: upserted.length,
      matchedCount: upserted.length > 0 ? 0 : n
    };
  }
}

export class UpdateOneOperation extends SingleUpdateOperation {
  constructor(ns: Namespace, filter: Document, update: Document | Document[], options: UpdateOptions = {}) {
    assertFilter(filter);
    assertUpdate(update);
    super(ns, [makeUpdateStatement(filter, update, { ...options, multi: false })], options);
  }
}

export class UpdateManyOperation extends SingleUpdateOperation {
  constructor(ns: Namespace, filter: Document, update: Document | Document[], options: UpdateOptions = {}) {
    assertFilter(filter);
    assertUpdate(update);
    super(ns, [makeUpdateStatement(filter, update, { ...options, multi: true })], options);
  }
}

export class ReplaceOneOperation extends SingleUpdateOperation {
  constructor(ns: Namespace, filter: Document, replacement: Document, options: UpdateOptions = {}) {
    assertFilter(filter);
    assertReplacement(replacement);
    super(ns, [makeUpdateStatement(filter, replacement, { ...options, multi: false })], options);
  }
}
