/**
 * The mini mongod: an in-memory MongoDB for tests, installed on a MockServer (test/tools/mock_server.ts).
 *
 *   const mini = await MiniMongod.start();                 // a standalone mock server + store
 *   const client = new MongoClient(mini.uri);
 *   …
 *   await mini.close();
 *
 * or `new MiniMongod(server)` on a server of your own, or `mini.execute(command)` from your own
 * handlers (the unified runner's mock deployment adds fail points and change streams that way).
 *
 * Pieces (test/tools/mini_mongod/): values.ts (BSON order, paths), query.ts (filters, sort,
 * projection), update.ts (update operators, pipelines), expressions.ts and aggregate.ts
 * (aggregation), store.ts (collections, unique indexes), server.ts (command handlers, cursors).
 */
export {
  MiniMongod,
  MINI_MONGOD_COMMANDS,
  MINI_MONGOD_VERSION,
  type ChangeEvent,
  type CursorFeed,
  type InjectedError,
  type MiniCommand,
  type MiniMongodOptions
} from './mini_mongod/server';
export { Store, type StoredCollection, type StoredIndex } from './mini_mongod/store';
export { matches, project, sortDocuments, equalityFields } from './mini_mongod/query';
export { applyUpdate } from './mini_mongod/update';
export { runPipeline } from './mini_mongod/aggregate';
export { clone, compareValues, getPath, valuesEqual } from './mini_mongod/values';
