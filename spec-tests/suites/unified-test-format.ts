/**
 * The unified test format's own tests (source/unified-test-format/tests), checked without a
 * deployment:
 *
 * - `invalid/*`: one case per file, passed when schema validation rejects the file.
 * - `valid-pass/*`: one case per file, passed when the file validates against its schema. This is
 *   only the schema check; executing the operations needs a live deployment and is not claimed.
 * - `valid-fail/*`: one case per file for schema validation (when a schema applies), then one case
 *   per test, passed when the server-independent pieces show the test fails, and for the reason
 *   its description gives (undefined entity, missing argument, unsupported schemaVersion or Stable
 *   API version, a matcher mismatch against a result modeled from initialData). Tests whose failure
 *   can only be observed by running operations against a server are skipped with that reason.
 */
import * as path from 'node:path';
import type { CaseResult, SpecSuite, SuiteContext } from '../framework';
import { listJsonFiles, readPlainJson, runCase, SkipCase } from '../framework';
import { modelFirstFindResult } from '../unified/initial-data-model';
import { matchIterableResult } from '../unified/matcher';
import { UnifiedSchemaValidator, type SchemaValidation } from '../unified/schema';
import { checkTestStatically } from '../unified/static-checks';
import { loadUnifiedTestFile, type UnifiedTest, type UnifiedTestFile } from '../unified/test-file';

const LIVE_DEPLOYMENT = 'needs a live MongoDB deployment to observe the failure';
const NO_CSFLE = 'requires client-side field level encryption (libmongocrypt), which mongowire does not support';

/**
 * The failure each decidable valid-fail test must produce, from its description. Tests not listed
 * here pass when any server-independent failure is found (and are skipped when none can be).
 */
const EXPECTED_FAILURES: Readonly<Record<string, Readonly<Record<string, RegExp>>>> = {
  'assertNumberConnectionsCheckedOut.json': {
    'operation fails if client field is not specified': /missing required argument "client"/,
    'operation fails if connections field is not specified': /missing required argument "connections"/,
    'operation fails if client entity does not exist': /entity "client1" is not defined/
  },
  'entity-bucket-database-undefined.json': { foo: /entity "foo" is not defined/ },
  'entity-collection-database-undefined.json': { foo: /entity "foo" is not defined/ },
  'entity-database-client-undefined.json': { foo: /entity "foo" is not defined/ },
  'entity-session-client-undefined.json': { foo: /entity "foo" is not defined/ },
  'entity-client-apiVersion-unsupported.json': { foo: /Stable API version "server_will_never_support_this_api_version" is not supported/ },
  'entity-findCursor.json': {
    'iterateUntilDocumentOrError fails if it references a nonexistent entity': /entity "cursor0" is not defined/,
    'close fails if it references a nonexistent entity': /entity "cursor0" is not defined/
  },
  'operator-matchAsDocument.json': {
    'matchAsDocument with non-matching filter': /\.json\.y: expected "two", got Int32\(2\)/,
    'matchAsDocument evaluates special operators': /\.json\.y: expected key to be absent/,
    'matchAsDocument does not permit extra fields': /unexpected extra key\(s\) in a nested document: y/,
    'matchAsDocument expects JSON object but given scalar': /is not a JSON object/,
    'matchAsDocument expects JSON object but given array': /is not a JSON object/,
    'matchAsDocument fails to decode Extended JSON': /cannot parse .* as Extended JSON/
  },
  'operator-matchAsRoot.json': {
    'matchAsRoot with nested document does not match': /\.x\.y: expected Int32\(3\), got Int32\(2\)/
  },
  'schemaVersion-unsupported.json': { foo: /schemaVersion "0\.1" is not supported/ }
};

type Decision = { decided: true; reason: string } | { decided: false; skipReason: string };

/** Why `test` fails when run, if that can be decided without a deployment. */
function decideFailure(file: UnifiedTestFile, test: UnifiedTest, validation: SchemaValidation): Decision {
  if (!validation.ok && validation.unsupported) return { decided: true, reason: validation.errors.join('; ') };
  if (requiresCsfle(file.runOnRequirements) || requiresCsfle(test.runOnRequirements)) return { decided: false, skipReason: NO_CSFLE };
  const problems = checkTestStatically(file, test);
  if (problems.length > 0) return { decided: true, reason: problems.map((p) => `${p.path}: ${p.message}`).join('; ') };
  const modeled = modelFirstFindResult(file, test);
  const op = test.operations[0];
  if (modeled && op && Object.prototype.hasOwnProperty.call(op, 'expectResult')) {
    const r = matchIterableResult(op.expectResult, modeled);
    if (!r.ok) return { decided: true, reason: `operations[0].expectResult ${r.path}: ${r.message}` };
    throw new Error(`expectResult matches the result modeled from initialData, but this test is expected to fail`);
  }
  return { decided: false, skipReason: LIVE_DEPLOYMENT };
}

/** Every requirement in the list needs CSFLE, so no deployment can satisfy it for this driver. */
function requiresCsfle(requirements: UnifiedTest['runOnRequirements']): boolean {
  return !!requirements && requirements.length > 0 && requirements.every((r) => r.csfle !== undefined && r.csfle !== false);
}

function fileCases(ctx: SuiteContext, validator: UnifiedSchemaValidator, kind: string): Promise<CaseResult>[] {
  const dir = path.join(ctx.suiteDir, 'tests', kind);
  return listJsonFiles(dir).map((name) => {
    const validate = (): SchemaValidation => validator.validate(readPlainJson(path.join(dir, name)));
    if (kind === 'invalid') {
      return runCase(`invalid/${name}: rejected by schema validation`, () => {
        const validation = validate();
        if (validation.ok) throw new Error(`validated against schema-${validation.schemaVersion}, expected rejection`);
      });
    }
    return runCase(`valid-pass/${name}: validates against its schema`, () => {
      const validation = validate();
      if (!validation.ok) throw new Error(validation.errors.join('\n'));
    });
  });
}

function validFailCases(ctx: SuiteContext, validator: UnifiedSchemaValidator): Promise<CaseResult>[] {
  const dir = path.join(ctx.suiteDir, 'tests', 'valid-fail');
  return listJsonFiles(dir).flatMap((name) => {
    const { raw, file } = loadUnifiedTestFile(path.join(dir, name));
    const validation = validator.validate(raw);
    const cases: Promise<CaseResult>[] = [];
    if (validation.ok || !validation.unsupported) {
      cases.push(
        runCase(`valid-fail/${name}: validates against its schema`, () => {
          if (!validation.ok) throw new Error(validation.errors.join('\n'));
        })
      );
    }
    const expectedReasons = EXPECTED_FAILURES[name] ?? {};
    file.tests.forEach((test, i) => {
      const label = test.description || `(test ${i})`;
      cases.push(
        runCase(`valid-fail/${name}: ${label}`, () => {
          const decision = decideFailure(file, test, validation);
          const wanted = expectedReasons[test.description];
          if (!decision.decided) {
            if (wanted) throw new Error(`expected a failure matching ${wanted}, but none was found without a deployment`);
            throw new SkipCase(decision.skipReason);
          }
          if (wanted && !wanted.test(decision.reason)) {
            throw new Error(`fails for another reason than described: ${decision.reason} (expected ${wanted})`);
          }
        })
      );
    });
    return cases;
  });
}

const suite: SpecSuite = {
  name: 'unified-test-format',
  async run(ctx: SuiteContext): Promise<CaseResult[]> {
    const validator = new UnifiedSchemaValidator(ctx.specRoot);
    return Promise.all([
      ...fileCases(ctx, validator, 'invalid'),
      ...fileCases(ctx, validator, 'valid-pass'),
      ...validFailCases(ctx, validator)
    ]);
  }
};

export default suite;
