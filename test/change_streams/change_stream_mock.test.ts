/**
 * Change streams against the scripted mock server: the exact aggregate/getMore/killCursors
 * commands, resume token tracking, and the automatic resume rules of change-streams.md.
 */
import { Long, Timestamp, type Document } from 'bson';
import { isResumableChangeStreamError, type ChangeStreamOptions } from '../../src/change_stream';
import {
  MongoAPIError,
  MongoChangeStreamError,
  MongoNetworkError,
  MongoServerError,
  MongoServerSelectionError
} from '../../src/errors';
import { MongoClient } from '../../src/mongo_client';
import { MockAction, MockServer, type MockReply, type RecordedCommand } from '../tools/mock_server';

const OP_TIME = new Timestamp({ t: 1700000000, i: 7 });
const token = (n: number): Document => ({ _data: `token-${n}` });
const change = (n: number, extra: Document = {}): Document => ({
  _id: token(n),
  operationType: 'insert',
  ns: { db: 'app', coll: 'items' },
  documentKey: { _id: n },
  fullDocument: { _id: n },
  ...extra
});

/** Scripted replies: every aggregate/getMore takes the next entry of its queue (or an empty batch). */
class Script {
  aggregates: Array<MockReply | ((r: RecordedCommand) => MockReply)> = [];
  getMores: Array<MockReply | ((r: RecordedCommand) => MockReply)> = [];
  nextCursorId = 100;

  constructor(readonly server: MockServer) {
    server.setHandler('aggregate', (r) => {
      const next = this.aggregates.shift() ?? { batch: [] };
      return this.materialize(next, r, 'firstBatch');
    });
    server.setHandler('getMore', (r) => {
      const next = this.getMores.shift() ?? { batch: [] };
      return this.materialize(next, r, 'nextBatch');
    });
  }

  private materialize(entry: MockReply | ((r: RecordedCommand) => MockReply), r: RecordedCommand, field: string): MockReply {
    const value = typeof entry === 'function' ? entry(r) : entry;
    if (value instanceof MockAction || !('batch' in value)) return value;
    const isAggregate = field === 'firstBatch';
    const id = value.id ?? (isAggregate ? Long.fromNumber(this.nextCursorId++) : r.body.getMore);
    const collection = isAggregate ? (r.body.aggregate === 1 ? '$cmd.aggregate' : r.body.aggregate) : r.body.collection;
    const cursor: Document = { id, ns: `${r.db}.${collection}`, [field]: value.batch };
    if (value.pbrt) cursor.postBatchResumeToken = value.pbrt;
    return { cursor, operationTime: OP_TIME, ok: 1 };
  }
}

/** A batch reply description for Script. */
const batch = (docs: Document[], pbrt?: Document, id?: Long): Document => ({ batch: docs, pbrt, id });

let server: MockServer;
let client: MongoClient;
let script: Script;

async function setup(maxWireVersion = 25): Promise<void> {
  server = await MockServer.start({ type: 'primary', setName: 'rs0', maxWireVersion });
  client = new MongoClient(`mongodb://${server.address}/?directConnection=true&heartbeatFrequencyMS=500`);
  await client.connect();
  script = new Script(server);
}

afterEach(async () => {
  await client?.close();
  await server?.close();
});

/** collection.watch / db.watch / client.watch. */
const watch = (pipeline: Document[] = [], options: ChangeStreamOptions = {}, target: 'collection' | 'database' | 'cluster' = 'collection') =>
  target === 'collection'
    ? client.db('app').collection('items').watch(pipeline, options)
    : target === 'database'
      ? client.db('app').watch(pipeline, options)
      : client.watch(pipeline, options);

const bodies = (name: string) => server.commands(name).map((c) => c.body);
const stageOf = (aggregate: Document) => (aggregate.pipeline as Document[])[0].$changeStream as Document;
const names = () => server.nonHelloCommands().map((c) => c.commandName).filter((n) => n !== 'endSessions');

describe('commands', () => {
  beforeEach(() => setup());

  test('collection: aggregate with $changeStream first, options in the right places; getMore with maxAwaitTimeMS', async () => {
    script.aggregates.push(batch([change(1)]));
    script.getMores.push(batch([change(2)]));
    const stream = watch([{ $match: { operationType: 'insert' } }], {
      fullDocument: 'updateLookup',
      fullDocumentBeforeChange: 'whenAvailable',
      showExpandedEvents: true,
      batchSize: 5,
      maxAwaitTimeMS: 250,
      collation: { locale: 'fr' },
      comment: 'watching'
    });
    expect(server.commands('aggregate')).toHaveLength(0); // lazy
    expect((await stream.next())._id).toEqual(token(1));
    expect((await stream.next())._id).toEqual(token(2));
    await stream.close();

    const [aggregate] = bodies('aggregate');
    expect(aggregate.aggregate).toBe('items');
    expect(aggregate.pipeline).toEqual([
      { $changeStream: { fullDocument: 'updateLookup', fullDocumentBeforeChange: 'whenAvailable', showExpandedEvents: true } },
      { $match: { operationType: 'insert' } }
    ]);
    expect(aggregate.cursor).toEqual({ batchSize: 5 });
    expect(aggregate.collation).toEqual({ locale: 'fr' });
    expect(aggregate.comment).toBe('watching');
    expect(aggregate.maxTimeMS).toBeUndefined();
    expect(aggregate.maxAwaitTimeMS).toBeUndefined();

    const [getMore] = bodies('getMore');
    expect(Number(getMore.getMore)).toBe(100);
    expect(getMore.collection).toBe('items');
    expect(getMore.batchSize).toBe(5);
    expect(getMore.maxTimeMS).toBe(250);
    expect(getMore.comment).toBe('watching');

    const [kill] = bodies('killCursors');
    expect(kill.killCursors).toBe('items');
    expect((kill.cursors as unknown[]).map(Number)).toEqual([100]);
    // One implicit session for the whole stream.
    const lsids = [aggregate, getMore, kill].map((b) => JSON.stringify(b.lsid));
    expect(new Set(lsids).size).toBe(1);
  });

  test('database: aggregate: 1, getMore on the namespace the server returned', async () => {
    script.aggregates.push(batch([]));
    script.getMores.push(batch([change(1)]));
    const stream = watch([], {}, 'database');
    await stream.next();
    await stream.close();
    expect(server.lastCommand('aggregate')?.db).toBe('app');
    expect(bodies('aggregate')[0].aggregate).toBe(1);
    expect(bodies('aggregate')[0].pipeline).toEqual([{ $changeStream: {} }]);
    expect(bodies('getMore')[0].collection).toBe('$cmd.aggregate');
  });

  test('cluster: aggregate: 1 on admin with allChangesForCluster', async () => {
    script.aggregates.push(batch([change(1)]));
    const stream = watch([], { fullDocument: 'required' }, 'cluster');
    await stream.next();
    await stream.close();
    expect(server.lastCommand('aggregate')?.db).toBe('admin');
    expect(stageOf(bodies('aggregate')[0])).toEqual({ fullDocument: 'required', allChangesForCluster: true });
  });

  test('starting points are sent as given (conflicts are left to the server)', async () => {
    const at = new Timestamp({ t: 5, i: 1 });
    script.aggregates.push(batch([change(1)]));
    const stream = watch([], { resumeAfter: token(0), startAfter: token(9), startAtOperationTime: at });
    await stream.next();
    await stream.close();
    expect(stageOf(bodies('aggregate')[0])).toEqual({ resumeAfter: token(0), startAfter: token(9), startAtOperationTime: at });
  });

  test('comment is not sent on getMore to servers before 4.4', async () => {
    await client.close();
    await server.close();
    await setup(8);
    script.aggregates.push(batch([]));
    script.getMores.push(batch([change(1)]));
    const stream = watch([], { comment: 'c' });
    await stream.next();
    await stream.close();
    expect(bodies('aggregate')[0].comment).toBe('c');
    expect(bodies('getMore')[0].comment).toBeUndefined();
  });
});

describe('iteration', () => {
  beforeEach(() => setup());

  test('tryNext: the aggregate, then one getMore; null when nothing came, resumeToken = postBatchResumeToken', async () => {
    script.aggregates.push(batch([], token(10)));
    script.getMores.push(batch([], token(11)));
    script.getMores.push(batch([change(12)], token(13)));
    const stream = watch();
    expect(stream.resumeToken).toBeNull();
    expect(await stream.tryNext()).toBeNull();
    expect(names()).toEqual(['aggregate', 'getMore']);
    expect(stream.resumeToken).toEqual(token(11));
    const next = await stream.tryNext();
    expect(next?._id).toEqual(token(12));
    // Last document of a batch with a postBatchResumeToken: the token is the batch's.
    expect(stream.resumeToken).toEqual(token(13));
    expect(names()).toEqual(['aggregate', 'getMore', 'getMore']);
    await stream.close();
  });

  test('resume token: the _id of each returned change, the postBatchResumeToken after the last one', async () => {
    script.aggregates.push(batch([change(1), change(2), change(3)], token(4)));
    const stream = watch();
    await stream.next();
    expect(stream.resumeToken).toEqual(token(1));
    await stream.next();
    expect(stream.resumeToken).toEqual(token(2));
    await stream.next();
    expect(stream.resumeToken).toEqual(token(4));
    await stream.close();
  });

  test('without postBatchResumeToken the last change _id is the token; an initial startAfter is cached', async () => {
    script.aggregates.push(batch([]));
    script.getMores.push(batch([change(1)]));
    const stream = watch([], { startAfter: token(0) });
    expect(stream.resumeToken).toEqual(token(0));
    await stream.next();
    expect(stream.resumeToken).toEqual(token(1));
    await stream.close();
  });

  test('next() waits across empty getMores; hasNext; for await with break kills the cursor', async () => {
    script.aggregates.push(batch([]));
    script.getMores.push(batch([]), batch([]), batch([change(1), change(2)]));
    const stream = watch();
    expect(await stream.hasNext()).toBe(true);
    const seen: unknown[] = [];
    for await (const c of stream) {
      seen.push(c._id);
      if (seen.length === 2) break;
    }
    expect(seen).toEqual([token(1), token(2)]);
    expect(names()).toEqual(['aggregate', 'getMore', 'getMore', 'getMore', 'killCursors']);
    expect(stream.alive).toBe(false);
    await expect(stream.next()).rejects.toThrow(MongoAPIError);
    expect(await stream.hasNext()).toBe(false);
    expect(await stream.tryNext()).toBeNull();
  });

  test('an invalidate ends the stream (cursor id 0): no killCursors', async () => {
    script.aggregates.push(batch([change(1)]));
    script.getMores.push(batch([{ _id: token(2), operationType: 'invalidate' }], undefined, Long.ZERO));
    const stream = watch();
    const seen: string[] = [];
    for await (const c of stream) seen.push(c.operationType);
    expect(seen).toEqual(['insert', 'invalidate']);
    expect(stream.alive).toBe(false);
    expect(server.commands('killCursors')).toHaveLength(0);
  });

  test('a change without _id is a MongoChangeStreamError and closes the stream', async () => {
    script.aggregates.push(batch([{ operationType: 'insert' }]));
    const stream = watch([{ $project: { _id: 0 } }]);
    await expect(stream.next()).rejects.toThrow(MongoChangeStreamError);
    await expect(watch().close()).resolves.toBeUndefined();
    expect(stream.alive).toBe(false);
    expect(server.commands('killCursors')).toHaveLength(1);
    expect(server.commands('aggregate')).toHaveLength(1); // no resume
  });

  test('close() before starting sends nothing; concurrent next() calls are served in order', async () => {
    const idle = watch();
    await idle.close();
    expect(names()).toEqual([]);
    script.aggregates.push(batch([change(1), change(2)]));
    const stream = watch();
    const [a, b] = await Promise.all([stream.next(), stream.next()]);
    expect([a._id, b._id]).toEqual([token(1), token(2)]);
    expect(server.commands('aggregate')).toHaveLength(1);
    await stream.close();
  });
});

describe('automatic resume', () => {
  const serverError = (code: number, labels: string[] = []): Document => ({ ok: 0, code, errmsg: `error ${code}`, errorLabels: labels });

  test('after a network error: killCursors on the old cursor, then a new aggregate with resumeAfter', async () => {
    await setup();
    script.aggregates.push(batch([change(1)]));
    script.getMores.push(MockAction.close());
    script.aggregates.push(batch([change(2)]));
    const stream = watch([{ $match: {} }], { fullDocument: 'updateLookup' });
    await stream.next();
    const second = await stream.next();
    expect(second._id).toEqual(token(2));
    expect(names()).toEqual(['aggregate', 'getMore', 'killCursors', 'aggregate']);
    const [first, resumed] = bodies('aggregate');
    expect((bodies('killCursors')[0].cursors as unknown[]).map(Number)).toEqual([100]);
    expect(resumed.pipeline).toEqual([{ $changeStream: { fullDocument: 'updateLookup', resumeAfter: token(1) } }, { $match: {} }]);
    expect(JSON.stringify(resumed.lsid)).toBe(JSON.stringify(first.lsid));
    // The resumed cursor is the one used afterwards.
    script.getMores.push(batch([change(3)]));
    await stream.next();
    expect(Number(bodies('getMore')[1].getMore)).toBe(101);
    await stream.close();
  });

  test('after a ResumableChangeStreamError (4.4+) and after CursorNotFound', async () => {
    await setup();
    script.aggregates.push(batch([change(1)]), batch([]), batch([change(3)]));
    script.getMores.push(serverError(280, ['ResumableChangeStreamError']), serverError(43));
    const stream = watch();
    await stream.next();
    // getMore fails → resume; the resumed batch is empty → getMore fails again → resume again.
    expect((await stream.next())._id).toEqual(token(3));
    expect(names()).toEqual(['aggregate', 'getMore', 'killCursors', 'aggregate', 'getMore', 'killCursors', 'aggregate']);
    const resumes = bodies('aggregate').slice(1).map(stageOf);
    expect(resumes).toEqual([{ resumeAfter: token(1) }, { resumeAfter: token(1) }]);
    await stream.close();
  });

  test('4.4+: a server error without the label is not resumed; the stream closes', async () => {
    await setup();
    script.aggregates.push(batch([change(1)]));
    script.getMores.push(serverError(6)); // HostUnreachable, no label
    const stream = watch();
    await stream.next();
    await expect(stream.next()).rejects.toThrow(MongoServerError);
    expect(names()).toEqual(['aggregate', 'getMore', 'killCursors']);
    expect(stream.alive).toBe(false);
  });

  test('before 4.4: the code list decides, the label does not', async () => {
    await setup(8);
    script.aggregates.push(batch([change(1)]), batch([change(2)]));
    script.getMores.push(serverError(6), serverError(280, ['ResumableChangeStreamError']));
    const stream = watch();
    await stream.next();
    expect((await stream.next())._id).toEqual(token(2));
    await expect(stream.next()).rejects.toThrow('error 280');
    expect(server.commands('aggregate')).toHaveLength(2);
  });

  test('errors on the aggregate are never resumed (initial or resume aggregate)', async () => {
    await setup();
    script.aggregates.push(serverError(280, ['ResumableChangeStreamError']));
    await expect(watch().next()).rejects.toThrow('error 280');
    expect(server.commands('aggregate')).toHaveLength(1);

    server.clearRecords();
    script.aggregates.push(batch([change(1)]), serverError(280, ['ResumableChangeStreamError']));
    script.getMores.push(serverError(280, ['ResumableChangeStreamError']));
    const stream = watch();
    await stream.next();
    await expect(stream.next()).rejects.toThrow('error 280');
    expect(names()).toEqual(['aggregate', 'getMore', 'killCursors', 'aggregate']);
    expect(stream.alive).toBe(false);
  });

  test('resume option: startAtOperationTime from the initial aggregate when no token is known', async () => {
    await setup();
    script.aggregates.push(batch([]), batch([change(1)]));
    script.getMores.push(serverError(43));
    const stream = watch();
    await stream.next();
    expect(stageOf(bodies('aggregate')[1])).toEqual({ startAtOperationTime: OP_TIME });
    await stream.close();
  });

  test('resume option: the original startAtOperationTime when no token is known', async () => {
    await setup();
    const at = new Timestamp({ t: 42, i: 1 });
    script.aggregates.push(batch([]), batch([change(1)]));
    script.getMores.push(serverError(43));
    const stream = watch([], { startAtOperationTime: at });
    await stream.next();
    expect(bodies('aggregate').map(stageOf)).toEqual([{ startAtOperationTime: at }, { startAtOperationTime: at }]);
    await stream.close();
  });

  test('resume option: startAfter until a change was returned, resumeAfter afterwards', async () => {
    await setup();
    script.aggregates.push(batch([]), batch([change(1)]), batch([change(2)]));
    script.getMores.push(serverError(43), serverError(43));
    const stream = watch([], { startAfter: token(0) });
    await stream.next(); // getMore fails → resume with startAfter (no change returned yet)
    await stream.next(); // getMore fails → resume with resumeAfter
    expect(bodies('aggregate').map(stageOf)).toEqual([{ startAfter: token(0) }, { startAfter: token(0) }, { resumeAfter: token(1) }]);
    await stream.close();
  });

  test('resume option: an empty batch postBatchResumeToken replaces startAtOperationTime and resumeAfter', async () => {
    await setup();
    const at = new Timestamp({ t: 42, i: 1 });
    script.aggregates.push(batch([], token(50)), batch([change(1)]));
    script.getMores.push(batch([], token(51)), serverError(43));
    const stream = watch([], { startAtOperationTime: at, resumeAfter: token(5) });
    expect(stream.resumeToken).toEqual(token(5));
    expect(await stream.tryNext()).toBeNull();
    expect(stream.resumeToken).toEqual(token(51));
    await stream.next();
    expect(stageOf(bodies('aggregate')[1])).toEqual({ resumeAfter: token(51) });
    await stream.close();
  });

  test('tryNext: a resumable getMore error resumes, then the new cursor gets its one getMore', async () => {
    await setup();
    script.aggregates.push(batch([change(1)]), batch([], token(7)));
    script.getMores.push(serverError(43), batch([], token(8)), batch([], token(9)));
    const stream = watch();
    await stream.tryNext();
    expect(await stream.tryNext()).toBeNull();
    expect(names()).toEqual(['aggregate', 'getMore', 'killCursors', 'aggregate', 'getMore']);
    expect(stream.resumeToken).toEqual(token(8));
    expect(await stream.tryNext()).toBeNull();
    expect(names()).toEqual(['aggregate', 'getMore', 'killCursors', 'aggregate', 'getMore', 'getMore']);
    expect(stream.resumeToken).toEqual(token(9));
    await stream.close();
  });

  test('tryNext: when the resumed aggregate brings a change, no getMore follows', async () => {
    await setup();
    script.aggregates.push(batch([change(1)]), batch([change(2)]));
    script.getMores.push(serverError(43));
    const stream = watch();
    await stream.tryNext();
    expect((await stream.tryNext())?._id).toEqual(change(2)._id);
    expect(names()).toEqual(['aggregate', 'getMore', 'killCursors', 'aggregate']);
    await stream.close();
  });
});

describe('isResumableChangeStreamError', () => {
  const serverErr = (code: number, labels: string[] = []) => new MongoServerError({ ok: 0, code, errmsg: 'x', errorLabels: labels });

  test('non-server errors are resumable; plain Errors are not', () => {
    expect(isResumableChangeStreamError(new MongoNetworkError('reset'), 25)).toBe(true);
    expect(isResumableChangeStreamError(new MongoServerSelectionError('none'), 25)).toBe(true);
    expect(isResumableChangeStreamError(new Error('bug'), 25)).toBe(false);
  });

  test('CursorNotFound always; the label from 4.4; the code list before', () => {
    expect(isResumableChangeStreamError(serverErr(43), 25)).toBe(true);
    expect(isResumableChangeStreamError(serverErr(43), 6)).toBe(true);
    expect(isResumableChangeStreamError(serverErr(1, ['ResumableChangeStreamError']), 9)).toBe(true);
    expect(isResumableChangeStreamError(serverErr(189), 9)).toBe(false);
    expect(isResumableChangeStreamError(serverErr(1, ['ResumableChangeStreamError']), 8)).toBe(false);
    for (const code of [6, 7, 89, 91, 189, 262, 9001, 10107, 11600, 11602, 13435, 13436, 63, 150, 13388, 234, 133]) {
      expect(isResumableChangeStreamError(serverErr(code), 8)).toBe(true);
    }
    expect(isResumableChangeStreamError(serverErr(11000), 8)).toBe(false);
  });
});

describe('inheritance and typing', () => {
  beforeEach(() => setup());

  test('read concern and read preference come from the collection; options override', async () => {
    script.aggregates.push(batch([change(1)]), batch([change(1)]));
    const coll = client.db('app').collection('items', { readConcern: { level: 'majority' } });
    const a = coll.watch();
    await a.next();
    await a.close();
    expect(bodies('aggregate')[0].readConcern).toEqual({ level: 'majority' });
    expect(a.readPreference.mode).toBe('primary');
    const b = coll.watch([], { readPreference: 'secondaryPreferred', readConcern: { level: 'local' } });
    await b.next();
    await b.close();
    expect(bodies('aggregate')[1].readConcern).toEqual({ level: 'local' });
    expect(b.readPreference.mode).toBe('secondaryPreferred');
  });

  test('events are a union discriminated by operationType', async () => {
    interface Item {
      _id: number;
      name: string;
    }
    script.aggregates.push(
      batch([
        change(1, { fullDocument: { _id: 1, name: 'pen' } }),
        { _id: token(2), operationType: 'update', ns: { db: 'app', coll: 'items' }, documentKey: { _id: 1 }, updateDescription: { updatedFields: { name: 'ink' }, removedFields: [] } },
        { _id: token(3), operationType: 'rename', ns: { db: 'app', coll: 'items' }, to: { db: 'app', coll: 'things' } }
      ])
    );
    const stream = client.db('app').collection<Item>('items').watch();
    const described: string[] = [];
    for (let i = 0; i < 3; i++) {
      const event = await stream.next();
      switch (event.operationType) {
        case 'insert':
          described.push(`insert ${event.fullDocument.name} #${event.documentKey._id + 0}`);
          break;
        case 'update':
          described.push(`update ${String(event.updateDescription.updatedFields?.name)}`);
          break;
        case 'rename':
          described.push(`rename to ${event.to.coll}`);
          break;
        default:
          described.push(event.operationType);
      }
    }
    expect(described).toEqual(['insert pen #1', 'update ink', 'rename to things']);
    await stream.close();
  });
});
