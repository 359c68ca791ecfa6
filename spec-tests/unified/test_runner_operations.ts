/** "Special Test Operations" (`object: testRunner`) of the unified test format. */
import type { Document } from 'bson';
import { describeValue, toNumeric, valuesEqual } from './bson-values';
import type { DriverObject } from './driver_adapter';
import { ClientEntity, ThreadEntity, type SessionEntity } from './entities';
import { matchEvent } from './expect-events';
import type { OperationContext } from './operation_context';
import type { UnifiedOperation } from './test-file';

type SpecialFn = (ctx: OperationContext, args: Document) => Promise<void>;

/** Creates entities (file-level `createEntities` and the operation of that name). */
export type EntityCreator = (ctx: OperationContext, entities: Document[]) => Promise<void>;

const TRANSACTION_STATES: Readonly<Record<string, string>> = {
  NO_TRANSACTION: 'none',
  STARTING_TRANSACTION: 'starting',
  TRANSACTION_IN_PROGRESS: 'in_progress',
  TRANSACTION_COMMITTED: 'committed',
  TRANSACTION_COMMITTED_EMPTY: 'committed',
  TRANSACTION_ABORTED: 'aborted'
};

function numberArg(value: unknown, name: string): number {
  const n = toNumeric(value);
  if (!n) throw new Error(`${name} must be a number, got ${describeValue(value)}`);
  return Number(n.value);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function waitUntil(what: string, timeoutMS: number, done: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMS;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMS}ms waiting for ${what}`);
    await sleep(10);
  }
}

async function configureFailPoint(ctx: OperationContext, clientEntity: ClientEntity, failPoint: Document): Promise<void> {
  const admin = (clientEntity.client.db as (name: string) => DriverObject)('admin');
  const command = admin.command as (cmd: Document, options?: Document) => Promise<unknown>;
  await command.call(admin, failPoint, { readPreference: ctx.adapter.readPreference({ mode: 'primary' }) });
  ctx.failPoints.push({ client: clientEntity.id, name: String(failPoint.configureFailPoint) });
}

function countMatching(ctx: OperationContext, client: ClientEntity, event: Document): number {
  return client.events.filter((e) => matchEvent(event, e, ctx.entities).ok).length;
}

function lastTwoLsids(client: ClientEntity): [unknown, unknown] {
  const commands = client.startedCommands;
  if (commands.length < 2) throw new Error(`expected at least two commandStartedEvents, observed ${commands.length}`);
  return [commands[commands.length - 2].lsid, commands[commands.length - 1].lsid];
}

export function specialOperations(createEntities: EntityCreator): Record<string, SpecialFn> {
  const client = (ctx: OperationContext, id: unknown) => ctx.entities.require<ClientEntity>(id, 'client');
  const session = (ctx: OperationContext, id: unknown) => ctx.entities.require<SessionEntity>(id, 'session');
  return {
    failPoint: async (ctx, a) => configureFailPoint(ctx, client(ctx, a.client), a.failPoint as Document),
    targetedFailPoint: async (ctx, a) => {
      const s = session(ctx, a.session);
      const failPoint = a.failPoint as Document;
      const address = ctx.adapter.pinnedAddress(s.session);
      if (!address) {
        if (ctx.deployment.info.topology === 'sharded' || ctx.deployment.info.topology === 'sharded-replicaset') {
          throw new Error('targetedFailPoint: the session is not pinned to a mongos');
        }
        await configureFailPoint(ctx, s.client, failPoint);
        return;
      }
      await ctx.deployment.configureFailPointOn(address, failPoint);
      ctx.failPoints.push({ client: s.client.id, name: String(failPoint.configureFailPoint), address });
    },
    assertSessionTransactionState: async (ctx, a) => {
      const state = TRANSACTION_STATES[ctx.adapter.transactionState(session(ctx, a.session).session)] ?? 'unknown';
      if (state !== a.state) throw new Error(`expected transaction state ${String(a.state)}, session is ${state}`);
    },
    assertSessionPinned: async (ctx, a) => {
      if (!ctx.adapter.isPinned(session(ctx, a.session).session)) throw new Error('expected the session to be pinned');
    },
    assertSessionUnpinned: async (ctx, a) => {
      if (ctx.adapter.isPinned(session(ctx, a.session).session)) throw new Error('expected the session to be unpinned');
    },
    assertDifferentLsidOnLastTwoCommands: async (ctx, a) => {
      const [x, y] = lastTwoLsids(client(ctx, a.client));
      if (valuesEqual(x, y)) throw new Error(`expected different lsids on the last two commands, both are ${describeValue(x)}`);
    },
    assertSameLsidOnLastTwoCommands: async (ctx, a) => {
      const [x, y] = lastTwoLsids(client(ctx, a.client));
      if (!valuesEqual(x, y)) throw new Error(`expected the same lsid on the last two commands: ${describeValue(x)} vs ${describeValue(y)}`);
    },
    assertSessionDirty: async (ctx, a) => {
      if (!ctx.adapter.isDirty(session(ctx, a.session).session)) throw new Error('expected the session to be dirty');
    },
    assertSessionNotDirty: async (ctx, a) => {
      if (ctx.adapter.isDirty(session(ctx, a.session).session)) throw new Error('expected the session not to be dirty');
    },
    assertCollectionExists: async (ctx, a) => {
      if (!(await ctx.deployment.collectionExists(String(a.databaseName), String(a.collectionName)))) {
        throw new Error(`expected collection ${String(a.databaseName)}.${String(a.collectionName)} to exist`);
      }
    },
    assertCollectionNotExists: async (ctx, a) => {
      if (await ctx.deployment.collectionExists(String(a.databaseName), String(a.collectionName))) {
        throw new Error(`expected collection ${String(a.databaseName)}.${String(a.collectionName)} not to exist`);
      }
    },
    assertIndexExists: async (ctx, a) => {
      if (!(await ctx.deployment.indexExists(String(a.databaseName), String(a.collectionName), String(a.indexName)))) {
        throw new Error(`expected index ${String(a.indexName)} on ${String(a.databaseName)}.${String(a.collectionName)}`);
      }
    },
    assertIndexNotExists: async (ctx, a) => {
      if (await ctx.deployment.indexExists(String(a.databaseName), String(a.collectionName), String(a.indexName))) {
        throw new Error(`expected no index ${String(a.indexName)} on ${String(a.databaseName)}.${String(a.collectionName)}`);
      }
    },
    createEntities: async (ctx, a) => createEntities(ctx, (a.entities as Document[]) ?? []),
    assertNumberConnectionsCheckedOut: async (ctx, a) => {
      const c = client(ctx, a.client);
      const want = numberArg(a.connections, 'connections');
      if (c.checkedOut !== want) throw new Error(`expected ${want} connections checked out, client has ${c.checkedOut}`);
    },
    runOnThread: async (ctx, a) => {
      const thread = ctx.entities.require<ThreadEntity>(a.thread, 'thread');
      const operation = a.operation as unknown as UnifiedOperation;
      thread.run(() => ctx.runOperations([operation], { propagateErrors: false }));
    },
    waitForThread: async (ctx, a) => ctx.entities.require<ThreadEntity>(a.thread, 'thread').wait(),
    waitForEvent: async (ctx, a) => {
      const c = client(ctx, a.client);
      const count = numberArg(a.count, 'count');
      await waitUntil(`${count} ${describeValue(a.event)} events`, Math.max(10_000, ctx.waitTimeoutMS), () => countMatching(ctx, c, a.event as Document) >= count);
    },
    assertEventCount: async (ctx, a) => {
      const c = client(ctx, a.client);
      const count = numberArg(a.count, 'count');
      const actual = countMatching(ctx, c, a.event as Document);
      if (actual !== count) throw new Error(`expected ${count} ${describeValue(a.event)} events, observed ${actual}`);
    },
    recordTopologyDescription: async (ctx, a) => {
      const c = client(ctx, a.client);
      const view = ctx.adapter.topology(c.client);
      if (!view) throw new Error(`client ${c.id} has no topology description`);
      ctx.entities.set(String(a.id), 'topologyDescription', view);
    },
    assertTopologyType: async (ctx, a) => {
      const view = ctx.entities.require<{ type: string }>(a.topologyDescription, 'topologyDescription');
      if (view.type !== a.topologyType) throw new Error(`expected topology type ${String(a.topologyType)}, got ${view.type}`);
    },
    waitForPrimaryChange: async (ctx, a) => {
      const c = client(ctx, a.client);
      const prior = ctx.entities.require<{ primary?: string }>(a.priorTopologyDescription, 'topologyDescription');
      const timeoutMS = a.timeoutMS !== undefined ? numberArg(a.timeoutMS, 'timeoutMS') : 10_000;
      await waitUntil('a primary change', timeoutMS, () => {
        const now = ctx.adapter.topology(c.client)?.primary;
        return now !== undefined && now !== prior.primary;
      });
    },
    wait: async (_ctx, a) => sleep(numberArg(a.ms, 'ms')),
    loop: async (ctx, a) => {
      // Deprecated (Atlas testing only): run the operations until told to stop; bounded here.
      const operations = (a.operations as UnifiedOperation[]) ?? [];
      for (let i = 0; i < 3; i++) await ctx.runOperations(operations);
    }
  };
}

