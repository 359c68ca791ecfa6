/**
 * BSON values as the mini mongod sees them: type classification, the server's canonical sort
 * order (numbers of any BSON type compare by value), equality, deep copies and dotted paths.
 */
import { Long, type Document } from 'bson';

/** The `_bsontype` tag of a BSON value class instance (ObjectId, Int32, Binary, …). */
export function bsonTag(value: unknown): string | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const tag = (value as { _bsontype?: unknown })._bsontype;
  return typeof tag === 'string' ? tag : undefined;
}

/** A plain embedded document (not an array, BSON value class, Date, RegExp or bytes). */
export function isDocument(value: unknown): value is Document {
  return (
    value !== null &&
    typeof value === 'object' &&
    !Array.isArray(value) &&
    bsonTag(value) === undefined &&
    !(value instanceof Date) &&
    !(value instanceof RegExp) &&
    !(value instanceof Uint8Array)
  );
}

/** A document whose keys are all operators (`{ $gt: 1 }`), as opposed to a literal document. */
export function isOperatorDocument(value: unknown): value is Document {
  if (!isDocument(value)) return false;
  const keys = Object.keys(value);
  return keys.length > 0 && keys[0].startsWith('$');
}

/** int32/int64/double/decimal/bigint as a JS number; undefined for anything else. */
export function toNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  switch (bsonTag(value)) {
    case 'Int32':
    case 'Double':
      return Number((value as { valueOf(): number }).valueOf());
    case 'Long':
      return (value as Long).toNumber();
    case 'Decimal128':
      return Number(String(value));
    default:
      return undefined;
  }
}

export function isNumber(value: unknown): boolean {
  return toNumber(value) !== undefined;
}

/** The server's canonical type order (bsonspec "comparison/sort order"). */
function typeRank(value: unknown): number {
  if (value === undefined || value === null) return 2;
  if (typeof value === 'number' || typeof value === 'bigint') return 3;
  if (typeof value === 'string') return 4;
  if (typeof value === 'boolean') return 9;
  if (Array.isArray(value)) return 6;
  if (value instanceof Date) return 10;
  if (value instanceof RegExp) return 12;
  if (value instanceof Uint8Array) return 7;
  switch (bsonTag(value)) {
    case 'MinKey':
      return 1;
    case 'Int32':
    case 'Long':
    case 'Double':
    case 'Decimal128':
      return 3;
    case 'BSONSymbol':
      return 4;
    case 'Binary':
      return 7;
    case 'ObjectId':
      return 8;
    case 'Timestamp':
      return 11;
    case 'BSONRegExp':
      return 12;
    case 'Code':
      return 13;
    case 'MaxKey':
      return 127;
    default:
      return 5; // embedded document (DBRef included)
  }
}

/** Two values can be compared by $gt/$lt only when they are in the same type bracket. */
export function sameTypeBracket(a: unknown, b: unknown): boolean {
  return typeRank(a) === typeRank(b);
}

/** Collation state of the command being evaluated (strength 1–2 ignores case). */
const collation = { caseInsensitive: false };

/** Runs `fn` with strings compared case-insensitively when the collation strength is 1 or 2. */
export function withCollation<T>(spec: unknown, fn: () => T): T {
  const previous = collation.caseInsensitive;
  collation.caseInsensitive = isDocument(spec) && Number(toNumber(spec.strength) ?? 3) <= 2;
  try {
    return fn();
  } finally {
    collation.caseInsensitive = previous;
  }
}

function sign(n: number): number {
  return n < 0 ? -1 : n > 0 ? 1 : 0;
}

function bytesOf(value: unknown): Uint8Array {
  if (value instanceof Uint8Array) return value;
  return (value as { buffer: Uint8Array }).buffer;
}

/** -1/0/1 in the server's sort order: type bracket first, then value. */
export function compareValues(a: unknown, b: unknown): number {
  const ra = typeRank(a);
  const rb = typeRank(b);
  if (ra !== rb) return sign(ra - rb);
  switch (ra) {
    case 1:
    case 2:
    case 127:
      return 0;
    case 3: {
      const x = toNumber(a) as number;
      const y = toNumber(b) as number;
      if (Number.isNaN(x) || Number.isNaN(y)) return Number.isNaN(x) ? (Number.isNaN(y) ? 0 : -1) : 1;
      return sign(x - y);
    }
    case 4: {
      let x = String(a);
      let y = String(b);
      if (collation.caseInsensitive) [x, y] = [x.toLowerCase(), y.toLowerCase()];
      return x < y ? -1 : x > y ? 1 : 0;
    }
    case 5: {
      const ea = Object.entries(a as Document).filter(([, v]) => v !== undefined);
      const eb = Object.entries(b as Document).filter(([, v]) => v !== undefined);
      for (let i = 0; i < Math.min(ea.length, eb.length); i++) {
        const byType = compareValues(typeRank(ea[i][1]), typeRank(eb[i][1]));
        if (byType !== 0) return byType;
        const byKey = ea[i][0] < eb[i][0] ? -1 : ea[i][0] > eb[i][0] ? 1 : 0;
        if (byKey !== 0) return byKey;
        const byValue = compareValues(ea[i][1], eb[i][1]);
        if (byValue !== 0) return byValue;
      }
      return sign(ea.length - eb.length);
    }
    case 6: {
      const x = a as unknown[];
      const y = b as unknown[];
      for (let i = 0; i < Math.min(x.length, y.length); i++) {
        const c = compareValues(x[i], y[i]);
        if (c !== 0) return c;
      }
      return sign(x.length - y.length);
    }
    case 7: {
      const x = bytesOf(a);
      const y = bytesOf(b);
      if (x.length !== y.length) return sign(x.length - y.length);
      const subtypes = sign(Number((a as { sub_type?: number }).sub_type ?? 0) - Number((b as { sub_type?: number }).sub_type ?? 0));
      return subtypes !== 0 ? subtypes : sign(Buffer.compare(Buffer.from(x), Buffer.from(y)));
    }
    case 8: {
      const x = String((a as { toHexString(): string }).toHexString());
      const y = String((b as { toHexString(): string }).toHexString());
      return x < y ? -1 : x > y ? 1 : 0;
    }
    case 9:
      return sign(Number(a) - Number(b));
    case 10:
      return sign((a as Date).getTime() - (b as Date).getTime());
    case 11:
      return (a as Long).compare(b as Long);
    default: {
      const x = String(a);
      const y = String(b);
      return x < y ? -1 : x > y ? 1 : 0;
    }
  }
}

export function valuesEqual(a: unknown, b: unknown): boolean {
  return compareValues(a, b) === 0 && (a === undefined) === (b === undefined);
}

/** A deep copy of documents and arrays; BSON value objects are immutable here and shared. */
export function clone<T>(value: T): T {
  if (Array.isArray(value)) return value.map((v) => clone(v)) as T;
  if (value instanceof Date) return new Date(value.getTime()) as T;
  if (isDocument(value)) {
    const out: Document = {};
    for (const [k, v] of Object.entries(value)) out[k] = clone(v);
    return out as T;
  }
  return value;
}

/** The value at a dotted path, without array traversal except numeric segments (`a.0.b`). */
export function getPath(doc: unknown, path: string): unknown {
  let value: unknown = doc;
  for (const part of path.split('.')) {
    if (Array.isArray(value)) {
      if (!/^\d+$/.test(part)) return undefined;
      value = value[Number(part)];
    } else if (isDocument(value)) value = value[part];
    else return undefined;
  }
  return value;
}

/**
 * Every value a query path reaches, traversing arrays implicitly as the query language does
 * (`{'a.b': 1}` looks into each element of `a`). A path that reaches nothing yields `[undefined]`.
 */
export function queryValues(doc: unknown, path: string): unknown[] {
  const walk = (value: unknown, parts: string[]): unknown[] => {
    if (parts.length === 0) return [value];
    const [head, ...rest] = parts;
    if (Array.isArray(value)) {
      const out: unknown[] = [];
      if (/^\d+$/.test(head)) out.push(...walk(value[Number(head)], rest).filter((v) => v !== undefined));
      for (const element of value) if (isDocument(element)) out.push(...walk(element, parts).filter((v) => v !== undefined));
      return out.length > 0 ? out : [undefined];
    }
    if (isDocument(value)) return walk(value[head], rest);
    return [undefined];
  };
  return walk(doc, path.split('.'));
}

/** Sets a dotted path, creating embedded documents on the way; numeric segments index arrays. */
export function setPath(doc: Document, path: string, value: unknown): void {
  const parts = path.split('.');
  let target: Document | unknown[] = doc;
  for (let i = 0; i < parts.length - 1; i++) {
    const part = parts[i];
    const container = target as Document;
    let next = Array.isArray(target) ? target[Number(part)] : container[part];
    if (!isDocument(next) && !Array.isArray(next)) {
      next = {};
      if (Array.isArray(target)) target[Number(part)] = next;
      else container[part] = next;
    }
    target = next as Document | unknown[];
  }
  const last = parts[parts.length - 1];
  if (Array.isArray(target)) {
    const index = Number(last);
    while (target.length < index) target.push(null);
    target[index] = value;
  } else target[last] = value;
}

/** Removes a dotted path (an array element becomes null, as `$unset` does). */
export function unsetPath(doc: Document, path: string): void {
  const parts = path.split('.');
  const parent = parts.length === 1 ? doc : getPath(doc, parts.slice(0, -1).join('.'));
  const last = parts[parts.length - 1];
  if (Array.isArray(parent)) {
    if (/^\d+$/.test(last) && Number(last) < parent.length) parent[Number(last)] = null;
  } else if (isDocument(parent)) delete parent[last];
}

/** The `$type` names (and numeric codes) a value has. */
export function typeNames(value: unknown): Array<string | number> {
  const names: Array<string | number> = [];
  const add = (name: string, code: number) => names.push(name, code);
  if (value === undefined) return names;
  if (value === null) add('null', 10);
  else if (typeof value === 'string') add('string', 2);
  else if (typeof value === 'boolean') add('bool', 8);
  else if (typeof value === 'bigint') add('long', 18);
  else if (typeof value === 'number') {
    // A plain number has lost its BSON type on the way in: an integral one may have been any.
    add('double', 1);
    if (Number.isInteger(value)) add(Math.abs(value) <= 0x7fffffff ? 'int' : 'long', Math.abs(value) <= 0x7fffffff ? 16 : 18);
  } else if (Array.isArray(value)) add('array', 4);
  else if (value instanceof Date) add('date', 9);
  else if (value instanceof RegExp) add('regex', 11);
  else {
    const tag = bsonTag(value);
    const codes: Record<string, [string, number]> = {
      Int32: ['int', 16], Long: ['long', 18], Double: ['double', 1], Decimal128: ['decimal', 19], ObjectId: ['objectId', 7],
      Binary: ['binData', 5], Timestamp: ['timestamp', 17], BSONRegExp: ['regex', 11], MinKey: ['minKey', -1],
      MaxKey: ['maxKey', 127], BSONSymbol: ['symbol', 14], Code: ['javascript', 13]
    };
    const known = tag ? codes[tag] : undefined;
    if (known) add(known[0], known[1]);
    else if (!tag || tag === 'DBRef') add('object', 3);
  }
  if (isNumber(value)) names.push('number');
  return names;
}

export function isTruthyFlag(value: unknown): boolean {
  const n = toNumber(value);
  return n !== undefined ? n !== 0 : Boolean(value);
}

/** A Long cursor id from a request value. */
export function toLong(value: unknown): Long {
  if (Long.isLong(value)) return value;
  return Long.fromString(String(value));
}
