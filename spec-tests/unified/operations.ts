/**
 * Entity operations (client, database, collection, session, bucket, cursor and change stream):
 * each proxies the driver API method of the same name, following "Entity Test Operations" of the
 * unified test format. A method the driver lacks raises NotImplementedError, failing the test.
 */
import { Binary, type Document } from 'bson';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { operationOptions, unwrapNumber } from './arguments';
import { isDocument } from './bson-values';
import { NotImplementedError, prop, type DriverObject } from './driver_adapter';
import { ClientEntity, type SessionEntity } from './entities';
import { resultToDocument } from './observe_error';
import type { OperationContext } from './operation_context';
import type { UnifiedOperation } from './test-file';

type OperationFn = (ctx: OperationContext, target: unknown, args: Document, op: UnifiedOperation) => Promise<unknown>;

/** Calls `method` on `target`, or raises "operation X not implemented in <driver>". */
async function call(ctx: OperationContext, op: UnifiedOperation, target: unknown, method: string, ...args: unknown[]): Promise<unknown> {
  const fn = prop(target, method);
  if (typeof fn !== 'function') throw new NotImplementedError(`operation ${op.name}`, ctx.adapter.name);
  return (fn as (...a: unknown[]) => unknown).apply(target, args);
}

/** Calls `method` and, when it returns a cursor, reads it to the end. */
async function callToArray(ctx: OperationContext, op: UnifiedOperation, target: unknown, method: string, ...args: unknown[]): Promise<unknown[]> {
  const cursor = await call(ctx, op, target, method, ...args);
  return toArray(ctx, op, cursor);
}

async function toArray(ctx: OperationContext, op: UnifiedOperation, cursor: unknown): Promise<unknown[]> {
  if (Array.isArray(cursor)) return cursor;
  const result = await call(ctx, op, cursor, 'toArray');
  return result as unknown[];
}

function opts(ctx: OperationContext, args: Document, exclude: readonly string[] = []): Document {
  return operationOptions(args, exclude, ctx.entities, ctx.adapter);
}

function clientOf(ctx: OperationContext, target: unknown): DriverObject {
  return target instanceof ClientEntity ? target.client : (target as DriverObject);
}

/** Turns a unified (collection or client) write model `{ insertOne: { … } }` into the driver's form. */
function clientWriteModel(model: Document): Document {
  const [name] = Object.keys(model);
  const body = { ...(model[name] as Document) };
  for (const [k, v] of Object.entries(body)) if (k !== 'document' && k !== 'filter' && k !== 'update' && k !== 'replacement') body[k] = unwrapNumber(v);
  return { name, ...body };
}

function collectionWriteModel(model: Document): Document {
  const [name] = Object.keys(model);
  const body = { ...(model[name] as Document) };
  for (const [k, v] of Object.entries(body)) if (k !== 'document' && k !== 'filter' && k !== 'update' && k !== 'replacement') body[k] = unwrapNumber(v);
  return { [name]: body };
}

function hexSource(source: unknown): Buffer {
  const hex = isDocument(source) ? source.$$hexBytes : undefined;
  if (typeof hex !== 'string' || !/^([0-9a-fA-F]{2})*$/.test(hex)) throw new Error(`upload source must be { $$hexBytes: <even-length hex> }, got ${JSON.stringify(source)}`);
  return Buffer.from(hex, 'hex');
}

async function readStream(stream: unknown): Promise<Binary> {
  const chunks: Buffer[] = [];
  await pipeline(
    stream as Readable,
    new Writable({
      write(chunk: Buffer, _enc, done) {
        chunks.push(Buffer.from(chunk));
        done();
      }
    })
  );
  return new Binary(Buffer.concat(chunks));
}

async function upload(ctx: OperationContext, op: UnifiedOperation, bucket: unknown, args: Document, withId: boolean): Promise<unknown> {
  const options = opts(ctx, args, ['filename', 'source', 'id']);
  const stream = withId
    ? await call(ctx, op, bucket, 'openUploadStreamWithId', args.id, args.filename, options)
    : await call(ctx, op, bucket, 'openUploadStream', args.filename, options);
  await pipeline(Readable.from([hexSource(args.source)]), stream as Writable);
  return withId ? undefined : prop(stream, 'id');
}

/** The next document of a cursor or change stream (iterateUntilDocumentOrError). */
async function nextDocument(ctx: OperationContext, op: UnifiedOperation, cursor: unknown): Promise<unknown> {
  if (ctx.deployment.kind === 'mock' && typeof prop(cursor, 'tryNext') === 'function') {
    // A mock deployment never produces change events: give up after a few getMores, deterministically.
    for (let i = 0; i < 3; i++) {
      const doc = await call(ctx, op, cursor, 'tryNext');
      if (doc !== null && doc !== undefined) return doc;
    }
    throw new Error('no document after 3 iterations (the mock deployment produces no change events)');
  }
  return call(ctx, op, cursor, 'next');
}

const COLLECTION_OPERATIONS: Record<string, OperationFn> = {
  insertOne: (ctx, c, a, op) => call(ctx, op, c, 'insertOne', a.document, opts(ctx, a, ['document'])),
  insertMany: (ctx, c, a, op) => call(ctx, op, c, 'insertMany', a.documents, opts(ctx, a, ['documents'])),
  updateOne: (ctx, c, a, op) => call(ctx, op, c, 'updateOne', a.filter, a.update, opts(ctx, a, ['filter', 'update'])),
  updateMany: (ctx, c, a, op) => call(ctx, op, c, 'updateMany', a.filter, a.update, opts(ctx, a, ['filter', 'update'])),
  replaceOne: (ctx, c, a, op) => call(ctx, op, c, 'replaceOne', a.filter, a.replacement, opts(ctx, a, ['filter', 'replacement'])),
  deleteOne: (ctx, c, a, op) => call(ctx, op, c, 'deleteOne', a.filter, opts(ctx, a, ['filter'])),
  deleteMany: (ctx, c, a, op) => call(ctx, op, c, 'deleteMany', a.filter, opts(ctx, a, ['filter'])),
  findOneAndUpdate: (ctx, c, a, op) => call(ctx, op, c, 'findOneAndUpdate', a.filter, a.update, opts(ctx, a, ['filter', 'update'])),
  findOneAndReplace: (ctx, c, a, op) => call(ctx, op, c, 'findOneAndReplace', a.filter, a.replacement, opts(ctx, a, ['filter', 'replacement'])),
  findOneAndDelete: (ctx, c, a, op) => call(ctx, op, c, 'findOneAndDelete', a.filter, opts(ctx, a, ['filter'])),
  bulkWrite: (ctx, c, a, op) =>
    call(ctx, op, c, 'bulkWrite', ((a.requests as Document[]) ?? []).map(collectionWriteModel), opts(ctx, a, ['requests'])),
  find: (ctx, c, a, op) => callToArray(ctx, op, c, 'find', a.filter ?? {}, opts(ctx, a, ['filter'])),
  findOne: (ctx, c, a, op) => call(ctx, op, c, 'findOne', a.filter ?? {}, opts(ctx, a, ['filter'])),
  createFindCursor: async (ctx, c, a, op) => {
    const cursor = await call(ctx, op, c, 'find', a.filter ?? {}, opts(ctx, a, ['filter']));
    await call(ctx, op, cursor, 'hasNext');
    return cursor;
  },
  aggregate: (ctx, c, a, op) => callToArray(ctx, op, c, 'aggregate', a.pipeline ?? [], opts(ctx, a, ['pipeline'])),
  countDocuments: (ctx, c, a, op) => call(ctx, op, c, 'countDocuments', a.filter ?? {}, opts(ctx, a, ['filter'])),
  estimatedDocumentCount: (ctx, c, a, op) => call(ctx, op, c, 'estimatedDocumentCount', opts(ctx, a)),
  count: (ctx, c, a, op) => call(ctx, op, c, 'count', a.filter ?? {}, opts(ctx, a, ['filter'])),
  distinct: (ctx, c, a, op) => call(ctx, op, c, 'distinct', a.fieldName, a.filter ?? {}, opts(ctx, a, ['fieldName', 'filter'])),
  createIndex: (ctx, c, a, op) => call(ctx, op, c, 'createIndex', a.keys, opts(ctx, a, ['keys'])),
  createIndexes: (ctx, c, a, op) => call(ctx, op, c, 'createIndexes', a.models ?? a.indexes, opts(ctx, a, ['models', 'indexes'])),
  dropIndex: (ctx, c, a, op) => call(ctx, op, c, 'dropIndex', a.name, opts(ctx, a, ['name'])),
  dropIndexes: (ctx, c, a, op) => call(ctx, op, c, 'dropIndexes', opts(ctx, a)),
  listIndexes: (ctx, c, a, op) => callToArray(ctx, op, c, 'listIndexes', opts(ctx, a)),
  listIndexNames: async (ctx, c, a, op) => (await callToArray(ctx, op, c, 'listIndexes', opts(ctx, a))).map((i) => prop(i, 'name')),
  drop: (ctx, c, a, op) => call(ctx, op, c, 'drop', opts(ctx, a)),
  rename: (ctx, c, a, op) => call(ctx, op, c, 'rename', a.to, opts(ctx, a, ['to'])),
  createChangeStream: (ctx, c, a, op) => createChangeStream(ctx, op, c, a),
  createSearchIndex: (ctx, c, a, op) => call(ctx, op, c, 'createSearchIndex', a.model, opts(ctx, a, ['model'])),
  createSearchIndexes: (ctx, c, a, op) => call(ctx, op, c, 'createSearchIndexes', a.models, opts(ctx, a, ['models'])),
  dropSearchIndex: (ctx, c, a, op) => call(ctx, op, c, 'dropSearchIndex', a.name, opts(ctx, a, ['name'])),
  updateSearchIndex: (ctx, c, a, op) => call(ctx, op, c, 'updateSearchIndex', a.name, a.definition, opts(ctx, a, ['name', 'definition'])),
  listSearchIndexes: (ctx, c, a, op) => {
    // index-management.md: the list helper takes the aggregation options (`aggregationOptions` in tests).
    const options = { ...opts(ctx, a, ['name', 'aggregationOptions']), ...opts(ctx, isDocument(a.aggregationOptions) ? a.aggregationOptions : {}) };
    return a.name !== undefined
      ? callToArray(ctx, op, c, 'listSearchIndexes', a.name, options)
      : callToArray(ctx, op, c, 'listSearchIndexes', options);
  }
};

async function createChangeStream(ctx: OperationContext, op: UnifiedOperation, target: unknown, a: Document): Promise<unknown> {
  const stream = (await call(ctx, op, target, 'watch', a.pipeline ?? [], opts(ctx, a, ['pipeline']))) as DriverObject;
  await ctx.adapter.initChangeStream(stream);
  return stream;
}

/**
 * `runCursorCommand`: the command's options at creation, the getMore options (`batchSize`,
 * `maxTimeMS`, `comment`) through the cursor's setters, as run-command.md "Executing getMore
 * Commands" describes them (and as the official driver only offers them).
 */
async function runCursorCommand(ctx: OperationContext, op: UnifiedOperation, db: unknown, a: Document): Promise<unknown> {
  const cursor = await call(ctx, op, db, 'runCursorCommand', a.command, opts(ctx, a, ['command', 'commandName', 'batchSize', 'maxTimeMS', 'comment']));
  if (a.batchSize !== undefined) await call(ctx, op, cursor, 'setBatchSize', unwrapNumber(a.batchSize));
  if (a.maxTimeMS !== undefined) await call(ctx, op, cursor, 'setMaxTimeMS', unwrapNumber(a.maxTimeMS));
  if (a.comment !== undefined) await call(ctx, op, cursor, 'setComment', a.comment);
  return cursor;
}

const DATABASE_OPERATIONS: Record<string, OperationFn> = {
  aggregate: (ctx, d, a, op) => callToArray(ctx, op, d, 'aggregate', a.pipeline ?? [], opts(ctx, a, ['pipeline'])),
  createChangeStream: (ctx, d, a, op) => createChangeStream(ctx, op, d, a),
  createCollection: (ctx, d, a, op) => call(ctx, op, d, 'createCollection', a.collection, opts(ctx, a, ['collection'])),
  dropCollection: (ctx, d, a, op) => call(ctx, op, d, 'dropCollection', a.collection, opts(ctx, a, ['collection'])),
  dropDatabase: (ctx, d, a, op) => call(ctx, op, d, 'dropDatabase', opts(ctx, a)),
  listCollections: (ctx, d, a, op) => callToArray(ctx, op, d, 'listCollections', a.filter ?? {}, opts(ctx, a, ['filter'])),
  listCollectionObjects: (ctx, d, a, op) => callToArray(ctx, op, d, 'listCollections', a.filter ?? {}, opts(ctx, a, ['filter'])),
  listCollectionNames: async (ctx, d, a, op) =>
    (await callToArray(ctx, op, d, 'listCollections', a.filter ?? {}, { ...opts(ctx, a, ['filter']), nameOnly: true })).map((c) => prop(c, 'name')),
  runCommand: (ctx, d, a, op) => call(ctx, op, d, 'command', a.command, opts(ctx, a, ['command', 'commandName'])),
  runCursorCommand: async (ctx, d, a, op) => toArray(ctx, op, await runCursorCommand(ctx, op, d, a)),
  createCommandCursor: async (ctx, d, a, op) => {
    const cursor = await runCursorCommand(ctx, op, d, a);
    await call(ctx, op, cursor, 'hasNext');
    return cursor;
  },
  modifyCollection: (ctx, d, a, op) => {
    const { collection, ...rest } = opts(ctx, a);
    return call(ctx, op, d, 'command', { collMod: collection, ...rest });
  }
};

async function listDatabases(ctx: OperationContext, op: UnifiedOperation, client: DriverObject, a: Document): Promise<Document[]> {
  const options = opts(ctx, a, ['filter']);
  let result: unknown;
  if (typeof prop(client, 'listDatabases') === 'function') {
    // mongowire: client.listDatabases({ filter, …options }), the official driver's Admin shape
    result = await call(ctx, op, client, 'listDatabases', a.filter !== undefined ? { ...options, filter: a.filter } : options);
  } else {
    // The Node.js driver: client.db('admin').admin().listDatabases({ filter, …options })
    const admin = await call(ctx, op, await call(ctx, op, client, 'db', 'admin'), 'admin');
    result = await call(ctx, op, admin, 'listDatabases', a.filter !== undefined ? { ...options, filter: a.filter } : options);
  }
  const databases = Array.isArray(result) ? result : prop(result, 'databases');
  return (databases as Document[]) ?? [];
}

const CLIENT_OPERATIONS: Record<string, OperationFn> = {
  listDatabases: (ctx, c, a, op) => listDatabases(ctx, op, clientOf(ctx, c), a),
  listDatabaseObjects: (ctx, c, a, op) => listDatabases(ctx, op, clientOf(ctx, c), a),
  listDatabaseNames: async (ctx, c, a, op) => (await listDatabases(ctx, op, clientOf(ctx, c), { ...a, nameOnly: true })).map((d) => d.name),
  createChangeStream: (ctx, c, a, op) => createChangeStream(ctx, op, clientOf(ctx, c), a),
  clientBulkWrite: (ctx, c, a, op) =>
    call(ctx, op, clientOf(ctx, c), 'bulkWrite', ((a.models as Document[]) ?? []).map(clientWriteModel), opts(ctx, a, ['models'])),
  close: async (ctx, c, _a, op) => {
    await call(ctx, op, clientOf(ctx, c), 'close');
    return undefined;
  },
  appendMetadata: (ctx, c, a, op) => call(ctx, op, clientOf(ctx, c), 'appendMetadata', a.driverInfoOptions)
};

const SESSION_OPERATIONS: Record<string, OperationFn> = {
  startTransaction: async (ctx, s, a, op) => {
    ctx.startedTransaction = true;
    return call(ctx, op, (s as SessionEntity).session, 'startTransaction', opts(ctx, a));
  },
  commitTransaction: (ctx, s, a, op) => call(ctx, op, (s as SessionEntity).session, 'commitTransaction', opts(ctx, a)),
  abortTransaction: (ctx, s, a, op) => call(ctx, op, (s as SessionEntity).session, 'abortTransaction', opts(ctx, a)),
  endSession: (ctx, s, _a, op) => call(ctx, op, (s as SessionEntity).session, 'endSession'),
  withTransaction: async (ctx, s, a, op) => {
    ctx.startedTransaction = true;
    const callback = (a.callback as UnifiedOperation[]) ?? [];
    await call(ctx, op, (s as SessionEntity).session, 'withTransaction', () => ctx.runOperations(callback), opts(ctx, a, ['callback']));
    return undefined;
  },
  getSnapshotTime: async (ctx, s) => {
    const time = prop((s as SessionEntity).session, 'snapshotTime');
    if (time === undefined) throw new NotImplementedError('operation getSnapshotTime (session.snapshotTime)', ctx.adapter.name);
    return time;
  }
};

const BUCKET_OPERATIONS: Record<string, OperationFn> = {
  upload: (ctx, b, a, op) => upload(ctx, op, b, a, false),
  uploadWithId: (ctx, b, a, op) => upload(ctx, op, b, a, true),
  download: async (ctx, b, a, op) => readStream(await call(ctx, op, b, 'openDownloadStream', a.id, opts(ctx, a, ['id']))),
  downloadByName: async (ctx, b, a, op) => readStream(await call(ctx, op, b, 'openDownloadStreamByName', a.filename, opts(ctx, a, ['filename']))),
  delete: (ctx, b, a, op) => call(ctx, op, b, 'delete', a.id, opts(ctx, a, ['id'])),
  deleteByName: (ctx, b, a, op) => call(ctx, op, b, 'deleteByName', a.filename, opts(ctx, a, ['filename'])),
  rename: (ctx, b, a, op) => call(ctx, op, b, 'rename', a.id, a.newFilename, opts(ctx, a, ['id', 'newFilename'])),
  renameByName: (ctx, b, a, op) => call(ctx, op, b, 'renameByName', a.filename, a.newFilename, opts(ctx, a, ['filename', 'newFilename'])),
  drop: (ctx, b, a, op) => call(ctx, op, b, 'drop', opts(ctx, a)),
  find: (ctx, b, a, op) => callToArray(ctx, op, b, 'find', a.filter ?? {}, opts(ctx, a, ['filter']))
};

const CURSOR_OPERATIONS: Record<string, OperationFn> = {
  iterateUntilDocumentOrError: (ctx, c, _a, op) => nextDocument(ctx, op, c),
  iterateOnce: async (ctx, c, _a, op) => {
    if (typeof prop(c, 'tryNext') === 'function') return call(ctx, op, c, 'tryNext');
    return call(ctx, op, c, 'next');
  },
  close: async (ctx, c, _a, op) => {
    await (call(ctx, op, c, 'close') as Promise<unknown>).catch(() => undefined);
    return undefined;
  }
};

const OPERATIONS_BY_TYPE: Readonly<Record<string, Record<string, OperationFn>>> = {
  collection: COLLECTION_OPERATIONS,
  database: DATABASE_OPERATIONS,
  client: CLIENT_OPERATIONS,
  session: SESSION_OPERATIONS,
  bucket: BUCKET_OPERATIONS,
  cursor: CURSOR_OPERATIONS,
  changeStream: CURSOR_OPERATIONS,
  result: CURSOR_OPERATIONS
};

/** Runs an entity operation and returns its result converted for matching / saving. */
export async function runEntityOperation(ctx: OperationContext, op: UnifiedOperation): Promise<unknown> {
  const entry = ctx.entities.entry(op.object);
  if (!entry) throw new Error(`entity "${op.object}" is not defined`);
  const implementation = OPERATIONS_BY_TYPE[entry.type]?.[op.name];
  if (!implementation) throw new Error(`unsupported operation "${op.name}" on a ${entry.type} entity`);
  const args = isDocument(op.arguments) ? op.arguments : {};
  const result = await implementation(ctx, entry.value, args, op);
  if (savedResultType(op) !== 'result') return result;
  return Array.isArray(result) ? result.map(resultToDocument) : resultToDocument(result);
}

/** The entity type a saved result becomes, by the operation that produced it. */
export function savedResultType(op: UnifiedOperation): 'cursor' | 'changeStream' | 'collection' | 'result' {
  if (op.name === 'createChangeStream') return 'changeStream';
  // createCollection returns the new collection: a saved result is used as a collection entity (e.g. run-command runCursorCommand.json).
  if (op.name === 'createCollection') return 'collection';
  if (op.name === 'createFindCursor' || op.name === 'createCommandCursor') return 'cursor';
  return 'result';
}
