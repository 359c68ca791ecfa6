import { EJSON, type Document } from 'bson';
import { checkRunOnRequirement, checkRunOnRequirements, topologyMatches, type ServerInfo } from '../../spec-tests/unified/requirements';
import { compareVersions, parseVersion } from '../../spec-tests/unified/version';

const ej = (text: string): Document => EJSON.parse(text, { relaxed: false }) as Document;

const server: ServerInfo = {
  version: '7.0.2',
  topology: 'replicaset',
  serverParameters: { enableTestCommands: 1, requireApiVersion: false, authenticationMechanisms: ['SCRAM-SHA-1', 'SCRAM-SHA-256'] },
  auth: false
};

describe('version strings', () => {
  it('fills missing components with zero and discards suffixes', () => {
    expect(parseVersion('4')).toEqual([4, 0, 0]);
    expect(parseVersion('4.2')).toEqual([4, 2, 0]);
    expect(parseVersion('4.9.0-alpha4-271-g7d5cf02')).toEqual([4, 9, 0]);
    expect(() => parseVersion('x')).toThrow();
  });

  it('compares numerically per component', () => {
    expect(compareVersions('4.0.10', '4.0.9')).toBeGreaterThan(0);
    expect(compareVersions('4.0.10', '3.6')).toBeGreaterThan(0);
    expect(compareVersions('4.0.10', '4.2.0')).toBeLessThan(0);
    expect(compareVersions('4.2', '4.2.0')).toBe(0);
  });
});

describe('runOnRequirement', () => {
  it('minServerVersion and maxServerVersion are inclusive', () => {
    expect(checkRunOnRequirement({ minServerVersion: '7.0.2' }, server).met).toBe(true);
    expect(checkRunOnRequirement({ minServerVersion: '7.1' }, server)).toMatchObject({ met: false, reason: expect.stringMatching(/>= 7.1/) });
    expect(checkRunOnRequirement({ maxServerVersion: '7.0.2' }, server).met).toBe(true);
    expect(checkRunOnRequirement({ maxServerVersion: '6.0.99' }, server).met).toBe(false);
    expect(checkRunOnRequirement({ minServerVersion: '4.9' }, { ...server, version: '4.9.0-alpha4-271-g7d5cf02' }).met).toBe(true);
  });

  it('topologies: sharded accepts sharded-replicaset, not the reverse', () => {
    expect(checkRunOnRequirement({ topologies: ['single', 'replicaset'] }, server).met).toBe(true);
    expect(checkRunOnRequirement({ topologies: ['sharded'] }, server).met).toBe(false);
    expect(topologyMatches('sharded', 'sharded-replicaset')).toBe(true);
    expect(topologyMatches('sharded-replicaset', 'sharded')).toBe(false);
    expect(topologyMatches('load-balanced', 'load-balanced')).toBe(true);
    expect(topologyMatches('sharded', 'load-balanced')).toBe(false);
  });

  it('serverParameters compare with numeric leniency; unknown parameters are unmet', () => {
    expect(checkRunOnRequirement(ej('{"serverParameters": {"enableTestCommands": true}}'), server).met).toBe(false);
    expect(checkRunOnRequirement(ej('{"serverParameters": {"enableTestCommands": {"$numberDouble": "1.0"}}}'), server).met).toBe(true);
    expect(checkRunOnRequirement(ej('{"serverParameters": {"requireApiVersion": false}}'), server).met).toBe(true);
    expect(checkRunOnRequirement(ej('{"serverParameters": {"notAParameter": 1}}'), server).met).toBe(false);
  });

  it('auth', () => {
    expect(checkRunOnRequirement({ auth: false }, server).met).toBe(true);
    expect(checkRunOnRequirement({ auth: true }, server).met).toBe(false);
    expect(checkRunOnRequirement({ auth: true }, { ...server, auth: true }).met).toBe(true);
    expect(checkRunOnRequirement({ auth: false }, { ...server, auth: true }).met).toBe(false);
  });

  it('authMechanism is matched case-insensitively against the supported mechanisms', () => {
    expect(checkRunOnRequirement({ authMechanism: 'scram-sha-256' }, server).met).toBe(true);
    expect(checkRunOnRequirement({ authMechanism: 'MONGODB-X509' }, server).met).toBe(false);
    expect(checkRunOnRequirement({ authMechanism: 'PLAIN' }, { ...server, authMechanisms: ['PLAIN'] }).met).toBe(true);
  });

  it('serverless', () => {
    expect(checkRunOnRequirement({ serverless: 'require' }, server).met).toBe(false);
    expect(checkRunOnRequirement({ serverless: 'forbid' }, server).met).toBe(true);
    expect(checkRunOnRequirement({ serverless: 'allow' }, { ...server, serverless: true }).met).toBe(true);
    expect(checkRunOnRequirement({ serverless: 'forbid' }, { ...server, serverless: true }).met).toBe(false);
  });

  it('csfle as boolean or object with minLibmongocryptVersion', () => {
    expect(checkRunOnRequirement({ csfle: true }, server).met).toBe(false);
    expect(checkRunOnRequirement({ csfle: false }, server).met).toBe(true);
    expect(checkRunOnRequirement({ csfle: false }, { ...server, csfle: true }).met).toBe(false);
    const withCsfle = { ...server, csfle: true, libmongocryptVersion: '1.12.0' };
    expect(checkRunOnRequirement({ csfle: { minLibmongocryptVersion: '1.10.0' } }, withCsfle).met).toBe(true);
    expect(checkRunOnRequirement({ csfle: { minLibmongocryptVersion: '1.13.0' } }, withCsfle).met).toBe(false);
  });

  it('all conditions of one requirement must hold', () => {
    expect(checkRunOnRequirement({ minServerVersion: '4.4', topologies: ['sharded'] }, server).met).toBe(false);
    expect(checkRunOnRequirement({ minServerVersion: '4.4', topologies: ['replicaset'], auth: false }, server).met).toBe(true);
  });
});

describe('runOnRequirements', () => {
  it('is met when absent or empty', () => {
    expect(checkRunOnRequirements(undefined, server).met).toBe(true);
    expect(checkRunOnRequirements([], server).met).toBe(true);
  });

  it('is met when any requirement is met', () => {
    expect(checkRunOnRequirements([{ topologies: ['sharded'] }, { minServerVersion: '4.0' }], server).met).toBe(true);
  });

  it('explains every unmet requirement', () => {
    const r = checkRunOnRequirements([{ topologies: ['sharded'] }, { minServerVersion: '8.0' }], server);
    expect(r.met).toBe(false);
    expect(!r.met && r.reason).toMatch(/topology sharded.*; requires server version >= 8.0/);
  });
});
