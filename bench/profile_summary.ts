/**
 * Summarizes a V8 `.cpuprofile` (from `node --cpu-prof`): self time per function, top N,
 * optionally only for scripts whose URL contains a filter string.
 *
 *   node --cpu-prof --cpu-prof-dir=.bench-tmp/prof --import tsx bench/run.ts --no-build --only findone
 *   npx tsx bench/profile_summary.ts .bench-tmp/prof/<file>.cpuprofile [urlFilter] [top] [--total]
 *
 * `--total` ranks by inclusive time (the function and everything it called, within one
 * synchronous stack) instead of self time.
 */
import * as fs from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

function main(): void {
  const inclusive = process.argv.includes('--total');
  const [file, filter = '', topArg = '40'] = process.argv.slice(2).filter((a) => a !== '--total');
  if (!file) throw new Error('usage: profile_summary <file.cpuprofile> [urlFilter] [top]');
  const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    self.set(profile.samples[i], (self.get(profile.samples[i]) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const timeOf = new Map<number, number>(self);
  if (inclusive) {
    const subtree = (node: ProfileNode): number => {
      let sum = self.get(node.id) ?? 0;
      for (const child of node.children ?? []) sum += subtree(byId.get(child)!);
      timeOf.set(node.id, sum);
      return sum;
    };
    subtree(profile.nodes[0]);
  }
  const byFunction = new Map<string, number>();
  for (const [id, us] of timeOf) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    if (filter && !url.includes(filter)) continue;
    const short = url.replace(/^.*node_modules\//, '').replace(/^file:\/\//, '');
    const key = `${functionName || '(anonymous)'}  ${short}:${lineNumber + 1}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + us);
  }
  const rows = [...byFunction.entries()].sort((a, b) => b[1] - a[1]).slice(0, Number(topArg));
  const selected = [...byFunction.values()].reduce((a, b) => a + b, 0);
  process.stdout.write(`total ${(total / 1000).toFixed(0)} ms; selected ${(selected / 1000).toFixed(0)} ms\n`);
  for (const [key, us] of rows) process.stdout.write(`${(us / 1000).toFixed(1).padStart(9)} ms  ${((100 * us) / total).toFixed(1).padStart(5)}%  ${key}\n`);
}

main();
