/**
 * mongowire as a unified-runner driver: the same construction as the official adapter (log
 * messages through `mongodbLogPath`). An API method mongowire lacks surfaces as a
 * NotImplementedError, which makes the test fail.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Document } from 'bson';
import { MongoClient, ReadConcern, ReadPreference, WriteConcern } from '../../src/index';
import type { ReadPreferenceMode } from '../../src/read_preference';
import {
  CLIENT_EVENT_NAMES,
  logMessageOptions,
  NotImplementedError,
  prop,
  type CreateClientOptions,
  type DriverAdapter,
  type DriverObject,
  type TopologyView
} from './driver_adapter';

const DRIVER = 'mongowire';

/** The GridFSBucket class, once mongowire exports one (src/index.ts or src/gridfs/). */
function gridFSBucketClass(): (new (db: unknown, options: Document) => DriverObject) | undefined {
  const candidates = [path.resolve(__dirname, '../../src/index'), path.resolve(__dirname, '../../src/gridfs/index'), path.resolve(__dirname, '../../src/gridfs/gridfs_bucket'), path.resolve(__dirname, '../../src/gridfs/bucket')];
  for (const candidate of candidates) {
    if (!fs.existsSync(`${candidate}.ts`)) continue;
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mod = require(candidate) as Record<string, unknown>;
    if (typeof mod.GridFSBucket === 'function') return mod.GridFSBucket as new (db: unknown, options: Document) => DriverObject;
  }
  return undefined;
}

export const mongowireAdapter: DriverAdapter = {
  name: DRIVER,
  eventNames: CLIENT_EVENT_NAMES,

  createClient(uri: string, create: CreateClientOptions): DriverObject {
    const options: Document = { ...create.options, ...logMessageOptions(create) };
    const client = new MongoClient(uri, options as never);
    const emitter = client as unknown as { on(name: string, listener: (event: unknown) => void): void };
    for (const name of CLIENT_EVENT_NAMES) emitter.on(name, (event) => create.onEvent(name, event));
    return client as unknown as DriverObject;
  },

  readPreference(doc: Document): unknown {
    return new ReadPreference(doc.mode as ReadPreferenceMode, doc.tagSets as never, {
      maxStalenessSeconds: doc.maxStalenessSeconds as number | undefined,
      hedge: doc.hedge as never
    });
  },

  readConcern(doc: Document): unknown {
    return new ReadConcern(doc.level as string | undefined);
  },

  writeConcern(doc: Document): unknown {
    return WriteConcern.fromOptions({ writeConcern: { ...doc } }) ?? new WriteConcern();
  },

  createBucket(db: DriverObject, options: Document): DriverObject {
    const Bucket = gridFSBucketClass();
    if (!Bucket) throw new NotImplementedError('GridFSBucket', DRIVER);
    return new Bucket(db, options);
  },

  async initChangeStream(stream: DriverObject): Promise<void> {
    for (const target of [stream, prop(stream, 'cursor')]) {
      for (const method of ['cursorInit', 'init', 'initialize']) {
        const fn = prop(target, method);
        if (typeof fn === 'function') {
          await (fn as () => Promise<void>).call(target);
          return;
        }
      }
    }
    throw new NotImplementedError('opening a change stream cursor before iteration (ChangeStream init)', DRIVER);
  },

  topology(client: DriverObject): TopologyView | undefined {
    const description = prop(client, 'topologyDescription') as { type: string; servers: Map<string, { type: string }> } | undefined;
    if (!description) return undefined;
    const primary = [...description.servers.entries()].find(([, s]) => s.type === 'RSPrimary')?.[0];
    return { type: description.type, primary };
  },

  topologyDescription(client: DriverObject): unknown {
    return prop(client, 'topologyDescription');
  },

  transactionState(session: DriverObject): string {
    return String(prop(prop(session, 'transaction'), 'state'));
  },

  isPinned(session: DriverObject): boolean {
    const pinned = prop(session, 'isPinned');
    if (typeof pinned === 'boolean') return pinned;
    const transaction = prop(session, 'transaction');
    return prop(transaction, 'pinnedServer') !== undefined || prop(session, 'pinnedConnection') !== undefined;
  },

  pinnedAddress(session: DriverObject): string | undefined {
    const address = prop(prop(session, 'transaction'), 'pinnedServer');
    return typeof address === 'string' ? address : undefined;
  },

  isDirty(session: DriverObject): boolean {
    return prop(prop(session, 'serverSession'), 'isDirty') === true;
  }
};
