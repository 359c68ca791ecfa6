/**
 * initial-dns-seedlist-discovery spec tests. DNS is served by a stub resolver holding the SRV
 * and TXT records the tests README lists (below), so every case checks what parsing and seedlist
 * discovery produce: the error, the initial seed list (`seeds`/`numSeeds`), the parsed options and
 * `parsed_options`. What needs a running deployment — the hosts SDAM discovers (`hosts`,
 * `numHosts`) and the `ping` — is reported as a separate skipped case with that reason.
 * The README's prose tests (SRV names with fewer than three labels) run against the stub too.
 */
import * as path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { listJsonFiles, readSpecJson, runCase, skip, type CaseResult, type SpecSuite } from '../framework';
import { parseOptions } from '../../src/connection_string';
import { formatHostAddress, type MongoOptions } from '../../src/mongo_client_options';
import type { SrvRecord, SrvResolver } from '../../src/srv';
import { MongoParseError } from '../../src/errors';
import { assertOptions } from './connection-string';

/** The records of tests/README.md ("Test Setup"), keyed by lower-cased query name. */
const SRV_RECORDS: Record<string, [port: number, target: string][]> = {
  '_mongodb._tcp.test1.test.build.10gen.cc': [[27017, 'localhost.test.build.10gen.cc.'], [27018, 'localhost.test.build.10gen.cc.']],
  '_mongodb._tcp.test2.test.build.10gen.cc': [[27018, 'localhost.test.build.10gen.cc.'], [27019, 'localhost.test.build.10gen.cc.']],
  '_mongodb._tcp.test3.test.build.10gen.cc': [[27017, 'localhost.test.build.10gen.cc.']],
  '_mongodb._tcp.test5.test.build.10gen.cc': [[27017, 'localhost.test.build.10gen.cc.']],
  '_mongodb._tcp.test6.test.build.10gen.cc': [[27017, 'localhost.test.build.10gen.cc.']],
  '_mongodb._tcp.test7.test.build.10gen.cc': [[27017, 'localhost.test.build.10gen.cc.']],
  '_mongodb._tcp.test8.test.build.10gen.cc': [[27017, 'localhost.test.build.10gen.cc.']],
  '_mongodb._tcp.test10.test.build.10gen.cc': [[27017, 'localhost.test.build.10gen.cc.']],
  '_mongodb._tcp.test11.test.build.10gen.cc': [[27017, 'localhost.test.build.10gen.cc.']],
  '_mongodb._tcp.test12.test.build.10gen.cc': [[27017, 'localhost.build.10gen.cc.']],
  '_mongodb._tcp.test13.test.build.10gen.cc': [[27017, 'test.build.10gen.cc.']],
  '_mongodb._tcp.test14.test.build.10gen.cc': [[27017, 'localhost.not-test.build.10gen.cc.']],
  '_mongodb._tcp.test15.test.build.10gen.cc': [[27017, 'localhost.test.not-build.10gen.cc.']],
  '_mongodb._tcp.test16.test.build.10gen.cc': [[27017, 'localhost.test.build.not-10gen.cc.']],
  '_mongodb._tcp.test17.test.build.10gen.cc': [[27017, 'localhost.test.build.10gen.not-cc.']],
  '_mongodb._tcp.test18.test.build.10gen.cc': [[27017, 'localhost.sub.test.build.10gen.cc.']],
  '_mongodb._tcp.test19.test.build.10gen.cc': [[27017, 'localhost.evil.build.10gen.cc.'], [27017, 'localhost.test.build.10gen.cc.']],
  '_mongodb._tcp.test20.test.build.10gen.cc': [[27017, 'localhost.test.build.10gen.cc.']],
  '_mongodb._tcp.test21.test.build.10gen.cc': [[27017, 'localhost.test.build.10gen.cc.']],
  // The README lists only the 27017 target for test22, but srv-service-name.json expects the
  // same two seeds as test1 (which is what the real record serves): both are served here.
  '_customname._tcp.test22.test.build.10gen.cc': [[27017, 'localhost.test.build.10gen.cc.'], [27018, 'localhost.test.build.10gen.cc.']],
  '_mongodb._tcp.test23.test.build.10gen.cc': [[8000, 'localhost.test.build.10gen.cc.']],
  '_mongodb._tcp.test24.test.build.10gen.cc': [[8000, 'localhost.test.build.10gen.cc.']]
};

/** TXT records: one entry per record, each the record's character strings. */
const TXT_RECORDS: Record<string, string[][]> = {
  'test5.test.build.10gen.cc': [['replicaSet=repl0&authSource=thisDB']],
  'test6.test.build.10gen.cc': [['replicaSet=repl0'], ['authSource=otherDB']],
  'test7.test.build.10gen.cc': [['ssl=false']],
  'test8.test.build.10gen.cc': [['authSource']],
  'test10.test.build.10gen.cc': [['socketTimeoutMS=500']],
  'test11.test.build.10gen.cc': [['replicaS', 'et=rep', 'l0']],
  'test20.test.build.10gen.cc': [['loadBalanced=true']],
  'test21.test.build.10gen.cc': [['loadBalanced=false']],
  'test24.test.build.10gen.cc': [['loadBalanced=true']]
};

function notFound(name: string): Error {
  return Object.assign(new Error(`queryTxt ENOTFOUND ${name}`), { code: 'ENOTFOUND' });
}

/** A resolver serving fixed records; unknown names fail like a real NXDOMAIN. */
export function stubResolver(
  srv: Record<string, [number, string][]> = SRV_RECORDS,
  txt: Record<string, string[][]> = TXT_RECORDS
): SrvResolver {
  return {
    async resolveSrv(name: string): Promise<SrvRecord[]> {
      const records = srv[name.toLowerCase()];
      if (!records) throw notFound(name);
      return records.map(([port, target]) => ({ name: target, port, priority: 0, weight: 5 }));
    },
    async resolveTxt(name: string): Promise<string[][]> {
      const records = txt[name.toLowerCase()];
      if (!records) throw notFound(name);
      return records.map((r) => [...r]);
    }
  };
}

interface SeedlistTest {
  uri: string;
  seeds?: string[];
  numSeeds?: number;
  hosts?: string[];
  numHosts?: number;
  options?: Record<string, unknown>;
  parsed_options?: Record<string, unknown>;
  error?: boolean;
  comment?: string;
  ping?: boolean;
}

function check(what: string, actual: unknown, expected: unknown): void {
  if (!isDeepStrictEqual(actual, expected)) throw new Error(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}

function parsedOptionValue(options: MongoOptions, name: string): unknown {
  switch (name) {
    case 'user':
      return options.credentials?.username;
    case 'password':
      return options.credentials?.password;
    case 'db':
    case 'auth_database':
    case 'defaultDatabase':
      return options.dbName;
    default:
      throw new Error(`unknown parsed_options key "${name}"`);
  }
}

async function runSeedlistCase(test: SeedlistTest): Promise<void> {
  let options: MongoOptions;
  try {
    options = await parseOptions(test.uri, undefined, { srvResolver: stubResolver() });
  } catch (error) {
    if (!test.error) throw new Error(`unexpected ${(error as Error).name}: ${(error as Error).message}`);
    if (!(error instanceof MongoParseError)) throw new Error(`expected MongoParseError, got ${(error as Error).name}: ${(error as Error).message}`);
    return;
  }
  if (test.error) throw new Error(`expected an error (${test.comment ?? ''}), got seeds ${JSON.stringify(options.hosts.map(formatHostAddress))}`);
  const seeds = options.hosts.map(formatHostAddress);
  if (test.seeds) check('seeds', [...seeds].sort(), [...test.seeds].sort());
  if (test.numSeeds !== undefined) check('numSeeds', seeds.length, test.numSeeds);
  if (test.options) assertOptions(options, test.options);
  for (const [name, value] of Object.entries(test.parsed_options ?? {})) check(`parsed_options.${name}`, parsedOptionValue(options, name), value);
}

async function expectProse(uri: string, srv: Record<string, [number, string][]>, ok: boolean): Promise<void> {
  let options: MongoOptions | undefined;
  let failure: unknown;
  try {
    options = await parseOptions(uri, undefined, { srvResolver: stubResolver(srv, {}) });
  } catch (error) {
    failure = error;
  }
  if (ok && failure) throw new Error(`unexpected error: ${(failure as Error).message}`);
  if (!ok && !(failure instanceof MongoParseError)) {
    throw new Error(failure ? `expected MongoParseError, got ${(failure as Error).name}` : `expected an error, got ${JSON.stringify(options?.hosts)}`);
  }
}

/** README prose tests 1-4 (stubbed DNS). */
function proseCases(): [string, () => Promise<void>][] {
  const srvFor = (host: string, target: string): Record<string, [number, string][]> => ({ [`_mongodb._tcp.${host}`]: [[27017, target]] });
  const cases: [string, () => Promise<void>][] = [
    ['1. Allow SRVs with fewer than 3 "." separated parts: localhost', () => expectProse('mongodb+srv://localhost', srvFor('localhost', 'test.localhost'), true)],
    ['1. Allow SRVs with fewer than 3 "." separated parts: mongo.local', () => expectProse('mongodb+srv://mongo.local', srvFor('mongo.local', 'test.mongo.local'), true)]
  ];
  const failing: [string, string, string][] = [
    ['2. Throw when return address does not end with SRV domain', 'localhost', 'localhost.mongodb'],
    ['2. Throw when return address does not end with SRV domain', 'mongo.local', 'test_1.evil.local'],
    ['2. Throw when return address does not end with SRV domain', 'blogs.mongodb.com', 'blogs.evil.com'],
    ['3. Throw when return address is identical to SRV hostname', 'localhost', 'localhost'],
    ['3. Throw when return address is identical to SRV hostname', 'mongo.local', 'mongo.local'],
    ['4. Throw when return address does not contain "." separating shared part of domain', 'localhost', 'test_1.cluster_1localhost'],
    ['4. Throw when return address does not contain "." separating shared part of domain', 'mongo.local', 'test_1.my_hostmongo.local'],
    ['4. Throw when return address does not contain "." separating shared part of domain', 'blogs.mongodb.com', 'cluster.testmongodb.com']
  ];
  for (const [title, host, target] of failing) {
    cases.push([`${title}: ${host} -> ${target}`, () => expectProse(`mongodb+srv://${host}`, srvFor(host, target), false)]);
  }
  return cases;
}

const LIVE_REASON = 'needs a live MongoDB deployment (hosts discovered by SDAM and the ping)';

const suite: SpecSuite = {
  name: 'initial-dns-seedlist-discovery',
  async run(ctx) {
    const testsDir = path.join(ctx.suiteDir, 'tests');
    const results: CaseResult[] = [];
    for (const file of listJsonFiles(testsDir)) {
      const test = readSpecJson<SeedlistTest>(path.join(testsDir, file));
      results.push(await runCase(`${file}: seedlist, options and errors`, () => runSeedlistCase(test)));
      const needsDeployment = !test.error && (test.hosts !== undefined || test.numHosts !== undefined || test.ping !== false);
      if (needsDeployment) results.push(skip(`${file}: discovered hosts and ping`, LIVE_REASON));
    }
    for (const [name, fn] of proseCases()) results.push(await runCase(`prose: ${name}`, fn));
    return results;
  }
};
export default suite;
