/** mongowire: the public surface. */
export { MongoClient } from './mongo_client';
export type { MongoClientEvents, MongoClientConstructorOptions } from './mongo_client';
export { Database, validateDatabaseName } from './database';
export type { DatabaseOptions, RunCommandCallOptions } from './database';
export { Collection } from './collection';
export type {
  CollectionOptions,
  FindCallOptions,
  AggregateCallOptions,
  CountDocumentsCallOptions,
  EstimatedDocumentCountCallOptions,
  DistinctCallOptions,
  CreateIndexesCallOptions,
  CreateIndexCallOptions,
  DropIndexesCallOptions,
  ListIndexesCallOptions,
  IndexInformationOptions,
  RenameCallOptions,
  DropCollectionCallOptions,
  ListCollectionsCallOptions,
  WriteCallOptions,
  InsertOneOptions,
  BulkWriteOptions,
  UpdateOptions,
  ReplaceOptions,
  DeleteOptions,
  FindOneAndDeleteOptions,
  FindOneAndReplaceOptions,
  FindOneAndUpdateOptions,
  ModifyResult
} from './collection';
export type { CreateCollectionCallOptions, ValidateCollectionCallOptions } from './database';
export { AbstractCursor } from './cursor/abstract_cursor';
export type { AbstractCursorOptions, CursorFlag } from './cursor/abstract_cursor';
export { FindCursor, FindRawBatchCursor } from './cursor/find_cursor';
export { AggregationCursor, AggregationRawBatchCursor } from './cursor/aggregation_cursor';
export { CommandCursor } from './cursor/command_cursor';
export { ListCollectionsCursor } from './cursor/list_collections_cursor';
export type { CollectionInfo } from './cursor/list_collections_cursor';
export { ListIndexesCursor } from './cursor/list_indexes_cursor';
export type { IndexOptions, IndexDescription } from './operations/indexes';
export type { DatabaseInfo, ListDatabasesResult } from './operations/list_databases';
export type { ExplainVerbosity, ExplainVerbosityLike } from './operations/explain';
export type { TimeSeriesCollectionOptions, ClusteredCollectionOptions, CreateCollectionOptions } from './operations/create_collection';
export * from './errors';
export { BulkWriteResult, WriteError, WriteConcernError } from './bulk_write_result';
export type { ClientBulkWriteResult, ClientInsertOneResult, ClientUpdateResult, ClientDeleteResult } from './bulk_write_result';
export { ReturnDocument } from './operations/find_and_modify';
export * from './mongo_types';

export { ReadPreference, ReadPreferenceMode } from './read_preference';
export type { ReadPreferenceLike, ReadPreferenceOptions, HedgeOptions, ReadPreferenceDocument } from './read_preference';
export { ReadConcern, ReadConcernLevel } from './read_concern';
export type { ReadConcernLike } from './read_concern';
export { WriteConcern } from './write_concern';
export type { WriteConcernOptions, W } from './write_concern';
export { ClientSession, ServerSession, TxnState } from './sessions';
export type { ClientSessionOptions, TransactionOptions, ClusterTime } from './sessions';

export { parseOptions, parseConnectionString } from './connection_string';
export type { ConnectionString } from './connection_string';
export { ServerApiVersion, formatHostAddress } from './mongo_client_options';
export type {
  MongoClientOptions,
  MongoOptions,
  HostAddress,
  ServerApi,
  CompressorName,
  ServerMonitoringMode,
  DriverInfo
} from './mongo_client_options';
export type { SrvResolver } from './srv';

export { MongoCredentials, AuthMechanism } from './auth/mongo_credentials';
export type { AuthMechanismName, AuthMechanismProperties, MongoCredentialsOptions } from './auth/mongo_credentials';
export type { AwsCredentials } from './auth/aws_credentials';

export { ServerType, TopologyType, MIN_SUPPORTED_WIRE_VERSION, MAX_SUPPORTED_WIRE_VERSION } from './sdam/types';
export type { ServerDescription, TopologyDescription, TagSet, TopologyVersion } from './sdam/types';
export type { CustomServerSelector } from './sdam/server_selection';
export * from './sdam/sdam_events';
export * from './pool/pool_events';
export type { ConnectionPoolOptions } from './pool/pool';
export { CommandStartedEvent, CommandSucceededEvent, CommandFailedEvent } from './command_monitoring';
export type { CommandEvents } from './command_monitoring';

export { BSON, ObjectId, Binary, Long, Decimal128, Timestamp, MinKey, MaxKey, Code, DBRef, Double, Int32, BSONRegExp, UUID } from 'bson';

export { ChangeStream, isResumableChangeStreamError } from './change_stream';
export type { ChangeStreamOptions } from './change_stream';
export type * from './change_stream_events';
export * from './gridfs';
export { TimeoutMode } from './timeout';
export { MongoLogger, SeverityLevel, MongoLoggableComponent } from './logger';
export type { Log, MongoDBLogWritable, LogComponentSeveritiesClientOptions, MongoLoggerMongoClientOptions } from './logger';
export type { WithTransactionOptions, EndOptions as EndSessionOptions } from './transactions';
export { RunCommandCursor } from './cursor/run_command_cursor';
export type { RunCommandCursorOptions, RunCursorCommandCursorType } from './cursor/run_command_cursor';
export type { RunCursorCommandCallOptions } from './database';
export type { CountCallOptions, SearchIndexDescription, SearchIndexOptions } from './collection';
