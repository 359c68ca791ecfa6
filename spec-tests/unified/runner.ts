/**
 * Executes one unified test ("Executing a Test" of the unified test format) with a driver adapter
 * against a deployment: requirements, initialData, entities, operations with their result/error
 * assertions, expectEvents / expectLogMessages, outcome, and cleanup (fail points off, sessions
 * ended, cursors and clients closed, open transactions killed).
 *
 * In record mode (the differential runner) every operation runs whatever happens to the previous
 * ones and no assertion fails the test: what matters is the commands the driver sends.
 */
import type { Document } from 'bson';
import { SkipCase } from '../framework';
import { convertConcerns, entityOptions, unwrapNumber, unwrapNumbersDeep } from './arguments';
import { describeValue, isDocument, valuesEqual } from './bson-values';
import type { Deployment } from './deployment';
import { NotImplementedError, prop, type DriverAdapter, type DriverObject } from './driver_adapter';
import { ClientEntity, EntityMap, ThreadEntity, type ClientEntitySpec, type SessionEntity } from './entities';
import { checkExpectedError, checkExpectedEvents, checkExpectedLogMessages, type ObservedCommandEvent } from './expectations';
import { matchIterableResult, matchResult } from './matcher';
import { observeError } from './observe_error';
import type { OperationContext } from './operation_context';
import { runEntityOperation, savedResultType } from './operations';
import { checkRunOnRequirements, type ServerInfo } from './requirements';
import { sleep, specialOperations } from './test_runner_operations';
import type { UnifiedOperation, UnifiedTest, UnifiedTestFile } from './test-file';

export interface RunTestOptions {
  adapter: DriverAdapter;
  deployment: Deployment;
  /** Run every operation and never fail on assertions (differential mode). */
  recordOnly?: boolean;
  /** An operation that takes longer fails (default 30 s; the mock deployment uses less). */
  operationTimeoutMS?: number;
}

export interface RecordedTestRun {
  /** commandStartedEvents of every client entity (observing them or not), in order, with the client id. */
  commands: Array<{ client: string; event: ObservedCommandEvent }>;
  /** Problems met while running (assertion failures, errors); only collected in record mode. */
  problems: string[];
}

class AssertionFailure extends Error {}

/**
 * Whether the test fails `hello`/`isMaster` with a fail point (SDAM heartbeat tests): monitors
 * then need several heartbeats to recover, so the short timeouts used on the mock are too short.
 */
export function failsHeartbeats(test: UnifiedTest): boolean {
  return /"failCommands":\[[^\]]*"(hello|isMaster|ismaster)"/.test(JSON.stringify(test.operations));
}

/** Why a test cannot run here, or undefined when it can. */
export function skipReasonFor(file: UnifiedTestFile, test: UnifiedTest, info: ServerInfo): string | undefined {
  if (test.skipReason) return `skipReason: ${test.skipReason}`;
  for (const requirements of [file.runOnRequirements, test.runOnRequirements]) {
    const check = checkRunOnRequirements(requirements, info);
    if (!check.met) return check.reason;
  }
  const entities = [...(file.createEntities ?? []), ...test.operations.flatMap((op) => (op.name === 'createEntities' && isDocument(op.arguments) ? ((op.arguments.entities as Document[]) ?? []) : []))];
  if (entities.some((e) => isDocument(e) && 'clientEncryption' in e)) {
    return 'clientEncryption entities need client-side field level encryption, which mongowire does not support';
  }
  if (entities.some((e) => isDocument(e) && isDocument(e.client) && 'autoEncryptOpts' in e.client)) {
    return 'autoEncryptOpts needs client-side field level encryption, which mongowire does not support';
  }
  if (JSON.stringify(entities).includes('$$placeholder')) return 'needs credentials from the test environment ($$placeholder)';
  return undefined;
}

/** Builds a client entity's connection string: the deployment's, with `uriOptions` overriding. */
export function buildClientUri(base: string, uriOptions: Document | undefined): string {
  if (!uriOptions || Object.keys(uriOptions).length === 0) return base;
  const q = base.indexOf('?');
  let head = q >= 0 ? base.slice(0, q) : base;
  if (!/\/$/.test(head) && !/\/[^/]*$/.test(head.replace(/^mongodb(\+srv)?:\/\//, ''))) head += '/';
  const params = (q >= 0 ? base.slice(q + 1) : '').split('&').filter(Boolean);
  const overridden = new Set(Object.keys(uriOptions).map((k) => k.toLowerCase()));
  const kept = params.filter((p) => !overridden.has(decodeURIComponent(p.split('=')[0]).toLowerCase()));
  for (const [key, raw] of Object.entries(uriOptions)) {
    const values = key === 'readPreferenceTags' && Array.isArray(raw) ? raw : [raw];
    for (const value of values) kept.push(`${key}=${encodeURIComponent(uriValue(value))}`);
  }
  return `${head}?${kept.join('&')}`;
}

function uriValue(value: unknown): string {
  const v = unwrapNumber(value);
  if (isDocument(v)) return Object.entries(v).map(([k, x]) => `${k}:${String(unwrapNumber(x))}`).join(',');
  return String(v);
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not complete within ${ms}ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export class UnifiedTestRun {
  private readonly entities = new EntityMap();
  private readonly ctx: OperationContext;
  private readonly problems: string[] = [];
  private readonly special: ReturnType<typeof specialOperations>;
  private readonly operationTimeoutMS: number;

  constructor(
    private readonly file: UnifiedTestFile,
    private readonly test: UnifiedTest,
    private readonly options: RunTestOptions
  ) {
    this.operationTimeoutMS = options.operationTimeoutMS ?? 30_000;
    this.special = specialOperations((ctx, entities) => this.createEntities(entities));
    this.ctx = {
      entities: this.entities,
      adapter: options.adapter,
      deployment: options.deployment,
      failPoints: [],
      runOperations: (ops, o) => this.runOperations(ops, o?.propagateErrors ?? true),
      startedTransaction: false,
      waitTimeoutMS: options.deployment.kind === 'mock' ? 2_000 : 10_000
    };
  }

  private get usesFailPoints(): boolean {
    return JSON.stringify(this.test.operations).includes('"configureFailPoint"');
  }

  private get recordOnly(): boolean {
    return this.options.recordOnly === true;
  }

  /** Runs the test; throws on failure (normal mode) or returns what was recorded. */
  async run(): Promise<RecordedTestRun> {
    const reason = skipReasonFor(this.file, this.test, this.options.deployment.info);
    if (reason) throw new SkipCase(reason);
    let failure: unknown;
    try {
      await this.options.deployment.resetForTest?.();
      for (const data of this.file.initialData ?? []) await this.options.deployment.prepareCollection(data);
      await this.createEntities(this.file.createEntities ?? []);
      await this.runOperations(this.test.operations, false);
      for (const client of this.clients()) client.observing = false;
      await this.disableFailPoints();
      // In record mode a failed expectation is noted with the other problems (see differential.ts).
      await this.checkExpectations();
    } catch (err) {
      failure = err;
    }
    const commands = this.recordedCommands();
    await this.cleanUp();
    if (failure !== undefined) {
      if (failure instanceof SkipCase || !this.recordOnly) throw failure;
      this.problems.push(String((failure as Error).message ?? failure));
    }
    return { commands, problems: this.problems };
  }

  private clients(): ClientEntity[] {
    return this.entities
      .all()
      .filter(([, e]) => e.type === 'client')
      .map(([, e]) => e.value as ClientEntity);
  }

  private recordedCommands(): RecordedTestRun['commands'] {
    const out: RecordedTestRun['commands'] = [];
    for (const client of this.clients()) {
      for (const event of client.allCommandsStarted) out.push({ client: client.id, event: event as ObservedCommandEvent });
    }
    return out;
  }

  // ------------------------------------------------------------------------------ entities

  private async createEntities(definitions: readonly Document[]): Promise<void> {
    const { adapter, deployment } = this.options;
    for (const definition of definitions) {
      const [type] = Object.keys(definition);
      const spec = definition[type] as Document;
      const id = String(spec.id);
      switch (type) {
        case 'client':
          await this.createClient(spec as ClientEntitySpec);
          break;
        case 'database': {
          const client = this.entities.require<ClientEntity>(spec.client, 'client').client;
          const db = (client.db as (n: string, o: Document) => DriverObject).call(client, String(spec.databaseName), entityOptions(spec.databaseOptions, adapter));
          this.entities.set(id, 'database', db);
          break;
        }
        case 'collection': {
          const db = this.entities.require<DriverObject>(spec.database, 'database');
          const coll = (db.collection as (n: string, o: Document) => DriverObject).call(db, String(spec.collectionName), entityOptions(spec.collectionOptions, adapter));
          this.entities.set(id, 'collection', coll);
          break;
        }
        case 'session': {
          const client = this.entities.require<ClientEntity>(spec.client, 'client');
          const session = (client.client.startSession as (o: Document) => DriverObject).call(client.client, this.sessionOptions(spec.sessionOptions));
          const entity: SessionEntity = { session, client, lsid: prop(session, 'id') as Document | undefined };
          this.entities.set(id, 'session', entity);
          break;
        }
        case 'bucket': {
          const db = this.entities.require<DriverObject>(spec.database, 'database');
          const options = isDocument(spec.bucketOptions) ? convertConcerns(unwrapNumbersDeep(spec.bucketOptions) as Document, adapter) : {};
          this.entities.set(id, 'bucket', adapter.createBucket(db, options));
          break;
        }
        case 'thread':
          this.entities.set(id, 'thread', new ThreadEntity());
          break;
        case 'clientEncryption':
          throw new SkipCase('clientEncryption entities need client-side field level encryption, which mongowire does not support');
        default:
          throw new Error(`unsupported entity type "${type}" (deployment ${deployment.kind})`);
      }
    }
  }

  private sessionOptions(options: unknown): Document {
    if (!isDocument(options)) return {};
    const out: Document = {};
    for (const [k, v] of Object.entries(options)) {
      if (k === 'defaultTransactionOptions' && isDocument(v)) out[k] = convertConcerns(unwrapNumbersDeep(v) as Document, this.options.adapter);
      else if (k === 'snapshotTime' && typeof v === 'string') out[k] = this.entities.require(v, 'result');
      else out[k] = unwrapNumber(v);
    }
    return out;
  }

  private async createClient(spec: ClientEntitySpec): Promise<void> {
    const { adapter, deployment } = this.options;
    const entity = new ClientEntity(spec, this.entities);
    const uri = buildClientUri(deployment.clientUri(spec.useMultipleMongoses), spec.uriOptions);
    const options: Document = { monitorCommands: true };
    if (isDocument(spec.serverApi)) {
      const api = spec.serverApi;
      options.serverApi = { version: String(api.version), strict: api.strict, deprecationErrors: api.deprecationErrors };
      for (const k of ['strict', 'deprecationErrors']) if (options.serverApi[k] === undefined) delete options.serverApi[k];
    }
    if (deployment.kind === 'mock' && !(spec.uriOptions && 'serverSelectionTimeoutMS' in spec.uriOptions)) {
      options.serverSelectionTimeoutMS = failsHeartbeats(this.test) ? 10_000 : 2_000;
    }
    // "Executing a Test": a test that configures fail points MAY use a reduced heartbeatFrequencyMS
    // (not for clients that set it), so that SDAM recovers quickly after the induced errors.
    if (this.usesFailPoints && !(spec.uriOptions && 'heartbeatFrequencyMS' in spec.uriOptions)) options.heartbeatFrequencyMS = 500;
    entity.client = adapter.createClient(uri, {
      options,
      onEvent: entity.onEvent,
      observeLogMessages: isDocument(spec.observeLogMessages) ? spec.observeLogMessages : undefined,
      onLog: entity.onLog
    });
    this.entities.set(spec.id, 'client', entity);
    // Connecting early lets SDAM/CMAP events start with the test; a failure is left for the
    // operations to report (e.g. loadBalanced=true against a non-load-balanced server).
    await withTimeout((entity.client.connect as () => Promise<unknown>).call(entity.client), this.operationTimeoutMS, `connecting client ${spec.id}`).catch(
      () => undefined
    );
    const awaitMs = unwrapNumber(spec.awaitMinPoolSizeMS);
    const minPoolSize = Number(unwrapNumber(spec.uriOptions?.minPoolSize) ?? 0);
    if (typeof awaitMs === 'number' && minPoolSize > 0) {
      const deadline = Date.now() + awaitMs;
      while (entity.readyConnections < minPoolSize) {
        if (Date.now() > deadline) throw new Error(`client ${spec.id}: the pool did not reach minPoolSize ${minPoolSize} within ${awaitMs}ms`);
        await sleep(10);
      }
      // Events before the pool is populated are ignored.
      entity.events.length = 0;
      entity.logs.length = 0;
      entity.startedCommands.length = 0;
      entity.allCommandsStarted.length = 0;
    }
  }

  // ------------------------------------------------------------------------------ operations

  private async runOperations(operations: readonly UnifiedOperation[], propagateErrors: boolean): Promise<void> {
    for (const op of operations) await this.runOperation(op, propagateErrors);
  }

  private async runOperation(op: UnifiedOperation, propagateErrors: boolean): Promise<void> {
    const where = `operation ${op.name} on ${op.object}`;
    if (op.object === 'testRunner') {
      const fn = this.special[op.name];
      try {
        if (!fn) throw new Error(`unsupported special test operation "${op.name}"`);
        await withTimeout(fn(this.ctx, isDocument(op.arguments) ? op.arguments : {}), this.operationTimeoutMS + 10_000, where);
      } catch (err) {
        if (err instanceof SkipCase) throw err;
        this.report(`${where}: ${(err as Error).message}`, err);
      }
      return;
    }
    let result: unknown;
    let error: unknown;
    try {
      result = await withTimeout(runEntityOperation(this.ctx, op), this.operationTimeoutMS, where);
    } catch (err) {
      if (err instanceof SkipCase) throw err;
      error = err ?? new Error('undefined error');
    }
    if (error instanceof NotImplementedError) {
      this.report(`${where}: ${error.message}`, error);
      if (propagateErrors) throw error;
      return;
    }
    if (!op.ignoreResultAndError) {
      if (op.expectError) {
        const r = checkExpectedError(op.expectError, error === undefined ? undefined : observeError(error), this.entities);
        if (!r.ok) this.report(`${where}: expectError${r.path === '$' ? '' : r.path}: ${r.message}`);
      } else if (error !== undefined) {
        this.report(`${where}: unexpected error: ${(error as Error).stack?.split('\n').slice(0, 3).join(' | ') ?? String(error)}`, error);
      }
      if (error === undefined && Object.prototype.hasOwnProperty.call(op, 'expectResult')) {
        const r = Array.isArray(op.expectResult)
          ? matchIterableResult(op.expectResult, result, { entities: this.entities })
          : matchResult(op.expectResult, result, { entities: this.entities });
        if (!r.ok) this.report(`${where}: expectResult ${r.path}: ${r.message} (actual ${describeValue(result)})`);
      }
    }
    if (error === undefined && op.saveResultAsEntity) {
      this.entities.set(op.saveResultAsEntity, savedResultType(op), result);
    }
    if (error !== undefined && propagateErrors) throw error;
  }

  /** An assertion failure: fails the test now, or is noted in record mode. */
  private report(message: string, cause?: unknown): void {
    if (this.recordOnly) {
      this.problems.push(message);
      return;
    }
    if (cause instanceof NotImplementedError) throw cause;
    throw new AssertionFailure(message);
  }

  // ------------------------------------------------------------------------------ expectations

  private async checkExpectations(): Promise<void> {
    for (const expected of this.test.expectEvents ?? []) {
      const client = this.entities.require<ClientEntity>(expected.client, 'client');
      const r = checkExpectedEvents(expected, client.events, this.entities);
      if (!r.ok) throw new AssertionFailure(`expectEvents for ${expected.client} ${r.path}: ${r.message}`);
    }
    for (const expected of this.test.expectLogMessages ?? []) {
      const client = this.entities.require<ClientEntity>(expected.client, 'client');
      const r = checkExpectedLogMessages(expected, client.logs, this.entities);
      if (!r.ok) throw new AssertionFailure(`expectLogMessages for ${expected.client} ${r.path}: ${r.message}`);
    }
    for (const expected of this.test.outcome ?? []) {
      const actual = await this.options.deployment.readCollection(expected.databaseName, expected.collectionName);
      const ns = `${expected.databaseName}.${expected.collectionName}`;
      if (actual.length !== expected.documents.length || !expected.documents.every((d, i) => valuesEqual(d, actual[i]))) {
        throw new AssertionFailure(`outcome of ${ns}: expected ${describeValue(expected.documents)}, found ${describeValue(actual)}`);
      }
    }
  }

  // ------------------------------------------------------------------------------ cleanup

  private async disableFailPoints(): Promise<void> {
    const failPoints = this.ctx.failPoints.splice(0);
    for (const fp of failPoints) {
      await withTimeout(this.options.deployment.disableFailPoint(fp.name, fp.address), 10_000, `disabling fail point ${fp.name}`).catch(() => undefined);
    }
  }

  private async cleanUp(): Promise<void> {
    for (const client of this.clients()) client.observing = false;
    await this.disableFailPoints();
    const quietly = (what: string, task: () => unknown): Promise<unknown> =>
      withTimeout(Promise.resolve().then(task), 5_000, what).catch(() => undefined);
    for (const [id, entry] of this.entities.all()) {
      if (entry.type === 'changeStream' || entry.type === 'cursor') await quietly(`closing ${id}`, () => (prop(entry.value, 'close') as () => unknown)?.call(entry.value));
      if (entry.type === 'thread') await quietly(`waiting for ${id}`, () => (entry.value as ThreadEntity).wait());
    }
    for (const [id, entry] of this.entities.all()) {
      if (entry.type !== 'session') continue;
      const session = (entry.value as SessionEntity).session;
      await quietly(`ending ${id}`, () => (prop(session, 'endSession') as () => unknown)?.call(session));
    }
    for (const client of this.clients()) {
      if (client.client) await quietly(`closing ${client.id}`, () => (client.client.close as () => unknown).call(client.client));
    }
    if (this.ctx.startedTransaction) await this.options.deployment.killAllSessions().catch(() => undefined);
  }
}

export async function runUnifiedTest(file: UnifiedTestFile, test: UnifiedTest, options: RunTestOptions): Promise<RecordedTestRun> {
  return new UnifiedTestRun(file, test, options).run();
}
