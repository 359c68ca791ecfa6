/**
 * "command" component (command-logging-and-monitoring spec, "Log Messages") through MongoClient
 * over TCP against the mock server: exact messages and fields, failures, redaction of sensitive
 * commands, truncation, and no messages for handshake or heartbeat commands.
 */
import { ObjectId, type Document } from 'bson';
import { MongoClient } from '../../src/mongo_client';
import { MockServer, errorReply } from '../tools/mock_server';
import { ScramServer } from '../tools/scram_server';
import { capture, serialize, sleep } from './log_capture';

let server: MockServer;
beforeEach(async () => {
  server = await MockServer.start();
});
afterEach(async () => {
  await server.close();
});

function url(extra = ''): string {
  return `mongodb://${server.address}/?directConnection=true&heartbeatFrequencyMS=500${extra}`;
}

test('a successful command: "Command started" and "Command succeeded" with every field', async () => {
  const cap = capture({ command: 'debug' });
  const client = new MongoClient(url(), cap.options);
  const checkedOut: number[] = [];
  client.on('connectionCheckedOut', (e) => checkedOut.push(e.connectionId));
  try {
    await client.db('logging-tests').command({ ping: 1 });
  } finally {
    await client.close();
  }
  const ping = cap.logs.filter((l) => l.commandName === 'ping');
  expect(ping.map((l) => [l.c, l.s, l.message])).toEqual([
    ['command', 'debug', 'Command started'],
    ['command', 'debug', 'Command succeeded']
  ]);
  const [started, succeeded] = ping;
  const received = server.lastCommand('ping')!;
  const common = {
    commandName: 'ping',
    databaseName: 'logging-tests',
    requestId: received.requestId,
    driverConnectionId: checkedOut[0],
    serverHost: '127.0.0.1',
    serverPort: server.port,
    serverConnectionId: received.connectionId
  };
  expect(started).toEqual({ t: expect.any(Date), c: 'command', s: 'debug', message: 'Command started', ...common, command: expect.any(String) });
  expect(JSON.parse(started.command as string)).toMatchObject({ ping: 1, $db: 'logging-tests' });
  expect(succeeded).toEqual({
    t: expect.any(Date),
    c: 'command',
    s: 'debug',
    message: 'Command succeeded',
    ...common,
    durationMS: expect.any(Number),
    reply: '{"ok":1}'
  });
  // No operationId (the driver does not generate them) and no serviceId (not load balanced).
  expect('operationId' in started || 'serviceId' in started).toBe(false);
});

test('a failed command: "Command failed" with durationMS and the error', async () => {
  server.setHandler('find', errorReply(2, '$or must be an array', { codeName: 'BadValue' }));
  const cap = capture({ command: 'debug' });
  const client = new MongoClient(url('&retryReads=false'), cap.options);
  try {
    await expect(client.db('logging-tests').collection('c').find({ $or: true } as unknown as Document).toArray()).rejects.toThrow('$or must be an array');
  } finally {
    await client.close();
  }
  const find = cap.data('command').filter((d) => d.commandName === 'find');
  expect(find.map((d) => d.message)).toEqual(['Command started', 'Command failed']);
  expect(find[1]).toMatchObject({
    databaseName: 'logging-tests',
    serverHost: '127.0.0.1',
    serverPort: server.port,
    durationMS: expect.any(Number),
    failure: { name: 'MongoServerError', message: '$or must be an array', code: 2, codeName: 'BadValue' }
  });
  expect(JSON.parse((find[1].failure as { errorResponse: string }).errorResponse)).toMatchObject({ ok: 0, code: 2 });
});

test('handshake and heartbeat commands are never logged; monitorCommands is not needed', async () => {
  const cap = capture({ command: 'debug' });
  const client = new MongoClient(url('&serverMonitoringMode=poll'), cap.options);
  const events: string[] = [];
  client.on('commandStarted', (e) => events.push(e.commandName));
  try {
    await client.db('admin').command({ ping: 1 });
    await sleep(1200); // a few polled heartbeats
  } finally {
    await client.close();
  }
  expect(server.hellos().length).toBeGreaterThan(2);
  expect(new Set(cap.data('command').map((d) => d.commandName))).toEqual(new Set(['ping', 'endSessions']));
  expect(events).toEqual([]); // logging alone does not publish command events
});

test('with monitorCommands both the events and the log messages are produced', async () => {
  const cap = capture({ command: 'debug' }, { monitorCommands: true });
  const client = new MongoClient(url(), cap.options);
  const events: string[] = [];
  client.on('commandStarted', (e) => events.push(e.commandName));
  client.on('commandSucceeded', (e) => events.push(`${e.commandName} ok`));
  try {
    await client.db('a').command({ ping: 1 });
  } finally {
    await client.close();
  }
  expect(events.slice(0, 2)).toEqual(['ping', 'ping ok']);
  expect(cap.messages('command').slice(0, 2)).toEqual(['Command started', 'Command succeeded']);
});

describe('sensitive commands are redacted', () => {
  test.each([
    ['createUser', { createUser: 'u', pwd: 'hunter2-secret', roles: [] }],
    ['updateUser', { updateUser: 'u', pwd: 'hunter2-secret' }],
    ['saslStart', { saslStart: 1, mechanism: 'SCRAM-SHA-256', payload: 'hunter2-secret' }],
    ['authenticate', { authenticate: 1, user: 'u', pwd: 'hunter2-secret' }],
    ['hello', { hello: 1, speculativeAuthenticate: { saslStart: 1, payload: 'hunter2-secret' } }],
    ['isMaster', { isMaster: 1, speculativeAuthenticate: { saslStart: 1, payload: 'hunter2-secret' } }]
  ])('%s: command and reply are "{}"', async (name, command) => {
    const reply = /hello|ismaster/i.test(name)
      ? (request: { body: Document }, ctx: { connectionId: number }) => ({ ...server.helloReply(request.body, ctx.connectionId), secretInReply: 'hunter2-secret' })
      : { ok: 1, secretInReply: 'hunter2-secret' };
    server.setHandler(name, reply);
    const cap = capture({ command: 'debug' });
    const client = new MongoClient(url(), cap.options);
    try {
      await client.db('admin').command(command);
    } finally {
      await client.close();
    }
    const logged = cap.data('command').filter((d) => d.commandName === name);
    expect(logged).toEqual([
      expect.objectContaining({ message: 'Command started', command: '{}' }),
      expect.objectContaining({ message: 'Command succeeded', reply: '{}' })
    ]);
    expect(serialize(cap.logs)).not.toContain('hunter2-secret');
  });

  test('a failed sensitive command keeps only code, codeName and labels', async () => {
    server.setHandler('saslContinue', errorReply(18, 'Authentication failed for hunter2-secret', { codeName: 'AuthenticationFailed' }));
    const cap = capture({ command: 'debug' });
    const client = new MongoClient(url(), cap.options);
    try {
      await expect(client.db('admin').command({ saslContinue: 1, conversationId: 1, payload: 'x' })).rejects.toThrow();
    } finally {
      await client.close();
    }
    const failed = cap.data('command').find((d) => d.message === 'Command failed');
    expect(failed).toMatchObject({ commandName: 'saslContinue', failure: { message: '', code: 18, codeName: 'AuthenticationFailed' } });
    expect((failed!.failure as Document).errorResponse).toBeUndefined();
    expect(serialize(cap.logs)).not.toContain('hunter2-secret');
  });

  test('hello without speculativeAuthenticate is not redacted', async () => {
    const cap = capture({ command: 'debug' });
    const client = new MongoClient(url(), cap.options);
    try {
      await client.db('admin').command({ hello: 1 });
    } finally {
      await client.close();
    }
    const hello = cap.data('command').filter((d) => d.commandName === 'hello');
    expect(JSON.parse(hello[0].command as string)).toMatchObject({ hello: 1 });
    expect(JSON.parse(hello[1].reply as string)).toMatchObject({ ok: 1, isWritablePrimary: true });
  });
});

test('no password from the URI appears in any message, whether authentication succeeds or fails', async () => {
  const password = 'Sup3r-Secret-Pa55';
  const scram = new ScramServer({ users: [{ username: 'alice', password }] });
  const authServer = await MockServer.start({ saslSupportedMechs: ['SCRAM-SHA-256'] });
  const hello = (request: { body: Document }, ctx: { connectionId: number }) => ({
    ...authServer.helloReply(request.body, ctx.connectionId),
    ...scram.helloFields(request.body)
  });
  for (const name of ['hello', 'isMaster']) authServer.setHandler(name, hello);
  for (const name of ['saslStart', 'saslContinue']) authServer.setHandler(name, (request) => scram.handleCommand(request.db, request.body));
  const all = { command: 'trace', topology: 'trace', serverSelection: 'trace', connection: 'trace' } as const;
  try {
    for (const attempt of [password, 'Wrong-Pa55-Guess']) {
      const cap = capture(all);
      const uri = `mongodb://alice:${encodeURIComponent(attempt)}@${authServer.address}/?directConnection=true&serverSelectionTimeoutMS=1000&retryReads=false`;
      const client = new MongoClient(uri, cap.options);
      try {
        const result = await client.db('admin').command({ ping: 1 }).then(() => 'ok', (e: Error) => e.name);
        expect(result).toBe(attempt === password ? 'ok' : 'MongoServerError');
      } finally {
        await client.close();
      }
      const text = serialize(cap.logs);
      expect(cap.logs.length).toBeGreaterThan(5);
      expect(text).not.toContain(attempt);
      expect(text).not.toContain(encodeURIComponent(attempt));
      // The authentication conversation is part of the handshake: never logged as commands.
      expect(cap.data('command').some((d) => /sasl/i.test(String(d.commandName)))).toBe(false);
    }
  } finally {
    await authServer.close();
  }
});

test('command and reply are truncated to mongodbLogMaxDocumentLength', async () => {
  server.setHandler('insert', { ok: 1, n: 1, padding: 'r'.repeat(100) });
  const cap = capture({ command: 'debug' }, { mongodbLogMaxDocumentLength: 20 });
  const client = new MongoClient(url(), cap.options);
  try {
    await client.db('d').collection('c').insertOne({ big: 'x'.repeat(5000) });
  } finally {
    await client.close();
  }
  const insert = cap.data('command').filter((d) => d.commandName === 'insert');
  expect(insert[0].command).toBe('{"insert":"c","order...');
  expect(insert[1].reply).toBe('{"ok":1,"n":1,"paddi...');
});

test('default max document length is 1000', async () => {
  const cap = capture({ command: 'debug' });
  const client = new MongoClient(url(), cap.options);
  try {
    await client.db('d').collection('c').insertOne({ big: 'x'.repeat(5000) });
  } finally {
    await client.close();
  }
  const started = cap.data('command').find((d) => d.commandName === 'insert')!;
  expect(started.command).toHaveLength(1003);
  expect(String(started.command).endsWith('...')).toBe(true);
});

test('an unacknowledged write logs "Command succeeded" with reply {"ok":1}', async () => {
  const cap = capture({ command: 'debug' });
  const client = new MongoClient(url(), cap.options);
  try {
    await client.db('d').collection('c', { writeConcern: { w: 0 } }).insertOne({ x: 1 });
  } finally {
    await client.close();
  }
  const insert = cap.data('command').filter((d) => d.commandName === 'insert');
  expect(insert.map((d) => d.message)).toEqual(['Command started', 'Command succeeded']);
  expect(JSON.parse(insert[1].reply as string)).toMatchObject({ ok: 1 });
});

test('load-balanced mode: serviceId is the hex string of the service', async () => {
  const serviceId = new ObjectId();
  const lb = await MockServer.start({ loadBalanced: true, serviceId });
  const cap = capture({ command: 'debug' });
  const client = new MongoClient(`mongodb://${lb.address}/?loadBalanced=true`, cap.options);
  try {
    await client.db('a').command({ ping: 1 });
  } finally {
    await client.close();
    await lb.close();
  }
  const ping = cap.data('command').filter((d) => d.commandName === 'ping');
  expect(ping).toHaveLength(2);
  for (const d of ping) expect(d.serviceId).toBe(serviceId.toHexString());
});

test('MONGODB_LOG_COMMAND and MONGODB_LOG_PATH configure a client without code changes', async () => {
  const fs = await import('node:fs');
  const os = await import('node:os');
  const path = await import('node:path');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mongowire-log-'));
  const file = path.join(dir, 'commands.log');
  const saved = { ...process.env };
  try {
    process.env.MONGODB_LOG_COMMAND = 'DEBUG';
    process.env.MONGODB_LOG_PATH = file;
    process.env.MONGODB_LOG_MAX_DOCUMENT_LENGTH = '15';
    const client = new MongoClient(url());
    try {
      await client.db('envdb').command({ ping: 1 });
    } finally {
      await client.close();
    }
    const lines = fs.readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.filter((l) => l.commandName === 'ping')).toEqual([
      expect.objectContaining({ c: 'command', s: 'debug', message: 'Command started', databaseName: 'envdb', command: '{"ping":1,"lsid...' }),
      expect.objectContaining({ message: 'Command succeeded', reply: '{"ok":1}' })
    ]);
  } finally {
    process.env = saved;
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
