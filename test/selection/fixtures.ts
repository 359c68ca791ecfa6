/** Builders for ServerDescription / TopologyDescription values used by the selection tests. */
import { ServerType, TopologyType, type ServerDescription, type TopologyDescription } from '../../src/sdam/types';

export function server(address: string, type: ServerType, overrides: Partial<ServerDescription> = {}): ServerDescription {
  return {
    address,
    type,
    error: null,
    roundTripTime: type === ServerType.Unknown ? null : 5,
    minRoundTripTime: null,
    lastWriteDate: null,
    opTime: null,
    lastUpdateTime: 0,
    minWireVersion: 0,
    maxWireVersion: 21,
    me: null,
    hosts: [],
    passives: [],
    arbiters: [],
    tags: {},
    setName: null,
    setVersion: null,
    electionId: null,
    primary: null,
    logicalSessionTimeoutMinutes: null,
    topologyVersion: null,
    iscryptd: false,
    maxBsonObjectSize: null,
    maxMessageSizeBytes: null,
    maxWriteBatchSize: null,
    helloOk: true,
    serviceId: null,
    ...overrides
  };
}

export function topology(
  type: TopologyType,
  servers: ServerDescription[],
  overrides: Partial<TopologyDescription> = {}
): TopologyDescription {
  return {
    type,
    setName: type === TopologyType.ReplicaSetNoPrimary || type === TopologyType.ReplicaSetWithPrimary ? 'rs0' : null,
    maxSetVersion: null,
    maxElectionId: null,
    servers: new Map(servers.map((s) => [s.address, s])),
    compatible: true,
    compatibilityError: null,
    logicalSessionTimeoutMinutes: null,
    heartbeatFrequencyMS: 10_000,
    localThresholdMS: 15,
    error: null,
    ...overrides
  };
}

export function addresses(servers: readonly ServerDescription[] | undefined): string[] {
  return (servers ?? []).map((s) => s.address).sort();
}
