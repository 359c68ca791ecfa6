/**
 * "Evaluating Matches" from the unified test format: compare an expected value from a test file
 * with an actual value produced by the driver.
 *
 * - Documents: every expected key must match; extra actual keys are allowed only at the root.
 * - Arrays: same length, element-wise match (elements are nested, not root).
 * - Scalars: same type and value, with int32/int64/double compared by value.
 * - Special operators: an expected document whose first and only key starts with `$$`.
 *
 * Parsing mode: the runner reads test files with `EJSON.parse(text, { relaxed: false })`, so
 * expected numbers are `Int32`/`Long`/`Double` wrappers and `$$type` can tell them apart. Actual
 * values may be wrappers, bigints or plain numbers (see `bsonTypeNamesOf` for how plain numbers
 * satisfy `$$type`).
 */
import { EJSON, type Document } from 'bson';
import {
  BSON_TYPE_NAMES,
  bsonTypeNamesOf,
  bytesOf,
  compareNumeric,
  describeValue,
  hasKey,
  isDocument,
  presentKeys,
  scalarsEqual,
  toNumeric,
  valuesEqual
} from './bson-values';

/** Read access to the test's entity map; `get` may throw or return undefined for an unknown name. */
export interface EntityLookup {
  get(id: string): unknown;
}

export interface MatchOptions {
  entities?: EntityLookup;
  /** Whether `actual` is a root-level document (extra keys allowed). Defaults to true. */
  isRoot?: boolean;
}

export interface MatchResult {
  ok: boolean;
  /** Where the mismatch is, e.g. `$.documents[0].x`; `$` for the value itself. */
  path: string;
  message: string;
}

export const MATCH_OK: MatchResult = Object.freeze({ ok: true, path: '$', message: '' });

export const SPECIAL_OPERATORS: readonly string[] = [
  '$$exists',
  '$$type',
  '$$matchesEntity',
  '$$matchesHexBytes',
  '$$unsetOrMatches',
  '$$sessionLsid',
  '$$lte',
  '$$matchAsDocument',
  '$$matchAsRoot'
];

export function matchResult(expected: unknown, actual: unknown, options: MatchOptions = {}): MatchResult {
  return match(expected, actual, options.isRoot ?? true, '$', options.entities);
}

/**
 * The result of an operation returning an iterable of documents (find, aggregate, listIndexes, …):
 * same number of elements, and each element matched as a root-level document.
 */
export function matchIterableResult(expected: unknown, actual: unknown, options: Omit<MatchOptions, 'isRoot'> = {}): MatchResult {
  if (!Array.isArray(expected)) return matchResult(expected, actual, options);
  if (!Array.isArray(actual)) return fail('$', `expected an array of ${expected.length} documents, got ${describeValue(actual)}`);
  if (actual.length !== expected.length) {
    return fail('$', `expected ${expected.length} documents, got ${actual.length}: ${describeValue(actual)}`);
  }
  for (let i = 0; i < expected.length; i++) {
    const r = match(expected[i], actual[i], true, `$[${i}]`, options.entities);
    if (!r.ok) return r;
  }
  return MATCH_OK;
}

/** The `$$` operator name if `value` is a special-operator document. */
export function specialOperatorOf(value: unknown): string | undefined {
  if (!isDocument(value)) return undefined;
  const keys = Object.keys(value);
  return keys.length === 1 && keys[0].startsWith('$$') ? keys[0] : undefined;
}

function fail(path: string, message: string): MatchResult {
  return { ok: false, path, message };
}

function match(expected: unknown, actual: unknown, isRoot: boolean, path: string, entities: EntityLookup | undefined): MatchResult {
  if (isDocument(expected)) {
    const operator = specialOperatorOf(expected);
    if (operator) return matchOperator(operator, expected[operator], actual, isRoot, path, entities);

    if (!isDocument(actual)) return fail(path, `expected a document, got ${describeValue(actual)}`);
    for (const key of Object.keys(expected)) {
      const value = expected[key];
      const keyPath = `${path}.${key}`;
      const keyOperator = specialOperatorOf(value);
      if (keyOperator === '$$exists') {
        const want = (value as Document)[keyOperator];
        if (typeof want !== 'boolean') return fail(keyPath, `$$exists takes a boolean, got ${describeValue(want)}`);
        if (want !== hasKey(actual, key)) {
          return fail(keyPath, want ? 'expected key to exist' : `expected key to be absent, got ${describeValue(actual[key])}`);
        }
        continue;
      }
      if (keyOperator === '$$unsetOrMatches' && !hasKey(actual, key)) continue;
      if (!hasKey(actual, key)) return fail(keyPath, 'expected key to exist');
      const r = match(value, actual[key], false, keyPath, entities);
      if (!r.ok) return r;
    }
    if (!isRoot) {
      const extra = presentKeys(actual).filter((k) => !Object.prototype.hasOwnProperty.call(expected, k));
      if (extra.length > 0) return fail(path, `unexpected extra key(s) in a nested document: ${extra.join(', ')}`);
    }
    return MATCH_OK;
  }

  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) return fail(path, `expected an array, got ${describeValue(actual)}`);
    if (actual.length !== expected.length) {
      return fail(path, `expected ${expected.length} elements, got ${actual.length}: ${describeValue(actual)}`);
    }
    for (let i = 0; i < expected.length; i++) {
      const r = match(expected[i], actual[i], false, `${path}[${i}]`, entities);
      if (!r.ok) return r;
    }
    return MATCH_OK;
  }

  if (!scalarsEqual(expected, actual)) {
    return fail(path, `expected ${describeValue(expected)}, got ${describeValue(actual)}`);
  }
  return MATCH_OK;
}

function matchOperator(
  operator: string,
  argument: unknown,
  actual: unknown,
  isRoot: boolean,
  path: string,
  entities: EntityLookup | undefined
): MatchResult {
  switch (operator) {
    case '$$exists':
      if (typeof argument !== 'boolean') return fail(path, `$$exists takes a boolean, got ${describeValue(argument)}`);
      return (actual !== undefined) === argument ? MATCH_OK : fail(path, argument ? 'expected a value' : `expected no value, got ${describeValue(actual)}`);

    case '$$type': {
      const wanted = Array.isArray(argument) ? argument : [argument];
      if (wanted.length === 0 || !wanted.every((t) => typeof t === 'string' && BSON_TYPE_NAMES.includes(t))) {
        return fail(path, `$$type takes a type name or an array of them, got ${describeValue(argument)}`);
      }
      if (actual === undefined) return fail(path, `expected a value of type ${wanted.join(' | ')}, but it does not exist`);
      const actualTypes = bsonTypeNamesOf(actual);
      return wanted.some((t) => actualTypes.includes(t as string))
        ? MATCH_OK
        : fail(path, `expected type ${wanted.join(' | ')}, got ${actualTypes.join('/') || 'unknown'} (${describeValue(actual)})`);
    }

    case '$$unsetOrMatches':
      return actual === undefined ? MATCH_OK : match(argument, actual, isRoot, path, entities);

    case '$$matchesEntity': {
      const entity = lookupEntity(entities, argument);
      if (!entity.found) return fail(path, `$$matchesEntity: ${entity.message}`);
      return match(entity.value, actual, isRoot, path, entities);
    }

    case '$$sessionLsid': {
      const entity = lookupEntity(entities, argument);
      if (!entity.found) return fail(path, `$$sessionLsid: ${entity.message}`);
      const lsid = sessionLsidOf(entity.value);
      if (!lsid) return fail(path, `$$sessionLsid: entity "${String(argument)}" is not a session`);
      return valuesEqual(lsid, actual)
        ? MATCH_OK
        : fail(path, `expected the lsid of session "${String(argument)}" ${describeValue(lsid)}, got ${describeValue(actual)}`);
    }

    case '$$matchesHexBytes': {
      if (typeof argument !== 'string' || !/^([0-9a-fA-F]{2})*$/.test(argument)) {
        return fail(path, `$$matchesHexBytes: malformed hex string ${describeValue(argument)}`);
      }
      const expectedHex = argument.toLowerCase();
      const bytes = bytesOf(actual);
      const actualHex = bytes ? Buffer.from(bytes.bytes).toString('hex') : typeof actual === 'string' ? actual.toLowerCase() : undefined;
      if (actualHex === undefined) return fail(path, `$$matchesHexBytes: expected bytes or a string, got ${describeValue(actual)}`);
      return actualHex === expectedHex ? MATCH_OK : fail(path, `expected bytes ${expectedHex}, got ${actualHex}`);
    }

    case '$$lte': {
      const limit = toNumeric(argument);
      if (!limit) return fail(path, `$$lte takes a number, got ${describeValue(argument)}`);
      const value = toNumeric(actual);
      if (!value) return fail(path, `expected a number <= ${describeValue(argument)}, got ${describeValue(actual)}`);
      const cmp = compareNumeric(value, limit);
      return cmp === -1 || cmp === 0 ? MATCH_OK : fail(path, `expected a number <= ${describeValue(argument)}, got ${describeValue(actual)}`);
    }

    case '$$matchAsDocument': {
      if (typeof actual !== 'string') return fail(path, `$$matchAsDocument: expected an Extended JSON string, got ${describeValue(actual)}`);
      let parsed: unknown;
      try {
        parsed = EJSON.parse(actual, { relaxed: false });
      } catch (err) {
        return fail(path, `$$matchAsDocument: cannot parse ${describeValue(actual)} as Extended JSON: ${(err as Error).message}`);
      }
      if (!isDocument(parsed)) return fail(path, `$$matchAsDocument: ${describeValue(actual)} is not a JSON object`);
      return match(argument, parsed, false, path, entities);
    }

    case '$$matchAsRoot':
      if (!isDocument(argument)) return fail(path, `$$matchAsRoot takes a document, got ${describeValue(argument)}`);
      if (!isDocument(actual)) return fail(path, `$$matchAsRoot: expected a document, got ${describeValue(actual)}`);
      return match(argument, actual, true, path, entities);

    default:
      return fail(path, `unknown special operator ${operator}`);
  }
}

function lookupEntity(entities: EntityLookup | undefined, name: unknown): { found: true; value: unknown } | { found: false; message: string } {
  if (typeof name !== 'string') return { found: false, message: `entity name must be a string, got ${describeValue(name)}` };
  if (!entities) return { found: false, message: `no entity map to look up "${name}"` };
  let value: unknown;
  try {
    value = entities.get(name);
  } catch (err) {
    return { found: false, message: (err as Error).message };
  }
  return value === undefined ? { found: false, message: `entity "${name}" is not defined` } : { found: true, value };
}

/**
 * The logical session id of a session entity: its `id` (as on the official driver's ClientSession)
 * or `lsid` property, or the entity itself when it already is an lsid document (`{ id: Binary }`).
 */
export function sessionLsidOf(entity: unknown): Document | undefined {
  if (entity === null || typeof entity !== 'object') return undefined;
  const candidate = entity as { id?: unknown; lsid?: unknown };
  if (isDocument(candidate.lsid)) return candidate.lsid;
  if (isDocument(candidate.id)) return candidate.id;
  if (isDocument(entity) && bytesOf(candidate.id)) return entity;
  return undefined;
}
