/**
 * JSON schema validation of unified test files. Schema files (`schema-<major>.<minor>.json`) are
 * read in place from `<specRoot>/source/unified-test-format/`.
 *
 * Choice of schema: a file with schemaVersion X.Y is compatible when some schema X.Z with Z >= Y
 * exists; it is then validated with the latest schema of major X, since a minor version MUST
 * validate every file of its major series up to and including itself. Files with no compatible
 * schema are unsupported and MUST NOT be processed.
 *
 * Validation works on the plain JSON text (`JSON.parse`), not on the Extended JSON parse, because
 * the schemas describe `{ "$numberLong": … }` and friends as ordinary objects.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import Ajv2019 from 'ajv/dist/2019';
import { defaultSpecRoot } from '../framework';
import { compareVersions, formatVersion, parseVersion, type Version } from './version';

export type SchemaValidation =
  | { ok: true; schemaVersion: string }
  | { ok: false; schemaVersion?: string; unsupported: boolean; errors: string[] };

export function schemaDir(specRoot: string = defaultSpecRoot()): string {
  return path.join(specRoot, 'source', 'unified-test-format');
}

/** The numbered schema versions present, ascending (`schema-latest.json` is an alias and ignored). */
export function listSchemaVersions(specRoot: string = defaultSpecRoot()): Version[] {
  const dir = schemaDir(specRoot);
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .map((f) => /^schema-(\d+)\.(\d+)(?:\.(\d+))?\.json$/.exec(f))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)] as Version)
    .sort(compareVersions);
}

/** The schema to validate a file of `fileVersion` with, or undefined when the file is unsupported. */
export function selectSchemaVersion(fileVersion: string, available: readonly Version[]): Version | undefined {
  let wanted: Version;
  try {
    wanted = parseVersion(fileVersion);
  } catch {
    return undefined;
  }
  const sameMajor = available.filter((v) => v[0] === wanted[0]);
  const latest = sameMajor[sameMajor.length - 1];
  return latest && compareVersions(latest, wanted) >= 0 ? latest : undefined;
}

/** Compiles and caches the schema validators of one specifications tree. */
export class UnifiedSchemaValidator {
  private readonly available: Version[];
  private readonly compiled = new Map<string, ValidateFunction>();

  constructor(readonly specRoot: string = defaultSpecRoot()) {
    this.available = listSchemaVersions(specRoot);
  }

  get supportedVersions(): readonly Version[] {
    return this.available;
  }

  /** The latest schema version present: the highest schemaVersion this runner accepts. */
  get latestVersion(): string | undefined {
    const last = this.available[this.available.length - 1];
    return last ? formatVersion(last) : undefined;
  }

  validate(raw: unknown): SchemaValidation {
    const declared = (raw as { schemaVersion?: unknown } | null)?.schemaVersion;
    if (typeof declared !== 'string') {
      return { ok: false, unsupported: true, errors: ['schemaVersion is missing or not a string'] };
    }
    const version = selectSchemaVersion(declared, this.available);
    if (!version) {
      return {
        ok: false,
        unsupported: true,
        errors: [`schemaVersion "${declared}" is not supported (schemas available up to ${this.latestVersion ?? 'none'})`]
      };
    }
    const schemaVersion = formatVersion(version).replace(/\.0$/, '');
    const validate = this.validatorFor(version);
    if (validate(raw)) return { ok: true, schemaVersion };
    return { ok: false, schemaVersion, unsupported: false, errors: (validate.errors ?? []).map(formatAjvError) };
  }

  private validatorFor(version: Version): ValidateFunction {
    const key = formatVersion(version);
    let validate = this.compiled.get(key);
    if (!validate) {
      const name = version[2] === 0 ? `schema-${version[0]}.${version[1]}.json` : `schema-${key}.json`;
      const schema = JSON.parse(fs.readFileSync(path.join(schemaDir(this.specRoot), name), 'utf8')) as { $schema?: string };
      const options = { allErrors: true, strict: false };
      const ajv = String(schema.$schema ?? '').includes('2019-09') ? new Ajv2019(options) : new Ajv(options);
      validate = ajv.compile(schema);
      this.compiled.set(key, validate);
    }
    return validate;
  }
}

function formatAjvError(e: ErrorObject): string {
  return `${e.instancePath || '/'} ${e.message ?? e.keyword}${e.params && Object.keys(e.params).length ? ` ${JSON.stringify(e.params)}` : ''}`;
}

const validators = new Map<string, UnifiedSchemaValidator>();

/** Validates a plain-JSON test file with the schema matching its schemaVersion (validators cached per spec root). */
export function validateTestFile(raw: unknown, specRoot: string = defaultSpecRoot()): SchemaValidation {
  let validator = validators.get(specRoot);
  if (!validator) {
    validator = new UnifiedSchemaValidator(specRoot);
    validators.set(specRoot, validator);
  }
  return validator.validate(raw);
}
