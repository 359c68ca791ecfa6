/**
 * The official `mongodb` driver (devDependency) as a unified-runner driver: the reference side of
 * the differential mode. Only test code imports it.
 */
import type { Document } from 'bson';
import * as mongodb from 'mongodb';
import {
  CLIENT_EVENT_NAMES,
  logMessageOptions,
  prop,
  type CreateClientOptions,
  type DriverAdapter,
  type DriverObject,
  type TopologyView
} from './driver_adapter';

function topologyDescriptionOf(client: DriverObject): { type: string; servers: Map<string, { type: string }> } | undefined {
  const topology = prop(client, 'topology');
  const description = prop(topology, 'description') as { type: string; servers: Map<string, { type: string }> } | undefined;
  return description;
}

export const officialAdapter: DriverAdapter = {
  name: 'mongodb',
  eventNames: CLIENT_EVENT_NAMES,

  createClient(uri: string, create: CreateClientOptions): DriverObject {
    // connect() selects a server for an operation it calls "handshake" (lib/sdam/topology.js
    // _connect) and logs that selection; the runner's early connect() is not part of any test
    // (mongowire's connect() selects nothing), so those messages are left out.
    const keep = (component: unknown, data: Document) => !(component === 'serverSelection' && data.operation === 'handshake');
    // connect() does not check out a pool connection (lib/sdam/topology.js _connect), so the
    // first connection is an operation's, as with mongowire (tests set fail points after connect).
    const options: Document = { __skipPingOnConnect: true, ...create.options, ...logMessageOptions(create, keep) };
    const client = new mongodb.MongoClient(uri, options as mongodb.MongoClientOptions);
    for (const name of CLIENT_EVENT_NAMES) client.on(name as 'commandStarted', (event: unknown) => create.onEvent(name, event));
    return client as unknown as DriverObject;
  },

  readPreference(doc: Document): unknown {
    const { mode, tagSets, maxStalenessSeconds, hedge } = doc;
    return new mongodb.ReadPreference(mode as mongodb.ReadPreferenceMode, tagSets as mongodb.TagSet[] | undefined, {
      maxStalenessSeconds: maxStalenessSeconds as number | undefined,
      hedge: hedge as mongodb.HedgeOptions | undefined
    });
  },

  readConcern(doc: Document): unknown {
    return new mongodb.ReadConcern(doc.level as mongodb.ReadConcernLevel);
  },

  writeConcern(doc: Document): unknown {
    return { ...doc };
  },

  createBucket(db: DriverObject, options: Document): DriverObject {
    return new mongodb.GridFSBucket(db as unknown as mongodb.Db, options as mongodb.GridFSBucketOptions) as unknown as DriverObject;
  },

  async initChangeStream(stream: DriverObject): Promise<void> {
    const cursor = prop(stream, 'cursor') as { cursorInit(): Promise<void> } | undefined;
    if (cursor && typeof cursor.cursorInit === 'function') await cursor.cursorInit();
  },

  topology(client: DriverObject): TopologyView | undefined {
    const description = topologyDescriptionOf(client);
    if (!description) return undefined;
    const primary = [...description.servers.entries()].find(([, s]) => s.type === 'RSPrimary')?.[0];
    return { type: description.type, primary };
  },

  topologyDescription(client: DriverObject): unknown {
    return topologyDescriptionOf(client);
  },

  transactionState(session: DriverObject): string {
    return String(prop(prop(session, 'transaction'), 'state'));
  },

  isPinned(session: DriverObject): boolean {
    return prop(session, 'isPinned') === true;
  },

  pinnedAddress(session: DriverObject): string | undefined {
    const server = prop(prop(session, 'transaction'), 'server');
    const address = prop(prop(server, 'description'), 'address');
    return typeof address === 'string' ? address : undefined;
  },

  isDirty(session: DriverObject): boolean {
    return prop(prop(session, 'serverSession'), 'isDirty') === true;
  }
};
