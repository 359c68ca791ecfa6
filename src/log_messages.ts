/**
 * The spec-defined log messages, built from what the driver already reports:
 * - command (command-logging-and-monitoring "Log Messages"): from a connection's command report;
 * - connection (CMAP "Connection Pool Logging"): from the CMAP events;
 * - topology (SDAM "Log Messages"): from the SDAM events;
 * - serverSelection (server-selection "Logging"): from the selection loop, via ServerSelectionLog.
 *
 * Every builder here is only called once `MongoLogger.willLog` said the message will be written.
 * Field names and message strings are exactly the specs'; absent values are omitted.
 */
import type { Document } from 'bson';
import type { ConnectionCommandInfo } from './command_monitoring';
import {
  errorForLog,
  hostAndPort,
  stringifyWithMaxLen,
  type LogFields,
  type MongoLogger
} from './logger';
import { ConnectionPoolEventName, type ConnectionPoolEvent, type ConnectionPoolEvents } from './pool/pool_events';
import { SDAM_EVENT_NAMES, type SdamEvent, type SdamEventMap, type TopologyId } from './sdam/sdam_events';
import type { ServerSelector } from './sdam/server_selection';
import type { ServerDescription, TopologyDescription } from './sdam/types';
import { redactSensitiveFailure } from './auth/sensitive_commands';

// ---------------------------------------------------------------------------------------------
// command
// ---------------------------------------------------------------------------------------------

function commandFields(info: ConnectionCommandInfo): Record<string, unknown> {
  return {
    commandName: info.commandName,
    databaseName: info.databaseName,
    requestId: info.requestId,
    driverConnectionId: info.connectionId,
    ...hostAndPort(info.address),
    serverConnectionId: info.serverConnectionId,
    serviceId: info.serviceId?.toHexString()
  };
}

/** "Command started": the command as sent, `{}` when sensitive. */
export function commandStartedMessage(info: ConnectionCommandInfo, redact: boolean, maxDocumentLength: number): LogFields {
  return {
    message: 'Command started',
    ...commandFields(info),
    command: redact ? '{}' : stringifyWithMaxLen(info.command ?? {}, maxDocumentLength)
  };
}

/** "Command succeeded": the reply, `{}` when sensitive. */
export function commandSucceededMessage(info: ConnectionCommandInfo, redact: boolean, maxDocumentLength: number): LogFields {
  return {
    message: 'Command succeeded',
    ...commandFields(info),
    durationMS: info.duration ?? 0,
    reply: redact ? '{}' : stringifyWithMaxLen(info.reply ?? {}, maxDocumentLength)
  };
}

/** "Command failed": the error, redacted (only code, codeName and labels) when sensitive. */
export function commandFailedMessage(info: ConnectionCommandInfo, redact: boolean, maxDocumentLength: number): LogFields {
  const error = info.error ?? new Error('unknown failure');
  const failure = errorForLog(redact ? redactSensitiveFailure(error) : error, maxDocumentLength);
  if (redact) delete failure.errorResponse;
  return {
    message: 'Command failed',
    ...commandFields(info),
    durationMS: info.duration ?? 0,
    failure
  };
}

// ---------------------------------------------------------------------------------------------
// connection
// ---------------------------------------------------------------------------------------------

/** CMAP spec "Connection Closed Message" reasons. */
export const CONNECTION_CLOSED_REASONS = Object.freeze({
  stale: 'Connection became stale because the pool was cleared',
  idle: 'Connection has been available but unused for longer than the configured max idle time',
  error: 'An error occurred while using the connection',
  poolClosed: 'Connection pool was closed'
} as const);

/** CMAP spec "Connection Checkout Failed Message" reasons. */
export const CHECKOUT_FAILED_REASONS = Object.freeze({
  timeout: 'Wait queue timeout elapsed without a connection becoming available',
  connectionError: 'An error occurred while trying to establish a new connection',
  poolClosed: 'Connection pool was closed'
} as const);

/** The "connection" message for a CMAP event. */
export function connectionMessage(event: ConnectionPoolEvent, maxDocumentLength: number): LogFields {
  const common = hostAndPort(event.address);
  switch (event.name) {
    case 'connectionPoolCreated': {
      const { maxIdleTimeMS, minPoolSize, maxPoolSize, maxConnecting, waitQueueTimeoutMS } = event.options;
      return { message: 'Connection pool created', ...common, maxIdleTimeMS, minPoolSize, maxPoolSize, maxConnecting, waitQueueTimeoutMS };
    }
    case 'connectionPoolReady':
      return { message: 'Connection pool ready', ...common };
    case 'connectionPoolCleared':
      return { message: 'Connection pool cleared', ...common, serviceId: event.serviceId?.toHexString() };
    case 'connectionPoolClosed':
      return { message: 'Connection pool closed', ...common };
    case 'connectionCreated':
      return { message: 'Connection created', ...common, driverConnectionId: event.connectionId };
    case 'connectionReady':
      return { message: 'Connection ready', ...common, driverConnectionId: event.connectionId, durationMS: event.durationMS };
    case 'connectionClosed':
      return {
        message: 'Connection closed',
        ...common,
        driverConnectionId: event.connectionId,
        reason: CONNECTION_CLOSED_REASONS[event.reason],
        error: event.reason === 'error' && event.error ? errorForLog(event.error, maxDocumentLength) : undefined
      };
    case 'connectionCheckOutStarted':
      return { message: 'Connection checkout started', ...common };
    case 'connectionCheckOutFailed':
      return {
        message: 'Connection checkout failed',
        ...common,
        reason: CHECKOUT_FAILED_REASONS[event.reason],
        error: event.reason === 'connectionError' && event.error ? errorForLog(event.error, maxDocumentLength) : undefined,
        durationMS: event.durationMS
      };
    case 'connectionCheckedOut':
      return { message: 'Connection checked out', ...common, driverConnectionId: event.connectionId, durationMS: event.durationMS };
    case 'connectionCheckedIn':
      return { message: 'Connection checked in', ...common, driverConnectionId: event.connectionId };
  }
}

// ---------------------------------------------------------------------------------------------
// topology
// ---------------------------------------------------------------------------------------------

/**
 * The driver id of a monitoring connection. Monitoring connections are not CMAP connections:
 * they are opened outside any pool and all carry the driver id 0.
 */
export const MONITORING_DRIVER_CONNECTION_ID = 0;

/**
 * Builds the "topology" messages. Heartbeat events carry no topology id, so this remembers the
 * one of the client's topology (from its opening event), and the server connection id of each
 * monitoring connection (from its hello replies) until a heartbeat fails.
 */
export class TopologyLogState {
  private topologyId: TopologyId | undefined;
  private readonly serverConnectionIds = new Map<string, number>();

  message(event: SdamEvent, maxDocumentLength: number): LogFields | undefined {
    switch (event.name) {
      case 'topologyOpening':
        this.topologyId = event.topologyId;
        return { message: 'Starting topology monitoring', topologyId: event.topologyId };
      case 'topologyClosed':
        return { message: 'Stopped topology monitoring', topologyId: event.topologyId };
      case 'serverOpening':
        return { message: 'Starting server monitoring', topologyId: event.topologyId, ...hostAndPort(event.address) };
      case 'serverClosed':
        this.serverConnectionIds.delete(event.address);
        return { message: 'Stopped server monitoring', topologyId: event.topologyId, ...hostAndPort(event.address) };
      case 'topologyDescriptionChanged':
        return {
          message: 'Topology description changed',
          topologyId: event.topologyId,
          previousDescription: describeTopology(event.previousDescription, maxDocumentLength),
          newDescription: describeTopology(event.newDescription, maxDocumentLength)
        };
      case 'serverDescriptionChanged':
        // No message: the spec leaves it out as redundant with "Topology description changed".
        return undefined;
      case 'serverHeartbeatStarted':
        return { message: 'Server heartbeat started', ...this.heartbeatFields(event.connectionId), awaited: event.awaited };
      case 'serverHeartbeatSucceeded': {
        const serverConnectionId: unknown = event.reply.connectionId;
        if (typeof serverConnectionId === 'number') this.serverConnectionIds.set(event.connectionId, serverConnectionId);
        return {
          message: 'Server heartbeat succeeded',
          ...this.heartbeatFields(event.connectionId),
          awaited: event.awaited,
          durationMS: event.duration,
          reply: stringifyWithMaxLen(event.reply, maxDocumentLength)
        };
      }
      case 'serverHeartbeatFailed': {
        const fields = this.heartbeatFields(event.connectionId);
        // The monitoring connection is dropped after a failure; the next one gets a new server id.
        this.serverConnectionIds.delete(event.connectionId);
        return {
          message: 'Server heartbeat failed',
          ...fields,
          awaited: event.awaited,
          durationMS: event.duration,
          failure: errorForLog(event.failure, maxDocumentLength)
        };
      }
    }
  }

  private heartbeatFields(address: string): Record<string, unknown> {
    return {
      topologyId: this.topologyId,
      ...hostAndPort(address),
      driverConnectionId: MONITORING_DRIVER_CONNECTION_ID,
      serverConnectionId: this.serverConnectionIds.get(address)
    };
  }
}

/** A topology description as relaxed extended JSON (truncated): type, set, and each server's state. */
export function describeTopology(description: TopologyDescription, maxDocumentLength: number): string {
  const doc: Document = { type: description.type };
  if (description.setName !== null) doc.setName = description.setName;
  if (description.maxSetVersion !== null) doc.maxSetVersion = description.maxSetVersion;
  if (description.maxElectionId !== null) doc.maxElectionId = description.maxElectionId;
  if (!description.compatible && description.compatibilityError) doc.compatibilityError = description.compatibilityError;
  if (description.logicalSessionTimeoutMinutes !== null) doc.logicalSessionTimeoutMinutes = description.logicalSessionTimeoutMinutes;
  doc.servers = Array.from(description.servers.values(), describeServer);
  return stringifyWithMaxLen(doc, maxDocumentLength);
}

function describeServer(server: ServerDescription): Document {
  const doc: Document = { address: server.address, type: server.type };
  if (server.setName !== null) doc.setName = server.setName;
  if (server.setVersion !== null) doc.setVersion = server.setVersion;
  if (server.electionId !== null) doc.electionId = server.electionId;
  if (server.primary !== null) doc.primary = server.primary;
  if (server.roundTripTime !== null) doc.roundTripTime = server.roundTripTime;
  if (Object.keys(server.tags).length > 0) doc.tags = server.tags;
  if (server.type !== 'Unknown') {
    doc.minWireVersion = server.minWireVersion;
    doc.maxWireVersion = server.maxWireVersion;
  }
  if (server.error) doc.error = server.error.message;
  return doc;
}

// ---------------------------------------------------------------------------------------------
// event subscription (connection and topology)
// ---------------------------------------------------------------------------------------------

/** Anything the CMAP and SDAM events are emitted on (the client re-emits them). */
export interface LoggedEventSource {
  on(eventName: string, listener: (event: never) => void): unknown;
}

const POOL_EVENT_NAMES: ReadonlyArray<keyof ConnectionPoolEvents> = Object.values(ConnectionPoolEventName);

/** Every SDAM event but serverDescriptionChanged, which the logging spec does not log. */
const LOGGED_SDAM_EVENT_NAMES: ReadonlyArray<keyof SdamEventMap> = SDAM_EVENT_NAMES.filter((name) => name !== 'serverDescriptionChanged');

/**
 * Logs the CMAP events ("connection") and SDAM events ("topology") emitted on `source`, for the
 * components the logger has at debug level. Subscribes to nothing when both are off.
 */
export function logPoolAndTopologyEvents(source: LoggedEventSource, logger: MongoLogger): void {
  if (logger.willLog('connection', 'debug')) {
    const onEvent = (event: ConnectionPoolEvent): void =>
      logger.log('connection', 'debug', connectionMessage(event, logger.maxDocumentLength));
    for (const name of POOL_EVENT_NAMES) source.on(name, onEvent);
  }
  if (logger.willLog('topology', 'debug')) {
    const state = new TopologyLogState();
    const onEvent = (event: SdamEvent): void => {
      const fields = state.message(event, logger.maxDocumentLength);
      if (fields) logger.log('topology', 'debug', fields);
    };
    for (const name of LOGGED_SDAM_EVENT_NAMES) source.on(name, onEvent);
  }
}

// ---------------------------------------------------------------------------------------------
// serverSelection
// ---------------------------------------------------------------------------------------------

/**
 * The four server selection messages of one selection. Created only when the serverSelection
 * component logs at `info` or below; "Waiting for suitable server" is written at most once.
 */
export class ServerSelectionLog {
  private readonly selector: string;
  private waited = false;

  constructor(
    private readonly logger: MongoLogger,
    selector: ServerSelector,
    private readonly operation: string | undefined,
    customSelector: boolean
  ) {
    this.selector = customSelector ? `${selector.description} and a custom server selector` : selector.description;
  }

  private fields(message: string, topology: TopologyDescription): LogFields {
    return {
      message,
      selector: this.selector,
      operation: this.operation,
      topologyDescription: describeTopology(topology, this.logger.maxDocumentLength)
    };
  }

  started(topology: TopologyDescription): void {
    if (this.logger.willLog('serverSelection', 'debug')) {
      this.logger.log('serverSelection', 'debug', this.fields('Server selection started', topology));
    }
  }

  /** Logs once per selection, at info level. */
  waiting(topology: TopologyDescription, remainingTimeMS: number): void {
    if (this.waited) return;
    this.waited = true;
    this.logger.log('serverSelection', 'info', {
      ...this.fields('Waiting for suitable server to become available', topology),
      remainingTimeMS: Math.max(0, Math.round(remainingTimeMS))
    });
  }

  succeeded(topology: TopologyDescription, server: ServerDescription): void {
    if (this.logger.willLog('serverSelection', 'debug')) {
      this.logger.log('serverSelection', 'debug', { ...this.fields('Server selection succeeded', topology), ...hostAndPort(server.address) });
    }
  }

  failed(topology: TopologyDescription, error: unknown): void {
    if (!this.logger.willLog('serverSelection', 'debug')) return;
    const failure = errorForLog(error, this.logger.maxDocumentLength);
    // The selection error's message ends with the topology, already in topologyDescription.
    const topologyAt = failure.message.indexOf(' Topology: ');
    if (failure.name === 'MongoServerSelectionError' && topologyAt > 0) failure.message = failure.message.slice(0, topologyAt);
    this.logger.log('serverSelection', 'debug', { ...this.fields('Server selection failed', topology), failure });
  }
}
