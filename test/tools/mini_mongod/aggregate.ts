/**
 * Aggregation pipelines: $match $sort $skip $limit $project $addFields/$set $unset $group
 * ($sum $avg $min $max $push $addToSet $first $last $count $mergeObjects) $unwind $count
 * $sortByCount $replaceRoot/$replaceWith $lookup $unionWith $facet $sample $documents
 * $listLocalSessions $out $merge. Reading and writing other collections goes through a host.
 */
import type { Document } from 'bson';
import { CommandError } from './command_error';
import { evaluate, type ExpressionContext } from './expressions';
import { matches, project, sortDocuments, type Variables } from './query';
import { clone, compareValues, getPath, isDocument, isNumber, queryValues, setPath, toNumber, unsetPath, valuesEqual } from './values';

/** What a pipeline needs from the server around it. */
export interface PipelineHost {
  /** A collection's (or view's) documents, [] when it does not exist. */
  read(db: string, coll: string): Document[];
  /** $out: replaces a collection's contents. */
  replaceContents(db: string, coll: string, docs: Document[]): void;
  /** $merge: merges documents into a collection. */
  merge(db: string, coll: string, docs: Document[], spec: Document): void;
}

export interface PipelineContext {
  db: string;
  host: PipelineHost;
  vars: Variables;
  /** The session of the command ($listLocalSessions). */
  lsid?: Document;
}

function expressionContext(doc: Document, ctx: PipelineContext): ExpressionContext {
  return { root: doc, vars: ctx.vars };
}

function namespaceOf(spec: unknown, db: string): [string, string] {
  if (typeof spec === 'string') return [db, spec];
  if (isDocument(spec)) return [String(spec.db ?? db), String(spec.coll)];
  throw new CommandError(2, 'BadValue', 'a namespace must be a string or {db, coll}');
}

/** Runs `pipeline` over `input` (which is not mutated). */
export function runPipeline(input: Document[], pipeline: Document[], ctx: PipelineContext): Document[] {
  let docs = input;
  pipeline.forEach((stage, index) => {
    if (!isDocument(stage) || Object.keys(stage).length !== 1) throw new CommandError(40323, 'Location40323', 'A pipeline stage specification object must contain exactly one field.');
    const [name] = Object.keys(stage);
    if ((name === '$out' || name === '$merge') && index !== pipeline.length - 1) {
      throw new CommandError(40601, 'Location40601', `${name} can only be the final stage in the pipeline`);
    }
    docs = runStage(docs, name, stage[name], ctx);
  });
  return docs;
}

function runStage(docs: Document[], name: string, spec: unknown, ctx: PipelineContext): Document[] {
  switch (name) {
    case '$match':
      return docs.filter((d) => matches(d, spec, ctx.vars));
    case '$sort':
      return sortDocuments(docs, spec);
    case '$skip':
      return docs.slice(toNumber(spec) ?? 0);
    case '$limit':
      return docs.slice(0, toNumber(spec) ?? docs.length);
    case '$project':
      return docs.map((d) => project(d, spec, ctx.vars));
    case '$addFields':
    case '$set':
      return docs.map((d) => {
        const out = clone(d);
        for (const [path, expression] of Object.entries(spec as Document)) {
          const value = evaluate(expression, expressionContext(d, ctx));
          if (value === undefined) unsetPath(out, path);
          else setPath(out, path, value);
        }
        return out;
      });
    case '$unset':
      return docs.map((d) => {
        const out = clone(d);
        for (const path of Array.isArray(spec) ? spec : [spec]) unsetPath(out, String(path));
        return out;
      });
    case '$replaceRoot':
    case '$replaceWith':
      return docs.map((d) => {
        const root = evaluate(name === '$replaceRoot' ? (spec as Document).newRoot : spec, expressionContext(d, ctx));
        if (!isDocument(root)) throw new CommandError(40228, 'Location40228', "'newRoot' expression must evaluate to an object");
        return root;
      });
    case '$count':
      return docs.length === 0 ? [] : [{ [String(spec)]: docs.length }];
    case '$group':
      return group(docs, spec as Document, ctx);
    case '$sortByCount':
      return sortDocuments(group(docs, { _id: spec, count: { $sum: 1 } }, ctx), { count: -1 });
    case '$unwind':
      return unwind(docs, spec);
    case '$sample':
      return [...docs].sort(() => Math.random() - 0.5).slice(0, toNumber((spec as Document).size) ?? docs.length);
    case '$lookup':
      return lookup(docs, spec as Document, ctx);
    case '$unionWith': {
      const [db, coll] = namespaceOf(isDocument(spec) ? spec.coll : spec, ctx.db);
      const pipeline = isDocument(spec) && Array.isArray(spec.pipeline) ? (spec.pipeline as Document[]) : [];
      return [...docs, ...runPipeline(ctx.host.read(db, coll), pipeline, ctx)];
    }
    case '$facet': {
      const out: Document = {};
      for (const [field, pipeline] of Object.entries(spec as Document)) out[field] = runPipeline(docs, pipeline as Document[], ctx);
      return [out];
    }
    case '$documents': {
      const value = evaluate(spec, { root: {}, vars: ctx.vars });
      if (!Array.isArray(value)) throw new CommandError(5858203, 'Location5858203', 'error during evaluation of the $documents expression');
      return value.map((d) => clone(d as Document));
    }
    case '$listLocalSessions':
      // The session of this very command is the one the server knows about.
      return ctx.lsid ? [{ _id: ctx.lsid }] : [];
    case '$out': {
      const [db, coll] = namespaceOf(spec, ctx.db);
      ctx.host.replaceContents(db, coll, docs.map((d) => clone(d)));
      return [];
    }
    case '$merge': {
      const mergeSpec: Document = typeof spec === 'string' ? { into: spec } : (spec as Document);
      const [db, coll] = namespaceOf(mergeSpec.into, ctx.db);
      ctx.host.merge(db, coll, docs.map((d) => clone(d)), mergeSpec);
      return [];
    }
    default:
      throw new CommandError(40324, 'Location40324', `Unrecognized pipeline stage name: '${name}'`);
  }
}

function group(docs: Document[], spec: Document, ctx: PipelineContext): Document[] {
  if (!('_id' in spec)) throw new CommandError(15955, 'Location15955', "a group specification must include an _id");
  const groups: Array<{ key: unknown; members: Document[] }> = [];
  for (const d of docs) {
    const key = evaluate(spec._id, expressionContext(d, ctx)) ?? null;
    const found = groups.find((g) => valuesEqual(g.key, key));
    if (found) found.members.push(d);
    else groups.push({ key, members: [d] });
  }
  return groups.map(({ key, members }) => {
    const out: Document = { _id: key };
    for (const [field, accumulator] of Object.entries(spec)) {
      if (field === '_id') continue;
      if (!isDocument(accumulator) || Object.keys(accumulator).length !== 1) throw new CommandError(40234, 'Location40234', `The field '${field}' must be an accumulator object`);
      const [op] = Object.keys(accumulator);
      const values = members.map((m) => evaluate(accumulator[op], expressionContext(m, ctx)));
      out[field] = accumulate(op, values);
    }
    return out;
  });
}

function accumulate(op: string, values: unknown[]): unknown {
  const present = values.filter((v) => v !== undefined && v !== null);
  const numbers = present.filter(isNumber).map((v) => toNumber(v) as number);
  switch (op) {
    case '$sum':
      return numbers.reduce((a, b) => a + b, 0);
    case '$count':
      return values.length;
    case '$avg':
      return numbers.length === 0 ? null : numbers.reduce((a, b) => a + b, 0) / numbers.length;
    case '$min':
    case '$max':
      if (present.length === 0) return null;
      return present.reduce((a, b) => ((op === '$min' ? compareValues(b, a) < 0 : compareValues(b, a) > 0) ? b : a));
    case '$push':
      return values.filter((v) => v !== undefined);
    case '$addToSet':
      return values.filter((v, i) => v !== undefined && values.findIndex((x) => valuesEqual(x, v)) === i);
    case '$first':
      return values[0] ?? null;
    case '$last':
      return values[values.length - 1] ?? null;
    case '$mergeObjects':
      return Object.assign({}, ...present.filter(isDocument));
    default:
      throw new CommandError(15952, 'Location15952', `unknown group operator '${op}'`);
  }
}

function unwind(docs: Document[], spec: unknown): Document[] {
  const options: Document = typeof spec === 'string' ? { path: spec } : (spec as Document);
  const path = String(options.path);
  if (!path.startsWith('$')) throw new CommandError(28818, 'Location28818', 'path option to $unwind stage should be prefixed with a \'$\'');
  const field = path.slice(1);
  const indexField = typeof options.includeArrayIndex === 'string' ? options.includeArrayIndex : undefined;
  const preserve = options.preserveNullAndEmptyArrays === true;
  const out: Document[] = [];
  for (const d of docs) {
    const value = getPath(d, field);
    if (Array.isArray(value) && value.length > 0) {
      value.forEach((element, i) => {
        const copy = clone(d);
        setPath(copy, field, clone(element));
        if (indexField) copy[indexField] = i;
        out.push(copy);
      });
    } else if (Array.isArray(value) || value === undefined || value === null) {
      if (!preserve) continue;
      const copy = clone(d);
      if (Array.isArray(value)) unsetPath(copy, field);
      if (indexField) copy[indexField] = null;
      out.push(copy);
    } else {
      const copy = clone(d);
      if (indexField) copy[indexField] = null;
      out.push(copy);
    }
  }
  return out;
}

function lookup(docs: Document[], spec: Document, ctx: PipelineContext): Document[] {
  const [db, coll] = namespaceOf(spec.from, ctx.db);
  const foreign = ctx.host.read(db, coll);
  const as = String(spec.as);
  return docs.map((d) => {
    let joined = foreign;
    if (typeof spec.localField === 'string' && typeof spec.foreignField === 'string') {
      const locals = queryValues(d, spec.localField).flatMap((v) => (Array.isArray(v) ? v : [v])).map((v) => v ?? null);
      joined = joined.filter((f) => locals.some((l) => matches(f, { [spec.foreignField as string]: l })));
    }
    if (Array.isArray(spec.pipeline)) {
      const vars: Variables = { ...ctx.vars };
      for (const [k, v] of Object.entries((spec.let as Document | undefined) ?? {})) vars[k] = evaluate(v, expressionContext(d, ctx));
      joined = runPipeline(joined, spec.pipeline as Document[], { ...ctx, vars });
    }
    const out = clone(d);
    setPath(out, as, joined.map((j) => clone(j)));
    return out;
  });
}
