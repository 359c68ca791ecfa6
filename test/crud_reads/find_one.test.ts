/**
 * findOne's direct path (src/cursor/find_one.ts) against the general path it replaces, a
 * FindCursor with `limit(1)` and `singleBatch: true`: the same command on the wire, the same
 * result, the same monitoring events and session handling; and the fallbacks (a server cursor
 * left open → getMore / killCursors as the cursor does; options the direct path does not cover).
 */
import { Long, type Document } from 'bson';
import { MongoClient } from '../../src/mongo_client';
import { MongoServerError } from '../../src/errors';
import type { FindCallOptions } from '../../src/collection';
import { FindCursor } from '../../src/cursor/find_cursor';
import { MockServer, errorReply, type RecordedCommand } from '../tools/mock_server';
import { MiniMongod } from '../tools/mini_mongod';

const docs = (n: number): Document[] => Array.from({ length: n }, (_, i) => ({ _id: i + 1, x: (i + 1) * 11, sub: { y: i } }));

let server: MockServer;
let client: MongoClient;
let events: Document[];

async function start(): Promise<void> {
  server = await MockServer.start({ maxWireVersion: 25 });
  new MiniMongod(server).seed('db', 'coll', docs(10));
  client = new MongoClient(`mongodb://${server.address}/?directConnection=true`, { monitorCommands: true });
  events = [];
  for (const name of ['commandStarted', 'commandSucceeded', 'commandFailed'] as const) {
    client.on(name, (event: Document) => {
      if (event.commandName !== 'hello' && event.commandName !== 'endSessions') {
        events.push({ name, commandName: event.commandName, command: event.command, reply: event.reply, failure: event.failure?.message });
      }
    });
  }
  await client.connect();
}

beforeEach(() => start());
afterEach(async () => {
  await client?.close();
  await server?.close();
});

const sent = (): RecordedCommand[] => server.nonHelloCommands().filter((c) => c.commandName !== 'endSessions');
const coll = () => client.db('db').collection('coll');

/** The general path: what findOne did before the direct path existed. */
async function viaCursor(filter: Document, options: FindCallOptions = {}): Promise<Document | null> {
  const cursor = coll().find(filter, { ...options, batchSize: undefined, noCursorTimeout: undefined, singleBatch: true }).limit(1);
  try {
    return await cursor.next();
  } finally {
    await cursor.close();
  }
}

/** Runs both paths one after the other and returns what each sent, returned and reported. */
async function bothPaths(filter: Document, options: FindCallOptions = {}) {
  const direct = await coll().findOne(filter, options);
  const directSent = sent().map((c) => c.body);
  const directEvents = events.splice(0);
  server.clearRecords();
  const general = await viaCursor(filter, options);
  return { direct, general, directSent, generalSent: sent().map((c) => c.body), directEvents, generalEvents: events.splice(0) };
}

describe('findOne direct path: parity with the cursor path', () => {
  const cases: Array<[string, Document, FindCallOptions]> = [
    ['no options', { _id: 3 }, {}],
    ['no match', { _id: 99 }, {}],
    ['empty filter', {}, {}],
    ['command options', { _id: { $gt: 2 } }, { sort: { _id: -1 }, projection: { x: 1 }, skip: 1, comment: 'c', maxTimeMS: 500, hint: { _id: 1 }, collation: { locale: 'en' }, let: { a: 1 } }],
    ['options findOne ignores', { _id: 4 }, { batchSize: 5, noCursorTimeout: true, limit: 7 } as FindCallOptions],
    ['read concern and preference', { _id: 5 }, { readConcern: { level: 'majority' }, readPreference: 'secondaryPreferred' }]
  ];

  it.each(cases)('%s: same command, result and events', async (_name, filter, options) => {
    const r = await bothPaths(filter, options);
    expect(r.direct).toEqual(r.general);
    expect(r.directSent).toHaveLength(1);
    expect(r.directSent).toEqual(r.generalSent);
    expect(r.directEvents).toEqual(r.generalEvents);
    expect(r.directEvents.map((e) => e.name)).toEqual(['commandStarted', 'commandSucceeded']);
  });

  it('returns the decoded document without a cursor and releases the implicit session', async () => {
    const next = jest.spyOn(FindCursor.prototype, 'next');
    try {
      expect(await coll().findOne({ _id: 2 })).toEqual({ _id: 2, x: 22, sub: { y: 1 } });
      expect(next).not.toHaveBeenCalled();
    } finally {
      next.mockRestore();
    }
    expect(sent()[0].body).toMatchObject({ find: 'coll', filter: { _id: 2 }, limit: 1, singleBatch: true });
    expect(sent()[0].body.lsid).toBeDefined();
    expect(client.serverSessionPool.size).toBe(1);
  });

  it('a server error: same error and events, the implicit session back in the pool', async () => {
    server.setHandler('find', errorReply(2, 'bad query'));
    const direct = await coll().findOne({ _id: 1 }).catch((e: unknown) => e);
    const directEvents = events.splice(0);
    const general = await viaCursor({ _id: 1 }).catch((e: unknown) => e);
    expect(direct).toBeInstanceOf(MongoServerError);
    expect((direct as MongoServerError).code).toBe(2);
    expect((direct as Error).message).toBe((general as Error).message);
    expect(directEvents).toEqual(events);
    expect(client.serverSessionPool.size).toBe(1);
    expect(sent().map((c) => c.commandName)).toEqual(['find', 'find']);
  });
});

describe('findOne direct path: fallbacks', () => {
  it('the server keeps the cursor open: killCursors on the same lsid after the document, as the cursor path', async () => {
    server.setHandler('find', () => ({ cursor: { id: Long.fromNumber(77), ns: 'db.coll', firstBatch: [{ _id: 1 }] }, ok: 1 }));
    server.setHandler('killCursors', () => ({ cursorsKilled: [Long.fromNumber(77)], ok: 1 }));
    const adopt = jest.spyOn(FindCursor.prototype, 'adoptFirstBatch');
    let adopted = 0;
    const r = await bothPaths({ _id: 1 }).finally(() => {
      adopted = adopt.mock.calls.length;
      adopt.mockRestore();
    });
    expect(adopted).toBe(1);
    expect(r.direct).toEqual({ _id: 1 });
    expect(r.general).toEqual({ _id: 1 });
    expect(r.directSent.map((b) => Object.keys(b)[0])).toEqual(['find', 'killCursors']);
    expect(r.directSent).toEqual(r.generalSent);
    expect(r.directSent[1]).toMatchObject({ killCursors: 'coll', cursors: [77] });
    expect(r.directSent[1].lsid).toEqual(r.directSent[0].lsid);
    expect(r.directEvents).toEqual(r.generalEvents);
    expect(client.serverSessionPool.size).toBe(1);
  });

  it('an open cursor with an empty first batch: getMore until a document comes, as the cursor path', async () => {
    server.setHandler('find', () => ({ cursor: { id: Long.fromNumber(78), ns: 'db.coll', firstBatch: [] }, ok: 1 }));
    server.setHandler('getMore', () => ({ cursor: { id: Long.fromNumber(0), ns: 'db.coll', nextBatch: [{ _id: 9 }] }, ok: 1 }));
    const r = await bothPaths({ _id: 9 });
    expect(r.direct).toEqual({ _id: 9 });
    expect(r.directSent.map((b) => Object.keys(b)[0])).toEqual(['find', 'getMore']);
    expect(r.directSent).toEqual(r.generalSent);
    expect(r.directEvents).toEqual(r.generalEvents);
    expect(client.serverSessionPool.size).toBe(1);
  });

  it('an explicit session takes the cursor path: its lsid is sent and it stays usable', async () => {
    const session = client.startSession();
    try {
      const doc = await coll().findOne({ _id: 4 }, { session });
      expect(doc).toMatchObject({ _id: 4 });
      expect(sent()[0].body.lsid).toEqual(session.id);
      expect(session.hasEnded).toBe(false);
    } finally {
      await session.endSession();
    }
  });

  it('timeoutMS (CSOT) takes the cursor path: same command as find().limit(1)', async () => {
    const r = await bothPaths({ _id: 6 }, { timeoutMS: 60_000 });
    expect(r.direct).toEqual(r.general);
    expect(r.directSent[0].maxTimeMS).toBeDefined();
    expect(r.directSent.map(({ maxTimeMS: _m, ...rest }) => rest)).toEqual(r.generalSent.map(({ maxTimeMS: _m, ...rest }) => rest));
  });
});
