/**
 * SCRAM over MongoDB's SASL commands: the spec's example conversations byte for byte, and full
 * conversations against the in-process SCRAM server (success, failures, speculative auth, cache).
 */
import { Binary, type Document } from 'bson';
import { MongoAuthenticationError, MongoServerError } from '../../src/errors';
import type { AuthConnection, AuthContext } from '../../src/auth/auth_provider';
import { MongoCredentials, type AuthMechanismName } from '../../src/auth/mongo_credentials';
import { prepareScramPassword, ScramProvider } from '../../src/auth/scram';
import { ScramKeyCache, type ScramMechanism } from '../../src/auth/scram_key_cache';
import { ScramServer } from '../tools/scram_server';

function creds(username: string, password: string, mechanism: AuthMechanismName = 'DEFAULT', source = 'admin'): MongoCredentials {
  return new MongoCredentials({ username, password, source, mechanism, mechanismProperties: {} });
}

/** A connection that answers with scripted replies and records what it was sent. */
function scripted(replies: Document[]): AuthConnection & { sent: Array<{ db: string; cmd: Document }> } {
  const sent: Array<{ db: string; cmd: Document }> = [];
  return {
    address: 'scripted:27017',
    sent,
    async command(db, cmd) {
      sent.push({ db, cmd });
      const reply = replies.shift();
      if (!reply) throw new Error('unexpected command');
      return reply;
    }
  };
}

const b64 = (value: unknown) => Buffer.from((value as Binary).value()).toString('base64');
const bin = (base64: string) => new Binary(Buffer.from(base64, 'base64'));

async function expectFailure(promise: Promise<unknown>): Promise<Error> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e
  );
  expect(error).toBeInstanceOf(Error);
  return error as Error;
}

describe('SCRAM over MongoDB SASL: the spec example conversations', () => {
  it('SCRAM-SHA-1 (MD5-digested password) matches the spec payloads byte for byte', async () => {
    expect(prepareScramPassword('SCRAM-SHA-1', 'user', 'pencil')).toMatch(/^[0-9a-f]{32}$/);
    const connection = scripted([
      { conversationId: 1, payload: bin('cj1meWtvK2QybGJiRmdPTlJ2OXFreGRhd0xIbytWZ2s3cXZVT0tVd3VXTElXZzRsLzlTcmFHTUhFRSxzPXJROVpZM01udEJldVAzRTFURFZDNHc9PSxpPTEwMDAw'), done: false, ok: 1 },
      { conversationId: 1, payload: bin('dj1VTVdlSTI1SkQxeU5ZWlJNcFo0Vkh2aFo5ZTA9'), done: true, ok: 1 }
    ]);
    const provider = new ScramProvider('SCRAM-SHA-1', { nonce: () => 'fyko+d2lbbFgONRv9qkxdawL', keyCache: new ScramKeyCache() });
    await provider.auth({ connection, credentials: creds('user', 'pencil', 'SCRAM-SHA-1') });

    const [start, cont] = connection.sent;
    expect(start.db).toBe('admin');
    expect(start.cmd).toMatchObject({ saslStart: 1, mechanism: 'SCRAM-SHA-1', options: { skipEmptyExchange: true } });
    expect(b64(start.cmd.payload)).toBe('biwsbj11c2VyLHI9ZnlrbytkMmxiYkZnT05Sdjlxa3hkYXdM');
    expect(cont.cmd).toMatchObject({ saslContinue: 1, conversationId: 1 });
    expect(b64(cont.cmd.payload)).toBe(
      'Yz1iaXdzLHI9ZnlrbytkMmxiYkZnT05Sdjlxa3hkYXdMSG8rVmdrN3F2VU9LVXd1V0xJV2c0bC85U3JhR01IRUUscD1NQzJUOEJ2Ym1XUmNrRHc4b1dsNUlWZ2h3Q1k9'
    );
    expect(connection.sent).toHaveLength(2);
  });

  it('SCRAM-SHA-256 matches the spec payloads byte for byte', async () => {
    const connection = scripted([
      { conversationId: 1, payload: bin('cj1yT3ByTkdmd0ViZVJXZ2JORWtxTyVodllEcFdVYTJSYVRDQWZ1eEZJbGopaE5sRiRrMCxzPVcyMlphSjBTTlk3c29Fc1VFamI2Z1E9PSxpPTQwOTY='), done: false, ok: 1 },
      { conversationId: 1, payload: bin('dj02cnJpVFJCaTIzV3BSUi93dHVwK21NaFVaVW4vZEI1bkxUSlJzamw5NUc0PQ=='), done: true, ok: 1 }
    ]);
    const provider = new ScramProvider('SCRAM-SHA-256', { nonce: () => 'rOprNGfwEbeRWgbNEkqO', keyCache: new ScramKeyCache() });
    await provider.auth({ connection, credentials: creds('user', 'pencil', 'SCRAM-SHA-256') });
    const [start, cont] = connection.sent;
    expect(start.cmd).toMatchObject({ saslStart: 1, mechanism: 'SCRAM-SHA-256', options: { skipEmptyExchange: true } });
    expect(b64(start.cmd.payload)).toBe('biwsbj11c2VyLHI9ck9wck5HZndFYmVSV2diTkVrcU8=');
    expect(b64(cont.cmd.payload)).toBe(
      'Yz1iaXdzLHI9ck9wck5HZndFYmVSV2diTkVrcU8laHZZRHBXVWEyUmFUQ0FmdXhGSWxqKWhObEYkazAscD1kSHpiWmFwV0lrNGpVaE4rVXRlOXl0YWc5empmTUhnc3FtbWl6N0FuZFZRPQ=='
    );
  });

  it('sends the final empty saslContinue when the server answers done: false (backwards compatibility)', async () => {
    const connection = scripted([
      { conversationId: 1, payload: bin('cj1meWtvK2QybGJiRmdPTlJ2OXFreGRhd0xIbytWZ2s3cXZVT0tVd3VXTElXZzRsLzlTcmFHTUhFRSxzPXJROVpZM01udEJldVAzRTFURFZDNHc9PSxpPTEwMDAw'), done: false, ok: 1 },
      { conversationId: 1, payload: bin('dj1VTVdlSTI1SkQxeU5ZWlJNcFo0Vkh2aFo5ZTA9'), done: false, ok: 1 },
      { conversationId: 1, payload: bin(''), done: true, ok: 1 }
    ]);
    const provider = new ScramProvider('SCRAM-SHA-1', { nonce: () => 'fyko+d2lbbFgONRv9qkxdawL' });
    await provider.auth({ connection, credentials: creds('user', 'pencil', 'SCRAM-SHA-1') });
    expect(connection.sent).toHaveLength(3);
    expect(connection.sent[2].cmd).toMatchObject({ saslContinue: 1, conversationId: 1 });
    expect((connection.sent[2].cmd.payload as Binary).value()).toHaveLength(0);
  });

  it('accepts base64-string payloads in replies', async () => {
    const connection = scripted([
      { conversationId: 1, payload: 'cj1yT3ByTkdmd0ViZVJXZ2JORWtxTyVodllEcFdVYTJSYVRDQWZ1eEZJbGopaE5sRiRrMCxzPVcyMlphSjBTTlk3c29Fc1VFamI2Z1E9PSxpPTQwOTY=', done: false, ok: 1 },
      { conversationId: 1, payload: 'dj02cnJpVFJCaTIzV3BSUi93dHVwK21NaFVaVW4vZEI1bkxUSlJzamw5NUc0PQ==', done: true, ok: 1 }
    ]);
    const provider = new ScramProvider('SCRAM-SHA-256', { nonce: () => 'rOprNGfwEbeRWgbNEkqO' });
    await expect(provider.auth({ connection, credentials: creds('user', 'pencil', 'SCRAM-SHA-256') })).resolves.toBeUndefined();
  });

  it('turns a raw ok: 0 reply into a wrapped server error', async () => {
    const connection = scripted([{ ok: 0, code: 18, codeName: 'AuthenticationFailed', errmsg: 'Authentication failed.' }]);
    const error = await expectFailure(new ScramProvider('SCRAM-SHA-256').auth({ connection, credentials: creds('bob', 's3cr3t!', 'SCRAM-SHA-256') }));
    expect(error).toBeInstanceOf(MongoServerError);
    expect((error as MongoServerError).code).toBe(18);
    expect(error.message).toContain('Authentication failed for user "bob" with mechanism SCRAM-SHA-256');
  });
});

describe.each<ScramMechanism>(['SCRAM-SHA-1', 'SCRAM-SHA-256'])('%s against the in-process SCRAM server', mechanism => {
  const PASSWORD = 'p@ss,w=rd Ⅳ';
  const users = [
    { username: 'alice', password: PASSWORD },
    { username: 'we=ird,name', password: PASSWORD, db: 'app' }
  ];

  it('authenticates (skipEmptyExchange: two round trips)', async () => {
    const server = new ScramServer({ users });
    const connection = server.connection();
    await new ScramProvider(mechanism).auth({ connection, credentials: creds('alice', PASSWORD, mechanism) });
    expect(server.authenticated).toEqual([{ db: 'admin', username: 'alice', mechanism }]);
    expect(connection.commands).toHaveLength(2);
  });

  it('authenticates a user whose name needs escaping, on its own source database', async () => {
    const server = new ScramServer({ users });
    await new ScramProvider(mechanism).auth({ connection: server.connection(), credentials: creds('we=ird,name', PASSWORD, mechanism, 'app') });
    expect(server.authenticated).toEqual([{ db: 'app', username: 'we=ird,name', mechanism }]);
  });

  it('authenticates with a server that ignores skipEmptyExchange (three round trips)', async () => {
    const server = new ScramServer({ users, supportsSkipEmptyExchange: false });
    const connection = server.connection();
    await new ScramProvider(mechanism).auth({ connection, credentials: creds('alice', PASSWORD, mechanism) });
    expect(connection.commands).toHaveLength(3);
    expect(server.authenticated).toHaveLength(1);
  });

  it('fails with code 18, naming user and mechanism but never the password, on a wrong password', async () => {
    const server = new ScramServer({ users });
    const wrong = 'Wr0ngPassw0rd';
    const error = await expectFailure(new ScramProvider(mechanism).auth({ connection: server.connection(), credentials: creds('alice', wrong, mechanism) }));
    expect(error).toBeInstanceOf(MongoServerError);
    expect((error as MongoServerError).code).toBe(18);
    expect((error as MongoServerError).codeName).toBe('AuthenticationFailed');
    expect(error.message).toBe(`Authentication failed for user "alice" with mechanism ${mechanism}: Authentication failed.`);
    expect((error.cause as MongoServerError).code).toBe(18);
    expect(error.message).not.toContain(wrong);
    expect(JSON.stringify(error)).not.toContain(wrong);
    expect(server.authenticated).toHaveLength(0);
  });

  it('fails for an unknown user', async () => {
    const server = new ScramServer({ users });
    const error = await expectFailure(new ScramProvider(mechanism).auth({ connection: server.connection(), credentials: creds('mallory', PASSWORD, mechanism) }));
    expect((error as MongoServerError).code).toBe(18);
    expect(error.message).toContain('"mallory"');
  });

  it('rejects a tampered server signature', async () => {
    const server = new ScramServer({ users, tamperServerSignature: true });
    const error = await expectFailure(new ScramProvider(mechanism).auth({ connection: server.connection(), credentials: creds('alice', PASSWORD, mechanism) }));
    expect(error).toBeInstanceOf(MongoAuthenticationError);
    expect(error.message).toMatch(new RegExp(`^Authentication failed for user "alice" with mechanism ${mechanism}: server signature is invalid`));
    expect(error.message).not.toContain(PASSWORD);
  });

  it('rejects a server nonce that does not extend the client nonce, before sending a proof', async () => {
    const server = new ScramServer({ users, nonceNotExtendingClient: true });
    const connection = server.connection();
    const error = await expectFailure(new ScramProvider(mechanism).auth({ connection, credentials: creds('alice', PASSWORD, mechanism) }));
    expect(error).toBeInstanceOf(MongoAuthenticationError);
    expect(error.message).toContain('server nonce does not extend the client nonce');
    expect(connection.commands).toHaveLength(1);
  });

  it('rejects an iteration count below 4096', async () => {
    const server = new ScramServer({ users, iterationCount: 1000 });
    const connection = server.connection();
    const error = await expectFailure(new ScramProvider(mechanism).auth({ connection, credentials: creds('alice', PASSWORD, mechanism) }));
    expect(error).toBeInstanceOf(MongoAuthenticationError);
    expect(error.message).toContain('iteration count 1000 is below the minimum of 4096');
    expect(connection.commands).toHaveLength(1);
  });

  it('speculative authentication: continues from the hello reply (one round trip less)', async () => {
    const server = new ScramServer({ users });
    const connection = server.connection();
    const provider = new ScramProvider(mechanism);
    const ctx: AuthContext = { connection, credentials: creds('alice', PASSWORD, mechanism) };
    const hello = await provider.prepareHandshake({ hello: 1 }, ctx);
    expect(hello.speculativeAuthenticate).toMatchObject({ saslStart: 1, mechanism, db: 'admin', options: { skipEmptyExchange: true } });
    ctx.hello = await connection.command('admin', hello);
    expect(ctx.hello.speculativeAuthenticate).toMatchObject({ conversationId: expect.any(Number), done: false });
    await provider.auth(ctx);
    expect(connection.commands.map(c => Object.keys(c)[0])).toEqual(['hello', 'saslContinue']);
    expect(server.authenticated).toEqual([{ db: 'admin', username: 'alice', mechanism }]);
    expect(ctx.speculative).toBeUndefined();
  });

  it('speculative authentication: falls back to a full conversation when the reply lacks it', async () => {
    const server = new ScramServer({ users, supportsSpeculativeAuthenticate: false });
    const connection = server.connection();
    const provider = new ScramProvider(mechanism);
    const ctx: AuthContext = { connection, credentials: creds('alice', PASSWORD, mechanism) };
    ctx.hello = await connection.command('admin', await provider.prepareHandshake({ hello: 1 }, ctx));
    expect(ctx.hello.speculativeAuthenticate).toBeUndefined();
    await provider.auth(ctx);
    expect(connection.commands.map(c => Object.keys(c)[0])).toEqual(['hello', 'saslStart', 'saslContinue']);
    expect(server.authenticated).toHaveLength(1);
  });

  it('runs PBKDF2 once for many pooled connections (key cache hit)', async () => {
    const server = new ScramServer({ users });
    const cache = new ScramKeyCache();
    const provider = new ScramProvider(mechanism, { keyCache: cache });
    await Promise.all(Array.from({ length: 20 }, () => provider.auth({ connection: server.connection(), credentials: creds('alice', PASSWORD, mechanism) })));
    await provider.auth({ connection: server.connection(), credentials: creds('alice', PASSWORD, mechanism) });
    expect(server.authenticated).toHaveLength(21);
    expect(cache.derivations).toBe(1);
  });
});

describe('SCRAM password preparation', () => {
  it('SASLprep-normalizes SCRAM-SHA-256 passwords (spec test plan step 4)', async () => {
    const server = new ScramServer({
      users: [
        { username: 'IX', password: 'IX', mechanisms: ['SCRAM-SHA-256'] },
        { username: '\u2168', password: '\u2163', mechanisms: ['SCRAM-SHA-256'] }
      ]
    });
    const provider = new ScramProvider('SCRAM-SHA-256');
    for (const [user, password] of [
      ['IX', 'IX'],
      ['IX', 'I\u00ADX'],
      ['\u2168', 'IV'],
      ['\u2168', 'I\u00ADV']
    ]) {
      await provider.auth({ connection: server.connection(), credentials: creds(user, password, 'SCRAM-SHA-256') });
    }
    expect(server.authenticated.map(a => a.username)).toEqual(['IX', 'IX', '\u2168', '\u2168']);
  });

  it('does not SASLprep SCRAM-SHA-1 passwords', () => {
    expect(prepareScramPassword('SCRAM-SHA-1', 'IX', 'I\u00ADX')).not.toBe(prepareScramPassword('SCRAM-SHA-1', 'IX', 'IX'));
    expect(prepareScramPassword('SCRAM-SHA-256', 'IX', 'I\u00ADX')).toBe('IX');
  });

  it('reports a password SASLprep prohibits without echoing it', async () => {
    const bad = 'bad\u0007pass';
    const error = await expectFailure(new ScramProvider('SCRAM-SHA-256').auth({ connection: scripted([]), credentials: creds('alice', bad, 'SCRAM-SHA-256') }));
    expect(error.message).toContain('"alice"');
    expect(error.message).not.toContain(bad);
  });

  it('requires a username and a password', async () => {
    const noUser = new MongoCredentials({ password: 'x', source: 'admin', mechanism: 'SCRAM-SHA-256', mechanismProperties: {} });
    await expect(new ScramProvider('SCRAM-SHA-256').auth({ connection: scripted([]), credentials: noUser })).rejects.toThrow(/username is required/);
    const noPassword = new MongoCredentials({ username: 'alice', source: 'admin', mechanism: 'SCRAM-SHA-256', mechanismProperties: {} });
    await expect(new ScramProvider('SCRAM-SHA-256').auth({ connection: scripted([]), credentials: noPassword })).rejects.toThrow(/password is required/);
  });
});
