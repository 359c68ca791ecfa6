/**
 * `npm run fuzz` — the long fuzz run (test/fuzz/targets.ts): the wire decoder, the frame reader,
 * the connection-string parser, parseOptions with a stub SRV resolver, and a real Connection's
 * reply handling. Every case must end in a result or a MongoError subclass, within its time
 * budget; anything else is a finding. Exits 1 when there is a finding.
 *
 *   npx tsx scripts/fuzz.ts [--cases 100000] [--seed N] [--target decodeMessage,parseOptions]
 */
import { TARGETS, runTarget, type TargetName, type TargetStats } from '../test/fuzz/targets';
import { trapUnhandledRejections } from '../test/tools/fault_server';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function main(): Promise<void> {
  const cases = Number(arg('cases') ?? 100_000);
  const seed = Number(arg('seed') ?? Date.now() % 2 ** 31);
  const targets = (arg('target')?.split(',') ?? TARGETS) as TargetName[];
  const unknown = targets.filter((t) => !TARGETS.includes(t));
  if (unknown.length > 0) throw new Error(`unknown target(s) ${unknown.join(', ')}; known: ${TARGETS.join(', ')}`);

  const trap = trapUnhandledRejections();
  const uncaught: unknown[] = [];
  process.on('uncaughtException', (error) => uncaught.push(error));

  console.log(`fuzz: ${cases} cases per target, seed ${seed}, node ${process.version}`);
  const results: TargetStats[] = [];
  for (const target of targets) {
    const stats = await runTarget(target, cases, seed);
    results.push(stats);
    const rate = Math.round(stats.cases / (stats.ms / 1000));
    console.log(
      `${target.padEnd(22)} ${String(stats.cases).padStart(7)} cases  ${(stats.ms / 1000).toFixed(1).padStart(6)} s  ${String(rate).padStart(6)}/s  ` +
        `findings ${stats.findings.length}  outcomes ${JSON.stringify(stats.outcomes)}`
    );
    for (const f of stats.findings.slice(0, 5)) console.log(`  ${f.kind}: ${f.detail.split('\n')[0]}\n    input ${f.input.slice(0, 300)}`);
  }
  trap.dispose();

  const findings = results.reduce((n, r) => n + r.findings.length, 0);
  const total = results.reduce((n, r) => n + r.cases, 0);
  const seconds = results.reduce((n, r) => n + r.ms, 0) / 1000;
  console.log(
    `fuzz total: ${total} cases in ${seconds.toFixed(1)} s, findings ${findings}, unhandled rejections ${trap.reasons.length}, uncaught exceptions ${uncaught.length}`
  );
  if (findings > 0 || trap.reasons.length > 0 || uncaught.length > 0) process.exitCode = 1;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
