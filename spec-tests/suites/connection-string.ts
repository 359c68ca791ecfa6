/**
 * connection-string spec tests: every file in tests/. Each case parses `uri` with the driver's
 * own parser (no DNS: a `mongodb+srv` case must fail before any lookup) and checks validity,
 * warnings, hosts, userinfo/auth database and the parsed options.
 *
 * The option comparison helpers are shared with the uri-options suite (same test format).
 */
import * as path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { listJsonFiles, readSpecJson, runCase, type CaseResult, type SpecSuite } from '../framework';
import { parseConnectionString, parseOptions } from '../../src/connection_string';
import type { MongoOptions } from '../../src/mongo_client_options';
import type { SrvResolver } from '../../src/srv';
import { MongoParseError } from '../../src/errors';

export interface UriTestCase {
  description: string;
  uri: string;
  valid: boolean;
  warning?: boolean | null;
  hosts?: { type?: string; host: string; port?: number | null }[] | null;
  auth?: { username?: string | null; password?: string | null; db?: string | null } | null;
  options?: Record<string, unknown> | null;
}

/** A resolver that fails the test if used: these suites never need DNS. */
export function forbiddenResolver(): SrvResolver & { calls: number } {
  const resolver = {
    calls: 0,
    async resolveSrv(): Promise<never> {
      resolver.calls++;
      throw new Error('DNS must not be queried');
    },
    async resolveTxt(): Promise<never> {
      resolver.calls++;
      throw new Error('DNS must not be queried');
    }
  };
  return resolver;
}

/** Reads the resolved value of a spec option name (case-insensitive) from MongoOptions. */
export function optionValue(options: MongoOptions, specName: string): unknown {
  const key = specName.toLowerCase();
  switch (key) {
    case 'authmechanism':
      return options.credentials?.mechanism;
    case 'authmechanismproperties':
      return options.credentials?.mechanismProperties;
    case 'authsource':
      return options.credentials?.source ?? options.authSource;
    case 'ssl':
      return options.tls;
    case 'readconcernlevel':
      return options.readConcern.level;
    case 'readpreference':
      return options.readPreference.mode;
    case 'readpreferencetags':
      return options.readPreference.tags;
    case 'maxstalenessseconds':
      return options.readPreference.maxStalenessSeconds;
    case 'w':
      return options.writeConcern.w;
    case 'wtimeoutms':
      return options.writeConcern.wtimeoutMS;
    case 'journal':
      return options.writeConcern.journal;
  }
  const field = Object.keys(options).find((k) => k.toLowerCase() === key);
  if (field === undefined) throw new Error(`test expects option "${specName}", which MongoOptions does not have`);
  return (options as unknown as Record<string, unknown>)[field];
}

/** `expected` ⊆ `actual` for plain objects (mechanism properties may hold defaults); deep-equal otherwise. */
function matches(expected: unknown, actual: unknown, subset: boolean): boolean {
  if (subset && expected !== null && typeof expected === 'object' && !Array.isArray(expected)) {
    if (actual === null || typeof actual !== 'object') return false;
    return Object.entries(expected).every(([k, v]) => isDeepStrictEqual((actual as Record<string, unknown>)[k], v));
  }
  return isDeepStrictEqual(actual, expected);
}

export function assertOptions(options: MongoOptions, expected: Record<string, unknown>): void {
  for (const [name, value] of Object.entries(expected)) {
    const actual = optionValue(options, name);
    if (!matches(value, actual, name.toLowerCase() === 'authmechanismproperties')) {
      throw new Error(`option ${name}: expected ${JSON.stringify(value)}, got ${JSON.stringify(actual)}`);
    }
  }
}

function assertEqual(what: string, actual: unknown, expected: unknown): void {
  if (!isDeepStrictEqual(actual, expected)) throw new Error(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}

/** Runs one connection-string-format case (shared by connection-string and uri-options). */
export async function runUriCase(test: UriTestCase): Promise<void> {
  const resolver = forbiddenResolver();
  let options: MongoOptions;
  try {
    options = await parseOptions(test.uri, undefined, { srvResolver: resolver });
  } catch (error) {
    if (resolver.calls > 0) throw new Error('DNS was queried');
    if (test.valid) throw new Error(`expected a valid URI, got ${(error as Error).name}: ${(error as Error).message}`);
    if (!(error instanceof MongoParseError)) throw new Error(`expected MongoParseError, got ${(error as Error).name}: ${(error as Error).message}`);
    return;
  }
  if (!test.valid) throw new Error(`expected an error; parsed with warnings ${JSON.stringify(options.warnings)}`);

  if (test.warning === true && options.warnings.length === 0) throw new Error('expected a warning, got none');
  if (test.warning === false && options.warnings.length > 0) throw new Error(`expected no warning, got ${JSON.stringify(options.warnings)}`);

  const cs = parseConnectionString(test.uri);
  if (test.hosts) {
    assertEqual('number of hosts', cs.hosts.length, test.hosts.length);
    test.hosts.forEach((expected, i) => {
      const actual = cs.hosts[i];
      assertEqual(`hosts[${i}].host`, actual.host, expected.host);
      if (expected.port !== null && expected.port !== undefined) assertEqual(`hosts[${i}].port`, actual.port, expected.port);
      if (expected.type) assertEqual(`hosts[${i}].type`, actual.type, expected.type);
    });
  }
  if (test.auth) {
    const { username, password, db } = test.auth;
    if (username !== undefined) assertEqual('username', cs.username, username ?? undefined);
    if (password !== undefined) assertEqual('password', cs.password, password ?? undefined);
    if (db !== null && db !== undefined) assertEqual('auth database', cs.database, db);
  }
  if (test.options) assertOptions(options, test.options);
}

export async function runUriSuite(suiteDir: string): Promise<CaseResult[]> {
  const testsDir = path.join(suiteDir, 'tests');
  const results: CaseResult[] = [];
  for (const file of listJsonFiles(testsDir)) {
    const { tests } = readSpecJson<{ tests: UriTestCase[] }>(path.join(testsDir, file));
    for (const test of tests) {
      results.push(await runCase(`${file}: ${test.description}`, () => runUriCase(test)));
    }
  }
  return results;
}

const suite: SpecSuite = {
  name: 'connection-string',
  run: (ctx) => runUriSuite(ctx.suiteDir)
};
export default suite;
