/**
 * Results of bulk writes.
 *
 * - Collection-level (`collection.bulkWrite`, `insertMany`): `BulkWriteResult` over the merged raw
 *   result of every `insert`/`update`/`delete` batch, with `WriteError`/`WriteConcernError`, shaped
 *   like the official Node.js driver's.
 * - Client-level (`client.bulkWrite`, crud/bulk-write.md): `ClientBulkWriteResult` with summary
 *   counts and, with `verboseResults`, per-model results keyed by the model's index.
 */
import { EJSON, type Document } from 'bson';
import type { BulkWriteErrorLike, BulkWriteResultLike } from './errors';

/** The raw merged result of all batches (indexes are the caller's). */
export interface BulkResult {
  ok: number;
  writeErrors: WriteError[];
  writeConcernErrors: WriteConcernError[];
  insertedIds: Array<{ index: number; _id: unknown }>;
  nInserted: number;
  nUpserted: number;
  nMatched: number;
  nModified: number;
  nRemoved: number;
  upserted: Array<{ index: number; _id: unknown }>;
}

export function emptyBulkResult(): BulkResult {
  return {
    ok: 1,
    writeErrors: [],
    writeConcernErrors: [],
    insertedIds: [],
    nInserted: 0,
    nUpserted: 0,
    nMatched: 0,
    nModified: 0,
    nRemoved: 0,
    upserted: []
  };
}

/** A write concern error reported by one batch. */
export class WriteConcernError {
  constructor(readonly serverError: Document) {}

  get code(): number | undefined {
    return this.serverError.code as number | undefined;
  }
  get errmsg(): string | undefined {
    return this.serverError.errmsg as string | undefined;
  }
  /** The server's `writeConcernError.errInfo` (crud prose test 1). */
  get errInfo(): Document | undefined {
    return this.serverError.errInfo as Document | undefined;
  }
  toJSON(): Document {
    return this.serverError;
  }
  toString(): string {
    return `WriteConcernError(${this.errmsg})`;
  }
}

export interface WriteErrorDetails {
  index: number;
  code: number;
  errmsg?: string;
  errInfo?: Document;
  /** The statement that failed. */
  op?: Document;
}

/** One failed write, with its index in the caller's list of operations. */
export class WriteError implements BulkWriteErrorLike {
  constructor(readonly err: WriteErrorDetails) {}

  get code(): number {
    return this.err.code;
  }
  get index(): number {
    return this.err.index;
  }
  get errmsg(): string | undefined {
    return this.err.errmsg;
  }
  /** The server's `writeErrors[].errInfo` (crud prose test 2). */
  get errInfo(): Document | undefined {
    return this.err.errInfo;
  }
  getOperation(): Document | undefined {
    return this.err.op;
  }
  toJSON(): Document {
    return { code: this.err.code, index: this.err.index, errmsg: this.err.errmsg, op: this.err.op };
  }
  toString(): string {
    return `WriteError(${JSON.stringify(this.toJSON())})`;
  }
}

function idMap(entries: ReadonlyArray<{ index: number; _id: unknown }>): { [index: number]: unknown } {
  const map: { [index: number]: unknown } = {};
  for (const { index, _id } of entries) map[index] = _id;
  return map;
}

/** The result of `collection.bulkWrite` (and the partial result carried by MongoBulkWriteError). */
export class BulkWriteResult implements BulkWriteResultLike {
  readonly insertedCount: number;
  readonly matchedCount: number;
  readonly modifiedCount: number;
  readonly deletedCount: number;
  readonly upsertedCount: number;
  /** `{ [index]: _id }` of upserts. */
  readonly upsertedIds: { [index: number]: unknown };
  /** `{ [index]: _id }` of inserts that succeeded. */
  readonly insertedIds: { [index: number]: unknown };
  declare private readonly result: BulkResult;

  constructor(result: BulkResult, isOrdered: boolean) {
    Object.defineProperty(this, 'result', { value: result, enumerable: false });
    this.insertedCount = result.nInserted;
    this.matchedCount = result.nMatched;
    this.modifiedCount = result.nModified;
    this.deletedCount = result.nRemoved;
    this.upsertedCount = result.upserted.length;
    this.upsertedIds = idMap(result.upserted);
    this.insertedIds = idMap(successfulInserts(result, isOrdered));
  }

  get ok(): number {
    return this.result.ok;
  }
  isOk(): boolean {
    return this.result.ok === 1;
  }
  getUpsertedIdAt(index: number): { index: number; _id: unknown } | undefined {
    return this.result.upserted[index];
  }
  getRawResponse(): BulkResult {
    return this.result;
  }
  hasWriteErrors(): boolean {
    return this.result.writeErrors.length > 0;
  }
  getWriteErrorCount(): number {
    return this.result.writeErrors.length;
  }
  getWriteErrorAt(index: number): WriteError | undefined {
    return this.result.writeErrors[index];
  }
  getWriteErrors(): WriteError[] {
    return this.result.writeErrors;
  }
  /** The write concern error, or one combining several batches' errors. */
  getWriteConcernError(): WriteConcernError | undefined {
    const errors = this.result.writeConcernErrors;
    if (errors.length === 0) return undefined;
    if (errors.length === 1) return errors[0];
    return new WriteConcernError({ errmsg: errors.map((e) => e.errmsg).join(' and '), code: 64 });
  }
  toString(): string {
    return `BulkWriteResult(${EJSON.stringify(this.result as unknown as Document)})`;
  }
}

/**
 * Inserted ids of the batches that ran, minus inserts that failed (ordered: everything from the
 * first write error on).
 */
function successfulInserts(result: BulkResult, isOrdered: boolean): Array<{ index: number; _id: unknown }> {
  if (result.writeErrors.length === 0) return result.insertedIds;
  if (isOrdered) {
    const stop = result.writeErrors[0].index;
    return result.insertedIds.filter(({ index }) => index < stop);
  }
  const failed = new Set(result.writeErrors.map((e) => e.index));
  return result.insertedIds.filter(({ index }) => !failed.has(index));
}

// ---------------------------------------------------------------- client.bulkWrite results

export interface ClientInsertOneResult {
  insertedId: unknown;
}

export interface ClientUpdateResult {
  matchedCount: number;
  modifiedCount: number;
  /** Set when an upsert took place (may be null if the upserted `_id` was null). */
  upsertedId?: unknown;
  /** Tells an upserted null `_id` from no upsert. */
  didUpsert: boolean;
}

export interface ClientDeleteResult {
  deletedCount: number;
}

/** The result of `client.bulkWrite`. Verbose maps are present only with `verboseResults: true`. */
export interface ClientBulkWriteResult {
  /** False for `w: 0`: the counts are then all 0 and meaningless. */
  readonly acknowledged: boolean;
  readonly insertedCount: number;
  readonly upsertedCount: number;
  readonly matchedCount: number;
  readonly modifiedCount: number;
  readonly deletedCount: number;
  readonly insertResults?: ReadonlyMap<number, ClientInsertOneResult>;
  readonly updateResults?: ReadonlyMap<number, ClientUpdateResult>;
  readonly deleteResults?: ReadonlyMap<number, ClientDeleteResult>;
}
