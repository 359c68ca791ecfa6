/**
 * The floor: a bare socket writes a pre-built OP_MSG `find` (the same command a driver sends for
 * `findOne({_id})`) and waits for the whole reply, with no driver logic. Sequential round trips
 * per second; no driver can beat it on the same server.
 */
import * as net from 'node:net';
import { UUID } from 'bson';
import { DB_NAME, SINGLE_COLLECTION, SINGLE_ID } from './dataset';
import { opMsg } from './wire_frames';

export class BareSocket {
  private constructor(
    private readonly socket: net.Socket,
    private readonly message: Buffer
  ) {}

  static async open(host: string, port: number): Promise<BareSocket> {
    const socket = net.createConnection({ host, port });
    socket.setNoDelay(true);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const message = opMsg(1, 0, {
      find: SINGLE_COLLECTION,
      filter: { _id: SINGLE_ID },
      limit: 1,
      singleBatch: true,
      batchSize: 1,
      lsid: { id: new UUID() },
      $db: DB_NAME
    });
    return new BareSocket(socket, message);
  }

  /** `count` sequential round trips; resolves with the elapsed milliseconds. */
  roundTrips(count: number): Promise<number> {
    const { socket, message } = this;
    return new Promise<number>((resolve, reject) => {
      let done = 0;
      let received = 0;
      let expected = -1;
      const start = performance.now();
      const finish = (error?: Error) => {
        socket.removeListener('data', onData);
        socket.removeListener('error', finish);
        if (error) reject(error);
        else resolve(performance.now() - start);
      };
      const onData = (chunk: Buffer) => {
        if (expected < 0) expected = chunk.readInt32LE(0);
        received += chunk.length;
        if (received < expected) return;
        received = 0;
        expected = -1;
        if (++done === count) finish();
        else socket.write(message);
      };
      socket.on('data', onData);
      socket.once('error', finish);
      socket.write(message);
    });
  }

  close(): void {
    this.socket.destroy();
  }
}
