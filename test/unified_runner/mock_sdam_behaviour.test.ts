/**
 * The mock deployment's behaviour for the SDAM unified tests: `failCommand` on hello/isMaster
 * reaches monitoring connections (handshake and streamed replies, filtered by appName),
 * `$where: "sleep(N) || true"` blocks a find, and `replSetStepDown` moves the primary.
 */
import type { Document } from 'bson';
import { MongoClient } from '../../src/index';
import { MockDeployment } from '../../spec-tests/unified/mock_deployment';

function waitFor(what: string, done: () => boolean, timeoutMS = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMS;
  return new Promise((resolve, reject) => {
    const poll = (): void => {
      if (done()) resolve();
      else if (Date.now() > deadline) reject(new Error(`timed out waiting for ${what}`));
      else setTimeout(poll, 10);
    };
    poll();
  });
}

describe('mock deployment SDAM behaviour', () => {
  let deployment: MockDeployment;
  const clients: MongoClient[] = [];

  const connect = async (uriOptions: string, options: Document = {}): Promise<{ client: MongoClient; events: Array<{ name: string; event: Document }> }> => {
    const client = new MongoClient(`${deployment.clientUri()}${deployment.clientUri().includes('?') ? '&' : '?'}${uriOptions}`, { serverSelectionTimeoutMS: 5_000, ...options });
    clients.push(client);
    const events: Array<{ name: string; event: Document }> = [];
    for (const name of ['serverHeartbeatFailed', 'serverHeartbeatSucceeded', 'serverDescriptionChanged']) {
      client.on(name as 'serverHeartbeatFailed', (event: unknown) => events.push({ name, event: event as Document }));
    }
    await client.connect();
    return { client, events };
  };

  afterEach(async () => {
    for (const client of clients.splice(0)) await client.close();
    await deployment.close();
  });

  test('a hello fail point closes monitoring connections of the named application only', async () => {
    deployment = await MockDeployment.start('single');
    const setup = await connect('appname=setup');
    const target = await connect('appname=target&heartbeatFrequencyMS=500');
    const other = await connect('appname=other&heartbeatFrequencyMS=500');
    await setup.client.db('admin').command({
      configureFailPoint: 'failCommand',
      mode: { times: 2 },
      data: { failCommands: ['hello', 'isMaster'], appName: 'target', closeConnection: true }
    });
    await waitFor('a failed heartbeat', () => target.events.some((e) => e.name === 'serverHeartbeatFailed'));
    await waitFor('the server marked Unknown', () =>
      target.events.some((e) => e.name === 'serverDescriptionChanged' && (e.event.newDescription as Document).type === 'Unknown')
    );
    // The fail point is used up: the monitor recovers.
    await waitFor('a recovered server', () => target.client.topologyDescription?.type === 'Single' && [...target.client.topologyDescription.servers.values()][0].type === 'Standalone');
    expect(other.events.some((e) => e.name === 'serverHeartbeatFailed')).toBe(false);
  });

  test('a hello fail point with errorCode fails the handshake of new connections', async () => {
    deployment = await MockDeployment.start('single');
    const setup = await connect('appname=setup');
    await setup.client.db('admin').command({
      configureFailPoint: 'failCommand',
      mode: 'alwaysOn',
      data: { failCommands: ['hello', 'isMaster'], appName: 'handshake', errorCode: 91 }
    });
    const client = new MongoClient(`${deployment.clientUri()}?appname=handshake&serverMonitoringMode=poll`, { serverSelectionTimeoutMS: 300 });
    clients.push(client);
    await expect(client.connect()).rejects.toThrow(/ShutdownInProgress|Server selection timed out/);
    expect(deployment.servers[0].hellos().filter((h) => (h.body.client as Document | undefined)?.application?.name === 'handshake').length).toBeGreaterThan(0);
  });

  test('a find filtering on $where: "sleep(N) || true" answers after N ms', async () => {
    deployment = await MockDeployment.start('single');
    const { client } = await connect('appname=sleeper');
    const started = Date.now();
    await client.db('d').command({ find: 'c', filter: { $where: 'sleep(300) || true' } });
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
  });

  test('an update whose filter is $where: "sleep(N) || true" answers after N ms and updates as if the filter matched all', async () => {
    deployment = await MockDeployment.start('single');
    await deployment.prepareCollection({ databaseName: 'd', collectionName: 'c', documents: [{ _id: 1 }] });
    const { client } = await connect('appname=sleeper');
    const started = Date.now();
    const reply = await client.db('d').command({ update: 'c', updates: [{ q: { $where: 'sleep(300) || true' }, u: { $set: { a: 1 } } }] });
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(reply).toMatchObject({ n: 1, nModified: 1 });
    expect(await deployment.readCollection('d', 'c')).toEqual([{ _id: 1, a: 1 }]);
  });

  test('failCommand lists isMaster or ismaster: both spellings of the handshake match', async () => {
    deployment = await MockDeployment.start('single');
    const setup = await connect('appname=setup');
    await setup.client.db('admin').command({
      configureFailPoint: 'failCommand',
      mode: 'alwaysOn',
      data: { failCommands: ['ismaster'], appName: 'legacy', errorCode: 91 }
    });
    const client = new MongoClient(`${deployment.clientUri()}?appname=legacy&serverMonitoringMode=poll`, { serverSelectionTimeoutMS: 300 });
    clients.push(client);
    // mongowire's handshake is `isMaster` (camel case): the lower-case alias in the fail point matches it.
    await expect(client.connect()).rejects.toThrow(/ShutdownInProgress|Server selection timed out/);
  });

  test('replSetStepDown on the primary elects the next member; elsewhere it fails with NotWritablePrimary', async () => {
    deployment = await MockDeployment.start('replicaset');
    const { client } = await connect('appname=stepdown&heartbeatFrequencyMS=60000');
    const primary = (): string | undefined =>
      [...(client.topologyDescription?.servers.values() ?? [])].find((s) => s.type === 'RSPrimary')?.address;
    await waitFor('a primary', () => primary() !== undefined);
    const before = primary();
    await expect(client.db('admin').command({ replSetFreeze: 0 }, { readPreference: 'secondary' })).resolves.toMatchObject({ ok: 1 });
    await client.db('admin').command({ replSetStepDown: 30, force: false });
    // Streaming monitors learn the new primary without waiting for heartbeatFrequencyMS.
    await waitFor('a new primary', () => primary() !== undefined && primary() !== before, 3_000);
    const secondary = deployment.servers.find((s) => s.address === before);
    expect(secondary?.state.type).toBe('secondary');
    await expect(client.db('admin').command({ replSetStepDown: 30 }, { readPreference: 'secondary' })).rejects.toMatchObject({ code: 10107 });
  });
});
