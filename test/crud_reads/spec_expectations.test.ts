/**
 * The read, index and collection-management unified spec tests (crud/tests/unified, index-management,
 * collection-management), loaded in place and run against the mock server backed by an in-memory
 * store: every operation's `expectResult`, `expectError`, the exact `commandStartedEvent`s in
 * `expectEvents`, and `outcome` are checked with the unified matcher.
 *
 * Server versions and topologies come from `runOnRequirements` (the highest mock wire version that
 * satisfies them; a replica-set primary for replicaset-only files). Errors that only a real server
 * produces (e.g. allowDiskUse on 4.2) are injected as a one-shot reply with the expected code, so the
 * commands and the error propagation are still checked.
 */
import * as fs from 'fs';
import * as path from 'path';
import { EJSON, type Document } from 'bson';
import { MongoClient } from '../../src/mongo_client';
import { MongoDriverError, MongoError, MongoNetworkError, MongoServerError } from '../../src/errors';
import type { CommandStartedEvent } from '../../src/command_monitoring';
import type { Collection } from '../../src/collection';
import type { Database } from '../../src/database';
import { matchIterableResult, matchResult } from '../../spec-tests/unified/matcher';
import { MockAction, MockServer, type MockServerType } from '../tools/mock_server';
import { MiniMongod } from '../tools/mini_mongod';

const SPECS = '/work/shared/specifications/source';

const CRUD_READ_FILES = fs
  .readdirSync(path.join(SPECS, 'crud/tests/unified'))
  .filter((f) => /^(aggregate|count|countDocuments|db-aggregate|distinct|estimatedDocumentCount|find|findOne)[-.]/.test(f) && !f.startsWith('findOneAnd'))
  .map((f) => `crud/tests/unified/${f}`);
const MANAGEMENT_FILES = [
  'index-management/tests/index-rawdata.json',
  'collection-management/tests/clustered-indexes.json',
  'collection-management/tests/createCollection-pre_and_post_images.json',
  'collection-management/tests/listCollections-rawdata.json',
  'collection-management/tests/timeseries-collection.json'
];

/** The deprecated `count` helper is not part of this API (crud.md lets drivers omit it). */
const UNSUPPORTED_OPERATIONS: Record<string, string> = {
  count: 'Collection.count is deprecated and not provided (crud.md: countDocuments/estimatedDocumentCount replace it)'
};

const VERSIONS: Array<[string, number]> = [
  ['4.2.0', 8],
  ['4.4.0', 9],
  ['5.0.0', 13],
  ['6.0.0', 17],
  ['7.0.0', 21],
  ['7.1.0', 22],
  ['8.0.0', 25],
  ['8.2.0', 27]
];

interface Requirement {
  minServerVersion?: string;
  maxServerVersion?: string;
  topologies?: string[];
  serverless?: string;
  auth?: boolean;
  csfle?: boolean;
}

function versionCompare(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 3; i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

interface Deployment {
  wireVersion: number;
  type: MockServerType;
}

/** The newest mock deployment satisfying one requirement of each list, or a reason to skip. */
function chooseDeployment(lists: Array<Requirement[] | undefined>): Deployment | string {
  const candidates: Deployment[] = [];
  for (const [version, wireVersion] of [...VERSIONS].reverse()) {
    for (const type of ['standalone', 'primary', 'mongos'] as MockServerType[]) {
      const topology = type === 'standalone' ? 'single' : type === 'primary' ? 'replicaset' : 'sharded';
      const ok = lists.every(
        (list) =>
          !list ||
          list.some(
            (r) =>
              (!r.minServerVersion || versionCompare(version, r.minServerVersion) >= 0) &&
              (!r.maxServerVersion || versionCompare(version, r.maxServerVersion) <= 0) &&
              (!r.topologies || r.topologies.includes(topology)) &&
              r.serverless !== 'require' &&
              r.auth !== true &&
              r.csfle !== true
          )
      );
      if (ok) candidates.push({ wireVersion, type });
    }
  }
  return candidates[0] ?? 'needs a deployment the mock cannot provide (auth, CSFLE or serverless)';
}

interface Handles {
  client: MongoClient;
  databases: Map<string, Database>;
  collections: Map<string, Collection>;
}

function entityOptions(options: Document | undefined): Document {
  return options ?? {};
}

async function runOperation(op: Document, args: Document, h: Handles, mini: MiniMongod): Promise<unknown> {
  const target = op.object as string;
  const coll = h.collections.get(target);
  const db = h.databases.get(target);
  const { filter, pipeline, ...rest } = args;
  switch (op.name as string) {
    case 'find':
      return (coll as Collection).find(filter, rest).toArray();
    case 'findOne':
      return (coll as Collection).findOne(filter, rest);
    case 'aggregate':
      return (coll ?? (db as Database)).aggregate(pipeline, rest).toArray();
    case 'countDocuments':
      return (coll as Collection).countDocuments(filter, rest);
    case 'estimatedDocumentCount':
      return (coll as Collection).estimatedDocumentCount(rest);
    case 'distinct': {
      const { fieldName, ...options } = rest;
      return (coll as Collection).distinct(fieldName as string, filter, options);
    }
    case 'createCollection': {
      const { collection, ...options } = args;
      await (db as Database).createCollection(collection as string, options);
      return undefined;
    }
    case 'dropCollection': {
      const { collection, ...options } = rest;
      return (db as Database).dropCollection(collection as string, options);
    }
    case 'listCollections':
      return (db as Database).listCollections(filter, rest).toArray();
    case 'listIndexes':
      return (coll as Collection).listIndexes(rest).toArray();
    case 'createIndex': {
      const { keys, ...options } = rest;
      return (coll as Collection).createIndex(keys as Document, options);
    }
    case 'dropIndex': {
      const { name, ...options } = rest;
      return (coll as Collection).dropIndex(name as string, options);
    }
    case 'insertMany': {
      const { documents, ...options } = rest;
      return (coll as Collection).insertMany(documents as Document[], options);
    }
    case 'assertCollectionExists':
      if (!mini.exists(rest.databaseName as string, rest.collectionName as string)) throw new Error(`collection ${String(rest.collectionName)} does not exist`);
      return undefined;
    case 'failPoint': {
      const fp = rest.failPoint as Document;
      const data = fp.data as Document;
      for (const commandName of data.failCommands as string[]) {
        mini.injectError({
          commandName,
          reply: data.closeConnection ? MockAction.close() : { ok: 0, code: data.errorCode, errmsg: 'failpoint', errorLabels: data.errorLabels ?? [] }
        });
      }
      return undefined;
    }
    default:
      throw new Error(`unexpected operation ${String(op.name)}`);
  }
}

/** Commands the unified runner never reports (handshake, monitoring, failpoints). */
const IGNORED = new Set(['hello', 'isMaster', 'ismaster', 'configureFailPoint', 'endSessions', 'buildInfo', 'buildinfo']);

interface Case {
  file: string;
  description: string;
  run: () => Promise<void>;
  skip?: string;
}

function loadCases(file: string): Case[] {
  const text = fs.readFileSync(path.join(SPECS, file), 'utf8');
  const strict = EJSON.parse(text, { relaxed: false }) as Document;
  const relaxed = EJSON.parse(text, { relaxed: true }) as Document;
  const cases: Case[] = [];
  (strict.tests as Document[]).forEach((test, index) => {
    const relaxedTest = (relaxed.tests as Document[])[index];
    const unsupported = (test.operations as Document[]).map((o) => UNSUPPORTED_OPERATIONS[o.name as string]).find(Boolean);
    const deployment = chooseDeployment([strict.runOnRequirements as Requirement[] | undefined, test.runOnRequirements as Requirement[] | undefined]);
    cases.push({
      file,
      description: test.description as string,
      skip: unsupported ?? (typeof deployment === 'string' ? deployment : test.skipReason ? String(test.skipReason) : undefined),
      run: () => runCase(relaxed, strict, relaxedTest, test, deployment as Deployment)
    });
  });
  return cases;
}

async function runCase(relaxedFile: Document, file: Document, relaxedTest: Document, test: Document, deployment: Deployment): Promise<void> {
  const server = await MockServer.start({ type: deployment.type, maxWireVersion: deployment.wireVersion });
  const mini = new MiniMongod(server);
  for (const data of (relaxedFile.initialData as Document[] | undefined) ?? []) mini.seed(data.databaseName, data.collectionName, data.documents);
  const clients = new Map<string, { client: MongoClient; events: CommandStartedEvent[] }>();
  const handles: Handles[] = [];
  try {
    const databases = new Map<string, Database>();
    const collections = new Map<string, Collection>();
    for (const entity of relaxedFile.createEntities as Document[]) {
      if (entity.client) {
        const uriOptions = entityOptions(entity.client.uriOptions);
        const query = new URLSearchParams({ ...(deployment.type === 'primary' ? { replicaSet: 'rs0' } : { directConnection: 'true' }), ...Object.fromEntries(Object.entries(uriOptions).map(([k, v]) => [k, String(v)])) });
        const client = new MongoClient(`mongodb://${server.address}/?${query.toString()}`, { monitorCommands: true, serverSelectionTimeoutMS: 2000 });
        const events: CommandStartedEvent[] = [];
        client.on('commandStarted', (event) => {
          if (!IGNORED.has(event.commandName)) events.push(event);
        });
        clients.set(entity.client.id, { client, events });
      } else if (entity.database) {
        const client = clients.get(entity.database.client)?.client as MongoClient;
        databases.set(entity.database.id, client.db(entity.database.databaseName, entityOptions(entity.database.databaseOptions)));
      } else if (entity.collection) {
        const db = databases.get(entity.collection.database) as Database;
        collections.set(entity.collection.id, db.collection(entity.collection.collectionName, entityOptions(entity.collection.collectionOptions)));
      }
    }
    const first = [...clients.values()][0]?.client as MongoClient;
    handles.push({ client: first, databases, collections });

    const operations = test.operations as Document[];
    const relaxedOperations = relaxedTest.operations as Document[];
    for (let i = 0; i < operations.length; i++) {
      const op = operations[i];
      const args = (relaxedOperations[i].arguments as Document | undefined) ?? {};
      const expectError = op.expectError as Document | undefined;
      if (expectError && !expectError.isClientError && op.name !== 'failPoint' && !operations.slice(0, i).some((o) => o.name === 'failPoint')) {
        // An error only a real server produces: answer the first command with it.
        const started = ((test.expectEvents as Document[] | undefined)?.[0]?.events as Document[] | undefined)?.[0]?.commandStartedEvent as Document | undefined;
        const firstCommand = (started?.commandName as string | undefined) ?? Object.keys((started?.command as Document | undefined) ?? {})[0];
        const code = expectError.errorCode !== undefined ? Number(expectError.errorCode) : 2;
        if (firstCommand) mini.injectError({ commandName: firstCommand, reply: { ok: 0, code, errmsg: 'injected server error' } });
      }
      let result: unknown;
      let error: unknown;
      try {
        result = await runOperation(op, args, handles[0], mini);
      } catch (caught) {
        error = caught;
      }
      if (expectError) {
        expect(error).toBeInstanceOf(MongoError);
        // Client errors are driver-side errors, network errors included.
        const clientError = error instanceof MongoDriverError || error instanceof MongoNetworkError;
        if (expectError.isClientError !== undefined) expect(clientError).toBe(expectError.isClientError);
        if (expectError.errorResponse !== undefined) {
          const check = matchResult(expectError.errorResponse, (error as MongoServerError).errorResponse);
          expect(check.ok ? 'ok' : `errorResponse ${check.path}: ${check.message}`).toBe('ok');
        }
        if (expectError.errorCode !== undefined) expect((error as MongoServerError).code).toBe(Number(expectError.errorCode));
        continue;
      }
      if (error) throw error;
      if (op.expectResult !== undefined) {
        // Cursor results: each element is a root-level document (extra keys allowed).
        const check = Array.isArray(result) ? matchIterableResult(op.expectResult, result) : matchResult(op.expectResult, result);
        expect(check.ok ? 'ok' : `${op.name as string} result ${check.path}: ${check.message}`).toBe('ok');
      }
    }

    for (const expected of (test.expectEvents as Document[] | undefined) ?? []) {
      const observed = clients.get(expected.client as string)?.events ?? [];
      const expectedEvents = (expected.events as Document[]).filter((e) => e.commandStartedEvent);
      if (!expected.ignoreExtraEvents) expect(observed.map((e) => e.commandName)).toEqual(expectedEvents.map((e) => e.commandStartedEvent.commandName ?? expect.any(String)));
      expectedEvents.forEach((e, index) => {
        const actual = observed[index];
        const { command, ...fields } = e.commandStartedEvent as Document;
        // The command is a root-level document (extra keys such as lsid and $db allowed).
        let check = matchResult(command ?? {}, actual?.command);
        if (check.ok) check = matchResult(fields, actual && { commandName: actual.commandName, databaseName: actual.databaseName });
        expect(check.ok ? 'ok' : `event ${index} ${check.path}: ${check.message}`).toBe('ok');
      });
    }

    for (const outcome of (file.outcome as Document[] | undefined) ?? (test.outcome as Document[] | undefined) ?? []) {
      const contents = mini.contents(outcome.databaseName as string, outcome.collectionName as string) ?? [];
      const check = matchResult(outcome.documents, [...contents].sort((a, b) => Number(a._id) - Number(b._id)));
      expect(check.ok ? 'ok' : `outcome ${String(outcome.collectionName)} ${check.path}: ${check.message}`).toBe('ok');
    }
  } finally {
    for (const { client } of clients.values()) await client.close();
    await server.close();
  }
}

for (const file of [...CRUD_READ_FILES, ...MANAGEMENT_FILES]) {
  describe(file, () => {
    for (const c of loadCases(file)) {
      if (c.skip) it.skip(`${c.description} (${c.skip})`, () => undefined);
      else it(c.description, c.run, 20_000);
    }
  });
}
