/**
 * `npm run spec -- [--differential] [--verbose] <suite> [<suite>…]` or `--all`.
 * Prints `<suite>: N passed, M failed, K skipped` per suite (or `N agree, M differ, K skipped`
 * in differential mode), every skip grouped under its reason, and exits 1 if anything failed.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { defaultSpecRoot, type CaseResult, type SpecSuite } from './framework';

const SUITES_DIR = path.join(__dirname, 'suites');

function availableSuites(): string[] {
  return fs
    .readdirSync(SUITES_DIR)
    .filter((f) => f.endsWith('.ts') && !f.startsWith('_'))
    .map((f) => f.slice(0, -3))
    .sort();
}

async function loadSuite(name: string): Promise<SpecSuite | undefined> {
  const file = path.join(SUITES_DIR, `${name}.ts`);
  if (!fs.existsSync(file)) return undefined;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mod = require(file) as { default: SpecSuite };
  return mod.default;
}

function summarize(results: CaseResult[], differential: boolean): string {
  const passed = results.filter((r) => r.status === 'passed').length;
  const failed = results.filter((r) => r.status === 'failed').length;
  const skipped = results.filter((r) => r.status === 'skipped').length;
  return differential
    ? `${passed} agree, ${failed} differ, ${skipped} skipped`
    : `${passed} passed, ${failed} failed, ${skipped} skipped`;
}

export async function main(argv: string[]): Promise<number> {
  const differential = argv.includes('--differential');
  const verbose = argv.includes('--verbose') || !!process.env.SPEC_VERBOSE;
  let names = argv.filter((a) => !a.startsWith('--'));
  if (argv.includes('--all')) {
    names = availableSuites();
    if (names.length === 0) {
      process.stdout.write('no spec suites have runners yet\n');
      return 0;
    }
  }
  if (names.length === 0) {
    process.stderr.write(`usage: npm run spec -- [--differential] [--verbose] <suite>… | --all\nsuites: ${availableSuites().join(', ')}\n`);
    return 2;
  }
  const specRoot = defaultSpecRoot();
  let anyFailed = false;
  const summaries: string[] = [];
  for (const name of names) {
    const suite = await loadSuite(name);
    const suiteDir = path.join(specRoot, 'source', name);
    let results: CaseResult[];
    if (!suite) {
      results = [{ name: '(suite)', status: 'failed', reason: `no runner for suite "${name}" (not implemented yet)` }];
    } else if (!fs.existsSync(suiteDir)) {
      results = [{ name: '(suite)', status: 'failed', reason: `spec folder not found: ${suiteDir} (set SPEC_ROOT)` }];
    } else {
      try {
        results = await suite.run({ specRoot, suiteDir, differential });
      } catch (err) {
        results = [{ name: '(suite)', status: 'failed', reason: `runner crashed: ${(err as Error).stack ?? String(err)}` }];
      }
    }
    for (const r of results.filter((r) => r.status === 'failed')) {
      anyFailed = true;
      process.stdout.write(`  FAIL ${name} › ${r.name}\n${(r.reason ?? '').replace(/^/gm, '       ')}\n`);
    }
    const byReason = new Map<string, string[]>();
    for (const r of results.filter((r) => r.status === 'skipped')) {
      const reason = r.reason ?? '(no reason given)';
      byReason.set(reason, [...(byReason.get(reason) ?? []), r.name]);
    }
    for (const [reason, cases] of byReason) {
      const shown = verbose ? cases : cases.slice(0, 3);
      const more = cases.length > shown.length ? `, … ${cases.length - shown.length} more` : '';
      process.stdout.write(`  skip ${name} (${cases.length}): ${reason}\n       [${shown.join('; ')}${more}]\n`);
    }
    const line = `${name}: ${summarize(results, differential)}`;
    summaries.push(line);
    process.stdout.write(`${line}\n`);
  }
  if (names.length > 1) {
    process.stdout.write(`\n${summaries.join('\n')}\n`);
  }
  return anyFailed ? 1 : 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err) => {
      process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
      process.exitCode = 1;
    }
  );
}
