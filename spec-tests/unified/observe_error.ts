/**
 * Flattens an error thrown by either driver into the `ObservedError` the expectation checks use.
 * Both drivers share the Node.js driver's error shapes (`code`, `codeName`, `errorLabels`,
 * `errorResponse`, BulkWriteError `writeErrors`/`writeConcernError`/`result`, ClientBulkWriteError
 * `writeErrors` map/`writeConcernErrors`/`partialResult`/`cause`).
 */
import type { Document } from 'bson';
import { prop } from './driver_adapter';
import type { ObservedError } from './observed';

const SERVER_ERROR_NAMES = new Set(['MongoServerError', 'MongoWriteConcernError', 'MongoBulkWriteError', 'MongoClientBulkWriteError']);

function codeOf(value: unknown): number | undefined {
  const code = prop(value, 'code');
  return typeof code === 'number' ? code : undefined;
}

function isServerError(error: unknown): boolean {
  let proto: unknown = error;
  while (proto && typeof proto === 'object') {
    const name = prop(proto.constructor, 'name');
    if (typeof name === 'string' && SERVER_ERROR_NAMES.has(name)) return true;
    proto = Object.getPrototypeOf(proto);
  }
  return false;
}

export function observeError(error: unknown): ObservedError {
  const err = (error ?? {}) as Error;
  const name = String(prop(err, 'name') ?? 'Error');
  const labelsValue = prop(err, 'errorLabels');
  const labels = Array.isArray(labelsValue) ? labelsValue.map(String) : [];
  const topLevel = prop(err, 'error') ?? (name === 'MongoClientBulkWriteError' ? prop(err, 'cause') : undefined);
  const observed: ObservedError = {
    name,
    message: String(prop(err, 'message') ?? error),
    code: codeOf(err) ?? codeOf(topLevel),
    codeName: (prop(err, 'codeName') as string | undefined) ?? (prop(topLevel, 'codeName') as string | undefined),
    errorLabels: [...labels, ...((prop(topLevel, 'errorLabels') as string[] | undefined) ?? [])],
    isClientError: !isServerError(err) || (name === 'MongoClientBulkWriteError' && topLevel !== undefined && !isServerError(topLevel)),
    isTimeoutError: name === 'MongoOperationTimeoutError' || prop(err, 'cause') instanceof Error && prop(prop(err, 'cause'), 'name') === 'MongoOperationTimeoutError',
    errorResponse: (prop(err, 'errorResponse') as Document | undefined) ?? (prop(topLevel, 'errorResponse') as Document | undefined)
  };
  if (name === 'MongoBulkWriteError') {
    const writeErrors = (prop(err, 'writeErrors') as unknown[] | undefined) ?? [];
    const aggregated = writeErrors.map((w) => ({
      message: String(prop(w, 'errmsg') ?? prop(w, 'message') ?? ''),
      code: codeOf(w),
      codeName: prop(w, 'codeName') as string | undefined
    }));
    const wce = prop(err, 'writeConcernError') ?? prop(prop(err, 'result'), 'writeConcernError');
    if (wce) aggregated.push({ message: String(prop(wce, 'errmsg') ?? ''), code: codeOf(wce), codeName: prop(wce, 'codeName') as string | undefined });
    observed.aggregatedErrors = aggregated;
    observed.partialResult = resultToDocument(prop(err, 'result'));
    if (observed.code === undefined) observed.code = aggregated.find((a) => a.code !== undefined)?.code;
  }
  if (name === 'MongoClientBulkWriteError') {
    const writeErrors = prop(err, 'writeErrors');
    if (writeErrors instanceof Map) {
      observed.writeErrors = new Map([...writeErrors.entries()].map(([k, v]) => [Number(k), plainError(v)]));
    }
    const wces = prop(err, 'writeConcernErrors');
    if (Array.isArray(wces)) observed.writeConcernErrors = wces.map(plainError);
    observed.partialResult = resultToDocument(prop(err, 'partialResult'));
  }
  return observed;
}

function plainError(value: unknown): Document {
  const out: Document = {};
  for (const key of ['code', 'message', 'errmsg', 'errInfo', 'codeName']) {
    const v = prop(value, key);
    if (v !== undefined) out[key] = v;
  }
  if (out.message === undefined && out.errmsg !== undefined) out.message = out.errmsg;
  return out;
}

const RESULT_GETTERS = [
  'acknowledged',
  'insertedId',
  'insertedIds',
  'insertedCount',
  'matchedCount',
  'modifiedCount',
  'deletedCount',
  'upsertedCount',
  'upsertedId',
  'upsertedIds',
  'insertResults',
  'updateResults',
  'deleteResults'
];

/**
 * A driver result object (InsertOneResult, BulkWriteResult, ClientBulkWriteResult, …) as a plain
 * document: own enumerable properties plus the result getters the spec names; Maps become
 * documents keyed by index. Plain documents and BSON values are returned as they are.
 */
export function resultToDocument(result: unknown): unknown {
  if (result === null || typeof result !== 'object' || Array.isArray(result)) return result;
  if (result instanceof Map) return Object.fromEntries([...result.entries()].map(([k, v]) => [String(k), resultToDocument(v)]));
  const proto = Object.getPrototypeOf(result);
  if (proto === Object.prototype || proto === null || prop(result, '_bsontype') !== undefined) return result;
  if (result instanceof Date || result instanceof Uint8Array) return result;
  const out: Document = {};
  for (const [k, v] of Object.entries(result)) if (typeof v !== 'function' && !k.startsWith('_')) out[k] = v;
  for (const key of RESULT_GETTERS) {
    if (key in (result as object)) {
      const v = prop(result, key);
      if (v !== undefined) out[key] = resultToDocument(v);
    }
  }
  delete out.result;
  return out;
}
