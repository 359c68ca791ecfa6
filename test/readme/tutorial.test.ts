/**
 * The tutorial (examples/tutorial.ts, what `npm run demo` runs and README.md's "Tutorial" shows)
 * against a mini mongod, and README.md's "Serving GridFS files over HTTP" block run as written
 * but for three literals (see `gridfsSnippet`).
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { runTutorial } from '../../examples/tutorial';
import { MongoClient } from '../../src';
import { MiniMongod } from '../tools/mini_mongod';
import { readmeSnippet, runSnippet, snippetRequire, substituteOnce } from './snippet';

describe('examples/tutorial.ts', () => {
  let mini: MiniMongod;
  beforeEach(async () => {
    mini = await MiniMongod.start({ type: 'standalone' });
  });
  afterEach(async () => {
    await mini.close();
  });

  test('every step logs what the data says', async () => {
    const lines: string[] = [];
    await runTutorial(`mongodb://${mini.address}`, (line) => lines.push(line));

    // 1 + 2000 documents: i = 0..2000; insertMany's n-th document has i = n + 1 and the tag of n's parity.
    // updateMany shifts i > 100 by one, so deleteMany({i >= 1000}) removes the originals 999..2000 (1002);
    // 998 of the 999 left are tagged (i = 0 and the replaced i = 52 are not): n = 0..997 but 51.
    expect(lines).toEqual([
      expect.stringMatching(/^insertOne: _id [0-9a-f]{24}$/),
      'insertMany: 2000 documents',
      'findOne({i: {$lt: 1}}): i=0 key=value',
      'find({i: {$lt: 5}}).sort({i: -1}): 4, 3, 2, 1, 0',
      `for await over i >= 1990: sum ${(1990 + 2000) * 11 / 2}`,
      'countDocuments({}): 2001',
      'countDocuments({i: {$gt: 1000}}): 1000',
      'updateOne: matched 1, modified 1',
      'replaceOne: modified 1',
      'updateMany: modified 1900',
      'deleteMany: deleted 1002',
      'remaining: 999',
      'buildInfo: MongoDB 8.0.0',
      'aggregate by tag: even=499, odd=498'
    ]);
    // The batchSize 4 loop over 11 documents took getMores; every cursor was drained or killed.
    expect(mini.server.commands('getMore').length).toBeGreaterThanOrEqual(2);
    expect(mini.openCursorCount).toBe(0);
    expect(mini.exists('mongowire_tutorial', 'test_collection')).toBe(false);
  });
});

describe('README "Serving GridFS files over HTTP"', () => {
  let mini: MiniMongod;
  let dir: string;
  beforeEach(async () => {
    mini = await MiniMongod.start({ type: 'primary', setName: 'rs0' });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mongowire-readme-'));
  });
  afterEach(async () => {
    await mini.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /**
   * The block with exactly these substitutions (each literal must occur once):
   * - `'mongodb://localhost:27017/?replicaSet=rs0'` → the mini mongod, a primary of replica set rs0;
   * - `'./logo.png'` → a temporary file's absolute path;
   * - `.listen(8080)` → `.listen(0)` (any free port).
   */
  function gridfsSnippet(logo: string): string {
    let code = readmeSnippet('Serving GridFS files over HTTP');
    code = substituteOnce(code, "'mongodb://localhost:27017/?replicaSet=rs0'", JSON.stringify(`mongodb://${mini.address}/?replicaSet=rs0`));
    code = substituteOnce(code, "'./logo.png'", JSON.stringify(logo));
    code = substituteOnce(code, '.listen(8080)', '.listen(0)');
    return code;
  }

  test('uploads the file and serves its bytes over HTTP', async () => {
    const logo = path.join(dir, 'logo.png');
    const bytes = Buffer.from(Array.from({ length: 300 * 1024 + 17 }, (_, i) => (i * 31) % 256)); // more than one 255 KiB chunk
    fs.writeFileSync(logo, bytes);

    // The snippet neither closes its client nor hands out its server: these wrappers keep hold of both.
    const servers: http.Server[] = [];
    const clients: MongoClient[] = [];
    const mongowire = require('../../src') as typeof import('../../src');
    const trackedMongowire = {
      ...mongowire,
      MongoClient: class extends mongowire.MongoClient {
        constructor(...args: ConstructorParameters<typeof mongowire.MongoClient>) {
          super(...args);
          clients.push(this);
        }
      }
    };
    const trackedHttp = {
      ...http,
      createServer: (...args: Parameters<typeof http.createServer>) => {
        const server = http.createServer(...args);
        servers.push(server);
        return server;
      }
    };

    try {
      await runSnippet(gridfsSnippet(logo), {
        require: snippetRequire({ mongowire: trackedMongowire, 'node:http': trackedHttp }),
        console: { log: jest.fn(), error: jest.fn(), warn: jest.fn() }
      });
      expect(servers).toHaveLength(1);
      expect(clients).toHaveLength(1);
      const server = servers[0];
      if (!server.listening) await new Promise<void>((resolve) => server.once('listening', () => resolve()));
      const { port } = server.address() as { port: number };

      // Stored as the snippet says: bucket "assets" of database "site", two chunks.
      const [file] = mini.docs('site', 'assets.files');
      expect(file).toMatchObject({ filename: 'img/logo.png', length: bytes.length, metadata: { contentType: 'image/png' } });
      expect(mini.docs('site', 'assets.chunks')).toHaveLength(2);

      const response = await fetch(`http://127.0.0.1:${port}/files/img/logo.png`);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('image/png');
      expect(response.headers.get('cache-control')).toBe('public, max-age=3600');
      expect(Buffer.from(await response.arrayBuffer()).equals(bytes)).toBe(true);
      expect((await fetch(`http://127.0.0.1:${port}/files/img/missing.png`)).status).toBe(404);
    } finally {
      await Promise.all(servers.map((s) => new Promise<void>((resolve) => (s.listening ? s.close(() => resolve()) : resolve()))));
      for (const s of servers) s.closeAllConnections();
      await Promise.all(clients.map((c) => c.close()));
    }
  });
});
