/**
 * The credential a client authenticates with. Parsed from the connection string and the
 * `auth`/`authMechanism`/`authSource`/`authMechanismProperties` options (see connection_string.ts),
 * validated per the auth specification, and consumed by the mechanisms in this folder.
 */
import type { Document } from 'bson';

export const AuthMechanism = Object.freeze({
  MONGODB_DEFAULT: 'DEFAULT',
  MONGODB_SCRAM_SHA1: 'SCRAM-SHA-1',
  MONGODB_SCRAM_SHA256: 'SCRAM-SHA-256',
  MONGODB_X509: 'MONGODB-X509',
  MONGODB_PLAIN: 'PLAIN',
  MONGODB_AWS: 'MONGODB-AWS',
  MONGODB_GSSAPI: 'GSSAPI',
  MONGODB_OIDC: 'MONGODB-OIDC',
  MONGODB_CR: 'MONGODB-CR'
} as const);
export type AuthMechanismName = (typeof AuthMechanism)[keyof typeof AuthMechanism];

export interface AuthMechanismProperties extends Document {
  SERVICE_NAME?: string;
  SERVICE_REALM?: string;
  CANONICALIZE_HOST_NAME?: boolean | string;
  SERVICE_HOST?: string;
  AWS_SESSION_TOKEN?: string;
  ENVIRONMENT?: string;
  TOKEN_RESOURCE?: string;
}

export interface MongoCredentialsOptions {
  username?: string;
  password?: string;
  /** The database to authenticate against (`authSource`). */
  source: string;
  mechanism: AuthMechanismName;
  mechanismProperties: AuthMechanismProperties;
}

/** Immutable credential. `toJSON`/`inspect` never reveal the password. */
export class MongoCredentials {
  readonly username?: string;
  readonly password?: string;
  readonly source: string;
  readonly mechanism: AuthMechanismName;
  readonly mechanismProperties: AuthMechanismProperties;

  constructor(options: MongoCredentialsOptions) {
    this.username = options.username;
    this.password = options.password;
    this.source = options.source;
    this.mechanism = options.mechanism;
    this.mechanismProperties = Object.freeze({ ...options.mechanismProperties });
    Object.freeze(this);
  }

  toJSON(): Document {
    return {
      username: this.username,
      password: this.password === undefined ? undefined : '<redacted>',
      source: this.source,
      mechanism: this.mechanism,
      mechanismProperties: { ...this.mechanismProperties, ...(this.mechanismProperties.AWS_SESSION_TOKEN ? { AWS_SESSION_TOKEN: '<redacted>' } : {}) }
    };
  }

  [Symbol.for('nodejs.util.inspect.custom')](): Document {
    return this.toJSON();
  }
}
