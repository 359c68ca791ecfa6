/**
 * `db.runCursorCommand(command, options)` (run-command.md "runCursorCommand"): the command sent
 * as given (session, $readPreference, $db added; no concerns), getMore on the command's cursor in
 * the same session and server with the getMore-only `batchSize` / `maxTimeMS` / `comment` (options
 * or setters, changeable between getMores), killCursors on close, an error when the reply has no
 * cursor, timeoutMode validation.
 */
import type { Document } from 'bson';
import { MongoInvalidArgumentError, MongoUnexpectedServerResponseError } from '../../src/errors';
import { MongoClient } from '../../src/mongo_client';
import { ReadPreference } from '../../src/read_preference';
import { MiniMongod } from '../tools/mini_mongod';

const SEED: Document[] = Array.from({ length: 5 }, (_, i) => ({ _id: i + 1, x: (i + 1) * 11 }));

let mini: MiniMongod;
let client: MongoClient;

beforeEach(async () => {
  mini = await MiniMongod.start({ type: 'standalone' });
  mini.seed('db', 'coll', SEED);
  client = new MongoClient(mini.uri);
  await client.connect();
  mini.server.clearRecords();
});

afterEach(async () => {
  await client.close();
  await mini.close();
});

const sent = () => mini.server.nonHelloCommands().filter((c) => c.commandName !== 'endSessions');
const db = () => client.db('db');

it('runs the command as given and exhausts its cursor with getMores in one session', async () => {
  const docs = await db().runCursorCommand({ find: 'coll', batchSize: 2 }).toArray();
  expect(docs.map((d) => d._id)).toEqual([1, 2, 3, 4, 5]);
  const commands = sent();
  // Without a getMore batchSize the (mini) server returns the rest in one batch.
  expect(commands.map((c) => c.commandName)).toEqual(['find', 'getMore']);
  expect(commands[0].body).toMatchObject({ find: 'coll', batchSize: 2, $db: 'db' });
  expect(commands[0].body).not.toHaveProperty('readConcern');
  expect(commands[1].body).toMatchObject({ collection: 'coll' });
  expect(commands[1].body).not.toHaveProperty('batchSize');
  const lsids = commands.map((c) => JSON.stringify(c.body.lsid));
  expect(new Set(lsids).size).toBe(1);
});

it('nothing is sent until the cursor is iterated', async () => {
  const cursor = db().runCursorCommand({ find: 'coll' });
  expect(sent()).toHaveLength(0);
  await cursor.close();
  expect(sent()).toHaveLength(0);
});

it('batchSize, maxTimeMS and comment options apply to getMore only', async () => {
  const cursor = db().runCursorCommand({ find: 'coll', batchSize: 1, maxTimeMS: 200, comment: 'find' }, { batchSize: 3, maxTimeMS: 300, comment: 'getMore' });
  await cursor.toArray();
  const [find, getMore] = sent();
  expect(find.body).toMatchObject({ find: 'coll', batchSize: 1, maxTimeMS: 200, comment: 'find' });
  expect(getMore.body).toMatchObject({ getMore: expect.anything(), collection: 'coll', batchSize: 3, maxTimeMS: 300, comment: 'getMore' });
});

it('the setters change the getMore fields between getMores', async () => {
  const cursor = db().runCursorCommand({ find: 'coll', batchSize: 1 });
  expect((await cursor.next())?._id).toBe(1);
  cursor.setBatchSize(1).setComment({ n: 1 }).setMaxTimeMS(100);
  expect((await cursor.next())?._id).toBe(2);
  cursor.setBatchSize(2).setComment({ n: 2 }).setMaxTimeMS(150);
  expect((await cursor.next())?._id).toBe(3);
  expect((await cursor.next())?._id).toBe(4);
  await cursor.close();
  const getMores = sent().filter((c) => c.commandName === 'getMore');
  expect(getMores.map((c) => [c.body.batchSize, c.body.comment, c.body.maxTimeMS])).toEqual([
    [1, { n: 1 }, 100],
    [2, { n: 2 }, 150]
  ]);
  expect(sent().at(-1)?.commandName).toBe('killCursors');
});

it('close() kills a live cursor in the cursor session', async () => {
  const cursor = db().runCursorCommand({ find: 'coll', batchSize: 2 });
  await cursor.next();
  await cursor.close();
  const [find, killCursors] = sent();
  expect(killCursors.commandName).toBe('killCursors');
  expect(killCursors.body).toMatchObject({ killCursors: 'coll' });
  expect(killCursors.body.lsid).toEqual(find.body.lsid);
});

it('uses an explicit session', async () => {
  const session = client.startSession();
  const lsid = session.id;
  try {
    await db().runCursorCommand({ find: 'coll', batchSize: 2 }, { session }).toArray();
  } finally {
    await session.endSession();
  }
  const [find, getMore] = sent();
  expect(find.body.lsid).toEqual(lsid);
  expect(getMore.body.lsid).toEqual(lsid);
});

it('sends the read preference (mongos) and defaults to primary', async () => {
  const mongos = await MiniMongod.start({ type: 'mongos' });
  mongos.seed('db', 'coll', SEED);
  const c = new MongoClient(`mongodb://${mongos.address}/`);
  try {
    await c.db('db').runCursorCommand({ find: 'coll' }, { readPreference: ReadPreference.secondary }).toArray();
    await c.db('db', { readPreference: 'secondary' }).runCursorCommand({ find: 'coll' }).toArray();
  } finally {
    await c.close();
    await mongos.close();
  }
  const finds = mongos.server.commands('find');
  expect(finds[0].body.$readPreference).toEqual({ mode: 'secondary' });
  // Like runCommand: the database's read preference is not inherited.
  expect(finds[1].body).not.toHaveProperty('$readPreference');
});

it('a reply without a cursor is an error on the first iteration', async () => {
  const cursor = db().runCursorCommand({ ping: 1 });
  await expect(cursor.hasNext()).rejects.toBeInstanceOf(MongoUnexpectedServerResponseError);
});

it('rejects an empty command, timeoutMode without timeoutMS, a bad cursorType, and getMore maxTimeMS with timeoutMS', () => {
  expect(() => db().runCursorCommand({})).toThrow(MongoInvalidArgumentError);
  expect(() => db().runCursorCommand({ find: 'coll' }, { timeoutMode: 'cursorLifetime' })).toThrow(MongoInvalidArgumentError);
  expect(() => db().runCursorCommand({ find: 'coll' }, { timeoutMS: 100, timeoutMode: 'cursorLifetime', cursorType: 'tailableAwait' })).toThrow(MongoInvalidArgumentError);
  expect(() => db().runCursorCommand({ find: 'coll' }, { cursorType: 'sideways' as never })).toThrow(MongoInvalidArgumentError);
  expect(() => db().runCursorCommand({ find: 'coll' }, { timeoutMS: 100, maxTimeMS: 10 })).toThrow(MongoInvalidArgumentError);
  expect(() => db().runCursorCommand({ find: 'coll' }, { timeoutMS: 100 }).setMaxTimeMS(10)).toThrow(MongoInvalidArgumentError);
});
