/**
 * Where MONGODB-AWS gets its AWS credentials, in this order:
 *  1. the credential object (username = access key id, password = secret access key,
 *     mechanism property AWS_SESSION_TOKEN);
 *  2. a custom provider function in mechanism property AWS_CREDENTIAL_PROVIDER;
 *  3. previously fetched, still valid (more than five minutes from expiring) credentials;
 *  4. environment variables AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN
 *     (read on every call, never cached);
 *  5. STS AssumeRoleWithWebIdentity when AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN are set;
 *  6. the ECS endpoint when AWS_CONTAINER_CREDENTIALS_RELATIVE_URI is set, otherwise
 *     7. the EC2 instance metadata service (IMDSv2: PUT token, GET role name, GET credentials).
 * Fetched credentials (5–7) are cached until five minutes before their Expiration.
 *
 * All HTTP goes through an injectable {@link AwsFetcher} (default: global `fetch` with a
 * 10 second timeout), so tests never touch the network. Error messages never include a secret
 * or a response body.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { MongoMissingCredentialsError } from '../errors';
import { clientAuthError } from './auth_error';
import type { MongoCredentials } from './mongo_credentials';

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  /** When temporary credentials expire. */
  expiration?: Date;
}

export interface AwsFetchInit {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
}

/** The subset of a `fetch` Response that is used. */
export interface AwsFetchResponse {
  status: number;
  text(): Promise<string>;
}

/** `(url, init) => response`; the global `fetch` satisfies it. */
export type AwsFetcher = (url: string, init: AwsFetchInit) => Promise<AwsFetchResponse>;

/** What AWS_CREDENTIAL_PROVIDER must return (AWS SDK credential provider shape). */
export type AwsCustomCredentialProvider = () => Promise<AwsCredentials>;

export interface AwsCredentialProviderOptions {
  fetcher?: AwsFetcher;
  /** Environment to read (default: `process.env`, read at every call). */
  env?: Record<string, string | undefined>;
  /** File reader for AWS_WEB_IDENTITY_TOKEN_FILE (default: fs.readFile as UTF-8). */
  readFile?: (path: string) => Promise<string>;
  /** Clock in milliseconds (default: Date.now). */
  now?: () => number;
}

const MECHANISM = 'MONGODB-AWS';
export const ECS_HOST = 'http://169.254.170.2';
export const EC2_HOST = 'http://169.254.169.254';
export const STS_URL = 'https://sts.amazonaws.com/';
const EXPIRATION_MARGIN_MS = 5 * 60 * 1000;
const HTTP_TIMEOUT_MS = 10_000;

export const defaultAwsFetcher: AwsFetcher = (url, init) =>
  fetch(url, { ...init, signal: AbortSignal.timeout(HTTP_TIMEOUT_MS) });

export class AwsCredentialProvider {
  private readonly fetcher: AwsFetcher;
  private readonly envOverride?: Record<string, string | undefined>;
  private readonly readFile: (path: string) => Promise<string>;
  private readonly now: () => number;
  private cached?: AwsCredentials;

  constructor(options: AwsCredentialProviderOptions = {}) {
    this.fetcher = options.fetcher ?? defaultAwsFetcher;
    this.envOverride = options.env;
    this.readFile = options.readFile ?? (path => readFile(path, 'utf8'));
    this.now = options.now ?? Date.now;
  }

  /** Forget fetched credentials (called when AWS authentication fails). */
  clearCache(): void {
    this.cached = undefined;
  }

  async getCredentials(credentials: MongoCredentials): Promise<AwsCredentials> {
    const { username, password, mechanismProperties } = credentials;
    if (username || password) {
      if (!username || !password) {
        throw new MongoMissingCredentialsError('MONGODB-AWS needs both an access key id (username) and a secret access key (password)');
      }
      const sessionToken = mechanismProperties.AWS_SESSION_TOKEN;
      return { accessKeyId: username, secretAccessKey: password, ...(sessionToken ? { sessionToken } : {}) };
    }

    const custom: unknown = mechanismProperties.AWS_CREDENTIAL_PROVIDER;
    if (typeof custom === 'function') {
      return validated(await (custom as AwsCustomCredentialProvider)(), 'AWS_CREDENTIAL_PROVIDER');
    }

    if (this.cached && (this.cached.expiration?.getTime() ?? 0) - this.now() > EXPIRATION_MARGIN_MS) {
      return this.cached;
    }
    this.cached = undefined;

    const env = this.envOverride ?? process.env;
    if (env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY) {
      return {
        accessKeyId: env.AWS_ACCESS_KEY_ID,
        secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
        ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {})
      };
    }

    let fetched: AwsCredentials;
    if (env.AWS_WEB_IDENTITY_TOKEN_FILE && env.AWS_ROLE_ARN) {
      fetched = await this.fromWebIdentity(env.AWS_WEB_IDENTITY_TOKEN_FILE, env.AWS_ROLE_ARN, env.AWS_ROLE_SESSION_NAME);
    } else if (env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI) {
      fetched = await this.fromEcs(env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI);
    } else {
      fetched = await this.fromEc2();
    }
    if (fetched.expiration) this.cached = fetched;
    return fetched;
  }

  private async fromWebIdentity(tokenFile: string, roleArn: string, sessionName: string | undefined): Promise<AwsCredentials> {
    let token: string;
    try {
      token = (await this.readFile(tokenFile)).trim();
    } catch (error) {
      throw clientAuthError({}, MECHANISM, 'could not read AWS_WEB_IDENTITY_TOKEN_FILE', error);
    }
    const query = new URLSearchParams({
      Action: 'AssumeRoleWithWebIdentity',
      RoleSessionName: sessionName || `mongowire-${randomBytes(8).toString('hex')}`,
      RoleArn: roleArn,
      WebIdentityToken: token,
      Version: '2011-06-15'
    });
    const body = await this.request('STS AssumeRoleWithWebIdentity', `${STS_URL}?${query.toString()}`, {
      method: 'POST',
      headers: { Accept: 'application/json' }
    });
    const json = parseJson(body, 'STS AssumeRoleWithWebIdentity');
    const result = dig(json, 'AssumeRoleWithWebIdentityResponse', 'AssumeRoleWithWebIdentityResult', 'Credentials') ?? dig(json, 'Credentials');
    return fromAwsJson(result, 'SessionToken', 'STS AssumeRoleWithWebIdentity');
  }

  private async fromEcs(relativeUri: string): Promise<AwsCredentials> {
    const path = relativeUri.startsWith('/') ? relativeUri : `/${relativeUri}`;
    const body = await this.request('ECS credentials endpoint', `${ECS_HOST}${path}`, { method: 'GET' });
    return fromAwsJson(parseJson(body, 'ECS credentials endpoint'), 'Token', 'ECS credentials endpoint');
  }

  private async fromEc2(): Promise<AwsCredentials> {
    const token = await this.request('EC2 metadata token endpoint', `${EC2_HOST}/latest/api/token`, {
      method: 'PUT',
      headers: { 'X-aws-ec2-metadata-token-ttl-seconds': '30' }
    });
    const headers = { 'X-aws-ec2-metadata-token': token.trim() };
    const rolesUrl = `${EC2_HOST}/latest/meta-data/iam/security-credentials/`;
    const roleName = (await this.request('EC2 metadata role endpoint', rolesUrl, { method: 'GET', headers })).split('\n')[0].trim();
    if (!roleName) throw clientAuthError({}, MECHANISM, 'the EC2 metadata service returned no IAM role');
    const body = await this.request('EC2 metadata credentials endpoint', `${rolesUrl}${encodeURIComponent(roleName)}`, { method: 'GET', headers });
    return fromAwsJson(parseJson(body, 'EC2 metadata credentials endpoint'), 'Token', 'EC2 metadata credentials endpoint');
  }

  private async request(what: string, url: string, init: AwsFetchInit): Promise<string> {
    let response: AwsFetchResponse;
    try {
      response = await this.fetcher(url, init);
    } catch (error) {
      throw clientAuthError({}, MECHANISM, `could not reach the ${what}`, error);
    }
    if (response.status < 200 || response.status >= 300) {
      throw clientAuthError({}, MECHANISM, `the ${what} answered HTTP ${response.status}`);
    }
    return response.text();
  }
}

function parseJson(body: string, what: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    throw clientAuthError({}, MECHANISM, `the ${what} returned malformed JSON`);
  }
}

function dig(value: unknown, ...path: string[]): unknown {
  let current = value;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

function fromAwsJson(json: unknown, tokenField: 'Token' | 'SessionToken', what: string): AwsCredentials {
  const accessKeyId = dig(json, 'AccessKeyId');
  const secretAccessKey = dig(json, 'SecretAccessKey');
  const sessionToken = dig(json, tokenField);
  const expiration = parseExpiration(dig(json, 'Expiration'));
  if (typeof accessKeyId !== 'string' || !accessKeyId || typeof secretAccessKey !== 'string' || !secretAccessKey) {
    throw clientAuthError({}, MECHANISM, `the ${what} returned no usable credentials`);
  }
  return {
    accessKeyId,
    secretAccessKey,
    ...(typeof sessionToken === 'string' && sessionToken ? { sessionToken } : {}),
    ...(expiration ? { expiration } : {})
  };
}

function parseExpiration(value: unknown): Date | undefined {
  if (typeof value === 'number') return new Date(value < 1e12 ? value * 1000 : value);
  if (typeof value === 'string') {
    const ms = Date.parse(value);
    return Number.isNaN(ms) ? undefined : new Date(ms);
  }
  return undefined;
}

function validated(value: AwsCredentials, what: string): AwsCredentials {
  if (!value || typeof value.accessKeyId !== 'string' || !value.accessKeyId || typeof value.secretAccessKey !== 'string' || !value.secretAccessKey) {
    throw clientAuthError({}, MECHANISM, `${what} returned no usable credentials`);
  }
  return value;
}
