/**
 * CSOT for change streams (client-side-operations-timeout.md "Change Streams"): maxTimeMS on the
 * aggregate only (getMore: none, or min(maxAwaitTimeMS, remaining)), one deadline per next() that
 * covers the getMore and the resume, and a timed-out next() that leaves the stream resumable.
 */
import { MongoInvalidArgumentError, MongoOperationTimeoutError } from '../../src/errors';
import { cursorReply, rejectionOf, script, startDeployment, type MockDeployment } from './mock_helpers';

let d: MockDeployment;
let cursorIds = 100;

beforeEach(async () => {
  d = await startDeployment();
  // Every aggregate opens a new cursor; every getMore returns an empty batch with a resume token.
  script(d, 'aggregate', (r) => ({ ...cursorReply(r, [], cursorIds++), operationTime: undefined }));
  script(d, 'getMore', (r) => {
    const reply = cursorReply(r, [], Number(r.body.getMore));
    (reply.cursor as { postBatchResumeToken?: unknown }).postBatchResumeToken = { _data: 'pbrt' };
    return reply;
  });
});

afterEach(async () => {
  await d.close();
});

const watch = (options: Record<string, unknown>) => d.client.db('test').collection('coll').watch([], options);

test('maxTimeMS on the aggregate; none on getMore without maxAwaitTimeMS', async () => {
  const stream = watch({ timeoutMS: 500 });
  expect(await stream.tryNext()).toBeNull();
  const [aggregate] = d.sent('aggregate');
  expect(aggregate.maxTimeMS).toBeGreaterThan(0);
  expect(aggregate.maxTimeMS).toBeLessThanOrEqual(500);
  expect(d.sent('getMore')[0].maxTimeMS).toBeUndefined();
  await stream.close();
});

test('with maxAwaitTimeMS the getMore maxTimeMS is min(maxAwaitTimeMS, remaining)', async () => {
  const stream = watch({ timeoutMS: 500, maxAwaitTimeMS: 20 });
  await stream.tryNext();
  await stream.tryNext();
  expect(d.sent('getMore').map((c) => c.maxTimeMS)).toEqual([20, 20]);
  await stream.close();
});

test('without timeoutMS nothing carries a derived maxTimeMS', async () => {
  const stream = watch({ maxAwaitTimeMS: 20 });
  await stream.tryNext();
  expect(d.sent('aggregate')[0].maxTimeMS).toBeUndefined();
  expect(d.sent('getMore')[0].maxTimeMS).toBe(20);
  await stream.close();
});

test('maxAwaitTimeMS >= timeoutMS is a client error at watch()', () => {
  expect(() => watch({ timeoutMS: 5, maxAwaitTimeMS: 10 })).toThrow(MongoInvalidArgumentError);
  expect(() => watch({ timeoutMS: 5, maxAwaitTimeMS: 5 })).toThrow(MongoInvalidArgumentError);
  expect(() => watch({ timeoutMS: 0, maxAwaitTimeMS: 5 })).not.toThrow();
  expect(d.sent('aggregate')).toHaveLength(0);
});

test('a slow initial aggregate times out', async () => {
  d.delays.aggregate = [300];
  const stream = watch({ timeoutMS: 150 });
  expect(await rejectionOf(stream.tryNext())).toBeInstanceOf(MongoOperationTimeoutError);
  await stream.close();
});

test('each next() gets a fresh deadline (getMore after getMore)', async () => {
  const stream = watch({ timeoutMS: 250 });
  await stream.tryNext();
  d.delays.getMore = [150, 150];
  await stream.tryNext();
  await stream.tryNext();
  expect(d.sent('getMore')).toHaveLength(3);
  expect(d.sent('aggregate')).toHaveLength(1);
  await stream.close();
});

test('the deadline of one next() covers the failed getMore and the resume aggregate', async () => {
  const stream = watch({ timeoutMS: 250 });
  await stream.tryNext();
  script(d, 'getMore', () => ({ ok: 0, code: 7, codeName: 'HostNotFound', errmsg: 'resumable', errorLabels: ['ResumableChangeStreamError'] }));
  d.delays.getMore = [150];
  d.delays.aggregate = [150];
  const error = await rejectionOf(stream.next());
  expect(error).toBeInstanceOf(MongoOperationTimeoutError);
  const aggregates = d.sent('aggregate');
  expect(aggregates).toHaveLength(2);
  // The resume had only what was left of the 250 ms after the 150 ms getMore.
  expect(aggregates[1].maxTimeMS).toBeLessThan(110);
  expect(aggregates[1].pipeline[0].$changeStream.resumeAfter).toEqual({ _data: 'pbrt' });
  await stream.close();
});

test('a timed-out call does not close the stream: the next call resumes, then gets its getMore (CSOT change-streams.json "change stream can be iterated again")', async () => {
  const stream = watch({ timeoutMS: 200, maxAwaitTimeMS: 10 });
  await stream.tryNext();
  d.delays.getMore = [400];
  expect(await rejectionOf(stream.tryNext())).toBeInstanceOf(MongoOperationTimeoutError);
  expect(stream.closed).toBe(false);
  d.server.clearRecords();
  expect(await stream.tryNext()).toBeNull();
  expect(d.server.nonHelloCommands().map((c) => c.commandName)).toEqual(['killCursors', 'aggregate', 'getMore']);
  expect(await stream.tryNext()).toBeNull();
  const names = d.server.nonHelloCommands().map((c) => c.commandName);
  expect(names).toEqual(['killCursors', 'aggregate', 'getMore', 'getMore']);
  expect(d.sent('killCursors')[0].maxTimeMS).toBeGreaterThan(0);
  expect(d.sent('aggregate')[0].pipeline[0].$changeStream.resumeAfter).toEqual({ _data: 'pbrt' });
  await stream.close();
});
