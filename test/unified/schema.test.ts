import * as fs from 'node:fs';
import * as path from 'node:path';
import { defaultSpecRoot } from '../../spec-tests/framework';
import { listSchemaVersions, selectSchemaVersion, UnifiedSchemaValidator } from '../../spec-tests/unified/schema';

const haveSpecs = fs.existsSync(path.join(defaultSpecRoot(), 'source', 'unified-test-format'));
const describeSpecs = haveSpecs ? describe : describe.skip;

describe('selectSchemaVersion', () => {
  const available = [[1, 0, 0], [1, 1, 0], [1, 5, 0], [2, 0, 0], [2, 1, 0]] as const;

  it('uses the latest schema of the same major when it is at least the file version', () => {
    expect(selectSchemaVersion('1.0', available)).toEqual([1, 5, 0]);
    expect(selectSchemaVersion('1.5', available)).toEqual([1, 5, 0]);
    expect(selectSchemaVersion('2.0', available)).toEqual([2, 1, 0]);
  });

  it('refuses newer minors, other majors and malformed versions', () => {
    expect(selectSchemaVersion('1.6', available)).toBeUndefined();
    expect(selectSchemaVersion('1.5.1', available)).toBeUndefined();
    expect(selectSchemaVersion('3.0', available)).toBeUndefined();
    expect(selectSchemaVersion('0.1', available)).toBeUndefined();
    expect(selectSchemaVersion('one', available)).toBeUndefined();
  });
});

describeSpecs('UnifiedSchemaValidator (reads the schemas in place)', () => {
  const validator = new UnifiedSchemaValidator();

  it('finds the numbered schema files', () => {
    const versions = listSchemaVersions();
    expect(versions.length).toBeGreaterThan(20);
    expect(versions[0]).toEqual([1, 0, 0]);
    expect(validator.latestVersion).toMatch(/^1\.\d+\.0$/);
  });

  const minimal = { description: 'd', schemaVersion: '1.0', tests: [{ description: 't', operations: [] }] };

  it('validates a minimal file and reports the schema used', () => {
    const r = validator.validate(minimal);
    expect(r.ok).toBe(true);
    expect(r.ok && r.schemaVersion).toBe(validator.latestVersion?.replace(/\.0$/, ''));
  });

  it('rejects structural errors with ajv messages', () => {
    const r = validator.validate({ ...minimal, tests: [] });
    expect(r.ok).toBe(false);
    expect(!r.ok && r.unsupported).toBe(false);
    expect(!r.ok && r.errors.join('\n')).toMatch(/\/tests/);
    expect(validator.validate({ ...minimal, extra: 1 }).ok).toBe(false);
  });

  it('refuses unsupported schema versions without validating', () => {
    const r = validator.validate({ ...minimal, schemaVersion: '1.999' });
    expect(r).toMatchObject({ ok: false, unsupported: true });
    expect(validator.validate({ ...minimal, schemaVersion: 2 })).toMatchObject({ ok: false, unsupported: true });
  });

  it('compiles draft 2019-09 schemas (schema 1.28 declares it)', () => {
    const r = validator.validate({ ...minimal, schemaVersion: '1.28', runOnRequirements: [{ csfle: { minLibmongocryptVersion: '1.0' } }] });
    expect(r.ok).toBe(true);
  });
});
