/**
 * Public document types: schemas, filters, updates, projections and write results. Shaped like
 * the official Node.js driver's, so `Collection<TSchema>` code ports unchanged. Dotted paths are
 * accepted as `unknown` instead of being expanded recursively: that keeps recursive schemas
 * (a `Node` with `children: Node[]`) far inside TypeScript's instantiation depth limits.
 */
import type { Binary, BSONRegExp, BSONType, Decimal128, Document, Double, Int32, Long, ObjectId, Timestamp } from 'bson';

export type { Document };

/** Numeric BSON-ish values. */
export type NumericType = number | Double | Int32 | Long | Decimal128 | bigint;

/** The `_id` type of a schema: its declared `_id`, else ObjectId. */
export type InferIdType<TSchema> = TSchema extends { _id: infer IdType }
  ? Record<never, never> extends IdType
    ? ObjectId
    : IdType
  : TSchema extends { _id?: infer IdType }
    ? unknown extends IdType
      ? ObjectId
      : IdType
    : ObjectId;

/** Omit that distributes over unions and keeps index signatures. */
export type EnhancedOmit<TRecordOrUnion, KeyUnion> = string extends keyof TRecordOrUnion
  ? TRecordOrUnion
  : TRecordOrUnion extends unknown
    ? Pick<TRecordOrUnion, Exclude<keyof TRecordOrUnion, KeyUnion>>
    : never;

/** A document as stored: `_id` present. */
export type WithId<TSchema> = EnhancedOmit<TSchema, '_id'> & { _id: InferIdType<TSchema> };

/** A document to insert: `_id` optional. */
export type OptionalId<TSchema> = EnhancedOmit<TSchema, '_id'> & { _id?: InferIdType<TSchema> };

/**
 * Like OptionalId, but keeps a required `_id` required when the schema declares one without
 * ObjectId. Schemas with a string index signature (plain `Document`) take any `_id`.
 */
export type OptionalUnlessRequiredId<TSchema> = string extends keyof TSchema
  ? TSchema
  : TSchema extends { _id: unknown }
    ? TSchema
    : OptionalId<TSchema>;

export type WithoutId<TSchema> = Omit<TSchema, '_id'>;

type RegExpOrString<T> = T extends string ? BSONRegExp | RegExp | T : T;

/** A value or, for arrays, one of its elements. */
export type AlternativeType<T> = T extends ReadonlyArray<infer U> ? T | RegExpOrString<U> : RegExpOrString<T>;

export type BSONTypeAlias = keyof typeof BSONType;

export interface BitwiseFilter {
  [key: string]: unknown;
}

/** Query operators on one field. */
export interface FilterOperators<TValue> {
  $eq?: TValue;
  $gt?: TValue;
  $gte?: TValue;
  $in?: ReadonlyArray<TValue>;
  $lt?: TValue;
  $lte?: TValue;
  $ne?: TValue;
  $nin?: ReadonlyArray<TValue>;
  $not?: TValue extends string ? FilterOperators<TValue> | RegExp : FilterOperators<TValue>;
  $exists?: boolean;
  $type?: BSONType | BSONTypeAlias;
  $expr?: Record<string, unknown>;
  $jsonSchema?: Record<string, unknown>;
  $mod?: TValue extends number ? [number, number] : never;
  $regex?: TValue extends string ? RegExp | BSONRegExp | string : never;
  $options?: TValue extends string ? string : never;
  $geoIntersects?: { $geometry: Document };
  $geoWithin?: Document;
  $near?: Document;
  $nearSphere?: Document;
  $maxDistance?: number;
  $all?: ReadonlyArray<unknown>;
  $elemMatch?: Document;
  $size?: TValue extends ReadonlyArray<unknown> ? number : never;
  $bitsAllClear?: number | Binary | ReadonlyArray<number>;
  $bitsAllSet?: number | Binary | ReadonlyArray<number>;
  $bitsAnyClear?: number | Binary | ReadonlyArray<number>;
  $bitsAnySet?: number | Binary | ReadonlyArray<number>;
  $rand?: Record<string, never>;
}

export type Condition<T> = AlternativeType<T> | FilterOperators<AlternativeType<T>>;

export interface RootFilterOperators<TSchema> {
  $and?: Filter<TSchema>[];
  $nor?: Filter<TSchema>[];
  $or?: Filter<TSchema>[];
  $text?: { $search: string; $language?: string; $caseSensitive?: boolean; $diacriticSensitive?: boolean };
  $where?: string | ((this: TSchema) => boolean);
  $comment?: string | Document;
  $expr?: Record<string, unknown>;
  $jsonSchema?: Record<string, unknown>;
}

/**
 * A query filter: typed top-level fields, operators, and dotted paths (`'a.b'`). For schemas with
 * a string index signature (plain `Document`), every field accepts any condition.
 */
export type Filter<TSchema> = string extends keyof TSchema
  ? RootFilterOperators<TSchema> & { [field: string]: unknown }
  : {
      [P in keyof WithId<TSchema>]?: Condition<WithId<TSchema>[P]>;
    } & RootFilterOperators<WithId<TSchema>> & { [dottedPath: `${string}.${string}`]: unknown };

/** Keys of TSchema whose values are assignable to Type. */
export type KeysOfAType<TSchema, Type> = {
  [K in keyof TSchema]: NonNullable<TSchema[K]> extends Type ? K : never;
}[keyof TSchema];

export type KeysOfOtherType<TSchema, Type> = {
  [K in keyof TSchema]: NonNullable<TSchema[K]> extends Type ? never : K;
}[keyof TSchema];

type DottedPaths = { [dottedPath: `${string}.${string}`]: unknown };
type PositionalPaths = { [positional: `${string}.$${string}`]: unknown };

export type MatchKeysAndValues<TSchema> = Partial<TSchema> & DottedPaths & PositionalPaths;

export type OnlyFieldsOfType<TSchema, FieldType = unknown, AssignableType = FieldType> = {
  [K in KeysOfAType<TSchema, FieldType>]?: AssignableType;
} & DottedPaths;

type ArrayElement<T> = T extends ReadonlyArray<infer U> ? U : never;

export type PushOperator<TSchema> = {
  [K in KeysOfAType<TSchema, ReadonlyArray<unknown>>]?:
    | ArrayElement<TSchema[K]>
    | { $each?: ArrayElement<TSchema[K]>[]; $slice?: number; $position?: number; $sort?: Document | 1 | -1 };
} & DottedPaths;

export type PullOperator<TSchema> = {
  [K in KeysOfAType<TSchema, ReadonlyArray<unknown>>]?: Partial<ArrayElement<TSchema[K]>> | FilterOperators<ArrayElement<TSchema[K]>>;
} & DottedPaths;

export type PullAllOperator<TSchema> = {
  [K in KeysOfAType<TSchema, ReadonlyArray<unknown>>]?: TSchema[K];
} & DottedPaths;

export type SetFields<TSchema> = {
  [K in KeysOfAType<TSchema, ReadonlyArray<unknown> | undefined>]?: ArrayElement<TSchema[K]> | { $each: ArrayElement<TSchema[K]>[] };
} & DottedPaths;

/** An update document made of update operators. */
export interface UpdateFilter<TSchema> {
  $currentDate?: OnlyFieldsOfType<TSchema, Date | Timestamp, true | { $type: 'date' | 'timestamp' }>;
  $inc?: OnlyFieldsOfType<TSchema, NumericType | undefined>;
  $min?: MatchKeysAndValues<TSchema>;
  $max?: MatchKeysAndValues<TSchema>;
  $mul?: OnlyFieldsOfType<TSchema, NumericType | undefined>;
  $rename?: Record<string, string>;
  $set?: MatchKeysAndValues<TSchema>;
  $setOnInsert?: MatchKeysAndValues<TSchema>;
  $unset?: OnlyFieldsOfType<TSchema, unknown, '' | true | 1>;
  $addToSet?: SetFields<TSchema>;
  $pop?: OnlyFieldsOfType<TSchema, ReadonlyArray<unknown>, 1 | -1>;
  $pull?: PullOperator<TSchema>;
  $push?: PushOperator<TSchema>;
  $pullAll?: PullAllOperator<TSchema>;
  $bit?: OnlyFieldsOfType<TSchema, NumericType | undefined, { and: number } | { or: number } | { xor: number }>;
}

/** An aggregation-pipeline update (MongoDB 4.2+). */
export type UpdatePipeline = Document[];

export type SortDirection = 1 | -1 | 'asc' | 'desc' | 'ascending' | 'descending' | { $meta: string };

/** `{a: 1, b: -1}`, `'a'`, `['a', 1]`, `[['a', 1], ['b', -1]]`, or a Map. */
export type Sort =
  | string
  | Exclude<SortDirection, { $meta: string }>
  | ReadonlyArray<string>
  | { readonly [key: string]: SortDirection }
  | ReadonlyMap<string, SortDirection>
  | ReadonlyArray<readonly [string, SortDirection]>
  | readonly [string, SortDirection];

export type IndexDirection = -1 | 1 | '2d' | '2dsphere' | 'text' | 'geoHaystack' | 'hashed' | number;

/** Index keys: `{a: 1}`, `'a'`, or Motor's `[['a', 1], ['b', -1]]`. */
export type IndexSpecification =
  | string
  | { readonly [key: string]: IndexDirection }
  | ReadonlyArray<readonly [string, IndexDirection]>
  | readonly [string, IndexDirection]
  | ReadonlyMap<string, IndexDirection>;

export type Projection = Document;

export interface CollationOptions {
  locale: string;
  caseLevel?: boolean;
  caseFirst?: string;
  strength?: number;
  numericOrdering?: boolean;
  alternate?: string;
  maxVariable?: string;
  backwards?: boolean;
  normalization?: boolean;
}

export type Hint = string | Document;

// ---------------------------------------------------------------- results

export interface InsertOneResult<TSchema = Document> {
  acknowledged: boolean;
  insertedId: InferIdType<TSchema>;
}

export interface InsertManyResult<TSchema = Document> {
  acknowledged: boolean;
  insertedCount: number;
  insertedIds: { [index: number]: InferIdType<TSchema> };
}

export interface UpdateResult<TSchema = Document> {
  acknowledged: boolean;
  matchedCount: number;
  modifiedCount: number;
  upsertedCount: number;
  upsertedId: InferIdType<TSchema> | null;
}

export interface DeleteResult {
  acknowledged: boolean;
  deletedCount: number;
}

// ---------------------------------------------------------------- bulk write models

export interface InsertOneModel<TSchema = Document> {
  document: OptionalUnlessRequiredId<TSchema>;
}

export interface UpdateOneModel<TSchema = Document> {
  filter: Filter<TSchema>;
  update: UpdateFilter<TSchema> | UpdatePipeline;
  upsert?: boolean;
  arrayFilters?: Document[];
  collation?: CollationOptions;
  hint?: Hint;
  sort?: Sort;
}

export interface UpdateManyModel<TSchema = Document> {
  filter: Filter<TSchema>;
  update: UpdateFilter<TSchema> | UpdatePipeline;
  upsert?: boolean;
  arrayFilters?: Document[];
  collation?: CollationOptions;
  hint?: Hint;
}

export interface ReplaceOneModel<TSchema = Document> {
  filter: Filter<TSchema>;
  replacement: WithoutId<TSchema>;
  upsert?: boolean;
  collation?: CollationOptions;
  hint?: Hint;
  sort?: Sort;
}

export interface DeleteOneModel<TSchema = Document> {
  filter: Filter<TSchema>;
  collation?: CollationOptions;
  hint?: Hint;
}

export interface DeleteManyModel<TSchema = Document> {
  filter: Filter<TSchema>;
  collation?: CollationOptions;
  hint?: Hint;
}

export type AnyBulkWriteOperation<TSchema = Document> =
  | { insertOne: InsertOneModel<TSchema> }
  | { replaceOne: ReplaceOneModel<TSchema> }
  | { updateOne: UpdateOneModel<TSchema> }
  | { updateMany: UpdateManyModel<TSchema> }
  | { deleteOne: DeleteOneModel<TSchema> }
  | { deleteMany: DeleteManyModel<TSchema> };

// ---------------------------------------------------------------- client.bulkWrite models (MongoDB 8.0)

/** Every client bulk write model names its target as `'db.collection'`. */
export interface ClientWriteModelBase {
  namespace: string;
}

export interface ClientInsertOneModel<TSchema = Document> extends ClientWriteModelBase {
  name: 'insertOne';
  document: OptionalUnlessRequiredId<TSchema>;
}

export interface ClientUpdateOneModel<TSchema = Document> extends ClientWriteModelBase {
  name: 'updateOne';
  filter: Filter<TSchema>;
  update: UpdateFilter<TSchema> | UpdatePipeline;
  upsert?: boolean;
  arrayFilters?: Document[];
  collation?: CollationOptions;
  hint?: Hint;
  sort?: Sort;
}

export interface ClientUpdateManyModel<TSchema = Document> extends ClientWriteModelBase {
  name: 'updateMany';
  filter: Filter<TSchema>;
  update: UpdateFilter<TSchema> | UpdatePipeline;
  upsert?: boolean;
  arrayFilters?: Document[];
  collation?: CollationOptions;
  hint?: Hint;
}

export interface ClientReplaceOneModel<TSchema = Document> extends ClientWriteModelBase {
  name: 'replaceOne';
  filter: Filter<TSchema>;
  replacement: WithoutId<TSchema>;
  upsert?: boolean;
  collation?: CollationOptions;
  hint?: Hint;
  sort?: Sort;
}

export interface ClientDeleteOneModel<TSchema = Document> extends ClientWriteModelBase {
  name: 'deleteOne';
  filter: Filter<TSchema>;
  collation?: CollationOptions;
  hint?: Hint;
}

export interface ClientDeleteManyModel<TSchema = Document> extends ClientWriteModelBase {
  name: 'deleteMany';
  filter: Filter<TSchema>;
  collation?: CollationOptions;
  hint?: Hint;
}

export type AnyClientBulkWriteModel<TSchema = Document> =
  | ClientInsertOneModel<TSchema>
  | ClientUpdateOneModel<TSchema>
  | ClientUpdateManyModel<TSchema>
  | ClientReplaceOneModel<TSchema>
  | ClientDeleteOneModel<TSchema>
  | ClientDeleteManyModel<TSchema>;
