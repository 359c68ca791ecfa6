/** Transactions (transactions.md): state machine, command shapes, commit/abort retries, labels, mongos pinning. */
import { Long, Timestamp } from 'bson';
import {
  MongoCompatibilityError,
  MongoErrorLabel,
  MongoNetworkError,
  MongoServerError,
  MongoServerSelectionError,
  MongoTransactionError,
  MongoWriteConcernError
} from '../../src/errors';
import { ReadConcern } from '../../src/read_concern';
import { ReadPreference } from '../../src/read_preference';
import { TxnState } from '../../src/transactions';
import { WriteConcern } from '../../src/write_concern';
import { FakeDeployment, failNext, sequence, TestRead, TestWrite } from '../tools/fake_deployment';

const insert = (session: ReturnType<FakeDeployment['startSession']>) => new TestWrite({ insert: 'c', documents: [{}] }, { session, writeConcern: new WriteConcern(1) });

describe('transaction state machine', () => {
  test('start → starting → in progress → committed; commit again re-runs it with w: majority', async () => {
    const d = FakeDeployment.primary();
    const s = d.startSession();
    expect(s.transaction.state).toBe(TxnState.NO_TRANSACTION);
    s.startTransaction();
    expect(s.transaction.state).toBe(TxnState.STARTING_TRANSACTION);
    expect(s.inTransaction).toBe(true);
    await d.run(insert(s));
    expect(s.transaction.state).toBe(TxnState.TRANSACTION_IN_PROGRESS);
    await s.commitTransaction();
    expect(s.transaction.state).toBe(TxnState.TRANSACTION_COMMITTED);
    expect(s.inTransaction).toBe(false);
    await s.commitTransaction();
    const commits = d.commands('commitTransaction');
    expect(commits).toHaveLength(2);
    expect(commits[0].command.writeConcern).toBeUndefined();
    expect(commits[1].command.writeConcern).toEqual({ w: 'majority', wtimeout: 10_000 });
    expect(commits[1].command.txnNumber).toEqual(commits[0].command.txnNumber);
    await s.endSession();
  });

  test('commit or abort of an empty transaction sends nothing', async () => {
    const d = FakeDeployment.primary();
    const s = d.startSession();
    s.startTransaction();
    await s.commitTransaction();
    expect(s.transaction.state).toBe(TxnState.TRANSACTION_COMMITTED_EMPTY);
    await s.commitTransaction();
    s.startTransaction();
    await s.abortTransaction();
    expect(s.transaction.state).toBe(TxnState.TRANSACTION_ABORTED);
    expect(d.commands()).toHaveLength(0);
    await s.endSession();
  });

  test('invalid transitions raise the spec messages without changing state', async () => {
    const d = FakeDeployment.primary();
    const s = d.startSession();
    await expect(s.commitTransaction()).rejects.toThrow('No transaction started');
    await expect(s.abortTransaction()).rejects.toThrow('No transaction started');
    s.startTransaction();
    expect(() => s.startTransaction()).toThrow('Transaction already in progress');
    await d.run(insert(s));
    await s.abortTransaction();
    await expect(s.abortTransaction()).rejects.toThrow('Cannot call abortTransaction twice');
    await expect(s.commitTransaction()).rejects.toThrow('Cannot call commitTransaction after calling abortTransaction');
    s.startTransaction();
    await d.run(insert(s));
    await s.commitTransaction();
    await expect(s.abortTransaction()).rejects.toThrow('Cannot call abortTransaction after calling commitTransaction');
    expect(s.transaction.state).toBe(TxnState.TRANSACTION_COMMITTED);
    await s.endSession();
  });

  test('an operation after commit/abort resets the state to "no transaction"', async () => {
    const d = FakeDeployment.primary();
    const s = d.startSession();
    s.startTransaction();
    await d.run(insert(s));
    await s.commitTransaction();
    await d.run(insert(s));
    expect(s.transaction.state).toBe(TxnState.NO_TRANSACTION);
    const last = d.commands('insert')[1].command;
    expect(last.autocommit).toBeUndefined();
    expect(last.startTransaction).toBeUndefined();
    expect(last.writeConcern).toEqual({ w: 1 });
    await s.endSession();
  });

  test('snapshot sessions cannot start transactions; unacknowledged transaction write concerns are rejected', async () => {
    const d = FakeDeployment.primary();
    const snap = d.startSession({ snapshot: true });
    expect(() => snap.startTransaction()).toThrow(MongoCompatibilityError);
    const s = d.startSession();
    expect(() => s.startTransaction({ writeConcern: { w: 0 } })).toThrow(/unacknowledged write concerns/);
    expect(s.inTransaction).toBe(false);
  });

  test('reads in a transaction must use primary read preference', async () => {
    const d = FakeDeployment.primary();
    const s = d.startSession();
    s.startTransaction({ readPreference: ReadPreference.secondary });
    await expect(d.run(new TestRead({ find: 'c' }, { session: s }))).rejects.toThrow(/read preference in a transaction must be primary/i);
    expect(s.transaction.state).toBe(TxnState.STARTING_TRANSACTION); // client-side errors do not change state
    // writes are not validated
    await d.run(insert(s));
    await s.endSession();
  });
});

describe('commands within a transaction', () => {
  test('autocommit:false on all, startTransaction and readConcern only on the first, writeConcern only on commit', async () => {
    const d = FakeDeployment.primary({ readConcern: ReadConcern.majority });
    const s = d.startSession({ causalConsistency: false });
    s.startTransaction({ writeConcern: { w: 'majority' } });
    await d.run(new TestRead({ find: 'c' }, { session: s, readConcern: ReadConcern.local }));
    await d.run(insert(s));
    await s.commitTransaction();
    const [find, ins, commit] = d.commands();
    expect(find.command).toMatchObject({ autocommit: false, startTransaction: true, readConcern: { level: 'majority' } });
    expect(ins.command.startTransaction).toBeUndefined();
    expect(ins.command.readConcern).toBeUndefined();
    expect(ins.command.writeConcern).toBeUndefined();
    expect(ins.command.autocommit).toBe(false);
    expect(commit.db).toBe('admin');
    expect(commit.command).toMatchObject({ commitTransaction: 1, autocommit: false, writeConcern: { w: 'majority' } });
    expect(commit.command.startTransaction).toBeUndefined();
    const txnNumbers = [find, ins, commit].map((c) => (c.command.txnNumber as Long).toNumber());
    expect(txnNumbers).toEqual([1, 1, 1]);
    await s.endSession();
  });

  test('each transaction gets a new txnNumber; retryable writes in between too', async () => {
    const d = FakeDeployment.primary();
    const s = d.startSession();
    s.startTransaction();
    await d.run(insert(s));
    await s.commitTransaction();
    await d.run(insert(s)); // retryable write: 2
    s.startTransaction();
    await d.run(insert(s)); // transaction: 3
    await s.abortTransaction();
    expect(d.commands().map((c) => (c.command.txnNumber as Long).toNumber())).toEqual([1, 1, 2, 3, 3]);
    await s.endSession();
  });

  test('causal consistency: afterClusterTime on the first command of the transaction (even a write) only', async () => {
    const d = FakeDeployment.primary();
    const s = d.startSession();
    s.advanceOperationTime(new Timestamp({ t: 10, i: 1 }));
    s.startTransaction();
    await d.run(insert(s));
    await d.run(insert(s));
    const [first, second] = d.commands('insert');
    expect(first.command.readConcern).toEqual({ afterClusterTime: new Timestamp({ t: 10, i: 1 }) });
    expect(second.command.readConcern).toBeUndefined();
    await s.endSession();
  });

  test('maxCommitTimeMS is sent as maxTimeMS on commit only', async () => {
    const d = FakeDeployment.primary();
    const s = d.startSession({ defaultTransactionOptions: { maxCommitTimeMS: 500 } });
    s.startTransaction();
    await d.run(insert(s));
    await s.commitTransaction();
    expect(d.commands('insert')[0].command.maxTimeMS).toBeUndefined();
    expect(d.commands('commitTransaction')[0].command.maxTimeMS).toBe(500);
    await s.endSession();
  });

  test('the first command moves the state to in progress even when it fails', async () => {
    const d = FakeDeployment.primary().script('insert', failNext(1, { code: 11000 }));
    const s = d.startSession();
    s.startTransaction();
    await expect(d.run(insert(s))).rejects.toBeInstanceOf(MongoServerError);
    expect(s.transaction.state).toBe(TxnState.TRANSACTION_IN_PROGRESS);
    await s.abortTransaction();
    expect(d.commands('abortTransaction')).toHaveLength(1);
    await s.endSession();
  });

  test('endSession aborts an open transaction (errors ignored)', async () => {
    const d = FakeDeployment.primary().script('abortTransaction', () => ({ ok: 0, code: 251 }));
    const s = d.startSession();
    s.startTransaction();
    await d.run(insert(s));
    await s.endSession();
    expect(d.commands('abortTransaction')).toHaveLength(1);
    expect(s.hasEnded).toBe(true);
  });
});

describe('commit and abort retries and labels', () => {
  test('commit after a network error is retried once with w: majority and wtimeout 10000; same txnNumber', async () => {
    const d = FakeDeployment.primary().script('commitTransaction', failNext(1, 'network'));
    const s = d.startSession();
    s.startTransaction();
    await d.run(insert(s));
    await s.commitTransaction();
    const commits = d.commands('commitTransaction');
    expect(commits).toHaveLength(2);
    expect(commits[0].command.writeConcern).toBeUndefined();
    expect(commits[1].command.writeConcern).toEqual({ w: 'majority', wtimeout: 10_000 });
    expect(commits[1].command.txnNumber).toEqual(commits[0].command.txnNumber);
    await s.endSession();
  });

  test('the retry keeps the transaction write concern options but uses w: majority', async () => {
    const d = FakeDeployment.primary().script('commitTransaction', failNext(1, { code: 91, errorLabels: ['RetryableWriteError'] }));
    const s = d.startSession();
    s.startTransaction({ writeConcern: { w: 2, wtimeoutMS: 300, journal: true } });
    await d.run(insert(s));
    await s.commitTransaction();
    const commits = d.commands('commitTransaction');
    expect(commits[0].command.writeConcern).toEqual({ w: 2, j: true, wtimeout: 300 });
    expect(commits[1].command.writeConcern).toEqual({ w: 'majority', j: true, wtimeout: 300 });
    await s.endSession();
  });

  test('commit is retried even with retryWrites=false', async () => {
    const d = FakeDeployment.primary({ retryWrites: false }).script('commitTransaction', failNext(1, 'network'));
    const s = d.startSession();
    s.startTransaction();
    await d.run(insert(s));
    await s.commitTransaction();
    expect(d.commands('commitTransaction')).toHaveLength(2);
    await s.endSession();
  });

  test('two commit failures: UnknownTransactionCommitResult, not TransientTransactionError', async () => {
    const d = FakeDeployment.primary().script('commitTransaction', sequence(['network', 'network']));
    const s = d.startSession();
    s.startTransaction();
    await d.run(insert(s));
    const error = (await s.commitTransaction().catch((e: unknown) => e)) as MongoNetworkError;
    expect(error).toBeInstanceOf(MongoNetworkError);
    expect(error.hasErrorLabel(MongoErrorLabel.UnknownTransactionCommitResult)).toBe(true);
    expect(error.hasErrorLabel(MongoErrorLabel.TransientTransactionError)).toBe(false);
    expect(s.transaction.state).toBe(TxnState.TRANSACTION_COMMITTED);
    await s.endSession();
  });

  test('commit write concern errors: UnknownTransactionCommitResult except UnsatisfiableWriteConcern / UnknownReplWriteConcern', async () => {
    for (const [wce, labelled] of [
      [{ code: 64, codeName: 'WriteConcernFailed', errmsg: 'timeout' }, true],
      [{ code: 100, codeName: 'UnsatisfiableWriteConcern', errmsg: 'bad' }, false],
      [{ code: 79, codeName: 'UnknownReplWriteConcern', errmsg: 'bad' }, false]
    ] as const) {
      const d = FakeDeployment.primary().script('commitTransaction', () => ({ ok: 1, writeConcernError: wce }));
      const s = d.startSession();
      s.startTransaction();
      await d.run(insert(s));
      const error = (await s.commitTransaction().catch((e: unknown) => e)) as MongoWriteConcernError;
      expect(error).toBeInstanceOf(MongoWriteConcernError);
      expect(error.hasErrorLabel(MongoErrorLabel.UnknownTransactionCommitResult)).toBe(labelled);
      await s.endSession();
    }
  });

  test('a server selection error on commit is labelled UnknownTransactionCommitResult', async () => {
    const d = FakeDeployment.primary();
    const s = d.startSession();
    s.startTransaction();
    await d.run(insert(s));
    d.selectionFailures.push(new MongoServerSelectionError('none'));
    const error = (await s.commitTransaction().catch((e: unknown) => e)) as MongoServerSelectionError;
    expect(error.hasErrorLabel(MongoErrorLabel.UnknownTransactionCommitResult)).toBe(true);
    await s.endSession();
  });

  test('a server selection error inside a transaction is a TransientTransactionError', async () => {
    const d = FakeDeployment.primary();
    const s = d.startSession();
    s.startTransaction();
    d.selectionFailures.push(new MongoServerSelectionError('none'));
    const error = (await d.run(insert(s)).catch((e: unknown) => e)) as MongoServerSelectionError;
    expect(error.hasErrorLabel(MongoErrorLabel.TransientTransactionError)).toBe(true);
    await s.endSession();
  });

  test('abort is retried once after a retryable error; its errors are swallowed', async () => {
    const d = FakeDeployment.primary().script('abortTransaction', sequence(['network', 'network']));
    const s = d.startSession();
    s.startTransaction();
    await d.run(insert(s));
    await expect(s.abortTransaction()).resolves.toBeUndefined();
    expect(d.commands('abortTransaction')).toHaveLength(2);
    expect(s.transaction.state).toBe(TxnState.TRANSACTION_ABORTED);
    await s.endSession();
  });

  test('commit overload errors: the retry keeps the previous write concern (backpressure rule)', async () => {
    const d = FakeDeployment.primary().script(
      'commitTransaction',
      failNext(1, { code: 462, errorLabels: ['SystemOverloadedError', 'RetryableError'] })
    );
    const s = d.startSession();
    s.startTransaction({ writeConcern: { w: 1 } });
    await d.run(insert(s));
    await s.commitTransaction();
    expect(d.commands('commitTransaction').map((c) => c.command.writeConcern)).toEqual([{ w: 1 }, { w: 1 }]);
    await s.endSession();
  });

  test('a TransientTransactionError from the server is passed through', async () => {
    const d = FakeDeployment.primary().script('insert', failNext(1, { code: 251, errorLabels: ['TransientTransactionError'] }));
    const s = d.startSession();
    s.startTransaction();
    await expect(d.run(insert(s))).rejects.toMatchObject({ errorLabels: ['TransientTransactionError'] });
    await s.endSession();
  });
});

describe('sharded transactions', () => {
  test('the session is pinned to the first mongos, recoveryToken is sent on commit, a new transaction unpins', async () => {
    const d = FakeDeployment.sharded(['m1:1', 'm2:1']);
    d.script('insert', (sent) => ({ ok: 1, n: 1, recoveryToken: { shard: sent.address } }));
    const s = d.startSession();
    s.startTransaction();
    await d.run(insert(s));
    expect(s.transaction.pinnedServer).toBe('m1:1');
    await d.run(insert(s));
    await s.commitTransaction();
    expect(d.commands().map((c) => c.address)).toEqual(['m1:1', 'm1:1', 'm1:1']);
    expect(d.commands('commitTransaction')[0].command.recoveryToken).toEqual({ shard: 'm1:1' });
    expect(s.isPinned).toBe(true); // committing does not unpin
    s.startTransaction();
    expect(s.isPinned).toBe(false);
    await s.abortTransaction();
    await s.endSession();
  });

  test('a TransientTransactionError unpins; a commit retry may use another mongos; a non-transaction operation unpins', async () => {
    const d = FakeDeployment.sharded(['m1:1', 'm2:1']);
    const s = d.startSession();
    s.startTransaction();
    await d.run(insert(s));
    d.scriptServer('m1:1', () => new MongoNetworkError('down'));
    await s.commitTransaction();
    expect(d.commands('commitTransaction').map((c) => c.address)).toEqual(['m1:1', 'm2:1']);
    expect(s.isPinned).toBe(false);

    const d2 = FakeDeployment.sharded(['m1:1', 'm2:1']);
    const s2 = d2.startSession();
    s2.startTransaction();
    await d2.run(insert(s2));
    d2.script('insert', failNext(1, 'network'));
    const error = (await d2.run(insert(s2)).catch((e: unknown) => e)) as MongoNetworkError;
    expect(error.hasErrorLabel(MongoErrorLabel.TransientTransactionError)).toBe(true);
    expect(s2.isPinned).toBe(false);
    await s2.abortTransaction();
    await s2.endSession();
    await s.endSession();
  });
});

describe('errors', () => {
  test('MongoTransactionError is the API error class', async () => {
    const d = FakeDeployment.primary();
    const s = d.startSession();
    await expect(s.commitTransaction()).rejects.toBeInstanceOf(MongoTransactionError);
  });
});
