/** Test helpers: a client whose log messages are collected in memory. */
import type { Log, LogComponentSeveritiesClientOptions } from '../../src/logger';
import type { MongoClientConstructorOptions } from '../../src/mongo_client';

export interface Capture {
  logs: Log[];
  /** Client options that send every message to `logs` (components not named are off). */
  options: MongoClientConstructorOptions;
  /** The messages of one component, without `t`, `c`, `s`. */
  data(component?: Log['c']): Array<Record<string, unknown>>;
  /** The `message` strings, in order. */
  messages(component?: Log['c']): string[];
}

export function capture(severities: LogComponentSeveritiesClientOptions, extra: MongoClientConstructorOptions = {}): Capture {
  const logs: Log[] = [];
  const all = { command: 'off', topology: 'off', serverSelection: 'off', connection: 'off', ...severities } as const;
  const of = (component?: Log['c']) => logs.filter((l) => component === undefined || l.c === component);
  return {
    logs,
    options: { ...extra, mongodbLogComponentSeverities: all, mongodbLogPath: { write: (log: Log) => void logs.push(log) } },
    data: (component) =>
      of(component).map(({ t: _t, c: _c, s: _s, ...rest }) => rest),
    messages: (component) => of(component).map((l) => l.message)
  };
}

/** Every message as one string, for "never contains" checks. */
export function serialize(logs: readonly Log[]): string {
  return JSON.stringify(logs, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
