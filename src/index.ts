/** mongowire: the public surface. */
export * from './errors';
export { MongoCredentials, AuthMechanism } from './auth/mongo_credentials';
export type { AuthMechanismName, AuthMechanismProperties, MongoCredentialsOptions } from './auth/mongo_credentials';
export { BSON, ObjectId, Binary, Long, Decimal128, Timestamp, MinKey, MaxKey, Code, DBRef, Double, Int32, BSONRegExp, UUID } from 'bson';
export type { Document } from 'bson';
