import { parseOptions } from '../../src/connection_string';
import { MongoParseError } from '../../src/errors';
import { formatHostAddress } from '../../src/mongo_client_options';
import { matchesParentDomain, selectSrvHosts, type SrvRecord, type SrvResolver } from '../../src/srv';

interface FakeDns {
  srv?: Record<string, SrvRecord[] | Error>;
  txt?: Record<string, string[][] | Error>;
}

/** An in-memory resolver that records the names it was asked for. */
function fakeResolver(dns: FakeDns): SrvResolver & { queries: string[] } {
  const queries: string[] = [];
  const lookup = async <T>(table: Record<string, T | Error> | undefined, name: string): Promise<T> => {
    queries.push(name);
    const entry = table?.[name];
    if (entry === undefined) throw Object.assign(new Error(`ENOTFOUND ${name}`), { code: 'ENOTFOUND' });
    if (entry instanceof Error) throw entry;
    return entry;
  };
  return {
    queries,
    resolveSrv: (name) => lookup(dns.srv, name),
    resolveTxt: (name) => lookup(dns.txt, name)
  };
}

const srv = (...targets: [string, number][]): SrvRecord[] => targets.map(([name, port]) => ({ name, port, priority: 0, weight: 0 }));

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

describe('matchesParentDomain', () => {
  it.each([
    ['cluster0.example.com', 'node1.example.com', true],
    ['cluster0.example.com', 'a.b.example.com', true],
    ['cluster0.example.com', 'node1.evil.com', false],
    ['cluster0.example.com', 'example.com', false],
    ['cluster0.example.com', 'node1.notexample.com', false],
    ['localhost', 'test.localhost', true],
    ['localhost', 'localhost', false],
    ['localhost', 'test_1.cluster_1localhost', false],
    ['mongo.local', 'test.mongo.local', true],
    ['mongo.local', 'mongo.local', false],
    ['mongo.local', 'test_1.evil.local', false],
    ['Cluster0.Example.COM.', 'NODE1.example.com.', true]
  ])('%s -> %s: %s', (srvHost, returned, expected) => {
    expect(matchesParentDomain(srvHost, returned)).toBe(expected);
  });
});

describe('selectSrvHosts', () => {
  it('returns everything when the limit is 0 or not below the count', () => {
    expect(selectSrvHosts([1, 2, 3], 0)).toEqual([1, 2, 3]);
    expect(selectSrvHosts([1, 2, 3], 3)).toEqual([1, 2, 3]);
    expect(selectSrvHosts([1, 2, 3], 5)).toEqual([1, 2, 3]);
  });

  it('picks a random subset of the requested size (Fisher-Yates)', () => {
    // random() = 0 always swaps with index 0: [1,2,3,4] -> [2,3,4,1] after the full pass.
    expect(selectSrvHosts([1, 2, 3, 4], 2, () => 0)).toEqual([2, 3]);
    const picked = selectSrvHosts([1, 2, 3, 4, 5], 3);
    expect(picked).toHaveLength(3);
    expect(new Set(picked).size).toBe(3);
    picked.forEach((p) => expect([1, 2, 3, 4, 5]).toContain(p));
  });
});

describe('mongodb+srv with an injected resolver', () => {
  const records = {
    srv: { '_mongodb._tcp.cluster0.example.com': srv(['a.example.com.', 27017], ['b.example.com', 27018], ['c.example.com', 27019]) },
    txt: { 'cluster0.example.com': [['replicaSet=rs0&authSource=', 'admin2']] }
  };

  it('builds the seed list, applies the TXT options and enables TLS', async () => {
    const resolver = fakeResolver(records);
    const o = await parseOptions('mongodb+srv://u:p@Cluster0.Example.com/app', undefined, { srvResolver: resolver });
    expect(o.hosts.map(formatHostAddress)).toEqual(['a.example.com:27017', 'b.example.com:27018', 'c.example.com:27019']);
    expect(o).toMatchObject({ isSrv: true, srvHost: 'cluster0.example.com', tls: true, replicaSet: 'rs0', dbName: 'app' });
    expect(o.credentials?.source).toBe('admin2');
    expect(resolver.queries.sort()).toEqual(['_mongodb._tcp.cluster0.example.com', 'cluster0.example.com']);
  });

  it('lets the URI override the TXT record, and code override both', async () => {
    const uri = await parseOptions('mongodb+srv://u:p@cluster0.example.com/?authSource=fromUri&tls=false', undefined, {
      srvResolver: fakeResolver(records)
    });
    expect(uri.credentials?.source).toBe('fromUri');
    expect(uri.tls).toBe(false);
    const code = await parseOptions('mongodb+srv://u:p@cluster0.example.com/?authSource=fromUri', { authSource: 'fromCode', replicaSet: 'rsCode', tls: false }, {
      srvResolver: fakeResolver(records)
    });
    expect(code.credentials?.source).toBe('fromCode');
    expect(code.replicaSet).toBe('rsCode');
    expect(code.tls).toBe(false);
  });

  it('uses srvServiceName from the URI or from code', async () => {
    const dns = { srv: { '_custom._tcp.cluster0.example.com': srv(['a.example.com', 1]) } };
    const fromUri = fakeResolver(dns);
    await parseOptions('mongodb+srv://cluster0.example.com/?srvServiceName=custom', undefined, { srvResolver: fromUri });
    expect(fromUri.queries).toContain('_custom._tcp.cluster0.example.com');
    const fromCode = await parseOptions('mongodb+srv://cluster0.example.com', { srvServiceName: 'custom' }, { srvResolver: fakeResolver(dns) });
    expect(fromCode.srvServiceName).toBe('custom');
  });

  it('selects srvMaxHosts hosts at random', async () => {
    const o = await parseOptions('mongodb+srv://cluster0.example.com/?srvMaxHosts=2', undefined, {
      srvResolver: fakeResolver({ srv: records.srv }),
      random: () => 0
    });
    expect(o.hosts.map(formatHostAddress)).toEqual(['b.example.com:27018', 'c.example.com:27019']);
    expect(o.srvMaxHosts).toBe(2);
  });

  it('rejects a target outside the parent domain', async () => {
    const dns = { srv: { '_mongodb._tcp.cluster0.example.com': srv(['a.example.com', 1], ['a.evil.com', 2]) } };
    const error = await rejection(parseOptions('mongodb+srv://cluster0.example.com', undefined, { srvResolver: fakeResolver(dns) }));
    expect(error).toBeInstanceOf(MongoParseError);
    expect(error.message).toContain('a.evil.com');
  });

  it('reports SRV lookup failures and empty answers with the reason', async () => {
    const failing = fakeResolver({ srv: { '_mongodb._tcp.x.example.com': Object.assign(new Error('timeout'), { code: 'ETIMEOUT' }) } });
    const error = await rejection(parseOptions('mongodb+srv://x.example.com', undefined, { srvResolver: failing }));
    expect(error).toBeInstanceOf(MongoParseError);
    expect(error.message).toContain('ETIMEOUT');
    const empty = fakeResolver({ srv: { '_mongodb._tcp.x.example.com': [] } });
    expect(await rejection(parseOptions('mongodb+srv://x.example.com', undefined, { srvResolver: empty }))).toBeInstanceOf(MongoParseError);
  });

  it('treats a missing TXT record as no options but fails on other TXT errors', async () => {
    const base = { '_mongodb._tcp.x.example.com': srv(['a.example.com', 1]) };
    const noData = fakeResolver({ srv: base, txt: { 'x.example.com': Object.assign(new Error('nodata'), { code: 'ENODATA' }) } });
    expect((await parseOptions('mongodb+srv://x.example.com', undefined, { srvResolver: noData })).replicaSet).toBeUndefined();
    const refused = fakeResolver({ srv: base, txt: { 'x.example.com': Object.assign(new Error('refused'), { code: 'EREFUSED' }) } });
    expect(await rejection(parseOptions('mongodb+srv://x.example.com', undefined, { srvResolver: refused }))).toBeInstanceOf(MongoParseError);
  });

  it.each([
    ['two TXT records', [['replicaSet=a'], ['authSource=b']], /Multiple TXT/],
    ['a disallowed option', [['ssl=false']], /not allowed in a TXT record/],
    ['a disallowed option (socketTimeoutMS)', [['socketTimeoutMS=1']], /not allowed in a TXT record/],
    ['a misformatted option', [['authSource']], /no value/]
  ])('rejects a TXT record with %s', async (_what, txt, message) => {
    const resolver = fakeResolver({ srv: { '_mongodb._tcp.x.example.com': srv(['a.example.com', 1]) }, txt: { 'x.example.com': txt } });
    const error = await rejection(parseOptions('mongodb+srv://x.example.com', undefined, { srvResolver: resolver }));
    expect(error).toBeInstanceOf(MongoParseError);
    expect(error.message).toMatch(message);
  });

  it('validates loadBalanced and srvMaxHosts against the TXT record after resolution', async () => {
    const resolver = (txt: string): SrvResolver =>
      fakeResolver({ srv: { '_mongodb._tcp.x.example.com': srv(['a.example.com', 1]) }, txt: { 'x.example.com': [[txt]] } });
    await expect(parseOptions('mongodb+srv://x.example.com/?srvMaxHosts=1', undefined, { srvResolver: resolver('replicaSet=rs') })).rejects.toThrow(
      /srvMaxHosts/
    );
    await expect(parseOptions('mongodb+srv://x.example.com/?replicaSet=rs', undefined, { srvResolver: resolver('loadBalanced=true') })).rejects.toThrow(
      /loadBalanced/
    );
    const lb = await parseOptions('mongodb+srv://x.example.com', undefined, { srvResolver: resolver('loadBalanced=true') });
    expect(lb.loadBalanced).toBe(true);
  });

  it('never queries DNS for a URI that is invalid on its face', async () => {
    for (const uri of ['mongodb+srv://a.example.com:27017', 'mongodb+srv://a.example.com,b.example.com', 'mongodb+srv://[::1]', 'mongodb+srv://x.example.com/?directConnection=true']) {
      const resolver = fakeResolver({});
      expect(await rejection(parseOptions(uri, undefined, { srvResolver: resolver }))).toBeInstanceOf(MongoParseError);
      expect(resolver.queries).toEqual([]);
    }
  });

  it('allows SRV names with fewer than three labels', async () => {
    const resolver = fakeResolver({ srv: { '_mongodb._tcp.localhost': srv(['db.localhost', 27017]) } });
    const o = await parseOptions('mongodb+srv://localhost', undefined, { srvResolver: resolver });
    expect(o.hosts.map(formatHostAddress)).toEqual(['db.localhost:27017']);
  });
});
