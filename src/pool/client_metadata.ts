/**
 * The `client` document sent in the connection handshake (MongoDB Handshake specification):
 * driver, OS, platform, application name, FaaS/container environment, wrapping-library
 * `driverInfo`, all kept under the 512-byte BSON limit by the truncation order the spec gives.
 *
 * Every environment lookup goes through `MetadataEnvironment` so tests can inject their own.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { BSON, Int32, type Document } from 'bson';
import { MongoInvalidArgumentError } from '../errors';

/** Name reported as `client.driver.name`. */
export const DRIVER_NAME = 'mongowire';
/** The whole `client` document must not exceed this many BSON bytes. */
export const MAX_CLIENT_METADATA_BYTES = 512;
/** `client.application.name` must not exceed this many UTF-8 bytes. */
export const MAX_APP_NAME_BYTES = 128;

/** Metadata a library wrapping the driver appends (spec: DriverInfoOptions). */
export interface DriverInfoOptions {
  name?: string;
  version?: string;
  platform?: string;
}

/** Where the metadata builder looks things up. Every member is replaceable for tests. */
export interface MetadataEnvironment {
  /** Environment variables (defaults to `process.env`). */
  env: Record<string, string | undefined>;
  /** Whether a file exists (used for `/.dockerenv`). */
  fileExists: (filePath: string) => boolean;
  osType: () => string;
  osName: () => string;
  osArchitecture: () => string;
  osVersion: () => string;
  /** The runtime description reported as `client.platform`. */
  runtime: () => string;
}

export interface ClientMetadataOptions {
  /** `appname` from the connection string. */
  appName?: string;
  /** Wrapping libraries' info, in the order they were appended. */
  driverInfo?: readonly DriverInfoOptions[];
  /** Overrides of the environment lookups. */
  environment?: Partial<MetadataEnvironment>;
}

/** The environment of the running process. */
export const processEnvironment: MetadataEnvironment = {
  env: process.env,
  fileExists: (filePath) => {
    try {
      fs.accessSync(filePath);
      return true;
    } catch {
      return false;
    }
  },
  osType: () => os.type(),
  osName: () => os.platform(),
  osArchitecture: () => os.arch(),
  osVersion: () => os.release(),
  runtime: () => `Node.js ${process.version}, ${os.endianness()}`
};

let cachedDriverVersion: string | undefined;

/** The version in mongowire's package.json (looked up at runtime: it lives outside `src`). */
export function driverVersion(): string {
  if (cachedDriverVersion !== undefined) return cachedDriverVersion;
  cachedDriverVersion = 'unknown';
  let dir = __dirname;
  for (let i = 0; i < 5; i++) {
    try {
      const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: unknown; version?: unknown };
      if (pkg.name === DRIVER_NAME && typeof pkg.version === 'string') {
        cachedDriverVersion = pkg.version;
        break;
      }
    } catch {
      // not here; keep walking up
    }
    dir = path.dirname(dir);
  }
  return cachedDriverVersion;
}

/** Spec: two DriverInfoOptions are equal when they would produce the same metadata ("" = unset). */
export function isDriverInfoEqual(a: DriverInfoOptions, b: DriverInfoOptions): boolean {
  const same = (x?: string, y?: string) => (x || undefined) === (y || undefined);
  return same(a.name, b.name) && same(a.version, b.version) && same(a.platform, b.platform);
}

/**
 * Returns `list` with `info` appended, unless an equal entry is already present.
 * Throws MongoInvalidArgumentError when a field contains the `|` delimiter.
 */
export function appendDriverInfo(list: readonly DriverInfoOptions[], info: DriverInfoOptions): DriverInfoOptions[] {
  for (const key of ['name', 'version', 'platform'] as const) {
    const value = info[key];
    if (value !== undefined && typeof value !== 'string') {
      throw new MongoInvalidArgumentError(`driverInfo.${key} must be a string`);
    }
    if (value?.includes('|')) {
      throw new MongoInvalidArgumentError(`driverInfo.${key} must not contain '|'`);
    }
  }
  if (list.some((existing) => isDriverInfoEqual(existing, info))) return [...list];
  return [...list, { ...info }];
}

function parseInt32(value: string | undefined): Int32 | undefined {
  if (value === undefined || !/^-?\d+$/.test(value.trim())) return undefined;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < -2147483648 || n > 2147483647) return undefined;
  return new Int32(n);
}

const nonEmpty = (value: string | undefined): value is string => typeof value === 'string' && value.length > 0;

/**
 * The FaaS part of `client.env` (`name`, `region`, `memory_mb`, `timeout_sec`), or null when no
 * provider, or more than one (other than Vercel + AWS, where Vercel wins), is detected.
 */
export function getFaasEnv(env: Record<string, string | undefined>): Document | null {
  const aws = (env.AWS_EXECUTION_ENV ?? '').startsWith('AWS_Lambda_') || nonEmpty(env.AWS_LAMBDA_RUNTIME_API);
  const azure = nonEmpty(env.FUNCTIONS_WORKER_RUNTIME);
  const gcp = nonEmpty(env.K_SERVICE) || nonEmpty(env.FUNCTION_NAME);
  const vercel = nonEmpty(env.VERCEL);

  const detected = [aws && !vercel, azure, gcp, vercel].filter(Boolean).length;
  if (detected !== 1) return null;

  const result: Document = {};
  const put = (key: string, value: unknown) => {
    if (value !== undefined && value !== '') result[key] = value;
  };
  if (vercel) {
    result.name = 'vercel';
    put('region', env.VERCEL_REGION);
  } else if (aws) {
    result.name = 'aws.lambda';
    put('region', env.AWS_REGION);
    put('memory_mb', parseInt32(env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE));
  } else if (azure) {
    result.name = 'azure.func';
  } else {
    result.name = 'gcp.func';
    put('memory_mb', parseInt32(env.FUNCTION_MEMORY_MB));
    put('timeout_sec', parseInt32(env.FUNCTION_TIMEOUT_SEC));
    put('region', env.FUNCTION_REGION);
  }
  return result;
}

/** `client.env.container`, or null when neither Docker nor Kubernetes is detected. */
export function getContainerMetadata(environment: Pick<MetadataEnvironment, 'env' | 'fileExists'>): Document | null {
  const container: Document = {};
  if (environment.fileExists('/.dockerenv')) container.runtime = 'docker';
  if (nonEmpty(environment.env.KUBERNETES_SERVICE_HOST)) container.orchestrator = 'kubernetes';
  return Object.keys(container).length > 0 ? container : null;
}

/** Truncates `value` to at most `maxBytes` UTF-8 bytes without splitting a character. */
export function truncateUtf8(value: string, maxBytes: number): string {
  if (Buffer.byteLength(value, 'utf8') <= maxBytes) return value;
  let bytes = 0;
  let end = 0;
  for (const ch of value) {
    const size = Buffer.byteLength(ch, 'utf8');
    if (bytes + size > maxBytes) break;
    bytes += size;
    end += ch.length;
  }
  return value.slice(0, end);
}

const bsonSize = (doc: Document): number => BSON.calculateObjectSize(doc);

/**
 * Builds the handshake `client` document. Throws MongoInvalidArgumentError when even the
 * minimal document (application, driver, os.type) cannot fit in 512 bytes.
 */
export function makeClientMetadata(options: ClientMetadataOptions = {}): Document {
  const environment: MetadataEnvironment = { ...processEnvironment, ...options.environment };
  const metadata: Document = {};

  if (options.appName !== undefined && options.appName.length > 0) {
    metadata.application = { name: truncateUtf8(options.appName, MAX_APP_NAME_BYTES) };
  }

  const driver = { name: DRIVER_NAME, version: driverVersion() };
  let platform = environment.runtime();
  for (const info of options.driverInfo ?? []) {
    if (info.name) driver.name += `|${info.name}`;
    if (info.version) driver.version += `|${info.version}`;
    if (info.platform) platform += `|${info.platform}`;
  }
  metadata.driver = driver;
  metadata.os = {
    type: environment.osType() || 'unknown',
    name: environment.osName(),
    architecture: environment.osArchitecture(),
    version: environment.osVersion()
  };
  metadata.platform = platform;

  const faas = getFaasEnv(environment.env);
  const container = getContainerMetadata(environment);
  if (faas || container) {
    metadata.env = { ...faas, ...(container ? { container } : {}) };
  }

  // Spec "Limitations": cumulatively apply these steps until the document fits.
  const steps: Array<() => void> = [
    () => {
      if (metadata.env) {
        if (metadata.env.name !== undefined) metadata.env = { name: metadata.env.name };
        else delete metadata.env;
      }
    },
    () => {
      metadata.os = { type: metadata.os.type };
    },
    () => {
      delete metadata.env;
    },
    () => {
      const overflow = bsonSize(metadata) - MAX_CLIENT_METADATA_BYTES;
      const platformBytes = Buffer.byteLength(metadata.platform, 'utf8');
      metadata.platform = truncateUtf8(metadata.platform, Math.max(0, platformBytes - overflow));
    }
  ];
  for (const step of steps) {
    if (bsonSize(metadata) <= MAX_CLIENT_METADATA_BYTES) break;
    step();
  }
  if (bsonSize(metadata) > MAX_CLIENT_METADATA_BYTES) {
    throw new MongoInvalidArgumentError(
      `Client metadata cannot fit in ${MAX_CLIENT_METADATA_BYTES} bytes; shorten the driverInfo name/version`
    );
  }
  return metadata;
}
