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

describe('command monitoring', () => {
  test('monitorCommands: true emits started/succeeded with connection ids; auth-free hello is not monitored', async () => {
    const server = await MockServer.start({ helloExtra: { logicalSessionTimeoutMinutes: 30 } });
    const client = new MongoClient(`mongodb://${server.address}/?directConnection=true`, { monitorCommands: true });
    const started: string[] = [];
    const succeeded: number[] = [];
    client.on('commandStarted', (e) => started.push(`${e.commandName}@${e.databaseName}`));
    client.on('commandSucceeded', (e) => succeeded.push(e.requestId));
    try {
      await client.db('app').command({ ping: 1 });
      expect(started).toEqual(['ping@app']);
      expect(succeeded).toHaveLength(1);
    } finally {
      await client.close();
      await server.close();
    }
  });

  test('without monitorCommands no command events are emitted', async () => {
    const server = await MockServer.start();
    const client = new MongoClient(`mongodb://${server.address}/?directConnection=true`);
    const started: string[] = [];
    client.on('commandStarted', (e) => started.push(e.commandName));
    try {
      await client.db('app').command({ ping: 1 });
      expect(started).toEqual([]);
    } finally {
      await client.close();
      await server.close();
    }
  });
});

describe('validation at construction', () => {
  test('an invalid URI or credential throws MongoParseError from the constructor, without the password', () => {
    expect(() => new MongoClient('mongodb://u:s3cr3t-pw@host:99999/')).toThrow(/port/i);
    let caught: unknown;
    try {
      new MongoClient('mongodb://u:s3cr3t-pw@host/?authMechanism=MONGODB-X509&authSource=admin');
    } catch (error) {
      caught = error;
    }
    expect((caught as Error).name).toBe('MongoParseError');
    expect((caught as Error).message).not.toContain('s3cr3t-pw');
    expect(() => new MongoClient('mongodb://host/?replicaSet=rs&loadBalanced=true')).toThrow(/loadBalanced/);
  });

  test('options are resolved at construction for mongodb:// URIs', () => {
    const client = new MongoClient('mongodb://a:1,b:2/app?maxPoolSize=7&appName=x');
    expect(client.options.maxPoolSize).toBe(7);
    expect(client.options.hosts.map((h) => h.port)).toEqual([1, 2]);
    expect(client.db().databaseName).toBe('app');
  });
});

test('code-only hooks (serverSelector, srvResolver) are not reported as unsupported options', () => {
  const warnings: string[] = [];
  const client = new MongoClient('mongodb://h:1/', { serverSelector: (_t, servers) => servers, srvResolver: { resolveSrv: async () => [], resolveTxt: async () => [] } });
  warnings.push(...client.options.warnings);
  expect(warnings.filter((w) => /Unsupported client option/.test(w))).toEqual([]);
});

test('secret options stay usable but never show in inspect or JSON', () => {
  const { inspect } = require('node:util') as typeof import('node:util');
  const client = new MongoClient('mongodb://h:1/?tls=true&tlsCertificateKeyFilePassword=k3y-s3cret&proxyHost=p&proxyPassword=pr0xy-s3cret&proxyUsername=u');
  expect(client.options.tlsCertificateKeyFilePassword).toBe('k3y-s3cret');
  expect(client.options.proxyPassword).toBe('pr0xy-s3cret');
  for (const text of [inspect(client, { depth: 6 }), JSON.stringify(client.options), client.url]) {
    expect(text).not.toContain('k3y-s3cret');
    expect(text).not.toContain('pr0xy-s3cret');
  }
});
