/**
 * Driver sessions (sessions/driver-sessions.md): the server session pool and ClientSession.
 * Transactions hang off ClientSession but their state machine lives in transactions.ts.
 */
import { Binary, Long, Timestamp, UUID, type Document } from 'bson';
import { EventEmitter } from 'node:events';
import { MongoExpiredSessionError, MongoInvalidArgumentError } from './errors';
import type { ReadConcernLike } from './read_concern';
import type { ReadPreferenceLike } from './read_preference';
import type { WriteConcernOptions } from './write_concern';

/** `$clusterTime` as gossiped by the server. */
export interface ClusterTime {
  clusterTime: Timestamp;
  signature?: { hash: Binary; keyId: Long | number | bigint };
}

/** Options for transactions (also the session's `defaultTransactionOptions`). */
export interface TransactionOptions {
  readConcern?: ReadConcernLike;
  writeConcern?: WriteConcernOptions;
  readPreference?: ReadPreferenceLike;
  maxCommitTimeMS?: number;
  timeoutMS?: number;
}

export interface ClientSessionOptions {
  causalConsistency?: boolean;
  snapshot?: boolean;
  defaultTransactionOptions?: TransactionOptions;
  /** CSOT default for operations in this session. */
  defaultTimeoutMS?: number;
}

/** The server-side half of a session: its id and transaction number. */
export class ServerSession {
  readonly id: { id: Binary };
  lastUse: number;
  txnNumber = 0;
  isDirty = false;

  constructor(now = Date.now()) {
    this.id = { id: new Binary(new UUID().buffer, Binary.SUBTYPE_UUID) };
    this.lastUse = now;
  }

  /** True when fewer than `slackMinutes` minutes remain before the server considers it stale. */
  hasTimedOut(sessionTimeoutMinutes: number, now = Date.now(), slackMinutes = 1): boolean {
    const idleMinutes = (now - this.lastUse) / 60_000;
    return idleMinutes > sessionTimeoutMinutes - slackMinutes;
  }
}

/** LIFO pool of server sessions; dirty and nearly-expired sessions are discarded. */
export class ServerSessionPool {
  private sessions: ServerSession[] = [];
  /** Every session id handed out and not discarded, for `endSessions` at close. */
  private readonly everUsed = new Set<ServerSession>();

  constructor(private readonly timeoutMinutes: () => number | null) {}

  acquire(): ServerSession {
    const timeout = this.timeoutMinutes() ?? 30;
    const now = Date.now();
    while (this.sessions.length > 0) {
      const session = this.sessions.shift() as ServerSession;
      if (!session.hasTimedOut(timeout, now)) return session;
      this.everUsed.delete(session);
    }
    const fresh = new ServerSession(now);
    this.everUsed.add(fresh);
    return fresh;
  }

  release(session: ServerSession): void {
    const timeout = this.timeoutMinutes() ?? 30;
    const now = Date.now();
    // Prune expiring sessions from the back (the least recently used end).
    while (this.sessions.length > 0 && this.sessions[this.sessions.length - 1].hasTimedOut(timeout, now)) {
      this.everUsed.delete(this.sessions.pop() as ServerSession);
    }
    if (session.isDirty || session.hasTimedOut(timeout, now)) {
      this.everUsed.delete(session);
      return;
    }
    this.sessions.unshift(session);
  }

  get size(): number {
    return this.sessions.length;
  }

  /** The ids to send in `endSessions` at client close, in batches of 10,000; empties the pool. */
  drainForEndSessions(batchSize = 10_000): Array<Array<{ id: Binary }>> {
    const ids = this.sessions.map((s) => s.id);
    this.sessions = [];
    this.everUsed.clear();
    const batches: Array<Array<{ id: Binary }>> = [];
    for (let i = 0; i < ids.length; i += batchSize) batches.push(ids.slice(i, i + batchSize));
    return batches;
  }

  /** Forget every session without ending it (after fork, or a topology reset). */
  clear(): void {
    this.sessions = [];
    this.everUsed.clear();
  }
}

/** What a ClientSession needs from the client that owns it. */
export interface SessionOwner {
  readonly serverSessionPool: ServerSessionPool;
  /** Called when a session ends, so the client can forget it. */
  onSessionEnded?(session: ClientSession): void;
  /** Aborts an in-progress transaction when the session ends (provided by transactions.ts). */
  abortTransactionOnEnd?(session: ClientSession): Promise<void>;
}

function compareTimestamps(a: Timestamp, b: Timestamp): number {
  return a.compare(b);
}

/** Transaction states (transactions spec). */
export const TxnState = Object.freeze({
  NO_TRANSACTION: 'NO_TRANSACTION',
  STARTING_TRANSACTION: 'STARTING_TRANSACTION',
  TRANSACTION_IN_PROGRESS: 'TRANSACTION_IN_PROGRESS',
  TRANSACTION_COMMITTED: 'TRANSACTION_COMMITTED',
  TRANSACTION_COMMITTED_EMPTY: 'TRANSACTION_COMMITTED_EMPTY',
  TRANSACTION_ABORTED: 'TRANSACTION_ABORTED'
} as const);
export type TxnState = (typeof TxnState)[keyof typeof TxnState];

/** Per-session transaction bookkeeping; the transitions live in transactions.ts. */
export interface TransactionInfo {
  state: TxnState;
  options: TransactionOptions;
  /** Address of the mongos a sharded transaction is pinned to. */
  pinnedServer?: string;
  recoveryToken?: Document;
  /** The commit was attempted at least once (a second commit is a retry). */
  commitAttempted: boolean;
}

/** A logical session, as returned by `client.startSession()`. */
export class ClientSession extends EventEmitter {
  readonly explicit: boolean;
  readonly options: Readonly<ClientSessionOptions>;
  clusterTime?: ClusterTime;
  operationTime?: Timestamp;
  /** snapshot sessions: the atClusterTime fixed by the first read. */
  snapshotTime?: Timestamp;
  transaction: TransactionInfo = { state: TxnState.NO_TRANSACTION, options: {}, commitAttempted: false };
  /** Load-balanced mode: the connection pinned to this session (cursors, transactions). */
  pinnedConnection?: unknown;

  private serverSessionValue?: ServerSession;
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
    this.explicit = explicit;
    this.options = Object.freeze({
      ...options,
      causalConsistency: options.snapshot ? false : (options.causalConsistency ?? true)
    });
  }

  /** The server session, acquired lazily on first use (spec: "only obtain … when needed"). */
  get serverSession(): ServerSession {
    if (this.ended && !this.serverSessionValue) throw new MongoExpiredSessionError();
    if (!this.serverSessionValue) this.serverSessionValue = this.owner.serverSessionPool.acquire();
    return this.serverSessionValue;
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

  get inTransaction(): boolean {
    return this.transaction.state === TxnState.STARTING_TRANSACTION || this.transaction.state === TxnState.TRANSACTION_IN_PROGRESS;
  }

  /** Gossip: keep the greatest `$clusterTime` seen. */
  advanceClusterTime(clusterTime: ClusterTime): void {
    if (!clusterTime || !(clusterTime.clusterTime instanceof Timestamp)) {
      throw new MongoInvalidArgumentError('input cluster time must have a valid "clusterTime" property');
    }
    if (!this.clusterTime || compareTimestamps(clusterTime.clusterTime, this.clusterTime.clusterTime) > 0) {
      this.clusterTime = clusterTime;
    }
  }

  /** Causal consistency: keep the greatest operationTime seen. */
  advanceOperationTime(operationTime: Timestamp): void {
    if (!this.operationTime || compareTimestamps(operationTime, this.operationTime) > 0) {
      this.operationTime = operationTime;
    }
  }

  /** Marks the server session dirty after a network error (it will be discarded). */
  markDirty(): void {
    if (this.serverSessionValue) this.serverSessionValue.isDirty = true;
  }

  /** Returns the server session to the pool without ending the ClientSession (implicit sessions). */
  releaseServerSession(): void {
    if (this.serverSessionValue) {
      this.owner.serverSessionPool.release(this.serverSessionValue);
      this.serverSessionValue = undefined;
    }
  }

  /** Ends the session: aborts an open transaction, returns the server session to the pool. */
  async endSession(): Promise<void> {
    if (this.ended) return;
    try {
      if (this.inTransaction && this.owner.abortTransactionOnEnd) {
        await this.owner.abortTransactionOnEnd(this).catch(() => undefined);
      }
    } finally {
      this.ended = true;
      this.pinnedConnection = undefined;
      this.releaseServerSession();
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
    return Buffer.from(this.id.id.buffer).equals(Buffer.from(other.id.id.buffer));
  }
}
