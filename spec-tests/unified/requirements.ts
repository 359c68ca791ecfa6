/**
 * `runOnRequirements` evaluation, as a pure function of what the runner learned about the
 * deployment. A list of requirements is met when any one of them is met; an absent list always is.
 */
import type { Document } from 'bson';
import { describeValue, valuesEqual } from './bson-values';
import { compareVersions } from './version';

export type TopologyName = 'single' | 'replicaset' | 'sharded' | 'load-balanced' | 'sharded-replicaset';

export interface ServerInfo {
  /** Server version, e.g. from buildInfo `versionArray` (`"7.0.2"`); suffixes are ignored. */
  version: string;
  /** `sharded-replicaset` when the runner verified every shard is a replica set, else `sharded`. */
  topology: TopologyName;
  /** Server parameters as returned by `getParameter: '*'`. */
  serverParameters: Document;
  /** Whether the deployment requires authentication. */
  auth: boolean;
  serverless?: boolean;
  /** Whether the driver and server support client-side field level encryption. */
  csfle?: boolean;
  libmongocryptVersion?: string;
  /** Supported auth mechanisms; defaults to `serverParameters.authenticationMechanisms`. */
  authMechanisms?: readonly string[];
}

export type RequirementCheck = { met: true } | { met: false; reason: string };

const MET: RequirementCheck = { met: true };

function unmet(reason: string): RequirementCheck {
  return { met: false, reason };
}

export function checkRunOnRequirements(requirements: readonly Document[] | undefined, info: ServerInfo): RequirementCheck {
  if (!requirements || requirements.length === 0) return MET;
  const reasons: string[] = [];
  for (const requirement of requirements) {
    const check = checkRunOnRequirement(requirement, info);
    if (check.met) return MET;
    reasons.push(check.reason);
  }
  return unmet(reasons.length === 1 ? reasons[0] : `no runOnRequirement is met: ${reasons.join('; ')}`);
}

export function checkRunOnRequirement(requirement: Document, info: ServerInfo): RequirementCheck {
  const { minServerVersion, maxServerVersion, topologies, serverless, serverParameters, auth, authMechanism, csfle } = requirement;

  if (typeof minServerVersion === 'string' && compareVersions(info.version, minServerVersion) < 0) {
    return unmet(`requires server version >= ${minServerVersion} (server is ${info.version})`);
  }
  if (typeof maxServerVersion === 'string' && compareVersions(info.version, maxServerVersion) > 0) {
    return unmet(`requires server version <= ${maxServerVersion} (server is ${info.version})`);
  }
  if (Array.isArray(topologies) && !topologies.some((t) => topologyMatches(String(t), info.topology))) {
    return unmet(`requires topology ${topologies.join(' | ')} (deployment is ${info.topology})`);
  }
  if (serverless === 'require' && !info.serverless) return unmet('requires Atlas Serverless');
  if (serverless === 'forbid' && info.serverless) return unmet('cannot run on Atlas Serverless');
  if (serverParameters && typeof serverParameters === 'object') {
    for (const [name, wanted] of Object.entries(serverParameters as Document)) {
      const actual = info.serverParameters[name];
      if (actual === undefined) return unmet(`requires server parameter ${name}, which the server does not report`);
      if (!valuesEqual(wanted, actual)) {
        return unmet(`requires server parameter ${name} = ${describeValue(wanted)} (server has ${describeValue(actual)})`);
      }
    }
  }
  if (auth === true && !info.auth) return unmet('requires authentication to be enabled');
  if (auth === false && info.auth) return unmet('requires authentication to be disabled');
  if (typeof authMechanism === 'string') {
    const mechanisms = info.authMechanisms ?? asStrings(info.serverParameters.authenticationMechanisms);
    if (!mechanisms.some((m) => m.toLowerCase() === authMechanism.toLowerCase())) {
      return unmet(`requires auth mechanism ${authMechanism} (server supports ${mechanisms.join(', ') || 'none reported'})`);
    }
  }
  if (csfle === false && info.csfle) return unmet('requires CSFLE to be unsupported');
  if (csfle === true || (csfle !== null && typeof csfle === 'object')) {
    if (!info.csfle) return unmet('requires client-side field level encryption (libmongocrypt), which is not available');
    const min = (csfle as { minLibmongocryptVersion?: unknown }).minLibmongocryptVersion;
    if (typeof min === 'string') {
      if (!info.libmongocryptVersion) return unmet(`requires libmongocrypt >= ${min} (version unknown)`);
      if (compareVersions(info.libmongocryptVersion, min) < 0) {
        return unmet(`requires libmongocrypt >= ${min} (have ${info.libmongocryptVersion})`);
      }
    }
  }
  return MET;
}

/** "sharded" accepts any sharded cluster; "sharded-replicaset" only one whose shards are replica sets. */
export function topologyMatches(required: string, actual: TopologyName): boolean {
  if (required === actual) return true;
  return required === 'sharded' && actual === 'sharded-replicaset';
}

function asStrings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}
