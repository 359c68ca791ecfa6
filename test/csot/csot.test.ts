/** Client-side operations timeout (client-side-operations-timeout.md) in the executor, over a fake deployment. */
import { MongoOperationTimeoutError, MongoServerError, MongoServerSelectionError, MongoWaitQueueTimeoutError } from '../../src/errors';
import { csotMin, resolveCursorTimeoutMode, TimeoutContext, TimeoutMode, validateTimeoutMS } from '../../src/timeout';
import { WriteConcern } from '../../src/write_concern';
import { FakeDeployment, failNext, TestRead, TestWrite } from '../tools/fake_deployment';

/** A deadline on a fake clock that the fake server advances by `perCommandMS` per command. */
function fakeDeadline(d: FakeDeployment, timeoutMS: number, perCommandMS = 0) {
  const clock = { now: 0 };
  d.onCommand = () => {
    clock.now += perCommandMS;
  };
  const timeoutContext = new TimeoutContext({ timeoutMS, serverSelectionTimeoutMS: 30_000, clock: () => clock.now });
  return { clock, timeoutContext };
}

describe('TimeoutContext', () => {
  test('remaining time, expiry, maxTimeMS = remaining − minRTT', () => {
    let now = 0;
    const t = new TimeoutContext({ timeoutMS: 100, clock: () => now });
    expect(t.csotEnabled).toBe(true);
    now = 30;
    expect(t.remainingMS).toBe(70);
    expect(t.maxTimeMSFor(20)).toBe(50);
    expect(() => t.maxTimeMSFor(70)).toThrow(MongoOperationTimeoutError);
    now = 100;
    expect(t.expired).toBe(true);
    expect(() => t.throwIfExpired()).toThrow(MongoOperationTimeoutError);
  });

  test('timeoutMS 0 means no deadline but CSOT semantics; unset means legacy', () => {
    const infinite = new TimeoutContext({ timeoutMS: 0 });
    expect(infinite.csotEnabled).toBe(true);
    expect(infinite.remainingMS).toBe(Infinity);
    expect(infinite.maxTimeMSFor(5)).toBeUndefined();
    const legacy = new TimeoutContext({});
    expect(legacy.csotEnabled).toBe(false);
    expect(legacy.maxTimeMSFor(5)).toBeUndefined();
    expect(legacy.serverSelectionBudget()).toEqual({ timeoutMS: 30_000, limitedByDeadline: false });
  });

  test('server selection budget is min(serverSelectionTimeoutMS, remaining)', () => {
    let now = 0;
    const t = new TimeoutContext({ timeoutMS: 1000, serverSelectionTimeoutMS: 300, clock: () => now });
    expect(t.serverSelectionBudget()).toEqual({ timeoutMS: 300, limitedByDeadline: false });
    now = 900;
    expect(t.serverSelectionBudget()).toEqual({ timeoutMS: 100, limitedByDeadline: true });
  });

  test('negative timeoutMS is rejected; csotMin treats 0 as infinite', () => {
    expect(() => validateTimeoutMS(-1)).toThrow();
    expect(() => new TimeoutContext({ timeoutMS: -5 })).toThrow();
    expect(csotMin(0, 10)).toBe(10);
    expect(csotMin(5, 10)).toBe(5);
    expect(csotMin(0, 0)).toBe(Infinity);
  });

  test('cursor timeoutMode: cursorLifetime keeps the deadline, iteration refreshes it; validation', () => {
    let now = 0;
    const t = new TimeoutContext({ timeoutMS: 100, clock: () => now });
    now = 60;
    expect(t.forCursor(TimeoutMode.cursorLifetime).remainingMS).toBe(40);
    expect(t.forCursor(TimeoutMode.iteration).remainingMS).toBe(100);
    expect(resolveCursorTimeoutMode({ timeoutMS: 10 })).toBe('cursorLifetime');
    expect(resolveCursorTimeoutMode({ timeoutMS: 10, tailable: true })).toBe('iteration');
    expect(resolveCursorTimeoutMode({})).toBeUndefined();
    expect(() => resolveCursorTimeoutMode({ timeoutMode: 'iteration' })).toThrow(/requires timeoutMS/);
    expect(() => resolveCursorTimeoutMode({ timeoutMS: 5, timeoutMode: 'cursorLifetime', tailable: true })).toThrow(/Tailable/);
  });

  test('a timeout error exposes its cause and includes it in the message', () => {
    const cause = new MongoServerSelectionError('no primary');
    const error = new TimeoutContext({ timeoutMS: 5 }).timeoutError('Server selection timed out', cause);
    expect(error.cause).toBe(cause);
    expect(error.message).toContain('no primary');
  });
});

describe('CSOT in the executor', () => {
  test('maxTimeMS is appended (remaining − minRoundTripTime) and the socket timeout is the remaining time', async () => {
    const d = FakeDeployment.primary({ minRoundTripTime: 20 });
    await d.run(new TestRead({ find: 'c' }, { timeoutMS: 500 }));
    const [sent] = d.commands('find');
    expect(sent.command.maxTimeMS).toBeGreaterThan(400);
    expect(sent.command.maxTimeMS).toBeLessThanOrEqual(480);
    expect(sent.timeoutMS).toBeGreaterThan(sent.command.maxTimeMS as number);
    expect(sent.timeoutMS).toBeLessThanOrEqual(500);
  });

  test('no maxTimeMS without timeoutMS, with timeoutMS 0, or when the operation omits it (getMore)', async () => {
    const d = FakeDeployment.primary();
    await d.run(new TestRead({ find: 'c' }));
    await d.run(new TestRead({ find: 'c' }, { timeoutMS: 0 }));
    await d.run(new TestRead({ getMore: 1, collection: 'c' }, { timeoutMS: 500, omitMaxTimeMS: true }));
    expect(d.commands().map((c) => c.command.maxTimeMS)).toEqual([undefined, undefined, undefined]);
    expect(d.commands()[2].timeoutMS).toBeGreaterThan(0);
  });

  test('a maxTimeMS in the command is replaced by the one derived from timeoutMS', async () => {
    const d = FakeDeployment.primary();
    await d.run(new TestRead({ find: 'c', maxTimeMS: 99_999 }, { timeoutMS: 1000 }));
    expect(d.commands('find')[0].command.maxTimeMS).toBeLessThanOrEqual(1000);
  });

  test('when the remaining time does not exceed min RTT, nothing is sent and a timeout error is raised', async () => {
    const d = FakeDeployment.primary({ minRoundTripTime: 50 });
    const { timeoutContext } = fakeDeadline(d, 40);
    await expect(d.run(new TestRead({ find: 'c' }, { timeoutContext }))).rejects.toBeInstanceOf(MongoOperationTimeoutError);
    expect(d.commands()).toHaveLength(0);
  });

  test('an expired deadline fails before server selection', async () => {
    const d = FakeDeployment.primary();
    const { clock, timeoutContext } = fakeDeadline(d, 10);
    clock.now = 11;
    await expect(d.run(new TestRead({ find: 'c' }, { timeoutContext }))).rejects.toBeInstanceOf(MongoOperationTimeoutError);
    expect(d.selections).toHaveLength(0);
  });

  test('server selection and checkout use min(serverSelectionTimeoutMS, remaining)', async () => {
    const d = FakeDeployment.primary({ serverSelectionTimeoutMS: 200 });
    await d.run(new TestRead({ find: 'c' }, { timeoutMS: 5000 }));
    await d.run(new TestRead({ find: 'c' }, { timeoutMS: 50 }));
    expect(d.selections[0].timeoutMS).toBe(200);
    expect(d.selections[1].timeoutMS).toBeLessThanOrEqual(50);
    expect(d.checkouts[0].timeoutMS).toBe(200);
    expect(d.checkouts[1].timeoutMS).toBeLessThanOrEqual(50);
    // without CSOT the pool's own waitQueueTimeoutMS applies
    await d.run(new TestRead({ find: 'c' }));
    expect(d.checkouts[2].timeoutMS).toBeUndefined();
  });

  test('a selection failure caused by the deadline becomes MongoOperationTimeoutError (with the cause)', async () => {
    const d = FakeDeployment.primary({ serverSelectionTimeoutMS: 30_000 });
    d.selectionFailures.push(new MongoServerSelectionError('no primary'));
    const error = (await d.run(new TestRead({ find: 'c' }, { timeoutMS: 100 })).catch((e: unknown) => e)) as MongoOperationTimeoutError;
    expect(error).toBeInstanceOf(MongoOperationTimeoutError);
    expect(error.cause).toBeInstanceOf(MongoServerSelectionError);
    // when serverSelectionTimeoutMS is the binding limit, the selection error is kept
    const d2 = FakeDeployment.primary({ serverSelectionTimeoutMS: 10 });
    d2.selectionFailures.push(new MongoServerSelectionError('no primary'));
    await expect(d2.run(new TestRead({ find: 'c' }, { timeoutMS: 100 }))).rejects.toBeInstanceOf(MongoServerSelectionError);
  });

  test('a checkout wait-queue timeout under CSOT becomes MongoOperationTimeoutError', async () => {
    const d = FakeDeployment.primary();
    d.checkoutFailures.set('a:1', [new MongoWaitQueueTimeoutError('a:1')]);
    await expect(d.run(new TestRead({ find: 'c' }, { timeoutMS: 100 }))).rejects.toBeInstanceOf(MongoOperationTimeoutError);
  });

  test('MaxTimeMSExpired (code 50, top level or write concern error) becomes MongoOperationTimeoutError under CSOT only', async () => {
    const d = FakeDeployment.primary({ retryReads: false }).script('find', () => ({ ok: 0, code: 50, codeName: 'Whatever' }));
    const error = (await d.run(new TestRead({ find: 'c' }, { timeoutMS: 1000 })).catch((e: unknown) => e)) as MongoOperationTimeoutError;
    expect(error).toBeInstanceOf(MongoOperationTimeoutError);
    expect((error.cause as MongoServerError).code).toBe(50);
    await expect(d.run(new TestRead({ find: 'c' }))).rejects.toBeInstanceOf(MongoServerError);
    const w = FakeDeployment.primary().script('insert', () => ({ ok: 0, code: 64, writeConcernError: { code: 50 } }));
    await expect(w.run(new TestWrite({ insert: 'c', documents: [{}] }, { timeoutMS: 1000 }))).rejects.toBeInstanceOf(MongoOperationTimeoutError);
  });

  test('retries continue until the deadline (not just once), with the same txnNumber; then a timeout error', async () => {
    const d = FakeDeployment.primary();
    d.script('insert', () => ({ ok: 0, code: 91, errorLabels: ['RetryableWriteError'] }));
    const { timeoutContext } = fakeDeadline(d, 1000, 100);
    const error = (await d.run(new TestWrite({ insert: 'c', documents: [{}] }, { timeoutContext })).catch((e: unknown) => e)) as MongoOperationTimeoutError;
    expect(error).toBeInstanceOf(MongoOperationTimeoutError);
    expect((error.cause as MongoServerError).code).toBe(91);
    expect(error.hasErrorLabel('RetryableWriteError')).toBe(true);
    const sent = d.commands('insert');
    expect(sent.length).toBeGreaterThanOrEqual(9);
    expect(new Set(sent.map((c) => String(c.command.txnNumber))).size).toBe(1);
    // maxTimeMS shrinks as the deadline approaches
    expect(sent[0].command.maxTimeMS).toBeGreaterThan(sent[sent.length - 1].command.maxTimeMS as number);
  });

  test('a read that fails twice then succeeds within the deadline succeeds', async () => {
    const d = FakeDeployment.primary().script('find', failNext(2, { code: 91 }));
    await d.run(new TestRead({ find: 'c' }, { timeoutMS: 5000 }));
    expect(d.commands('find')).toHaveLength(3);
  });

  test('wtimeout is not sent when timeoutMS is set', async () => {
    const d = FakeDeployment.primary();
    await d.run(new TestWrite({ insert: 'c', documents: [{}] }, { timeoutMS: 1000, writeConcern: new WriteConcern('majority', 500) }));
    await d.run(new TestWrite({ insert: 'c', documents: [{}] }, { writeConcern: new WriteConcern('majority', 500) }));
    expect(d.commands('insert').map((c) => c.command.writeConcern)).toEqual([{ w: 'majority' }, { w: 'majority', wtimeout: 500 }]);
  });

  test('session defaultTimeoutMS applies to commit (maxTimeMS, no wtimeout on the majority retry)', async () => {
    const d = FakeDeployment.primary().script('commitTransaction', failNext(1, 'network'));
    const s = d.startSession({ defaultTimeoutMS: 2000 });
    s.startTransaction();
    await d.run(new TestWrite({ insert: 'c', documents: [{}] }, { session: s }));
    await s.commitTransaction();
    const commits = d.commands('commitTransaction');
    expect(commits[0].command.maxTimeMS).toBeLessThanOrEqual(2000);
    expect(commits[1].command.writeConcern).toEqual({ w: 'majority' });
    await s.endSession();
  });

  test('operations in a withTransaction callback share its deadline', async () => {
    const d = FakeDeployment.primary({ timeoutMS: 1000 });
    const s = d.startSession();
    const { clock } = { clock: { now: 0 } };
    d.onCommand = () => {
      clock.now += 300;
    };
    s.withTransactionHooks = { clock: () => clock.now };
    await s.withTransaction(async (session) => {
      await d.run(new TestWrite({ insert: 'c', documents: [{}] }, { session }));
      await d.run(new TestWrite({ insert: 'c', documents: [{}] }, { session }));
    });
    const [first, second] = d.commands('insert');
    expect(first.command.maxTimeMS).toBe(1000);
    expect(second.command.maxTimeMS).toBe(700);
    await s.endSession();
  });
});
