/**
 * The credential a client authenticates with. Parsed from the connection string and the
 * `auth`/`authMechanism`/`authSource`/`authMechanismProperties` options (see connection_string.ts),
 * validated per the auth specification, and consumed by the mechanisms in this folder.
 */
import type { Document } from 'bson';
import { MongoParseError } from '../errors';

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
  AWS_CREDENTIAL_PROVIDER?: unknown;
  ENVIRONMENT?: string;
  TOKEN_RESOURCE?: string;
  OIDC_CALLBACK?: unknown;
  OIDC_HUMAN_CALLBACK?: unknown;
  ALLOWED_HOSTS?: string[];
}

/** Mechanisms whose credentials always live in the `$external` database. */
export const EXTERNAL_SOURCE_MECHANISMS: ReadonlySet<AuthMechanismName> = new Set([
  AuthMechanism.MONGODB_GSSAPI,
  AuthMechanism.MONGODB_X509,
  AuthMechanism.MONGODB_AWS,
  AuthMechanism.MONGODB_OIDC
]);

/** The OIDC `ALLOWED_HOSTS` default (auth spec). */
export const DEFAULT_ALLOWED_HOSTS: readonly string[] = Object.freeze([
  '*.mongodb.net',
  '*.mongodb-qa.net',
  '*.mongodb-dev.net',
  '*.mongodbgov.net',
  'localhost',
  '127.0.0.1',
  '::1',
  '*.mongo.com'
]);

export const OIDC_ENVIRONMENTS: readonly string[] = Object.freeze(['test', 'azure', 'gcp', 'k8s']);
export const GSSAPI_CANONICALIZATION_VALUES: readonly (string | boolean)[] = Object.freeze([
  true,
  false,
  'none',
  'forward',
  'forwardAndReverse'
]);

/** The mechanism properties each mechanism accepts; any other property is an error. */
const ALLOWED_PROPERTIES: Readonly<Record<AuthMechanismName, readonly string[]>> = {
  DEFAULT: [],
  'SCRAM-SHA-1': [],
  'SCRAM-SHA-256': [],
  'MONGODB-CR': [],
  PLAIN: [],
  'MONGODB-X509': [],
  GSSAPI: ['SERVICE_NAME', 'SERVICE_REALM', 'SERVICE_HOST', 'CANONICALIZE_HOST_NAME'],
  'MONGODB-AWS': ['AWS_CREDENTIAL_PROVIDER'],
  'MONGODB-OIDC': ['ENVIRONMENT', 'TOKEN_RESOURCE', 'OIDC_CALLBACK', 'OIDC_HUMAN_CALLBACK', 'ALLOWED_HOSTS']
};

/** What the connection string and the client options say about authentication. */
export interface CredentialInput {
  username?: string;
  password?: string;
  /** The URI had a userinfo part (`…@host`) or `auth` was given in code: authentication is requested. */
  hasUserInfo: boolean;
  mechanism?: AuthMechanismName;
  /** An explicit `authSource`. */
  source?: string;
  /** The database named in the URI path (a default source for some mechanisms). */
  database?: string;
  mechanismProperties?: AuthMechanismProperties;
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

  /**
   * Builds the credential the auth spec describes, or undefined when authentication was not
   * requested (no userinfo and no mechanism: a database or authSource alone never implies it).
   * Applies the per-mechanism defaults (source, GSSAPI SERVICE_NAME, OIDC ALLOWED_HOSTS) and
   * validates the result. Throws MongoParseError, never mentioning the password.
   */
  static fromInput(input: CredentialInput): MongoCredentials | undefined {
    if (!input.hasUserInfo && input.mechanism === undefined) return undefined;
    const mechanism = input.mechanism ?? AuthMechanism.MONGODB_DEFAULT;
    const mechanismProperties: AuthMechanismProperties = { ...input.mechanismProperties };
    if (mechanism === AuthMechanism.MONGODB_GSSAPI && mechanismProperties.SERVICE_NAME === undefined) {
      mechanismProperties.SERVICE_NAME = 'mongodb';
    }
    if (mechanism === AuthMechanism.MONGODB_OIDC && mechanismProperties.ALLOWED_HOSTS === undefined) {
      mechanismProperties.ALLOWED_HOSTS = [...DEFAULT_ALLOWED_HOSTS];
    }
    let source = input.source;
    if (source === undefined) {
      if (EXTERNAL_SOURCE_MECHANISMS.has(mechanism)) source = '$external';
      else if (mechanism === AuthMechanism.MONGODB_PLAIN) source = input.database || '$external';
      else source = input.database || 'admin';
    }
    // An empty password in `user:@host` means "no password" for mechanisms that take none.
    const takesNoPassword = mechanism === AuthMechanism.MONGODB_X509 || mechanism === AuthMechanism.MONGODB_OIDC;
    const password = takesNoPassword && input.password === '' ? undefined : input.password;
    const credentials = new MongoCredentials({
      username: input.username,
      password,
      source,
      mechanism,
      mechanismProperties
    });
    credentials.validate();
    return credentials;
  }

  /**
   * Checks the auth spec's per-mechanism rules: required/forbidden username and password,
   * `$external` source, allowed mechanism properties and their values.
   */
  validate(): void {
    const { mechanism, username, password, source } = this;
    const properties = this.mechanismProperties;
    const fail = (message: string): never => {
      throw new MongoParseError(message);
    };

    const usernameRequired: AuthMechanismName[] = [
      AuthMechanism.MONGODB_DEFAULT,
      AuthMechanism.MONGODB_SCRAM_SHA1,
      AuthMechanism.MONGODB_SCRAM_SHA256,
      AuthMechanism.MONGODB_CR,
      AuthMechanism.MONGODB_PLAIN,
      AuthMechanism.MONGODB_GSSAPI
    ];
    if (usernameRequired.includes(mechanism) && !username) {
      fail(`A username is required for auth mechanism ${mechanism === 'DEFAULT' ? 'negotiation (no authMechanism given)' : mechanism}`);
    }
    const passwordRequired: AuthMechanismName[] = [
      AuthMechanism.MONGODB_SCRAM_SHA1,
      AuthMechanism.MONGODB_SCRAM_SHA256,
      AuthMechanism.MONGODB_PLAIN
    ];
    if (passwordRequired.includes(mechanism) && password === undefined) {
      fail(`A password is required for auth mechanism ${mechanism}`);
    }
    if ((mechanism === AuthMechanism.MONGODB_X509 || mechanism === AuthMechanism.MONGODB_OIDC) && password !== undefined) {
      fail(`A password must not be given for auth mechanism ${mechanism}`);
    }
    if (EXTERNAL_SOURCE_MECHANISMS.has(mechanism) && source !== '$external') {
      fail(`authSource must be "$external" for auth mechanism ${mechanism}`);
    }
    if (!source) fail('authSource must not be empty');

    const allowed = ALLOWED_PROPERTIES[mechanism];
    for (const name of Object.keys(properties)) {
      if (properties[name] === undefined) continue;
      if (!allowed.includes(name)) {
        fail(
          allowed.length === 0
            ? `Auth mechanism properties are not supported by auth mechanism ${mechanism} (got ${name})`
            : `Auth mechanism property ${name} is not supported by auth mechanism ${mechanism}`
        );
      }
    }

    if (mechanism === AuthMechanism.MONGODB_GSSAPI) {
      const canonicalize = properties.CANONICALIZE_HOST_NAME;
      if (canonicalize !== undefined && !GSSAPI_CANONICALIZATION_VALUES.includes(canonicalize)) {
        fail(`Invalid CANONICALIZE_HOST_NAME value; expected one of ${GSSAPI_CANONICALIZATION_VALUES.join(', ')}`);
      }
    }

    if (mechanism === AuthMechanism.MONGODB_AWS && (username || password !== undefined)) {
      // auth spec (2025-09-30): AWS credentials come only from the environment or an AWS SDK
      // credential provider; credentials in the URI or client options are an error.
      fail('MONGODB-AWS takes no username or password: credentials come from the environment or AWS_CREDENTIAL_PROVIDER');
    }

    if (mechanism === AuthMechanism.MONGODB_OIDC) {
      const environment = properties.ENVIRONMENT;
      const hasCallback = properties.OIDC_CALLBACK !== undefined || properties.OIDC_HUMAN_CALLBACK !== undefined;
      if (environment !== undefined && !OIDC_ENVIRONMENTS.includes(environment)) {
        fail(`ENVIRONMENT must be one of ${OIDC_ENVIRONMENTS.join(', ')} for auth mechanism MONGODB-OIDC`);
      }
      if (environment === undefined && !hasCallback) {
        fail('MONGODB-OIDC needs an ENVIRONMENT, an OIDC_CALLBACK or an OIDC_HUMAN_CALLBACK');
      }
      if (environment !== undefined && hasCallback) {
        fail('ENVIRONMENT cannot be combined with OIDC_CALLBACK or OIDC_HUMAN_CALLBACK');
      }
      if (properties.OIDC_CALLBACK !== undefined && properties.OIDC_HUMAN_CALLBACK !== undefined) {
        fail('OIDC_CALLBACK and OIDC_HUMAN_CALLBACK cannot both be given');
      }
      if (username && environment !== undefined && environment !== 'azure') {
        fail(`A username cannot be used with ENVIRONMENT ${environment} for auth mechanism MONGODB-OIDC`);
      }
      const needsResource = environment === 'azure' || environment === 'gcp';
      if (needsResource && !properties.TOKEN_RESOURCE) fail(`TOKEN_RESOURCE is required with ENVIRONMENT ${environment}`);
      if (!needsResource && properties.TOKEN_RESOURCE !== undefined) {
        fail('TOKEN_RESOURCE is only valid with ENVIRONMENT azure or gcp');
      }
      const hosts = properties.ALLOWED_HOSTS;
      if (hosts !== undefined && !(Array.isArray(hosts) && hosts.every((h) => typeof h === 'string'))) {
        fail('ALLOWED_HOSTS must be an array of strings');
      }
    }
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
