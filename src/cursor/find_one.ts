/**
 * `collection.findOne()`: `find` with `limit: 1, singleBatch: true`, the first document or null.
 *
 * The general path is a FindCursor (`next()` then `close()`). In the common case (no session, no
 * CSOT, only options that shape the find command) the find runs here directly, without a
 * cursor: the same FindOperation with the same options (so the same command, events, retries and
 * implicit session), and the document decoded as the cursor would. If the server keeps the
 * cursor open, the reply is handed to a FindCursor, which then behaves exactly as on the
 * general path (getMore while no document came, killCursors on close).
 */
import type { Document } from 'bson';
import type { CursorCreation, Namespace } from '../operations/cursor_response';
import { FindOperation } from '../operations/find';
import { ClientSession } from '../sessions';
import { decodeBuffered, type CursorClient } from './abstract_cursor';
import { FindCursor, type FindCursorOptions } from './find_cursor';

/**
 * Options the direct path handles: those that only shape the find command, the inherited read
 * settings, and those findOne itself sets. Any other option (session, CSOT, cursor flags…)
 * takes the cursor path.
 */
const DIRECT_OPTIONS = new Set([
  // set by findOne and inheritOptions
  'batchSize',
  'noCursorTimeout',
  'singleBatch',
  'readPreference',
  'readConcern',
  'writeConcern',
  'timeoutMS',
  // find command fields
  'sort',
  'projection',
  'hint',
  'skip',
  'min',
  'max',
  'returnKey',
  'showRecordId',
  'allowPartialResults',
  'allowDiskUse',
  'let',
  'collation',
  'maxTimeMS',
  'comment'
]);

/** True when the find can run without a cursor: no session, no CSOT, only options listed above. */
function runsDirectly(options: FindCursorOptions): boolean {
  if (options.timeoutMS !== undefined || options.batchSize !== undefined || options.noCursorTimeout !== undefined) return false;
  for (const key in options) {
    if (!DIRECT_OPTIONS.has(key)) return false;
  }
  return true;
}

/**
 * The first document matching `filter`, or null. `options` are the resolved find options, with
 * `singleBatch: true` and no batchSize or noCursorTimeout (what `collection.find` would get).
 */
export async function findOne<T = Document>(client: CursorClient, namespace: Namespace, filter: Document, options: FindCursorOptions): Promise<T | null> {
  if (!runsDirectly(options)) return firstDocument(new FindCursor<T>(client, namespace, filter, options).limit(1));
  // What the cursor would do: an implicit session, ended once the server cursor is closed, and
  // the batch kept as raw BSON, its document decoded when handed out.
  const session = new ClientSession(client, {}, false);
  let first: CursorCreation;
  try {
    first = await client.executeOperation(new FindOperation(namespace, filter, Object.assign({}, options, { limit: 1, session, raw: true })));
  } catch (error) {
    await session.endSession();
    throw error;
  }
  if (!first.id.isZero()) {
    const cursor = new FindCursor<T>(client, namespace, filter, options).limit(1);
    await cursor.adoptFirstBatch(first, session, true);
    return firstDocument(cursor);
  }
  await session.endSession();
  const doc = first.documents[0];
  return doc === undefined ? null : (decodeBuffered(doc) as T);
}

async function firstDocument<T>(cursor: FindCursor<T>): Promise<T | null> {
  try {
    return await cursor.next();
  } finally {
    await cursor.close();
  }
}
