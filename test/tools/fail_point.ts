/**
 * A `failCommand` fail point for the mock server, shaped like the server's own:
 *
 *   const fp = new FailPoint(server);
 *   fp.configure({ mode: { times: 1 }, data: { failCommands: ['insert'], errorCode: 91, errorLabels: ['RetryableWriteError'] } });
 *   fp.configure({ mode: { times: 1 }, data: { failCommands: ['insert'], closeConnection: true, applyFirst: true } });
 *   fp.off();
 *
 * Commands not failed are answered by the base handlers (default: the mock's defaultHandler).
 * `applyFirst` runs the base handler before failing, i.e. "the write was applied, then the
 * connection dropped"; with `RetryableWriteLedger` as the base handler for writes, the ledger
 * shows whether a retry applied the write a second time.
 */
import type { Document } from 'bson';
import { actions, defaultHandler, type MockHandler, type MockReply, type MockServer, type RecordedCommand, type HandlerContext } from './mock_server';

export type FailPointMode = 'alwaysOn' | 'off' | { times: number } | { skip: number };

export interface FailCommandData {
  failCommands: string[];
  errorCode?: number;
  errmsg?: string;
  errorLabels?: string[];
  /** Close the connection instead of answering (a network error). */
  closeConnection?: boolean;
  /** Answer ok: 1 with this writeConcernError (after applying the command). */
  writeConcernError?: Document;
  /** Delay the failure (or the reply) by this many ms. */
  blockTimeMS?: number;
  /** Run the command's base handler first (the write is applied), then fail. */
  applyFirst?: boolean;
  /** Extra top-level fields for the error reply (e.g. `baseBackoffMS`, `$clusterTime`). */
  extraReply?: Document;
}

export interface FailPointConfig {
  mode: FailPointMode;
  data: FailCommandData;
}

async function answer(handler: MockHandler, request: RecordedCommand, ctx: HandlerContext): Promise<MockReply> {
  return typeof handler === 'function' ? handler(request, ctx) : handler;
}

export class FailPoint {
  private config?: FailPointConfig;
  private remaining = 0;
  private skip = 0;
  /** How many commands the fail point failed. */
  triggered = 0;
  private readonly installed = new Set<string>();

  constructor(
    private readonly server: MockServer,
    private readonly baseHandlers: Record<string, MockHandler> = {}
  ) {
    for (const [name, handler] of Object.entries(baseHandlers)) server.setHandler(name, handler);
  }

  configure(config: FailPointConfig): this {
    this.config = config;
    this.triggered = 0;
    const mode = config.mode;
    this.remaining = mode === 'alwaysOn' ? Infinity : mode === 'off' ? 0 : 'times' in mode ? mode.times : Infinity;
    this.skip = typeof mode === 'object' && 'skip' in mode ? mode.skip : 0;
    for (const name of config.data.failCommands) this.install(name);
    return this;
  }

  off(): void {
    this.remaining = 0;
  }

  private install(name: string): void {
    if (this.installed.has(name)) return;
    this.installed.add(name);
    const base = this.baseHandlers[name] ?? defaultHandler;
    this.server.setHandler(name, async (request, ctx) => {
      const data = this.config?.data;
      const applies = !!data && data.failCommands.includes(name) && this.remaining > 0;
      if (!applies) return answer(base, request, ctx);
      if (this.skip > 0) {
        this.skip--;
        return answer(base, request, ctx);
      }
      this.remaining--;
      this.triggered++;
      const reply = await this.failure(data, base, request, ctx);
      return data.blockTimeMS ? actions.delay(data.blockTimeMS, reply) : reply;
    });
  }

  private async failure(data: FailCommandData, base: MockHandler, request: RecordedCommand, ctx: HandlerContext): Promise<MockReply> {
    let applied: MockReply | undefined;
    if (data.applyFirst || data.writeConcernError) applied = await answer(base, request, ctx);
    if (data.closeConnection) return actions.close();
    if (data.writeConcernError) {
      const ok = applied && !(applied instanceof actions) ? applied : { ok: 1 };
      return { ...ok, writeConcernError: data.writeConcernError, ...(data.errorLabels ? { errorLabels: data.errorLabels } : {}), ...data.extraReply };
    }
    return {
      ok: 0,
      code: data.errorCode ?? 1,
      codeName: `FailPoint${data.errorCode ?? 1}`,
      errmsg: data.errmsg ?? `Failing command via 'failCommand' failpoint`,
      ...(data.errorLabels ? { errorLabels: data.errorLabels } : {}),
      ...data.extraReply
    };
  }
}

/** One logical write as the ledger applied it. */
export interface LedgerEntry {
  lsid: string;
  txnNumber: string;
  command: string;
  n: number;
}

/**
 * A base handler for insert/update/delete that applies each (lsid, txnNumber) once, as a
 * retryable-writes-aware server does: a retry of an applied write returns the stored result.
 */
export class RetryableWriteLedger {
  readonly entries: LedgerEntry[] = [];
  private readonly results = new Map<string, Document>();

  handler(): MockHandler {
    return (request) => {
      const body = request.body;
      const lsid = body.lsid?.id ? Buffer.from((body.lsid.id as { buffer: Uint8Array }).buffer).toString('hex') : 'none';
      const txnNumber = body.txnNumber !== undefined ? String(body.txnNumber) : 'none';
      const key = `${lsid}/${txnNumber}`;
      const previous = txnNumber !== 'none' ? this.results.get(key) : undefined;
      if (previous) return previous;
      const reply = defaultHandler(request) as Document;
      const n = typeof reply.n === 'number' ? reply.n : 0;
      this.entries.push({ lsid, txnNumber, command: request.commandName, n });
      if (txnNumber !== 'none') this.results.set(key, reply);
      return reply;
    };
  }
}
