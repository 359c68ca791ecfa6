/**
 * Cursor command sequences (find_getmore_killcursors_commands.md, crud.md "Find"): limit and
 * batchSize arithmetic on getMore, killCursors on early exit and never after exhaustion, one lsid
 * for find/getMore/killCursors, the implicit session released, getMore pinned to the cursor's
 * server, tailable/awaitData getMore options and tryNext, comment on getMore (4.4+), and the
 * cursor API (map, toList, rewind, clone, explain, raw batches, builders after start).
 */
import { deserialize, Long, type Document } from 'bson';
import { MongoClient } from '../../src/mongo_client';
import { MongoAPIError, MongoServerError } from '../../src/errors';
import { MockServer, errorReply, type RecordedCommand } from '../tools/mock_server';
import { MockReplicaSet } from '../tools/mock_replica_set';
import { MiniMongod } from '../tools/mini_mongod';

const docs = (n: number): Document[] => Array.from({ length: n }, (_, i) => ({ _id: i + 1, x: (i + 1) * 11 }));

let server: MockServer;
let mini: MiniMongod;
let client: MongoClient;

async function start(options: { maxWireVersion?: number } = {}): Promise<void> {
  server = await MockServer.start({ maxWireVersion: options.maxWireVersion ?? 25 });
  mini = new MiniMongod(server);
  mini.seed('db', 'coll', docs(10));
  client = new MongoClient(`mongodb://${server.address}/?directConnection=true`);
  await client.connect();
}

afterEach(async () => {
  await client?.close();
  await server?.close();
});

const sent = (): RecordedCommand[] => server.nonHelloCommands().filter((c) => c.commandName !== 'endSessions');
const names = (): string[] => sent().map((c) => c.commandName);
const coll = () => client.db('db').collection('coll');

describe('limit and batchSize', () => {
  beforeEach(() => start());

  it('batchSize 2 over 10 documents: find, then getMores of 2 until exhausted, no killCursors', async () => {
    const result = await coll().find({}, { batchSize: 2 }).toArray();
    expect(result).toHaveLength(10);
    expect(names()).toEqual(['find', 'getMore', 'getMore', 'getMore', 'getMore']);
    expect(sent().slice(1).map((c) => c.body.batchSize)).toEqual([2, 2, 2, 2]);
  });

  it('limit 4, batchSize 3: the getMore asks only for the 1 remaining document (spec example)', async () => {
    const result = await coll().find({}, { limit: 4, batchSize: 3 }).toArray();
    expect(result.map((d) => d._id)).toEqual([1, 2, 3, 4]);
    expect(sent()[0].body).toMatchObject({ find: 'coll', limit: 4, batchSize: 3 });
    expect(sent()[1].body).toMatchObject({ collection: 'coll', batchSize: 1 });
    expect(names()).toEqual(['find', 'getMore']);
  });

  it('batchSize equal to limit asks for limit + 1 so the server closes the cursor', async () => {
    await coll().find({}, { limit: 3, batchSize: 3 }).toArray();
    expect(sent()[0].body).toMatchObject({ limit: 3, batchSize: 4 });
    expect(names()).toEqual(['find']);
  });

  it('negative limit: one batch (singleBatch), no getMore and no killCursors', async () => {
    const result = await coll().find({}, { limit: -3 }).toArray();
    expect(result).toHaveLength(3);
    expect(sent()[0].body).toMatchObject({ limit: 3, singleBatch: true });
    expect(names()).toEqual(['find']);
  });

  it('negative batchSize: singleBatch with limit |batchSize|', async () => {
    const result = await coll().find({}, { batchSize: -2 }).toArray();
    expect(result).toHaveLength(2);
    expect(sent()[0].body).toMatchObject({ limit: 2, singleBatch: true });
    expect(sent()[0].body.batchSize).toBeUndefined();
  });

  it('limit reached while the server cursor stays open (5.0+): killCursors, not another getMore', async () => {
    server.setHandler('find', (r) => ({ cursor: { id: Long.fromNumber(77), ns: 'db.coll', firstBatch: docs(2) }, ok: 1 }));
    server.setHandler('getMore', () => ({ cursor: { id: Long.fromNumber(77), ns: 'db.coll', nextBatch: [{ _id: 3 }, { _id: 4 }] }, ok: 1 }));
    const result = await coll().find({}, { limit: 4, batchSize: 2 }).toArray();
    expect(result.map((d) => d._id)).toEqual([1, 2, 3, 4]);
    expect(names()).toEqual(['find', 'getMore', 'killCursors']);
    expect(sent()[2].body).toMatchObject({ killCursors: 'coll', cursors: [77] });
  });

  it('findOne sends limit 1 and singleBatch true, without batchSize or noCursorTimeout', async () => {
    const doc = await coll().findOne({ _id: { $gt: 4 } } as Document, { batchSize: 5, noCursorTimeout: true, sort: { _id: 1 } } as never);
    expect(doc).toEqual({ _id: 5, x: 55 });
    expect(sent()[0].body).toMatchObject({ find: 'coll', filter: { _id: { $gt: 4 } }, limit: 1, singleBatch: true, sort: { _id: 1 } });
    expect(sent()[0].body.batchSize).toBeUndefined();
    expect(sent()[0].body.noCursorTimeout).toBeUndefined();
    expect(names()).toEqual(['find']);
  });
});

describe('sessions and cleanup', () => {
  beforeEach(() => start());

  it('one lsid for find, getMore and killCursors; the implicit session returns to the pool', async () => {
    const cursor = coll().find({}, { batchSize: 2 });
    let seen = 0;
    for await (const _doc of cursor) {
      if (++seen === 3) break;
    }
    expect(names()).toEqual(['find', 'getMore', 'killCursors']);
    const lsids = sent().map((c) => Buffer.from((c.body.lsid as { id: { buffer: Uint8Array } }).id.buffer).toString('hex'));
    expect(new Set(lsids).size).toBe(1);
    expect(cursor.killed).toBe(true);
    expect(cursor.closed).toBe(true);
    expect(client.serverSessionPool.size).toBe(1);
    expect(mini.openCursorCount).toBe(0);
  });

  it('an exhausted cursor sends no killCursors, and close() after exhaustion sends nothing', async () => {
    const cursor = coll().find({}, { batchSize: 4 });
    expect(await cursor.toArray()).toHaveLength(10);
    await cursor.close();
    expect(names()).toEqual(['find', 'getMore', 'getMore']);
    expect(cursor.killed).toBe(false);
    expect(cursor.id?.isZero()).toBe(true);
    expect(client.serverSessionPool.size).toBe(1);
  });

  it('close() on a live cursor sends killCursors once; closing an unstarted cursor sends nothing', async () => {
    const unstarted = coll().find();
    await unstarted.close();
    expect(names()).toEqual([]);
    const cursor = coll().find({}, { batchSize: 2 });
    await cursor.next();
    await cursor.close();
    await cursor.close();
    expect(names()).toEqual(['find', 'killCursors']);
    expect(await cursor.next()).toBeNull();
  });

  it('an explicit session is used for every command and is not ended by the cursor', async () => {
    const session = client.startSession();
    const cursor = coll().find({}, { batchSize: 5, session });
    await cursor.toArray();
    const id = Buffer.from(session.id.id.buffer).toString('hex');
    for (const c of sent()) expect(Buffer.from((c.body.lsid as { id: { buffer: Uint8Array } }).id.buffer).toString('hex')).toBe(id);
    expect(session.hasEnded).toBe(false);
    await session.endSession();
  });

  it('a getMore error closes the cursor, releases the session and surfaces the server error', async () => {
    server.setHandler('getMore', errorReply(43, 'cursor id 1000 not found', { codeName: 'CursorNotFound' }));
    const cursor = coll().find({}, { batchSize: 2 });
    await expect(cursor.toArray()).rejects.toBeInstanceOf(MongoServerError);
    expect(cursor.closed).toBe(true);
    expect(client.serverSessionPool.size).toBe(1);
  });

  it('a map function that throws closes the cursor (killCursors) and rethrows', async () => {
    const cursor = coll()
      .find({}, { batchSize: 2 })
      .map(() => {
        throw new Error('boom');
      });
    await expect(cursor.toArray()).rejects.toThrow('boom');
    expect(names()).toEqual(['find', 'killCursors']);
  });
});

describe('tailable and awaitData', () => {
  beforeEach(() => start());

  it('getMore carries maxTimeMS from maxAwaitTimeMS; tryNext returns null on an empty batch', async () => {
    let getMores = 0;
    server.setHandler('find', { cursor: { id: Long.fromNumber(9), ns: 'db.capped', firstBatch: [{ _id: 1 }] }, ok: 1 });
    server.setHandler('getMore', () => ({
      cursor: { id: Long.fromNumber(9), ns: 'db.capped', nextBatch: ++getMores === 2 ? [{ _id: 2 }] : [] },
      ok: 1
    }));
    const cursor = client.db('db').collection('capped').find({}, { tailable: true, awaitData: true, maxAwaitTimeMS: 250, maxTimeMS: 1000 });
    expect(await cursor.tryNext()).toEqual({ _id: 1 });
    expect(await cursor.tryNext()).toBeNull();
    expect(await cursor.tryNext()).toEqual({ _id: 2 });
    await cursor.close();
    expect(sent()[0].body).toMatchObject({ tailable: true, awaitData: true, maxTimeMS: 1000 });
    expect(sent()[1].body).toMatchObject({ getMore: 9, collection: 'capped', maxTimeMS: 250 });
    expect(names()).toEqual(['find', 'getMore', 'getMore', 'killCursors']);
  });

  it('a tailable cursor without awaitData sends no maxTimeMS on getMore', async () => {
    server.setHandler('find', { cursor: { id: Long.fromNumber(9), ns: 'db.capped', firstBatch: [] }, ok: 1 });
    server.setHandler('getMore', { cursor: { id: Long.fromNumber(9), ns: 'db.capped', nextBatch: [] }, ok: 1 });
    const cursor = client.db('db').collection('capped').find({}).addCursorFlag('tailable', true).maxAwaitTimeMS(100);
    expect(await cursor.tryNext()).toBeNull();
    expect(await cursor.tryNext()).toBeNull();
    await cursor.close();
    expect(sent()[1].body.maxTimeMS).toBeUndefined();
  });
});

describe('comment on getMore', () => {
  it('4.4+ servers get the comment on getMore', async () => {
    await start({ maxWireVersion: 9 });
    await coll().find({}, { batchSize: 6, comment: { note: 1 } }).toArray();
    expect(sent()[1].body).toMatchObject({ getMore: expect.anything(), comment: { note: 1 } });
  });

  it('4.2 servers do not', async () => {
    await start({ maxWireVersion: 8 });
    await coll().aggregate([], { batchSize: 6, comment: 'c' }).toArray();
    expect(sent()[0].body.comment).toBe('c');
    expect(sent()[1].body.comment).toBeUndefined();
  });
});

describe('cursor API', () => {
  beforeEach(() => start());

  it('toList(n) returns at most n documents and keeps the cursor usable; hasNext/next/bufferedCount', async () => {
    const cursor = coll().find({}, { batchSize: 4, sort: { _id: 1 } });
    expect((await cursor.toList(3)).map((d) => d._id)).toEqual([1, 2, 3]);
    expect(cursor.bufferedCount()).toBe(1);
    expect(await cursor.hasNext()).toBe(true);
    expect((await cursor.toList(2)).map((d) => d._id)).toEqual([4, 5]);
    expect(cursor.readBufferedDocuments().map((d) => d._id)).toEqual([6, 7, 8]);
    expect((await cursor.toList()).map((d) => d._id)).toEqual([9, 10]);
    expect(await cursor.hasNext()).toBe(false);
    await expect(cursor.toList(-1)).rejects.toBeInstanceOf(Error);
  });

  it('map composes; rewind re-runs the query; clone is a fresh cursor with the same options', async () => {
    const cursor = coll()
      .find({ _id: { $lte: 3 } } as Document)
      .map((d) => d.x as number)
      .map((x) => x * 2);
    expect(await cursor.toArray()).toEqual([22, 44, 66]);
    cursor.rewind();
    expect(await cursor.toArray()).toEqual([22, 44, 66]);
    expect(await cursor.clone().toArray()).toEqual([22, 44, 66]);
    expect(names()).toEqual(['find', 'find', 'find']);
  });

  it('rewinding a live cursor kills the old server cursor first', async () => {
    const cursor = coll().find({}, { batchSize: 2 });
    await cursor.next();
    cursor.rewind();
    expect((await cursor.next())?._id).toBe(1);
    await cursor.close();
    expect(names()).toEqual(['find', 'killCursors', 'find', 'killCursors']);
  });

  it('builders are chainable and throw once the cursor started', async () => {
    const cursor = coll()
      .find()
      .filter({ _id: { $gt: 2 } })
      .sort('x', -1)
      .project({ x: 1 })
      .skip(1)
      .limit(2)
      .batchSize(5)
      .hint({ _id: 1 })
      .min({ _id: 0 })
      .max({ _id: 100 })
      .maxTimeMS(500)
      .collation({ locale: 'en' })
      .comment('c')
      .allowDiskUse()
      .returnKey(false)
      .showRecordId(false)
      .addCursorFlag('noCursorTimeout', true)
      .addCursorFlag('partial', true);
    expect((await cursor.toArray()).map((d) => d._id)).toEqual([9, 8]);
    expect(sent()[0].body).toEqual(
      expect.objectContaining({
        find: 'coll',
        filter: { _id: { $gt: 2 } },
        sort: { x: -1 },
        projection: { x: 1 },
        skip: 1,
        limit: 2,
        batchSize: 5,
        hint: { _id: 1 },
        min: { _id: 0 },
        max: { _id: 100 },
        maxTimeMS: 500,
        collation: { locale: 'en' },
        comment: 'c',
        allowDiskUse: true,
        returnKey: false,
        showRecordId: false,
        noCursorTimeout: true,
        allowPartialResults: true
      })
    );
    expect(() => cursor.limit(1)).toThrow(MongoAPIError);
    expect(() => cursor.map((d) => d)).toThrow(MongoAPIError);
  });

  it('explain sends {explain: find, verbosity}', async () => {
    server.setHandler('explain', { queryPlanner: {}, ok: 1 });
    const plan = await coll().find({ a: 1 }, { limit: 2 }).explain('executionStats');
    expect(plan.queryPlanner).toEqual({});
    expect(sent()[0].body).toMatchObject({ explain: { find: 'coll', filter: { a: 1 }, limit: 2 }, verbosity: 'executionStats' });
    await coll().aggregate([{ $match: {} }]).explain();
    expect(sent()[1].body).toMatchObject({ explain: { aggregate: 'coll', pipeline: [{ $match: {} }], cursor: {} }, verbosity: 'allPlansExecution' });
  });

  it('findRawBatches / aggregateRawBatches yield one Buffer of concatenated BSON documents per batch', async () => {
    const batches = await coll().findRawBatches({}, { batchSize: 4 }).toArray();
    expect(batches).toHaveLength(3);
    const decoded = batches.flatMap((buffer) => {
      const out: Document[] = [];
      for (let offset = 0; offset < buffer.length; offset += buffer.readInt32LE(offset)) {
        out.push(deserialize(buffer.subarray(offset, offset + buffer.readInt32LE(offset))));
      }
      return out;
    });
    expect(decoded).toEqual(docs(10));
    const agg = await coll().aggregateRawBatches([{ $match: { _id: { $lte: 2 } } }]).toArray();
    expect(agg).toHaveLength(1);
    expect(Buffer.isBuffer(agg[0])).toBe(true);
  });

  it('server errors from the cursor-creating command reject and release the session', async () => {
    server.setHandler('find', errorReply(2, 'bad query', { codeName: 'BadValue' }));
    await expect(coll().find({ $bad: 1 }).toArray()).rejects.toMatchObject({ code: 2, codeName: 'BadValue' });
    expect(client.serverSessionPool.size).toBe(1);
  });
});

describe('server pinning', () => {
  let rs: MockReplicaSet;
  afterEach(async () => {
    await client?.close();
    await rs?.close();
  });

  it('getMore and killCursors go to the server that created the cursor', async () => {
    rs = await MockReplicaSet.start({ members: 3 });
    for (const member of rs.members) {
      member.setHandler('find', (r) => ({ cursor: { id: Long.fromNumber(5), ns: 'db.coll', firstBatch: [{ _id: member.port }] }, ok: 1 }));
      member.setHandler('getMore', { cursor: { id: Long.fromNumber(5), ns: 'db.coll', nextBatch: [{ _id: 0 }] }, ok: 1 });
    }
    client = new MongoClient(`mongodb://${rs.hostList}/?replicaSet=${rs.setName}&readPreference=secondary`);
    await client.connect();
    const cursor = client.db('db').collection('coll').find({}, { batchSize: 1 });
    await cursor.next();
    await cursor.next();
    await cursor.close();
    const owner = rs.members.find((m) => m.commands('find').length > 0) as MockServer;
    expect(owner).not.toBe(rs.primary);
    expect(owner.commands('getMore')).toHaveLength(1);
    expect(owner.commands('killCursors')).toHaveLength(1);
    for (const other of rs.members.filter((m) => m !== owner)) {
      expect(other.commands('getMore')).toHaveLength(0);
      expect(other.commands('killCursors')).toHaveLength(0);
    }
  });
});
