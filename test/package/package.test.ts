/**
 * The published package shape: built with scripts/build.js into a temporary node_modules, then
 * used the way users use it — `require('mongowire')`, `import … from 'mongowire'`, and a
 * TypeScript consumer that type-checks against the shipped declarations (ESM and CJS resolution).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');
const WORK = path.join(ROOT, '.bench-tmp', `package-test-${process.pid}`);
const PKG = path.join(WORK, 'node_modules', 'mongowire');

function run(args: string[], cwd = WORK): { status: number | null; out: string } {
  const r = spawnSync(process.execPath, args, { cwd, encoding: 'utf8' });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

beforeAll(() => {
  fs.rmSync(WORK, { recursive: true, force: true });
  fs.mkdirSync(PKG, { recursive: true });
  fs.writeFileSync(path.join(WORK, 'package.json'), '{ "name": "consumer", "private": true }\n');
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as Record<string, unknown>;
  const { name, version, main, types, exports, dependencies, engines } = pkg;
  fs.writeFileSync(path.join(PKG, 'package.json'), JSON.stringify({ name, version, main, types, exports, dependencies, engines }, null, 2));
  const build = run([path.join(ROOT, 'scripts', 'build.js'), '--out', path.join(PKG, 'dist')], ROOT);
  expect(build.status).toBe(0);
}, 120_000);

afterAll(() => fs.rmSync(WORK, { recursive: true, force: true }));

test('require() from CommonJS', () => {
  const r = run(['-e', "const { MongoClient, MongoParseError, ObjectId } = require('mongowire'); new MongoClient('mongodb://h/'); console.log(typeof MongoClient, new MongoParseError('x').name, typeof ObjectId)"]);
  expect(r.out.trim()).toBe('function MongoParseError function');
});

test('import from an ES module (named and default exports)', () => {
  fs.writeFileSync(path.join(WORK, 'esm.mjs'), "import mongowire, { MongoClient, GridFSBucket } from 'mongowire';\nconsole.log(typeof MongoClient, typeof GridFSBucket, mongowire.MongoClient === MongoClient);\n");
  const r = run(['esm.mjs']);
  expect(r.out.trim()).toBe('function function true');
});

test('the runtime dependencies are only bson and @mongodb-js/saslprep', () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(PKG, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
  expect(Object.keys(pkg.dependencies).sort()).toEqual(['@mongodb-js/saslprep', 'bson']);
});

test.each(['node16', 'bundler'])('a TypeScript consumer type-checks against the shipped declarations (moduleResolution %s)', (resolution) => {
  const dir = path.join(WORK, `ts-${resolution}`);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(
    path.join(dir, 'app.ts'),
    [
      "import { MongoClient, type Collection, type Filter } from 'mongowire';",
      'interface Pet { name: string; age: number }',
      "const client = new MongoClient('mongodb://localhost');",
      "const pets: Collection<Pet> = client.db('x').collection<Pet>('pets');",
      'const filter: Filter<Pet> = { age: { $gt: 1 } };',
      'export async function main(): Promise<number> { const pet = await pets.findOne(filter); return pet?.age ?? 0; }',
      "// @ts-expect-error age is a number\nexport const bad: Filter<Pet> = { age: 'old' };",
      ''
    ].join('\n')
  );
  const module = resolution === 'node16' ? 'node16' : 'esnext';
  const r = run(
    [require.resolve('typescript/bin/tsc'), '--noEmit', '--strict', '--skipLibCheck', 'false', '--module', module, '--moduleResolution', resolution, '--target', 'es2022', '--types', 'node', '--typeRoots', path.join(ROOT, 'node_modules', '@types'), 'app.ts'],
    dir
  );
  expect(r.out).toBe('');
  expect(r.status).toBe(0);
});
