/**
 * The query language: filters (equality including arrays, comparison, `$in`/`$nin`, `$exists`,
 * `$not`, `$and`/`$or`/`$nor`, `$regex`, `$size`, `$all`, `$elemMatch`, `$type`, `$mod`, `$expr`,
 * dotted paths with implicit array traversal), sort specifications and find projections.
 */
import type { Document } from 'bson';
import { badValue, CommandError } from './command_error';
import { evaluate, truthy } from './expressions';
import {
  bsonTag,
  clone,
  compareValues,
  getPath,
  isDocument,
  isOperatorDocument,
  isTruthyFlag,
  queryValues,
  sameTypeBracket,
  setPath,
  toNumber,
  typeNames,
  unsetPath,
  valuesEqual
} from './values';

/** `let` variables for `$expr`. */
export type Variables = Document;

/** Whether `doc` matches `filter`. */
export function matches(doc: Document, filter: unknown, vars: Variables = {}): boolean {
  if (filter === undefined || filter === null) return true;
  if (!isDocument(filter)) throw badValue('filter must be an object');
  return Object.entries(filter).every(([key, condition]) => {
    switch (key) {
      case '$and':
        return asFilters(key, condition).every((f) => matches(doc, f, vars));
      case '$or':
        return asFilters(key, condition).some((f) => matches(doc, f, vars));
      case '$nor':
        return !asFilters(key, condition).some((f) => matches(doc, f, vars));
      case '$comment':
        return true;
      case '$expr':
        return truthy(evaluate(condition, { root: doc, vars }));
      default:
        if (key.startsWith('$')) throw badValue(`unknown top level operator: ${key}`);
        return matchesPath(queryValues(doc, key), condition, vars);
    }
  });
}

function asFilters(op: string, value: unknown): Document[] {
  if (!Array.isArray(value) || value.length === 0) throw badValue(`${op} argument must be a non-empty array`);
  return value as Document[];
}

/** The values a condition is tried against: each reached value and, for arrays, their elements. */
function candidates(values: unknown[]): unknown[] {
  const out: unknown[] = [];
  for (const v of values) {
    out.push(v);
    if (Array.isArray(v)) out.push(...v);
  }
  return out;
}

function matchesPath(values: unknown[], condition: unknown, vars: Variables): boolean {
  if (isOperatorDocument(condition)) {
    const options = typeof condition.$options === 'string' ? condition.$options : undefined;
    return Object.entries(condition).every(([op, arg]) => op === '$options' || matchesOperator(values, op, arg, options, vars));
  }
  return equals(values, condition);
}

function equals(values: unknown[], expected: unknown): boolean {
  if (isRegex(expected)) return candidates(values).some((v) => regexMatches(expected, v));
  if (expected === null) return candidates(values).some((v) => v === null || v === undefined);
  return candidates(values).some((v) => v !== undefined && valuesEqual(v, expected));
}

function isRegex(value: unknown): boolean {
  return value instanceof RegExp || bsonTag(value) === 'BSONRegExp';
}

function toRegExp(pattern: unknown, options?: string): RegExp {
  if (pattern instanceof RegExp) return options === undefined ? pattern : new RegExp(pattern.source, options.replace(/[^imsu]/g, ''));
  if (bsonTag(pattern) === 'BSONRegExp') {
    const r = pattern as { pattern: string; options: string };
    return new RegExp(r.pattern, (options ?? r.options).replace(/[^imsu]/g, ''));
  }
  if (typeof pattern === 'string') return new RegExp(pattern, (options ?? '').replace(/[^imsu]/g, ''));
  throw badValue('$regex has to be a string');
}

function regexMatches(regex: unknown, value: unknown, options?: string): boolean {
  return typeof value === 'string' && toRegExp(regex, options).test(value);
}

function matchesOperator(values: unknown[], op: string, arg: unknown, options: string | undefined, vars: Variables): boolean {
  const all = candidates(values);
  const ordered = (test: (c: number) => boolean) => all.some((v) => v !== undefined && sameTypeBracket(v, arg) && test(compareValues(v, arg)));
  switch (op) {
    case '$eq':
      return equals(values, arg);
    case '$ne':
      return !equals(values, arg);
    case '$gt':
      return ordered((c) => c > 0);
    case '$gte':
      return ordered((c) => c >= 0) || (arg === null && equals(values, null));
    case '$lt':
      return ordered((c) => c < 0);
    case '$lte':
      return ordered((c) => c <= 0) || (arg === null && equals(values, null));
    case '$in':
      if (!Array.isArray(arg)) throw badValue('$in needs an array');
      return arg.some((a) => equals(values, a));
    case '$nin':
      if (!Array.isArray(arg)) throw badValue('$nin needs an array');
      return !arg.some((a) => equals(values, a));
    case '$exists':
      return values.some((v) => v !== undefined) === isTruthyFlag(arg);
    case '$not':
      if (isRegex(arg)) return !all.some((v) => regexMatches(arg, v));
      if (!isOperatorDocument(arg)) throw badValue('$not needs a regex or a document');
      return !matchesPath(values, arg, vars);
    case '$regex':
      return all.some((v) => regexMatches(arg, v, options));
    case '$size':
      return values.some((v) => Array.isArray(v) && v.length === toNumber(arg));
    case '$all':
      if (!Array.isArray(arg)) throw badValue('$all needs an array');
      return arg.length > 0 && arg.every((a) => (isDocument(a) && '$elemMatch' in a ? matchesOperator(values, '$elemMatch', a.$elemMatch, undefined, vars) : equals(values, a)));
    case '$elemMatch':
      if (!isDocument(arg)) throw badValue('$elemMatch needs an Object');
      return values.some(
        (v) => Array.isArray(v) && v.some((element) => (isOperatorDocument(arg) && !('$and' in arg || '$or' in arg || '$nor' in arg) ? matchesPath([element], arg, vars) : isDocument(element) && matches(element, arg, vars)))
      );
    case '$type': {
      const wanted = Array.isArray(arg) ? arg : [arg];
      return values.some((v) => {
        const own = typeNames(v);
        const elements = Array.isArray(v) ? v.flatMap((e) => typeNames(e)) : [];
        return wanted.some((w) => own.includes(w as string) || elements.includes(w as string) || own.includes(toNumber(w) as number) || elements.includes(toNumber(w) as number));
      });
    }
    case '$mod': {
      const [divisor, remainder] = (arg as unknown[]).map((x) => toNumber(x) as number);
      return all.some((v) => toNumber(v) !== undefined && Math.trunc(toNumber(v) as number) % divisor === remainder);
    }
    case '$comment':
      return true;
    default:
      throw badValue(`unknown operator: ${op}`);
  }
}

/** A stable sort by a sort specification; an array field sorts by its smallest (ascending) or largest (descending) element. */
export function sortDocuments(docs: Document[], sort: unknown): Document[] {
  if (!isDocument(sort) && !(sort instanceof Map)) return docs;
  const entries = (sort instanceof Map ? [...sort.entries()] : Object.entries(sort)) as Array<[string, unknown]>;
  if (entries.length === 0) return docs;
  const keys = entries.map(([path, dir]) => [path, (toNumber(dir) ?? 1) < 0 ? -1 : 1] as const);
  const sortKey = (doc: Document, path: string, dir: number): unknown => {
    const values = queryValues(doc, path).flatMap((v) => (Array.isArray(v) ? (v.length === 0 ? [undefined] : v) : [v]));
    return values.reduce((best, v) => (dir * compareValues(v, best) < 0 ? v : best));
  };
  return docs
    .map((doc, index) => ({ doc, index }))
    .sort((a, b) => {
      for (const [path, dir] of keys) {
        const c = compareValues(sortKey(a.doc, path, dir), sortKey(b.doc, path, dir));
        if (c !== 0) return c * dir;
      }
      return a.index - b.index;
    })
    .map((x) => x.doc);
}

/**
 * A find (or `$project`) projection: inclusion or exclusion of (dotted) fields, `_id` included
 * unless excluded (`{_id: 1}` alone keeps only `_id`), computed fields from expressions.
 */
export function project(doc: Document, projection: unknown, vars: Variables = {}): Document {
  if (!isDocument(projection) || Object.keys(projection).length === 0) return doc;
  const entries = Object.entries(projection);
  const isFlag = (v: unknown) => typeof v === 'boolean' || toNumber(v) !== undefined;
  const inclusive = entries.some(([k, v]) => k !== '_id' && (!isFlag(v) || isTruthyFlag(v))) || (entries.length === 1 && entries[0][0] === '_id' && isTruthyFlag(entries[0][1]));
  if (!inclusive) {
    const out = clone(doc);
    for (const [path] of entries) unsetPath(out, path);
    return out;
  }
  const out: Document = {};
  const idSpec = projection._id;
  if (idSpec === undefined || (isFlag(idSpec) && isTruthyFlag(idSpec))) {
    if (doc._id !== undefined) out._id = doc._id;
  } else if (!isFlag(idSpec)) out._id = evaluate(idSpec, { root: doc, vars });
  for (const [path, spec] of entries) {
    if (path === '_id') continue;
    if (isFlag(spec)) {
      if (!isTruthyFlag(spec)) throw new CommandError(31254, 'Location31254', `Cannot do exclusion on field ${path} in inclusion projection`);
      includePath(doc, out, path.split('.'));
    } else if (isDocument(spec) && ('$slice' in spec || '$elemMatch' in spec)) {
      const value = getPath(doc, path);
      if (Array.isArray(value)) setPath(out, path, '$slice' in spec ? sliceArray(value, spec.$slice) : value.filter((e) => isDocument(e) && matches(e, spec.$elemMatch, vars)).slice(0, 1));
    } else {
      const value = evaluate(spec, { root: doc, vars });
      if (value !== undefined) setPath(out, path, value);
    }
  }
  return out;
}

function sliceArray(value: unknown[], spec: unknown): unknown[] {
  if (Array.isArray(spec)) {
    const [skip, limit] = spec.map((x) => toNumber(x) as number);
    const start = skip < 0 ? Math.max(value.length + skip, 0) : skip;
    return value.slice(start, start + limit);
  }
  const n = toNumber(spec) ?? 0;
  return n < 0 ? value.slice(n) : value.slice(0, n);
}

/** Copies `parts` of `source` into `target`, through embedded documents and arrays of them. */
function includePath(source: unknown, target: Document, parts: string[]): void {
  if (!isDocument(source)) return;
  const [head, ...rest] = parts;
  const value = source[head];
  if (value === undefined) return;
  if (rest.length === 0) {
    target[head] = value;
    return;
  }
  if (Array.isArray(value)) {
    const existing = Array.isArray(target[head]) ? (target[head] as Document[]) : [];
    const projected = value.filter(isDocument).map((element, i) => {
      const out = existing[i] ?? {};
      includePath(element, out, rest);
      return out;
    });
    target[head] = projected;
  } else if (isDocument(value)) {
    const out = isDocument(target[head]) ? (target[head] as Document) : {};
    includePath(value, out, rest);
    target[head] = out;
  }
}

/** The fields an upsert starts from: the filter's equality conditions (dotted paths nested). */
export function equalityFields(filter: unknown): Document {
  const out: Document = {};
  if (!isDocument(filter)) return out;
  for (const [key, condition] of Object.entries(filter)) {
    if (key === '$and' && Array.isArray(condition)) {
      for (const part of condition) Object.assign(out, equalityFields(part));
      continue;
    }
    if (key.startsWith('$')) continue;
    if (isOperatorDocument(condition)) {
      if ('$eq' in condition) setPath(out, key, condition.$eq);
      else if (Array.isArray(condition.$in) && condition.$in.length === 1) setPath(out, key, condition.$in[0]);
      continue;
    }
    if (isRegex(condition)) continue;
    setPath(out, key, condition);
  }
  return out;
}
