/**
 * Driver sessions (sessions/driver-sessions.md, snapshot-sessions.md, causal-consistency.md):
 * the server session pool and ClientSession. The transaction state machine lives in
 * transactions.ts; ClientSession exposes it as methods.
 */
import { Binary, Long, Timestamp, UUID, type Document } from 'bson';
import { EventEmitter } from 'node:events';
import { MongoExpiredSessionError, MongoInvalidArgumentError, MongoRuntimeError } from './errors';
import type { AbstractOperation } from './operations/operation';
import type { ReadConcern, ReadConcernLike } from './read_concern';
import type { ReadPreference, ReadPreferenceLike } from './read_preference';
import type { TimeoutContext } from './timeout';
import {
  Transaction,
  abortTransaction,
  commitTransaction,
  startTransaction,
  withTransaction,
  type EndOptions,
  type WithTransactionCallback,
  type WithTransactionHooks,
  type WithTransactionOptions
} from './transactions';
import type { WriteConcern, WriteConcernOptions } from './write_concern';

export { TxnState, Transaction } from './transactions';

/** `$clusterTime` as gossiped by the server. */
export interface ClusterTime {
  clusterTime: Timestamp;
  signature?: { hash: Binary; keyId: Long | number | bigint };
}

/** Options for transactions (also the session's `defaultTransactionOptions`). */
export interface TransactionOptions {
  readConcern?: ReadConcernLike | ReadConcern;
  writeConcern?: WriteConcernOptions | WriteConcern;
  readPreference?: ReadPreferenceLike;
  /** Deprecated in favour of timeoutMS: sent as `maxTimeMS` on commitTransaction. */
  maxCommitTimeMS?: number;
}

export interface ClientSessionOptions {
  /** Default true for explicit sessions (false when `snapshot` is set). */
  causalConsistency?: boolean;
  /** Snapshot reads (MongoDB 5.0+); exclusive with causalConsistency. */
  snapshot?: boolean;
  /** A snapshot time to read at (requires `snapshot: true`). */
  snapshotTime?: Timestamp;
  defaultTransactionOptions?: TransactionOptions;
  /** CSOT default for commitTransaction, abortTransaction, withTransaction and endSession. */
  defaultTimeoutMS?: number;
}

/**
 * Load-balanced mode (load-balancers.md "Connection Pinning"): a connection kept checked out for
 * a cursor's getMore/killCursors or for every command of a transaction. The executor creates it.
 */
export interface PinnedConnection {
  /** What the connection is held for (reported in wait queue timeout errors). */
  readonly kind: 'cursor' | 'transaction';
  /** The connection is no longer usable (e.g. a network error): nothing more may be sent on it. */
  readonly closed: boolean;
  /** Checks the connection back into its pool. Idempotent. */
  release(): void;
}

/** The server-side half of a session: its id and transaction number. */
export class ServerSession {
  readonly id: { id: Binary };
  lastUse: number;
  txnNumber = 0;
  isDirty = false;
  /** The pool generation it was created in (a cleared pool does not take back older sessions). */
  generation: number;

  constructor(now = Date.now(), generation = 0) {
    this.id = { id: new Binary(new UUID().buffer, Binary.SUBTYPE_UUID) };
    this.lastUse = now;
    this.generation = generation;
  }

  /** True when fewer than `slackMinutes` minutes remain before the server considers it stale. */
  hasTimedOut(sessionTimeoutMinutes: number, now = Date.now(), slackMinutes = 1): boolean {
    const idleMinutes = (now - this.lastUse) / 60_000;
    return idleMinutes > sessionTimeoutMinutes - slackMinutes;
  }
}

export interface ServerSessionPoolOptions {
  /** Load-balanced mode: pooled sessions are reused regardless of idle time. */
  loadBalanced?: () => boolean;
  /** Wall clock in ms (tests). */
  now?: () => number;
}

/**
 * The server session pool: a deque whose front holds the most recently released sessions (LIFO
 * reuse). Sessions within a minute of `logicalSessionTimeoutMinutes` are discarded, as are dirty
 * ones (a network error happened while they were in use).
 */
export class ServerSessionPool {
  private sessions: ServerSession[] = [];
  private generation = 0;

  constructor(
    private readonly timeoutMinutes: () => number | null,
    private readonly poolOptions: ServerSessionPoolOptions = {}
  ) {}

  private now(): number {
    return this.poolOptions.now?.() ?? Date.now();
  }

  private get sessionTimeoutMinutes(): number {
    return this.timeoutMinutes() ?? 30;
  }

  acquire(): ServerSession {
    const timeout = this.sessionTimeoutMinutes;
    const now = this.now();
    const loadBalanced = this.poolOptions.loadBalanced?.() ?? false;
    while (this.sessions.length > 0) {
      const session = this.sessions.shift() as ServerSession;
      if (loadBalanced || !session.hasTimedOut(timeout, now)) return session;
    }
    return new ServerSession(now, this.generation);
  }

  release(session: ServerSession): void {
    if (session.generation !== this.generation) return;
    if (session.isDirty) return;
    // Load-balanced mode: logicalSessionTimeoutMinutes is ignored and the pool is never pruned.
    if (this.poolOptions.loadBalanced?.() === true) {
      this.sessions.unshift(session);
      return;
    }
    const timeout = this.sessionTimeoutMinutes;
    const now = this.now();
    // Prune sessions about to expire from the back (the least recently used end).
    while (this.sessions.length > 0 && this.sessions[this.sessions.length - 1].hasTimedOut(timeout, now)) this.sessions.pop();
    if (session.hasTimedOut(timeout, now)) return;
    this.sessions.unshift(session);
  }

  get size(): number {
    return this.sessions.length;
  }

  /** The pooled session ids, front first. */
  ids(): Array<{ id: Binary }> {
    return this.sessions.map((s) => s.id);
  }

  /** The ids to send in `endSessions` at client close, in batches of 10,000; empties the pool. */
  drainForEndSessions(batchSize = 10_000): Array<Array<{ id: Binary }>> {
    const ids = this.ids();
    this.sessions = [];
    const batches: Array<Array<{ id: Binary }>> = [];
    for (let i = 0; i < ids.length; i += batchSize) batches.push(ids.slice(i, i + batchSize));
    return batches;
  }

  /** Forgets every session without ending it (after fork); sessions checked out now are not taken back. */
  clear(): void {
    this.sessions = [];
    this.generation++;
  }
}

/** What a ClientSession needs from the client that owns it (MongoClient satisfies it). */
export interface SessionOwner {
  readonly serverSessionPool: ServerSessionPool;
  /** Called when a session ends, so the client can forget it. */
  onSessionEnded?(session: ClientSession): void;
  /** Runs an operation (commitTransaction / abortTransaction). */
  executeOperation?<T>(operation: AbstractOperation<T>): Promise<T>;
  /** Client-level defaults transactions inherit. */
  readonly readConcern?: ReadConcern;
  readonly writeConcern?: WriteConcern;
  readonly readPreference?: ReadPreference;
  readonly timeoutMS?: number;
}

/** A logical session, as returned by `client.startSession()`. */
export class ClientSession extends EventEmitter {
  readonly explicit: boolean;
  readonly options: Readonly<ClientSessionOptions>;
  clusterTime?: ClusterTime;
  operationTime?: Timestamp;
  /** Snapshot sessions: the atClusterTime fixed by the first read (or given in the options). */
  snapshotTime?: Timestamp;
  transaction: Transaction = new Transaction();
  /**
   * Load-balanced mode: the connection pinned to this session's transaction (kept after commit,
   * for commit retries, until the next transaction or operation, an abort, or `endSession`).
   * Cursors outside transactions pin their own connection.
   */
  pinnedConnection?: PinnedConnection;
  /**
   * @internal The deadline of a `withTransaction` call (CSOT): operations run with this session
   * inside the callback use it. Do not modify.
   */
  timeoutContext?: TimeoutContext;
  /** @internal Test hooks for withTransaction (clock, time limit, jitter, sleep). */
  withTransactionHooks?: WithTransactionHooks;

  private serverSessionValue?: ServerSession;
  private txnNumberIncrement = 0;
  private ended = false;

  constructor(
    private readonly owner: SessionOwner,
    options: ClientSessionOptions = {},
    explicit = true
  ) {
    super();
    if (options.snapshot && options.causalConsistency) {
      throw new MongoInvalidArgumentError('Properties "causalConsistency" and "snapshot" are mutually exclusive');
    }
    if (options.snapshotTime !== undefined && !options.snapshot) {
      throw new MongoInvalidArgumentError('snapshotTime requires snapshot: true');
    }
    this.explicit = explicit;
    // Implicit sessions are never causally consistent (causal-consistency.md).
    // Object.assign, not a spread followed by a property: much faster on Node 20 (one per operation).
    this.options = Object.freeze(
      Object.assign({}, options, { causalConsistency: options.snapshot ? false : (options.causalConsistency ?? explicit) })
    );
    if (options.snapshotTime) this.snapshotTime = options.snapshotTime;
  }

  /** The MongoClient that started this session. */
  get client(): SessionOwner {
    return this.owner;
  }

  /** The server session, acquired lazily on first use (after connection checkout for implicit sessions). */
  get serverSession(): ServerSession {
    if (!this.serverSessionValue) {
      if (this.ended) throw new MongoExpiredSessionError();
      this.serverSessionValue = this.owner.serverSessionPool.acquire();
    }
    return this.serverSessionValue;
  }

  /** Whether a server session has been acquired (tests, pool accounting). */
  get hasServerSession(): boolean {
    return this.serverSessionValue !== undefined;
  }

  /** The session id (`lsid`), acquiring a server session if needed. */
  get id(): { id: Binary } {
    return this.serverSession.id;
  }

  get hasEnded(): boolean {
    return this.ended;
  }

  get snapshotEnabled(): boolean {
    return this.options.snapshot === true;
  }

  get causalConsistency(): boolean {
    return this.options.causalConsistency === true;
  }

  /** "starting transaction" or "transaction in progress". */
  get inTransaction(): boolean {
    return this.transaction.isActive;
  }

  /** Sharded transactions: the mongos this session is pinned to. */
  get isPinned(): boolean {
    return this.transaction.pinnedServer !== undefined || this.pinnedConnection !== undefined;
  }

  /**
   * Unpins the session from its mongos (transactions spec "When to unpin"); in load-balanced
   * mode, checks its pinned connection back in.
   */
  unpin(): void {
    this.transaction.pinnedServer = undefined;
    const pinned = this.pinnedConnection;
    this.pinnedConnection = undefined;
    pinned?.release();
  }

  /** Transaction numbers are applied lazily so the server session is only taken when a command is sent. */
  incrementTransactionNumber(): void {
    this.txnNumberIncrement += 1;
  }

  /** The current txnNumber, after applying pending increments (acquires the server session). */
  currentTxnNumber(): number {
    const serverSession = this.serverSession;
    serverSession.txnNumber += this.txnNumberIncrement;
    this.txnNumberIncrement = 0;
    return serverSession.txnNumber;
  }

  /** Gossip: keep the greatest `$clusterTime` seen (never advances the client's). */
  advanceClusterTime(clusterTime: ClusterTime): void {
    if (!clusterTime || typeof clusterTime !== 'object' || !(clusterTime.clusterTime instanceof Timestamp)) {
      throw new MongoInvalidArgumentError('input cluster time must have a valid "clusterTime" property');
    }
    if (!this.clusterTime || clusterTime.clusterTime.compare(this.clusterTime.clusterTime) > 0) {
      this.clusterTime = clusterTime;
    }
  }

  /** Causal consistency: keep the greatest operationTime seen. */
  advanceOperationTime(operationTime: Timestamp): void {
    if (!(operationTime instanceof Timestamp)) throw new MongoInvalidArgumentError('operationTime must be a BSON Timestamp');
    if (!this.operationTime || operationTime.compare(this.operationTime) > 0) {
      this.operationTime = operationTime;
    }
  }

  /** Marks the server session dirty after a network error (it will be discarded, not pooled). */
  markDirty(): void {
    if (this.serverSessionValue) this.serverSessionValue.isDirty = true;
  }

  // ---------------------------------------------------------------- transactions (transactions.ts)

  /** Starts a transaction; the first command sent with this session carries `startTransaction`. */
  startTransaction(options?: TransactionOptions): void {
    startTransaction(this, options);
  }

  /** `timeoutMS` overrides the session's `defaultTimeoutMS` for this commit (CSOT). */
  async commitTransaction(options?: { timeoutMS?: number }): Promise<void> {
    await commitTransaction(this, callTimeout(options));
  }

  /** Aborts the transaction; server errors are ignored (transactions spec). `timeoutMS` as for commit. */
  async abortTransaction(options?: { timeoutMS?: number }): Promise<void> {
    await abortTransaction(this, callTimeout(options));
  }

  /**
   * Runs `callback` in a transaction and commits it, retrying on TransientTransactionError and
   * UnknownTransactionCommitResult for up to 120 s (or `timeoutMS`). The callback may run more than once.
   *
   * CSOT: with `timeoutMS` (here, the session's `defaultTimeoutMS` or the client's) the whole call
   * runs under one deadline, which operations in the callback that use this session share; it is
   * not applied to operations that do not use the session, and giving such an operation its own
   * `timeoutMS` is a MongoInvalidArgumentError. An abort after a failed callback gets a fresh timeout.
   */
  async withTransaction<T>(callback: WithTransactionCallback<T>, options?: WithTransactionOptions): Promise<T | undefined> {
    return withTransaction(this, callback, options);
  }

  // ---------------------------------------------------------------- ending

  /**
   * Ends the session: aborts an open transaction (errors ignored; bounded by `timeoutMS`, else the
   * session's `defaultTimeoutMS` or the client's timeoutMS) and returns the server session to the pool.
   */
  async endSession(options?: { timeoutMS?: number }): Promise<void> {
    if (this.ended) return;
    try {
      if (this.inTransaction) await abortTransaction(this, callTimeout(options)).catch(() => undefined);
    } finally {
      this.ended = true;
      this.unpin();
      if (this.serverSessionValue) {
        this.owner.serverSessionPool.release(this.serverSessionValue);
        this.serverSessionValue = undefined;
      }
      this.owner.onSessionEnded?.(this);
      this.emit('ended', this);
    }
  }

  /** `await using session = client.startSession()` */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.endSession();
  }

  /** Compares two sessions by id. */
  equals(other: ClientSession): boolean {
    if (!(other instanceof ClientSession)) return false;
    return Buffer.from(this.id.id.buffer).equals(Buffer.from(other.id.id.buffer));
  }

  /** A session is never a BSON value. */
  toBSON(): Document {
    throw new MongoRuntimeError('ClientSession cannot be serialized to BSON');
  }
}

/** Per-call CSOT options of commit / abort / endSession. */
function callTimeout(options: { timeoutMS?: number } | undefined): EndOptions | undefined {
  return options?.timeoutMS === undefined ? undefined : { timeoutMS: options.timeoutMS };
}
