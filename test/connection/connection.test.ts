import { Long, ObjectId, serialize, type Document } from 'bson';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import {
  MongoCompatibilityError,
  MongoErrorLabel,
  MongoNetworkError,
  MongoNetworkTimeoutError,
  MongoOperationTimeoutError,
  MongoProtocolError,
  MongoRuntimeError,
  MongoServerError
} from '../../src/errors';
import { makeClientMetadata } from '../../src/pool/client_metadata';
import type { PoolConnection } from '../../src/pool/pool';
import { connect, parseAddress, type CommandReport, type Connection, type ConnectionOptions } from '../../src/pool/connection';
import { OpCode, encodeOpMsg } from '../../src/wire';
import { MockServer, actions, errorReply, type RecordedCommand } from '../tools/mock_server';

let server: MockServer;
const connections: Connection[] = [];

async function open(options: Partial<ConnectionOptions> = {}): Promise<Connection> {
  const conn = await connect({ address: server.address, connectTimeoutMS: 5000, ...options });
  connections.push(conn);
  return conn;
}

beforeEach(async () => {
  server = await MockServer.start();
});

afterEach(async () => {
  for (const c of connections.splice(0)) c.destroy();
  await server.close();
});

describe('parseAddress', () => {
  it('parses host:port, IPv6 and socket paths', () => {
    expect(parseAddress('localhost:27018')).toEqual({ host: 'localhost', port: 27018 });
    expect(parseAddress('example.com')).toEqual({ host: 'example.com', port: 27017 });
    expect(parseAddress('[::1]:27019')).toEqual({ host: '::1', port: 27019 });
    expect(parseAddress('/tmp/mongodb-27017.sock')).toEqual({ host: '/tmp/mongodb-27017.sock', port: 0, path: '/tmp/mongodb-27017.sock' });
    expect(() => parseAddress('host:notaport')).toThrow(/invalid address/);
  });
});

describe('handshake', () => {
  it('sends legacy hello (OP_MSG) with helloOk, backpressure, client metadata and compressors', async () => {
    const conn = await open({ appName: 'myApp', compressors: ['zlib'] });
    const [hello] = server.hellos();
    expect(hello.opCode).toBe(OpCode.OP_MSG);
    expect(hello.db).toBe('admin');
    expect(hello.body).toEqual({
      isMaster: 1,
      helloOk: true,
      backpressure: '2',
      client: makeClientMetadata({ appName: 'myApp' }),
      compression: ['zlib'],
      $db: 'admin'
    });
    expect(hello.compressor).toBeNull();
    expect(conn.helloOk).toBe(true);
    expect(conn.hello?.ismaster).toBe(true);
    expect(conn.maxWireVersion).toBe(25);
    expect(conn.maxBsonObjectSize).toBe(16 * 1024 * 1024);
    expect(conn.maxMessageSizeBytes).toBe(48_000_000);
    expect(conn.maxWriteBatchSize).toBe(100_000);
    expect(conn.serverConnectionId).toBe(hello.connectionId);
    expect(conn.serviceId).toBeUndefined();
  });

  it('uses a prebuilt metadata document and omits compression when none is configured', async () => {
    await open({ metadata: { driver: { name: 'x', version: '1' }, os: { type: 'T' } } });
    const body = server.hellos()[0].body;
    expect(body.client).toEqual({ driver: { name: 'x', version: '1' }, os: { type: 'T' } });
    expect('compression' in body).toBe(false);
    expect('loadBalanced' in body).toBe(false);
  });

  it('records helloOk false when the server does not answer helloOk', async () => {
    server.setHandler('isMaster', { ismaster: true, maxWireVersion: 8, ok: 1 });
    const conn = await open();
    expect(conn.helloOk).toBe(false);
    expect(conn.maxWireVersion).toBe(8);
  });

  it('lets the auth hooks add saslSupportedMechs and authenticate (any mechanism name is accepted)', async () => {
    server.setState({ saslSupportedMechs: ['SCRAM-SHA-256', 'ArBiTrArY!'] });
    const seen: Document[] = [];
    const conn = await open({
      prepareHandshake: async (hello) => ({ ...hello, saslSupportedMechs: 'admin.user', speculativeAuthenticate: { saslStart: 1 } }),
      authenticate: async (c, reply) => {
        seen.push(reply);
        await c.command('admin', { saslStart: 1, mechanism: 'PLAIN' }).catch(() => undefined);
      }
    });
    const body = server.hellos()[0].body;
    expect(body.saslSupportedMechs).toBe('admin.user');
    expect(body.speculativeAuthenticate).toEqual({ saslStart: 1 });
    expect(seen[0].saslSupportedMechs).toEqual(['SCRAM-SHA-256', 'ArBiTrArY!']);
    expect(server.commands('saslStart')).toHaveLength(1);
    expect(conn.closed).toBe(false);
  });

  it('destroys the socket when authentication fails, without backpressure labels', async () => {
    const failure = new MongoServerError({ ok: 0, code: 18, codeName: 'AuthenticationFailed', errmsg: 'Authentication failed.' });
    const error = await open({ authenticate: async () => Promise.reject(failure) }).catch((e: unknown) => e);
    expect(error).toBe(failure);
    await server.waitForConnectionClose();
    expect(server.openConnectionCount).toBe(0);
    expect(failure.hasErrorLabel(MongoErrorLabel.SystemOverloadedError)).toBe(false);
  });

  it('fails the handshake with MongoServerError on ok: 0 and closes the socket', async () => {
    server.setHandler('isMaster', errorReply(11, 'bad hello', { codeName: 'UserNotFound' }));
    const error = await open().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MongoServerError);
    expect((error as MongoServerError).code).toBe(11);
    await server.waitForConnectionClose();
  });

  it('sends hello over OP_MSG with loadBalanced and stores serviceId', async () => {
    const serviceId = new ObjectId();
    server.setState({ serviceId });
    const conn = await open({ loadBalanced: true });
    const body = server.hellos()[0].body;
    expect(body).toMatchObject({ hello: 1, helloOk: true, loadBalanced: true, $db: 'admin' });
    expect('isMaster' in body).toBe(false);
    expect(conn.serviceId?.equals(serviceId)).toBe(true);
  });

  it('fails in load-balanced mode when the reply has no serviceId', async () => {
    const error = await open({ loadBalanced: true }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MongoCompatibilityError);
    expect((error as Error).message).toBe(
      'Driver attempted to initialize in load balancing mode, but the server does not support this mode.'
    );
    await server.waitForConnectionClose();
  });

  it('sends hello with the Stable API fields, and adds them to every command', async () => {
    const conn = await open({ serverApi: { version: '1', strict: true, deprecationErrors: true } });
    expect(server.hellos()[0].body).toMatchObject({ hello: 1, apiVersion: '1', apiStrict: true, apiDeprecationErrors: true });
    await conn.command('test', { ping: 1 });
    expect(server.lastCommand('ping')?.body).toEqual({ ping: 1, $db: 'test', apiVersion: '1', apiStrict: true, apiDeprecationErrors: true });

    const conn2 = await open({ serverApi: { version: '1' } });
    await conn2.command('test', { ping: 1 });
    expect(server.lastCommand('ping')?.body).toEqual({ ping: 1, $db: 'test', apiVersion: '1' });
  });
});

describe('compression', () => {
  it('negotiates the first client compressor the server accepts and round-trips compressed messages', async () => {
    server.setState({ compressors: ['zlib'] });
    const conn = await open({ compressors: ['snappy', 'zlib'], zlibCompressionLevel: 6 });
    expect(conn.compressor).toBe('zlib');
    expect(server.hellos()[0].compressor).toBeNull();

    server.setHandler('find', { cursor: { id: Long.ZERO, ns: 'db.c', firstBatch: [{ x: 'y'.repeat(1000) }] }, ok: 1 });
    const reply = await conn.command('db', { find: 'c', filter: {} });
    expect(reply.cursor.firstBatch[0].x).toBe('y'.repeat(1000));
    expect(server.lastCommand('find')?.compressor).toBe('zlib');

    // Never compressed: hello and auth commands.
    await conn.command('admin', { hello: 1 });
    await conn.command('admin', { saslStart: 1 }).catch(() => undefined);
    expect(server.lastCommand('hello')?.compressor).toBeNull();
    expect(server.lastCommand('saslStart')?.compressor).toBeNull();
  });

  it('does not compress when the server accepts none of the offered compressors', async () => {
    server.setState({ compressors: ['zstd'] });
    const conn = await open({ compressors: ['zlib'] });
    expect(conn.compressor).toBeNull();
    await conn.command('db', { ping: 1 });
    expect(server.lastCommand('ping')?.compressor).toBeNull();
  });
});

describe('commands', () => {
  it('round-trips a command with $db and document sequences', async () => {
    const conn = await open();
    server.setHandler('insert', (req: RecordedCommand) => ({ n: (req.body.documents as Document[]).length, ok: 1 }));
    const cmd = { insert: 'coll', ordered: true };
    const reply = await conn.command('db', cmd, { sequences: [{ identifier: 'documents', documents: [{ a: 1 }, { a: 2 }] }] });
    expect(reply).toEqual({ n: 2, ok: 1 });
    expect(cmd).toEqual({ insert: 'coll', ordered: true }); // caller's document untouched
    const rec = server.lastCommand('insert')!;
    expect(rec.db).toBe('db');
    expect(rec.sequences).toEqual([{ identifier: 'documents', documents: [{ a: 1 }, { a: 2 }] }]);
    expect(rec.body.documents).toEqual([{ a: 1 }, { a: 2 }]);
  });

  it('applies per-command BSON options', async () => {
    const conn = await open();
    server.setHandler('count', { n: Long.fromNumber(5), ok: 1 });
    expect((await conn.command('db', { count: 'c' })).n).toBe(5);
    expect((await conn.command('db', { count: 'c' }, { bson: { promoteLongs: false } })).n).toBeInstanceOf(Long);
  });

  it('turns ok: 0 into MongoServerError with code, codeName and errorLabels, and stays usable', async () => {
    const conn = await open();
    server.setHandler('insert', errorReply(11600, 'interrupted at shutdown', {
      codeName: 'InterruptedAtShutdown',
      errorLabels: ['RetryableWriteError']
    }));
    const error = (await conn.command('db', { insert: 'c', documents: [] }).catch((e: unknown) => e)) as MongoServerError;
    expect(error).toBeInstanceOf(MongoServerError);
    expect(error.code).toBe(11600);
    expect(error.codeName).toBe('InterruptedAtShutdown');
    expect(error.errmsg).toBe('interrupted at shutdown');
    expect(error.errorLabels).toEqual(['RetryableWriteError']);
    expect(conn.closed).toBe(false);
    await expect(conn.command('db', { ping: 1 })).resolves.toEqual({ ok: 1 });
  });

  it('reports unknown commands as CommandNotFound', async () => {
    const conn = await open();
    await expect(conn.command('db', { noSuchThing: 1 })).rejects.toMatchObject({ code: 59, codeName: 'CommandNotFound' });
  });

  it('sends moreToCome writes without waiting for a reply', async () => {
    const conn = await open();
    server.setHandler('insert', actions.delay(10_000, { ok: 1 }));
    const started = Date.now();
    await expect(conn.command('db', { insert: 'c', documents: [{}], writeConcern: { w: 0 } }, { moreToCome: true })).resolves.toEqual({ ok: 1 });
    expect(Date.now() - started).toBeLessThan(1000);
    const rec = await server.waitForCommand('insert');
    expect(rec.moreToCome).toBe(true);
    expect(conn.busy).toBe(false);
    await expect(conn.command('db', { ping: 1 })).resolves.toEqual({ ok: 1 });
  });

  it('allows one command at a time', async () => {
    const conn = await open();
    server.setHandler('ping', actions.delay(50, { ok: 1 }));
    const first = conn.command('db', { ping: 1 });
    await expect(conn.command('db', { ping: 1 })).rejects.toBeInstanceOf(MongoRuntimeError);
    await expect(first).resolves.toEqual({ ok: 1 });
  });

  it('streams exhaust replies while the server sets moreToCome', async () => {
    const conn = await open();
    const tv = conn.hello?.topologyVersion as Document;
    const stream = conn.exhaustCommand('admin', { hello: 1, topologyVersion: tv, maxAwaitTimeMS: 10_000 });
    const first = stream.next();
    const request = await server.waitForCommand('hello');
    expect(request.exhaustAllowed).toBe(true);
    server.setState({ type: 'standalone' }); // topology change → first reply
    const r1 = await first;
    expect(r1.value?.topologyVersion.counter).toBe(1);
    server.bumpTopologyVersion();
    const r2 = await stream.next();
    expect(r2.value?.topologyVersion.counter).toBe(2);
    expect(conn.busy).toBe(true);
    await expect(conn.command('admin', { ping: 1 })).rejects.toBeInstanceOf(MongoRuntimeError);
    await stream.return(undefined); // abandoning the stream closes the connection
    expect(conn.closed).toBe(true);
    await server.waitForConnectionClose();
  });

  it('ends an exhaust stream at the first reply without moreToCome', async () => {
    const conn = await open();
    server.setHandler('hello', (req, ctx) => {
      const a = ctx.send({ n: 1, ok: 1 }, { responseTo: req.requestId, moreToCome: true });
      const b = ctx.send({ n: 2, ok: 1 }, { responseTo: a, moreToCome: true });
      ctx.send({ n: 3, ok: 1 }, { responseTo: b });
      return actions.noReply();
    });
    const seen: number[] = [];
    for await (const reply of conn.exhaustCommand('admin', { hello: 1 })) seen.push(reply.n as number);
    expect(seen).toEqual([1, 2, 3]);
    expect(conn.busy).toBe(false);
    expect(conn.closed).toBe(false);
    await expect(conn.command('admin', { ping: 1 })).resolves.toEqual({ ok: 1 });
  });

  it('fails the exhaust stream on a network error', async () => {
    const conn = await open();
    server.setHandler('hello', (req, ctx) => {
      ctx.send({ n: 1, ok: 1 }, { responseTo: req.requestId, moreToCome: true });
      return actions.delay(20, actions.close());
    });
    const seen: number[] = [];
    const error = await (async () => {
      for await (const reply of conn.exhaustCommand('admin', { hello: 1 })) seen.push(reply.n as number);
    })().catch((e: unknown) => e);
    expect(seen).toEqual([1]);
    expect(error).toBeInstanceOf(MongoNetworkError);
  });

  it('rejects commands on a destroyed connection; destroy is idempotent', async () => {
    const conn = await open();
    server.setHandler('ping', actions.noReply());
    const pending = conn.command('db', { ping: 1 });
    conn.destroy();
    conn.destroy(new Error('second call ignored'));
    await expect(pending).rejects.toThrow(`connection to ${server.address} closed`);
    await expect(conn.command('db', { ping: 1 })).rejects.toBeInstanceOf(MongoNetworkError);
    await server.waitForConnectionClose();
  });

  it('aborts a command through an AbortSignal and times it out with timeoutMS', async () => {
    server.setHandler('ping', actions.noReply());
    const conn = await open();
    const controller = new AbortController();
    const pending = conn.command('db', { ping: 1 }, { signal: controller.signal });
    const reason = new Error('stop');
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
    expect(conn.closed).toBe(true);

    const conn2 = await open();
    await expect(conn2.command('db', { ping: 1 }, { timeoutMS: 50 })).rejects.toBeInstanceOf(MongoOperationTimeoutError);
    expect(conn2.closed).toBe(true);
  });
});

/** Builds an OP_MSG reply frame and lets a test corrupt it. */
function replyFrame(responseTo: number, body: Document = { ok: 1 }): Buffer {
  return encodeOpMsg({ requestId: 99, responseTo, body });
}

describe('bad input from the server', () => {
  const expectDead = async (conn: Connection, error: unknown, type: new (...args: never[]) => Error, pattern: RegExp) => {
    expect(error).toBeInstanceOf(type);
    expect((error as Error).message).toContain(server.address);
    expect((error as Error).message).toMatch(pattern);
    expect(conn.closed).toBe(true);
    expect(conn.busy).toBe(false);
    await server.waitForConnectionClose();
    await expect(conn.command('db', { ping: 1 })).rejects.toBeInstanceOf(MongoNetworkError);
  };

  const failWith = async (reply: ReturnType<typeof actions.raw>) => {
    const conn = await open();
    server.setHandler('ping', reply);
    const error = await conn.command('db', { ping: 1 }).catch((e: unknown) => e);
    return { conn, error };
  };

  it('server closes before answering', async () => {
    const { conn, error } = await failWith(actions.close());
    await expectDead(conn, error, MongoNetworkError, /connection to .* closed/);
  });

  it('server resets the connection', async () => {
    const { conn, error } = await failWith(actions.reset());
    expect(error).toBeInstanceOf(MongoNetworkError);
    await expectDead(conn, error, MongoNetworkError, /connection to/);
  });

  it('server closes mid-message', async () => {
    const { conn, error } = await failWith(actions.halfReply({ ok: 1, payload: 'x'.repeat(100) }));
    await expectDead(conn, error, MongoNetworkError, /connection to .* closed/);
    expect(error).not.toBeInstanceOf(MongoProtocolError);
  });

  it('truncated header then close', async () => {
    const { conn, error } = await failWith(actions.raw((req) => replyFrame(req.requestId).subarray(0, 9), true));
    await expectDead(conn, error, MongoNetworkError, /closed/);
  });

  it('messageLength below 16', async () => {
    const { conn, error } = await failWith(actions.raw(() => Buffer.from([10, 0, 0, 0, 0, 0, 0, 0, 0, 0])));
    await expectDead(conn, error, MongoProtocolError, /invalid message length 10/);
  });

  it('messageLength above maxMessageSizeBytes', async () => {
    const header = Buffer.alloc(16);
    header.writeInt32LE(60_000_000, 0);
    const { conn, error } = await failWith(actions.raw(() => header));
    await expectDead(conn, error, MongoProtocolError, /larger than maxMessageSizeBytes/);
  });

  it('unknown opCode', async () => {
    const { conn, error } = await failWith(
      actions.raw((req) => {
        const frame = replyFrame(req.requestId);
        frame.writeInt32LE(4242, 12);
        return frame;
      })
    );
    await expectDead(conn, error, MongoProtocolError, /unknown opCode 4242/);
  });

  it('OP_MSG with an unknown required flag bit', async () => {
    const { conn, error } = await failWith(
      actions.raw((req) => {
        const frame = replyFrame(req.requestId);
        frame.writeUInt32LE(1 << 2, 16);
        return frame;
      })
    );
    await expectDead(conn, error, MongoProtocolError, /unknown required flag bits/);
  });

  it('kind-1 section overrunning the message', async () => {
    const { conn, error } = await failWith(
      actions.raw((req) => {
        const body = serialize({ ok: 1 });
        const seq = Buffer.alloc(1 + 4 + 2);
        seq[0] = 1;
        seq.writeInt32LE(1000, 1); // claims 1000 bytes, only 6 present
        seq.write('d\0', 5);
        const frame = Buffer.concat([Buffer.alloc(20), Buffer.from([0]), body, seq]);
        frame.writeInt32LE(frame.length, 0);
        frame.writeInt32LE(5, 4);
        frame.writeInt32LE(req.requestId, 8);
        frame.writeInt32LE(OpCode.OP_MSG, 12);
        return frame;
      })
    );
    await expectDead(conn, error, MongoProtocolError, /overruns the message/);
  });

  it('invalid BSON', async () => {
    const { conn, error } = await failWith(
      actions.raw((req) => {
        const frame = replyFrame(req.requestId, { ok: 1 });
        frame[21 + 4] = 0x7e; // element type byte of the body's first field
        return frame;
      })
    );
    await expectDead(conn, error, MongoProtocolError, /invalid BSON/);
  });

  it('a reply whose responseTo matches nothing', async () => {
    const { conn, error } = await failWith(actions.raw((req) => replyFrame(req.requestId + 12345)));
    await expectDead(conn, error, MongoProtocolError, /responseTo .* matches no pending request/);
  });

  it('an unsolicited message on an idle connection closes it', async () => {
    const conn = await open();
    const closed = new Promise<Error>((resolve) => conn.onClose(resolve));
    server.injectRaw(replyFrame(777));
    const error = await closed;
    expect(error).toBeInstanceOf(MongoProtocolError);
    expect(error.message).toContain(server.address);
    expect(conn.closed).toBe(true);
    await server.waitForConnectionClose();
  });

  it('moreToCome on a reply to a request without exhaustAllowed', async () => {
    const { conn, error } = await failWith(
      actions.raw((req) => encodeOpMsg({ requestId: 5, responseTo: req.requestId, body: { ok: 1 }, moreToCome: true }))
    );
    await expectDead(conn, error, MongoProtocolError, /moreToCome/);
  });

  it('a server that never answers: socketTimeoutMS', async () => {
    const conn = await open({ socketTimeoutMS: 100 });
    server.setHandler('ping', actions.noReply());
    const started = Date.now();
    const error = await conn.command('db', { ping: 1 }).catch((e: unknown) => e);
    expect(Date.now() - started).toBeGreaterThanOrEqual(90);
    await expectDead(conn, error, MongoNetworkTimeoutError, /timed out after 100ms/);
  });

  it('socketTimeoutMS does not fire on an idle connection', async () => {
    const conn = await open({ socketTimeoutMS: 50 });
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(conn.closed).toBe(false);
    await expect(conn.command('db', { ping: 1 })).resolves.toEqual({ ok: 1 });
  });

  it('per-command socketTimeoutMS overrides the connection default', async () => {
    const conn = await open({ socketTimeoutMS: 50 });
    server.setHandler('ping', actions.delay(150, { ok: 1 }));
    await expect(conn.command('db', { ping: 1 }, { socketTimeoutMS: 1000 })).resolves.toEqual({ ok: 1 });
    await expect(conn.command('db', { ping: 1 })).rejects.toBeInstanceOf(MongoNetworkTimeoutError);
  });
});

describe('command monitoring hook', () => {
  it('reports started/succeeded/failed for commands after the handshake and auth only', async () => {
    const reports: CommandReport[] = [];
    const conn = await open({
      commandMonitor: (r) => reports.push(r),
      authenticate: async (c) => {
        await c.command('admin', { saslStart: 1 }).catch(() => undefined);
      }
    });
    expect(reports).toEqual([]); // neither the hello nor the auth conversation

    server.setHandler('find', { cursor: { id: Long.ZERO, ns: 'db.c', firstBatch: [] }, ok: 1 });
    await conn.command('db', { find: 'c' });
    await conn.command('db', { nope: 1 }).catch(() => undefined);
    await conn.command('db', { insert: 'c', documents: [{}] }, { moreToCome: true });

    expect(reports.map((r) => [r.phase, r.commandName])).toEqual([
      ['started', 'find'],
      ['succeeded', 'find'],
      ['started', 'nope'],
      ['failed', 'nope'],
      ['started', 'insert'],
      ['succeeded', 'insert']
    ]);
    const [started, succeeded] = reports;
    expect(started).toMatchObject({ databaseName: 'db', address: server.address, connectionId: 0, serverConnectionId: conn.serverConnectionId });
    expect(started.command).toEqual({ find: 'c', $db: 'db' });
    expect(started.requestId).toBe(succeeded.requestId);
    expect(started.requestId).toBe(server.lastCommand('find')?.requestId);
    expect(succeeded.reply?.cursor.ns).toBe('db.c');
    expect(succeeded.duration).toBeGreaterThanOrEqual(0);
    expect(reports[3].error).toBeInstanceOf(MongoServerError);
    expect(reports[5].reply).toEqual({ ok: 1 });
  });
});

describe('pool integration', () => {
  it('fits the pool connection interface', async () => {
    const conn = await open({ id: 7, generation: 3 });
    const pooled: PoolConnection = conn; // compile-time check
    expect(pooled.id).toBe(7);
    expect(pooled.generation).toBe(3);
    pooled.generation = 4;
    expect(conn.generation).toBe(4);
    pooled.interrupt?.(new MongoNetworkError('interrupted'));
    expect(pooled.closed).toBe(true);
    expect(pooled.closeError?.message).toBe('interrupted');
  });

  it('cancels establishment when the request signal aborts', async () => {
    server.setHandler('isMaster', actions.noReply());
    const controller = new AbortController();
    const pending = open({ signal: controller.signal });
    await server.waitForCommand('isMaster');
    const reason = new MongoNetworkError('pool closed');
    controller.abort(reason);
    const error = await pending.catch((e: unknown) => e);
    expect(error).toBe(reason);
    expect(reason.hasErrorLabel(MongoErrorLabel.SystemOverloadedError)).toBe(false);
    await server.waitForConnectionClose();

    const early = new AbortController();
    early.abort(new Error('already'));
    await expect(open({ signal: early.signal })).rejects.toThrow('already');
  });
});

describe('connect failures', () => {
  it('connectTimeoutMS covers a server that accepts and never answers the handshake', async () => {
    server.setHandler('isMaster', actions.noReply());
    const started = Date.now();
    const error = await open({ connectTimeoutMS: 150 }).catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(error).toBeInstanceOf(MongoNetworkTimeoutError);
    expect((error as MongoNetworkTimeoutError).message).toBe(`connection to ${server.address} timed out after 150ms`);
    expect((error as MongoNetworkTimeoutError).beforeHandshake).toBe(true);
    expect((error as MongoNetworkTimeoutError).hasErrorLabel(MongoErrorLabel.SystemOverloadedError)).toBe(true);
    expect((error as MongoNetworkTimeoutError).hasErrorLabel(MongoErrorLabel.RetryableError)).toBe(true);
    await server.waitForConnectionClose();
  });

  it('connectTimeoutMS also covers the authenticate hook', async () => {
    server.setHandler('saslStart', actions.noReply());
    const error = await open({
      connectTimeoutMS: 150,
      authenticate: async (c) => {
        await c.command('admin', { saslStart: 1 });
      }
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MongoNetworkTimeoutError);
    expect((error as MongoNetworkTimeoutError).hasErrorLabel(MongoErrorLabel.SystemOverloadedError)).toBe(false);
    await server.waitForConnectionClose();
  });

  it('a closed handshake connection is a MongoNetworkError with backpressure labels', async () => {
    server.setHandler('isMaster', actions.close());
    const error = (await open().catch((e: unknown) => e)) as MongoNetworkError;
    expect(error).toBeInstanceOf(MongoNetworkError);
    expect(error.message).toContain(server.address);
    expect(error.beforeHandshake).toBe(true);
    expect(error.errorLabels).toEqual(expect.arrayContaining(['SystemOverloadedError', 'RetryableError']));
  });

  it('connection refused', async () => {
    const port = server.port;
    await server.close();
    const error = (await connect({ address: `127.0.0.1:${port}` }).catch((e: unknown) => e)) as MongoNetworkError;
    expect(error).toBeInstanceOf(MongoNetworkError);
    expect(error.message).toContain(`127.0.0.1:${port}`);
    expect(error.message).toContain('ECONNREFUSED');
    server = await MockServer.start(); // for afterEach
  });
});

describe('Unix domain socket', () => {
  it('connects to a .sock path', async () => {
    const socketPath = path.join(os.tmpdir(), `mongowire-test-${process.pid}-${Date.now()}.sock`);
    const unixServer = await MockServer.start({ path: socketPath });
    try {
      const conn = await connect({ address: socketPath });
      connections.push(conn);
      expect(await conn.command('db', { ping: 1 })).toEqual({ ok: 1 });
      expect(unixServer.commands('ping')).toHaveLength(1);
    } finally {
      for (const c of connections.splice(0)) c.destroy();
      await unixServer.close();
    }
  });
});

describe('raw sockets', () => {
  it('sets TCP_NODELAY and keep-alive (smoke: a handshake over a plain net server)', async () => {
    // A bare server that answers the hello by hand, to check the connection works against
    // something other than the mock.
    const bare = net.createServer((socket) => {
      socket.once('data', (chunk: Buffer) => {
        socket.write(encodeOpMsg({ requestId: 1, responseTo: chunk.readInt32LE(4), body: { isWritablePrimary: true, ok: 1 } }));
      });
    });
    await new Promise<void>((resolve) => bare.listen(0, '127.0.0.1', resolve));
    const port = (bare.address() as net.AddressInfo).port;
    const conn = await connect({ address: `127.0.0.1:${port}` });
    expect(conn.hello?.isWritablePrimary).toBe(true);
    conn.destroy();
    await new Promise<void>((resolve) => bare.close(() => resolve()));
  });
});
