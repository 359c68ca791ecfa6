/** The real-server harness when no deployment can be had: one clear line, tried once. */
describe('test/tools/mongod.ts without a deployment', () => {
  const saved = { uri: process.env.MONGODB_URI, binary: process.env.MONGOMS_SYSTEM_BINARY };
  beforeAll(() => {
    delete process.env.MONGODB_URI;
    process.env.MONGOMS_SYSTEM_BINARY = '/nonexistent/bin/mongod';
  });
  afterAll(() => {
    if (saved.uri === undefined) delete process.env.MONGODB_URI;
    else process.env.MONGODB_URI = saved.uri;
    if (saved.binary === undefined) delete process.env.MONGOMS_SYSTEM_BINARY;
    else process.env.MONGOMS_SYSTEM_BINARY = saved.binary;
  });

  test('reports unavailability in one line saying how to enable the tests, and caches it', async () => {
    let mongod!: typeof import('../tools/mongod');
    jest.isolateModules(() => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      mongod = require('../tools/mongod');
    });
    const first = await mongod.getMongoDeployment('single');
    expect(first.available).toBe(false);
    if (first.available) return;
    expect(first.reason).not.toContain('\n');
    expect(first.reason).toMatch(/^no MongoDB deployment: MONGODB_URI is not set/);
    expect(first.reason).toContain('MONGOMS_SYSTEM_BINARY=/nonexistent/bin/mongod is not usable');
    expect(first.reason).toMatch(/set MONGODB_URI=mongodb:\/\/.* or MONGOMS_SYSTEM_BINARY=\/path\/to\/mongod/);
    const started = Date.now();
    const second = await mongod.getMongoDeployment('single');
    expect(second).toEqual(first);
    expect(Date.now() - started).toBeLessThan(50);
    await mongod.stopMongoDeployments();
  });

  test('MONGODB_URI wins without starting anything', async () => {
    process.env.MONGODB_URI = 'mongodb://127.0.0.1:1/?replicaSet=rs0';
    try {
      const { getMongoDeployment } = await import('../tools/mongod');
      await expect(getMongoDeployment('replicaset')).resolves.toEqual({ available: true, uri: 'mongodb://127.0.0.1:1/?replicaSet=rs0', source: 'MONGODB_URI' });
    } finally {
      delete process.env.MONGODB_URI;
    }
  });
});
