/** Client backpressure (client-backpressure.md) through the real executor over a fake deployment. */
import { baseBackoffMSFor, isRetryableOverloadError, overloadBackoffMS } from '../../src/backpressure';
import { MongoServerError } from '../../src/errors';
import { Aspect, aspects, CommandOperation } from '../../src/operations/operation';
import { RunCommandOperation } from '../../src/operations/run_command';
import { FakeDeployment, failNext, sequence, TestRead, TestWrite } from '../tools/fake_deployment';

const OVERLOAD = { code: 462, errorLabels: ['SystemOverloadedError', 'RetryableError'] };
const alwaysOverloaded = () => ({ ok: 0, ...OVERLOAD });

/** A getMore-like command: neither retryable read nor write. */
class TestGetMore extends CommandOperation {
  readonly commandName = 'getMore';
  constructor() {
    super('db', {});
  }
  get aspects() {
    return aspects(Aspect.READ_OPERATION, Aspect.MUST_SELECT_SAME_SERVER);
  }
  buildCommand() {
    return { getMore: 1, collection: 'c' };
  }
}

describe('backoff formula', () => {
  test('jitter * min(10000, base * 2^attempt), attempt = 1 for the first retry', () => {
    const err = new MongoServerError({ ok: 0, ...OVERLOAD });
    expect(overloadBackoffMS(err, 1, () => 1)).toBe(200);
    expect(overloadBackoffMS(err, 2, () => 1)).toBe(400);
    expect(overloadBackoffMS(err, 2, () => 0.5)).toBe(200);
    expect(overloadBackoffMS(err, 20, () => 1)).toBe(10_000);
    expect(overloadBackoffMS(err, 1, () => 0)).toBe(0);
  });

  test('a positive baseBackoffMS on the error replaces 100 ms', () => {
    expect(baseBackoffMSFor(new MongoServerError({ ok: 0, ...OVERLOAD, baseBackoffMS: 50 }))).toBe(50);
    expect(baseBackoffMSFor(new MongoServerError({ ok: 0, ...OVERLOAD, baseBackoffMS: 0 }))).toBe(100);
    expect(baseBackoffMSFor(new MongoServerError({ ok: 0, ...OVERLOAD, baseBackoffMS: BigInt(30) }))).toBe(30);
    expect(baseBackoffMSFor(new Error('x'))).toBe(100);
  });

  test('a retryable overload error needs both labels', () => {
    expect(isRetryableOverloadError(new MongoServerError({ ok: 0, ...OVERLOAD }))).toBe(true);
    expect(isRetryableOverloadError(new MongoServerError({ ok: 0, code: 462, errorLabels: ['SystemOverloadedError'] }))).toBe(false);
  });
});

describe('overload retry policy', () => {
  test('prose 3: retried MAX_RETRIES (2) times; the error keeps both labels', async () => {
    const d = FakeDeployment.primary().script('find', alwaysOverloaded);
    const error = (await d.run(new TestRead({ find: 'c' })).catch((e: unknown) => e)) as MongoServerError;
    expect(error.hasErrorLabel('SystemOverloadedError') && error.hasErrorLabel('RetryableError')).toBe(true);
    expect(d.commands('find')).toHaveLength(3);
  });

  test('prose 4: maxAdaptiveRetries=1 → 2 attempts; maxAdaptiveRetries=0 → 1 attempt', async () => {
    const one = FakeDeployment.primary({ maxAdaptiveRetries: 1 }).script('find', alwaysOverloaded);
    await expect(one.run(new TestRead({ find: 'c' }))).rejects.toBeInstanceOf(MongoServerError);
    expect(one.commands('find')).toHaveLength(2);
    const zero = FakeDeployment.primary({ maxAdaptiveRetries: 0 }).script('find', alwaysOverloaded);
    await expect(zero.run(new TestRead({ find: 'c' }))).rejects.toBeInstanceOf(MongoServerError);
    expect(zero.commands('find')).toHaveLength(1);
  });

  test('prose 1: backoff grows exponentially (jitter 1 → 200 ms then 400 ms; jitter 0 → none)', async () => {
    const d = FakeDeployment.primary().script('insert', alwaysOverloaded);
    d.random = () => 1;
    await expect(d.run(new TestWrite({ insert: 'c', documents: [{}] }))).rejects.toBeInstanceOf(MongoServerError);
    expect(d.sleeps).toEqual([200, 400]);
  });

  test('prose 5: baseBackoffMS from the server scales the backoff', async () => {
    const d = FakeDeployment.primary().script('insert', () => ({ ok: 0, ...OVERLOAD, baseBackoffMS: 10 }));
    d.random = () => 1;
    await expect(d.run(new TestWrite({ insert: 'c', documents: [{}] }))).rejects.toBeInstanceOf(MongoServerError);
    expect(d.sleeps).toEqual([20, 40]);
  });

  test('case 4/5: overload then non-overload retryable errors → MAX_RETRIES+1 attempts, backoff only for the overload one', async () => {
    const d = FakeDeployment.primary().script(
      'insert',
      sequence([{ code: 91, errorLabels: ['RetryableError', 'SystemOverloadedError'] }], () => ({
        ok: 0,
        code: 91,
        errorLabels: ['RetryableError', 'RetryableWriteError']
      }))
    );
    d.random = () => 1;
    await expect(d.run(new TestWrite({ insert: 'c', documents: [{}] }))).rejects.toMatchObject({ code: 91 });
    expect(d.commands('insert')).toHaveLength(3);
    expect(d.sleeps).toEqual([200]);
    // the same txnNumber on every attempt
    expect(new Set(d.commands('insert').map((c) => String(c.command.txnNumber))).size).toBe(1);
  });

  test('reads: a non-overload retryable error after an overload error is also bounded by MAX_RETRIES (retryable reads prose 4)', async () => {
    const d = FakeDeployment.primary().script('find', sequence([{ code: 91, errorLabels: ['RetryableError', 'SystemOverloadedError'] }], () => ({ ok: 0, code: 91 })));
    await expect(d.run(new TestRead({ find: 'c' }))).rejects.toMatchObject({ code: 91 });
    expect(d.commands('find')).toHaveLength(3);
  });

  test('non-retryable writes (updateMany) and getMore are retried on overload', async () => {
    const d = FakeDeployment.primary().script('update', failNext(2, OVERLOAD)).script('getMore', failNext(1, OVERLOAD));
    await d.run(new TestWrite({ update: 'c', updates: [{ q: {}, u: {}, multi: true }] }, { retryable: false }));
    expect(d.commands('update')).toHaveLength(3);
    expect(d.commands('update').every((c) => c.command.txnNumber === undefined)).toBe(true);
    await d.run(new TestGetMore());
    expect(d.commands('getMore')).toHaveLength(2);
  });

  test('SystemOverloadedError without RetryableError is not retried', async () => {
    const d = FakeDeployment.primary().script('find', failNext(1, { code: 462, errorLabels: ['SystemOverloadedError'] }));
    await expect(d.run(new TestRead({ find: 'c' }))).rejects.toMatchObject({ code: 462 });
    expect(d.commands('find')).toHaveLength(1);
  });

  test('runCommand is retried only when both retryReads and retryWrites are on', async () => {
    const both = FakeDeployment.primary().script('ping', failNext(1, OVERLOAD));
    await both.run(new RunCommandOperation('admin', { ping: 1 }));
    expect(both.commands('ping')).toHaveLength(2);
    const readsOnly = FakeDeployment.primary({ retryWrites: false }).script('ping', failNext(1, OVERLOAD));
    await expect(readsOnly.run(new RunCommandOperation('admin', { ping: 1 }))).rejects.toMatchObject({ code: 462 });
    expect(readsOnly.commands('ping')).toHaveLength(1);
  });

  test('retryWrites=false disables overload retries of writes; retryReads=false of reads', async () => {
    const w = FakeDeployment.primary({ retryWrites: false }).script('insert', failNext(1, OVERLOAD));
    await expect(w.run(new TestWrite({ insert: 'c', documents: [{}] }))).rejects.toMatchObject({ code: 462 });
    const r = FakeDeployment.primary({ retryReads: false }).script('find', failNext(1, OVERLOAD));
    await expect(r.run(new TestRead({ find: 'c' }))).rejects.toMatchObject({ code: 462 });
  });

  test('statements inside a transaction are retried on overload, still as the first command', async () => {
    const d = FakeDeployment.primary().script('insert', failNext(1, OVERLOAD));
    const session = d.startSession();
    session.startTransaction();
    await d.run(new TestWrite({ insert: 'c', documents: [{}] }, { session }));
    const sent = d.commands('insert');
    expect(sent).toHaveLength(2);
    expect(sent.map((c) => c.command.startTransaction)).toEqual([true, true]);
    await session.abortTransaction();
    await session.endSession();
  });

  test('CSOT: a backoff longer than the remaining time ends the retries', async () => {
    const d = FakeDeployment.primary().script('find', alwaysOverloaded);
    d.random = () => 1;
    await expect(d.run(new TestRead({ find: 'c' }, { timeoutMS: 150 }))).rejects.toMatchObject({ code: 462 });
    expect(d.commands('find')).toHaveLength(1);
    expect(d.sleeps).toEqual([]);
  });
});

describe('aggregate with a write stage', () => {
  test('is retried on overload only when retryWrites is on', async () => {
    const agg = () => {
      const op = new TestRead({ aggregate: 'c', pipeline: [{ $out: 'o' }], cursor: {} });
      op.trySecondaryWrite = true;
      return op;
    };
    const off = FakeDeployment.primary({ retryWrites: false }).script('aggregate', failNext(1, OVERLOAD));
    await expect(off.run(agg())).rejects.toMatchObject({ code: 462 });
    expect(off.commands('aggregate')).toHaveLength(1);
    const on = FakeDeployment.primary({ retryReads: false }).script('aggregate', failNext(1, OVERLOAD));
    await on.run(agg());
    expect(on.commands('aggregate')).toHaveLength(2);
  });
});
