/**
 * Command monitoring (command-logging-and-monitoring spec): CommandStarted/Succeeded/Failed events
 * built from what a connection reports for each command it runs. Sensitive commands (auth, and
 * hello with speculativeAuthenticate) are redacted: command and reply `{}`, failure stripped.
 */
import type { Document, ObjectId } from 'bson';
import { isSensitiveCommand, redactSensitiveFailure } from './auth/sensitive_commands';
import type { CommandReport } from './pool/connection';
import type { MongoLogger } from './logger';
import { commandFailedMessage, commandStartedMessage, commandSucceededMessage } from './log_messages';

/** What a connection reports about one command (see ConnectionOptions.commandMonitor). */
export type ConnectionCommandInfo = CommandReport;

export type CommandMonitorHook = (info: ConnectionCommandInfo) => void;

/** Fields every command event carries. */
abstract class CommandEventBase {
  readonly requestId: number;
  readonly databaseName: string;
  readonly commandName: string;
  readonly address: string;
  readonly connectionId: number;
  readonly serverConnectionId: bigint | null;
  readonly serviceId?: ObjectId;

  protected constructor(info: ConnectionCommandInfo) {
    this.requestId = info.requestId;
    this.databaseName = info.databaseName;
    this.commandName = info.commandName;
    this.address = info.address;
    this.connectionId = info.connectionId;
    this.serverConnectionId = info.serverConnectionId === null ? null : BigInt(info.serverConnectionId);
    this.serviceId = info.serviceId;
  }
}

export class CommandStartedEvent extends CommandEventBase {
  readonly name = 'commandStarted' as const;
  readonly command: Document;
  constructor(info: ConnectionCommandInfo, redact: boolean) {
    super(info);
    this.command = redact ? {} : (info.command ?? {});
  }
}

export class CommandSucceededEvent extends CommandEventBase {
  readonly name = 'commandSucceeded' as const;
  readonly reply: Document;
  readonly duration: number;
  constructor(info: ConnectionCommandInfo, redact: boolean) {
    super(info);
    this.duration = info.duration ?? 0;
    this.reply = redact ? {} : (info.reply ?? {});
  }
}

export class CommandFailedEvent extends CommandEventBase {
  readonly name = 'commandFailed' as const;
  readonly failure: Error;
  readonly duration: number;
  constructor(info: ConnectionCommandInfo, redact: boolean) {
    super(info);
    this.duration = info.duration ?? 0;
    const failure = info.error ?? new Error('unknown failure');
    this.failure = redact ? redactSensitiveFailure(failure) : failure;
  }
}

export interface CommandEvents {
  commandStarted: [CommandStartedEvent];
  commandSucceeded: [CommandSucceededEvent];
  commandFailed: [CommandFailedEvent];
}

interface CommandEventSink {
  emit<K extends keyof CommandEvents>(name: K, ...args: CommandEvents[K]): boolean;
  listenerCount(name: keyof CommandEvents): number;
}

/**
 * Turns connection reports into events on the client. The sensitivity of a command is decided
 * at `started` (hello is sensitive only with speculativeAuthenticate) and remembered by requestId.
 */
export class CommandMonitor {
  private readonly sensitive = new Set<number>();
  /** Set when the logger writes command messages (command component at debug); else undefined. */
  private readonly logger: MongoLogger | undefined;
  /**
   * Whether events are emitted (the client sets it from `monitorCommands`): the hook may be
   * installed for logging alone.
   */
  publishEvents = true;

  constructor(
    private readonly sink: CommandEventSink,
    options: { logger?: MongoLogger } = {}
  ) {
    this.logger = options.logger?.willLog('command', 'debug') ? options.logger : undefined;
  }

  /** The hook for one connection; cheap when nobody listens. */
  forConnection(): CommandMonitorHook {
    return (info) => this.report(info);
  }

  /** Whether command log messages are written (the connection hook is needed even without monitorCommands). */
  get logging(): boolean {
    return this.logger !== undefined;
  }

  get enabled(): boolean {
    return (
      this.logger !== undefined ||
      (this.publishEvents &&
        this.sink.listenerCount('commandStarted') + this.sink.listenerCount('commandSucceeded') + this.sink.listenerCount('commandFailed') > 0)
    );
  }

  private listening(name: keyof CommandEvents): boolean {
    return this.publishEvents && this.sink.listenerCount(name) > 0;
  }

  report(info: ConnectionCommandInfo): void {
    const logger = this.logger;
    if (info.phase === 'started') {
      const redact = isSensitiveCommand(info.commandName, info.command);
      if (redact) this.sensitive.add(info.requestId);
      if (this.listening('commandStarted')) this.sink.emit('commandStarted', new CommandStartedEvent(info, redact));
      if (logger !== undefined) logger.log('command', 'debug', commandStartedMessage(info, redact, logger.maxDocumentLength));
      return;
    }
    const redact = this.sensitive.delete(info.requestId) || isSensitiveCommand(info.commandName);
    if (info.phase === 'succeeded') {
      if (this.listening('commandSucceeded')) this.sink.emit('commandSucceeded', new CommandSucceededEvent(info, redact));
      if (logger !== undefined) logger.log('command', 'debug', commandSucceededMessage(info, redact, logger.maxDocumentLength));
    } else {
      if (this.listening('commandFailed')) this.sink.emit('commandFailed', new CommandFailedEvent(info, redact));
      if (logger !== undefined) logger.log('command', 'debug', commandFailedMessage(info, redact, logger.maxDocumentLength));
    }
  }
}
