/** mongowire: the public surface. */
export { MongoClient } from './mongo_client';
export type { MongoClientEvents, MongoClientConstructorOptions } from './mongo_client';
export { Database, validateDatabaseName } from './database';
export type { DatabaseOptions, RunCommandCallOptions } from './database';
export { Collection } from './collection';
export type { CollectionOptions } from './collection';
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
