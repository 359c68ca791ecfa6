/**
 * The operation layer. Every API call becomes an operation: it knows how to build its command and
 * read the reply; the executor (execute_operation.ts) does server selection, checkout, session and
 * concern decoration, retries and SDAM error handling. One path for every operation.
 */
import type { Document } from 'bson';
import type { ReadConcern } from '../read_concern';
import { ReadPreference } from '../read_preference';
import type { ClientSession, PinnedConnection } from '../sessions';
import type { WriteConcern } from '../write_concern';
import type { DocumentSequence } from '../wire';
import type { ServerDescription } from '../sdam/types';
import type { TimeoutContext, TimeoutMode } from '../timeout';

export const Aspect = Object.freeze({
  /** Runs on a server chosen by read preference; may be retried under retryReads. */
  READ_OPERATION: 'READ_OPERATION',
  /** Runs on a writable server; may be retried under retryWrites. */
  WRITE_OPERATION: 'WRITE_OPERATION',
  /** Eligible for the retry rules of its kind. */
  RETRYABLE: 'RETRYABLE',
  /** Creates a server cursor (find, aggregate, list*). */
  CURSOR_CREATING: 'CURSOR_CREATING',
  /** Must run on `operation.server` (getMore, killCursors). */
  MUST_SELECT_SAME_SERVER: 'MUST_SELECT_SAME_SERVER',
  /** Never takes a session (e.g. the handshake-adjacent commands). */
  NO_SESSION: 'NO_SESSION'
} as const);
export type Aspect = (typeof Aspect)[keyof typeof Aspect];

/** The facts about the chosen server and connection an operation may need to build its command. */
export interface CommandTarget {
  readonly description: ServerDescription;
  readonly maxWireVersion: number;
  readonly maxBsonObjectSize: number;
  readonly maxMessageSizeBytes: number;
  readonly maxWriteBatchSize: number;
  readonly address: string;
  readonly topologyType: string;
}

/** How a command is sent, beyond its body. */
export interface CommandSendOptions {
  sequences?: DocumentSequence[];
  /** Unacknowledged write: send with moreToCome and do not wait for a reply. */
  moreToCome?: boolean;
  /**
   * Ask for BSON that keeps Int64 as Long etc. `fieldsAsRaw: {firstBatch: true, nextBatch: true}`
   * leaves each document of those arrays undecoded, as a Buffer (raw-batch cursors).
   */
  bson?: {
    promoteLongs?: boolean;
    promoteValues?: boolean;
    promoteBuffers?: boolean;
    useBigInt64?: boolean;
    bsonRegExp?: boolean;
    fieldsAsRaw?: Readonly<Record<string, boolean>>;
  };
}

/** Runs one command through the executor's decoration, monitoring and error handling. */
export type RunCommand = (db: string, command: Document, options?: CommandSendOptions) => Promise<Document>;

export interface OperationContext {
  target: CommandTarget;
  session?: ClientSession;
  /** 0 for the first attempt, 1 for a retry. */
  attempt: number;
  runCommand: RunCommand;
}

export interface BaseOperationOptions {
  session?: ClientSession;
  readPreference?: ReadPreference;
  readConcern?: ReadConcern;
  writeConcern?: WriteConcern;
  /** Client-side operation timeout (CSOT). */
  timeoutMS?: number;
  /** CSOT: an existing deadline to run under (cursors, withTransaction) instead of a new one. */
  timeoutContext?: TimeoutContext;
  /** CSOT: do not append maxTimeMS (getMore of tailable awaitData cursors, commit in some cases). */
  omitMaxTimeMS?: boolean;
  /** CSOT cursor mode: the deadline covers the cursor's lifetime or each iteration. */
  timeoutMode?: TimeoutMode;
  comment?: unknown;
}

export abstract class AbstractOperation<TResult = unknown> {
  abstract readonly commandName: string;
  readonly options: BaseOperationOptions;
  readPreference: ReadPreference;
  session?: ClientSession;
  /** Set for operations that must run on a given server (getMore, killCursors). */
  serverAddress?: string;
  /**
   * Load-balanced mode: run on this connection (a cursor's getMore and killCursors) instead of
   * checking one out; the executor neither checks it out nor in.
   */
  pinnedConnection?: PinnedConnection;
  /**
   * aggregate with `$out`/`$merge`: select with `secondaryWritableServerSelector` (the read
   * preference when every server is 5.0+, else the primary) instead of the read preference.
   */
  trySecondaryWrite = false;
  /** Whether this operation was retried (for tests and monitoring). */
  retried = false;

  protected constructor(options: BaseOperationOptions = {}) {
    this.options = options;
    this.readPreference = options.readPreference ?? ReadPreference.primary;
    this.session = options.session;
  }

  abstract get aspects(): ReadonlySet<Aspect>;

  hasAspect(aspect: Aspect): boolean {
    return this.aspects.has(aspect);
  }

  /** The database the command runs against. */
  abstract get dbName(): string;

  /** False when this particular call cannot be retried (e.g. a multi-document update). */
  get canRetryWrite(): boolean {
    return this.hasAspect(Aspect.WRITE_OPERATION) && this.hasAspect(Aspect.RETRYABLE);
  }

  get canRetryRead(): boolean {
    return this.hasAspect(Aspect.READ_OPERATION) && this.hasAspect(Aspect.RETRYABLE);
  }

  /** The write concern the command will carry, if any (w:0 → unacknowledged). */
  get writeConcern(): WriteConcern | undefined {
    return this.options.writeConcern;
  }

  get readConcern(): ReadConcern | undefined {
    return this.options.readConcern;
  }

  /** Commands that accept a readConcern field. */
  get supportsReadConcern(): boolean {
    return this.hasAspect(Aspect.READ_OPERATION);
  }

  /** Commands that accept a writeConcern field. */
  get supportsWriteConcern(): boolean {
    return this.hasAspect(Aspect.WRITE_OPERATION);
  }

  abstract execute(ctx: OperationContext): Promise<TResult>;
}

export function aspects(...list: Aspect[]): ReadonlySet<Aspect> {
  return new Set(list);
}

/** An operation that is exactly one command. Subclasses build the command and map the reply. */
export abstract class CommandOperation<TResult = Document> extends AbstractOperation<TResult> {
  protected constructor(
    readonly db: string,
    options: BaseOperationOptions = {}
  ) {
    super(options);
  }

  get dbName(): string {
    return this.db;
  }

  abstract buildCommand(target: CommandTarget, session?: ClientSession): Document;

  /** Extra send options (document sequences, moreToCome). */
  sendOptions(_target: CommandTarget): CommandSendOptions | undefined {
    return undefined;
  }

  handleReply(reply: Document, _ctx: OperationContext): TResult {
    return reply as TResult;
  }

  async execute(ctx: OperationContext): Promise<TResult> {
    const command = this.buildCommand(ctx.target, ctx.session);
    if (this.options.comment !== undefined && command.comment === undefined) command.comment = this.options.comment;
    const reply = await ctx.runCommand(this.db, command, this.sendOptions(ctx.target));
    return this.handleReply(reply, ctx);
  }
}
