/** A loosely typed schema for tests: any `_id` type, any fields. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests write arbitrary fields, as with the official `Document`
export type TestDoc = { _id?: number | string | ObjectId; [key: string]: any };

/** Shared setup for the write tests: a mock server (replica-set primary, sessions) and a client. */
import { Long, type Document, type ObjectId } from 'bson';
import { MongoClient } from '../../src/mongo_client';
import { MockServer, type MockServerOptions, type RecordedCommand } from '../tools/mock_server';

export interface WriteFixture {
  server: MockServer;
  client: MongoClient;
  /** Non-hello commands named `name` the server received. */
  sent(name: string): RecordedCommand[];
  close(): Promise<void>;
}

/** A primary of replica set `rs` (so writes are retryable) with optional hello overrides. */
export async function startWriteFixture(options: MockServerOptions & { uri?: string; helloExtra?: Document } = {}): Promise<WriteFixture> {
  const { uri, helloExtra, ...serverOptions } = options;
  const server = await MockServer.start({
    type: 'primary',
    setName: 'rs',
    ...serverOptions,
    helloExtra: { logicalSessionTimeoutMinutes: 30, ...helloExtra }
  });
  server.state.hosts = [server.address];
  server.state.primary = server.address;
  const client = new MongoClient(`mongodb://${server.address}/?directConnection=true&heartbeatFrequencyMS=500${uri ?? ''}`);
  await client.connect();
  return {
    server,
    client,
    sent: (name) => server.commands(name),
    close: async () => {
      await client.close();
      await server.close();
    }
  };
}

/** A `bulkWrite` (client bulk write) reply whose results cursor holds `results`. */
export function bulkWriteReply(results: Document[], counts: Document = {}, cursorId = 0): Document {
  return {
    ok: 1,
    cursor: { id: Long.fromNumber(cursorId), firstBatch: results, ns: 'admin.$cmd.bulkWrite' },
    nErrors: results.filter((r) => r.ok === 0).length,
    nInserted: 0,
    nUpserted: 0,
    nMatched: 0,
    nModified: 0,
    nDeleted: 0,
    ...counts
  };
}

/** Acknowledges every op of a `bulkWrite` command with `{ ok: 1, idx, n: 1 }`. */
export function acknowledgeAllOps(request: RecordedCommand): Document {
  return bulkWriteReply(((request.body.ops as Document[] | undefined) ?? []).map((_, idx) => ({ ok: 1, idx, n: 1 })));
}
