import { BSON, Int32, type Document } from 'bson';
import * as fs from 'fs';
import * as path from 'path';
import { MongoInvalidArgumentError } from '../../src/errors';
import {
  appendDriverInfo,
  driverVersion,
  getFaasEnv,
  isDriverInfoEqual,
  makeClientMetadata,
  truncateUtf8,
  type MetadataEnvironment
} from '../../src/pool/client_metadata';

const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string };

/** A deterministic environment: no FaaS, no container, short OS strings. */
function environment(overrides: Partial<MetadataEnvironment> = {}): Partial<MetadataEnvironment> {
  return {
    env: {},
    fileExists: () => false,
    osType: () => 'Linux',
    osName: () => 'linux',
    osArchitecture: () => 'x64',
    osVersion: () => '6.1.0',
    runtime: () => 'Node.js v20.0.0, LE',
    ...overrides
  };
}

const size = (doc: Document) => BSON.calculateObjectSize(doc);

describe('client metadata', () => {
  it('reports driver, os and platform', () => {
    const md = makeClientMetadata({ environment: environment() });
    expect(md).toEqual({
      driver: { name: 'mongowire', version: pkg.version },
      os: { type: 'Linux', name: 'linux', architecture: 'x64', version: '6.1.0' },
      platform: 'Node.js v20.0.0, LE'
    });
    expect(driverVersion()).toBe(pkg.version);
  });

  it('uses the real process environment by default', () => {
    const md = makeClientMetadata();
    expect(md.driver.name).toBe('mongowire');
    expect(typeof md.os.type).toBe('string');
    expect(md.platform).toContain(process.version);
    expect(size(md)).toBeLessThanOrEqual(512);
  });

  it('includes application.name and truncates it to 128 bytes without splitting a character', () => {
    expect(makeClientMetadata({ appName: 'myApp', environment: environment() }).application).toEqual({ name: 'myApp' });
    const long = 'é'.repeat(100); // 200 bytes
    const name = makeClientMetadata({ appName: long, environment: environment() }).application.name as string;
    expect(Buffer.byteLength(name)).toBe(128);
    expect(name).toBe('é'.repeat(64));
    expect(truncateUtf8('a€b', 3)).toBe('a');
    expect(makeClientMetadata({ appName: '', environment: environment() }).application).toBeUndefined();
  });

  it('defaults os.type to "unknown"', () => {
    expect(makeClientMetadata({ environment: environment({ osType: () => '' }) }).os.type).toBe('unknown');
  });

  describe('FaaS and container detection (handshake prose test 1)', () => {
    const md = (env: Record<string, string>, fileExists: (p: string) => boolean = () => false) =>
      makeClientMetadata({ environment: environment({ env, fileExists }) });

    it('1. valid AWS', () => {
      const result = md({ AWS_EXECUTION_ENV: 'AWS_Lambda_java8', AWS_REGION: 'us-east-2', AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '1024' });
      expect(result.env).toEqual({ name: 'aws.lambda', region: 'us-east-2', memory_mb: new Int32(1024) });
      expect(result.env.memory_mb).toBeInstanceOf(Int32);
      expect(md({ AWS_LAMBDA_RUNTIME_API: 'x' }).env).toEqual({ name: 'aws.lambda' });
    });

    it('2. valid Azure', () => {
      expect(md({ FUNCTIONS_WORKER_RUNTIME: 'node' }).env).toEqual({ name: 'azure.func' });
    });

    it('3. valid GCP', () => {
      const result = md({ K_SERVICE: 'servicename', FUNCTION_MEMORY_MB: '1024', FUNCTION_TIMEOUT_SEC: '60', FUNCTION_REGION: 'us-central1' });
      expect(result.env).toEqual({ name: 'gcp.func', memory_mb: new Int32(1024), timeout_sec: new Int32(60), region: 'us-central1' });
      expect(md({ FUNCTION_NAME: 'f' }).env).toEqual({ name: 'gcp.func' });
    });

    it('4. valid Vercel (and Vercel wins over AWS)', () => {
      expect(md({ VERCEL: '1', VERCEL_REGION: 'cdg1' }).env).toEqual({ name: 'vercel', region: 'cdg1' });
      expect(md({ VERCEL: '1', AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs20.x', AWS_REGION: 'x' }).env).toEqual({ name: 'vercel' });
    });

    it('5. multiple providers: no env', () => {
      expect(md({ AWS_EXECUTION_ENV: 'AWS_Lambda_java8', FUNCTIONS_WORKER_RUNTIME: 'node' }).env).toBeUndefined();
      expect(md({ VERCEL: '1', K_SERVICE: 's' }).env).toBeUndefined();
      expect(getFaasEnv({ FUNCTIONS_WORKER_RUNTIME: 'node', FUNCTION_NAME: 'f' })).toBeNull();
    });

    it('6. long string: env keeps only its name', () => {
      const result = md({ AWS_EXECUTION_ENV: 'AWS_Lambda_java8', AWS_REGION: 'a'.repeat(512) });
      expect(result.env).toEqual({ name: 'aws.lambda' });
      expect(result.os).toEqual({ type: 'Linux', name: 'linux', architecture: 'x64', version: '6.1.0' });
      expect(size(result)).toBeLessThanOrEqual(512);
    });

    it('7. wrong types are omitted', () => {
      expect(md({ AWS_EXECUTION_ENV: 'AWS_Lambda_java8', AWS_LAMBDA_FUNCTION_MEMORY_SIZE: 'big' }).env).toEqual({ name: 'aws.lambda' });
      expect(md({ K_SERVICE: 's', FUNCTION_TIMEOUT_SEC: '1.5', FUNCTION_MEMORY_MB: '99999999999' }).env).toEqual({ name: 'gcp.func' });
    });

    it('8. AWS_EXECUTION_ENV not starting with AWS_Lambda_ is ignored', () => {
      expect(md({ AWS_EXECUTION_ENV: 'EC2' }).env).toBeUndefined();
    });

    it('9. container and FaaS together', () => {
      const result = md({
        AWS_EXECUTION_ENV: 'AWS_Lambda_java8',
        AWS_REGION: 'us-east-2',
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '1024',
        KUBERNETES_SERVICE_HOST: '1'
      });
      expect(result.env).toEqual({
        name: 'aws.lambda',
        region: 'us-east-2',
        memory_mb: new Int32(1024),
        container: { orchestrator: 'kubernetes' }
      });
    });

    it('detects docker through /.dockerenv', () => {
      const seen: string[] = [];
      const result = md({}, (p: string) => {
        seen.push(p);
        return p === '/.dockerenv';
      });
      expect(seen).toContain('/.dockerenv');
      expect(result.env).toEqual({ container: { runtime: 'docker' } });
      expect(md({ KUBERNETES_SERVICE_HOST: 'h' }, () => true).env).toEqual({ container: { runtime: 'docker', orchestrator: 'kubernetes' } });
    });
  });

  describe('512-byte truncation, in spec order', () => {
    it('step 2: os keeps only its type', () => {
      const result = makeClientMetadata({
        environment: environment({ env: { FUNCTIONS_WORKER_RUNTIME: 'node' }, osName: () => 'n'.repeat(500) })
      });
      expect(result.os).toEqual({ type: 'Linux' });
      expect(result.env).toEqual({ name: 'azure.func' });
      expect(result.platform).toBe('Node.js v20.0.0, LE');
      expect(size(result)).toBeLessThanOrEqual(512);
    });

    it('step 3: env is dropped before platform is touched', () => {
      // Sized so that the document is exactly 512 bytes without env (and so too big with it).
      const minimal = { driver: makeClientMetadata({ environment: environment() }).driver, os: { type: 'Linux' }, platform: '' };
      const platform = 'p'.repeat(512 - size(minimal));
      const result = makeClientMetadata({
        environment: environment({ env: { FUNCTIONS_WORKER_RUNTIME: 'node' }, runtime: () => platform })
      });
      expect(result.env).toBeUndefined();
      expect(result.os).toEqual({ type: 'Linux' });
      expect(result.platform).toBe(platform);
      expect(size(result)).toBeLessThanOrEqual(512);
    });

    it('step 4: platform is truncated last', () => {
      const result = makeClientMetadata({
        appName: 'app',
        environment: environment({ env: { VERCEL: '1' }, runtime: () => 'P'.repeat(1000) })
      });
      expect(result.env).toBeUndefined();
      expect(result.os).toEqual({ type: 'Linux' });
      expect(result.application).toEqual({ name: 'app' });
      expect(result.platform).toMatch(/^P+$/);
      expect(size(result)).toBe(512);
    });

    it('throws when driver info alone cannot fit', () => {
      expect(() =>
        makeClientMetadata({ driverInfo: [{ name: 'x'.repeat(600) }], environment: environment() })
      ).toThrow(MongoInvalidArgumentError);
    });
  });

  describe('driverInfo', () => {
    it('appends name, version and platform with |', () => {
      const md = makeClientMetadata({
        driverInfo: [
          { name: 'library', version: '1.2', platform: 'Library Platform' },
          { name: 'framework', platform: 'Framework Platform' }
        ],
        environment: environment()
      });
      expect(md.driver).toEqual({ name: 'mongowire|library|framework', version: `${pkg.version}|1.2` });
      expect(md.platform).toBe('Node.js v20.0.0, LE|Library Platform|Framework Platform');
    });

    it('does not append duplicates ("" counts as unset)', () => {
      let list = appendDriverInfo([], { name: 'library', version: '1.2', platform: 'Library Platform' });
      list = appendDriverInfo(list, { name: 'library', version: '1.2', platform: 'Library Platform' });
      expect(list).toHaveLength(1);
      list = appendDriverInfo([{ name: 'library', platform: 'P' }], { name: 'library', version: '', platform: 'P' });
      expect(list).toHaveLength(1);
      list = appendDriverInfo(list, { name: 'framework', version: '2.0' });
      expect(list).toEqual([{ name: 'library', platform: 'P' }, { name: 'framework', version: '2.0' }]);
      expect(isDriverInfoEqual({ name: 'a', version: '' }, { name: 'a' })).toBe(true);
      expect(isDriverInfoEqual({ name: 'a', version: '1' }, { name: 'a' })).toBe(false);
    });

    it('rejects the | delimiter', () => {
      expect(() => appendDriverInfo([], { name: 'a|b' })).toThrow(MongoInvalidArgumentError);
      expect(() => appendDriverInfo([], { name: 'a', platform: 'x|y' })).toThrow(/platform/);
    });
  });
});
