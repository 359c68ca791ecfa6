/** `db.listCollections(filter, options)`: a cursor over collection descriptions. */
import type { Document } from 'bson';
import { ListCollectionsOperation, type ListCollectionsOptions } from '../operations/list_collections';
import type { AbstractCursorOptions, CursorClient } from './abstract_cursor';
import { CommandCursor } from './command_cursor';

/** A `listCollections` result entry. */
export interface CollectionInfo extends Document {
  name: string;
  type?: string;
  options?: Document;
  info?: { readOnly?: boolean; uuid?: unknown };
  idIndex?: Document;
}

export class ListCollectionsCursor<T extends Document = CollectionInfo> extends CommandCursor<T> {
  constructor(client: CursorClient, dbName: string, filter: Document = {}, options: ListCollectionsOptions & AbstractCursorOptions = {}) {
    super(
      client,
      { db: dbName, collection: '$cmd.listCollections' },
      (session, cursorOptions) => new ListCollectionsOperation(dbName, filter, { ...options, ...cursorOptions, session }),
      options
    );
  }
}
