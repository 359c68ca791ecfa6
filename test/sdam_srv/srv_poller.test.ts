/**
 * The prose tests of polling-srv-records-for-mongos-discovery/tests/README.md, run against a real
 * Topology (no monitors: hosts stay Unknown, which is all these tests look at) and a mocked resolver.
 */
import { SrvPoller } from '../../src/sdam/srv_poller';
import { Topology, type PoolHandle } from '../../src/sdam/topology';
import { TopologyType } from '../../src/sdam/types';
import type { SrvRecord, SrvResolver } from '../../src/srv';

const HOST = 'localhost.test.build.10gen.cc';

function pool(): PoolHandle {
  return { generation: 0, clear: () => undefined, ready: () => undefined, close: () => undefined };
}

class MockDns implements SrvResolver {
  records: SrvRecord[] = [];
  failure?: Error;
  calls = 0;
  async resolveSrv(): Promise<SrvRecord[]> {
    this.calls++;
    if (this.failure) throw this.failure;
    return this.records;
  }
  async resolveTxt(): Promise<string[][]> {
    return [];
  }
}

const rec = (port: number, name = `${HOST}.`): SrvRecord => ({ name, port, priority: 0, weight: 0 });

function setup(options: { srvMaxHosts?: number; loadBalanced?: boolean; seeds?: string[] } = {}) {
  const seeds = options.seeds ?? [`${HOST}:27017`, `${HOST}:27018`];
  const topology = new Topology({ seeds, loadBalanced: options.loadBalanced, createPool: pool });
  topology.open();
  const dns = new MockDns();
  const warnings: string[] = [];
  const poller = new SrvPoller(topology, {
    srvHost: 'test1.test.build.10gen.cc',
    srvServiceName: 'mongodb',
    srvMaxHosts: options.srvMaxHosts ?? 0,
    heartbeatFrequencyMS: 10,
    rescanSrvIntervalMS: 20,
    resolver: dns,
    onWarning: (m) => warnings.push(m)
  });
  const hosts = () => [...topology.description.servers.keys()].sort();
  return { topology, dns, poller, hosts, warnings };
}

describe('SRV polling (prose tests)', () => {
  test('1. addition of a new DNS record', async () => {
    const { topology, dns, poller, hosts } = setup();
    dns.records = [rec(27017), rec(27018), rec(27019)];
    await poller.poll();
    expect(hosts()).toEqual([`${HOST}:27017`, `${HOST}:27018`, `${HOST}:27019`]);
    topology.close();
  });

  test('2. removal of an existing DNS record', async () => {
    const { topology, dns, poller, hosts } = setup();
    dns.records = [rec(27017)];
    await poller.poll();
    expect(hosts()).toEqual([`${HOST}:27017`]);
    topology.close();
  });

  test('3. replacement of a DNS record (unchanged hosts keep their description object)', async () => {
    const { topology, dns, poller, hosts } = setup();
    const before = topology.description.servers.get(`${HOST}:27017`);
    dns.records = [rec(27017), rec(27019)];
    await poller.poll();
    expect(hosts()).toEqual([`${HOST}:27017`, `${HOST}:27019`]);
    expect(topology.description.servers.get(`${HOST}:27017`)).toBe(before);
    topology.close();
  });

  test('4. both records replaced with one new record', async () => {
    const { topology, dns, poller, hosts } = setup();
    dns.records = [rec(27019)];
    await poller.poll();
    expect(hosts()).toEqual([`${HOST}:27019`]);
    topology.close();
  });

  test('5. both records replaced with two new records', async () => {
    const { topology, dns, poller, hosts } = setup();
    dns.records = [rec(27019), rec(27020)];
    await poller.poll();
    expect(hosts()).toEqual([`${HOST}:27019`, `${HOST}:27020`]);
    topology.close();
  });

  test.each([
    ['6. lookup timeout', Object.assign(new Error('queryA ETIMEOUT'), { code: 'ETIMEOUT' })],
    ['7. lookup failure', Object.assign(new Error('querySrv ENOTFOUND'), { code: 'ENOTFOUND' })]
  ])('%s leaves the hosts unchanged and polls at heartbeatFrequencyMS', async (_name, error) => {
    const { topology, dns, poller, hosts, warnings } = setup();
    dns.failure = error;
    await poller.poll();
    expect(hosts()).toEqual([`${HOST}:27017`, `${HOST}:27018`]);
    expect(warnings[0]).toMatch(/failed/);
    topology.close();
  });

  test('8. removal of all DNS SRV records leaves the hosts unchanged', async () => {
    const { topology, dns, poller, hosts, warnings } = setup();
    dns.records = [];
    await poller.poll();
    expect(hosts()).toEqual([`${HOST}:27017`, `${HOST}:27018`]);
    expect(warnings[0]).toMatch(/no usable hosts/);
    topology.close();
  });

  test('9. no polling for load-balanced topologies', async () => {
    const { topology, dns, poller, hosts } = setup({ loadBalanced: true, seeds: [`${HOST}:27017`] });
    expect(topology.description.type).toBe(TopologyType.LoadBalanced);
    dns.records = [rec(27017), rec(27018)];
    await poller.poll();
    expect(dns.calls).toBe(0);
    expect(hosts()).toEqual([`${HOST}:27017`]);
    topology.close();
  });

  test('10. srvMaxHosts = 0 selects every record', async () => {
    const { topology, dns, poller, hosts } = setup({ srvMaxHosts: 0 });
    dns.records = [rec(27017), rec(27019), rec(27020)];
    await poller.poll();
    expect(hosts()).toEqual([`${HOST}:27017`, `${HOST}:27019`, `${HOST}:27020`]);
    topology.close();
  });

  test('11. srvMaxHosts equal to the number of records selects every record', async () => {
    const { topology, dns, poller, hosts } = setup({ srvMaxHosts: 2 });
    dns.records = [rec(27017), rec(27019)];
    await poller.poll();
    expect(hosts()).toEqual([`${HOST}:27017`, `${HOST}:27019`]);
    topology.close();
  });

  test('12. srvMaxHosts less than the number of records keeps the survivor and adds randomly', async () => {
    const { topology, dns, poller, hosts } = setup({ srvMaxHosts: 2 });
    dns.records = [rec(27017), rec(27019), rec(27020)];
    await poller.poll();
    const list = hosts();
    expect(list).toHaveLength(2);
    expect(list).toContain(`${HOST}:27017`);
    topology.close();
  });

  test('no rescans for replica set topologies', async () => {
    const topology = new Topology({ seeds: [`${HOST}:27017`], replicaSet: 'rs', createPool: pool });
    topology.open();
    expect(topology.description.type).toBe(TopologyType.ReplicaSetNoPrimary);
    const dns = new MockDns();
    dns.records = [rec(27017), rec(27019)];
    const poller = new SrvPoller(topology, {
      srvHost: 'test1.test.build.10gen.cc', srvServiceName: 'mongodb', srvMaxHosts: 0, heartbeatFrequencyMS: 10, resolver: dns
    });
    await poller.poll();
    expect(dns.calls).toBe(0);
    expect([...topology.description.servers.keys()]).toEqual([`${HOST}:27017`]);
    topology.close();
  });

  test('hosts outside the parent domain are ignored with a warning, not an error', async () => {
    const { topology, dns, poller, hosts, warnings } = setup();
    dns.records = [rec(27017), rec(27019, 'evil.example.com.')];
    await poller.poll();
    expect(hosts()).toEqual([`${HOST}:27017`]);
    expect(warnings.join()).toMatch(/evil\.example\.com/);
    topology.close();
  });

  test('the timer polls on its own and stop() ends it', async () => {
    const { topology, dns, poller } = setup();
    dns.records = [rec(27017), rec(27018), rec(27019)];
    poller.start();
    const deadline = Date.now() + 2000;
    while (topology.description.servers.size !== 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(topology.description.servers.size).toBe(3);
    poller.stop();
    const calls = dns.calls;
    await new Promise((r) => setTimeout(r, 60));
    expect(dns.calls).toBe(calls);
    topology.close();
  });
});
