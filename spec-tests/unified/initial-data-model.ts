/**
 * A deliberately narrow model of what a server would return for the simplest operation, so that
 * matcher assertions of some test files can be evaluated without a deployment: a `find` by `_id`
 * that is the test's first operation (so the collection still holds exactly `initialData`).
 * Anything else is not modeled (undefined).
 */
import type { Document } from 'bson';
import { isDocument, scalarsEqual, toNumeric } from './bson-values';
import type { UnifiedTest, UnifiedTestFile } from './test-file';

export function modelFirstFindResult(file: UnifiedTestFile, test: UnifiedTest): Document[] | undefined {
  const op = test.operations[0];
  if (!op || op.name !== 'find') return undefined;
  const args = isDocument(op.arguments) ? op.arguments : {};
  if (!Object.keys(args).every((k) => k === 'filter' || k === 'limit')) return undefined;
  const filter = args.filter as unknown;
  if (!isDocument(filter) || Object.keys(filter).length !== 1 || !('_id' in filter)) return undefined;
  const id = filter._id as unknown;
  if (id === null || (typeof id === 'object' && toNumeric(id) === undefined)) return undefined;

  const namespace = collectionNamespace(file, op.object);
  if (!namespace) return undefined;
  const data = (file.initialData ?? []).find((d) => d.databaseName === namespace.db && d.collectionName === namespace.coll);
  if (!data) return undefined;

  const found = data.documents.filter((doc) => scalarsEqual(doc._id, id));
  const limit = toNumeric(args.limit);
  if (args.limit !== undefined && (!limit || limit.kind !== 'integer')) return undefined;
  return limit && limit.value > 0n ? found.slice(0, Number(limit.value)) : found;
}

function collectionNamespace(file: UnifiedTestFile, collectionId: string): { db: string; coll: string } | undefined {
  const entities = file.createEntities ?? [];
  const byId = (type: string, id: unknown): Document | undefined =>
    entities.map((e) => e[type] as Document | undefined).find((spec) => isDocument(spec) && spec.id === id);
  const collection = byId('collection', collectionId);
  const database = collection && byId('database', collection.database);
  if (!collection || !database || typeof database.databaseName !== 'string' || typeof collection.collectionName !== 'string') {
    return undefined;
  }
  return { db: database.databaseName, coll: collection.collectionName };
}
