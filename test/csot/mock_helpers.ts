/**
 * Shared set-up for the CSOT tests over the mock server: a replica-set primary, a client with
 * direct connection, and scripted commands whose replies can be delayed one at a time.
 */
import { Long, type Document } from 'bson';
import { MongoClient } from '../../src/mongo_client';
import { MockAction, MockServer, type RecordedCommand } from '../tools/mock_server';

export interface MockDeployment {
  server: MockServer;
  client: MongoClient;
  /** Delays (ms) for the next replies of a command, consumed in order. */
  delays: Record<string, number[]>;
  /** Bodies of the commands named `name` the server received. */
  sent(name: string): Document[];
  close(): Promise<void>;
}

/** Replies with `reply(request)`, delayed by the next queued delay of that command (if any). */
export function script(d: MockDeployment, name: string, reply: (request: RecordedCommand) => Document): void {
  d.server.setHandler(name, (request) => {
    const delay = d.delays[name]?.shift();
    const answer = reply(request);
    return delay ? MockAction.delay(delay, answer) : answer;
  });
}

/** A cursor reply for `find`/`aggregate` (`firstBatch`) or `getMore` (`nextBatch`). */
export function cursorReply(request: RecordedCommand, documents: Document[], id: number): Document {
  const first = request.commandName !== 'getMore';
  const collection = first ? request.body[request.commandName] : request.body.collection;
  return { cursor: { id: Long.fromNumber(id), ns: `${request.db}.${String(collection)}`, [first ? 'firstBatch' : 'nextBatch']: documents }, ok: 1 };
}

export async function startDeployment(uriOptions = ''): Promise<MockDeployment> {
  const server = await MockServer.start({ type: 'primary', setName: 'rs0' });
  const client = new MongoClient(`mongodb://${server.address}/?directConnection=true&heartbeatFrequencyMS=500${uriOptions}`);
  await client.connect();
  const d: MockDeployment = {
    server,
    client,
    delays: {},
    sent: (name) => server.commands(name).map((c) => c.body),
    close: async () => {
      await client.close();
      await server.close();
    }
  };
  return d;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The rejection of `promise` (fails the test when it resolves). */
export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}
