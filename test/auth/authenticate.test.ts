/**
 * The handshake-facing entry points: mechanism negotiation, prepareAuthHandshake + authenticate
 * end to end against the in-process SCRAM server, the provider registry, PLAIN, X.509, GSSAPI.
 */
import { Binary, type Document } from 'bson';
import { MongoCompatibilityError, MongoInvalidArgumentError, MongoServerError } from '../../src/errors';
import type { AuthConnection, AuthContext } from '../../src/auth/auth_provider';
import { getAuthProvider } from '../../src/auth/auth_provider_registry';
import { authenticate, prepareAuthHandshake } from '../../src/auth/authenticate';
import { resolveAuthMechanism, saslSupportedMechsFor } from '../../src/auth/mechanism_negotiation';
import { MongoCredentials, type AuthMechanismName } from '../../src/auth/mongo_credentials';
import { PlainProvider } from '../../src/auth/plain';
import { X509Provider } from '../../src/auth/x509';
import { ScramServer } from '../tools/scram_server';

function creds(options: { username?: string; password?: string; mechanism?: AuthMechanismName; source?: string }): MongoCredentials {
  return new MongoCredentials({
    username: options.username,
    password: options.password,
    source: options.source ?? 'admin',
    mechanism: options.mechanism ?? 'DEFAULT',
    mechanismProperties: {}
  });
}

function recording(reply: (db: string, cmd: Document) => Document): AuthConnection & { sent: Array<{ db: string; cmd: Document }> } {
  const sent: Array<{ db: string; cmd: Document }> = [];
  return {
    address: 'fake:27017',
    sent,
    async command(db, cmd) {
      sent.push({ db, cmd });
      return reply(db, cmd);
    }
  };
}

describe('mechanism negotiation', () => {
  const alice = creds({ username: 'alice', password: 'pw', source: 'app' });

  it('asks for saslSupportedMechs as <source>.<username> (raw username) only for DEFAULT', () => {
    expect(saslSupportedMechsFor(alice)).toBe('app.alice');
    expect(saslSupportedMechsFor(creds({ username: 'Ⅸ', password: 'pw' }))).toBe('admin.Ⅸ');
    expect(saslSupportedMechsFor(creds({ username: 'alice', password: 'pw', mechanism: 'SCRAM-SHA-1' }))).toBeUndefined();
    expect(saslSupportedMechsFor(creds({ mechanism: 'DEFAULT' }))).toBeUndefined();
  });

  it.each<[string, Document | undefined, string]>([
    ['both listed', { saslSupportedMechs: ['SCRAM-SHA-1', 'SCRAM-SHA-256'] }, 'SCRAM-SHA-256'],
    ['only SHA-256', { saslSupportedMechs: ['SCRAM-SHA-256'] }, 'SCRAM-SHA-256'],
    ['only SHA-1', { saslSupportedMechs: ['SCRAM-SHA-1'] }, 'SCRAM-SHA-1'],
    ['unknown mechanisms only', { saslSupportedMechs: ['PLAIN', 'FANCY-NEW'] }, 'SCRAM-SHA-1'],
    ['an empty list', { saslSupportedMechs: [] }, 'SCRAM-SHA-1'],
    ['an absent list', {}, 'SCRAM-SHA-1'],
    ['no hello reply', undefined, 'SCRAM-SHA-1'],
    ['a non-array value', { saslSupportedMechs: 'SCRAM-SHA-256' }, 'SCRAM-SHA-1']
  ])('DEFAULT with %s resolves to the right SCRAM', (_name, hello, expected) => {
    expect(resolveAuthMechanism(alice, hello)).toBe(expected);
  });

  it('always honours an explicit mechanism', () => {
    const sha1 = creds({ username: 'a', password: 'p', mechanism: 'SCRAM-SHA-1' });
    expect(resolveAuthMechanism(sha1, { saslSupportedMechs: ['SCRAM-SHA-256'] })).toBe('SCRAM-SHA-1');
    expect(resolveAuthMechanism(creds({ mechanism: 'MONGODB-X509', source: '$external' }), {})).toBe('MONGODB-X509');
  });
});

describe('prepareAuthHandshake + authenticate against the SCRAM server', () => {
  const users = [
    { username: 'sha1', password: 'sha1', mechanisms: ['SCRAM-SHA-1' as const] },
    { username: 'sha256', password: 'sha256', mechanisms: ['SCRAM-SHA-256' as const] },
    { username: 'both', password: 'both' }
  ];

  async function handshake(server: ScramServer, credentials: MongoCredentials) {
    const connection = server.connection();
    const ctx: AuthContext = { connection, credentials };
    const hello = await prepareAuthHandshake({ hello: 1, client: { driver: { name: 'mongowire' } } }, ctx);
    ctx.hello = await connection.command('admin', hello);
    await authenticate(ctx);
    return { hello, ctx, commands: connection.commands.map(c => Object.keys(c)[0]) };
  }

  it('DEFAULT: sends saslSupportedMechs and a SCRAM-SHA-256 speculative saslStart; negotiates SHA-256 speculatively', async () => {
    const server = new ScramServer({ users });
    const { hello, commands } = await handshake(server, creds({ username: 'both', password: 'both' }));
    expect(hello).toMatchObject({ hello: 1, client: { driver: { name: 'mongowire' } }, saslSupportedMechs: 'admin.both' });
    expect(hello.speculativeAuthenticate).toMatchObject({ saslStart: 1, mechanism: 'SCRAM-SHA-256', db: 'admin' });
    expect(commands).toEqual(['hello', 'saslContinue']);
    expect(server.authenticated).toEqual([{ db: 'admin', username: 'both', mechanism: 'SCRAM-SHA-256' }]);
  });

  it('DEFAULT: a SHA-1-only user negotiates SCRAM-SHA-1 with a full conversation', async () => {
    const server = new ScramServer({ users });
    const { commands } = await handshake(server, creds({ username: 'sha1', password: 'sha1' }));
    expect(commands).toEqual(['hello', 'saslStart', 'saslContinue']);
    expect(server.received.find(r => r.command.saslStart)?.command.mechanism).toBe('SCRAM-SHA-1');
    expect(server.authenticated).toEqual([{ db: 'admin', username: 'sha1', mechanism: 'SCRAM-SHA-1' }]);
  });

  it('DEFAULT: a SHA-256-only user authenticates speculatively', async () => {
    const server = new ScramServer({ users });
    const { commands } = await handshake(server, creds({ username: 'sha256', password: 'sha256' }));
    expect(commands).toEqual(['hello', 'saslContinue']);
    expect(server.authenticated[0].mechanism).toBe('SCRAM-SHA-256');
  });

  it('explicit mechanism: no saslSupportedMechs, speculation with that mechanism', async () => {
    const server = new ScramServer({ users });
    const { hello, commands } = await handshake(server, creds({ username: 'both', password: 'both', mechanism: 'SCRAM-SHA-1' }));
    expect(hello.saslSupportedMechs).toBeUndefined();
    expect(hello.speculativeAuthenticate).toMatchObject({ mechanism: 'SCRAM-SHA-1' });
    expect(commands).toEqual(['hello', 'saslContinue']);
    expect(server.authenticated[0].mechanism).toBe('SCRAM-SHA-1');
  });

  it('explicitly using a mechanism the user lacks fails like a bad password (spec test plan step 3)', async () => {
    const server = new ScramServer({ users });
    const error = await handshake(server, creds({ username: 'sha1', password: 'sha1', mechanism: 'SCRAM-SHA-256' })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MongoServerError);
    expect((error as MongoServerError).code).toBe(18);
  });

  it('a non-existent user with DEFAULT fails with the same error type as a wrong password', async () => {
    const server = new ScramServer({ users });
    const unknown = await handshake(server, creds({ username: 'nobody', password: 'x' })).catch((e: unknown) => e);
    const wrong = await handshake(server, creds({ username: 'both', password: 'wrong' })).catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(MongoServerError);
    expect(wrong).toBeInstanceOf(MongoServerError);
    expect((unknown as MongoServerError).code).toBe(18);
    expect((wrong as MongoServerError).code).toBe(18);
    expect((unknown as Error).message).toBe('Authentication failed for user "nobody" with mechanism SCRAM-SHA-1: Authentication failed.');
    expect((wrong as Error).message).toBe('Authentication failed for user "both" with mechanism SCRAM-SHA-256: Authentication failed.');
    expect((wrong as Error).message).not.toContain('wrong');
  });

  it('does nothing on an arbiter', async () => {
    const connection = recording(() => ({ ok: 1 }));
    await authenticate({ connection, credentials: creds({ username: 'a', password: 'b' }), hello: { arbiterOnly: true, ok: 1 } });
    expect(connection.sent).toHaveLength(0);
  });
});

describe('provider registry', () => {
  it('returns one provider per mechanism', () => {
    for (const mechanism of ['SCRAM-SHA-1', 'SCRAM-SHA-256', 'PLAIN', 'MONGODB-X509', 'MONGODB-AWS', 'GSSAPI']) {
      expect(getAuthProvider(mechanism)).toBe(getAuthProvider(mechanism));
    }
  });

  it('rejects DEFAULT, unknown and unsupported mechanisms clearly', () => {
    expect(() => getAuthProvider('DEFAULT')).toThrow(MongoInvalidArgumentError);
    expect(() => getAuthProvider('NOPE')).toThrow(/Unknown authentication mechanism "NOPE"/);
    expect(() => getAuthProvider('MONGODB-OIDC')).toThrow(MongoCompatibilityError);
    expect(() => getAuthProvider('MONGODB-CR')).toThrow(MongoCompatibilityError);
  });

  it('GSSAPI fails with a clear compatibility error', async () => {
    const connection = recording(() => ({ ok: 1 }));
    const credentials = creds({ username: 'user@REALM', mechanism: 'GSSAPI', source: '$external' });
    await expect(authenticate({ connection, credentials })).rejects.toThrow(new MongoCompatibilityError('GSSAPI (Kerberos) is not supported by mongowire'));
    expect(connection.sent).toHaveLength(0);
  });
});

describe('PLAIN', () => {
  it('sends one saslStart with \\0user\\0password on the source database', async () => {
    const connection = recording(() => ({ conversationId: 1, payload: new Binary(Buffer.alloc(0)), done: true, ok: 1 }));
    await new PlainProvider().auth({ connection, credentials: creds({ username: 'user', password: 'pencil', mechanism: 'PLAIN', source: '$external' }) });
    expect(connection.sent).toHaveLength(1);
    const { db, cmd } = connection.sent[0];
    expect(db).toBe('$external');
    expect(cmd).toMatchObject({ saslStart: 1, mechanism: 'PLAIN', autoAuthorize: 1 });
    expect(Buffer.from((cmd.payload as Binary).value()).toString('base64')).toBe('AHVzZXIAcGVuY2ls'); // the spec's example
  });

  it('uses a non-default source and reports failures without the password', async () => {
    const connection = recording(() => ({ ok: 0, code: 18, codeName: 'AuthenticationFailed', errmsg: 'Authentication failed.' }));
    const error = await new PlainProvider()
      .auth({ connection, credentials: creds({ username: 'ldapuser', password: 'hunter2', mechanism: 'PLAIN', source: 'ldapdb' }) })
      .catch((e: unknown) => e);
    expect(connection.sent[0].db).toBe('ldapdb');
    expect(error).toBeInstanceOf(MongoServerError);
    expect((error as MongoServerError).code).toBe(18);
    expect((error as Error).message).toBe('Authentication failed for user "ldapuser" with mechanism PLAIN: Authentication failed.');
    expect((error as Error).message).not.toContain('hunter2');
  });
});

describe('MONGODB-X509', () => {
  const subject = 'C=IS,ST=Reykjavik,L=Reykjavik,O=MongoDB,OU=Drivers,CN=client';

  it('sends authenticate on $external without user when no username is given', async () => {
    const connection = recording(() => ({ dbname: '$external', user: subject, ok: 1 }));
    await new X509Provider().auth({ connection, credentials: creds({ mechanism: 'MONGODB-X509', source: '$external' }) });
    expect(connection.sent).toEqual([{ db: '$external', cmd: { authenticate: 1, mechanism: 'MONGODB-X509' } }]);
  });

  it('sends the username as user when given', async () => {
    const connection = recording(() => ({ dbname: '$external', user: subject, ok: 1 }));
    await new X509Provider().auth({ connection, credentials: creds({ username: subject, mechanism: 'MONGODB-X509', source: '$external' }) });
    expect(connection.sent[0].cmd).toEqual({ authenticate: 1, mechanism: 'MONGODB-X509', user: subject });
  });

  it('speculative: the authenticate command rides in hello; a speculative reply means done', async () => {
    const connection = recording(() => ({ ok: 1 }));
    const ctx: AuthContext = { connection, credentials: creds({ mechanism: 'MONGODB-X509', source: '$external' }) };
    const hello = await prepareAuthHandshake({ hello: 1 }, ctx);
    expect(hello).toEqual({ hello: 1, speculativeAuthenticate: { authenticate: 1, mechanism: 'MONGODB-X509' } });
    ctx.hello = { ok: 1, speculativeAuthenticate: { dbname: '$external', user: subject } };
    await authenticate(ctx);
    expect(connection.sent).toHaveLength(0);
  });

  it('speculative fallback: no speculative reply means a normal authenticate', async () => {
    const connection = recording(() => ({ dbname: '$external', user: subject, ok: 1 }));
    const ctx: AuthContext = { connection, credentials: creds({ mechanism: 'MONGODB-X509', source: '$external' }) };
    await prepareAuthHandshake({ hello: 1 }, ctx);
    ctx.hello = { ok: 1 };
    await authenticate(ctx);
    expect(connection.sent.map(s => s.cmd)).toEqual([{ authenticate: 1, mechanism: 'MONGODB-X509' }]);
  });

  it('reports a refused certificate with the server code', async () => {
    const connection = recording(() => ({ ok: 0, code: 18, codeName: 'AuthenticationFailed', errmsg: 'Authentication failed.' }));
    const error = await new X509Provider().auth({ connection, credentials: creds({ mechanism: 'MONGODB-X509', source: '$external' }) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MongoServerError);
    expect((error as Error).message).toBe('Authentication failed with mechanism MONGODB-X509: Authentication failed.');
  });
});
