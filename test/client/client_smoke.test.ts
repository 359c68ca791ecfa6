import { MongoClient } from '../../src/mongo_client';
import { MockServer } from '../tools/mock_server';

describe('MongoClient against the mock server', () => {
  let server: MockServer;
  beforeEach(async () => {
    server = await MockServer.start({ helloExtra: { logicalSessionTimeoutMinutes: 30 } });
  });
  afterEach(async () => {
    await server.close();
  });

  test('connect, run a command, close', async () => {
    const client = new MongoClient(`mongodb://${server.address}/?directConnection=true&heartbeatFrequencyMS=500`);
    await client.connect();
    const reply = await client.db('admin').command({ ping: 1 });
    expect(reply.ok).toBe(1);
    const ping = server.lastCommand('ping');
    expect(ping?.db).toBe('admin');
    expect(ping?.body.lsid).toBeDefined();
    expect(client.isPrimary).toBe(true);
    await client.close();
    expect(server.commands('endSessions')).toHaveLength(1);
  });
});
