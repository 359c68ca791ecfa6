/**
 * Shared by the server-selection and max-staleness runners: builds the SDAM shapes from the
 * spec JSON (`topology_description`, `read_preference`, server lists) and runs one selection
 * test file. Files starting with `_` are not suites (the CLI skips them).
 */
import * as assert from 'node:assert/strict';
import type { Document } from 'bson';
import { MongoInvalidArgumentError } from '../../src/errors';
import { ReadPreference, type ReadPreferenceMode } from '../../src/read_preference';
import {
  readPreferenceServerSelector,
  selectServers,
  suitableServers,
  writableServerSelector,
  type ServerSelector
} from '../../src/sdam/server_selection';
import type { ServerDescription, ServerType, TagSet, TopologyDescription, TopologyType } from '../../src/sdam/types';
import { server as serverDescription, topology as topologyDescription } from '../../test/selection/fixtures';

export const DEFAULT_HEARTBEAT_FREQUENCY_MS = 10_000;
export const DEFAULT_LOCAL_THRESHOLD_MS = 15;

export function serverFromSpec(doc: Document): ServerDescription {
  const lastWrite = doc.lastWrite as Document | undefined;
  const lastWriteDate = lastWrite?.lastWriteDate;
  return serverDescription(String(doc.address), doc.type as ServerType, {
    roundTripTime: typeof doc.avg_rtt_ms === 'number' ? doc.avg_rtt_ms : null,
    lastWriteDate: lastWriteDate == null ? null : Number(lastWriteDate),
    lastUpdateTime: typeof doc.lastUpdateTime === 'number' ? doc.lastUpdateTime : 0,
    maxWireVersion: typeof doc.maxWireVersion === 'number' ? doc.maxWireVersion : 21,
    tags: (doc.tags as TagSet | undefined) ?? {}
  });
}

export function topologyFromSpec(doc: Document, heartbeatFrequencyMS = DEFAULT_HEARTBEAT_FREQUENCY_MS): TopologyDescription {
  const servers = ((doc.servers as Document[] | undefined) ?? []).map(serverFromSpec);
  return topologyDescription(doc.type as TopologyType, servers, {
    setName: null,
    heartbeatFrequencyMS,
    localThresholdMS: DEFAULT_LOCAL_THRESHOLD_MS
  });
}

/** Spec modes are capitalized (`SecondaryPreferred`); a missing mode means primary. */
export function readPreferenceFromSpec(doc: Document | undefined): ReadPreference {
  const mode = typeof doc?.mode === 'string' ? ReadPreference.fromString(doc.mode).mode : ('primary' as ReadPreferenceMode);
  return new ReadPreference(mode, (doc?.tag_sets as TagSet[] | undefined) ?? undefined, {
    maxStalenessSeconds: doc?.maxStalenessSeconds as number | undefined
  });
}

function addresses(servers: readonly (ServerDescription | Document)[] | undefined): string[] {
  return (servers ?? []).map((s) => String(s.address)).sort();
}

/**
 * One `server_selection` / max-staleness test: either `error: true` (building the read
 * preference or selecting must throw) or the expected `suitable_servers` and `in_latency_window`.
 */
export function runSelectionTest(test: Document): void {
  const topology = topologyFromSpec(
    test.topology_description as Document,
    (test.heartbeatFrequencyMS as number | undefined) ?? DEFAULT_HEARTBEAT_FREQUENCY_MS
  );
  const deprioritized = addresses(test.deprioritized_servers as Document[] | undefined);

  const select = (): { suitable: ServerDescription[]; inWindow: ServerDescription[] } => {
    const selector: ServerSelector =
      test.operation === 'write'
        ? writableServerSelector()
        : readPreferenceServerSelector(readPreferenceFromSpec(test.read_preference as Document | undefined));
    return {
      suitable: suitableServers(topology, selector, { deprioritized }),
      inWindow: selectServers(topology, selector, { deprioritized })
    };
  };

  if (test.error === true) {
    assert.throws(select, MongoInvalidArgumentError);
    return;
  }
  const { suitable, inWindow } = select();
  if (test.suitable_servers !== undefined) {
    assert.deepEqual(addresses(suitable), addresses(test.suitable_servers as Document[]), 'suitable_servers');
  }
  assert.deepEqual(addresses(inWindow), addresses(test.in_latency_window as Document[]), 'in_latency_window');
}
