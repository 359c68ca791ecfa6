/**
 * SDAM monitoring events (server-discovery-and-monitoring-logging-and-monitoring spec, "Events
 * API"), named and shaped as in the official Node.js driver. They carry descriptions only:
 * never credentials.
 */
import type { Document } from 'bson';
import type { ServerDescription, TopologyDescription } from './types';

/** The unique id of one Topology instance, shared by all of its events. */
export type TopologyId = number;

/** Published first, when a topology is opened. */
export class TopologyOpeningEvent {
  readonly name = 'topologyOpening' as const;
  constructor(readonly topologyId: TopologyId) {}
}

/** Published last, when a topology is closed. */
export class TopologyClosedEvent {
  readonly name = 'topologyClosed' as const;
  constructor(readonly topologyId: TopologyId) {}
}

/** Published when the topology description changes (per TopologyDescription equality). */
export class TopologyDescriptionChangedEvent {
  readonly name = 'topologyDescriptionChanged' as const;
  constructor(
    readonly topologyId: TopologyId,
    readonly previousDescription: TopologyDescription,
    readonly newDescription: TopologyDescription
  ) {}
}

/** Published when a server is added to the topology, before its monitor starts. */
export class ServerOpeningEvent {
  readonly name = 'serverOpening' as const;
  constructor(
    readonly topologyId: TopologyId,
    readonly address: string
  ) {}
}

/** Published when a server is removed from the topology (or the topology closes) and its monitor stopped. */
export class ServerClosedEvent {
  readonly name = 'serverClosed' as const;
  constructor(
    readonly topologyId: TopologyId,
    readonly address: string
  ) {}
}

/** Published when a server's description changes (per Server Description Equality; RTT changes alone do not count). */
export class ServerDescriptionChangedEvent {
  readonly name = 'serverDescriptionChanged' as const;
  constructor(
    readonly topologyId: TopologyId,
    readonly address: string,
    readonly previousDescription: ServerDescription,
    readonly newDescription: ServerDescription
  ) {}
}

/** Published when a monitor sends hello (or just before it opens the monitoring socket). */
export class ServerHeartbeatStartedEvent {
  readonly name = 'serverHeartbeatStarted' as const;
  constructor(
    /** The server address (`host:port`) of the monitoring connection. */
    readonly connectionId: string,
    /** True for an awaitable (streaming) hello. */
    readonly awaited: boolean
  ) {}
}

/** Published when a monitor's hello succeeds. */
export class ServerHeartbeatSucceededEvent {
  readonly name = 'serverHeartbeatSucceeded' as const;
  constructor(
    readonly connectionId: string,
    /** Milliseconds to send hello and receive the reply. */
    readonly duration: number,
    readonly reply: Document,
    readonly awaited: boolean
  ) {}
}

/** Published when a monitor's hello fails with a network error or an `ok: 0` reply. */
export class ServerHeartbeatFailedEvent {
  readonly name = 'serverHeartbeatFailed' as const;
  constructor(
    readonly connectionId: string,
    readonly duration: number,
    readonly failure: Error,
    readonly awaited: boolean
  ) {}
}

export type ServerHeartbeatEvent = ServerHeartbeatStartedEvent | ServerHeartbeatSucceededEvent | ServerHeartbeatFailedEvent;

export type SdamEvent =
  | TopologyOpeningEvent
  | TopologyClosedEvent
  | TopologyDescriptionChangedEvent
  | ServerOpeningEvent
  | ServerClosedEvent
  | ServerDescriptionChangedEvent
  | ServerHeartbeatEvent;

/** Event name → listener arguments, for a typed `EventEmitter<SdamEventMap>`. */
export interface SdamEventMap {
  topologyOpening: [TopologyOpeningEvent];
  topologyClosed: [TopologyClosedEvent];
  topologyDescriptionChanged: [TopologyDescriptionChangedEvent];
  serverOpening: [ServerOpeningEvent];
  serverClosed: [ServerClosedEvent];
  serverDescriptionChanged: [ServerDescriptionChangedEvent];
  serverHeartbeatStarted: [ServerHeartbeatStartedEvent];
  serverHeartbeatSucceeded: [ServerHeartbeatSucceededEvent];
  serverHeartbeatFailed: [ServerHeartbeatFailedEvent];
}

export type SdamEventName = keyof SdamEventMap;

/** Every SDAM event name, in the order the spec lists them. */
export const SDAM_EVENT_NAMES: readonly SdamEventName[] = Object.freeze([
  'topologyOpening',
  'serverOpening',
  'serverDescriptionChanged',
  'topologyDescriptionChanged',
  'serverClosed',
  'topologyClosed',
  'serverHeartbeatStarted',
  'serverHeartbeatSucceeded',
  'serverHeartbeatFailed'
]);
