/**
 * CSOT for sessions and transactions (client-side-operations-timeout.md "Sessions", "Convenient
 * Transactions API"): defaultTimeoutMS and per-call timeoutMS for commit/abort/endSession,
 * withTransaction's single deadline shared by the callback, the refreshed abort, and the client
 * error for a per-call timeoutMS inside the callback.
 */
import { MongoInvalidArgumentError, MongoOperationTimeoutError } from '../../src/errors';
import { MockAction } from '../tools/mock_server';
import { rejectionOf, startDeployment, type MockDeployment } from './mock_helpers';

let d: MockDeployment;

afterEach(async () => {
  await d.close();
});

/** Delays the next reply of `name` by `ms` (then the default reply). */
function delayNext(name: string, ms: number): void {
  let pending = true;
  d.server.setHandler(name, () => {
    const reply = name === 'insert' ? { n: 1, ok: 1 } : { ok: 1 };
    if (!pending) return reply;
    pending = false;
    return MockAction.delay(ms, reply);
  });
}

const coll = () => d.client.db('test').collection<{ _id: number }>('coll');

describe('commit, abort, endSession', () => {
  beforeEach(async () => {
    d = await startDeployment();
  });

  test('without timeoutMS, commit carries no maxTimeMS', async () => {
    const session = d.client.startSession();
    session.startTransaction();
    await coll().insertOne({ _id: 1 }, { session });
    await session.commitTransaction();
    expect(d.sent('commitTransaction')[0].maxTimeMS).toBeUndefined();
    await session.endSession();
  });

  test('defaultTimeoutMS applies to commit; the transaction operations themselves are not capped by it', async () => {
    const session = d.client.startSession({ defaultTimeoutMS: 300 });
    session.startTransaction();
    await coll().insertOne({ _id: 1 }, { session });
    delayNext('commitTransaction', 500);
    expect(await rejectionOf(session.commitTransaction())).toBeInstanceOf(MongoOperationTimeoutError);
    expect(d.sent('insert')[0].maxTimeMS).toBeUndefined();
    const [commit] = d.sent('commitTransaction');
    expect(commit.maxTimeMS).toBeGreaterThan(0);
    expect(commit.maxTimeMS).toBeLessThanOrEqual(300);
    await session.endSession();
  });

  test('commitTransaction({ timeoutMS }) and abortTransaction({ timeoutMS }) override the defaults', async () => {
    await d.close();
    d = await startDeployment('&timeoutMS=5000');
    const session = d.client.startSession({ defaultTimeoutMS: 4000 });
    session.startTransaction();
    await coll().insertOne({ _id: 1 }, { session });
    await session.commitTransaction({ timeoutMS: 200 });
    session.startTransaction();
    await coll().insertOne({ _id: 2 }, { session });
    delayNext('abortTransaction', 600);
    const started = Date.now();
    await session.abortTransaction({ timeoutMS: 200 }); // errors of abort are swallowed
    expect(Date.now() - started).toBeLessThan(500);
    expect(d.sent('commitTransaction')[0].maxTimeMS).toBeLessThanOrEqual(200);
    expect(d.sent('abortTransaction')[0].maxTimeMS).toBeLessThanOrEqual(200);
    // The insert inherited the client's timeoutMS.
    expect(d.sent('insert')[0].maxTimeMS).toBeGreaterThan(4000);
    await session.endSession();
  });

  test('endSession({ timeoutMS }) bounds the abort of an open transaction', async () => {
    const session = d.client.startSession();
    session.startTransaction();
    await coll().insertOne({ _id: 1 }, { session });
    delayNext('abortTransaction', 1000);
    const started = Date.now();
    await session.endSession({ timeoutMS: 150 });
    expect(Date.now() - started).toBeLessThan(600);
    expect(session.hasEnded).toBe(true);
    expect(d.sent('abortTransaction')[0].maxTimeMS).toBeLessThanOrEqual(150);
  });
});

describe('withTransaction', () => {
  beforeEach(async () => {
    d = await startDeployment('&timeoutMS=400');
  });

  test('operations in the callback share the deadline: maxTimeMS shrinks, commit gets what is left', async () => {
    const session = d.client.startSession();
    delayNext('insert', 100);
    await session.withTransaction(async (s) => {
      await coll().insertOne({ _id: 1 }, { session: s });
      await coll().insertOne({ _id: 2 }, { session: s });
    });
    const [first, second] = d.sent('insert').map((c) => c.maxTimeMS as number);
    const [commit] = d.sent('commitTransaction');
    expect(first).toBeLessThanOrEqual(400);
    expect(second).toBeLessThanOrEqual(first - 90);
    expect(commit.maxTimeMS).toBeLessThanOrEqual(second);
    await session.endSession();
  });

  test('withTransaction(cb, { timeoutMS }) overrides the client timeoutMS', async () => {
    const session = d.client.startSession();
    await session.withTransaction(
      async (s) => {
        await coll().insertOne({ _id: 1 }, { session: s });
      },
      { timeoutMS: 3000 }
    );
    expect(d.sent('insert')[0].maxTimeMS).toBeGreaterThan(2000);
    await session.endSession();
  });

  test('a per-call timeoutMS inside the callback is a client error (inherited ones are fine)', async () => {
    const session = d.client.startSession();
    const inner: unknown[] = [];
    const error = await rejectionOf(
      session.withTransaction(async (s) => {
        await coll().insertOne({ _id: 1 }, { session: s, timeoutMS: 100 }).catch((e: unknown) => {
          inner.push(e);
          throw e;
        });
      })
    );
    expect(inner[0]).toBeInstanceOf(MongoInvalidArgumentError);
    expect(error).toBeInstanceOf(MongoInvalidArgumentError);
    expect(() => coll().find({}, { session, timeoutMS: 5 })).not.toThrow(); // outside withTransaction
    expect(d.sent('insert')).toHaveLength(0);
    await session.endSession();
  });

  test('a callback that times out: the abort runs under a refreshed timeout, the call fails with a timeout error', async () => {
    const session = d.client.startSession();
    delayNext('insert', 600);
    const error = await rejectionOf(
      session.withTransaction(async (s) => {
        await coll().insertOne({ _id: 1 }, { session: s });
      })
    );
    expect(error).toBeInstanceOf(MongoOperationTimeoutError);
    const [abort] = d.sent('abortTransaction');
    // Fresh 400 ms, not what was left of the expired deadline.
    expect(abort.maxTimeMS).toBeGreaterThan(200);
    await session.endSession();
  });

  test('a cursor in the callback runs under the transaction deadline', async () => {
    const session = d.client.startSession();
    await session.withTransaction(async (s) => {
      await coll().insertOne({ _id: 1 }, { session: s });
      await coll().find({}, { session: s }).toArray();
    });
    const insert = d.sent('insert')[0].maxTimeMS as number;
    const find = d.sent('find')[0].maxTimeMS as number;
    expect(find).toBeLessThanOrEqual(insert);
    await session.endSession();
  });
});
