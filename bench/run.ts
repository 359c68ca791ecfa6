/**
 * mongowire vs the official `mongodb` driver, in one run.
 *
 *   npx tsx bench/run.ts [--quick] [--rounds N] [--only name,name] [--no-build] [--json out.json]
 *                        [--driver mongowire|official]   (one driver only, for profiling)
 *
 * By default every task runs against a zero-latency canned server in its own process
 * (bench/canned_server.ts), so the numbers are client-side cost; with MONGODB_URI set the same
 * tasks run against that deployment (database `bench` is dropped and seeded first). Each round
 * runs each driver once per task, alternating which goes first; after one warm-up round (not in
 * --quick) the table shows the median and [min–max] of the rounds. Throughput is reported (higher
 * is better) and ratio = mongowire throughput / official throughput.
 *
 * Also measured: a bare-socket floor (pre-built OP_MSG find, sequential round trips), import time,
 * installed size with runtime dependencies, and peak RSS while iterating the large cursor.
 */
import { fork, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { ObjectId } from 'bson';
import { MONGOWIRE_DIR, buildMongowire, transpileChild } from './build';
import { DB_NAME, GRIDFS_BUCKET, SINGLE_COLLECTION, SINGLE_ID, corpusCollection, smallDoc } from './dataset';
import { loadDrivers, type Driver, type DriverName } from './drivers';
import { BareSocket } from './floor';
import { installedSize, measureImport, measurePeakRss, type RssSample } from './footprint';
import { formatBytes, formatNumber, formatSummary, renderTable, summarize, type Summary } from './stats';
import { FULL_SIZES, QUICK_SIZES, TASKS, type DriverSession, type Sample, type Sizes, type Task } from './tasks';

interface Options {
  quick: boolean;
  rounds: number;
  only: string[] | null;
  build: boolean;
  json: string | null;
  uri: string | null;
  /** Only this driver (for profiling one driver; ratios become n/a). */
  driver: DriverName | null;
}

function parseArgs(argv: string[]): Options {
  const value = (flag: string) => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const quick = argv.includes('--quick');
  return {
    quick,
    rounds: Number(value('--rounds') ?? (quick ? 1 : 7)),
    only: value('--only')?.split(',').map((s) => s.trim().toLowerCase()) ?? null,
    build: !(argv.includes('--no-build') && fs.existsSync(path.join(MONGOWIRE_DIR, 'dist', 'cjs', 'index.js'))),
    json: value('--json') ?? null,
    uri: process.env.MONGODB_URI || null,
    driver: (value('--driver') as DriverName | undefined) ?? null
  };
}

const MAX_RSS_SIZE_BYTES = 3.5e6;
const SIZE_TARGET_LABEL = '≤ 3.5 MB';

/** A `gc()` even without --expose-gc, run between measurements so one driver's garbage is not billed to the other. */
const collectGarbage: () => void = (() => {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as (() => void) | undefined;
  return gc ?? (() => undefined);
})();

// ---- servers -----------------------------------------------------------------------------------

interface Target {
  uri: string;
  host: string;
  port: number;
  gridfsFileId: unknown;
  stop(): Promise<void>;
}

async function startCannedServer(sizes: Sizes): Promise<Target> {
  const child: ChildProcess = fork(
    path.join(__dirname, 'canned_server.ts'),
    ['--corpus', String(Math.max(sizes.cursorDocs, sizes.toArrayDocs)), '--gridfs-bytes', String(sizes.gridfsBytes)],
    { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }
  );
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (m: { port: number }) => resolve(m.port));
    child.once('exit', (code) => reject(new Error(`canned server exited with ${code}`)));
  });
  return {
    uri: `mongodb://127.0.0.1:${port}/?directConnection=true`,
    host: '127.0.0.1',
    port,
    gridfsFileId: new ObjectId(),
    stop: async () => {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.disconnect();
      await exited;
    }
  };
}

/** Seeds database `bench` of a real deployment with the official driver. */
async function seedRealServer(uri: string, sizes: Sizes, official: Driver): Promise<Target> {
  const { MongoClient, GridFSBucket } = official.mod;
  const client = new MongoClient(uri);
  const db = client.db(DB_NAME);
  await db.command({ dropDatabase: 1 });
  await db.collection(SINGLE_COLLECTION).insertOne!({ _id: SINGLE_ID, ...smallDoc(0) });
  for (const n of new Set([sizes.cursorDocs, sizes.toArrayDocs])) {
    for (let i = 0; i < n; i += 10_000) {
      await db.collection(corpusCollection(n)).insertMany!(Array.from({ length: Math.min(10_000, n - i) }, (_, k) => smallDoc(i + k)));
    }
  }
  let gridfsFileId: unknown = null;
  if (GridFSBucket) {
    const upload = new GridFSBucket(db, { bucketName: GRIDFS_BUCKET }).openUploadStream('seed.bin');
    upload.end(Buffer.alloc(sizes.gridfsBytes, 0x61));
    await new Promise((resolve, reject) => upload.on('finish', resolve).on('error', reject));
    gridfsFileId = upload.id;
  }
  await client.close();
  const url = new URL(uri.replace(/^mongodb(\+srv)?:/, 'http:'));
  return { uri, host: url.hostname.split(',')[0], port: Number(url.port || 27017), gridfsFileId, stop: async () => undefined };
}

async function openSession(driver: Driver, target: Target, sizes: Sizes): Promise<DriverSession> {
  const client = new driver.mod.MongoClient(target.uri);
  await client.connect();
  const poolClient = new driver.mod.MongoClient(target.uri, { maxPoolSize: sizes.poolSize });
  await poolClient.connect();
  const db = client.db(DB_NAME);
  await db.command({ ping: 1 });
  await poolClient.db(DB_NAME).command({ ping: 1 });
  return { driver, uri: target.uri, client, poolClient, db, gridfsFileId: target.gridfsFileId };
}

// ---- throughput tasks ------------------------------------------------------------------------

interface Participant {
  label: DriverName | 'floor';
  run(): Promise<Sample>;
}

interface TaskResult {
  task: string;
  unit: string;
  target?: number;
  status: string | null;
  throughput: Partial<Record<DriverName | 'floor', Summary>>;
  /** Client-process CPU (user + system) per unit, in microseconds: robust to a busy machine. */
  cpuPerUnit: Partial<Record<DriverName | 'floor', Summary>>;
  ratio: number;
}

async function measureTask(task: Task, sessions: DriverSession[], sizes: Sizes, options: Options, floor: BareSocket | null): Promise<TaskResult> {
  const result: TaskResult = { task: task.name, unit: task.unit, target: task.target, status: null, throughput: {}, cpuPerUnit: {}, ratio: NaN };
  for (const s of sessions) {
    const reason = task.unavailable(s);
    if (reason) {
      result.status = reason;
      return result;
    }
  }
  const participants: Participant[] = sessions.map((s) => ({ label: s.driver.name, run: () => task.run(s, sizes) }));
  if (floor && task.name === 'findOne by _id') {
    participants.push({ label: 'floor', run: async () => ({ units: sizes.ops, ms: await floor.roundTrips(sizes.ops) }) });
  }
  const samples = new Map<string, number[]>(participants.map((p) => [p.label, []]));
  const cpu = new Map<string, number[]>(participants.map((p) => [p.label, []]));
  const warmups = options.quick ? 0 : 1;
  try {
    for (let round = 0; round < warmups + options.rounds; round++) {
      const shift = round % participants.length;
      const order = [...participants.slice(shift), ...participants.slice(0, shift)];
      for (const p of order) {
        collectGarbage();
        const cpuStart = process.cpuUsage();
        const sample = await p.run();
        const used = process.cpuUsage(cpuStart);
        if (round >= warmups) {
          samples.get(p.label)!.push(sample.units / (sample.ms / 1000));
          cpu.get(p.label)!.push((used.user + used.system) / sample.units);
        }
      }
    }
  } catch (error) {
    result.status = `error: ${(error as Error).message}`;
    return result;
  }
  for (const [label, values] of samples) result.throughput[label as DriverName] = summarize(values);
  for (const [label, values] of cpu) result.cpuPerUnit[label as DriverName] = summarize(values);
  result.throughput.mongowire ??= summarize([]);
  result.throughput.official ??= summarize([]);
  result.ratio = (result.throughput.mongowire?.median ?? NaN) / (result.throughput.official?.median ?? NaN);
  return result;
}

function verdict(ok: boolean): string {
  return ok ? 'PASS' : 'FAIL';
}

// ---- footprint ---------------------------------------------------------------------------------

interface Footprint {
  importMs: Record<DriverName, Summary>;
  processMs: Record<DriverName, Summary>;
  size: Record<DriverName, ReturnType<typeof installedSize>>;
  rss: Record<DriverName, { peak: Summary; baseline: Summary }> | null;
  rssError?: string;
}

function measureFootprint(drivers: Driver[], target: Target, sizes: Sizes, options: Options): Footprint {
  const runs = options.quick ? 1 : 9;
  const importMs = { mongowire: [] as number[], official: [] as number[] };
  const processMs = { mongowire: [] as number[], official: [] as number[] };
  for (let i = 0; i < runs; i++) {
    for (const d of i % 2 === 0 ? drivers : [...drivers].reverse()) {
      const t = measureImport(d.dir);
      importMs[d.name].push(t.requireMs);
      processMs[d.name].push(t.processMs);
    }
  }
  const size = { mongowire: installedSize(MONGOWIRE_DIR), official: installedSize(drivers[1].dir) };

  let rss: Footprint['rss'] = null;
  let rssError: string | undefined;
  try {
    const child = transpileChild('rss_child.ts');
    const samples = { mongowire: [] as RssSample[], official: [] as RssSample[] };
    const rssRuns = options.quick ? 1 : 3;
    for (let i = 0; i < rssRuns; i++) {
      for (const d of i % 2 === 0 ? drivers : [...drivers].reverse()) {
        const sample = measurePeakRss(child, d.dir, target.uri, DB_NAME, corpusCollection(sizes.cursorDocs));
        if (sample.documents !== sizes.cursorDocs) throw new Error(`${d.name} iterated ${sample.documents} documents`);
        samples[d.name].push(sample);
      }
    }
    const pick = (name: DriverName) => ({
      peak: summarize(samples[name].map((s) => s.peakRss)),
      baseline: summarize(samples[name].map((s) => s.baselineRss))
    });
    rss = { mongowire: pick('mongowire'), official: pick('official') };
  } catch (error) {
    rssError = (error as Error).message.split('\n')[0];
  }
  return { importMs: { mongowire: summarize(importMs.mongowire), official: summarize(importMs.official) }, processMs: { mongowire: summarize(processMs.mongowire), official: summarize(processMs.official) }, size, rss, rssError };
}

// ---- report ------------------------------------------------------------------------------------

function machine(): string {
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  return `${os.availableParallelism()} CPUs (${cpu}), ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM, Node ${process.version}, ${os.type()} ${os.release()}`;
}

const CPU_UNIT: Record<Task['unit'], string> = { 'ops/s': 'µs/op', 'docs/s': 'µs/doc', 'MB/s': 'µs/MB' };

function throughputTable(results: TaskResult[]): string {
  const rows = results.map((r) => {
    if (r.status) return [r.task, r.unit, r.status, '', '', '', '', '', ''];
    const target = r.target !== undefined ? `≥ ${r.target.toFixed(1)}×` : '';
    const status = r.target !== undefined ? verdict(r.ratio >= r.target) : '';
    const mwCpu = r.cpuPerUnit.mongowire?.median ?? NaN;
    const offCpu = r.cpuPerUnit.official?.median ?? NaN;
    const cpu = `${formatNumber(mwCpu)} / ${formatNumber(offCpu)} ${CPU_UNIT[r.unit as Task['unit']]}`;
    return [r.task, r.unit, formatSummary(r.throughput.mongowire!), formatSummary(r.throughput.official!), `${r.ratio.toFixed(2)}×`, target, status, cpu, `${(offCpu / mwCpu).toFixed(2)}×`];
  });
  return renderTable(
    ['task', 'unit', 'mongowire median [min–max]', 'official median [min–max]', 'ratio', 'target', '', 'client CPU mw / official', 'CPU ratio'],
    rows
  );
}

function floorLine(results: TaskResult[]): string {
  const find = results.find((r) => r.task === 'findOne by _id');
  const floor = find?.throughput.floor;
  if (!find || !floor || find.status) return 'bare-socket floor: not measured (findOne task not run)';
  const mw = find.throughput.mongowire!.median / floor.median;
  const off = find.throughput.official!.median / floor.median;
  return (
    `bare-socket floor (pre-built OP_MSG find, sequential round trips): ${formatSummary(floor)} ops/s\n` +
    `  mongowire findOne = ${(mw * 100).toFixed(0)}% of the floor (target ≥ 70%: ${verdict(mw >= 0.7)}); official = ${(off * 100).toFixed(0)}%`
  );
}

function footprintTable(f: Footprint): string {
  const ms = (n: number) => `${n.toFixed(1)} ms`;
  const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}×`;
  const rows: string[][] = [
    [
      'import time (require in fresh node)',
      formatSummary(f.importMs.mongowire, ms),
      formatSummary(f.importMs.official, ms),
      ratio(f.importMs.mongowire.median, f.importMs.official.median),
      '≤ 0.50×',
      verdict(f.importMs.mongowire.median <= f.importMs.official.median / 2)
    ],
    [
      'process wall time (node -e require)',
      formatSummary(f.processMs.mongowire, ms),
      formatSummary(f.processMs.official, ms),
      ratio(f.processMs.mongowire.median, f.processMs.official.median),
      '',
      ''
    ],
    [
      'installed size with runtime deps',
      formatBytes(f.size.mongowire.bytes),
      formatBytes(f.size.official.bytes),
      ratio(f.size.mongowire.bytes, f.size.official.bytes),
      SIZE_TARGET_LABEL,
      verdict(f.size.mongowire.bytes <= MAX_RSS_SIZE_BYTES)
    ]
  ];
  if (f.rss) {
    const mb = (n: number) => formatBytes(n);
    rows.push([
      'peak RSS iterating the large cursor',
      formatSummary(f.rss.mongowire.peak, mb),
      formatSummary(f.rss.official.peak, mb),
      ratio(f.rss.mongowire.peak.median, f.rss.official.peak.median),
      '≤ 1.00×',
      verdict(f.rss.mongowire.peak.median <= f.rss.official.peak.median)
    ]);
    rows.push([
      '  (RSS after connect, before iterating)',
      formatSummary(f.rss.mongowire.baseline, mb),
      formatSummary(f.rss.official.baseline, mb),
      ratio(f.rss.mongowire.baseline.median, f.rss.official.baseline.median),
      '',
      ''
    ]);
  } else {
    rows.push(['peak RSS iterating the large cursor', `n/a (${f.rssError ?? 'not measured'})`, '', '', '', '']);
  }
  const sizes = (name: DriverName) => f.size[name].packages.map((p) => `${p.name} ${formatBytes(p.bytes)}`).join(', ');
  return (
    renderTable(['metric', 'mongowire', 'official', 'ratio (lower is better)', 'target', ''], rows) +
    `\n  size = sum of file sizes of the package dir and each runtime dependency dir (deduplicated, MB = 10^6 bytes):` +
    `\n    mongowire: ${sizes('mongowire')}\n    official: ${sizes('official')}`
  );
}

// ---- main --------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const sizes = options.quick ? QUICK_SIZES : FULL_SIZES;
  if (options.build) buildMongowire();
  const drivers = loadDrivers();
  const official = drivers.find((d) => d.name === 'official')!;

  const target = options.uri ? await seedRealServer(options.uri, sizes, official) : await startCannedServer(sizes);
  const sessions: DriverSession[] = [];
  let floor: BareSocket | null = null;
  try {
    for (const d of drivers) if (!options.driver || d.name === options.driver) sessions.push(await openSession(d, target, sizes));
    floor = await BareSocket.open(target.host, target.port);
    const tasks = TASKS.filter((t) => !options.only || options.only.some((o) => t.name.toLowerCase().includes(o)));
    const results: TaskResult[] = [];
    for (const task of tasks) {
      const result = await measureTask(task, sessions, sizes, options, floor);
      results.push(result);
      process.stderr.write(`  ${task.name}: ${result.status ?? `${result.ratio.toFixed(2)}×`}\n`);
    }
    for (const s of sessions) {
      await s.client.close();
      await s.poolClient.close();
    }
    sessions.length = 0;
    const footprint = options.only || options.driver ? null : measureFootprint(drivers, target, sizes, options);

    const server = options.uri ? `MONGODB_URI (${options.uri.replace(/\/\/[^@/]*@/, '//****@')})` : 'canned zero-latency server (own process)';
    const out = [
      `mongowire vs official mongodb driver — ${options.quick ? 'QUICK smoke run' : `${options.rounds} rounds after 1 warm-up`}, drivers alternating`,
      `machine: ${machine()}`,
      `server: ${server}`,
      `sizes: ${sizes.ops} sequential ops; insertMany ${sizes.insertManyDocs} docs × ${sizes.insertManyCalls}; cursor ${sizes.cursorDocs} docs; ` +
        `toArray ${sizes.toArrayDocs} docs × ${sizes.toArrayCalls}; ${sizes.concurrency} concurrent findOne × ${sizes.concurrentWaves} waves, pool ${sizes.poolSize}; ` +
        `GridFS ${sizes.gridfsBytes / 2 ** 20} MiB; ${sizes.coldStarts} cold starts`,
      'throughput (higher is better); ratio = mongowire / official throughput; client CPU = user+system CPU of the benchmark process per unit',
      '(median over rounds; CPU ratio = official CPU / mongowire CPU, higher is better — less sensitive to other load on the machine than wall-clock throughput)',
      '',
      throughputTable(results),
      '',
      floorLine(results)
    ];
    if (footprint) out.push('', footprintTable(footprint));
    process.stdout.write(out.join('\n') + '\n');
    if (options.json) fs.writeFileSync(options.json, JSON.stringify({ machine: machine(), sizes, results, footprint }, null, 2));
  } finally {
    floor?.close();
    for (const s of sessions) {
      await s.client.close().catch(() => undefined);
      await s.poolClient.close().catch(() => undefined);
    }
    await target.stop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${(error as Error)?.stack ?? String(error)}\n`);
  process.exitCode = 1;
});
