/**
 * The real-server harness: a MongoDB deployment for tests that need one.
 *
 * - `MONGODB_URI` set: that deployment is used as it is (any topology; tests whose
 *   runOnRequirements it does not meet skip themselves).
 * - Otherwise `mongodb-memory-server-core` starts one: `MongoMemoryReplSet` with three members
 *   for `replicaset`, `MongoMemoryServer` for `single`, each with
 *   `--setParameter enableTestCommands=1` so fail points work. The mongod binary comes from
 *   `MONGOMS_SYSTEM_BINARY`, the download cache, or a download. The download gets no retries and
 *   a short time limit; when no binary can be had the harness reports ONE line saying so and how to
 *   enable these tests, and the callers skip with that line as the reason.
 *
 * Each outcome (a running deployment or the failure) is cached: one attempt per topology per
 * process. `stopMongoDeployments()` stops what was started (call it when done, or the mongod
 * child processes keep the process alive).
 */
import type { MongoMemoryReplSet, MongoMemoryServer } from 'mongodb-memory-server-core';

export type MongodTopology = 'replicaset' | 'single';

export type MongodAvailability = { available: true; uri: string; source: 'MONGODB_URI' | 'mongodb-memory-server' } | { available: false; reason: string };

/** How long obtaining a mongod binary (cache lookup or download) may take. */
const BINARY_TIMEOUT_MS = Number(process.env.MONGOWIRE_MONGOD_BINARY_TIMEOUT_MS ?? 20_000);
/** How long starting the deployment may take once the binary is there. */
const START_TIMEOUT_MS = 60_000;

const HOW_TO_ENABLE = 'set MONGODB_URI=mongodb://host:port/?… (a replica set with enableTestCommands=1) or MONGOMS_SYSTEM_BINARY=/path/to/mongod to run these tests';

const attempts = new Map<MongodTopology, Promise<MongodAvailability>>();
const started: Array<MongoMemoryReplSet | MongoMemoryServer> = [];
let binaryAttempt: Promise<string> | undefined;

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms}ms`)), ms);
    timer.unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n').map((l) => l.trim()).filter(Boolean).slice(0, 2).join(' ').slice(0, 200);
}

/** The mongod binary path (system binary, cache or download), tried once per process. */
function mongodBinary(): Promise<string> {
  process.env.MONGOMS_MAX_RETRIES ??= '0';
  binaryAttempt ??= (async () => {
    const { MongoBinary } = await import('mongodb-memory-server-core');
    return withTimeout(MongoBinary.getPath(), BINARY_TIMEOUT_MS, 'obtaining a mongod binary');
  })();
  return binaryAttempt;
}

async function startMemoryDeployment(topology: MongodTopology): Promise<MongodAvailability> {
  try {
    await mongodBinary();
  } catch (error) {
    const where = process.env.MONGOMS_SYSTEM_BINARY ? `MONGOMS_SYSTEM_BINARY=${process.env.MONGOMS_SYSTEM_BINARY} is not usable` : 'no cached mongod binary and the download failed';
    return { available: false, reason: `no MongoDB deployment: MONGODB_URI is not set and mongodb-memory-server has no mongod (${where}: ${firstLine(error)}); ${HOW_TO_ENABLE}` };
  }
  try {
    const mms = await import('mongodb-memory-server-core');
    const args = ['--setParameter', 'enableTestCommands=1'];
    if (topology === 'replicaset') {
      const rs = await withTimeout(
        mms.MongoMemoryReplSet.create({ replSet: { count: 3, args, storageEngine: 'wiredTiger' } }),
        START_TIMEOUT_MS,
        'starting a three-member replica set'
      );
      started.push(rs);
      await withTimeout(rs.waitUntilRunning(), START_TIMEOUT_MS, 'waiting for the replica set');
      return { available: true, uri: rs.getUri(), source: 'mongodb-memory-server' };
    }
    const server = await withTimeout(mms.MongoMemoryServer.create({ instance: { args } }), START_TIMEOUT_MS, 'starting mongod');
    started.push(server);
    return { available: true, uri: server.getUri(), source: 'mongodb-memory-server' };
  } catch (error) {
    return { available: false, reason: `no MongoDB deployment: mongodb-memory-server could not start mongod (${firstLine(error)}); ${HOW_TO_ENABLE}` };
  }
}

/** A deployment for `topology` (MONGODB_URI wins), or why there is none. Cached per process. */
export function getMongoDeployment(topology: MongodTopology = 'replicaset'): Promise<MongodAvailability> {
  const uri = process.env.MONGODB_URI;
  if (uri) return Promise.resolve({ available: true, uri, source: 'MONGODB_URI' });
  let attempt = attempts.get(topology);
  if (!attempt) attempts.set(topology, (attempt = startMemoryDeployment(topology)));
  return attempt;
}

/** Stops every deployment this process started (a failed attempt stays cached). */
export async function stopMongoDeployments(): Promise<void> {
  const servers = started.splice(0);
  for (const [topology, attempt] of [...attempts.entries()]) {
    const result = await attempt;
    if (result.available) attempts.delete(topology);
  }
  await Promise.all(servers.map((s) => s.stop({ doCleanup: true, force: true }).catch(() => false)));
}
