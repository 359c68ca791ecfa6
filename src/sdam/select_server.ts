/**
 * The server selection loop (server-selection spec "Server selection algorithm" for multi-threaded
 * drivers): select from the current description; if nothing is suitable, ask the monitors for an
 * immediate check and wait for the next description change, until serverSelectionTimeoutMS (or the
 * operation's own deadline) expires.
 */
import { MongoCompatibilityError, MongoTopologyClosedError } from '../errors';
import { chooseInWindow, selectServers, serverSelectionError, type CustomServerSelector, type ServerSelector } from './server_selection';
import type { Topology } from './topology';
import type { ServerDescription, TopologyDescription } from './types';
import type { MongoLogger } from '../logger';
import { ServerSelectionLog } from '../log_messages';

export interface SelectionOptions {
  /** Operation name, for the failure message. */
  operationName?: string;
  /** Addresses to avoid (retries). */
  deprioritized?: Iterable<string>;
  /** serverSelectionTimeoutMS, or the operation's remaining CSOT budget when smaller. */
  timeoutMS: number;
  serverSelector?: CustomServerSelector;
  /** In-flight operations per server, for the power-of-two choice. */
  operationCount: (address: string) => number;
  signal?: AbortSignal;
  /** Writes the serverSelection log messages when that component is enabled. */
  logger?: MongoLogger;
  /** Remembers the last latency window (see SelectionCache); one per client. */
  cache?: SelectionCache;
}

/**
 * The last successful selection's latency window, by topology description and selector: while
 * the description (immutable, replaced on every change) and the selector object are the same,
 * suitability, validation and the window are the same too, so only the choice inside the window
 * (random two-choice by operation count) is made again. Not used with deprioritized servers or
 * an application-provided serverSelector (which may not be pure).
 */
export class SelectionCache {
  description?: TopologyDescription;
  selector?: ServerSelector;
  inWindow: readonly ServerDescription[] = [];

  lookup(description: TopologyDescription, selector: ServerSelector): readonly ServerDescription[] | undefined {
    return this.description === description && this.selector === selector ? this.inWindow : undefined;
  }

  store(description: TopologyDescription, selector: ServerSelector, inWindow: readonly ServerDescription[]): void {
    this.description = description;
    this.selector = selector;
    this.inWindow = inWindow;
  }
}

function hasAny(items: Iterable<string> | undefined): boolean {
  if (items === undefined) return false;
  for (const _ of items) return true;
  return false;
}

/** Whether this selection writes serverSelection log messages (it then always takes the loop). */
export function logsSelection(options: SelectionOptions): boolean {
  return options.logger !== undefined && options.logger.willLog('serverSelection', 'info');
}

/**
 * One selection attempt from the current description, without waiting: the chosen server, or
 * undefined when none is suitable now (the caller then runs `selectServerDescription`, which waits).
 * Throws as the loop does (topology closed or incompatible, invalid read preference).
 */
export function selectServerNow(topology: Topology, selector: ServerSelector, options: SelectionOptions): ServerDescription | undefined {
  if (!topology.isOpen) throw new MongoTopologyClosedError();
  const description = topology.description;
  const cache = options.cache !== undefined && options.serverSelector === undefined && !hasAny(options.deprioritized) ? options.cache : undefined;
  const cached = cache?.lookup(description, selector);
  if (cached !== undefined) {
    const chosen = chooseInWindow(cached, options.operationCount);
    if (chosen) return chosen;
  }
  if (!description.compatible) {
    throw new MongoCompatibilityError(description.compatibilityError ?? 'Topology is not compatible with this driver');
  }
  selector.validate(description);
  const inWindow = selectServers(description, selector, {
    deprioritized: options.deprioritized,
    serverSelector: options.serverSelector
  });
  const chosen = chooseInWindow(inWindow, options.operationCount);
  if (chosen) cache?.store(description, selector, inWindow);
  return chosen;
}

export async function selectServerDescription(
  topology: Topology,
  selector: ServerSelector,
  options: SelectionOptions
): Promise<ServerDescription> {
  if (!logsSelection(options)) return selectLoop(topology, selector, options);
  const logger = options.logger as MongoLogger;
  const log = new ServerSelectionLog(logger, selector, options.operationName, options.serverSelector !== undefined);
  log.started(topology.description);
  try {
    const chosen = await selectLoop(topology, selector, options, log);
    log.succeeded(topology.description, chosen);
    return chosen;
  } catch (error) {
    log.failed(topology.description, error);
    throw error;
  }
}

async function selectLoop(
  topology: Topology,
  selector: ServerSelector,
  options: SelectionOptions,
  log?: ServerSelectionLog
): Promise<ServerDescription> {
  const start = performance.now();
  for (;;) {
    const chosen = selectServerNow(topology, selector, options);
    if (chosen) return chosen;

    const description = topology.description;
    topology.requestCheck();
    const remaining = options.timeoutMS - (performance.now() - start);
    if (log !== undefined && remaining > 0) log.waiting(description, remaining);
    if (remaining <= 0 || !(await waitForChange(topology, remaining, options.signal))) {
      if (!topology.isOpen) throw new MongoTopologyClosedError();
      throw serverSelectionError(topology.description, selector, { timeoutMS: options.timeoutMS, operation: options.operationName });
    }
  }
}

/** Resolves true on the next description change (or close), false on timeout or abort. */
function waitForChange(topology: Topology, timeoutMS: number, signal?: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    const done = (changed: boolean): void => {
      clearTimeout(timer);
      topology.off('topologyDescriptionChanged', onChange);
      topology.off('topologyClosed', onChange);
      signal?.removeEventListener('abort', onAbort);
      resolve(changed);
    };
    const onChange = (): void => done(true);
    const onAbort = (): void => done(false);
    const timer = setTimeout(() => done(false), timeoutMS);
    topology.on('topologyDescriptionChanged', onChange);
    topology.on('topologyClosed', onChange);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
