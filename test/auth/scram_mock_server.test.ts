/**
 * SCRAM through MongoClient over real TCP: the mock server answers hello (with speculative auth),
 * saslStart and saslContinue through the in-process ScramServer. Each failure case asserts the
 * error and that the server saw the authenticating socket closed.
 */
import { MongoClient } from '../../src/mongo_client';
import { MongoAuthenticationError, MongoServerError } from '../../src/errors';
import { MockServer } from '../tools/mock_server';
import { ScramServer, type ScramServerOptions } from '../tools/scram_server';

const USER = { username: 'alice', password: 'correct horse battery staple' };

async function start(options: Partial<ScramServerOptions> = {}): Promise<{ server: MockServer; scram: ScramServer }> {
  const scram = new ScramServer({ users: [USER], ...options });
  const server = await MockServer.start({ saslSupportedMechs: ['SCRAM-SHA-1', 'SCRAM-SHA-256'] });
  const hello = (request: { body: Record<string, unknown> }, ctx: { connectionId: number }) => ({
    ...server.helloReply(request.body, ctx.connectionId),
    ...scram.helloFields(request.body)
  });
  for (const name of ['hello', 'isMaster']) server.setHandler(name, hello);
  for (const name of ['saslStart', 'saslContinue']) {
    server.setHandler(name, (request) => scram.handleCommand(request.db, request.body));
  }
  return { server, scram };
}

function uri(server: MockServer, password = USER.password, mechanism?: string): string {
  const mech = mechanism ? `&authMechanism=${mechanism}` : '';
  return `mongodb://${USER.username}:${encodeURIComponent(password)}@${server.address}/?directConnection=true&serverMonitoringMode=poll&serverSelectionTimeoutMS=2000${mech}`;
}

/** Runs a ping and returns what happened plus the ids of the connections that tried to authenticate. */
async function ping(server: MockServer, url: string) {
  const client = new MongoClient(url);
  try {
    const result = await client.db('admin').command({ ping: 1 }).then(
      (reply) => ({ reply, error: undefined }),
      (error: unknown) => ({ reply: undefined, error: error as Error })
    );
    const authConnections = [...new Set(server.commands('saslStart').map((c) => c.connectionId))];
    const speculative = server.hellos().filter((h) => h.body.speculativeAuthenticate !== undefined).map((h) => h.connectionId);
    return { ...result, authConnections: [...new Set([...authConnections, ...speculative])] };
  } finally {
    await client.close();
  }
}

async function expectClosed(server: MockServer, connectionIds: number[]): Promise<void> {
  expect(connectionIds.length).toBeGreaterThan(0);
  for (const id of connectionIds) await server.waitForConnectionClose(id);
  for (const id of connectionIds) expect(server.isConnectionClosed(id)).toBe(true);
}

describe.each(['SCRAM-SHA-256', 'SCRAM-SHA-1'])('%s over TCP', (mechanism) => {
  test('success (explicit mechanism)', async () => {
    const { server, scram } = await start();
    try {
      const { reply, error } = await ping(server, uri(server, USER.password, mechanism));
      expect(error).toBeUndefined();
      expect(reply?.ok).toBe(1);
      expect(scram.authenticated.length).toBeGreaterThan(0);
    } finally {
      await server.close();
    }
  });

  test('wrong password: code 18, message names user and mechanism, not the password; socket closed', async () => {
    const { server } = await start();
    try {
      const { error, authConnections } = await ping(server, uri(server, 'not-the-password-xyz', mechanism));
      expect(error).toBeInstanceOf(MongoServerError);
      expect((error as MongoServerError).code).toBe(18);
      expect(error?.message).toContain('alice');
      expect(error?.message).toContain(mechanism);
      expect(error?.message).not.toContain('not-the-password-xyz');
      await expectClosed(server, authConnections);
    } finally {
      await server.close();
    }
  });

  test.each([
    ['a tampered server signature', { tamperServerSignature: true }, /server signature/i],
    ['a server nonce that does not extend the client nonce', { nonceNotExtendingClient: true }, /nonce/i],
    ['a too-low iteration count', { iterationCount: 1000 }, /iteration/i]
  ])('rejects %s with MongoAuthenticationError and closes the socket', async (_name, options, pattern) => {
    const { server } = await start(options);
    try {
      const { error, authConnections } = await ping(server, uri(server, USER.password, mechanism));
      expect(error).toBeInstanceOf(MongoAuthenticationError);
      expect(error?.message).toMatch(pattern);
      expect(error?.message).not.toContain(USER.password);
      await expectClosed(server, authConnections);
    } finally {
      await server.close();
    }
  });
});

describe('speculative authentication over TCP', () => {
  test('success: the conversation starts in hello and needs one round trip less', async () => {
    const { server, scram } = await start();
    try {
      const { error } = await ping(server, uri(server));
      expect(error).toBeUndefined();
      const speculativeHellos = server.hellos().filter((h) => h.body.speculativeAuthenticate !== undefined);
      expect(speculativeHellos.length).toBeGreaterThan(0);
      expect(server.commands('saslStart')).toHaveLength(0);
      expect(server.commands('saslContinue').length).toBeGreaterThan(0);
      expect(scram.authenticated.length).toBeGreaterThan(0);
    } finally {
      await server.close();
    }
  });

  test('fallback: a server that ignores speculativeAuthenticate gets a normal conversation', async () => {
    const { server } = await start({ supportsSpeculativeAuthenticate: false });
    try {
      const { error } = await ping(server, uri(server));
      expect(error).toBeUndefined();
      expect(server.commands('saslStart').length).toBeGreaterThan(0);
    } finally {
      await server.close();
    }
  });

  test('monitoring connections never authenticate', async () => {
    const { server } = await start();
    try {
      const client = new MongoClient(uri(server));
      await client.connect();
      await client.close();
      const monitorHello = server.hellos()[0];
      expect(monitorHello.body.speculativeAuthenticate).toBeUndefined();
      expect(monitorHello.body.saslSupportedMechs).toBeUndefined();
    } finally {
      await server.close();
    }
  });
});
