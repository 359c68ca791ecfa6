/**
 * The CRUD unified tests (crud/tests/unified/*.json), write operations only, against the mock
 * server: each write API call is executed with the test's arguments and the commands the server
 * receives are matched (unified "Evaluating Matches" rules) with the test's expected
 * `commandStartedEvent.command`s. Client-side errors (`isClientError`) must be raised before
 * anything is sent. Server behaviour (data, results, server errors) is out of scope here: the
 * mock acknowledges every write.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { EJSON, type Document } from 'bson';
import { MongoServerError } from '../../src/errors';
import { MongoClient } from '../../src/mongo_client';
import type { Collection } from '../../src/collection';
import { matchResult } from '../../spec-tests/unified/matcher';
import { MockServer } from '../tools/mock_server';
import { acknowledgeAllOps } from './helpers';

const SPEC_DIR = path.resolve(__dirname, '../../../shared/specifications/source/crud/tests/unified');
const WRITE_OPS = new Set([
  'insertOne',
  'insertMany',
  'updateOne',
  'updateMany',
  'replaceOne',
  'deleteOne',
  'deleteMany',
  'findOneAndUpdate',
  'findOneAndReplace',
  'findOneAndDelete',
  'bulkWrite',
  'clientBulkWrite'
]);

/** Server version (major.minor) → maxWireVersion. */
const WIRE_VERSIONS: Array<[number, number]> = [
  [3.6, 6],
  [4.0, 7],
  [4.2, 8],
  [4.4, 9],
  [5.0, 13],
  [5.1, 14],
  [6.0, 17],
  [7.0, 21],
  [8.0, 25],
  [8.1, 26],
  [8.2, 27]
];

function versionNumber(version: string): number {
  const [major, minor] = version.split('.').map(Number);
  return major + (minor ?? 0) / 10;
}

function wireFor(version: string): number {
  const v = versionNumber(version);
  let wire = 6;
  for (const [ver, w] of WIRE_VERSIONS) if (v >= ver) wire = w;
  return wire;
}

interface Requirement {
  minServerVersion?: string;
  maxServerVersion?: string;
  topologies?: string[];
  serverless?: string;
}

/** A wire version meeting one of the requirements (on a replica set), or undefined. */
function chooseWireVersion(requirements: Requirement[] | undefined): number | undefined {
  if (!requirements || requirements.length === 0) return 25;
  for (const r of requirements) {
    if (r.topologies && !r.topologies.some((t) => t === 'replicaset' || t === 'single')) continue;
    if (r.serverless === 'require') continue;
    const min = r.minServerVersion ? wireFor(r.minServerVersion) : 6;
    const max = r.maxServerVersion ? wireFor(r.maxServerVersion) : Math.max(25, min);
    if (min <= max) return max;
  }
  return undefined;
}

interface UnifiedOperation {
  name: string;
  object: string;
  arguments?: Document;
  expectError?: Document;
}

interface UnifiedTest {
  description: string;
  runOnRequirements?: Requirement[];
  operations: UnifiedOperation[];
  expectEvents?: Array<{ client: string; eventType?: string; events: Document[]; ignoreExtraEvents?: boolean }>;
  skipReason?: string;
}

interface UnifiedFile {
  runOnRequirements?: Requirement[];
  createEntities?: Document[];
  tests: UnifiedTest[];
}

function readFile(file: string): UnifiedFile {
  return EJSON.parse(fs.readFileSync(path.join(SPEC_DIR, file), 'utf8'), { relaxed: false }) as UnifiedFile;
}

/** Why this test is not run here, or undefined when it is. */
function skipReason(file: UnifiedFile, test: UnifiedTest): string | undefined {
  if (test.skipReason) return test.skipReason;
  const others = test.operations.filter((o) => !WRITE_OPS.has(o.name)).map((o) => o.name);
  if (others.length > 0) return `uses ${others.join(', ')} (needs a live deployment or a read operation)`;
  if (test.operations.some((o) => o.arguments?.rawData !== undefined)) return 'rawData: an internal time-series option drivers SHOULD NOT implement unless asked (crud/bulk-write.md)';
  if (chooseWireVersion(test.runOnRequirements ?? file.runOnRequirements) === undefined) return 'runOnRequirements cannot be met by a replica-set mock';
  return undefined;
}

const files = fs.existsSync(SPEC_DIR) ? fs.readdirSync(SPEC_DIR).filter((f) => f.endsWith('.json')).sort() : [];
const writeFiles = files.filter((f) => readFile(f).tests.some((t) => t.operations.some((o) => WRITE_OPS.has(o.name))));

function lowerReturnDocument(args: Document): Document {
  if (typeof args.returnDocument === 'string') return { ...args, returnDocument: args.returnDocument.toLowerCase() };
  return args;
}

/** `{ insertOne: { namespace, document } }` → `{ name: 'insertOne', namespace, document }`. */
function clientModel(model: Document): Document {
  const [name] = Object.keys(model);
  return { name, ...(model[name] as Document) };
}

async function runOperation(op: UnifiedOperation, entities: Entities): Promise<unknown> {
  const { filter, update, replacement, document, documents, requests, models, writeConcern, ...rest } = lowerReturnDocument(op.arguments ?? {});
  const options = writeConcern === undefined ? rest : { ...rest, writeConcern: relaxed(writeConcern) };
  if (op.name === 'clientBulkWrite') {
    const client = entities.clients.get(op.object) as MongoClient;
    return client.bulkWrite((models as Document[]).map(clientModel) as never, options);
  }
  const collection = entities.collections.get(op.object) as Collection;
  switch (op.name) {
    case 'insertOne':
      return collection.insertOne(document as Document, options);
    case 'insertMany':
      return collection.insertMany(documents as Document[], options);
    case 'updateOne':
      return collection.updateOne(filter as Document, update as Document, options);
    case 'updateMany':
      return collection.updateMany(filter as Document, update as Document, options);
    case 'replaceOne':
      return collection.replaceOne(filter as Document, replacement as Document, options);
    case 'deleteOne':
      return collection.deleteOne(filter as Document, options);
    case 'deleteMany':
      return collection.deleteMany(filter as Document, options);
    case 'findOneAndUpdate':
      return collection.findOneAndUpdate(filter as Document, update as Document, options);
    case 'findOneAndReplace':
      return collection.findOneAndReplace(filter as Document, replacement as Document, options);
    case 'findOneAndDelete':
      return collection.findOneAndDelete(filter as Document, options);
    case 'bulkWrite':
      return collection.bulkWrite(requests as never, options);
    default:
      throw new Error(`not a write operation: ${op.name}`);
  }
}

/** Canonical EJSON wrappers (Int32…) → plain values, for options the driver validates (w: 0). */
function relaxed<T>(value: T): T {
  return value === undefined ? value : (EJSON.parse(EJSON.stringify(value as Document, { relaxed: false }), { relaxed: true }) as T);
}

interface Entities {
  clients: Map<string, MongoClient>;
  collections: Map<string, Collection>;
}

/** Creates the file's clients, databases and collections against the mock server. */
async function createEntities(file: UnifiedFile, server: MockServer): Promise<Entities> {
  const clients = new Map<string, MongoClient>();
  const databases = new Map<string, ReturnType<MongoClient['db']>>();
  const collections = new Map<string, Collection>();
  for (const e of file.createEntities ?? []) {
    if (e.client) {
      const uriOptions = Object.entries(relaxed((e.client.uriOptions as Document | undefined) ?? {}))
        .map(([k, v]) => `&${k}=${String(v)}`)
        .join('');
      const client = new MongoClient(`mongodb://${server.address}/?directConnection=true${uriOptions}`);
      clients.set(String(e.client.id), client);
      await client.connect();
    } else if (e.database) {
      const client = clients.get(String(e.database.client)) as MongoClient;
      databases.set(String(e.database.id), client.db(String(e.database.databaseName), relaxed(e.database.databaseOptions as Document | undefined)));
    } else if (e.collection) {
      const db = databases.get(String(e.collection.database));
      if (db) collections.set(String(e.collection.id), db.collection(String(e.collection.collectionName), relaxed(e.collection.collectionOptions as Document | undefined)));
    }
  }
  return { clients, collections };
}

async function waitForCommands(server: MockServer, count: number): Promise<void> {
  const deadline = Date.now() + 1000;
  while (server.nonHelloCommands().filter((c) => c.commandName !== 'endSessions').length < count && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe.each(writeFiles)('%s', (fileName) => {
  const file = readFile(fileName);
  for (const test of file.tests) {
    const reason = skipReason(file, test);
    if (reason) {
      it.skip(`${test.description} (${reason})`, () => undefined);
      continue;
    }
    it(test.description, async () => {
      const wire = chooseWireVersion(test.runOnRequirements ?? file.runOnRequirements) as number;
      const server = await MockServer.start({ type: 'primary', setName: 'rs', maxWireVersion: wire, helloExtra: { logicalSessionTimeoutMinutes: 30 } });
      server.state.hosts = [server.address];
      server.state.primary = server.address;
      server.setHandler('bulkWrite', acknowledgeAllOps);
      let entities: Entities | undefined;
      try {
        entities = await createEntities(file, server);
        for (const op of test.operations) {
          let error: unknown;
          try {
            await runOperation(op, entities);
          } catch (e) {
            error = e;
          }
          if (op.expectError?.isClientError === true) {
            expect(error).toBeDefined();
            expect(error).not.toBeInstanceOf(MongoServerError);
          } else if (!op.expectError && error !== undefined) {
            throw error;
          }
        }
        // A server error the mock does not produce would have stopped the test's writes early.
        const serverErrorExpected = test.operations.some((op) => op.expectError && op.expectError.isClientError !== true);
        for (const expected of test.expectEvents ?? []) {
          if (expected.eventType && expected.eventType !== 'command') continue;
          const started = expected.events.filter((e) => e.commandStartedEvent).map((e) => e.commandStartedEvent as Document);
          await waitForCommands(server, started.length);
          const actual = server.nonHelloCommands().filter((c) => c.commandName !== 'endSessions');
          if (expected.ignoreExtraEvents || serverErrorExpected) expect(actual.length).toBeGreaterThanOrEqual(started.length);
          else expect(actual.map((c) => c.commandName)).toEqual(started.map((e, i) => e.commandName ?? actual[i]?.commandName));
          started.forEach((event, i) => {
            const got = actual[i];
            if (event.commandName !== undefined) expect(got.commandName).toBe(event.commandName);
            if (event.databaseName !== undefined) expect(got.db).toBe(event.databaseName);
            if (event.command !== undefined) {
              const result = matchResult(event.command, got.body);
              if (!result.ok) throw new Error(`command ${i} (${got.commandName}) at ${result.path}: ${result.message}`);
            }
          });
        }
      } finally {
        for (const client of entities?.clients.values() ?? []) await client.close();
        await server.close();
      }
    });
  }
});
