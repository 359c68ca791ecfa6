/**
 * Index management (index-management.md): createIndexes, dropIndexes, listIndexes, and the
 * normalisation of index keys (`{a: 1}`, `'a'`, `['a', 1]`, Motor's `[['a', 1], ['b', -1]]`, Map)
 * with the generated name `a_1_b_-1`.
 */
import type { Document } from 'bson';
import { MongoInvalidArgumentError } from '../errors';
import type { CollationOptions, IndexDirection, IndexSpecification } from '../mongo_types';
import { parseCursorReply, type CursorCreation, type Namespace } from './cursor_response';
import { orderedDocument } from './sort';
import { applyRawData, type RawDataOption } from './raw_data';
import { Aspect, aspects, CommandOperation, type BaseOperationOptions, type CommandTarget, type OperationContext } from './operation';

/** Per-index options of createIndex / createIndexes descriptions. */
export interface IndexOptions {
  name?: string;
  unique?: boolean;
  sparse?: boolean;
  background?: boolean;
  expireAfterSeconds?: number;
  partialFilterExpression?: Document;
  collation?: CollationOptions;
  hidden?: boolean;
  storageEngine?: Document;
  /** Sent as `v`. */
  version?: number;
  weights?: Document;
  default_language?: string;
  language_override?: string;
  textIndexVersion?: number;
  '2dsphereIndexVersion'?: number;
  bits?: number;
  min?: number;
  max?: number;
  bucketSize?: number;
  wildcardProjection?: Document;
}

/** One entry of `createIndexes(specs)`. */
export interface IndexDescription extends IndexOptions {
  key: { readonly [field: string]: IndexDirection } | ReadonlyMap<string, IndexDirection>;
}

/** Options of the createIndexes command itself. */
export interface CreateIndexesOptions extends BaseOperationOptions, RawDataOption {
  commitQuorum?: number | string;
  maxTimeMS?: number;
}

export interface DropIndexesOptions extends BaseOperationOptions, RawDataOption {
  maxTimeMS?: number;
}

export interface ListIndexesOptions extends BaseOperationOptions, RawDataOption {
  batchSize?: number;
}

const VALID_INDEX_OPTIONS = new Set([
  'background',
  'unique',
  'name',
  'partialFilterExpression',
  'sparse',
  'hidden',
  'expireAfterSeconds',
  'storageEngine',
  'collation',
  'version',
  'weights',
  'default_language',
  'language_override',
  'textIndexVersion',
  '2dsphereIndexVersion',
  'bits',
  'min',
  'max',
  'bucketSize',
  'wildcardProjection'
]);

function isDirection(value: unknown): boolean {
  return typeof value === 'number' || value === '2d' || value === '2dsphere' || value === 'text' || value === 'geoHaystack' || value === 'hashed';
}

function isSingleTuple(spec: unknown): spec is readonly [string, IndexDirection] {
  return Array.isArray(spec) && spec.length === 2 && typeof spec[0] === 'string' && isDirection(spec[1]);
}

/** Normalises any accepted key form into an ordered Map. */
export function indexKeys(spec: IndexSpecification): Map<string, IndexDirection> {
  const keys = new Map<string, IndexDirection>();
  const parts: unknown[] = !Array.isArray(spec) || isSingleTuple(spec) ? [spec] : (spec as unknown[]);
  for (const part of parts) {
    if (typeof part === 'string') keys.set(part, 1);
    else if (Array.isArray(part)) {
      if (typeof part[0] !== 'string') throw new MongoInvalidArgumentError(`Invalid index key: ${JSON.stringify(part)}`);
      keys.set(part[0], (part[1] ?? 1) as IndexDirection);
    } else if (part instanceof Map) for (const [k, v] of part) keys.set(String(k), v as IndexDirection);
    else if (part && typeof part === 'object') for (const [k, v] of Object.entries(part)) keys.set(k, v as IndexDirection);
    else throw new MongoInvalidArgumentError(`Invalid index specification: ${JSON.stringify(part)}`);
  }
  if (keys.size === 0) throw new MongoInvalidArgumentError('An index specification needs at least one key');
  return keys;
}

/** `{a: 1, b: -1}` → `a_1_b_-1`. */
export function indexName(keys: ReadonlyMap<string, unknown>): string {
  return Array.from(keys, ([k, v]) => `${k}_${String(v)}`).join('_');
}

/** The document sent in `indexes`: valid options (version → v), then name and key. */
export function indexDocument(description: IndexDescription): Document {
  const key = description.key instanceof Map ? new Map(description.key) : new Map(Object.entries(description.key));
  const doc: Document = {};
  for (const [option, value] of Object.entries(description)) {
    if (option === 'key' || !VALID_INDEX_OPTIONS.has(option)) continue;
    doc[option === 'version' ? 'v' : option] = value;
  }
  doc.name = description.name ?? indexName(key);
  doc.key = orderedDocument(key);
  return doc;
}

export class CreateIndexesOperation extends CommandOperation<string[]> {
  readonly commandName = 'createIndexes';
  readonly indexes: Document[];

  constructor(
    readonly ns: Namespace,
    descriptions: readonly IndexDescription[],
    private readonly createOptions: CreateIndexesOptions
  ) {
    super(ns.db, { ...createOptions, comment: undefined });
    if (descriptions.length === 0) throw new MongoInvalidArgumentError('createIndexes needs at least one index');
    this.indexes = descriptions.map(indexDocument);
  }

  get aspects() {
    return WRITE_ASPECTS;
  }

  buildCommand(target: CommandTarget): Document {
    const cmd: Document = { createIndexes: this.ns.collection, indexes: this.indexes };
    if (this.createOptions.commitQuorum != null) cmd.commitQuorum = this.createOptions.commitQuorum;
    if (typeof this.createOptions.maxTimeMS === 'number') cmd.maxTimeMS = this.createOptions.maxTimeMS;
    if (this.createOptions.comment !== undefined) cmd.comment = this.createOptions.comment;
    return applyRawData(cmd, this.createOptions, target);
  }

  override handleReply(): string[] {
    return this.indexes.map((index) => String(index.name));
  }
}

const WRITE_ASPECTS = aspects(Aspect.WRITE_OPERATION);

/** `dropIndexes` with one index name, a key pattern, or `'*'` for every index but `_id`. */
export class DropIndexesOperation extends CommandOperation<Document> {
  readonly commandName = 'dropIndexes';

  constructor(
    readonly ns: Namespace,
    private readonly index: string | Document,
    private readonly dropOptions: DropIndexesOptions
  ) {
    super(ns.db, { ...dropOptions, comment: undefined });
  }

  get aspects() {
    return WRITE_ASPECTS;
  }

  buildCommand(target: CommandTarget): Document {
    const cmd: Document = { dropIndexes: this.ns.collection, index: this.index };
    if (typeof this.dropOptions.maxTimeMS === 'number') cmd.maxTimeMS = this.dropOptions.maxTimeMS;
    if (this.dropOptions.comment !== undefined) cmd.comment = this.dropOptions.comment;
    return applyRawData(cmd, this.dropOptions, target);
  }
}

const LIST_ASPECTS = aspects(Aspect.READ_OPERATION, Aspect.RETRYABLE, Aspect.CURSOR_CREATING);

export class ListIndexesOperation extends CommandOperation<CursorCreation> {
  readonly commandName = 'listIndexes';

  constructor(
    readonly ns: Namespace,
    private readonly listOptions: ListIndexesOptions
  ) {
    super(ns.db, { ...listOptions, comment: undefined, readConcern: undefined });
  }

  get aspects() {
    return LIST_ASPECTS;
  }

  /** listIndexes takes no read concern. */
  override get supportsReadConcern(): boolean {
    return false;
  }

  buildCommand(target: CommandTarget): Document {
    const cmd: Document = { listIndexes: this.ns.collection, cursor: this.listOptions.batchSize ? { batchSize: this.listOptions.batchSize } : {} };
    if (this.listOptions.comment !== undefined) cmd.comment = this.listOptions.comment;
    return applyRawData(cmd, this.listOptions, target);
  }

  override handleReply(reply: Document, ctx: OperationContext): CursorCreation {
    return { ...parseCursorReply(reply, 'firstBatch', this.ns), address: ctx.target.address };
  }
}
