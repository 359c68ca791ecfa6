/**
 * Fault-injection helpers on top of the mock server:
 *
 * - `WriteLedger`: the "storage" of a mock deployment. A retryable write (lsid + txnNumber) is
 *   applied at most once, exactly like a real server that remembers the transaction number: a
 *   retry of an already-applied write gets the remembered result and applies nothing.
 * - `faultyWriteHandler(ledger, plan)`: a mock-server handler for a write command that follows a
 *   per-attempt plan: fail before applying (reset, close, error reply, never answer), or apply
 *   and then lose the reply (reset, close, half-written reply).
 * - `replyThenClose(body)`: answer normally, then close the socket (a fault "after a reply").
 * - `silentServer()`: a TCP listener that accepts and never answers (not even the handshake).
 * - `trapUnhandledRejections()`: records every process-level unhandled rejection while a test runs.
 */
import * as net from 'net';
import type { Binary, Document } from 'bson';
import { encodeOpMsg } from '../../src/wire';
import { MockAction, type MockHandler, type MockReply, type RecordedCommand } from './mock_server';

/** One step of a fault plan, consumed per attempt; once the plan is exhausted, writes succeed. */
export type FaultStep =
  /** Apply and answer normally. */
  | 'ok'
  /** Do not apply; perform this action (reset, close, noReply, delay…) or send this error reply. */
  | { before: MockReply }
  /** Apply, then perform this action instead of answering (the reply is lost). */
  | { after: MockAction };

/** The identity of a retryable write: `<lsid hex>:<txnNumber>`, or null when it has none. */
export function writeKey(body: Document): string | null {
  const lsid = body.lsid as { id?: Binary } | undefined;
  if (!lsid?.id || body.txnNumber == null) return null;
  return `${lsid.id.toString('hex')}:${String(body.txnNumber)}`;
}

export interface LedgerEntry {
  /** How many times the write's documents were applied (must be 1). */
  applied: number;
  /** How many times the command arrived (first attempt + retries). */
  attempts: number;
  /** Servers the attempts reached, in order. */
  servers: string[];
  documents: Document[];
}

export class WriteLedger {
  readonly entries = new Map<string, LedgerEntry>();
  /** Writes without lsid/txnNumber (not retryable): every arrival applies. */
  unkeyedApplied = 0;
  /** Every document applied, in order. */
  readonly documents: Document[] = [];

  /** Records an arrival of `request` at `server`. */
  arrive(request: RecordedCommand, server: string): LedgerEntry | null {
    const key = writeKey(request.body);
    if (key === null) return null;
    let entry = this.entries.get(key);
    if (!entry) {
      entry = { applied: 0, attempts: 0, servers: [], documents: [] };
      this.entries.set(key, entry);
    }
    entry.attempts++;
    entry.servers.push(server);
    return entry;
  }

  /** Applies the write unless its lsid+txnNumber was applied before; returns the reply. */
  apply(request: RecordedCommand): Document {
    const docs = writeDocuments(request);
    const key = writeKey(request.body);
    if (key === null) {
      this.unkeyedApplied++;
      this.documents.push(...docs);
      return { n: docs.length, ok: 1 };
    }
    const entry = this.entries.get(key);
    if (entry && entry.applied > 0) return { n: entry.documents.length, ok: 1 };
    if (entry) {
      entry.applied++;
      entry.documents.push(...docs);
    }
    this.documents.push(...docs);
    return { n: docs.length, ok: 1 };
  }

  /** Number of logical writes whose documents were applied more than once. */
  get duplicateWrites(): number {
    let n = 0;
    for (const e of this.entries.values()) if (e.applied > 1) n++;
    return n;
  }

  get appliedDocumentCount(): number {
    return this.documents.length;
  }
}

function writeDocuments(request: RecordedCommand): Document[] {
  const body = request.body;
  const list = body.documents ?? body.updates ?? body.deletes;
  return Array.isArray(list) ? (list as Document[]) : [];
}

/**
 * A handler for `insert`/`update`/`delete` that follows `plan` (one step per arrival at this
 * handler) and records everything in `ledger`. `server` names the member for the ledger.
 */
export function faultyWriteHandler(ledger: WriteLedger, server: () => string, plan: FaultStep[] = []): MockHandler {
  const steps = [...plan];
  return (request) => {
    ledger.arrive(request, server());
    const step = steps.shift() ?? 'ok';
    if (step === 'ok') return ledger.apply(request);
    if ('before' in step) return step.before;
    ledger.apply(request);
    return step.after;
  };
}

/** Encodes `body` as the reply to `request` and closes the socket once it is written. */
export function replyThenClose(body: Document = { ok: 1 }): MockAction {
  return MockAction.raw((request) => encodeOpMsg({ requestId: 424242, responseTo: request.requestId, body }), true);
}

/** A server error reply carrying the RetryableWriteError label, as 4.4+ servers send it. */
export function retryableErrorReply(code: number, codeName: string): Document {
  return { ok: 0, code, codeName, errmsg: `mock ${codeName}`, errorLabels: ['RetryableWriteError'] };
}

export interface SilentServer {
  address: string;
  /** Sockets accepted so far. */
  readonly accepted: number;
  close(): Promise<void>;
}

/** A TCP listener that accepts connections and never writes a byte. */
export async function silentServer(): Promise<SilentServer> {
  const sockets = new Set<net.Socket>();
  let accepted = 0;
  const server = net.createServer((socket) => {
    accepted++;
    sockets.add(socket);
    socket.on('error', () => socket.destroy());
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    address: `127.0.0.1:${port}`,
    get accepted() {
      return accepted;
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  };
}

export interface RejectionTrap {
  /** Reasons of unhandled rejections seen since the trap was installed. */
  readonly reasons: unknown[];
  dispose(): void;
}

/**
 * Records process-level unhandled rejections until `dispose()`. Under plain node (the soak and
 * fuzz scripts) this sees every one. Under jest the test's `process` is a sandbox copy and
 * jest-circus owns the real process-level handler: it fails the running test on any unhandled
 * rejection itself, so tests get the same guarantee either way.
 */
export function trapUnhandledRejections(): RejectionTrap {
  const reasons: unknown[] = [];
  const listener = (reason: unknown) => reasons.push(reason);
  process.on('unhandledRejection', listener);
  return { reasons, dispose: () => void process.off('unhandledRejection', listener) };
}
