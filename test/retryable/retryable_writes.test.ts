/** Retryable writes (retryable-writes.md) through the real executor over a fake deployment. */
import { Long } from 'bson';
import { MongoErrorLabel, MongoNetworkError, MongoPoolClearedError, MongoServerError, MongoServerSelectionError } from '../../src/errors';
import { WriteConcern } from '../../src/write_concern';
import { FakeDeployment, failNext, sequence, TestWrite } from '../tools/fake_deployment';

const RETRYABLE_CODES = [6, 7, 89, 91, 189, 262, 9001, 10107, 11600, 11602, 13435, 13436];
const insert = () => new TestWrite({ insert: 'coll', documents: [{ _id: 1 }] });

function txnNumbers(d: FakeDeployment, name = 'insert'): number[] {
  return d.commands(name).map((c) => (c.command.txnNumber as Long).toNumber());
}

describe('retryable writes: which errors are retried', () => {
  test.each(RETRYABLE_CODES)('code %i with RetryableWriteError (4.4+ server) is retried once with the same lsid and txnNumber', async (code) => {
    const d = FakeDeployment.primary().script('insert', failNext(1, { code, errorLabels: ['RetryableWriteError'] }));
    await d.run(insert());
    const sent = d.commands('insert');
    expect(sent).toHaveLength(2);
    expect(sent[0].command.lsid).toEqual(sent[1].command.lsid);
    expect(txnNumbers(d)).toEqual([1, 1]);
    expect(sent[0].command.txnNumber).toBeInstanceOf(Long);
  });

  test.each(RETRYABLE_CODES)('code %i without a label from a 4.2 server (wire 8) is labelled by the driver and retried', async (code) => {
    const d = FakeDeployment.primary({ maxWireVersion: 8 }).script('insert', failNext(1, { code }));
    await d.run(insert());
    expect(d.commands('insert')).toHaveLength(2);
  });

  test.each(RETRYABLE_CODES)('code %i without a label from a 4.4+ server is not retried', async (code) => {
    const d = FakeDeployment.primary().script('insert', failNext(1, { code }));
    await expect(d.run(insert())).rejects.toMatchObject({ code });
    expect(d.commands('insert')).toHaveLength(1);
  });

  test('a 4.2 writeConcernError with a retryable code is labelled and retried', async () => {
    const d = FakeDeployment.primary({ maxWireVersion: 8 }).script('insert', failNext(1, { code: 64, writeConcernError: { code: 91 } }));
    await d.run(insert());
    expect(d.commands('insert')).toHaveLength(2);
  });

  test('a non-retryable error (duplicate key) is not retried', async () => {
    const d = FakeDeployment.primary().script('insert', failNext(1, { code: 11000 }));
    await expect(d.run(insert())).rejects.toMatchObject({ code: 11000 });
    expect(d.commands('insert')).toHaveLength(1);
  });

  test('a network error is labelled RetryableWriteError and retried; the session becomes dirty', async () => {
    const d = FakeDeployment.primary().script('insert', failNext(1, 'network'));
    const session = d.startSession();
    await d.run(new TestWrite({ insert: 'coll', documents: [{}] }, { session }));
    expect(txnNumbers(d)).toEqual([1, 1]);
    expect(session.serverSession.isDirty).toBe(true);
    await session.endSession();
    expect(d.serverSessionPool.size).toBe(0); // dirty sessions are discarded
  });

  test('only one retry without CSOT: the second error is returned', async () => {
    const d = FakeDeployment.primary().script(
      'insert',
      sequence([
        { code: 91, errorLabels: ['RetryableWriteError'] },
        { code: 10107, errorLabels: ['RetryableWriteError'] }
      ])
    );
    await expect(d.run(insert())).rejects.toMatchObject({ code: 10107 });
    expect(d.commands('insert')).toHaveLength(2);
  });

  test('consecutive writes on one session get increasing txnNumbers', async () => {
    const d = FakeDeployment.primary();
    const session = d.startSession();
    await d.run(new TestWrite({ insert: 'c', documents: [{}] }, { session }));
    await d.run(new TestWrite({ insert: 'c', documents: [{}] }, { session }));
    expect(txnNumbers(d)).toEqual([1, 2]);
    await session.endSession();
  });

  test('PoolClearedError at checkout is retried', async () => {
    const d = FakeDeployment.primary();
    d.checkoutFailures.set('a:1', [new MongoPoolClearedError('a:1')]);
    await d.run(insert());
    expect(d.commands('insert')).toHaveLength(1);
    expect(d.checkouts).toHaveLength(2);
  });
});

describe('retryable writes: when there is no txnNumber and no retry', () => {
  test('retryWrites=false', async () => {
    const d = FakeDeployment.primary({ retryWrites: false }).script('insert', failNext(1, { code: 91, errorLabels: ['RetryableWriteError'] }));
    await expect(d.run(insert())).rejects.toMatchObject({ code: 91 });
    expect(d.commands('insert')[0].command.txnNumber).toBeUndefined();
    expect(d.commands('insert')).toHaveLength(1);
  });

  test('multi-document writes (updateMany / deleteMany)', async () => {
    const d = FakeDeployment.primary().script('update', failNext(1, 'network'));
    await expect(d.run(new TestWrite({ update: 'c', updates: [{ q: {}, u: { $set: { a: 1 } }, multi: true }] }, { retryable: false }))).rejects.toBeInstanceOf(
      MongoNetworkError
    );
    expect(d.commands('update')).toHaveLength(1);
    expect(d.commands('update')[0].command.txnNumber).toBeUndefined();
    expect(d.commands('update')[0].command.lsid).toBeDefined();
  });

  test('unacknowledged writes (w: 0) carry neither lsid nor txnNumber', async () => {
    const d = FakeDeployment.primary();
    await d.run(new TestWrite({ insert: 'c', documents: [{}] }, { writeConcern: new WriteConcern(0) }));
    const [sent] = d.commands('insert');
    expect(sent.command.lsid).toBeUndefined();
    expect(sent.command.txnNumber).toBeUndefined();
    expect(sent.command.writeConcern).toEqual({ w: 0 });
  });

  test('standalone servers do not support retryable writes', async () => {
    const d = FakeDeployment.standalone().script('insert', failNext(1, 'network'));
    const error = await d.run(insert()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MongoNetworkError);
    expect((error as MongoNetworkError).hasErrorLabel(MongoErrorLabel.RetryableWriteError)).toBe(false);
    expect(d.commands('insert')[0].command.txnNumber).toBeUndefined();
    expect(d.commands('insert')).toHaveLength(1);
  });

  test('inside a transaction: no retry, and network errors get TransientTransactionError, not RetryableWriteError', async () => {
    const d = FakeDeployment.primary().script('insert', failNext(1, 'network'));
    const session = d.startSession();
    session.startTransaction();
    const error = (await d.run(new TestWrite({ insert: 'c', documents: [{}] }, { session })).catch((e: unknown) => e)) as MongoNetworkError;
    expect(error.hasErrorLabel(MongoErrorLabel.TransientTransactionError)).toBe(true);
    expect(error.hasErrorLabel(MongoErrorLabel.RetryableWriteError)).toBe(false);
    expect(d.commands('insert')).toHaveLength(1);
    await session.endSession();
  });

  test('the server selection error of the first attempt propagates', async () => {
    const d = FakeDeployment.primary();
    d.selectionFailures.push(new MongoServerSelectionError('no server'));
    await expect(d.run(insert())).rejects.toBeInstanceOf(MongoServerSelectionError);
    expect(d.commands()).toHaveLength(0);
  });

  test('if no server can be selected for the retry, the first error is returned', async () => {
    const d = FakeDeployment.primary().script('insert', failNext(1, { code: 91, errorLabels: ['RetryableWriteError'] }));
    d.onCommand = () => d.selectionFailures.push(new MongoServerSelectionError('gone'));
    await expect(d.run(insert())).rejects.toMatchObject({ code: 91 });
  });

  test('IllegalOperation "Transaction numbers…" gets an actionable message', async () => {
    const d = FakeDeployment.primary().script('insert', failNext(1, { code: 20, errmsg: 'Transaction numbers are only allowed on…' }));
    await expect(d.run(insert())).rejects.toThrow(/does not support retryable writes/);
  });
});

describe('retryable writes: error selection with NoWritesPerformed (prose test 6 and 3)', () => {
  const overload = ['RetryableError', 'SystemOverloadedError'];

  test('case 1: only errors without NoWritesPerformed → the latest', async () => {
    const d = FakeDeployment.primary().script(
      'insert',
      sequence([{ code: 91, errorLabels: overload }], () => ({ ok: 0, code: 10107, errorLabels: overload }))
    );
    await expect(d.run(insert())).rejects.toMatchObject({ code: 10107 });
  });

  test('case 2: only errors with NoWritesPerformed → the first', async () => {
    const nwp = [...overload, 'NoWritesPerformed'];
    const d = FakeDeployment.primary().script('insert', sequence([{ code: 91, errorLabels: nwp }], () => ({ ok: 0, code: 10107, errorLabels: nwp })));
    await expect(d.run(insert())).rejects.toMatchObject({ code: 91 });
  });

  test('case 3: a write-attempted error then NoWritesPerformed ones → the write-attempted one', async () => {
    const d = FakeDeployment.primary().script(
      'insert',
      sequence([{ code: 91, errorLabels: overload }], () => ({ ok: 0, code: 91, errmsg: 'second', errorLabels: [...overload, 'NoWritesPerformed'] }))
    );
    const error = (await d.run(insert()).catch((e: unknown) => e)) as MongoServerError;
    expect(error.code).toBe(91);
    expect(error.hasErrorLabel('NoWritesPerformed')).toBe(false);
    expect(d.commands('insert')).toHaveLength(3);
  });

  test('prose 3: a write concern error then NoWritesPerformed → the write concern error (code 91)', async () => {
    const d = FakeDeployment.primary().script(
      'insert',
      sequence([{ code: 91, errorLabels: ['RetryableWriteError'] }, { code: 10107, errorLabels: ['RetryableWriteError', 'NoWritesPerformed'] }])
    );
    await expect(d.run(insert())).rejects.toMatchObject({ code: 91 });
  });

  test('a retryable server error then a checkout failure → the server error', async () => {
    const d = FakeDeployment.primary().script('insert', failNext(1, { code: 91, errorLabels: ['RetryableWriteError'] }));
    d.onCommand = () => d.checkoutFailures.set('a:1', [new MongoPoolClearedError('a:1')]);
    await expect(d.run(insert())).rejects.toMatchObject({ code: 91 });
  });
});

describe('retryable writes: deprioritized servers', () => {
  test('sharded: the retry avoids the mongos that failed', async () => {
    const d = FakeDeployment.sharded(['m1:1', 'm2:1']).scriptServer('m1:1', () => ({ ok: 0, code: 6, errorLabels: ['RetryableWriteError'] }));
    await d.run(insert());
    expect(d.commands('insert').map((c) => c.address)).toEqual(['m1:1', 'm2:1']);
    expect(d.selections[1].deprioritized).toEqual(['m1:1']);
  });

  test('sharded with one mongos: the retry goes to the same mongos', async () => {
    const d = FakeDeployment.sharded(['m1:1']).script('insert', failNext(1, { code: 6, errorLabels: ['RetryableWriteError'] }));
    await d.run(insert());
    expect(d.commands('insert').map((c) => c.address)).toEqual(['m1:1', 'm1:1']);
  });

  test('replica set: a non-overload error does not deprioritize', async () => {
    const d = FakeDeployment.replicaSet(['a:1', 'b:1']).script('insert', failNext(1, { code: 91, errorLabels: ['RetryableWriteError'] }));
    await d.run(insert());
    expect(d.selections[1].deprioritized).toEqual([]);
  });
});
