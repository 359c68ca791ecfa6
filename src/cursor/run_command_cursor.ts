/**
 * RunCommandCursor: `db.runCursorCommand(command, options)` (run-command.md "runCursorCommand").
 *
 * - The command is sent as given (its own `batchSize`, `maxTimeMS`, `comment`, `tailable`… stay
 *   in it); the reply must hold a `cursor` document (else MongoUnexpectedServerResponseError on the
 *   first iteration).
 * - `batchSize`, `maxTimeMS` and `comment` in the options, and `setBatchSize` / `setMaxTimeMS` /
 *   `setComment`, apply to the getMore commands only; a setter may be called at any time and the
 *   next getMore uses the new value.
 * - Session, server and (load-balanced) connection pinning, killCursors on close and CSOT
 *   (`timeoutMS`, `timeoutMode`, with `cursorType` telling tailable cursors apart) are those of
 *   every cursor (AbstractCursor). A getMore `maxTimeMS` together with `timeoutMS` is rejected
 *   (run-command.md "Client Side Operations Timeout": undefined behaviour, not supported).
 */
import type { Document } from 'bson';
import { MongoInvalidArgumentError } from '../errors';
import type { CursorCreation } from '../operations/cursor_response';
import { RunCursorCommandOperation } from '../operations/run_cursor_command';
import type { ReadPreference } from '../read_preference';
import type { ClientSession } from '../sessions';
import type { TimeoutMode } from '../timeout';
import { AbstractCursor, validateInteger, type CursorClient, type CursorCommandTimeout } from './abstract_cursor';

/** crud.md `CursorType`: how the caller built the command (tailable / awaitData flags). */
export type RunCursorCommandCursorType = 'nonTailable' | 'tailable' | 'tailableAwait';

export interface RunCommandCursorOptions {
  session?: ClientSession;
  readPreference?: ReadPreference;
  timeoutMS?: number;
  timeoutMode?: TimeoutMode;
  cursorType?: RunCursorCommandCursorType;
  /** getMore `batchSize` (the command's own `batchSize` is for the first batch). */
  batchSize?: number;
  /** getMore `maxTimeMS` (the command's own `maxTimeMS` is for the command). */
  maxTimeMS?: number;
  /** getMore `comment` (the command's own `comment` is for the command). */
  comment?: unknown;
}

function validateCursorType(cursorType: unknown): void {
  if (cursorType !== undefined && cursorType !== 'nonTailable' && cursorType !== 'tailable' && cursorType !== 'tailableAwait') {
    throw new MongoInvalidArgumentError(`cursorType must be 'nonTailable', 'tailable' or 'tailableAwait', got ${JSON.stringify(cursorType)}`);
  }
}

export class RunCommandCursor<TSchema = Document> extends AbstractCursor<TSchema> {
  private readonly command: Readonly<Document>;
  private getMoreTimeMS?: number;

  constructor(
    client: CursorClient,
    private readonly dbName: string,
    command: Document,
    private readonly runOptions: RunCommandCursorOptions = {}
  ) {
    validateCursorType(runOptions.cursorType);
    const { cursorType, maxTimeMS: _maxTimeMS, ...cursorOptions } = runOptions;
    super(client, { db: dbName, collection: '' }, {
      ...cursorOptions,
      tailable: cursorType === 'tailable' || cursorType === 'tailableAwait',
      awaitData: cursorType === 'tailableAwait'
    });
    this.command = Object.freeze({ ...command });
    if (runOptions.maxTimeMS !== undefined) this.setMaxTimeMS(runOptions.maxTimeMS);
  }

  protected async initialize(session: ClientSession, timeout: CursorCommandTimeout): Promise<CursorCreation> {
    const o = this.cursorOptions;
    return this.client.executeOperation(
      new RunCursorCommandOperation(this.dbName, this.command, { session, readPreference: o.readPreference, timeoutMS: o.timeoutMS, ...timeout })
    );
  }

  protected override getMoreMaxTimeMS(): number | undefined {
    return this.getMoreTimeMS;
  }

  /** The getMore `batchSize` from now on (any positive integer). */
  setBatchSize(batchSize: number): this {
    validateInteger('batchSize', batchSize);
    this.cursorOptions.batchSize = batchSize;
    return this;
  }

  /** The getMore `maxTimeMS` from now on (any non-negative integer); not with `timeoutMS`. */
  setMaxTimeMS(maxTimeMS: number): this {
    validateInteger('maxTimeMS', maxTimeMS);
    if (this.cursorOptions.timeoutMS !== undefined) {
      throw new MongoInvalidArgumentError('runCursorCommand: the getMore maxTimeMS cannot be combined with timeoutMS');
    }
    this.getMoreTimeMS = maxTimeMS;
    return this;
  }

  /** The getMore `comment` from now on. */
  setComment(comment: unknown): this {
    this.cursorOptions.comment = comment;
    return this;
  }

  clone(): RunCommandCursor<TSchema> {
    const copy = new RunCommandCursor<TSchema>(this.client, this.dbName, this.command, {
      ...this.runOptions,
      batchSize: this.cursorOptions.batchSize,
      maxTimeMS: this.getMoreTimeMS,
      comment: this.cursorOptions.comment
    });
    this.copyTransformTo(copy);
    return copy;
  }

  override map<T>(fn: (doc: TSchema) => T): RunCommandCursor<T> {
    return super.map(fn) as RunCommandCursor<T>;
  }
}
