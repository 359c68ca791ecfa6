/**
 * An in-memory deployment for executor tests: an ExecutorClient whose servers and connections are
 * fakes, with scripted replies per command and a record of every command "sent". No sockets, no
 * timers: retry, session, transaction and CSOT logic can be tested deterministically.
 *
 *   const d = FakeDeployment.replicaSet(['a:1', 'b:1'], { primary: 'a:1' });
 *   d.script('insert', failNext(1, { code: 91, errorLabels: ['RetryableWriteError'] }));
 *   await d.run(new TestWrite(...));
 *   d.sent('insert') // → [{ address, db, command }, …]
 */
import type { Document } from 'bson';
import { MongoNetworkError, MongoServerError, MongoServerSelectionError } from '../../src/errors';
import {
  executeOperation,
  type ExecutorClient,
  type ExecutorConnection,
  type ExecutorServer,
  type ExecutorTopology,
  type SelectServerOptions
} from '../../src/operations/execute_operation';
import { Aspect, aspects, CommandOperation, type AbstractOperation, type BaseOperationOptions } from '../../src/operations/operation';
import { ReadConcern } from '../../src/read_concern';
import { ReadPreference } from '../../src/read_preference';
import { serverDescriptionFromHello } from '../../src/sdam/server_description';
import { selectServers, type ServerSelector } from '../../src/sdam/server_selection';
import { createTopologyDescription, updateTopologyDescription } from '../../src/sdam/topology_description';
import { TopologyType, type ServerDescription, type TopologyDescription } from '../../src/sdam/types';
import { ClientSession, ServerSessionPool, type ClientSessionOptions, type ClusterTime, type SessionOwner } from '../../src/sessions';
import type { TimeoutOptions } from '../../src/timeout';
import type { WriteConcern } from '../../src/write_concern';

/** One command as the fake server received it (after the executor's decoration). */
export interface SentCommand {
  address: string;
  db: string;
  name: string;
  command: Document;
  /** The per-command socket timeout the executor asked for (CSOT). */
  timeoutMS?: number;
}

/** A scripted reply: a document (ok:1 or ok:0), a thrown error, or a function of the request. */
export type FakeReply = Document | Error;
export type FakeHandler = (sent: SentCommand) => FakeReply | Promise<FakeReply>;

/** Fails the next `n` commands with a server error reply (or a network error), then answers `ok: 1`. */
export function failNext(n: number, error: Document | 'network', then: FakeHandler = okReply): FakeHandler {
  let left = n;
  return (sent) => {
    if (left <= 0) return then(sent);
    left--;
    if (error === 'network') return new MongoNetworkError(`fake network error on ${sent.address}`);
    return { ok: 0, errmsg: `fake error ${String(error.code)}`, ...error };
  };
}

/** Plays the given replies in order, then `then` for every later command. */
export function sequence(replies: Array<Document | 'network'>, then: FakeHandler = okReply): FakeHandler {
  let i = 0;
  return (sent) => {
    if (i >= replies.length) return then(sent);
    const reply = replies[i++];
    if (reply === 'network') return new MongoNetworkError(`fake network error on ${sent.address}`);
    return reply;
  };
}

export function okReply(sent: SentCommand): Document {
  switch (sent.name) {
    case 'find':
    case 'aggregate':
      return { ok: 1, cursor: { id: 0, ns: `${sent.db}.coll`, firstBatch: [] } };
    case 'insert':
      return { ok: 1, n: Array.isArray(sent.command.documents) ? sent.command.documents.length : 1 };
    default:
      return { ok: 1 };
  }
}

export interface FakeServerSpec {
  address: string;
  hello: Document;
  minRoundTripTime?: number;
}

class FakeConnection implements ExecutorConnection {
  readonly maxBsonObjectSize = 16 * 1024 * 1024;
  readonly maxMessageSizeBytes = 48_000_000;
  readonly maxWriteBatchSize = 100_000;
  constructor(
    private readonly deployment: FakeDeployment,
    readonly address: string,
    readonly maxWireVersion: number
  ) {}

  async command(db: string, command: Document, options?: { timeoutMS?: number }): Promise<Document> {
    return this.deployment.receive(this.address, db, command, options?.timeoutMS);
  }
}

class FakeServer implements ExecutorServer {
  constructor(
    private readonly deployment: FakeDeployment,
    readonly description: ServerDescription
  ) {}

  async checkOut(options?: { timeoutMS?: number }): Promise<ExecutorConnection> {
    this.deployment.checkouts.push({ address: this.description.address, timeoutMS: options?.timeoutMS });
    const failure = this.deployment.checkoutFailures.get(this.description.address)?.shift();
    if (failure) throw failure;
    return new FakeConnection(this.deployment, this.description.address, this.description.maxWireVersion);
  }

  checkIn(): void {
    this.deployment.checkins++;
  }

  handleError(error: unknown): void {
    this.deployment.sdamErrors.push(error);
  }
}

class FakeTopology implements ExecutorTopology {
  clusterTime?: ClusterTime;
  description: TopologyDescription;
  constructor(private readonly deployment: FakeDeployment, description: TopologyDescription) {
    this.description = description;
  }

  async selectServer(selector: ServerSelector, options: SelectServerOptions): Promise<ExecutorServer> {
    this.deployment.selections.push({ deprioritized: [...(options.deprioritized ?? [])], timeoutMS: options.timeoutMS });
    const unavailable = this.deployment.selectionFailures.shift();
    if (unavailable) throw unavailable;
    const candidates = selectServers(this.description, selector, { deprioritized: options.deprioritized });
    const chosen = candidates[0];
    if (!chosen) throw new MongoServerSelectionError(`fake: no server for ${selector.description}`);
    return new FakeServer(this.deployment, chosen);
  }
}

export interface FakeDeploymentOptions {
  retryReads?: boolean;
  retryWrites?: boolean;
  maxAdaptiveRetries?: number;
  enableOverloadRetargeting?: boolean;
  serverSelectionTimeoutMS?: number;
  /** Client-level defaults for transactions. */
  readConcern?: ReadConcern;
  writeConcern?: WriteConcern;
  timeoutMS?: number;
}

/** An ExecutorClient over fake servers; also the SessionOwner of its sessions. */
export class FakeDeployment implements ExecutorClient, SessionOwner {
  readonly topology: FakeTopology;
  retryReads: boolean;
  retryWrites: boolean;
  maxAdaptiveRetries?: number;
  enableOverloadRetargeting?: boolean;
  serverSelectionTimeoutMS?: number;
  readonly serverSessionPool: ServerSessionPool;
  readonly sessionOwner: SessionOwner = this;
  readConcern?: ReadConcern;
  writeConcern?: WriteConcern;
  readonly readPreference = ReadPreference.primary;
  timeoutMS?: number;

  /** Jitter and sleep hooks (backpressure): jitter 0 and instant sleeps by default, sleeps recorded. */
  random: () => number = () => 0;
  readonly sleeps: number[] = [];
  sleep = async (ms: number): Promise<void> => {
    this.sleeps.push(ms);
  };

  readonly sent: SentCommand[] = [];
  readonly selections: Array<{ deprioritized: string[]; timeoutMS?: number }> = [];
  readonly checkouts: Array<{ address: string; timeoutMS?: number }> = [];
  checkins = 0;
  readonly sdamErrors: unknown[] = [];
  readonly checkoutFailures = new Map<string, Error[]>();
  readonly selectionFailures: Error[] = [];
  private readonly handlers = new Map<string, FakeHandler>();
  /** Per-address handlers (override the per-command ones). */
  private readonly serverHandlers = new Map<string, FakeHandler>();
  /** Called before every command (e.g. to advance a fake clock). */
  onCommand?: (sent: SentCommand) => void;

  constructor(type: TopologyType, servers: FakeServerSpec[], options: FakeDeploymentOptions = {}) {
    let description = createTopologyDescription({ type, seeds: servers.map((s) => s.address), setName: servers[0]?.hello.setName ?? null });
    for (const s of servers) {
      description = updateTopologyDescription(
        description,
        serverDescriptionFromHello(s.address, s.hello, { roundTripTime: s.minRoundTripTime ?? 1, minRoundTripTime: s.minRoundTripTime ?? 0 })
      );
    }
    this.topology = new FakeTopology(this, description);
    this.retryReads = options.retryReads ?? true;
    this.retryWrites = options.retryWrites ?? true;
    this.maxAdaptiveRetries = options.maxAdaptiveRetries;
    this.enableOverloadRetargeting = options.enableOverloadRetargeting;
    this.serverSelectionTimeoutMS = options.serverSelectionTimeoutMS;
    this.readConcern = options.readConcern;
    this.writeConcern = options.writeConcern;
    this.timeoutMS = options.timeoutMS;
    this.serverSessionPool = new ServerSessionPool(() => this.topology.description.logicalSessionTimeoutMinutes);
  }

  static hello(extra: Document = {}): Document {
    return { ok: 1, isWritablePrimary: true, maxWireVersion: 25, minWireVersion: 0, logicalSessionTimeoutMinutes: 30, ...extra };
  }

  /** A single replica-set primary (direct connection): supports sessions and retryable writes. */
  static primary(options: FakeDeploymentOptions & { maxWireVersion?: number; minRoundTripTime?: number } = {}): FakeDeployment {
    const hello = FakeDeployment.hello({ setName: 'rs', hosts: ['a:1'], me: 'a:1', primary: 'a:1', maxWireVersion: options.maxWireVersion ?? 25 });
    return new FakeDeployment(TopologyType.Single, [{ address: 'a:1', hello, minRoundTripTime: options.minRoundTripTime }], options);
  }

  static standalone(options: FakeDeploymentOptions = {}): FakeDeployment {
    return new FakeDeployment(TopologyType.Single, [{ address: 'a:1', hello: FakeDeployment.hello() }], options);
  }

  /** A replica set: `primary` plus secondaries. */
  static replicaSet(addresses: string[], options: FakeDeploymentOptions & { primary?: string } = {}): FakeDeployment {
    const primary = options.primary ?? addresses[0];
    const servers = addresses.map((address) => ({
      address,
      hello: FakeDeployment.hello({
        setName: 'rs',
        hosts: addresses,
        me: address,
        primary,
        isWritablePrimary: address === primary,
        secondary: address !== primary
      })
    }));
    return new FakeDeployment(TopologyType.ReplicaSetWithPrimary, servers, options);
  }

  static sharded(addresses: string[], options: FakeDeploymentOptions = {}): FakeDeployment {
    const servers = addresses.map((address) => ({ address, hello: FakeDeployment.hello({ msg: 'isdbgrid' }) }));
    return new FakeDeployment(TopologyType.Sharded, servers, options);
  }

  /** Scripts the replies to `commandName`. */
  script(commandName: string, handler: FakeHandler): this {
    this.handlers.set(commandName, handler);
    return this;
  }

  /** Scripts every command sent to `address`. */
  scriptServer(address: string, handler: FakeHandler): this {
    this.serverHandlers.set(address, handler);
    return this;
  }

  /** Commands received, optionally only those named `name`. */
  commands(name?: string): SentCommand[] {
    return name === undefined ? [...this.sent] : this.sent.filter((s) => s.name === name);
  }

  async receive(address: string, db: string, command: Document, timeoutMS?: number): Promise<Document> {
    const name = Object.keys(command)[0] ?? '';
    const sent: SentCommand = { address, db, name, command, timeoutMS };
    this.sent.push(sent);
    this.onCommand?.(sent);
    const handler = this.serverHandlers.get(address) ?? this.handlers.get(name) ?? okReply;
    const reply = await handler(sent);
    if (reply instanceof Error) throw reply;
    if (reply.ok !== 1) throw new MongoServerError(reply);
    return reply;
  }

  async executeOperation<T>(operation: AbstractOperation<T>): Promise<T> {
    return executeOperation(this, operation);
  }

  /** Runs an operation through the real executor. */
  run<T>(operation: AbstractOperation<T>): Promise<T> {
    return executeOperation(this, operation);
  }

  startSession(options?: ClientSessionOptions): ClientSession {
    return new ClientSession(this, options ?? {}, true);
  }
}

export interface TestOperationOptions extends BaseOperationOptions, TimeoutOptions {
  /** false for e.g. multi-document updates (never retryable). */
  retryable?: boolean;
}

/** A command operation for tests: sends `command` as given; retryable unless `retryable: false`. */
abstract class TestCommand extends CommandOperation<Document> {
  readonly commandName: string;
  /** READ_OPERATION or WRITE_OPERATION. */
  protected abstract readonly kind: Aspect;
  constructor(
    private readonly command: Document,
    private readonly testOptions: TestOperationOptions = {}
  ) {
    super('db', testOptions);
    this.commandName = Object.keys(command)[0];
  }
  get aspects() {
    return this.testOptions.retryable === false ? aspects(this.kind) : aspects(this.kind, Aspect.RETRYABLE);
  }
  buildCommand(): Document {
    return { ...this.command };
  }
}

/** A write command operation for tests (like insertOne / updateMany). */
export class TestWrite extends TestCommand {
  protected readonly kind = Aspect.WRITE_OPERATION;
}

/** A read command operation for tests (like find / aggregate). */
export class TestRead extends TestCommand {
  protected readonly kind = Aspect.READ_OPERATION;
}
