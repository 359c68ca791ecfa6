/**
 * auth spec tests.
 * - tests/legacy/connection-string.json: credential parsing and validation from the URI, checked
 *   against the MongoCredentials the option parser builds.
 * - tests/unified: need a live deployment configured for MONGODB-OIDC (runOnRequirements), so
 *   they are skipped with that reason.
 */
import * as path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { listJsonFiles, readSpecJson, runCase, skip, type CaseResult, type SpecSuite } from '../framework';
import { parseOptions } from '../../src/connection_string';
import { MongoParseError } from '../../src/errors';
import type { MongoCredentials } from '../../src/auth/mongo_credentials';
import { forbiddenResolver } from './connection-string';

interface CredentialExpectation {
  username?: string | null;
  password?: string | null;
  source?: string | null;
  mechanism?: string | null;
  mechanism_properties?: Record<string, unknown> | null;
}

interface AuthTestCase {
  description: string;
  uri: string;
  valid: boolean;
  credential?: CredentialExpectation | null;
}

function check(what: string, actual: unknown, expected: unknown): void {
  if (!isDeepStrictEqual(actual, expected)) throw new Error(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}

function assertCredential(actual: MongoCredentials | undefined, expected: CredentialExpectation | null | undefined): void {
  if (expected === undefined) return;
  if (expected === null) {
    if (actual !== undefined) throw new Error(`expected no credential, got ${JSON.stringify(actual)}`);
    return;
  }
  if (actual === undefined) throw new Error('expected a credential, got none');
  if ('username' in expected) check('username', actual.username, expected.username ?? undefined);
  if ('password' in expected) check('password', actual.password, expected.password ?? undefined);
  if ('source' in expected) check('source', actual.source, expected.source ?? undefined);
  // A null mechanism means "not specified: negotiate", which the driver spells DEFAULT.
  if ('mechanism' in expected) check('mechanism', actual.mechanism, expected.mechanism ?? 'DEFAULT');
  if ('mechanism_properties' in expected) {
    const props = expected.mechanism_properties;
    if (props === null || props === undefined) {
      check('mechanism_properties', actual.mechanismProperties, {});
    } else {
      for (const [key, value] of Object.entries(props)) check(`mechanism_properties.${key}`, actual.mechanismProperties[key], value);
    }
  }
}

/**
 * Two legacy cases predate the auth spec change of 2025-09-30 ("If credentials are provided in
 * the URI or client options, the driver MUST raise an error" for MONGODB-AWS) and contradict the
 * cases added with it ("should throw an exception if username and password provided
 * (MONGODB-AWS)", "... if AWS_SESSION_TOKEN provided ..."). The driver follows the current prose.
 */
const SUPERSEDED = new Set([
  'should use username and password if specified (MONGODB-AWS)',
  'should use username, password and session token if specified (MONGODB-AWS)'
]);
const SUPERSEDED_REASON =
  'superseded by the auth spec change of 2025-09-30 (MONGODB-AWS credentials in the URI MUST raise an error); contradicts "should throw an exception if username and password provided (MONGODB-AWS)" in the same file';

async function runLegacyCase(test: AuthTestCase): Promise<void> {
  const resolver = forbiddenResolver();
  let credentials: MongoCredentials | undefined;
  try {
    credentials = (await parseOptions(test.uri, undefined, { srvResolver: resolver })).credentials;
  } catch (error) {
    if (test.valid) throw new Error(`expected a valid URI, got ${(error as Error).name}: ${(error as Error).message}`);
    if (!(error instanceof MongoParseError)) throw new Error(`expected MongoParseError, got ${(error as Error).name}: ${(error as Error).message}`);
    return;
  }
  if (!test.valid) throw new Error(`expected an error, got credential ${JSON.stringify(credentials)}`);
  assertCredential(credentials, test.credential);
}

const suite: SpecSuite = {
  name: 'auth',
  async run(ctx) {
    const results: CaseResult[] = [];
    const legacyDir = path.join(ctx.suiteDir, 'tests', 'legacy');
    for (const file of listJsonFiles(legacyDir)) {
      const { tests } = readSpecJson<{ tests: AuthTestCase[] }>(path.join(legacyDir, file));
      for (const test of tests) {
        const name = `legacy/${file}: ${test.description}`;
        results.push(SUPERSEDED.has(test.description) ? skip(name, SUPERSEDED_REASON) : await runCase(name, () => runLegacyCase(test)));
      }
    }
    const unifiedDir = path.join(ctx.suiteDir, 'tests', 'unified');
    for (const file of listJsonFiles(unifiedDir)) {
      const { tests } = readSpecJson<{ tests: { description: string }[] }>(path.join(unifiedDir, file));
      for (const test of tests) {
        results.push(
          skip(`unified/${file}: ${test.description}`, 'needs a live MongoDB deployment configured for MONGODB-OIDC authentication')
        );
      }
    }
    return results;
  }
};
export default suite;
