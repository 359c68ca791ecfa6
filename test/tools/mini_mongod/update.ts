/**
 * Update documents: operators ($set $unset $inc $mul $min $max $rename $push $addToSet $pull
 * $pullAll $pop $currentDate $setOnInsert), positional paths (`$`, `$[]`, `$[id]` with
 * arrayFilters), replacements (keeping `_id`) and pipeline updates ($set/$addFields, $unset,
 * $project, $replaceRoot/$replaceWith).
 */
import { Long, Timestamp, type Document } from 'bson';
import { CommandError } from './command_error';
import { evaluate } from './expressions';
import { matches, project, sortDocuments, type Variables } from './query';
import { clone, compareValues, getPath, isDocument, isOperatorDocument, setPath, toNumber, typeNames, unsetPath, valuesEqual } from './values';

export interface UpdateOptions {
  /** The filter that selected the document (for the positional `$` operator). */
  query?: Document;
  arrayFilters?: Document[];
  /** The document is being inserted by an upsert ($setOnInsert applies). */
  isInsert?: boolean;
  vars?: Variables;
}

function failedToParse(errmsg: string): CommandError {
  return new CommandError(9, 'FailedToParse', errmsg);
}

/** Whether an update is a replacement document (no operator at the top level). */
export function isReplacement(update: unknown): update is Document {
  return isDocument(update) && !Object.keys(update).some((k) => k.startsWith('$'));
}

/** Checks an update's shape as the server does before applying it to anything. */
export function validateUpdate(update: unknown, multi: boolean): void {
  if (Array.isArray(update)) return;
  if (!isDocument(update)) throw failedToParse('Update argument must be either an object or an array');
  const keys = Object.keys(update);
  const operators = keys.filter((k) => k.startsWith('$'));
  if (operators.length > 0 && operators.length < keys.length) throw failedToParse(`Unknown modifier: ${keys.find((k) => !k.startsWith('$')) ?? ''}. Expected a valid update modifier or pipeline-style update specified as an array`);
  if (operators.length === 0 && multi) throw failedToParse('multi update is not supported for replacement-style update');
  for (const op of operators) {
    if (!OPERATORS.has(op)) throw failedToParse(`Unknown modifier: ${op}. Expected a valid update modifier or pipeline-style update specified as an array`);
    if (!isDocument(update[op])) throw failedToParse(`Modifiers operate on fields but we found type ${String(typeNames(update[op])[0])} instead.`);
  }
}

const OPERATORS = new Set(['$set', '$unset', '$inc', '$mul', '$min', '$max', '$rename', '$push', '$addToSet', '$pull', '$pullAll', '$pop', '$currentDate', '$setOnInsert']);

/** The updated copy of `doc` (never mutates `doc`). */
export function applyUpdate(doc: Document, update: unknown, options: UpdateOptions = {}): Document {
  if (Array.isArray(update)) return applyPipeline(doc, update as Document[], options.vars ?? {});
  validateUpdate(update, false);
  const spec = update as Document;
  if (isReplacement(spec)) {
    if (spec._id !== undefined && doc._id !== undefined && !valuesEqual(spec._id, doc._id)) throw immutableId();
    const out: Document = doc._id !== undefined ? { _id: doc._id } : {};
    for (const [k, v] of Object.entries(spec)) if (k !== '_id' || doc._id === undefined) out[k] = clone(v);
    return out;
  }
  const out = clone(doc);
  for (const [op, fields] of Object.entries(spec)) {
    for (const [rawPath, value] of Object.entries(fields as Document)) {
      if (op === '$setOnInsert' && !options.isInsert) continue;
      for (const path of expandPath(out, rawPath, options)) applyOperator(out, op, path, value);
    }
  }
  if (doc._id !== undefined && !valuesEqual(out._id, doc._id)) throw immutableId();
  return out;
}

function immutableId(): CommandError {
  return new CommandError(66, 'ImmutableField', "Performing an update on the path '_id' would modify the immutable field '_id'");
}

/** Concrete paths for a path with positional segments (`$`, `$[]`, `$[identifier]`). */
function expandPath(doc: Document, path: string, options: UpdateOptions): string[] {
  const parts = path.split('.');
  const index = parts.findIndex((p) => p === '$' || /^\$\[\w*\]$/.test(p));
  if (index < 0) return [path];
  const prefix = parts.slice(0, index).join('.');
  const rest = parts.slice(index + 1).join('.');
  const array = getPath(doc, prefix);
  if (!Array.isArray(array)) {
    throw new CommandError(2, 'BadValue', `The path '${prefix}' must exist in the document in order to apply array updates.`);
  }
  const segment = parts[index];
  let indexes: number[];
  if (segment === '$') {
    const found = positionalIndex(doc, prefix, array, options.query ?? {});
    if (found < 0) throw new CommandError(2, 'BadValue', 'The positional operator did not find the match needed from the query.');
    indexes = [found];
  } else if (segment === '$[]') indexes = array.map((_, i) => i);
  else {
    const id = segment.slice(2, -1);
    const filters = (options.arrayFilters ?? []).filter((f) => Object.keys(f).some((k) => k === id || k.startsWith(`${id}.`)));
    if (filters.length === 0) throw new CommandError(2, 'BadValue', `No array filter found for identifier '${id}' in path '${path}'`);
    indexes = array.map((_, i) => i).filter((i) => filters.every((f) => matches({ [id]: array[i] }, f, options.vars)));
  }
  return indexes.flatMap((i) => {
    const concrete = rest ? `${prefix}.${i}.${rest}` : `${prefix}.${i}`;
    return rest.includes('$') ? expandPath(doc, concrete, options) : [concrete];
  });
}

/** The first element of `array` that the query's conditions on that array select. */
function positionalIndex(doc: Document, prefix: string, array: unknown[], query: Document): number {
  const relevant = Object.entries(query).filter(([k]) => k === prefix || k.startsWith(`${prefix}.`));
  for (let i = 0; i < array.length; i++) {
    const probe = clone(doc);
    setPath(probe, prefix, [array[i]]);
    if (relevant.every(([k, cond]) => matches(probe, { [k]: cond }))) return i;
  }
  return -1;
}

function arrayAt(doc: Document, path: string, op: string): unknown[] | undefined {
  const current = getPath(doc, path);
  if (current === undefined) return undefined;
  if (!Array.isArray(current)) {
    throw new CommandError(2, 'BadValue', `The field '${path}' must be an array but is of type ${String(typeNames(current)[0])} in document {_id: ${String(doc._id)}} (${op})`);
  }
  return current;
}

function arithmetic(current: unknown, operand: unknown, op: '$inc' | '$mul', path: string): unknown {
  const by = toNumber(operand);
  if (by === undefined) throw new CommandError(14, 'TypeMismatch', `Cannot ${op === '$inc' ? 'increment' : 'multiply'} with non-numeric argument: {${path}: ${String(operand)}}`);
  if (current === undefined) return op === '$inc' ? operand : Long.isLong(operand) ? Long.ZERO : 0;
  const base = toNumber(current);
  if (base === undefined) throw new CommandError(14, 'TypeMismatch', `Cannot apply ${op} to a value of non-numeric type. {_id: …} has the field '${path}' of non-numeric type ${String(typeNames(current)[0])}`);
  if (Long.isLong(current) && (Long.isLong(operand) || Number.isInteger(by))) {
    return op === '$inc' ? current.add(Long.fromNumber(by)) : current.multiply(Long.fromNumber(by));
  }
  return op === '$inc' ? base + by : base * by;
}

function applyOperator(doc: Document, op: string, path: string, value: unknown): void {
  switch (op) {
    case '$set':
    case '$setOnInsert':
      setPath(doc, path, clone(value));
      return;
    case '$unset':
      unsetPath(doc, path);
      return;
    case '$inc':
    case '$mul':
      setPath(doc, path, arithmetic(getPath(doc, path), value, op, path));
      return;
    case '$min':
    case '$max': {
      const current = getPath(doc, path);
      const c = compareValues(value, current);
      if (current === undefined || (op === '$min' ? c < 0 : c > 0)) setPath(doc, path, clone(value));
      return;
    }
    case '$rename': {
      if (typeof value !== 'string') throw new CommandError(2, 'BadValue', 'The rename target must be a string');
      const current = getPath(doc, path);
      if (current === undefined) return;
      unsetPath(doc, path);
      setPath(doc, value, current);
      return;
    }
    case '$currentDate': {
      const asTimestamp = isDocument(value) && value.$type === 'timestamp';
      setPath(doc, path, asTimestamp ? Timestamp.fromNumber(Math.floor(Date.now() / 1000) * 2 ** 32 + 1) : new Date());
      return;
    }
    case '$push':
      setPath(doc, path, push(arrayAt(doc, path, op) ?? [], value));
      return;
    case '$addToSet': {
      const array = [...(arrayAt(doc, path, op) ?? [])];
      const items = isDocument(value) && Array.isArray(value.$each) ? value.$each : [value];
      for (const item of items) if (!array.some((x) => valuesEqual(x, item))) array.push(clone(item));
      setPath(doc, path, array);
      return;
    }
    case '$pull': {
      const array = arrayAt(doc, path, op);
      if (!array) return;
      const remove = (element: unknown): boolean => {
        if (isOperatorDocument(value)) return matches({ v: element }, { v: value });
        if (isDocument(value)) return isDocument(element) && matches(element, value);
        return valuesEqual(element, value);
      };
      setPath(doc, path, array.filter((e) => !remove(e)));
      return;
    }
    case '$pullAll': {
      const array = arrayAt(doc, path, op);
      if (!Array.isArray(value)) throw new CommandError(2, 'BadValue', '$pullAll requires an array argument');
      if (array) setPath(doc, path, array.filter((e) => !value.some((v) => valuesEqual(e, v))));
      return;
    }
    case '$pop': {
      const array = arrayAt(doc, path, op);
      if (array) setPath(doc, path, (toNumber(value) ?? 1) < 0 ? array.slice(1) : array.slice(0, -1));
      return;
    }
  }
}

function push(array: unknown[], value: unknown): unknown[] {
  const modifiers = isDocument(value) && '$each' in value;
  if (!modifiers) return [...array, clone(value)];
  const spec = value as Document;
  if (!Array.isArray(spec.$each)) throw new CommandError(2, 'BadValue', 'The argument to $each in $push must be an array');
  const items = spec.$each.map((v) => clone(v));
  const position = toNumber(spec.$position);
  let out = [...array];
  if (position === undefined) out.push(...items);
  else {
    const at = position < 0 ? Math.max(out.length + position, 0) : Math.min(position, out.length);
    out.splice(at, 0, ...items);
  }
  if (spec.$sort !== undefined) {
    if (isDocument(spec.$sort)) out = sortDocuments(out as Document[], spec.$sort);
    else {
      const dir = toNumber(spec.$sort) ?? 1;
      out = [...out].sort((a, b) => dir * compareValues(a, b));
    }
  }
  if (spec.$slice !== undefined) {
    const n = toNumber(spec.$slice) ?? 0;
    out = n < 0 ? out.slice(n) : out.slice(0, n);
  }
  return out;
}

function applyPipeline(doc: Document, pipeline: Document[], vars: Variables): Document {
  let out = clone(doc);
  for (const stage of pipeline) {
    const [name] = Object.keys(stage);
    const spec = stage[name];
    switch (name) {
      case '$set':
      case '$addFields': {
        const next = clone(out);
        for (const [path, expression] of Object.entries(spec as Document)) setPath(next, path, evaluate(expression, { root: out, vars }));
        out = next;
        break;
      }
      case '$unset':
        for (const path of Array.isArray(spec) ? spec : [spec]) unsetPath(out, String(path));
        break;
      case '$project':
        out = project(out, spec, vars);
        break;
      case '$replaceRoot':
      case '$replaceWith': {
        const replacement = evaluate(name === '$replaceRoot' ? (spec as Document).newRoot : spec, { root: out, vars });
        if (!isDocument(replacement)) throw new CommandError(40228, 'Location40228', `'newRoot' expression must evaluate to an object`);
        out = { _id: doc._id, ...replacement };
        break;
      }
      default:
        throw new CommandError(72, 'InvalidOptions', `${name} is not allowed to be used within an update`);
    }
  }
  if (doc._id !== undefined && !valuesEqual(out._id, doc._id)) throw immutableId();
  return out;
}
