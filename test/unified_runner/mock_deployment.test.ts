/** The mock deployment's command answers and fail points, through a real driver (mongowire). */
import { EJSON } from 'bson';
import { MongoClient } from '../../src/index';
import { MockDeployment } from '../../spec-tests/unified/mock_deployment';

describe('mock deployment', () => {
  let deployment: MockDeployment;
  let client: MongoClient;

  beforeEach(async () => {
    deployment = await MockDeployment.start('replicaset');
    client = new MongoClient(`${deployment.clientUri()}&appname=runnerTest&heartbeatFrequencyMS=500`, { serverSelectionTimeoutMS: 3000 });
    await client.connect();
  });
  afterEach(async () => {
    await client.close();
    await deployment.close();
  });

  const admin = () => client.db('admin');

  test('stores writes and answers finds, counts and listings from them', async () => {
    await deployment.prepareCollection({ databaseName: 'd', collectionName: 'c', documents: [{ _id: 1, x: 1 }] });
    await client.db('d').command({ insert: 'c', documents: [{ _id: 2, x: 2 }, { _id: 3, x: 3 }] });
    const reply = await client.db('d').command({ find: 'c', filter: { x: { $gte: 2 } }, sort: { _id: -1 } });
    expect(reply.cursor.firstBatch).toEqual([{ _id: 3, x: 3 }, { _id: 2, x: 2 }]);
    expect((await client.db('d').command({ count: 'c', query: {} })).n).toBe(3);
    expect(EJSON.stringify(await deployment.readCollection('d', 'c'))).toBe('[{"_id":1,"x":1},{"_id":2,"x":2},{"_id":3,"x":3}]');
    expect(await deployment.collectionExists('d', 'c')).toBe(true);
  });

  test('failCommand with times fails that many commands with the code and labels, then stops', async () => {
    await admin().command({ configureFailPoint: 'failCommand', mode: { times: 1 }, data: { failCommands: ['ping'], errorCode: 91, errorLabels: ['X'] } });
    await expect(admin().command({ ping: 1 })).rejects.toMatchObject({ code: 91, codeName: 'ShutdownInProgress', errorLabels: ['X'] });
    await expect(admin().command({ ping: 1 })).resolves.toMatchObject({ ok: 1 });
  });

  test('failCommand with skip lets the first commands through', async () => {
    await admin().command({ configureFailPoint: 'failCommand', mode: { skip: 1 }, data: { failCommands: ['ping'], errorCode: 2 } });
    await expect(admin().command({ ping: 1 })).resolves.toMatchObject({ ok: 1 });
    await expect(admin().command({ ping: 1 })).rejects.toMatchObject({ code: 2 });
  });

  test('failCommand honours appName and writeConcernError', async () => {
    await admin().command({ configureFailPoint: 'failCommand', mode: 'alwaysOn', data: { failCommands: ['ping'], errorCode: 2, appName: 'someone else' } });
    await expect(admin().command({ ping: 1 })).resolves.toMatchObject({ ok: 1 });
    await admin().command({ configureFailPoint: 'failCommand', mode: 'alwaysOn', data: { failCommands: ['ping'], writeConcernError: { code: 64, errmsg: 'wc' }, appName: 'runnerTest' } });
    await expect(admin().command({ ping: 1 })).resolves.toMatchObject({ ok: 1, writeConcernError: { code: 64, errmsg: 'wc' } });
    await admin().command({ configureFailPoint: 'failCommand', mode: 'off' });
    await expect(admin().command({ ping: 1 })).resolves.not.toHaveProperty('writeConcernError');
  });

  test('failCommand closeConnection and blockConnection', async () => {
    await admin().command({ configureFailPoint: 'failCommand', mode: { times: 1 }, data: { failCommands: ['ping'], closeConnection: true } });
    await expect(admin().command({ ping: 1 })).rejects.toThrow(/closed/);
    await admin().command({ configureFailPoint: 'failCommand', mode: { times: 1 }, data: { failCommands: ['ping'], blockConnection: true, blockTimeMS: 200 } });
    const started = Date.now();
    await admin().command({ ping: 1 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
  });

  test('change streams see the writes made after they opened', async () => {
    const db = client.db('d');
    const opened = await db.command({ aggregate: 'c', pipeline: [{ $changeStream: {} }], cursor: {} });
    await db.command({ insert: 'c', documents: [{ _id: 7 }] });
    const more = await db.command({ getMore: opened.cursor.id, collection: 'c' });
    expect(more.cursor.nextBatch).toEqual([expect.objectContaining({ operationType: 'insert', documentKey: { _id: 7 }, ns: { db: 'd', coll: 'c' } })]);
    expect(more.cursor.postBatchResumeToken).toEqual({ _data: 'pos1' });
  });
});
