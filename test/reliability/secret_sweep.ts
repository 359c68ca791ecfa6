/**
 * Helpers for the secrets sweep: capture everything a client lets out (events, errors, warnings,
 * console output), serialize it every way a user might (util.inspect deep, JSON with BigInt/Map/
 * Error support, stacks), and look for secrets in plain, base64 and hex forms.
 */
import { inspect } from 'node:util';
import { EventEmitter } from 'node:events';
import { CLIENT_EVENT_NAMES } from '../../spec-tests/unified/driver_adapter';

/** Everything observed, as (label, value) pairs. */
export class Capture {
  readonly items: Array<{ label: string; value: unknown }> = [];

  add(label: string, value: unknown): void {
    this.items.push({ label, value });
  }

  /** Records every client event. */
  listenTo(client: EventEmitter): void {
    for (const name of CLIENT_EVENT_NAMES) client.on(name, (event: unknown) => this.add(`event ${name}`, event));
  }

  count(labelPrefix: string): number {
    return this.items.filter((i) => i.label.startsWith(labelPrefix)).length;
  }
}

/** Serializes a value every way a user might log it. */
export function serializeAllWays(value: unknown): string {
  const parts: string[] = [];
  parts.push(inspect(value, { depth: 12, showHidden: true, maxArrayLength: null, maxStringLength: null, getters: true }));
  parts.push(safeJson(value));
  if (value instanceof Error) {
    let e: unknown = value;
    for (let i = 0; i < 8 && e instanceof Error; i++) {
      parts.push(String(e.stack), e.message, String(e));
      e = e.cause;
    }
  } else {
    parts.push(String(value));
  }
  return parts.join('\n');
}

function safeJson(value: unknown): string {
  const seen = new WeakSet<object>();
  try {
    return JSON.stringify(value, function replacer(_key, v: unknown) {
      if (typeof v === 'bigint') return v.toString();
      if (v instanceof Error) {
        const own: Record<string, unknown> = { name: v.name, message: v.message, stack: v.stack, cause: v.cause };
        for (const k of Object.keys(v)) own[k] = (v as unknown as Record<string, unknown>)[k];
        return own;
      }
      if (v instanceof Map) return Object.fromEntries(v);
      if (v instanceof Set) return [...v];
      if (v && typeof v === 'object') {
        if (seen.has(v)) return '[Circular]';
        seen.add(v);
      }
      return v;
    });
  } catch (error) {
    return `<unserializable: ${(error as Error).message}>`;
  }
}

/** The forms a secret could take in output: as is, base64, base64url, hex. */
export function secretForms(secret: string | Buffer): string[] {
  const buf = typeof secret === 'string' ? Buffer.from(secret, 'utf8') : secret;
  const forms = new Set<string>([buf.toString('base64'), buf.toString('base64url'), buf.toString('hex')]);
  if (typeof secret === 'string') forms.add(secret);
  // Short values would match by accident; the tests use long secrets.
  return [...forms].filter((f) => f.length >= 8);
}

export interface Leak {
  secret: string;
  form: string;
  where: string;
}

/** Finds every occurrence of any secret form in everything captured. */
export function findLeaks(capture: Capture, secrets: Record<string, string | Buffer>): Leak[] {
  const leaks: Leak[] = [];
  const texts = capture.items.map((i) => ({ label: i.label, text: serializeAllWays(i.value) }));
  for (const [name, secret] of Object.entries(secrets)) {
    for (const form of secretForms(secret)) {
      for (const { label, text } of texts) if (text.includes(form)) leaks.push({ secret: name, form, where: label });
    }
  }
  return leaks;
}
