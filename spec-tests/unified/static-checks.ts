/**
 * Checks of a test that need no deployment: what the runner would reject before or while running
 * it, decided from the file alone.
 *
 * - entity map integrity in `createEntities` (file level and the `createEntities` operation):
 *   unique ids, and every referenced entity defined earlier with the right type;
 * - operations: `object` names an entity defined by then (createEntities, `saveResultAsEntity`,
 *   `recordTopologyDescription`), a `session` argument names a session;
 * - special test operations (`object: testRunner`): known name, required arguments present,
 *   entity arguments naming entities of the right type;
 * - client entities: a `serverApi.version` the driver supports.
 */
import type { Document } from 'bson';
import { isDocument } from './bson-values';
import type { UnifiedOperation, UnifiedTest, UnifiedTestFile } from './test-file';

export interface StaticProblem {
  path: string;
  message: string;
}

export interface StaticCheckOptions {
  /** Stable API versions the driver supports; the Stable API spec defines only "1". */
  supportedServerApiVersions?: readonly string[];
}

type EntityType = 'client' | 'clientEncryption' | 'database' | 'collection' | 'session' | 'bucket' | 'thread' | 'topologyDescription' | 'result';

const ENTITY_TYPES = ['client', 'clientEncryption', 'database', 'collection', 'session', 'bucket', 'thread'] as const;

/** For each special test operation: required arguments, and the entity type an argument must name. */
const SPECIAL_OPERATIONS: Readonly<Record<string, { required: readonly string[]; entities?: Readonly<Record<string, EntityType>> }>> = {
  failPoint: { required: ['failPoint', 'client'], entities: { client: 'client' } },
  targetedFailPoint: { required: ['failPoint', 'session'], entities: { session: 'session' } },
  assertSessionTransactionState: { required: ['session', 'state'], entities: { session: 'session' } },
  assertSessionPinned: { required: ['session'], entities: { session: 'session' } },
  assertSessionUnpinned: { required: ['session'], entities: { session: 'session' } },
  assertDifferentLsidOnLastTwoCommands: { required: ['client'], entities: { client: 'client' } },
  assertSameLsidOnLastTwoCommands: { required: ['client'], entities: { client: 'client' } },
  assertSessionDirty: { required: ['session'], entities: { session: 'session' } },
  assertSessionNotDirty: { required: ['session'], entities: { session: 'session' } },
  assertCollectionExists: { required: ['collectionName', 'databaseName'] },
  assertCollectionNotExists: { required: ['collectionName', 'databaseName'] },
  assertIndexExists: { required: ['collectionName', 'databaseName', 'indexName'] },
  assertIndexNotExists: { required: ['collectionName', 'databaseName', 'indexName'] },
  createEntities: { required: ['entities'] },
  assertNumberConnectionsCheckedOut: { required: ['client', 'connections'], entities: { client: 'client' } },
  runOnThread: { required: ['thread', 'operation'], entities: { thread: 'thread' } },
  waitForThread: { required: ['thread'], entities: { thread: 'thread' } },
  waitForEvent: { required: ['client', 'event', 'count'], entities: { client: 'client' } },
  assertEventCount: { required: ['client', 'event', 'count'], entities: { client: 'client' } },
  recordTopologyDescription: { required: ['client', 'id'], entities: { client: 'client' } },
  assertTopologyType: { required: ['topologyDescription', 'topologyType'], entities: { topologyDescription: 'topologyDescription' } },
  waitForPrimaryChange: {
    required: ['client', 'priorTopologyDescription'],
    entities: { client: 'client', priorTopologyDescription: 'topologyDescription' }
  },
  wait: { required: ['ms'] }
};

/** References from an entity definition to other entities: field path → required type. */
const ENTITY_REFERENCES: Readonly<Record<string, ReadonlyArray<[readonly string[], EntityType]>>> = {
  database: [[['client'], 'client']],
  collection: [[['database'], 'database']],
  session: [[['client'], 'client']],
  bucket: [[['database'], 'database']],
  clientEncryption: [[['clientEncryptionOpts', 'keyVaultClient'], 'client']]
};

class EntityScope {
  private readonly types = new Map<string, EntityType>();

  define(id: string, type: EntityType, path: string, problems: StaticProblem[]): void {
    if (this.types.has(id)) problems.push({ path, message: `entity "${id}" is already defined` });
    else this.types.set(id, type);
  }

  require(id: unknown, type: EntityType | undefined, path: string, problems: StaticProblem[]): void {
    if (typeof id !== 'string') {
      problems.push({ path, message: `expected an entity name, got ${JSON.stringify(id)}` });
      return;
    }
    const actual = this.types.get(id);
    if (actual === undefined) problems.push({ path, message: `entity "${id}" is not defined` });
    // Saved results have a type only known at run time.
    else if (type && actual !== type && actual !== 'result') {
      problems.push({ path, message: `entity "${id}" is a ${actual}, expected a ${type}` });
    }
  }
}

/** Problems the runner would raise for `test` of `file`, in execution order (empty when none). */
export function checkTestStatically(file: UnifiedTestFile, test: UnifiedTest, options: StaticCheckOptions = {}): StaticProblem[] {
  const problems: StaticProblem[] = [];
  const scope = new EntityScope();
  const apiVersions = options.supportedServerApiVersions ?? ['1'];
  defineEntities(file.createEntities ?? [], 'createEntities', scope, apiVersions, problems);
  test.operations.forEach((op, i) => checkOperation(op, `operations[${i}]`, scope, apiVersions, problems));
  return problems;
}

function defineEntities(entities: unknown[], path: string, scope: EntityScope, apiVersions: readonly string[], problems: StaticProblem[]): void {
  entities.forEach((entity, i) => {
    const at = `${path}[${i}]`;
    const keys = isDocument(entity) ? Object.keys(entity) : [];
    const type = keys[0] as EntityType;
    if (keys.length !== 1 || !(ENTITY_TYPES as readonly string[]).includes(type)) {
      problems.push({ path: at, message: `an entity must have exactly one key naming a supported type, got [${keys.join(', ')}]` });
      return;
    }
    const spec = (entity as Document)[type] as Document;
    for (const [fieldPath, refType] of ENTITY_REFERENCES[type] ?? []) {
      const value = fieldPath.reduce<unknown>((v, k) => (isDocument(v) ? v[k] : undefined), spec);
      scope.require(value, refType, `${at}.${type}.${fieldPath.join('.')}`, problems);
    }
    if (type === 'client' && isDocument(spec.serverApi) && !apiVersions.includes(String(spec.serverApi.version))) {
      problems.push({ path: `${at}.client.serverApi.version`, message: `Stable API version "${String(spec.serverApi.version)}" is not supported` });
    }
    if (typeof spec.id === 'string') scope.define(spec.id, type, `${at}.${type}.id`, problems);
    if (type === 'client' && Array.isArray(spec.storeEventsAsEntities)) {
      for (const store of spec.storeEventsAsEntities as unknown[]) {
        if (isDocument(store) && typeof store.id === 'string') scope.define(store.id, 'result', `${at}.client.storeEventsAsEntities`, problems);
      }
    }
  });
}

function checkOperation(op: UnifiedOperation, path: string, scope: EntityScope, apiVersions: readonly string[], problems: StaticProblem[]): void {
  const args = isDocument(op.arguments) ? op.arguments : {};
  if (op.object === 'testRunner') {
    const special = SPECIAL_OPERATIONS[op.name];
    if (!special) {
      problems.push({ path: `${path}.name`, message: `unsupported special test operation "${op.name}"` });
      return;
    }
    for (const name of special.required) {
      if (args[name] === undefined) problems.push({ path: `${path}.arguments`, message: `${op.name}: missing required argument "${name}"` });
    }
    for (const [name, type] of Object.entries(special.entities ?? {})) {
      if (args[name] !== undefined) scope.require(args[name], type, `${path}.arguments.${name}`, problems);
    }
    if (op.name === 'createEntities' && Array.isArray(args.entities)) {
      defineEntities(args.entities, `${path}.arguments.entities`, scope, apiVersions, problems);
    }
    if (op.name === 'recordTopologyDescription' && typeof args.id === 'string') {
      scope.define(args.id, 'topologyDescription', `${path}.arguments.id`, problems);
    }
    if (op.name === 'runOnThread' && isDocument(args.operation)) {
      checkOperation(args.operation as unknown as UnifiedOperation, `${path}.arguments.operation`, scope, apiVersions, problems);
    }
    return;
  }
  scope.require(op.object, undefined, `${path}.object`, problems);
  if (args.session !== undefined) scope.require(args.session, 'session', `${path}.arguments.session`, problems);
  if (typeof op.saveResultAsEntity === 'string') scope.define(op.saveResultAsEntity, 'result', `${path}.saveResultAsEntity`, problems);
}
