/**
 * CMAP monitoring events (connection-monitoring-and-pooling spec, "Events"), shaped like the
 * official Node.js driver's: every event carries `time` (a `Date`) and `address`; durations are
 * `durationMS` (milliseconds, from a monotonic clock); `name` is the event's emitter name.
 *
 * Events never carry credentials: they hold ids, addresses, reasons and (for failures) the error.
 */
import type { ObjectId } from 'bson';

/** The emitter names of the CMAP events, as in the Node.js driver. */
export const ConnectionPoolEventName = Object.freeze({
  connectionPoolCreated: 'connectionPoolCreated',
  connectionPoolReady: 'connectionPoolReady',
  connectionPoolCleared: 'connectionPoolCleared',
  connectionPoolClosed: 'connectionPoolClosed',
  connectionCreated: 'connectionCreated',
  connectionReady: 'connectionReady',
  connectionClosed: 'connectionClosed',
  connectionCheckOutStarted: 'connectionCheckOutStarted',
  connectionCheckOutFailed: 'connectionCheckOutFailed',
  connectionCheckedOut: 'connectionCheckedOut',
  connectionCheckedIn: 'connectionCheckedIn'
} as const);
export type ConnectionPoolEventName = (typeof ConnectionPoolEventName)[keyof typeof ConnectionPoolEventName];

/** Why a connection was closed. */
export type ConnectionClosedReason = 'stale' | 'idle' | 'error' | 'poolClosed';
/** Why a check-out failed. */
export type ConnectionCheckOutFailedReason = 'poolClosed' | 'timeout' | 'connectionError';

/** The pool options reported by `PoolCreatedEvent` (effective values, as the Node.js driver does). */
export interface PoolCreatedEventOptions {
  maxPoolSize: number;
  minPoolSize: number;
  maxConnecting: number;
  maxIdleTimeMS: number;
  waitQueueTimeoutMS: number;
}

/** Fields shared by every CMAP event. */
export abstract class ConnectionPoolMonitoringEvent {
  /** When the event was created. */
  readonly time: Date = new Date();
  abstract readonly name: ConnectionPoolEventName;
  /** The `host:port` address of the pool's endpoint. */
  constructor(readonly address: string) {}
}

/** A pool was created (it starts paused). */
export class PoolCreatedEvent extends ConnectionPoolMonitoringEvent {
  readonly name = ConnectionPoolEventName.connectionPoolCreated;
  constructor(
    address: string,
    readonly options: PoolCreatedEventOptions
  ) {
    super(address);
  }
}

/** A paused pool was marked ready. */
export class PoolReadyEvent extends ConnectionPoolMonitoringEvent {
  readonly name = ConnectionPoolEventName.connectionPoolReady;
}

/** A pool was cleared (its generation, or a service's generation in load-balanced mode, was bumped). */
export class PoolClearedEvent extends ConnectionPoolMonitoringEvent {
  readonly name = ConnectionPoolEventName.connectionPoolCleared;
  /** Load-balanced mode: the service whose connections were cleared. */
  readonly serviceId?: ObjectId;
  /** Whether in-use connections were interrupted as part of the clear. */
  readonly interruptInUseConnections?: boolean;
  constructor(address: string, options: { serviceId?: ObjectId; interruptInUseConnections?: boolean } = {}) {
    super(address);
    this.serviceId = options.serviceId;
    this.interruptInUseConnections = options.interruptInUseConnections;
  }
}

/** A pool was closed. */
export class PoolClosedEvent extends ConnectionPoolMonitoringEvent {
  readonly name = ConnectionPoolEventName.connectionPoolClosed;
}

/** The pool created a (pending, not yet established) connection. */
export class ConnectionCreatedEvent extends ConnectionPoolMonitoringEvent {
  readonly name = ConnectionPoolEventName.connectionCreated;
  constructor(
    address: string,
    readonly connectionId: number
  ) {
    super(address);
  }
}

/** A connection finished its handshake and authentication. */
export class ConnectionReadyEvent extends ConnectionPoolMonitoringEvent {
  readonly name = ConnectionPoolEventName.connectionReady;
  constructor(
    address: string,
    readonly connectionId: number,
    /** Time from `ConnectionCreated` to this event. */
    readonly durationMS: number
  ) {
    super(address);
  }
}

/** The pool closed a connection; it is no longer part of the pool. */
export class ConnectionClosedEvent extends ConnectionPoolMonitoringEvent {
  readonly name = ConnectionPoolEventName.connectionClosed;
  constructor(
    address: string,
    readonly connectionId: number,
    readonly reason: ConnectionClosedReason,
    /** Load-balanced mode: the connection's service. */
    readonly serviceId?: ObjectId,
    /** The error that closed the connection (reason `error`), or null. */
    readonly error: Error | null = null
  ) {
    super(address);
  }
}

/** A check-out began. */
export class ConnectionCheckOutStartedEvent extends ConnectionPoolMonitoringEvent {
  readonly name = ConnectionPoolEventName.connectionCheckOutStarted;
}

/** A check-out failed. */
export class ConnectionCheckOutFailedEvent extends ConnectionPoolMonitoringEvent {
  readonly name = ConnectionPoolEventName.connectionCheckOutFailed;
  constructor(
    address: string,
    readonly reason: ConnectionCheckOutFailedReason,
    /** Time from `ConnectionCheckOutStarted` to this event. */
    readonly durationMS: number,
    readonly error?: Error
  ) {
    super(address);
  }
}

/** A check-out succeeded. */
export class ConnectionCheckedOutEvent extends ConnectionPoolMonitoringEvent {
  readonly name = ConnectionPoolEventName.connectionCheckedOut;
  constructor(
    address: string,
    readonly connectionId: number,
    /** Time from `ConnectionCheckOutStarted` to this event. */
    readonly durationMS: number
  ) {
    super(address);
  }
}

/** A connection was checked back in. */
export class ConnectionCheckedInEvent extends ConnectionPoolMonitoringEvent {
  readonly name = ConnectionPoolEventName.connectionCheckedIn;
  constructor(
    address: string,
    readonly connectionId: number
  ) {
    super(address);
  }
}

/** The Node.js driver's class names for the pool-level events. */
export {
  PoolCreatedEvent as ConnectionPoolCreatedEvent,
  PoolReadyEvent as ConnectionPoolReadyEvent,
  PoolClearedEvent as ConnectionPoolClearedEvent,
  PoolClosedEvent as ConnectionPoolClosedEvent
};

/** Listener signatures of the pool's typed `EventEmitter`. */
export interface ConnectionPoolEvents {
  connectionPoolCreated: [event: PoolCreatedEvent];
  connectionPoolReady: [event: PoolReadyEvent];
  connectionPoolCleared: [event: PoolClearedEvent];
  connectionPoolClosed: [event: PoolClosedEvent];
  connectionCreated: [event: ConnectionCreatedEvent];
  connectionReady: [event: ConnectionReadyEvent];
  connectionClosed: [event: ConnectionClosedEvent];
  connectionCheckOutStarted: [event: ConnectionCheckOutStartedEvent];
  connectionCheckOutFailed: [event: ConnectionCheckOutFailedEvent];
  connectionCheckedOut: [event: ConnectionCheckedOutEvent];
  connectionCheckedIn: [event: ConnectionCheckedInEvent];
}

/** Any CMAP event. */
export type ConnectionPoolEvent = ConnectionPoolEvents[keyof ConnectionPoolEvents][0];
