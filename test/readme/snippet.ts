/**
 * Runs the TypeScript examples of README.md as written: a fenced ```ts block is found under its
 * heading, transpiled with the `typescript` package (CommonJS) and run as the body of an async
 * function (so top-level `await` works) with a `require` of our choosing (`mongowire` → src/).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ts from 'typescript';

export const README = path.join(__dirname, '../../README.md');

/** The first ```ts block after the `## <heading>` line of README.md (throws when there is none). */
export function readmeSnippet(heading: string): string {
  const text = fs.readFileSync(README, 'utf8');
  const lines = text.split('\n');
  const at = lines.findIndex((line) => line.trim() === `## ${heading}`);
  if (at < 0) throw new Error(`README.md has no "## ${heading}" heading`);
  const next = lines.findIndex((line, i) => i > at && /^## /.test(line));
  const section = lines.slice(at + 1, next < 0 ? undefined : next).join('\n');
  const match = /^```ts\n([\s\S]*?)^```/m.exec(section);
  if (!match) throw new Error(`README.md section "${heading}" has no \`\`\`ts block`);
  return match[1];
}

/** Replaces `from` (which must occur exactly once) by `to`. */
export function substituteOnce(code: string, from: string, to: string): string {
  const count = code.split(from).length - 1;
  if (count !== 1) throw new Error(`expected ${JSON.stringify(from)} exactly once in the snippet, found it ${count} times`);
  return code.replace(from, () => to);
}

/** TypeScript → CommonJS JavaScript; syntax errors throw. */
export function transpile(code: string): string {
  const output = ts.transpileModule(code, {
    reportDiagnostics: true,
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true, strict: true }
  });
  const errors = (output.diagnostics ?? []).filter((d) => d.category === ts.DiagnosticCategory.Error);
  if (errors.length > 0) throw new Error(`the snippet does not compile: ${errors.map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n')).join('; ')}`);
  return output.outputText;
}

export interface SnippetGlobals {
  /** Resolves the snippet's imports. */
  require: (id: string) => unknown;
  /** Stands in for the global `console`. */
  console: Pick<Console, 'log' | 'error' | 'warn'>;
}

type AsyncBody = (require: SnippetGlobals['require'], exports: object, module: { exports: object }, console: SnippetGlobals['console']) => Promise<void>;

/** Transpiles and runs a snippet to completion (its rejections propagate). */
export async function runSnippet(code: string, globals: SnippetGlobals): Promise<void> {
  const js = transpile(code);
  const AsyncFunction = Object.getPrototypeOf(async () => undefined).constructor as new (...args: string[]) => AsyncBody;
  const body = new AsyncFunction('require', 'exports', 'module', 'console', js);
  const module = { exports: {} };
  await body(globals.require, module.exports, module, globals.console);
}

/** `require` for snippets: `mongowire` is this repository's src/ (optionally wrapped), the rest is Node's. */
export function snippetRequire(overrides: Record<string, unknown> = {}): (id: string) => unknown {
  return (id: string) => {
    if (id in overrides) return overrides[id];
    if (id === 'mongowire') return require('../../src');
    return require(id);
  };
}
