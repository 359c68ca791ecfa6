/**
 * `npm run soak` — a long run of mixed operations against a mock replica set with random faults.
 *
 *   npx tsx scripts/soak.ts [--minutes 10] [--concurrency 200] [--fault-rate 0.005]
 *                           [--chaos-every-s 15] [--max-rss-growth-mb 24]
 *
 * - 200 tasks loop over insertOne / insertMany / updateOne / findOne / ping until the deadline.
 * - Every member injects faults into a fraction of replies (reset or close before or after the
 *   write is applied, half-written replies, replies delayed past socketTimeoutMS, retryable
 *   NotWritablePrimary errors); a chaos timer steps the primary down, restarts members, takes a
 *   secondary away for a few seconds and, now and then, the whole set.
 * - The mock servers remember applied retryable writes by lsid+txnNumber (a retry is not applied
 *   twice) and check, by each task's monotonically increasing document sequence, that no logical
 *   write was ever applied twice.
 * - Reported: operations completed, errors by type, retries (operations whose `retried` flag was
 *   set by the executor), RSS and heap sampled every 5 s. Fails (exit 1) when an operation never
 *   settles, a logical write is applied twice, an unhandled rejection occurs, or RSS grows more
 *   than --max-rss-growth-mb along the trend line fitted over the second half of the run.
 */
import type { Binary, Document } from 'bson';
import { MongoClient } from '../src/mongo_client';
import type { AbstractOperation } from '../src/operations/operation';
import type { Collection } from '../src/collection';
import { MockAction, errorReply, type MockReply, type RecordedCommand } from '../test/tools/mock_server';
import { MockReplicaSet } from '../test/tools/mock_replica_set';
import { replyThenClose, retryableErrorReply, trapUnhandledRejections } from '../test/tools/fault_server';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const MINUTES = arg('minutes', 10);
const CONCURRENCY = arg('concurrency', 200);
const FAULT_RATE = arg('fault-rate', 0.005);
const CHAOS_EVERY_S = arg('chaos-every-s', 15);
const MAX_RSS_GROWTH_MB = arg('max-rss-growth-mb', 24);
const REPORT_EVERY_S = arg('report-every-s', 30);
const SOCKET_TIMEOUT_MS = 1000;
const SETTLE_GRACE_MS = 60_000;

// ------------------------------------------------------------------------------- the "storage"

/** Server-side memory of applied retryable writes (bounded) and the per-task duplicate check. */
class SoakStore {
  private readonly appliedKeys = new Map<string, number>();
  private readonly lastSeqByTask = new Map<string, number>();
  applied = 0;
  retriedArrivals = 0;
  duplicates: string[] = [];

  /** Applies a write command unless its lsid+txnNumber was applied already. */
  apply(request: RecordedCommand): Document {
    const body = request.body;
    const lsid = body.lsid as { id?: Binary } | undefined;
    const key = lsid?.id && body.txnNumber != null ? `${lsid.id.toString('hex')}:${String(body.txnNumber)}` : null;
    const docs = (body.documents ?? body.updates ?? []) as Document[];
    if (key !== null && this.appliedKeys.has(key)) {
      this.retriedArrivals++;
      return { n: this.appliedKeys.get(key), ok: 1 };
    }
    // Logical identity: "<task>:<seq>" in the first document's _id (insert) or q._id (update).
    const first = docs[0];
    const id = String((first?._id as string | undefined) ?? ((first?.q as Document | undefined)?._id as string | undefined) ?? '');
    const m = /^(t\d+):(\d+)/.exec(id);
    if (m) {
      const seq = Number(m[2]);
      const last = this.lastSeqByTask.get(m[1]) ?? -1;
      if (seq <= last) this.duplicates.push(id);
      else this.lastSeqByTask.set(m[1], seq);
    }
    if (key !== null) {
      this.appliedKeys.set(key, docs.length);
      if (this.appliedKeys.size > 40_000) {
        // Forget the oldest keys; a retry arrives within seconds of its first attempt.
        let drop = 10_000;
        for (const k of this.appliedKeys.keys()) {
          this.appliedKeys.delete(k);
          if (--drop === 0) break;
        }
      }
    }
    this.applied++;
    return request.commandName === 'update' ? { n: docs.length, nModified: docs.length, ok: 1 } : { n: docs.length, ok: 1 };
  }
}

// ------------------------------------------------------------------------------- faults

const injected: Record<string, number> = {};

function pickFault(kind: 'write' | 'read'): { name: string; before?: MockReply; after?: MockAction } | null {
  if (Math.random() >= FAULT_RATE) return null;
  const faults =
    kind === 'write'
      ? [
          { name: 'reset before apply', before: MockAction.reset() },
          { name: 'close before apply', before: MockAction.close() },
          { name: 'reset after apply', after: MockAction.reset() },
          { name: 'half reply after apply', after: MockAction.halfReply({ n: 1, ok: 1 }) },
          { name: 'NotWritablePrimary', before: retryableErrorReply(10107, 'NotWritablePrimary') },
          { name: 'delay past socketTimeoutMS', before: MockAction.delay(SOCKET_TIMEOUT_MS * 1.5, errorReply(91, 'shutdown', { codeName: 'ShutdownInProgress' })) }
        ]
      : [
          { name: 'read reset', before: MockAction.reset() },
          { name: 'read half reply', before: MockAction.halfReply({ cursor: { id: 0, ns: 'soak.items', firstBatch: [] }, ok: 1 }) },
          { name: 'read delay past socketTimeoutMS', before: MockAction.delay(SOCKET_TIMEOUT_MS * 1.5, { ok: 1 }) },
          { name: 'reply then close', before: replyThenClose({ cursor: { id: 0, ns: 'soak.items', firstBatch: [] }, ok: 1 }) }
        ];
  const fault = faults[Math.floor(Math.random() * faults.length)];
  injected[fault.name] = (injected[fault.name] ?? 0) + 1;
  return fault;
}

function installHandlers(rs: MockReplicaSet, store: SoakStore): void {
  for (const member of rs.members) {
    const write = (request: RecordedCommand): MockReply => {
      if (member.state.type !== 'primary') return errorReply(10107, 'not primary', { codeName: 'NotWritablePrimary', errorLabels: ['RetryableWriteError'] });
      const fault = pickFault('write');
      if (fault?.before) return fault.before;
      const reply = store.apply(request);
      return fault?.after ?? reply;
    };
    member.setHandler('insert', write);
    member.setHandler('update', write);
    member.setHandler('find', () => {
      const fault = pickFault('read');
      if (fault?.before) return fault.before;
      return { cursor: { id: 0, ns: 'soak.items', firstBatch: [{ _id: 'x', v: 1 }] }, ok: 1 };
    });
  }
}

// ------------------------------------------------------------------------------- chaos

const chaosLog: Record<string, number> = {};

async function chaos(rs: MockReplicaSet, round: number): Promise<void> {
  const primary = rs.members.findIndex((m) => m.state.type === 'primary');
  const action = round % 12 === 11 ? 'whole set down 2 s' : ['stepdown', 'restart a member', 'secondary away 3 s'][round % 3];
  chaosLog[action] = (chaosLog[action] ?? 0) + 1;
  switch (action) {
    case 'stepdown':
      rs.setPrimary((primary + 1) % rs.members.length);
      break;
    case 'restart a member': {
      const i = Math.floor(Math.random() * rs.members.length);
      await rs.stopMember(i);
      await rs.startMember(i);
      break;
    }
    case 'secondary away 3 s': {
      const i = (primary + 1 + Math.floor(Math.random() * (rs.members.length - 1))) % rs.members.length;
      await rs.stopMember(i);
      await sleep(3000);
      await rs.startMember(i);
      break;
    }
    case 'whole set down 2 s':
      for (let i = 0; i < rs.members.length; i++) await rs.stopMember(i);
      await sleep(2000);
      for (let i = 0; i < rs.members.length; i++) await rs.startMember(i);
      break;
  }
}

// ------------------------------------------------------------------------------- workload

/** Documents with string `_id`s `t<task>:<seq>` (the logical identity the store checks). */
type SoakItem = { _id: string; [key: string]: unknown };

interface Counters {
  started: number;
  settled: number;
  succeeded: number;
  retried: number;
  byOp: Record<string, number>;
  errors: Record<string, number>;
  inFlight: Map<number, { op: string; since: number }>;
}

async function runTask(task: number, coll: Collection<SoakItem>, client: MongoClient, deadline: number, c: Counters): Promise<void> {
  let seq = 0;
  while (Date.now() < deadline) {
    const r = Math.random();
    const id = `t${task}:${seq++}`;
    let op: string;
    let run: () => Promise<unknown>;
    if (r < 0.35) {
      op = 'insertOne';
      run = () => coll.insertOne({ _id: id, task, payload: 'x'.repeat(64) });
    } else if (r < 0.45) {
      op = 'insertMany';
      run = () => coll.insertMany([0, 1, 2, 3, 4].map((i) => ({ _id: `${id}:${i}`, i })));
    } else if (r < 0.55) {
      op = 'updateOne';
      run = () => coll.updateOne({ _id: id }, { $set: { touched: true } });
    } else if (r < 0.9) {
      op = 'findOne';
      run = () => coll.findOne({ task });
    } else {
      op = 'ping';
      run = () => client.db('admin').command({ ping: 1 });
    }
    const n = ++c.started;
    c.byOp[op] = (c.byOp[op] ?? 0) + 1;
    c.inFlight.set(n, { op, since: Date.now() });
    try {
      await run();
      c.succeeded++;
    } catch (error) {
      const name = error instanceof Error ? error.name : typeof error;
      c.errors[name] = (c.errors[name] ?? 0) + 1;
      // Back off a little after an error so a down set is not hammered.
      await sleep(20 + Math.random() * 80);
    } finally {
      c.settled++;
      c.inFlight.delete(n);
    }
  }
}

// ------------------------------------------------------------------------------- measurements

interface Sample {
  minute: number;
  rssMB: number;
  heapMB: number;
}

/** Least-squares slope (MB per minute) of `y` over `minute`. */
function slope(samples: Sample[], y: (s: Sample) => number): number {
  const n = samples.length;
  if (n < 2) return 0;
  const mx = samples.reduce((a, s) => a + s.minute, 0) / n;
  const my = samples.reduce((a, s) => a + y(s), 0) / n;
  let num = 0;
  let den = 0;
  for (const s of samples) {
    num += (s.minute - mx) * (y(s) - my);
    den += (s.minute - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

const mb = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;

// ------------------------------------------------------------------------------- main

async function main(): Promise<void> {
  const trap = trapUnhandledRejections();
  const uncaught: unknown[] = [];
  process.on('uncaughtException', (error) => uncaught.push(error));

  const rs = await MockReplicaSet.start({ members: 3, memberOptions: { helloExtra: { logicalSessionTimeoutMinutes: 30 } } });
  const store = new SoakStore();
  installHandlers(rs, store);
  const client = new MongoClient(
    `mongodb://${rs.hostList}/?replicaSet=rs0&heartbeatFrequencyMS=500&serverSelectionTimeoutMS=5000&socketTimeoutMS=${SOCKET_TIMEOUT_MS}` +
      `&connectTimeoutMS=2000&maxPoolSize=50&waitQueueTimeoutMS=4000&retryWrites=true&retryReads=true`,
    { minHeartbeatFrequencyMS: 50 }
  );
  const counters: Counters = { started: 0, settled: 0, succeeded: 0, retried: 0, byOp: {}, errors: {}, inFlight: new Map() };
  const executeOperation = client.executeOperation.bind(client);
  client.executeOperation = async <T>(operation: AbstractOperation<T>): Promise<T> => {
    try {
      return await executeOperation(operation);
    } finally {
      if (operation.retried) counters.retried++;
    }
  };
  await client.connect();
  const coll = client.db('soak').collection<SoakItem>('items');

  const startedAt = Date.now();
  const deadline = startedAt + MINUTES * 60_000;
  const samples: Sample[] = [];
  const sample = () => {
    const m = process.memoryUsage();
    samples.push({ minute: (Date.now() - startedAt) / 60_000, rssMB: mb(m.rss), heapMB: mb(m.heapUsed) });
  };
  sample();
  const sampler = setInterval(() => {
    sample();
    for (const member of rs.members) member.clearRecords();
  }, 5000);
  let lastReport = 0;
  const reporter = setInterval(() => {
    const s = samples[samples.length - 1];
    const rate = Math.round((counters.settled - lastReport) / REPORT_EVERY_S);
    lastReport = counters.settled;
    console.log(
      `[${((Date.now() - startedAt) / 60_000).toFixed(1)} min] settled ${counters.settled} (${rate}/s), in flight ${counters.inFlight.size}, ` +
        `retried ${counters.retried}, errors ${JSON.stringify(counters.errors)}, rss ${s.rssMB} MB, heap ${s.heapMB} MB, ` +
        `server connections accepted ${rs.members.reduce((n, m) => n + m.connectionIds().length, 0)}`
    );
  }, REPORT_EVERY_S * 1000);
  let round = 0;
  let chaosRunning: Promise<void> = Promise.resolve();
  const chaosTimer = setInterval(() => {
    chaosRunning = chaosRunning.then(() => chaos(rs, round++)).catch((error: unknown) => console.error('chaos failed', error));
  }, CHAOS_EVERY_S * 1000);

  console.log(
    `soak: ${MINUTES} min, ${CONCURRENCY} tasks, fault rate ${FAULT_RATE}, chaos every ${CHAOS_EVERY_S} s, node ${process.version}`
  );
  const tasks = Array.from({ length: CONCURRENCY }, (_, i) => runTask(i, coll, client, deadline, counters));

  // Wait for the tasks, but no longer than the grace period after the deadline.
  const all = Promise.all(tasks);
  const settledInTime = await Promise.race([all.then(() => true), sleep(MINUTES * 60_000 + SETTLE_GRACE_MS).then(() => false)]);
  clearInterval(chaosTimer);
  await chaosRunning;
  clearInterval(reporter);
  clearInterval(sampler);
  sample();
  const stuck = [...counters.inFlight.values()].map((f) => `${f.op} for ${Math.round((Date.now() - f.since) / 1000)} s`);

  // Recovery check: the set is whole again and a write and a read succeed.
  for (let i = 0; i < rs.members.length; i++) await rs.startMember(i);
  let recovered = false;
  for (let attempt = 0; attempt < 20 && !recovered; attempt++) {
    try {
      await coll.insertOne({ _id: `final:${attempt}` });
      await coll.findOne({});
      recovered = true;
    } catch {
      await sleep(500);
    }
  }

  await client.close();
  await rs.close();
  trap.dispose();

  // RSS trend over the second half (after warm-up).
  const secondHalf = samples.filter((s) => s.minute >= MINUTES / 2);
  const rssSlope = slope(secondHalf, (s) => s.rssMB);
  const heapSlope = slope(secondHalf, (s) => s.heapMB);
  const halfMinutes = MINUTES / 2;
  const rssGrowth = rssSlope * halfMinutes;
  const elapsedS = (Date.now() - startedAt) / 1000;

  const report = {
    minutes: MINUTES,
    concurrency: CONCURRENCY,
    faultRate: FAULT_RATE,
    elapsedSeconds: Math.round(elapsedS),
    operations: { started: counters.started, settled: counters.settled, succeeded: counters.succeeded, byOp: counters.byOp },
    throughputPerSecond: Math.round(counters.settled / (MINUTES * 60)),
    retried: counters.retried,
    errors: counters.errors,
    faultsInjected: injected,
    chaos: chaosLog,
    server: { writesApplied: store.applied, retriedWritesNotReapplied: store.retriedArrivals, duplicateLogicalWrites: store.duplicates.length },
    rssMB: { start: samples[0].rssMB, mid: secondHalf[0]?.rssMB, end: samples[samples.length - 1].rssMB, min: Math.min(...samples.map((s) => s.rssMB)), max: Math.max(...samples.map((s) => s.rssMB)) },
    heapMB: { start: samples[0].heapMB, end: samples[samples.length - 1].heapMB },
    secondHalfTrend: { rssMBPerMinute: Math.round(rssSlope * 100) / 100, heapMBPerMinute: Math.round(heapSlope * 100) / 100, rssGrowthMB: Math.round(rssGrowth * 10) / 10, limitMB: MAX_RSS_GROWTH_MB },
    rssSamples: samples.filter((_, i) => i % 12 === 0 || i === samples.length - 1).map((s) => `${s.minute.toFixed(1)}m:${s.rssMB}`),
    unsettled: stuck,
    allSettledInTime: settledInTime,
    recoveredAfterwards: recovered,
    unhandledRejections: trap.reasons.length,
    uncaughtExceptions: uncaught.length
  };
  console.log(JSON.stringify(report, null, 2));

  const failures: string[] = [];
  if (!settledInTime || counters.started !== counters.settled) failures.push(`${counters.started - counters.settled} operations never settled: ${stuck.slice(0, 10).join(', ')}`);
  if (store.duplicates.length > 0) failures.push(`duplicate logical writes: ${store.duplicates.slice(0, 10).join(', ')}`);
  if (rssGrowth > MAX_RSS_GROWTH_MB) failures.push(`RSS grew ${rssGrowth.toFixed(1)} MB over the second half (limit ${MAX_RSS_GROWTH_MB} MB)`);
  if (trap.reasons.length > 0) failures.push(`unhandled rejections: ${trap.reasons.slice(0, 3).map(String).join('; ')}`);
  if (uncaught.length > 0) failures.push(`uncaught exceptions: ${uncaught.slice(0, 3).map(String).join('; ')}`);
  if (!recovered) failures.push('the client did not recover after the run');
  console.log(failures.length === 0 ? 'soak: PASS' : `soak: FAIL\n  ${failures.join('\n  ')}`);
  process.exitCode = failures.length === 0 ? 0 : 1;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
