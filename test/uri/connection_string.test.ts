import { inspect } from 'node:util';
import { buildMongoOptions, parseConnectionString, parseOptions } from '../../src/connection_string';
import { MongoInvalidArgumentError, MongoParseError } from '../../src/errors';
import { formatHostAddress, type MongoClientOptions, type MongoOptions } from '../../src/mongo_client_options';

/** Synchronous parse of a mongodb:// URI (no DNS). */
function parse(uri: string, options?: MongoClientOptions): MongoOptions {
  return buildMongoOptions(parseConnectionString(uri), options);
}

function parseError(uri: string, options?: MongoClientOptions): Error {
  try {
    parse(uri, options);
  } catch (error) {
    return error as Error;
  }
  throw new Error(`expected ${uri} to be rejected`);
}

describe('password redaction', () => {
  const SECRET = 'Zq9xSecretPw';

  const badUris = [
    `mongodb://alice:${SECRET}@localhost:99999`, // bad port
    `mongodb://alice:${SECRET}@localhost/?authMechanism=NOPE`, // unknown mechanism
    `mongodb://alice:${SECRET}/x@localhost`, // unescaped "/" in the password
    `mongodb://alice:${SECRET}?x@localhost`, // unescaped "?" in the password
    `mongodb://alice:${SECRET}:more@localhost`, // unescaped ":" in the password
    `mongodb://alice:${SECRET}@@localhost`, // unescaped "@"
    `mongodb://alice:${SECRET}%zz@localhost`, // bad percent-encoding
    `mongodb://alice:${SECRET}@localhost/?tlsInsecure=true&tlsAllowInvalidCertificates=true`,
    `mongodb://alice:${SECRET}@localhost/?authMechanism=MONGODB-X509`, // password not allowed
    `mongodb://alice:${SECRET}@a,b/?directConnection=true`,
    `mongodb://alice:${SECRET}@localhost/db$x`,
    `mongodb://alice:${SECRET}@[::1`,
    `mongodb://alice:${SECRET}@%2Ftmp%2Fsock`
  ];

  it.each(badUris)('never puts the password in the error for %#', (uri) => {
    const error = parseError(uri);
    expect(error).toBeInstanceOf(MongoParseError);
    expect(error.message).not.toContain(SECRET);
    expect(error.message).not.toContain(SECRET.slice(0, 6));
    expect(String(error.stack)).not.toContain(SECRET);
  });

  it('names the offending key or host when it is not part of the userinfo', () => {
    expect(parseError('mongodb://localhost:99999').message).toContain('localhost');
    expect(parseError('mongodb://example.com/?w').message).toContain('"w"');
  });

  it('redacts userinfo fragments that end up in warnings', () => {
    // An unescaped "?" in the password moves its tail into the query string.
    const error = parseError(`mongodb://alice:ab?${SECRET}=1@localhost`);
    expect(error.message).not.toContain(SECRET);
  });

  it('does not reveal the password when options or credentials are logged', () => {
    const options = parse(`mongodb://alice:${SECRET}@localhost/?tlsCertificateKeyFilePassword=kfp`);
    expect(options.credentials?.password).toBe(SECRET);
    expect(JSON.stringify(options.credentials)).not.toContain(SECRET);
    expect(inspect(options.credentials)).not.toContain(SECRET);
    expect(JSON.stringify(options)).not.toContain(SECRET);
  });

  it('does not echo secret option values in warnings', () => {
    const options = parse('mongodb://localhost/?proxyHost=p&proxyUsername=u&proxyPassword=Pp1Secret&proxyPassword=Pp2Secret');
    expect(options.warnings.join('\n')).not.toMatch(/Pp\dSecret/);
  });
});

describe('hosts', () => {
  it('parses IPv6 literals with and without ports', () => {
    const { hosts } = parse('mongodb://[::1]:27018,[2001:DB8::1],example.COM:1');
    expect(hosts).toEqual([
      { host: '::1', port: 27018, type: 'ip_literal' },
      { host: '2001:db8::1', port: 27017, type: 'ip_literal' },
      { host: 'example.com', port: 1, type: 'hostname' }
    ]);
    expect(hosts.map(formatHostAddress)).toEqual(['[::1]:27018', '[2001:db8::1]:27017', 'example.com:1']);
  });

  it('rejects unbracketed or malformed IPv6 and bad ports', () => {
    for (const uri of ['mongodb://::1', 'mongodb://[::1', 'mongodb://[nope]:1', 'mongodb://[::1]x', 'mongodb://h:0', 'mongodb://h:', 'mongodb://a,,b']) {
      expect(parseError(uri)).toBeInstanceOf(MongoParseError);
    }
  });

  it('parses Unix domain sockets (absolute and relative) and keeps their case', () => {
    const options = parse('mongodb://u:p@%2Ftmp%2FMongo-27017.sock,rel%2Fa.b%2Fm.sock/admin?w=1');
    expect(options.hosts).toEqual([
      { host: '/tmp/Mongo-27017.sock', type: 'unix' },
      { host: 'rel/a.b/m.sock', type: 'unix' }
    ]);
    expect(options.hosts.map(formatHostAddress)).toEqual(['/tmp/Mongo-27017.sock', 'rel/a.b/m.sock']);
    expect(options.dbName).toBe('admin');
    expect(options.credentials?.source).toBe('admin');
  });

  it('requires socket paths to be URL encoded and to end in .sock', () => {
    expect(parseError('mongodb:///tmp/mongodb-27017.sock').message).toMatch(/no host/);
    expect(parseError('mongodb://%2Ftmp%2Fmongodb').message).toMatch(/\.sock/);
    expect(parseError('mongodb://%2Ftmp%2Fm.sock:27017').message).toMatch(/port/);
  });

  it('accepts an options part without a slash', () => {
    expect(parse('mongodb://example.com?tls=true').tls).toBe(true);
  });
});

describe('options', () => {
  it('applies defaults', () => {
    const o = parse('mongodb://localhost');
    expect(o).toMatchObject({
      dbName: 'test',
      maxPoolSize: 100,
      minPoolSize: 0,
      maxConnecting: 2,
      heartbeatFrequencyMS: 10000,
      serverSelectionTimeoutMS: 30000,
      localThresholdMS: 15,
      connectTimeoutMS: 30000,
      socketTimeoutMS: 0,
      retryReads: true,
      retryWrites: true,
      serverMonitoringMode: 'auto',
      readPreference: { mode: 'primary' },
      writeConcern: {},
      readConcern: {},
      compressors: [],
      tls: false,
      directConnection: false,
      loadBalanced: false,
      srvMaxHosts: 0,
      srvServiceName: 'mongodb',
      warnings: []
    });
    expect(o.credentials).toBeUndefined();
  });

  it('matches keys case-insensitively and percent-decodes values', () => {
    const o = parse('mongodb://localhost/?REPLICASET=rs%2F1&appName=my%20app&ReadConcernLevel=majority');
    expect(o.replicaSet).toBe('rs/1');
    expect(o.appName).toBe('my app');
    expect(o.readConcern).toEqual({ level: 'majority' });
  });

  it('keeps readPreferenceTags in order, with an empty value meaning {}', () => {
    const o = parse('mongodb://h/?readPreference=secondary&readPreferenceTags=dc:ny,rack:1&readPreferenceTags=dc:sf&readPreferenceTags=');
    expect(o.readPreference).toEqual({ mode: 'secondary', tags: [{ dc: 'ny', rack: '1' }, { dc: 'sf' }, {}] });
  });

  it('warns on repeated keys and uses the last value', () => {
    const o = parse('mongodb://h/?appname=a&appName=b');
    expect(o.appName).toBe('b');
    expect(o.warnings.some((w) => /Repeated/.test(w))).toBe(true);
  });

  it('handles deprecated keys and legacy booleans with warnings', () => {
    expect(parse('mongodb://h/?wtimeout=5').writeConcern).toEqual({ wtimeoutMS: 5 });
    const both = parse('mongodb://h/?wtimeout=5&wtimeoutMS=10');
    expect(both.writeConcern).toEqual({ wtimeoutMS: 10 });
    expect(both.warnings.length).toBe(1);
    const legacy = parse('mongodb://h/?journal=y');
    expect(legacy.writeConcern).toEqual({ journal: true });
    expect(legacy.warnings[0]).toMatch(/Deprecated boolean/);
    const gssapi = parse('mongodb://u@h/?authMechanism=GSSAPI&gssapiServiceName=svc');
    expect(gssapi.credentials?.mechanismProperties.SERVICE_NAME).toBe('svc');
  });

  it('keeps known compressors in order and warns about unknown ones', () => {
    const o = parse('mongodb://h/?compressors=zstd,lz4,snappy,zlib&zlibCompressionLevel=4');
    expect(o.compressors).toEqual(['zstd', 'snappy', 'zlib']);
    expect(o.zlibCompressionLevel).toBe(4);
    expect(o.warnings).toHaveLength(1);
    expect(o.warnings[0]).toContain('lz4');
  });

  it('parses authMechanismProperties, allowing ":" in values', () => {
    const o = parse('mongodb://h/?authMechanism=MONGODB-OIDC&authMechanismProperties=ENVIRONMENT:azure,token_resource:mongodb://x');
    expect(o.credentials?.mechanismProperties).toMatchObject({ ENVIRONMENT: 'azure', TOKEN_RESOURCE: 'mongodb://x' });
  });

  it('validates read preference combinations', () => {
    expect(parseError('mongodb://h/?maxStalenessSeconds=120')).toBeInstanceOf(MongoParseError);
    expect(parseError('mongodb://h/?readPreference=primary&readPreferenceTags=dc:ny')).toBeInstanceOf(MongoParseError);
    expect(parse('mongodb://h/?readPreference=primary&maxStalenessSeconds=-1').readPreference).toEqual({ mode: 'primary' });
    expect(parse('mongodb://h/?readPreference=secondary&maxStalenessSeconds=1').readPreference).toEqual({ mode: 'secondary', maxStalenessSeconds: 1 });
  });

  it('validates write concern', () => {
    expect(parseError('mongodb://h/?w=-2')).toBeInstanceOf(MongoParseError);
    expect(parseError('mongodb://h/?w=0&journal=true')).toBeInstanceOf(MongoParseError);
    expect(parse('mongodb://h/?w=majority&wTimeoutMS=100&journal=true').writeConcern).toEqual({ w: 'majority', wtimeoutMS: 100, journal: true });
  });

  it('enforces directConnection, loadBalanced and SRV-only rules', () => {
    expect(parseError('mongodb://a,b/?directConnection=true').message).toMatch(/directConnection/);
    expect(parseError('mongodb://a,b/?loadBalanced=true').message).toMatch(/loadBalanced/);
    expect(parseError('mongodb://a/?loadBalanced=true&replicaSet=rs').message).toMatch(/replicaSet/);
    expect(parseError('mongodb://a/?srvMaxHosts=1').message).toMatch(/srvMaxHosts/);
    expect(parseError('mongodb://a/?srvServiceName=x').message).toMatch(/srvServiceName/);
    expect(parse('mongodb://a,b/?directConnection=false').directConnection).toBe(false);
  });

  it('enforces TLS option conflicts and tls/ssl agreement', () => {
    expect(parseError('mongodb://a/?tlsInsecure=true&tlsAllowInvalidHostnames=false')).toBeInstanceOf(MongoParseError);
    expect(parseError('mongodb://a/?tls=true&ssl=false')).toBeInstanceOf(MongoParseError);
    expect(parseError('mongodb://a/', { tls: true, ssl: false })).toBeInstanceOf(MongoParseError);
    // A conflict between the URI and code is still a conflict.
    expect(parseError('mongodb://a/?tlsInsecure=true', { tlsAllowInvalidCertificates: true })).toBeInstanceOf(MongoParseError);
    const insecure = parse('mongodb://a/?tls=true&tlsInsecure=true');
    expect(insecure).toMatchObject({ tls: true, tlsInsecure: true, tlsAllowInvalidCertificates: true, tlsAllowInvalidHostnames: true });
    expect(parse('mongodb://a/?tlsCAFile=ca.pem').tls).toBe(true);
    expect(parse('mongodb://a/?tlsCAFile=ca.pem&tls=false').tls).toBe(false);
  });

  it('validates proxy options', () => {
    expect(parseError('mongodb://a/?proxyPort=1080')).toBeInstanceOf(MongoParseError);
    expect(parseError('mongodb://a/?proxyHost=p&proxyUsername=u')).toBeInstanceOf(MongoParseError);
    expect(parse('mongodb://a/?proxyHost=p')).toMatchObject({ proxyHost: 'p', proxyPort: 1080 });
    expect(parse('mongodb://a/?proxyHost=p&proxyUsername=&proxyPassword=').proxyUsername).toBeUndefined();
  });

  it('does not accept serverApi from the connection string', () => {
    const o = parse('mongodb://a/?serverApi=1&apiVersion=1');
    expect(o.serverApi).toBeUndefined();
    expect(o.warnings).toHaveLength(2);
  });

  it('rejects minPoolSize above maxPoolSize', () => {
    expect(parseError('mongodb://a/?minPoolSize=10&maxPoolSize=5')).toBeInstanceOf(MongoParseError);
    expect(parse('mongodb://a/?minPoolSize=10&maxPoolSize=0').minPoolSize).toBe(10);
  });
});

describe('options passed in code', () => {
  it('override the connection string', () => {
    const o = parse('mongodb://u:p@a/db?w=1&retryWrites=false&readPreference=secondary&readPreferenceTags=dc:ny&tls=false&appName=uri', {
      w: 'majority',
      retryWrites: true,
      readPreferenceTags: [{ dc: 'sf' }],
      tls: true,
      appName: 'code',
      auth: { username: 'codeUser', password: 'codePw' }
    });
    expect(o.writeConcern).toEqual({ w: 'majority' });
    expect(o.retryWrites).toBe(true);
    expect(o.readPreference).toEqual({ mode: 'secondary', tags: [{ dc: 'sf' }] });
    expect(o.tls).toBe(true);
    expect(o.appName).toBe('code');
    expect(o.credentials).toMatchObject({ username: 'codeUser', password: 'codePw', source: 'db' });
  });

  it('accept a read preference object, which replaces the URI tags', () => {
    const o = parse('mongodb://a/?readPreference=secondary&readPreferenceTags=dc:ny', {
      readPreference: { mode: 'nearest', tags: [{ rack: '1' }], maxStalenessSeconds: 100 }
    });
    expect(o.readPreference).toEqual({ mode: 'nearest', tags: [{ rack: '1' }], maxStalenessSeconds: 100 });
    expect(parse('mongodb://a/?readPreferenceTags=dc:ny', { readPreference: 'secondary' }).readPreference).toEqual({
      mode: 'secondary',
      tags: [{ dc: 'ny' }]
    });
  });

  it('accept writeConcern/readConcern objects and flat options with flat options winning', () => {
    const o = parse('mongodb://a/?w=1&journal=false', { writeConcern: { w: 2, wtimeout: 5, j: true }, journal: false, readConcern: { level: 'local' } });
    expect(o.writeConcern).toEqual({ w: 2, wtimeoutMS: 5, journal: false });
    expect(o.readConcern).toEqual({ level: 'local' });
  });

  it('accept serverApi and code-only options', () => {
    const o = parse('mongodb://a', { serverApi: { version: '1', strict: true }, monitorCommands: true, minHeartbeatFrequencyMS: 50, compressors: 'zlib,snappy' });
    expect(o.serverApi).toEqual({ version: '1', strict: true });
    expect(o.monitorCommands).toBe(true);
    expect(o.minHeartbeatFrequencyMS).toBe(50);
    expect(o.compressors).toEqual(['zlib', 'snappy']);
    expect(parse('mongodb://a', { serverApi: '1' }).serverApi).toEqual({ version: '1' });
  });

  it('reject malformed values with MongoInvalidArgumentError', () => {
    const bad: MongoClientOptions[] = [
      { maxPoolSize: -1 },
      { retryReads: 'maybe' as unknown as boolean },
      { readPreference: 'sometimes' as never },
      { serverApi: { version: '2' as never } },
      { readPreferenceTags: 'dc:ny' as never },
      { compressors: ['lz4' as never] },
      { heartbeatFrequencyMS: 1.5 }
    ];
    for (const options of bad) expect(parseError('mongodb://a', options)).toBeInstanceOf(MongoInvalidArgumentError);
  });

  it('accept string values for typed options, as in the URI', () => {
    expect(parse('mongodb://a', { maxPoolSize: '7' as unknown as number }).maxPoolSize).toBe(7);
  });

  it('warn about unknown option names', () => {
    expect(parse('mongodb://a', { notAnOption: 1 } as MongoClientOptions).warnings).toEqual(['Unsupported client option "notAnOption"']);
  });
});

describe('parseOptions', () => {
  it('resolves mongodb:// URIs without DNS', async () => {
    const o = await parseOptions('mongodb://localhost:27018/app', { maxPoolSize: 5 });
    expect(o.hosts.map(formatHostAddress)).toEqual(['localhost:27018']);
    expect(o.maxPoolSize).toBe(5);
    expect(o.dbName).toBe('app');
  });

  it('refuses to build SRV options without resolution', () => {
    expect(() => buildMongoOptions(parseConnectionString('mongodb+srv://a.b.c'))).toThrow(MongoInvalidArgumentError);
  });
});
