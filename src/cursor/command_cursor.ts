/**
 * CommandCursor: a cursor over the result of a cursor-returning command (listCollections,
 * listIndexes, …). The command is built by an operation factory called once per (re)start.
 */
import type { Document } from 'bson';
import type { AbstractOperation } from '../operations/operation';
import type { CursorCreation, Namespace } from '../operations/cursor_response';
import type { ClientSession } from '../sessions';
import { AbstractCursor, type AbstractCursorOptions, type CursorClient, type CursorCommandTimeout } from './abstract_cursor';

/** Builds the cursor-creating operation for a session and the cursor's current options. */
export type CursorOperationFactory = (session: ClientSession, options: AbstractCursorOptions & CursorCommandTimeout) => AbstractOperation<CursorCreation>;

export class CommandCursor<TSchema = Document> extends AbstractCursor<TSchema> {
  constructor(
    client: CursorClient,
    namespace: Namespace,
    private readonly factory: CursorOperationFactory,
    options: AbstractCursorOptions = {}
  ) {
    super(client, namespace, options);
  }

  protected async initialize(session: ClientSession, timeout: CursorCommandTimeout): Promise<CursorCreation> {
    return this.client.executeOperation(this.factory(session, { ...this.cursorOptions, session, ...timeout }));
  }

  clone(): CommandCursor<TSchema> {
    const copy = new CommandCursor<TSchema>(this.client, this.namespace, this.factory, { ...this.cursorOptions });
    this.copyTransformTo(copy);
    return copy;
  }

  override map<T>(fn: (doc: TSchema) => T): CommandCursor<T> {
    return super.map(fn) as CommandCursor<T>;
  }
}
