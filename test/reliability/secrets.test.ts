/**
 * Secrets sweep: run auth and URI scenarios through MongoClient (monitorCommands on, every SDAM,
 * CMAP and command event captured, every log message at trace level captured, every error kept,
 * warnings and console output captured),
 * serialize everything (util.inspect deep, JSON with BigInt, stacks, cause chains) and assert that
 * no password, SCRAM salted password / client key / server key / proof, or AWS secret key /
 * session token appears in any form (plain, base64, base64url, hex).
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import { Binary, deserialize, serialize, type Document } from 'bson';
import saslprep from '@mongodb-js/saslprep';
import { MongoClient } from '../../src/mongo_client';
import { parseOptions } from '../../src/connection_string';
import { MongoServerError } from '../../src/errors';
import { AwsProvider } from '../../src/auth/aws';
import { MongoCredentials } from '../../src/auth/mongo_credentials';
import type { AuthConnection } from '../../src/auth/auth_provider';
import type { AwsFetcher } from '../../src/auth/aws_credentials';
import { MockServer, type RecordedCommand } from '../tools/mock_server';
import { ScramServer } from '../tools/scram_server';
import { Capture, findLeaks } from './secret_sweep';

const PASSWORD = 'correct-H0rse-Battery-Staple-7a1f';
const WRONG_PASSWORD = 'wr0ng-Passw0rd-Zebra-Quartz-9c2e';
const AWS_KEY_ID = 'AKIAMONGOWIRETEST0001';
const AWS_SECRET = 'mongowireSecretAccessKey/abcdEFGH1234+ijklMNOP5678';
const AWS_TOKEN = 'mongowireSessionToken-FQoGZXIvYXdzEJr-longtoken-0123456789';

/** Captures warnings and console output for the whole file. */
let capture: Capture;
const restores: Array<() => void> = [];
beforeEach(() => {
  capture = new Capture();
  const emitWarning = process.emitWarning;
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => capture.add('process warning', [warning, ...rest])) as typeof process.emitWarning;
  restores.push(() => (process.emitWarning = emitWarning));
  for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) {
    const spy = jest.spyOn(console, method).mockImplementation((...args: unknown[]) => capture.add(`console.${method}`, args));
    restores.push(() => spy.mockRestore());
  }
});
afterEach(() => {
  for (const restore of restores.splice(0)) restore();
});

/** Client options that send every log message (all components, trace) into the capture. */
function logEverything() {
  return {
    mongodbLogPath: { write: (log: unknown) => capture.add('log', log) },
    mongodbLogComponentSeverities: { default: 'trace' as const }
  };
}

function expectNoLeaks(secrets: Record<string, string | Buffer>): void {
  expect(findLeaks(capture, secrets)).toEqual([]);
}

async function settle<T>(label: string, promise: Promise<T>): Promise<T | undefined> {
  try {
    const value = await promise;
    capture.add(`${label} result`, value);
    return value;
  } catch (error) {
    capture.add(`${label} error`, error);
    return undefined;
  }
}

describe('the sweep itself', () => {
  test('finds a planted secret in every form, deep inside errors, events and BSON values', () => {
    const key = randomBytes(32);
    capture.add('plain', { nested: { message: `oops ${PASSWORD}` } });
    capture.add('error cause', new Error('outer', { cause: new Error(`inner ${key.toString('base64')}`) }));
    capture.add('binary', { payload: new Binary(key), big: 10n });
    capture.add('hex in a map', new Map([['k', key.toString('hex')]]));
    const leaks = findLeaks(capture, { password: PASSWORD, key });
    expect(leaks.map((l) => `${l.secret}@${l.where}`)).toEqual(
      expect.arrayContaining(['password@plain', 'key@error cause', 'key@binary', 'key@hex in a map'])
    );
    capture.items.length = 0;
  });
});

// ---------------------------------------------------------------------------------- SCRAM

interface ScramMock {
  server: MockServer;
  scram: ScramServer;
  /** Every server-first message the client received (salt and iteration count). */
  serverFirsts: string[];
}

async function scramMockServer(): Promise<ScramMock> {
  const scram = new ScramServer({ users: [{ username: 'alice', password: PASSWORD }] });
  const serverFirsts: string[] = [];
  const remember = (reply: Document) => {
    const payload = reply.payload ?? (reply.speculativeAuthenticate as Document | undefined)?.payload;
    if (payload instanceof Binary) {
      const text = Buffer.from(payload.value()).toString('utf8');
      if (text.includes('s=') && text.includes('i=')) serverFirsts.push(text);
    }
    return reply;
  };
  const server = await MockServer.start({ helloExtra: { logicalSessionTimeoutMinutes: 30 } });
  server.setHandler('hello', (request: RecordedCommand, ctx) =>
    remember({ ...ctx.server.helloReply(request.body, ctx.connectionId), ...scram.helloFields(request.body) })
  );
  const sasl = (request: RecordedCommand) => remember(scram.handleCommand(request.db, stripDb(request.body)));
  server.setHandler('saslStart', sasl);
  server.setHandler('saslContinue', sasl);
  return { server, scram, serverFirsts };
}

function stripDb(body: Document): Document {
  const { $db: _db, ...rest } = body;
  return rest;
}

/** Every secret a SCRAM client derives from `password` for the salts it was sent, and the proofs it sent. */
function scramSecrets(mock: ScramMock, password: string): Record<string, string | Buffer> {
  const secrets: Record<string, string | Buffer> = { password };
  mock.serverFirsts.forEach((serverFirst, n) => {
    const attrs = new Map(serverFirst.split(',').map((p) => [p[0], p.slice(2)] as [string, string]));
    const salt = Buffer.from(attrs.get('s') ?? '', 'base64');
    const iterations = Number(attrs.get('i'));
    for (const mechanism of ['SCRAM-SHA-1', 'SCRAM-SHA-256'] as const) {
      const hash = mechanism === 'SCRAM-SHA-1' ? 'sha1' : 'sha256';
      const prepared = mechanism === 'SCRAM-SHA-1' ? createHash('md5').update(`alice:mongo:${password}`).digest('hex') : saslprep(password);
      const salted = pbkdf2Sync(prepared, salt, iterations, hash === 'sha1' ? 20 : 32, hash);
      const clientKey = createHmac(hash, salted).update('Client Key').digest();
      secrets[`${mechanism} #${n} salted password`] = salted;
      secrets[`${mechanism} #${n} client key`] = clientKey;
      secrets[`${mechanism} #${n} stored key`] = createHash(hash).update(clientKey).digest();
      secrets[`${mechanism} #${n} server key`] = createHmac(hash, salted).update('Server Key').digest();
      if (mechanism === 'SCRAM-SHA-1') secrets[`SCRAM-SHA-1 #${n} md5 password digest`] = prepared;
    }
  });
  for (const [n, record] of mock.server.commands('saslContinue').entries()) {
    const payload = record.body.payload;
    if (!(payload instanceof Binary)) continue;
    const text = Buffer.from(payload.value()).toString('utf8');
    const proof = /,p=([^,]+)$/.exec(text)?.[1];
    if (proof) {
      secrets[`client proof #${n}`] = proof;
      secrets[`client-final payload #${n}`] = Buffer.from(text);
    }
  }
  return secrets;
}

describe('SCRAM through MongoClient', () => {
  test.each([
    ['SCRAM-SHA-256', PASSWORD, true],
    ['SCRAM-SHA-256', WRONG_PASSWORD, false],
    ['SCRAM-SHA-1', PASSWORD, true],
    ['SCRAM-SHA-1', WRONG_PASSWORD, false]
  ] as const)('%s with the %s password: nothing secret in events or errors', async (mechanism, password, succeeds) => {
    const mock = await scramMockServer();
    const url = `mongodb://alice:${encodeURIComponent(password)}@${mock.server.address}/?directConnection=true&authMechanism=${mechanism}&serverMonitoringMode=poll&heartbeatFrequencyMS=500`;
    const client = new MongoClient(url, { monitorCommands: true, ...logEverything() });
    capture.listenTo(client);
    capture.add('client.url', client.url);
    try {
      const reply = await settle('ping', client.db('admin').command({ ping: 1 }));
      expect(reply !== undefined).toBe(succeeds);
      if (!succeeds) {
        const errors = capture.items.filter((i) => i.label === 'ping error');
        expect(errors).toHaveLength(1);
        expect(errors[0].value).toBeInstanceOf(MongoServerError);
        expect((errors[0].value as MongoServerError).code).toBe(18);
        expect((errors[0].value as Error).message).toMatch(/Authentication failed for user "alice" with mechanism SCRAM/);
      }
      // A user-issued sensitive command is redacted in command monitoring.
      await settle('createUser', client.db('admin').command({ createUser: 'bob', pwd: password, roles: [] }));
      await settle('updateUser', client.db('admin').command({ updateUser: 'bob', pwd: password }));
    } finally {
      await client.close();
      await mock.server.close();
    }
    // The scenario really happened: the conversation ran and events were seen.
    expect(mock.serverFirsts.length).toBeGreaterThan(0);
    expect(mock.server.commands('saslContinue').length).toBeGreaterThan(0);
    expect(capture.count('event serverHeartbeat')).toBeGreaterThan(0);
    expect(capture.count('event connection')).toBeGreaterThan(0);
    expect(capture.count('log')).toBeGreaterThan(0);
    if (succeeds) {
      expect(mock.scram.authenticated.length).toBeGreaterThan(0);
      const started = capture.items.filter((i) => i.label === 'event commandStarted').map((i) => i.value as { commandName: string; command: Document });
      const createUser = started.find((e) => e.commandName === 'createUser');
      expect(createUser?.command).toEqual({});
    }
    const secrets = scramSecrets(mock, password);
    expect(Object.keys(secrets).some((k) => k.startsWith('client proof'))).toBe(true);
    expectNoLeaks(secrets);
  });
});

// ---------------------------------------------------------------------------------- URIs

describe('connection strings with passwords', () => {
  const SECRET = 'Uri-Secret-Passw0rd-Xy91';
  const uris = [
    `mongodb://user:${SECRET}@localhost:notaport/`,
    `mongodb://user:${SECRET}@localhost:99999/`,
    `mongodb://user:${SECRET}@/`,
    `mongodb://user:${SECRET}@localhost/?authMechanism=BOGUS`,
    `mongodb://user:${SECRET}@localhost/?authMechanism=MONGODB-X509`,
    `mongodb://user:${SECRET}@localhost/?authMechanism=MONGODB-AWS`,
    `mongodb://user:${SECRET}@localhost/?tls=maybe`,
    `mongodb://user:${SECRET}@localhost/?tlsInsecure=true&tlsAllowInvalidCertificates=true`,
    `mongodb://user:${SECRET}@localhost/?w=-1`,
    `mongodb://user:${SECRET}@localhost/?readPreference=nearest&maxStalenessSeconds=1`,
    `mongodb://user:${SECRET}:extra@localhost/`,
    `mongodb://user:${SECRET}@host1,host2@host3/`,
    `mongodb+srv://user:${SECRET}@cluster0.example.com:27017/`,
    `mongodb+srv://user:${SECRET}@a,b/`,
    `mongodb+srv://user:${SECRET}@cluster0.example.com/?directConnection=true`,
    `mongodbx://user:${SECRET}@localhost/`,
    `mongodb://user:${SECRET}@localhost/db?unknownOption=1&authSource=`,
    `mongodb://user:${encodeURIComponent(SECRET)}%ZZ@localhost/`,
    `mongodb://user%:${SECRET}@localhost/`
  ];

  test.each(uris)('%s', async (uri) => {
    let constructed: MongoClient | undefined;
    try {
      constructed = new MongoClient(uri);
      capture.add('client.url', constructed.url);
    } catch (error) {
      capture.add('constructor error', error);
    }
    await settle('parseOptions', parseOptions(uri, {}, { srvResolver: { resolveSrv: async () => [], resolveTxt: async () => [] } }));
    if (constructed) await constructed.close();
    expect(capture.items.length).toBeGreaterThanOrEqual(2);
    expectNoLeaks({ password: SECRET });
  });

  test('at least some of those URIs are rejected (the sweep saw real errors)', async () => {
    let errors = 0;
    for (const uri of uris) {
      try {
        new MongoClient(uri);
      } catch {
        errors++;
      }
    }
    expect(errors).toBeGreaterThan(uris.length / 2);
  });

  test('the client object: url masks the password and tlsCertificateKeyFilePassword; util.inspect(client) shows no URI password', async () => {
    const client = new MongoClient(
      `mongodb://user:${SECRET}@localhost/?directConnection=true&tls=true&tlsCertificateKeyFile=%2Ftmp%2Fx.pem&tlsCertificateKeyFilePassword=KeyFile-Secret-55`
    );
    expect(client.url).toBe('mongodb://user:****@localhost/?directConnection=true&tls=true&tlsCertificateKeyFile=%2Ftmp%2Fx.pem&tlsCertificateKeyFilePassword=****');
    capture.add('client', client);
    capture.add('client.url', client.url);
    await client.close();
    expectNoLeaks({ password: SECRET });
    expect(client.url).not.toContain('KeyFile-Secret-55');
  });

  test('a valid URI with a password against a dead server: server selection error, masked url, events', async () => {
    const dead = await MockServer.start();
    const address = dead.address;
    await dead.close();
    const client = new MongoClient(`mongodb://user:${SECRET}@${address}/?directConnection=true&serverSelectionTimeoutMS=300`, { monitorCommands: true, ...logEverything() });
    capture.listenTo(client);
    capture.add('client.url', client.url);
    expect(client.url).not.toContain(SECRET);
    expect(client.url).toContain('****');
    await settle('connect', client.connect());
    await client.close();
    expect(capture.count('connect error')).toBe(1);
    expect(capture.count('event serverHeartbeatFailed')).toBeGreaterThan(0);
    expect(capture.count('log')).toBeGreaterThan(0);
    expectNoLeaks({ password: SECRET });
  });
});

// ---------------------------------------------------------------------------------- AWS

/** A mock server speaking the MONGODB-AWS conversation; the final step is refused (code 18). */
async function awsMockServer(): Promise<MockServer> {
  const server = await MockServer.start({ helloExtra: { logicalSessionTimeoutMinutes: 30 } });
  server.setHandler('saslStart', (request) => {
    const r = Buffer.from((deserialize((request.body.payload as Binary).value()).r as Binary).value());
    const s = Buffer.concat([r, randomBytes(32)]);
    return { conversationId: 1, done: false, ok: 1, payload: new Binary(serialize({ s: new Binary(s), h: 'sts.amazonaws.com' })) };
  });
  server.setHandler('saslContinue', { ok: 0, code: 18, codeName: 'AuthenticationFailed', errmsg: 'Authentication failed.' });
  return server;
}

describe('MONGODB-AWS', () => {
  const awsSecrets = { 'AWS secret access key': AWS_SECRET, 'AWS session token': AWS_TOKEN };

  test('credentials from the environment: refused auth leaks neither the secret key nor the session token', async () => {
    const saved = { ...process.env };
    process.env.AWS_ACCESS_KEY_ID = AWS_KEY_ID;
    process.env.AWS_SECRET_ACCESS_KEY = AWS_SECRET;
    process.env.AWS_SESSION_TOKEN = AWS_TOKEN;
    const server = await awsMockServer();
    const client = new MongoClient(`mongodb://${server.address}/?directConnection=true&authMechanism=MONGODB-AWS&heartbeatFrequencyMS=500`, {
      monitorCommands: true,
      ...logEverything()
    });
    capture.listenTo(client);
    try {
      await settle('ping', client.db('admin').command({ ping: 1 }));
    } finally {
      await client.close();
      await server.close();
      for (const key of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN']) {
        if (saved[key] === undefined) delete process.env[key];
        else process.env[key] = saved[key];
      }
    }
    // The conversation reached the signed step: the token really was sent to the server.
    const second = server.commands('saslContinue')[0];
    expect(second).toBeDefined();
    expect(deserialize((second.body.payload as Binary).value()).t).toBe(AWS_TOKEN);
    expect(capture.count('ping error')).toBe(1);
    expectNoLeaks(awsSecrets);
  });

  test('credentials from AWS_CREDENTIAL_PROVIDER: same guarantee', async () => {
    const server = await awsMockServer();
    const client = new MongoClient(`mongodb://${server.address}/?directConnection=true&authMechanism=MONGODB-AWS&heartbeatFrequencyMS=500`, {
      monitorCommands: true,
      ...logEverything(),
      authMechanismProperties: {
        AWS_CREDENTIAL_PROVIDER: async () => ({ accessKeyId: AWS_KEY_ID, secretAccessKey: AWS_SECRET, sessionToken: AWS_TOKEN })
      }
    });
    capture.listenTo(client);
    try {
      await settle('ping', client.db('admin').command({ ping: 1 }));
    } finally {
      await client.close();
      await server.close();
    }
    expect(server.commands('saslContinue')).toHaveLength(1);
    expect(capture.count('ping error')).toBe(1);
    expectNoLeaks(awsSecrets);
  });

  /** The AWS mechanism against an injected fetcher (ECS endpoint) and an in-memory connection. */
  async function awsWithFetcher(fetcher: AwsFetcher, refuse: boolean): Promise<void> {
    const provider = new AwsProvider({ fetcher, env: { AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: '/v2/credentials/abc' } });
    const connection: AuthConnection = {
      address: 'aws-mock:27017',
      async command(_db, cmd) {
        if (cmd.saslStart) {
          const r = Buffer.from((deserialize((cmd.payload as Binary).value()).r as Binary).value());
          return { conversationId: 1, done: false, ok: 1, payload: new Binary(serialize({ s: new Binary(Buffer.concat([r, randomBytes(32)])), h: 'sts.amazonaws.com' })) };
        }
        if (refuse) throw new MongoServerError({ ok: 0, code: 18, codeName: 'AuthenticationFailed', errmsg: 'Authentication failed.' });
        return { conversationId: 1, done: true, ok: 1, payload: new Binary(Buffer.alloc(0)) };
      }
    };
    const credentials = new MongoCredentials({ source: '$external', mechanism: 'MONGODB-AWS', mechanismProperties: {} });
    await settle('aws auth', provider.auth({ connection, credentials }));
  }

  const ecsBody = (extra: Document = {}) =>
    JSON.stringify({ AccessKeyId: AWS_KEY_ID, SecretAccessKey: AWS_SECRET, Token: AWS_TOKEN, Expiration: new Date(Date.now() + 3600_000).toISOString(), ...extra });

  test.each([
    ['valid ECS credentials, server refuses', async () => ({ status: 200, text: async () => ecsBody() }), true],
    ['ECS credentials without an AccessKeyId', async () => ({ status: 200, text: async () => ecsBody({ AccessKeyId: undefined }) }), false],
    ['malformed JSON containing the secret', async () => ({ status: 200, text: async () => `{"SecretAccessKey":"${AWS_SECRET}","Token":"${AWS_TOKEN}"` }), false],
    ['HTTP 500 whose body contains the secret', async () => ({ status: 500, text: async () => ecsBody() }), false],
    ['fetcher throws an error quoting the secret', async () => Promise.reject(new Error(`socket hang up while sending ${AWS_TOKEN}`)), false]
  ] as Array<[string, AwsFetcher, boolean]>)('injected fetcher: %s', async (_name, fetcher, refuse) => {
    await awsWithFetcher(fetcher, refuse);
    expect(capture.count('aws auth error')).toBe(1);
    const secrets: Record<string, string> = { ...awsSecrets };
    // An error the fetcher itself raised may be kept as the `cause` (it is the caller's own
    // error object); the driver's message must still not repeat it.
    if (_name.startsWith('fetcher throws')) {
      const error = capture.items.find((i) => i.label === 'aws auth error')!.value as Error;
      expect(error.message).not.toContain(AWS_TOKEN);
      capture.items.length = 0;
      capture.add('aws auth error message', error.message);
    }
    expectNoLeaks(secrets);
  });
});
