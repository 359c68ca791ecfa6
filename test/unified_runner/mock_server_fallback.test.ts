/** MockServer.setFallbackHandler: a catch-all for commands no handler name matches (hello keeps its default). */
import { MongoServerError } from '../../src/errors';
import { MongoClient } from '../../src/mongo_client';
import { MockServer } from '../tools/mock_server';

let server: MockServer;
let client: MongoClient;

beforeEach(async () => {
  server = await MockServer.start({ type: 'standalone' });
  client = new MongoClient(`mongodb://${server.address}/?directConnection=true`);
});

afterEach(async () => {
  await client.close();
  await server.close();
});

test('answers any unhandled command, while named handlers and the default hello still win', async () => {
  server.setFallbackHandler((request) => ({ ok: 1, answeredBy: 'fallback', name: request.commandName }));
  server.setHandler('ping', { ok: 1, answeredBy: 'ping handler' });
  const db = client.db('admin');
  expect(await db.command({ someNewCommand: 1 })).toMatchObject({ answeredBy: 'fallback', name: 'someNewCommand' });
  expect(await db.command({ count: 'c' })).toMatchObject({ answeredBy: 'fallback', name: 'count' });
  expect(await db.command({ ping: 1 })).toMatchObject({ answeredBy: 'ping handler' });
  // The handshake and the monitor's hellos were answered by the default hello, not the fallback.
  expect(server.hellos().length).toBeGreaterThan(0);
  expect(await db.command({ hello: 1 })).toMatchObject({ isWritablePrimary: true });
});

test('removing the fallback restores the built-in defaults (CommandNotFound for unknown names)', async () => {
  server.setFallbackHandler({ ok: 1 });
  await expect(client.db('admin').command({ someNewCommand: 1 })).resolves.toMatchObject({ ok: 1 });
  server.setFallbackHandler(undefined);
  await expect(client.db('admin').command({ someNewCommand: 1 })).rejects.toMatchObject({ code: 59 });
  await expect(client.db('admin').command({ someNewCommand: 1 })).rejects.toBeInstanceOf(MongoServerError);
});
