/**
 * Differential tests for every read, cursor, index and collection/database management API: the
 * same calls through mongowire and through the official driver, each against its own mock server
 * seeded with the same in-memory data, comparing the commands the server receives (after
 * normalising lsid, $clusterTime, key order and Long/number) and the results or errors returned.
 *
 * Documented deviations (specification over the official driver):
 * - Negative `batchSize`: find_getmore_killcursors_commands.md says `singleBatch = (limit < 0) ||
 *   (batchSize < 0)`; mongowire sends `singleBatch: true`, the official driver does not.
 * - `comment` on getMore is sent only to 4.4+ servers (crud unified tests "does not set comment on
 *   getMore - pre 4.4"); the official driver sends it regardless (it supports 4.2+ only, mock is 8.0 here).
 * - `comment` on createIndexes: index-management.md lists it for createIndex/createIndexes (4.4+);
 *   the official driver drops it.
 * - `cursor.comment(c)` (the builder) also reaches getMore, like the `comment` option (crud.md,
 *   index-management changelog 2022-02-10: "getMore must explicitly send inherited comment"); the
 *   official driver only applies the builder's comment to the find command.
 * Motor-only helpers (listCollectionNames, serverInfo, dropIndex by keys, toList, dereference) are
 * compared with the official calls that send the same commands.
 */
import { Long, type Document } from 'bson';
import { MongoClient as OfficialClient } from 'mongodb';
import { MongoClient } from '../../src/mongo_client';
import { MockServer, errorReply } from '../tools/mock_server';
import { MiniMongod } from '../tools/mini_mongod';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the scenarios drive both drivers through their shared surface
type AnyClient = any;
type Driver = 'mongowire' | 'official';
type Scenario = (client: AnyClient, driver: Driver) => Promise<unknown>;

const IGNORED_COMMANDS = new Set(['endSessions', 'hello', 'isMaster', 'ismaster', 'ping']);

function normalize(value: unknown, key = ''): unknown {
  if (key === 'lsid' || key === '$clusterTime') return '<present>';
  if (Long.isLong(value)) return value.toNumber();
  if (typeof value === 'bigint') return Number(value);
  if (Buffer.isBuffer(value)) return value.toString('hex');
  if (Array.isArray(value)) return value.map((v) => normalize(v));
  if (value instanceof Map) return normalize(Object.fromEntries(value), key);
  if (value !== null && typeof value === 'object' && !(value instanceof Date)) {
    const out: Document = {};
    for (const k of Object.keys(value).sort()) out[k] = normalize((value as Document)[k], k);
    return out;
  }
  return value;
}

function describeError(error: unknown): Document {
  const e = error as { name?: string; code?: unknown; codeName?: unknown; message?: string };
  return { error: true, code: e.code, codeName: e.codeName, message: e.message };
}

const SEED: Document[] = Array.from({ length: 10 }, (_, i) => ({ _id: i + 1, x: (i + 1) * 11, s: i % 2 ? 'odd' : 'even' }));

interface Recording {
  commands: Document[];
  result: unknown;
}

async function record(driver: Driver, scenario: Scenario, setup?: (server: MockServer, mini: MiniMongod) => void): Promise<Recording> {
  const server = await MockServer.start({ type: 'standalone' });
  const mini = new MiniMongod(server);
  mini.seed('db', 'coll', SEED);
  mini.seed('db', 'other', [{ _id: 1 }]);
  mini.seed('other_db', 'refs', [{ _id: 'r1', v: 1 }]);
  setup?.(server, mini);
  const uri = `mongodb://${server.address}/?directConnection=true`;
  const client = driver === 'mongowire' ? new MongoClient(uri) : new OfficialClient(uri);
  try {
    await client.connect();
    server.clearRecords();
    let result: unknown;
    try {
      result = normalize(await scenario(client, driver));
    } catch (error) {
      result = describeError(error);
    }
    const commands = server.records
      .filter((r) => !IGNORED_COMMANDS.has(r.commandName))
      .map((r) => normalize({ db: r.db, ...r.body }) as Document);
    return { commands, result };
  } finally {
    await client.close();
    await server.close();
  }
}

/** `deviation` turns the official driver's commands into what the spec requires of mongowire. */
async function compare(
  scenario: Scenario,
  setup?: (server: MockServer, mini: MiniMongod) => void,
  deviation: (commands: Document[]) => Document[] = (commands) => commands
): Promise<Recording> {
  const ours = await record('mongowire', scenario, setup);
  const theirs = await record('official', scenario, setup);
  expect(ours.commands).toEqual(deviation(theirs.commands));
  expect(ours.result).toEqual(theirs.result);
  return ours;
}

const coll = (client: AnyClient, options?: Document) => client.db('db').collection('coll', options);

const FIND_SCENARIOS: Record<string, Scenario> = {
  'find all': (c) => coll(c).find().toArray(),
  'find with filter, sort, projection, skip, limit': (c) =>
    coll(c).find({ x: { $gt: 20 } }, { sort: { x: -1 }, projection: { x: 1 }, skip: 1, limit: 3 }).toArray(),
  'find with batchSize (getMores)': (c) => coll(c).find({}, { batchSize: 3 }).toArray(),
  'find with limit 4 and batchSize 3': (c) => coll(c).find({}, { limit: 4, batchSize: 3 }).toArray(),
  'find with limit equal to batchSize': (c) => coll(c).find({}, { limit: 3, batchSize: 3 }).toArray(),
  'find with negative limit': (c) => coll(c).find({}, { limit: -2 }).toArray(),
  'find with every option': (c) =>
    coll(c)
      .find(
        { _id: { $gte: 1 } },
        {
          hint: { _id: 1 },
          comment: { why: 'test' },
          collation: { locale: 'en', strength: 2 },
          let: { v: 1 },
          allowDiskUse: true,
          maxTimeMS: 1000,
          min: { _id: 0 },
          max: { _id: 50 },
          returnKey: false,
          showRecordId: true,
          noCursorTimeout: true,
          allowPartialResults: true
        }
      )
      .toArray(),
  'find with a collection read concern and a per-call read preference': (c) =>
    coll(c, { readConcern: { level: 'majority' } }).find({}, { readPreference: 'secondaryPreferred', batchSize: 5 }).toArray(),
  'find tailable awaitData with maxAwaitTimeMS': (c) =>
    coll(c).find({}, { tailable: true, awaitData: true, maxAwaitTimeMS: 100, batchSize: 5 }).limit(0).next(),
  'cursor builders': (c) =>
    coll(c)
      .find()
      .filter({ x: { $lt: 90 } })
      .sort({ x: 1 })
      .project({ _id: 0, x: 1 })
      .skip(2)
      .limit(5)
      .batchSize(2)
      .maxTimeMS(300)
      .comment('built')
      .hint('_id_')
      .toArray(),
  'for await with break (killCursors)': async (c) => {
    const seen: unknown[] = [];
    for await (const doc of coll(c).find({}, { batchSize: 2 })) {
      seen.push(doc);
      if (seen.length === 3) break;
    }
    return seen;
  },
  'next then close (killCursors)': async (c) => {
    const cursor = coll(c).find({}, { batchSize: 2 });
    const first = await cursor.next();
    await cursor.close();
    return first;
  },
  'hasNext / next to exhaustion': async (c) => {
    const cursor = coll(c).find({ _id: { $lte: 3 } }, { batchSize: 2 });
    const out: unknown[] = [];
    while (await cursor.hasNext()) out.push(await cursor.next());
    return out;
  },
  'rewind and iterate again': async (c) => {
    const cursor = coll(c).find({ _id: { $lte: 2 } });
    const a = await cursor.toArray();
    cursor.rewind();
    return [a, await cursor.toArray()];
  },
  'explain': (c) => coll(c).find({ x: 1 }).explain('queryPlanner'),
  'findOne': (c) => coll(c).findOne({ _id: { $gt: 3 } }, { sort: { _id: -1 }, projection: { x: 1 }, comment: 'one' }),
  'findOne with no match': (c) => coll(c).findOne({ _id: 999 })
};

const AGGREGATE_SCENARIOS: Record<string, Scenario> = {
  'aggregate with batchSize (getMores)': (c) => coll(c).aggregate([{ $match: { x: { $gt: 10 } } }, { $sort: { x: 1 } }], { batchSize: 4 }).toArray(),
  'aggregate with every option': (c) =>
    coll(c)
      .aggregate([{ $match: {} }], { allowDiskUse: true, hint: { _id: 1 }, let: { a: 1 }, comment: 'agg', maxTimeMS: 500, collation: { locale: 'en' }, bypassDocumentValidation: true })
      .toArray(),
  'aggregate $out with a write concern': (c) =>
    coll(c, { writeConcern: { w: 'majority' }, readConcern: { level: 'local' } }).aggregate([{ $match: {} }, { $out: 'copy' }], { batchSize: 2 }).toArray(),
  'aggregate $merge': (c) => coll(c).aggregate([{ $merge: { into: 'merged' } }]).toArray(),
  'database aggregate $listLocalSessions on admin': async (c) => (await c.db('admin').aggregate([{ $listLocalSessions: {} }, { $limit: 1 }]).toArray()).length,
  'countDocuments with options': (c) =>
    coll(c).countDocuments({ x: { $gt: 10 } }, { skip: 1, limit: 5, hint: { _id: 1 }, collation: { locale: 'en' }, maxTimeMS: 100, comment: 'count' }),
  'countDocuments on an empty match': (c) => coll(c).countDocuments({ x: -1 }),
  'estimatedDocumentCount with options': (c) => coll(c).estimatedDocumentCount({ maxTimeMS: 100, comment: 'est' }),
  'distinct with options': (c) => coll(c).distinct('s', { x: { $gt: 10 } }, { collation: { locale: 'en' }, comment: 'd', hint: { s: 1 }, maxTimeMS: 100 }),
  'distinct without a filter': (c) => coll(c).distinct('s')
};

const INDEX_SCENARIOS: Record<string, Scenario> = {
  'createIndex with an object and options': (c) =>
    coll(c).createIndex(
      { a: 1, b: -1 },
      { unique: true, sparse: true, expireAfterSeconds: 60, partialFilterExpression: { a: { $gt: 1 } }, collation: { locale: 'en' }, hidden: false, commitQuorum: 'majority', maxTimeMS: 200, comment: 'ix' }
    ),
  'createIndex with a field name': (c) => coll(c).createIndex('a'),
  'createIndex with [[field, direction], ...]': (c) => coll(c).createIndex([['a', 1], ['b', -1]]),
  'createIndex with a name, text weights and version': (c) => coll(c).createIndex({ t: 'text' }, { name: 'text_ix', weights: { t: 2 }, default_language: 'english', version: 2 }),
  'createIndexes': (c) => coll(c).createIndexes([{ key: { a: 1 } }, { key: { b: -1 }, name: 'b_desc', unique: true }]),
  'dropIndex by name': async (c) => {
    await coll(c).createIndex({ a: 1 });
    return coll(c).dropIndex('a_1');
  },
  'dropIndex by keys (Motor) = dropIndex by generated name': async (c, driver) => {
    await coll(c).createIndex({ a: 1, b: -1 });
    return driver === 'mongowire' ? coll(c).dropIndex({ a: 1, b: -1 }) : coll(c).dropIndex('a_1_b_-1');
  },
  'dropIndexes': (c) => coll(c).dropIndexes(),
  'listIndexes': async (c) => {
    await coll(c).createIndex({ a: 1 });
    return coll(c).listIndexes({ batchSize: 1 }).toArray();
  },
  'indexInformation': async (c) => {
    await coll(c).createIndex({ a: 1, b: -1 });
    return [await coll(c).indexInformation(), await coll(c).indexInformation({ full: true })];
  },
  'indexExists': async (c) => [await coll(c).indexExists('_id_'), await coll(c).indexExists(['_id_', 'nope'])],
  'indexes': (c) => coll(c).indexes(),
  'database createIndex and indexInformation': async (c) => [await c.db('db').createIndex('coll', { z: 1 }), await c.db('db').indexInformation('coll')],
  'createIndex error reply': (c) => coll(c).createIndex({ a: 1 })
};

const MANAGEMENT_SCENARIOS: Record<string, Scenario> = {
  'createCollection with options': async (c) => {
    const created = await c.db('db').createCollection('capped', {
      capped: true,
      size: 4096,
      max: 10,
      validator: { x: { $type: 'int' } },
      validationLevel: 'moderate',
      validationAction: 'warn',
      collation: { locale: 'en' },
      changeStreamPreAndPostImages: { enabled: true },
      writeConcern: { w: 1 }
    });
    return created.collectionName;
  },
  'createCollection timeseries and clustered': async (c) => {
    await c.db('db').createCollection('ts', { timeseries: { timeField: 't', metaField: 'm', granularity: 'hours' }, expireAfterSeconds: 100 });
    await c.db('db').createCollection('clustered', { clusteredIndex: { key: { _id: 1 }, unique: true, name: 'ci' } });
    return true;
  },
  'createCollection of an existing collection (error)': (c) => c.db('db').createCollection('coll'),
  'dropCollection (existing and missing)': async (c) => [await c.db('db').dropCollection('other'), await c.db('db').dropCollection('missing').catch(() => 'error')],
  'collection.drop': (c) => coll(c).drop(),
  'listCollections with options': (c) => c.db('db').listCollections({ name: 'coll' }, { nameOnly: false, authorizedCollections: true, batchSize: 1 }).toArray(),
  'listCollectionNames (Motor) = listCollections nameOnly': async (c, driver) =>
    driver === 'mongowire'
      ? c.db('db').listCollectionNames()
      : (await c.db('db').listCollections({}, { nameOnly: true }).toArray()).map((i: Document) => i.name),
  'renameCollection with dropTarget': async (c) => (await c.db('db').renameCollection('coll', 'renamed', { dropTarget: true })).collectionName,
  'collection.rename': async (c) => (await coll(c).rename('renamed2')).collectionName,
  'collection.options and isCapped': async (c) => [await coll(c).options(), await coll(c).isCapped()],
  'collection.options of a missing collection (error)': (c) => c.db('db').collection('missing').options(),
  'dropDatabase': (c) => c.db('db').dropDatabase(),
  'db.stats': (c) => c.db('db').stats({ scale: 1024 }),
  'serverInfo (Motor) = admin buildInfo': (c, driver) => (driver === 'mongowire' ? c.serverInfo() : c.db('admin').admin().buildInfo())
};

describe('differential: find and cursors', () => {
  for (const [name, scenario] of Object.entries(FIND_SCENARIOS)) {
    if (name === 'explain') {
      it(name, () => compare(scenario, (server) => server.setHandler('explain', { queryPlanner: { winningPlan: {} }, ok: 1 })));
    } else if (name === 'cursor builders') {
      it(name, () => compare(scenario, undefined, (commands) => commands.map((c) => (c.getMore !== undefined ? { ...c, comment: 'built' } : c))));
    } else if (name.startsWith('find tailable')) {
      it(name, () =>
        compare(scenario, (server) => {
          server.setHandler('find', { cursor: { id: Long.fromNumber(5), ns: 'db.coll', firstBatch: [] }, ok: 1 });
          server.setHandler('getMore', { cursor: { id: Long.fromNumber(5), ns: 'db.coll', nextBatch: [{ _id: 1 }] }, ok: 1 });
        })
      );
    } else {
      it(name, () => compare(scenario));
    }
  }

  it('negative batchSize: mongowire adds singleBatch (spec), otherwise the same command', async () => {
    const scenario: Scenario = (c) => coll(c).find({}, { batchSize: -2 }).toArray();
    const ours = await record('mongowire', scenario);
    const theirs = await record('official', scenario);
    expect(ours.commands[0]).toEqual({ ...theirs.commands[0], singleBatch: true });
    expect(ours.result).toEqual(theirs.result);
  });

  it('find and getMore error replies surface the same server error', async () => {
    await compare((c) => coll(c).find({ $bad: 1 }).toArray(), (server) => server.setHandler('find', errorReply(2, 'unknown top level operator: $bad', { codeName: 'BadValue' })));
    await compare(
      (c) => coll(c).find({}, { batchSize: 2 }).toArray(),
      (server) => server.setHandler('getMore', errorReply(43, 'cursor id 1000 not found', { codeName: 'CursorNotFound' }))
    );
  });
});

describe('differential: aggregate, count, distinct', () => {
  for (const [name, scenario] of Object.entries(AGGREGATE_SCENARIOS)) it(name, () => compare(scenario));

  it('aggregate error reply', () =>
    compare((c) => coll(c).aggregate([{ $nope: 1 }]).toArray(), (server) => server.setHandler('aggregate', errorReply(40324, "Unrecognized pipeline stage name: '$nope'", { codeName: 'Location40324' }))));
});

describe('differential: indexes', () => {
  for (const [name, scenario] of Object.entries(INDEX_SCENARIOS)) {
    if (name === 'createIndex with an object and options') {
      it(name, () => compare(scenario, undefined, (commands) => commands.map((c) => ({ ...c, comment: 'ix' }))));
    } else if (name === 'createIndex error reply') {
      it(name, () => compare(scenario, (server) => server.setHandler('createIndexes', errorReply(85, 'Index already exists with a different name', { codeName: 'IndexOptionsConflict' }))));
    } else {
      it(name, () => compare(scenario));
    }
  }
});

describe('differential: collection and database management', () => {
  for (const [name, scenario] of Object.entries(MANAGEMENT_SCENARIOS)) {
    it(name, () => compare(scenario));
  }

  it('listDatabases / listDatabaseNames (client) = admin().listDatabases', async () => {
    const ours = await record('mongowire', async (c) => [
      await c.listDatabases({ filter: { name: 'db' }, nameOnly: true, authorizedDatabases: true }),
      await c.listDatabaseNames()
    ]);
    const theirs = await record('official', async (c) => {
      const admin = c.db('admin').admin();
      const filtered = await admin.listDatabases({ filter: { name: 'db' }, nameOnly: true, authorizedDatabases: true });
      const all = await admin.listDatabases({ nameOnly: true });
      return [filtered, all.databases.map((d: Document) => d.name)];
    });
    expect(ours.commands).toEqual(theirs.commands);
    expect(ours.result).toEqual(theirs.result);
  });

  it('client.dropDatabase = db.dropDatabase', async () => {
    const ours = await record('mongowire', (c) => c.dropDatabase('db'));
    const theirs = await record('official', (c) => c.db('db').dropDatabase());
    expect(ours.commands).toEqual(theirs.commands);
    expect(ours.result).toEqual(theirs.result);
  });

  it('dereference (Motor) = findOne on the DBRef target, honouring $db', async () => {
    const ours = await record('mongowire', async (c) => [
      await c.db('db').dereference({ $ref: 'coll', $id: 2 }),
      await c.db('db').dereference({ $ref: 'refs', $id: 'r1', $db: 'other_db' })
    ]);
    const theirs = await record('official', async (c) => [
      await c.db('db').collection('coll').findOne({ _id: 2 }),
      await c.db('other_db').collection('refs').findOne({ _id: 'r1' })
    ]);
    expect(ours.commands).toEqual(theirs.commands);
    expect(ours.result).toEqual(theirs.result);
  });
});
