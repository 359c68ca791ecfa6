/** `listDatabases` on admin (enumerate-databases.md). */
import type { Document } from 'bson';
import { Aspect, aspects, CommandOperation, type BaseOperationOptions } from './operation';

export interface ListDatabasesOptions extends BaseOperationOptions {
  nameOnly?: boolean;
  authorizedDatabases?: boolean;
  filter?: Document;
}

/** One entry of `listDatabases().databases`. */
export interface DatabaseInfo {
  name: string;
  sizeOnDisk?: number;
  empty?: boolean;
  [key: string]: unknown;
}

export interface ListDatabasesResult {
  databases: DatabaseInfo[];
  totalSize?: number;
  totalSizeMb?: number;
  ok: number;
  [key: string]: unknown;
}

const LIST_ASPECTS = aspects(Aspect.READ_OPERATION, Aspect.RETRYABLE);

export class ListDatabasesOperation extends CommandOperation<ListDatabasesResult> {
  readonly commandName = 'listDatabases';

  constructor(private readonly listOptions: ListDatabasesOptions) {
    super('admin', { ...listOptions, comment: undefined, readConcern: undefined });
  }

  get aspects() {
    return LIST_ASPECTS;
  }

  override get supportsReadConcern(): boolean {
    return false;
  }

  buildCommand(): Document {
    const o = this.listOptions;
    const cmd: Document = { listDatabases: 1 };
    if (typeof o.nameOnly === 'boolean') cmd.nameOnly = o.nameOnly;
    if (o.filter) cmd.filter = o.filter;
    if (typeof o.authorizedDatabases === 'boolean') cmd.authorizedDatabases = o.authorizedDatabases;
    if (o.comment !== undefined) cmd.comment = o.comment;
    return cmd;
  }

  override handleReply(reply: Document): ListDatabasesResult {
    const { $clusterTime: _ct, operationTime: _ot, ...rest } = reply;
    return { ...rest, databases: Array.isArray(reply.databases) ? (reply.databases as DatabaseInfo[]) : [], ok: Number(reply.ok ?? 1) };
  }
}
