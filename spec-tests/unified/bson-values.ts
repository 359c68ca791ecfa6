/**
 * Classification and exact comparison of BSON values as they appear in JavaScript, for the
 * unified test runner.
 *
 * Values may come from two places:
 * - test files, which the runner parses with `EJSON.parse(text, { relaxed: false })`, so
 *   numbers keep their BSON type as `Int32`, `Long` and `Double` wrappers;
 * - the driver, which may hand back plain JS numbers (`promoteValues`) or wrappers
 *   (`promoteValues: false`), and `bigint` for int64 (`useBigInt64`).
 *
 * All of these are "numeric" and compare by value (the spec's Flexible Numeric Comparisons);
 * Decimal128 is not numeric for that purpose and only equals another Decimal128.
 */
import type { Document } from 'bson';
// The `_bsontype` tag and the plain-document test are shared with the mini mongod.
import { bsonTag as bsonTypeTag, isDocument } from '../../test/tools/mini_mongod/values';

export { bsonTypeTag, isDocument };

/** The keys of a document that hold a value (a key mapped to `undefined` does not exist in BSON). */
export function presentKeys(doc: Document): string[] {
  return Object.keys(doc).filter((k) => doc[k] !== undefined);
}

export function hasKey(doc: Document, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(doc, key) && doc[key] !== undefined;
}

// ---------------------------------------------------------------------------------------------
// Numbers

/** An exact numeric value: integers as bigint, everything else as a JS double. */
export type Numeric = { kind: 'integer'; value: bigint } | { kind: 'float'; value: number };

/** int32 / int64 / double in any of their JS representations; undefined for anything else. */
export function toNumeric(value: unknown): Numeric | undefined {
  if (typeof value === 'number') {
    return Number.isInteger(value) ? { kind: 'integer', value: BigInt(value) } : { kind: 'float', value };
  }
  if (typeof value === 'bigint') return { kind: 'integer', value };
  switch (bsonTypeTag(value)) {
    case 'Int32':
    case 'Double':
      return toNumeric((value as { valueOf(): number }).valueOf());
    case 'Long':
      return { kind: 'integer', value: BigInt((value as { toString(): string }).toString()) };
    default:
      return undefined;
  }
}

export function isNumeric(value: unknown): boolean {
  return toNumeric(value) !== undefined;
}

/** -1, 0 or 1; NaN compares as unordered (undefined) except NaN vs NaN, which is 0. */
export function compareNumeric(a: Numeric, b: Numeric): -1 | 0 | 1 | undefined {
  if (a.kind === 'integer' && b.kind === 'integer') return a.value < b.value ? -1 : a.value > b.value ? 1 : 0;
  if (a.kind === 'float' && b.kind === 'float') {
    if (Number.isNaN(a.value) && Number.isNaN(b.value)) return 0;
    if (Number.isNaN(a.value) || Number.isNaN(b.value)) return undefined;
    return a.value < b.value ? -1 : a.value > b.value ? 1 : 0;
  }
  // One integer (exact bigint) and one non-integral float.
  const [int, float, sign] = a.kind === 'integer' ? [a.value, b.value as number, 1] : [b.value as bigint, a.value as number, -1];
  if (Number.isNaN(float)) return undefined;
  let cmp: -1 | 1;
  if (float === Infinity) cmp = -1;
  else if (float === -Infinity) cmp = 1;
  else cmp = int <= BigInt(Math.floor(float)) ? -1 : 1; // float is not integral, so never equal
  return (cmp * sign) as -1 | 1;
}

// ---------------------------------------------------------------------------------------------
// $type names

/** The string names of the `$type` query operator, plus the `number` alias. */
export const BSON_TYPE_NAMES: readonly string[] = [
  'double', 'string', 'object', 'array', 'binData', 'undefined', 'objectId', 'bool', 'date', 'null',
  'regex', 'dbPointer', 'javascript', 'symbol', 'javascriptWithScope', 'int', 'timestamp', 'long',
  'decimal', 'minKey', 'maxKey', 'number'
];

const NUMBER_ALIAS = ['int', 'long', 'double', 'decimal'];

/**
 * The `$type` names a value satisfies. Wrapped numbers (`Int32`, `Long`, `Double`) and `bigint`
 * have exactly one type. A plain JS number has lost its BSON type, so it satisfies `double`, and
 * also `int` (when integral and in int32 range) and `long` (when a safe integer); runners that
 * need exact types should deserialize with `promoteValues: false`.
 */
export function bsonTypeNamesOf(value: unknown): string[] {
  const names = baseTypeNamesOf(value);
  if (names.some((n) => NUMBER_ALIAS.includes(n))) names.push('number');
  return names;
}

function baseTypeNamesOf(value: unknown): string[] {
  if (value === undefined) return ['undefined'];
  if (value === null) return ['null'];
  if (typeof value === 'string') return ['string'];
  if (typeof value === 'boolean') return ['bool'];
  if (typeof value === 'bigint') return ['long'];
  if (typeof value === 'number') {
    const names = ['double'];
    if (Number.isInteger(value) && value >= -2147483648 && value <= 2147483647) names.push('int');
    if (Number.isSafeInteger(value)) names.push('long');
    return names;
  }
  if (Array.isArray(value)) return ['array'];
  if (value instanceof Date) return ['date'];
  if (value instanceof RegExp) return ['regex'];
  if (value instanceof Uint8Array) return ['binData'];
  switch (bsonTypeTag(value)) {
    case undefined:
      return typeof value === 'object' ? ['object'] : [];
    case 'Int32':
      return ['int'];
    case 'Long':
      return ['long'];
    case 'Double':
      return ['double'];
    case 'Decimal128':
      return ['decimal'];
    case 'ObjectId':
      return ['objectId'];
    case 'Binary':
      return ['binData'];
    case 'BSONRegExp':
      return ['regex'];
    case 'Timestamp':
      return ['timestamp'];
    case 'MinKey':
      return ['minKey'];
    case 'MaxKey':
      return ['maxKey'];
    case 'BSONSymbol':
      return ['symbol'];
    case 'Code':
      return (value as { scope?: unknown }).scope != null ? ['javascriptWithScope'] : ['javascript'];
    case 'DBRef':
      return ['object'];
    default:
      return [];
  }
}

// ---------------------------------------------------------------------------------------------
// Exact equality

/**
 * Equality as used where the Evaluating Matches rules do not apply (collection `outcome`,
 * CodeWScope scopes, `$$sessionLsid`): documents must have the same keys (in any order), arrays
 * the same elements; numbers still compare by value.
 */
export function valuesEqual(a: unknown, b: unknown): boolean {
  if (isDocument(a) || isDocument(b)) {
    if (!isDocument(a) || !isDocument(b)) return false;
    const ka = presentKeys(a);
    const kb = presentKeys(b);
    return ka.length === kb.length && ka.every((k) => hasKey(b, k) && valuesEqual(a[k], b[k]));
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((v, i) => valuesEqual(v, b[i]));
  }
  return scalarsEqual(a, b);
}

/** Equality of two non-document, non-array values with numeric leniency; types must agree otherwise. */
export function scalarsEqual(a: unknown, b: unknown): boolean {
  const na = toNumeric(a);
  const nb = toNumeric(b);
  if (na || nb) return !!na && !!nb && compareNumeric(na, nb) === 0;
  if (a === null || b === null || a === undefined || b === undefined) return a === b;
  if (typeof a !== 'object' || typeof b !== 'object') return typeof a === typeof b && a === b;

  const bytesA = bytesOf(a);
  const bytesB = bytesOf(b);
  if (bytesA || bytesB) {
    return !!bytesA && !!bytesB && bytesA.subType === bytesB.subType && Buffer.from(bytesA.bytes).equals(Buffer.from(bytesB.bytes));
  }
  const regexA = regexOf(a);
  const regexB = regexOf(b);
  if (regexA || regexB) return !!regexA && !!regexB && regexA.pattern === regexB.pattern && regexA.options === regexB.options;
  if (a instanceof Date || b instanceof Date) {
    return a instanceof Date && b instanceof Date && a.getTime() === b.getTime();
  }

  const tag = bsonTypeTag(a);
  if (tag !== bsonTypeTag(b)) return false;
  switch (tag) {
    case 'ObjectId':
      return (a as { toHexString(): string }).toHexString() === (b as { toHexString(): string }).toHexString();
    case 'Decimal128':
    case 'BSONSymbol':
      return String(a) === String(b);
    case 'Timestamp': {
      const ta = a as { t: number; i: number };
      const tb = b as { t: number; i: number };
      return ta.t === tb.t && ta.i === tb.i;
    }
    case 'MinKey':
    case 'MaxKey':
      return true;
    case 'Code': {
      const ca = a as { code: string; scope?: Document | null };
      const cb = b as { code: string; scope?: Document | null };
      return ca.code === cb.code && valuesEqual(ca.scope ?? null, cb.scope ?? null);
    }
    case 'DBRef': {
      const da = a as { collection: string; oid: unknown; db?: string; fields?: Document };
      const db = b as { collection: string; oid: unknown; db?: string; fields?: Document };
      return (
        da.collection === db.collection &&
        (da.db ?? null) === (db.db ?? null) &&
        valuesEqual(da.oid, db.oid) &&
        valuesEqual(da.fields ?? {}, db.fields ?? {})
      );
    }
    default:
      return false;
  }
}

/** Binary data: a `Binary` or raw bytes (taken as the generic subtype 0). */
export function bytesOf(value: unknown): { subType: number; bytes: Uint8Array } | undefined {
  if (value instanceof Uint8Array) return { subType: 0, bytes: value };
  if (bsonTypeTag(value) === 'Binary') {
    const bin = value as { sub_type: number; buffer: Uint8Array; position: number };
    return { subType: bin.sub_type, bytes: bin.buffer.subarray(0, bin.position) };
  }
  return undefined;
}

function regexOf(value: unknown): { pattern: string; options: string } | undefined {
  if (value instanceof RegExp) return { pattern: value.source, options: value.flags.split('').sort().join('') };
  if (bsonTypeTag(value) === 'BSONRegExp') {
    const re = value as { pattern: string; options: string };
    return { pattern: re.pattern, options: re.options.split('').sort().join('') };
  }
  return undefined;
}

/** A short rendering of a value for failure messages. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'undefined (missing)';
  if (typeof value === 'bigint') return `${value}n`;
  const tag = bsonTypeTag(value);
  if (tag) return `${tag}(${String((value as { toString(): string }).toString())})`;
  try {
    const text = JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v));
    return text === undefined ? String(value) : text.length > 200 ? `${text.slice(0, 200)}…` : text;
  } catch {
    return String(value);
  }
}
