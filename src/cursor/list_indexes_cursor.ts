/** `collection.listIndexes()`: a cursor over index descriptions. */
import type { Document } from 'bson';
import type { Namespace } from '../operations/cursor_response';
import { ListIndexesOperation, type ListIndexesOptions } from '../operations/indexes';
import type { AbstractCursorOptions, CursorClient } from './abstract_cursor';
import { CommandCursor } from './command_cursor';

export class ListIndexesCursor<T extends Document = Document> extends CommandCursor<T> {
  constructor(client: CursorClient, namespace: Namespace, options: ListIndexesOptions & AbstractCursorOptions = {}) {
    super(client, namespace, (session, cursorOptions) => new ListIndexesOperation(namespace, { ...options, ...cursorOptions, session }), options);
  }
}
