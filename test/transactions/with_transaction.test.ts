/** The convenient transactions API (transactions-convenient-api.md): retry loop, time limit, backoff. */
import { MongoErrorLabel, MongoOperationTimeoutError, MongoServerError } from '../../src/errors';
import { TxnState, transactionBackoffMS } from '../../src/transactions';
import { FakeDeployment, failNext, sequence, TestWrite } from '../tools/fake_deployment';

type Session = ReturnType<FakeDeployment['startSession']>;

/** A fake monotonic clock advanced by the fake server and by sleeps. */
function withFakeClock(d: FakeDeployment, session: Session, perCommandMS = 0, timeLimitMS?: number) {
  const clock = { now: 0 };
  const sleeps: number[] = [];
  d.onCommand = () => {
    clock.now += perCommandMS;
  };
  session.withTransactionHooks = {
    clock: () => clock.now,
    timeLimitMS,
    random: () => 1,
    sleep: async (ms) => {
      sleeps.push(ms);
      clock.now += ms;
    }
  };
  return { clock, sleeps };
}

const insert = (session: Session) => new TestWrite({ insert: 'c', documents: [{}] }, { session });

describe('withTransaction', () => {
  test('runs the callback, commits, and returns its value', async () => {
    const d = FakeDeployment.primary();
    const s = d.startSession();
    const value = await s.withTransaction(async (session) => {
      await d.run(insert(session));
      return 42;
    });
    expect(value).toBe(42);
    expect(d.commands().map((c) => c.name)).toEqual(['insert', 'commitTransaction']);
    expect(s.transaction.state).toBe(TxnState.TRANSACTION_COMMITTED);
    await s.endSession();
  });

  test('retries the whole transaction on TransientTransactionError, with backoff 5 ms * 1.5^attempt * jitter', async () => {
    const d = FakeDeployment.primary().script('insert', failNext(2, { code: 251, errorLabels: ['TransientTransactionError'] }));
    const s = d.startSession();
    const { sleeps } = withFakeClock(d, s);
    let calls = 0;
    await s.withTransaction(async (session) => {
      calls++;
      await d.run(insert(session));
    });
    expect(calls).toBe(3);
    expect(sleeps).toEqual([transactionBackoffMS(1, () => 1), transactionBackoffMS(2, () => 1)]);
    expect(sleeps).toEqual([7.5, 11.25]);
    // each attempt aborted the failed transaction, then a new txnNumber started
    expect(d.commands().map((c) => c.name)).toEqual(['insert', 'abortTransaction', 'insert', 'abortTransaction', 'insert', 'commitTransaction']);
    const txnNumbers = d.commands('insert').map((c) => String(c.command.txnNumber));
    expect(new Set(txnNumbers).size).toBe(3);
    await s.endSession();
  });

  test('backoff is capped at 500 ms', () => {
    expect(transactionBackoffMS(30, () => 1)).toBe(500);
  });

  test('stops retrying at its time limit and returns the last error (no CSOT)', async () => {
    const d = FakeDeployment.primary().script('insert', () => ({ ok: 0, code: 251, errorLabels: ['TransientTransactionError'] }));
    const s = d.startSession();
    withFakeClock(d, s, 400, 1000);
    let calls = 0;
    const error = await s
      .withTransaction(async (session) => {
        calls++;
        await d.run(insert(session));
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MongoServerError);
    expect((error as MongoServerError).hasErrorLabel(MongoErrorLabel.TransientTransactionError)).toBe(true);
    expect(calls).toBeGreaterThan(1);
    expect(calls).toBeLessThan(5);
    await s.endSession();
  });

  test('the default limit is 120 s', async () => {
    const d = FakeDeployment.primary().script('insert', () => ({ ok: 0, code: 251, errorLabels: ['TransientTransactionError'] }));
    const s = d.startSession();
    withFakeClock(d, s, 30_000);
    let calls = 0;
    await expect(
      s.withTransaction(async (session) => {
        calls++;
        await d.run(insert(session));
      })
    ).rejects.toBeInstanceOf(MongoServerError);
    // each attempt costs 60 s on the fake clock (insert + abort): two attempts fit in 120 s
    expect(calls).toBe(2);
    await s.endSession();
  });

  test('with timeoutMS the limit is timeoutMS and the error is a timeout error with the labels copied', async () => {
    const d = FakeDeployment.primary({ timeoutMS: 1000 }).script('insert', () => ({ ok: 0, code: 251, errorLabels: ['TransientTransactionError'] }));
    const s = d.startSession();
    withFakeClock(d, s, 300);
    const error = (await s.withTransaction(async (session) => d.run(insert(session))).catch((e: unknown) => e)) as MongoOperationTimeoutError;
    expect(error).toBeInstanceOf(MongoOperationTimeoutError);
    expect(error.hasErrorLabel(MongoErrorLabel.TransientTransactionError)).toBe(true);
    expect((error.cause as MongoServerError).code).toBe(251);
    await s.endSession();
  });

  test('retries commit on UnknownTransactionCommitResult (with w: majority) without re-running the callback', async () => {
    const d = FakeDeployment.primary().script('commitTransaction', sequence(['network', 'network']));
    const s = d.startSession();
    withFakeClock(d, s);
    let calls = 0;
    await s.withTransaction(async (session) => {
      calls++;
      await d.run(insert(session));
    });
    expect(calls).toBe(1);
    const commits = d.commands('commitTransaction');
    expect(commits).toHaveLength(3);
    expect(commits.slice(1).every((c) => c.command.writeConcern?.w === 'majority')).toBe(true);
    await s.endSession();
  });

  test('does not retry commit on MaxTimeMSExpired', async () => {
    const d = FakeDeployment.primary().script('commitTransaction', () => ({ ok: 0, code: 50, errorLabels: ['UnknownTransactionCommitResult'] }));
    const s = d.startSession();
    await expect(s.withTransaction(async (session) => d.run(insert(session)))).rejects.toMatchObject({ code: 50 });
    expect(d.commands('commitTransaction')).toHaveLength(1);
    await s.endSession();
  });

  test('retries the transaction when commit fails with TransientTransactionError', async () => {
    const d = FakeDeployment.primary().script('commitTransaction', failNext(1, { code: 251, errorLabels: ['TransientTransactionError'] }));
    const s = d.startSession();
    withFakeClock(d, s);
    let calls = 0;
    await s.withTransaction(async (session) => {
      calls++;
      await d.run(insert(session));
    });
    expect(calls).toBe(2);
    await s.endSession();
  });

  test('other callback errors abort and propagate as-is, without retry', async () => {
    const d = FakeDeployment.primary();
    const s = d.startSession();
    const boom = new Error('boom');
    let calls = 0;
    await expect(
      s.withTransaction(async (session) => {
        calls++;
        await d.run(insert(session));
        throw boom;
      })
    ).rejects.toBe(boom);
    expect(calls).toBe(1);
    expect(d.commands().map((c) => c.name)).toEqual(['insert', 'abortTransaction']);
    await s.endSession();
  });

  test('a callback that ends the transaction itself is not committed again', async () => {
    const d = FakeDeployment.primary();
    const s = d.startSession();
    await s.withTransaction(async (session) => {
      await d.run(insert(session));
      await session.abortTransaction();
    });
    expect(d.commands().map((c) => c.name)).toEqual(['insert', 'abortTransaction']);
    await s.endSession();
  });

  test('transaction options are used for startTransaction', async () => {
    const d = FakeDeployment.primary();
    const s = d.startSession();
    await s.withTransaction(async (session) => d.run(insert(session)), { writeConcern: { w: 'majority' } });
    expect(d.commands('commitTransaction')[0].command.writeConcern).toEqual({ w: 'majority' });
    await s.endSession();
  });
});
