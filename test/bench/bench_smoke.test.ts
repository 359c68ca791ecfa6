/**
 * Smoke test of the benchmark: `bench/run.ts --quick` (tiny counts, one round) builds mongowire,
 * starts the canned server in its own process, runs every task for both drivers, the floor and
 * the footprint measurements, prints the tables and exits cleanly.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');
/** A private build/work directory, so concurrent bench runs do not rebuild each other's package. */
const WORK_DIR = path.join(ROOT, '.bench-tmp', `smoke-${process.pid}`);

afterAll(() => fs.rmSync(WORK_DIR, { recursive: true, force: true }));

function runQuickBench(): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'bench', 'run.ts'), '--quick'], {
      cwd: ROOT,
      env: { ...process.env, MONGODB_URI: '', MONGOWIRE_BENCH_DIR: WORK_DIR },
      stdio: ['ignore', 'pipe', 'pipe']
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('bench --quick', () => {
  test('runs every task for both drivers and prints the comparison tables', async () => {
    const { code, stdout, stderr } = await runQuickBench();
    expect({ code, stderr: code === 0 ? '' : stderr }).toEqual({ code: 0, stderr: '' });

    expect(stdout).toContain('QUICK smoke run');
    expect(stdout).toContain('canned zero-latency server');
    expect(stdout).toMatch(/machine: \d+ CPUs/);
    expect(stdout).toContain('ratio = mongowire / official');

    // Every throughput row has numbers for both drivers and a ratio, or says why it is n/a.
    const rows = ['ping (db.command)', 'findOne by _id', 'insertOne (small doc)', 'insertMany', 'findManyAndEmptyCursor', 'find().toArray()', 'concurrent findOne', 'GridFS upload', 'GridFS download', 'cold start'];
    for (const name of rows) {
      const line = stdout.split('\n').find((l) => l.startsWith(name));
      expect(line).toBeDefined();
      expect(line).toMatch(/\d[\d,.]*\s+\d[\d,.]*\s+\d+\.\d\d×|n\/a \(/);
      expect(line).not.toContain('error:');
    }

    expect(stdout).toMatch(/bare-socket floor .*: [\d,]+ ops\/s/);
    expect(stdout).toMatch(/mongowire findOne = \d+% of the floor/);
    expect(stdout).toMatch(/import time \(require in fresh node\)\s+[\d.]+ ms\s+[\d.]+ ms/);
    expect(stdout).toMatch(/installed size with runtime deps\s+[\d.]+ MB\s+[\d.]+ MB/);
    expect(stdout).toMatch(/peak RSS iterating the large cursor\s+[\d.]+ MB\s+[\d.]+ MB/);
    expect(stdout).toMatch(/mongowire: mongowire [\d.]+ MB, .*bson/);
  }, 180_000);
});
