/**
 * A mock server that keeps collections in memory (spec-tests' MockStore query helpers), enough
 * for GridFS: insert, find (filter/sort/skip/limit/projection, batches under 16 MB + getMore),
 * delete, update, listIndexes (NamespaceNotFound for a missing collection), createIndexes, drop.
 * Every command is still recorded by the MockServer.
 */
import { calculateObjectSize, Long, type Document } from 'bson';
import { applyUpdate, cloneDocument, matchesFilter, MockStore, project, sortDocuments } from '../../spec-tests/unified/mock_store';
import { errorReply, MockServer, type RecordedCommand } from '../tools/mock_server';

const MAX_BATCH_BYTES = 16 * 1024 * 1024;

export class CollectionServer {
  readonly store = new MockStore();
  private readonly cursors = new Map<number, { ns: string; docs: Document[]; batchSize?: number }>();
  private nextCursorId = 1;

  private constructor(readonly server: MockServer) {}

  static async start(): Promise<CollectionServer> {
    const server = await MockServer.start({ type: 'primary', setName: 'rs0' });
    const cs = new CollectionServer(server);
    cs.install();
    return cs;
  }

  get address(): string {
    return this.server.address;
  }

  async close(): Promise<void> {
    await this.server.close();
  }

  /** The documents of `db.coll` (live array). */
  docs(db: string, coll: string): Document[] {
    return this.store.collection(db, coll)?.documents ?? [];
  }

  /** Non-hello commands other than endSessions, as `name ns` strings. */
  trace(): string[] {
    return this.server
      .nonHelloCommands()
      .filter((c) => c.commandName !== 'endSessions')
      .map((c) => `${c.commandName} ${String(c.body[c.commandName])}`);
  }

  private install(): void {
    const s = this.server;
    s.setHandler('insert', (r) => {
      const c = this.store.ensure(r.db, String(r.body.insert));
      const docs = (r.body.documents as Document[]) ?? [];
      for (const doc of docs) c.documents.push(doc);
      return { n: docs.length, ok: 1 };
    });
    s.setHandler('find', (r) => {
      const c = this.store.collection(r.db, String(r.body.find));
      let docs = (c?.documents ?? []).filter((d) => matchesFilter(d, r.body.filter ?? {}));
      docs = sortDocuments(docs, r.body.sort);
      if (typeof r.body.skip === 'number') docs = docs.slice(r.body.skip);
      if (typeof r.body.limit === 'number' && r.body.limit > 0) docs = docs.slice(0, r.body.limit);
      docs = docs.map((d) => projectDocument(d, r.body.projection));
      return this.openCursor(r, `${r.db}.${String(r.body.find)}`, docs, r.body.batchSize as number | undefined, r.body.singleBatch === true);
    });
    s.setHandler('getMore', (r) => {
      const id = Number(r.body.getMore);
      const cursor = this.cursors.get(id);
      if (!cursor) return errorReply(43, 'cursor not found', { codeName: 'CursorNotFound' });
      const batch = this.takeBatch(cursor.docs, (r.body.batchSize as number | undefined) ?? cursor.batchSize);
      if (cursor.docs.length === 0) this.cursors.delete(id);
      return { cursor: { id: Long.fromNumber(cursor.docs.length ? id : 0), ns: cursor.ns, nextBatch: batch }, ok: 1 };
    });
    s.setHandler('killCursors', (r) => {
      for (const id of (r.body.cursors as unknown[]) ?? []) this.cursors.delete(Number(id));
      return { cursorsKilled: r.body.cursors ?? [], ok: 1 };
    });
    s.setHandler('delete', (r) => {
      const c = this.store.collection(r.db, String(r.body.delete));
      let n = 0;
      for (const stmt of (r.body.deletes as Document[]) ?? []) {
        if (!c) break;
        const matching = c.documents.filter((d) => matchesFilter(d, stmt.q));
        const victims = Number(stmt.limit) === 1 ? matching.slice(0, 1) : matching;
        c.documents = c.documents.filter((d) => !victims.includes(d));
        n += victims.length;
      }
      return { n, ok: 1 };
    });
    s.setHandler('update', (r) => {
      const c = this.store.collection(r.db, String(r.body.update));
      let n = 0;
      let nModified = 0;
      for (const stmt of (r.body.updates as Document[]) ?? []) {
        if (!c) break;
        const matching = c.documents.filter((d) => matchesFilter(d, stmt.q));
        for (const doc of stmt.multi ? matching : matching.slice(0, 1)) {
          c.documents[c.documents.indexOf(doc)] = applyUpdate(doc, stmt.u);
          n += 1;
          nModified += 1;
        }
      }
      return { n, nModified, ok: 1 };
    });
    s.setHandler('listIndexes', (r) => {
      const c = this.store.collection(r.db, String(r.body.listIndexes));
      if (!c) return errorReply(26, `ns does not exist: ${r.db}.${String(r.body.listIndexes)}`, { codeName: 'NamespaceNotFound' });
      return this.openCursor(r, `${r.db}.${String(r.body.listIndexes)}`, c.indexes.map((i) => cloneDocument(i) as Document), undefined, false);
    });
    s.setHandler('createIndexes', (r) => {
      const c = this.store.ensure(r.db, String(r.body.createIndexes));
      for (const index of (r.body.indexes as Document[]) ?? []) {
        if (!c.indexes.some((i) => i.name === index.name)) c.indexes.push({ ...index, name: String(index.name), key: index.key as Document });
      }
      return { numIndexesBefore: 1, numIndexesAfter: c.indexes.length, ok: 1 };
    });
    s.setHandler('drop', (r) => {
      if (!this.store.drop(r.db, String(r.body.drop))) return errorReply(26, 'ns not found', { codeName: 'NamespaceNotFound' });
      return { ok: 1 };
    });
  }

  private openCursor(r: RecordedCommand, ns: string, docs: Document[], batchSize: number | undefined, singleBatch: boolean): Document {
    const firstBatch = this.takeBatch(docs, batchSize ?? 101);
    let id = 0;
    if (docs.length > 0 && !singleBatch) {
      id = this.nextCursorId++;
      this.cursors.set(id, { ns, docs, batchSize });
    }
    void r;
    return { cursor: { id: Long.fromNumber(id), ns, firstBatch }, ok: 1 };
  }

  /** Removes and returns up to `batchSize` documents from `docs`, within 16 MB. */
  private takeBatch(docs: Document[], batchSize: number | undefined): Document[] {
    const batch: Document[] = [];
    let bytes = 0;
    while (docs.length > 0 && (batchSize === undefined || batchSize <= 0 || batch.length < batchSize)) {
      const size = calculateObjectSize(docs[0]);
      if (batch.length > 0 && bytes + size > MAX_BATCH_BYTES) break;
      bytes += size;
      batch.push(docs.shift() as Document);
    }
    return batch;
  }
}

/** MockStore's `project`, except that `{_id: 1}` alone keeps only `_id` (MockStore drops it). */
function projectDocument(doc: Document, projection: unknown): Document {
  const p = projection as Document | undefined;
  if (p && Object.keys(p).length === 1 && p._id !== undefined && Number(p._id) === 1) return { _id: doc._id };
  return project(doc, projection);
}
