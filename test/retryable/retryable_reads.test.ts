/** Retryable reads (retryable-reads.md) through the real executor over a fake deployment. */
import { MongoNetworkError, MongoPoolClearedError, MongoServerError } from '../../src/errors';
import { RunCommandOperation } from '../../src/operations/run_command';
import { ReadPreference } from '../../src/read_preference';
import { FakeDeployment, failNext, sequence, TestRead } from '../tools/fake_deployment';

const RETRYABLE_READ_CODES = [6, 7, 89, 91, 134, 189, 262, 9001, 10107, 11600, 11602, 13435, 13436];
const find = (options = {}) => new TestRead({ find: 'coll', filter: {} }, options);

describe('retryable reads', () => {
  test.each(RETRYABLE_READ_CODES)('code %i is retried once (no label needed)', async (code) => {
    const d = FakeDeployment.primary().script('find', failNext(1, { code }));
    await d.run(find());
    expect(d.commands('find')).toHaveLength(2);
    expect(d.commands('find')[0].command.txnNumber).toBeUndefined();
  });

  test('network errors and PoolClearedError are retried', async () => {
    const d = FakeDeployment.primary().script('find', failNext(1, 'network'));
    await d.run(find());
    expect(d.commands('find')).toHaveLength(2);
    d.checkoutFailures.set('a:1', [new MongoPoolClearedError('a:1')]);
    await d.run(find());
    expect(d.commands('find')).toHaveLength(3);
  });

  test('a non-retryable code is not retried', async () => {
    const d = FakeDeployment.primary().script('find', failNext(1, { code: 2 }));
    await expect(d.run(find())).rejects.toBeInstanceOf(MongoServerError);
    expect(d.commands('find')).toHaveLength(1);
  });

  test('retried only once without CSOT; the retry error is returned (it reached the server)', async () => {
    const d = FakeDeployment.primary().script('find', sequence([{ code: 91 }, { code: 189 }]));
    await expect(d.run(find())).rejects.toMatchObject({ code: 189 });
    expect(d.commands('find')).toHaveLength(2);
  });

  test('a retry that fails before reaching a server returns the original error', async () => {
    const d = FakeDeployment.primary().script('find', failNext(1, { code: 91 }));
    d.onCommand = () => d.checkoutFailures.set('a:1', [new MongoPoolClearedError('a:1')]);
    await expect(d.run(find())).rejects.toMatchObject({ code: 91 });
  });

  test('retryReads=false: not retried', async () => {
    const d = FakeDeployment.primary({ retryReads: false }).script('find', failNext(1, 'network'));
    await expect(d.run(find())).rejects.toBeInstanceOf(MongoNetworkError);
    expect(d.commands('find')).toHaveLength(1);
  });

  test('generic runCommand is not retried for ordinary retryable errors', async () => {
    const d = FakeDeployment.primary().script('ping', failNext(1, { code: 91 }));
    await expect(d.run(new RunCommandOperation('admin', { ping: 1 }))).rejects.toMatchObject({ code: 91 });
    expect(d.commands('ping')).toHaveLength(1);
  });

  test('not retried inside a transaction', async () => {
    const d = FakeDeployment.primary().script('find', failNext(1, 'network'));
    const session = d.startSession();
    session.startTransaction();
    await expect(d.run(find({ session }))).rejects.toBeInstanceOf(MongoNetworkError);
    expect(d.commands('find')).toHaveLength(1);
    await session.endSession();
  });

  test('sharded: the retry goes to another mongos', async () => {
    const d = FakeDeployment.sharded(['m1:1', 'm2:1']).scriptServer('m1:1', () => ({ ok: 0, code: 6 }));
    await d.run(find());
    expect(d.commands('find').map((c) => c.address)).toEqual(['m1:1', 'm2:1']);
  });

  test('replica set, read preference secondary: an overload error with enableOverloadRetargeting retries on another secondary', async () => {
    const d = FakeDeployment.replicaSet(['p:1', 's1:1', 's2:1'], { enableOverloadRetargeting: true }).scriptServer('s1:1', () => ({
      ok: 0,
      code: 6,
      errorLabels: ['RetryableError', 'SystemOverloadedError']
    }));
    await d.run(find({ readPreference: ReadPreference.secondary }));
    const addresses = d.commands('find').map((c) => c.address);
    expect(addresses[0]).toBe('s1:1');
    expect(addresses[1]).toBe('s2:1');
  });

  test('replica set: overload errors without enableOverloadRetargeting do not deprioritize (prose 3.3)', async () => {
    const d = FakeDeployment.replicaSet(['p:1', 's1:1']).script(
      'find',
      failNext(1, { code: 6, errorLabels: ['RetryableError', 'SystemOverloadedError'] })
    );
    await d.run(find({ readPreference: ReadPreference.primaryPreferred }));
    expect(d.commands('find').map((c) => c.address)).toEqual(['p:1', 'p:1']);
    expect(d.selections[1].deprioritized).toEqual([]);
  });
});
