/**
 * Atlas Search index management (index-management.md "Search Indexes"): `createSearchIndexes`,
 * `updateSearchIndex` and `dropSearchIndex` commands (listing is an aggregate with
 * `$listSearchIndexes`, see Collection.listSearchIndexes). The commands take no read or write
 * concern ("Drivers MUST NOT apply a read concern or write concern to the commands"), are not
 * retried, and dropSearchIndex ignores NamespaceNotFound (it MUST be idempotent).
 */
import type { Document } from 'bson';
import { MongoServerError } from '../errors';
import type { Namespace } from './cursor_response';
import { aspects, CommandOperation, type BaseOperationOptions, type OperationContext } from './operation';

/** A search index to create (the spec's SearchIndexModel, its options inline as in the Node.js driver). */
export interface SearchIndexDescription {
  /** The server uses "default" when omitted. */
  name?: string;
  /** "search" (the server's default) or "vectorSearch". */
  type?: string;
  definition: Document;
}

/** Only the session and the CSOT timeout apply (the spec defines no options yet). */
export type SearchIndexOptions = Pick<BaseOperationOptions, 'session' | 'timeoutMS' | 'timeoutContext'>;

const NAMESPACE_NOT_FOUND = 26;
const NO_ASPECTS = aspects();

abstract class SearchIndexCommandOperation<TResult> extends CommandOperation<TResult> {
  constructor(
    protected readonly ns: Namespace,
    options: SearchIndexOptions
  ) {
    super(ns.db, { session: options.session, timeoutMS: options.timeoutMS, timeoutContext: options.timeoutContext });
  }

  get aspects() {
    return NO_ASPECTS;
  }

  override get supportsReadConcern(): boolean {
    return false;
  }

  override get supportsWriteConcern(): boolean {
    return false;
  }
}

/** `createSearchIndexes`: returns the names the server gave the new indexes. */
export class CreateSearchIndexesOperation extends SearchIndexCommandOperation<string[]> {
  readonly commandName = 'createSearchIndexes';

  constructor(
    ns: Namespace,
    private readonly descriptions: readonly SearchIndexDescription[],
    options: SearchIndexOptions = {}
  ) {
    super(ns, options);
  }

  buildCommand(): Document {
    return { createSearchIndexes: this.ns.collection, indexes: [...this.descriptions] };
  }

  override handleReply(reply: Document): string[] {
    const created = Array.isArray(reply.indexesCreated) ? (reply.indexesCreated as Document[]) : [];
    return created.map((index) => String(index.name));
  }
}

export class UpdateSearchIndexOperation extends SearchIndexCommandOperation<void> {
  readonly commandName = 'updateSearchIndex';

  constructor(
    ns: Namespace,
    private readonly name: string,
    private readonly definition: Document,
    options: SearchIndexOptions = {}
  ) {
    super(ns, options);
  }

  buildCommand(): Document {
    return { updateSearchIndex: this.ns.collection, name: this.name, definition: this.definition };
  }

  override handleReply(): void {}
}

export class DropSearchIndexOperation extends SearchIndexCommandOperation<void> {
  readonly commandName = 'dropSearchIndex';

  constructor(
    ns: Namespace,
    private readonly name: string,
    options: SearchIndexOptions = {}
  ) {
    super(ns, options);
  }

  buildCommand(): Document {
    const command: Document = { dropSearchIndex: this.ns.collection };
    if (typeof this.name === 'string') command.name = this.name;
    return command;
  }

  override handleReply(): void {}

  override async execute(ctx: OperationContext): Promise<void> {
    try {
      await super.execute(ctx);
    } catch (error) {
      if (error instanceof MongoServerError && (error.code === NAMESPACE_NOT_FOUND || error.codeName === 'NamespaceNotFound')) return;
      throw error;
    }
  }
}
