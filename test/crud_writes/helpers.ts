/** Shared setup for the write tests: a mock server (replica-set primary, sessions) and a client. */
import type { Document } from 'bson';
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
