/** Tests of the test tools themselves: the mock server and the mock replica set. */
import * as net from 'net';
import { ObjectId } from 'bson';
import { MongoNetworkError } from '../../src/errors';
import { connect, type Connection } from '../../src/pool/connection';
import { MessageReader, OpCode, decodeMessage, encodeOpQuery, type OpReplyMessage } from '../../src/wire';
import { MockServer } from '../tools/mock_server';
import { MockReplicaSet } from '../tools/mock_replica_set';

const connections: Connection[] = [];
afterEach(() => {
  for (const c of connections.splice(0)) c.destroy();
});

async function open(address: string): Promise<Connection> {
  const conn = await connect({ address, connectTimeoutMS: 2000 });
  connections.push(conn);
  return conn;
}

describe('MockServer', () => {
  it('answers a legacy OP_QUERY hello with OP_REPLY', async () => {
    const server = await MockServer.start({ type: 'mongos' });
    const socket = net.createConnection({ host: '127.0.0.1', port: server.port });
    try {
      await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
      const reader = new MessageReader();
      const reply = new Promise<OpReplyMessage>((resolve) => {
        socket.on('data', (chunk: Buffer) => {
          const [frame] = reader.push(chunk);
          if (frame) resolve(decodeMessage(frame) as OpReplyMessage);
        });
      });
      socket.write(encodeOpQuery({ requestId: 42, fullCollectionName: 'admin.$cmd', query: { isMaster: 1, helloOk: true }, numberToReturn: -1 }));
      const message = await reply;
      expect(message.opCode).toBe(OpCode.OP_REPLY);
      expect(message.header.responseTo).toBe(42);
      expect(message.documents[0]).toMatchObject({ ismaster: true, msg: 'isdbgrid', helloOk: true, maxWireVersion: 25, ok: 1 });
      const [rec] = server.hellos();
      expect(rec).toMatchObject({ opCode: OpCode.OP_QUERY, db: 'admin', commandName: 'isMaster', requestId: 42 });
    } finally {
      socket.destroy();
      await server.close();
    }
  });

  it('records commands with connection ids and filters them', async () => {
    const server = await MockServer.start();
    try {
      const a = await open(server.address);
      const b = await open(server.address);
      await a.command('db1', { ping: 1 });
      await b.command('db2', { buildInfo: 1 });
      expect(server.nonHelloCommands().map((r) => [r.commandName, r.db])).toEqual([['ping', 'db1'], ['buildInfo', 'db2']]);
      expect(server.commands('ping')[0].connectionId).toBe(a.serverConnectionId);
      expect(server.commands('buildInfo')[0].connectionId).toBe(b.serverConnectionId);
      expect(server.openConnectionCount).toBe(2);
      server.clearRecords();
      expect(server.commands()).toEqual([]);
    } finally {
      await server.close();
    }
  });

  it('answers awaitable hello when the topology changes or maxAwaitTimeMS elapses', async () => {
    const server = await MockServer.start();
    try {
      const conn = await open(server.address);
      const tv = conn.hello?.topologyVersion;
      const started = Date.now();
      const timedOut = await conn.command('admin', { hello: 1, topologyVersion: tv, maxAwaitTimeMS: 100 });
      expect(Date.now() - started).toBeGreaterThanOrEqual(90);
      expect(timedOut.topologyVersion.counter).toBe(0);
      const changed = conn.command('admin', { hello: 1, topologyVersion: tv, maxAwaitTimeMS: 10_000 });
      await server.waitForCommand('hello');
      server.setState({ type: 'secondary', setName: 'rs' });
      const reply = await changed;
      expect(reply).toMatchObject({ isWritablePrimary: false, secondary: true, setName: 'rs' });
      expect(reply.topologyVersion.counter).toBe(1);
    } finally {
      await server.close();
    }
  });
});

describe('MockReplicaSet', () => {
  it('members know each other, the primary can move, members go down and come back', async () => {
    const rs = await MockReplicaSet.start({ members: 3, arbiters: 1 });
    try {
      const [m0, m1] = rs.members;
      const hello0 = (await open(m0.address)).hello!;
      expect(hello0).toMatchObject({ setName: 'rs0', ismaster: true, hosts: rs.addresses.slice(0, 3), arbiters: [rs.addresses[3]], primary: m0.address, me: m0.address });
      expect(hello0.electionId).toBeInstanceOf(ObjectId);
      const arbiter = (await open(rs.members[3].address)).hello!;
      expect(arbiter).toMatchObject({ arbiterOnly: true, secondary: false, ismaster: false });

      rs.setPrimary(1);
      const hello1 = (await open(m1.address)).hello!;
      expect(hello1).toMatchObject({ ismaster: true, primary: m1.address });
      expect((hello1.electionId as ObjectId).toHexString() > (hello0.electionId as ObjectId).toHexString()).toBe(true);
      expect((await open(m0.address)).hello).toMatchObject({ ismaster: false, secondary: true, primary: m1.address });

      const live = await open(m0.address);
      const port = m0.port;
      await rs.stopMember(0);
      await expect(live.command('admin', { ping: 1 })).rejects.toBeInstanceOf(MongoNetworkError);
      await expect(connect({ address: m0.address, connectTimeoutMS: 500 })).rejects.toBeInstanceOf(MongoNetworkError);
      await rs.startMember(0);
      expect(m0.port).toBe(port);
      expect((await open(m0.address)).hello).toMatchObject({ setName: 'rs0', secondary: true });
    } finally {
      for (const c of connections.splice(0)) c.destroy();
      await rs.close();
    }
  });
});
