/**
 * A Deployment backed by a real MongoDB server (MONGODB_URI or mongodb-memory-server, see
 * test/tools/mongod.ts). The internal MongoClient (initialData, outcome, assertions, killing
 * sessions, turning fail points off) is the official driver's, so that the runner's own
 * bookkeeping never depends on the mongowire API under test.
 */
import type { Document } from 'bson';
import { MongoClient, type MongoClientOptions } from 'mongodb';
import type { Deployment } from './deployment';
import type { ServerInfo, TopologyName } from './requirements';
import type { CollectionData } from './test-file';

const MAJORITY = { w: 'majority' } as const;

export class RealDeployment implements Deployment {
  readonly kind = 'real' as const;
  private readonly direct = new Map<string, MongoClient>();

  private constructor(
    private readonly uri: string,
    private readonly internal: MongoClient,
    readonly info: ServerInfo
  ) {}

  static async connect(uri: string): Promise<RealDeployment> {
    const internal = new MongoClient(uri, { serverSelectionTimeoutMS: 10_000 } as MongoClientOptions);
    try {
      await internal.connect();
      const admin = internal.db('admin');
      const build = await admin.command({ buildInfo: 1 });
      const hello = await admin.command({ hello: 1 });
      const parameters = await admin.command({ getParameter: '*' }).catch(() => ({}) as Document);
      const status = await admin.command({ connectionStatus: 1 }).catch(() => ({}) as Document);
      let topology: TopologyName = 'single';
      if (/loadBalanced=true/i.test(uri)) topology = 'load-balanced';
      else if (hello.msg === 'isdbgrid') {
        const shards = await internal.db('config').collection('shards').find({}).toArray().catch(() => [] as Document[]);
        topology = shards.length > 0 && shards.every((s) => String(s.host).includes('/')) ? 'sharded-replicaset' : 'sharded';
      } else if (hello.setName) topology = 'replicaset';
      const version = Array.isArray(build.versionArray) ? build.versionArray.slice(0, 3).join('.') : String(build.version);
      const authenticatedUsers = (status.authInfo as Document | undefined)?.authenticatedUsers as unknown[] | undefined;
      const info: ServerInfo = {
        version,
        topology,
        serverParameters: parameters,
        auth: /\/\/[^/]*@/.test(uri) || (authenticatedUsers?.length ?? 0) > 0,
        serverless: process.env.SERVERLESS === '1',
        csfle: false
      };
      const deployment = new RealDeployment(uri, internal, info);
      await deployment.killAllSessions();
      return deployment;
    } catch (error) {
      await internal.close().catch(() => undefined);
      throw error;
    }
  }

  clientUri(useMultipleMongoses?: boolean): string {
    if (this.info.topology === 'load-balanced') {
      const lb = useMultipleMongoses === false ? process.env.SINGLE_MONGOS_LB_URI : process.env.MULTI_MONGOS_LB_URI;
      return lb ?? this.uri;
    }
    if ((this.info.topology === 'sharded' || this.info.topology === 'sharded-replicaset') && useMultipleMongoses === false) {
      // Keep only the first mongos of the seed list.
      return this.uri.replace(/^(mongodb:\/\/(?:[^@/]*@)?)([^,/]+)(?:,[^/]*)?/, '$1$2');
    }
    return this.uri;
  }

  async prepareCollection(data: CollectionData): Promise<void> {
    const db = this.internal.db(data.databaseName);
    for (const name of [data.collectionName, `enxcol_.${data.collectionName}.esc`, `enxcol_.${data.collectionName}.ecoc`]) {
      await db.collection(name).drop({ writeConcern: MAJORITY }).catch(() => undefined);
    }
    if (data.createOptions || data.documents.length === 0) {
      await db.createCollection(data.collectionName, { ...(data.createOptions ?? {}), writeConcern: MAJORITY });
    }
    if (data.documents.length > 0) {
      await db.collection(data.collectionName).insertMany(data.documents, { writeConcern: MAJORITY });
    }
  }

  async readCollection(databaseName: string, collectionName: string): Promise<Document[]> {
    return this.internal
      .db(databaseName)
      .collection(collectionName)
      .find({}, { sort: { _id: 1 }, readPreference: 'primary', readConcern: { level: 'local' } })
      .toArray();
  }

  async collectionExists(databaseName: string, collectionName: string): Promise<boolean> {
    const found = await this.internal.db(databaseName).listCollections({ name: collectionName }, { nameOnly: true }).toArray();
    return found.length > 0;
  }

  async indexExists(databaseName: string, collectionName: string, indexName: string): Promise<boolean> {
    const indexes = await this.internal.db(databaseName).collection(collectionName).listIndexes().toArray().catch(() => [] as Document[]);
    return indexes.some((i) => i.name === indexName);
  }

  async killAllSessions(): Promise<void> {
    try {
      await this.internal.db('admin').command({ killAllSessions: [] });
    } catch (error) {
      const code = (error as { code?: number }).code;
      if (code !== 11601 && code !== 13) throw error;
    }
  }

  async configureFailPointOn(address: string, failPoint: Document): Promise<void> {
    const direct = await this.directClient(address);
    await direct.db('admin').command(failPoint);
  }

  async disableFailPoint(name: string, address?: string): Promise<void> {
    const client = address ? await this.directClient(address) : this.internal;
    await client.db('admin').command({ configureFailPoint: name, mode: 'off' });
  }

  /** A client connected to one server only (kept until close). */
  private async directClient(address: string): Promise<MongoClient> {
    let client = this.direct.get(address);
    if (!client) {
      const credentials = /^mongodb:\/\/([^@/]*@)/.exec(this.uri)?.[1] ?? '';
      client = new MongoClient(`mongodb://${credentials}${address}/?directConnection=true`, { serverSelectionTimeoutMS: 10_000 } as MongoClientOptions);
      this.direct.set(address, client);
    }
    return client;
  }

  async close(): Promise<void> {
    for (const client of this.direct.values()) await client.close().catch(() => undefined);
    this.direct.clear();
    await this.internal.close();
  }
}
