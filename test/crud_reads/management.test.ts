/** Database and client management helpers against the in-memory mock: commands sent and results. */
import { DBRef, type Document } from 'bson';
import { MongoClient } from '../../src/mongo_client';
import { MongoAPIError, MongoInvalidArgumentError, MongoUnexpectedServerResponseError } from '../../src/errors';
import { MockServer } from '../tools/mock_server';
import { MiniMongod } from '../tools/mini_mongod';

let server: MockServer;
let mini: MiniMongod;
let client: MongoClient;

beforeEach(async () => {
  server = await MockServer.start({ maxWireVersion: 25 });
  mini = new MiniMongod(server);
  mini.seed('db', 'coll', [{ _id: 1, a: 1 }, { _id: 2, a: 2 }]);
  mini.seed('other', 'people', [{ _id: 'p1', name: 'Ann' }]);
  client = new MongoClient(`mongodb://${server.address}/?directConnection=true`);
  await client.connect();
  server.clearRecords();
});

afterEach(async () => {
  await client.close();
  await server.close();
});

const last = (name: string): Document => server.lastCommand(name)?.body as Document;

it('createCollection returns the handle; listCollectionNames; dropCollection reports missing collections', async () => {
  const created = await client.db('db').createCollection('logs', { capped: true, size: 1024 });
  expect(created.collectionName).toBe('logs');
  expect(last('create')).toMatchObject({ create: 'logs', capped: true, size: 1024 });
  expect((await client.db('db').listCollectionNames()).sort()).toEqual(['coll', 'logs']);
  expect(last('listCollections')).toMatchObject({ listCollections: 1, nameOnly: true, filter: {} });
  expect(await created.isCapped()).toBe(true);
  expect(await client.db('db').dropCollection('logs')).toBe(true);
  expect(await client.db('db').dropCollection('logs')).toBe(false);
  await expect(client.db('db').collection('logs').options()).rejects.toBeInstanceOf(MongoAPIError);
});

it('createCollection rejects encryptedFields and invalid names before sending anything', async () => {
  await expect(client.db('db').createCollection('enc', { encryptedFields: {} })).rejects.toBeInstanceOf(MongoInvalidArgumentError);
  await expect(client.db('db').createCollection('bad$name')).rejects.toBeInstanceOf(MongoInvalidArgumentError);
  expect(server.nonHelloCommands()).toHaveLength(0);
});

it('renameCollection runs on admin with full namespaces', async () => {
  const renamed = await client.db('db').renameCollection('coll', 'coll2', { dropTarget: true });
  expect(renamed.collectionName).toBe('coll2');
  expect(server.lastCommand('renameCollection')?.db).toBe('admin');
  expect(last('renameCollection')).toMatchObject({ renameCollection: 'db.coll', to: 'db.coll2', dropTarget: true });
  expect(mini.contents('db', 'coll2')).toHaveLength(2);
});

it('dereference follows a DBRef (its $db when set) and returns null for a dangling one', async () => {
  expect(await client.db('db').dereference(new DBRef('coll', 2 as never))).toEqual({ _id: 2, a: 2 });
  expect(await client.db('db').dereference(new DBRef('people', 'p1' as never, 'other'))).toEqual({ _id: 'p1', name: 'Ann' });
  expect(server.lastCommand('find')?.db).toBe('other');
  expect(await client.db('db').dereference({ $ref: 'coll', $id: 99 })).toBeNull();
  await expect(client.db('db').dereference({ nope: 1 })).rejects.toBeInstanceOf(MongoInvalidArgumentError);
});

it('validateCollection sends validate with its options and raises on an invalid collection', async () => {
  expect(await client.db('db').validateCollection('coll', { full: true })).toMatchObject({ valid: true });
  expect(last('validate')).toMatchObject({ validate: 'coll', full: true });
  await expect(client.db('db').validateCollection('missing')).rejects.toBeInstanceOf(MongoUnexpectedServerResponseError);
});

it('stats, dropDatabase, listDatabases, listDatabaseNames, serverInfo', async () => {
  expect(await client.db('db').stats({ scale: 1024 })).toMatchObject({ db: 'db', collections: 1 });
  expect(last('dbStats')).toMatchObject({ dbStats: true, scale: 1024 });
  expect((await client.listDatabaseNames()).sort()).toEqual(['db', 'other']);
  const listed = await client.listDatabases({ filter: { name: 'db' }, authorizedDatabases: true });
  expect(listed.databases.map((d) => d.name)).toEqual(['db']);
  expect(last('listDatabases')).toMatchObject({ listDatabases: 1, filter: { name: 'db' }, authorizedDatabases: true });
  expect(server.lastCommand('listDatabases')?.db).toBe('admin');
  expect(await client.dropDatabase('other')).toBe(true);
  expect(await client.listDatabaseNames()).toEqual(['db']);
  expect((await client.serverInfo()).version).toBe('8.0.0');
  expect(server.lastCommand('buildinfo')?.db).toBe('admin');
});

it('aggregate with $out routes to a writable server and carries the write concern, not batchSize', async () => {
  const coll = client.db('db').collection('coll', { writeConcern: { w: 'majority' } });
  expect(await coll.aggregate([{ $match: {} }, { $out: 'copy' }], { batchSize: 5 }).toArray()).toEqual([]);
  expect(last('aggregate')).toMatchObject({ aggregate: 'coll', cursor: {}, writeConcern: { w: 'majority' } });
  expect(mini.contents('db', 'copy')).toHaveLength(2);
  await coll.aggregate([{ $match: {} }]).toArray();
  expect(last('aggregate').writeConcern).toBeUndefined();
});
