/**
 * Aggregation expressions (used by $project/$addFields/$group/…, `$expr` and pipeline updates):
 * field paths (`$a.b`), variables (`$$ROOT`, `$$NOW`, `let`), literals, and the common operators.
 * Anything else is the server's "Unrecognized expression" error.
 */
import type { Document } from 'bson';
import { CommandError } from './command_error';
import { compareValues, isDocument, isNumber, toNumber, typeNames, valuesEqual } from './values';

export interface ExpressionContext {
  root: Document;
  /** `let` variables and `$$` bindings ($$ROOT/$$CURRENT are derived from root). */
  vars: Document;
}

/** The value of a field path in aggregation: through arrays, a path yields the array of values. */
export function fieldPathValue(value: unknown, path: string): unknown {
  if (path === '') return value;
  const [head, ...rest] = path.split('.');
  if (Array.isArray(value)) {
    return value.map((v) => (isDocument(v) ? fieldPathValue(v, path) : undefined)).filter((v) => v !== undefined);
  }
  if (!isDocument(value)) return undefined;
  return rest.length === 0 ? value[head] : fieldPathValue(value[head], rest.join('.'));
}

function variable(name: string, ctx: ExpressionContext): unknown {
  const [head, ...rest] = name.split('.');
  let base: unknown;
  if (head === 'ROOT' || head === 'CURRENT') base = ctx.root;
  else if (head === 'NOW') base = new Date();
  else if (head === 'REMOVE') return undefined;
  else if (head in ctx.vars) base = ctx.vars[head];
  else throw new CommandError(17276, 'Location17276', `Use of undefined variable: ${head}`);
  return rest.length === 0 ? base : fieldPathValue(base, rest.join('.'));
}

function numberOrNull(values: unknown[], op: string): number[] | null {
  if (values.some((v) => v === null || v === undefined)) return null;
  const out = values.map((v) => (v instanceof Date ? v.getTime() : toNumber(v)));
  if (out.some((n) => n === undefined)) throw new CommandError(16554, 'TypeMismatch', `${op} only supports numeric types`);
  return out as number[];
}

function args(spec: unknown, ctx: ExpressionContext): unknown[] {
  return (Array.isArray(spec) ? spec : [spec]).map((a) => evaluate(a, ctx));
}

function flatNumbers(values: unknown[]): number[] {
  const flat = values.length === 1 && Array.isArray(values[0]) ? (values[0] as unknown[]) : values;
  return flat.filter(isNumber).map((v) => toNumber(v) as number);
}

/** Evaluates an aggregation expression against `ctx.root`. */
export function evaluate(expression: unknown, ctx: ExpressionContext): unknown {
  if (typeof expression === 'string') {
    if (expression.startsWith('$$')) return variable(expression.slice(2), ctx);
    if (expression.startsWith('$')) return fieldPathValue(ctx.root, expression.slice(1));
    return expression;
  }
  if (Array.isArray(expression)) return expression.map((e) => evaluate(e, ctx));
  if (!isDocument(expression)) return expression;
  const keys = Object.keys(expression);
  if (keys.length !== 1 || !keys[0].startsWith('$')) {
    const out: Document = {};
    for (const [k, v] of Object.entries(expression)) {
      const value = evaluate(v, ctx);
      if (value !== undefined) out[k] = value;
    }
    return out;
  }
  const op = keys[0];
  const spec = expression[op];
  switch (op) {
    case '$literal':
      return spec;
    case '$rand':
      return Math.random();
    case '$add': {
      const values = args(spec, ctx);
      const date = values.find((v) => v instanceof Date);
      const n = numberOrNull(values, op);
      if (n === null) return null;
      const sum = n.reduce((a, b) => a + b, 0);
      return date ? new Date(sum) : sum;
    }
    case '$subtract': {
      const n = numberOrNull(args(spec, ctx), op);
      return n === null ? null : n[0] - n[1];
    }
    case '$multiply': {
      const n = numberOrNull(args(spec, ctx), op);
      return n === null ? null : n.reduce((a, b) => a * b, 1);
    }
    case '$divide': {
      const n = numberOrNull(args(spec, ctx), op);
      if (n === null) return null;
      if (n[1] === 0) throw new CommandError(2, 'BadValue', "can't $divide by zero");
      return n[0] / n[1];
    }
    case '$mod': {
      const n = numberOrNull(args(spec, ctx), op);
      return n === null ? null : n[0] % n[1];
    }
    case '$abs': {
      const n = numberOrNull(args(spec, ctx), op);
      return n === null ? null : Math.abs(n[0]);
    }
    case '$concat': {
      const values = args(spec, ctx);
      return values.some((v) => v === null || v === undefined) ? null : values.map(String).join('');
    }
    case '$toLower':
    case '$toUpper': {
      const [v] = args(spec, ctx);
      const s = v === null || v === undefined ? '' : String(v);
      return op === '$toLower' ? s.toLowerCase() : s.toUpperCase();
    }
    case '$toString': {
      const [v] = args(spec, ctx);
      return v === null || v === undefined ? null : v instanceof Date ? v.toISOString() : String(v);
    }
    case '$eq':
    case '$ne':
    case '$gt':
    case '$gte':
    case '$lt':
    case '$lte':
    case '$cmp': {
      const [a, b] = args(spec, ctx);
      const c = compareValues(a, b);
      return { $eq: c === 0, $ne: c !== 0, $gt: c > 0, $gte: c >= 0, $lt: c < 0, $lte: c <= 0, $cmp: c }[op];
    }
    case '$and':
      return args(spec, ctx).every(truthy);
    case '$or':
      return args(spec, ctx).some(truthy);
    case '$not':
      return !truthy(args(spec, ctx)[0]);
    case '$cond': {
      const [test, then, otherwise] = Array.isArray(spec) ? spec : [(spec as Document).if, (spec as Document).then, (spec as Document).else];
      return truthy(evaluate(test, ctx)) ? evaluate(then, ctx) : evaluate(otherwise, ctx);
    }
    case '$ifNull': {
      for (const v of args(spec, ctx)) if (v !== null && v !== undefined) return v;
      return null;
    }
    case '$in': {
      const [v, list] = args(spec, ctx);
      if (!Array.isArray(list)) throw new CommandError(40081, 'Location40081', '$in requires an array as a second argument');
      return list.some((x) => valuesEqual(x, v));
    }
    case '$size': {
      const [v] = args(spec, ctx);
      if (!Array.isArray(v)) throw new CommandError(17124, 'Location17124', 'The argument to $size must be an array');
      return v.length;
    }
    case '$arrayElemAt': {
      const [list, index] = args(spec, ctx);
      if (!Array.isArray(list)) return null;
      const i = toNumber(index) ?? 0;
      return list[i < 0 ? list.length + i : i];
    }
    case '$first':
    case '$last': {
      const [list] = args(spec, ctx);
      if (!Array.isArray(list)) return null;
      return op === '$first' ? list[0] : list[list.length - 1];
    }
    case '$sum':
      return flatNumbers(args(spec, ctx)).reduce((a, b) => a + b, 0);
    case '$avg': {
      const n = flatNumbers(args(spec, ctx));
      return n.length === 0 ? null : n.reduce((a, b) => a + b, 0) / n.length;
    }
    case '$min':
    case '$max': {
      const values = args(spec, ctx);
      const flat = (values.length === 1 && Array.isArray(values[0]) ? values[0] : values).filter((v) => v !== null && v !== undefined);
      if (flat.length === 0) return null;
      return flat.reduce((a, b) => ((op === '$min' ? compareValues(b, a) < 0 : compareValues(b, a) > 0) ? b : a));
    }
    case '$type': {
      const [v] = args(spec, ctx);
      return v === undefined ? 'missing' : String(typeNames(v)[0]);
    }
    case '$isArray':
      return Array.isArray(args(spec, ctx)[0]);
    case '$mergeObjects': {
      const out: Document = {};
      for (const v of args(spec, ctx)) if (isDocument(v)) Object.assign(out, v);
      return out;
    }
    case '$concatArrays': {
      const values = args(spec, ctx);
      return values.some((v) => !Array.isArray(v)) ? null : (values as unknown[][]).flat(1);
    }
    default:
      throw new CommandError(168, 'InvalidPipelineOperator', `Unrecognized expression '${op}'`);
  }
}

/** Aggregation truthiness: false, null, missing and 0 are false. */
export function truthy(value: unknown): boolean {
  if (value === undefined || value === null || value === false) return false;
  const n = toNumber(value);
  return n === undefined || n !== 0;
}
