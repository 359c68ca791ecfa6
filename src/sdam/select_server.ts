/**
 * The server selection loop (server-selection spec "Server selection algorithm" for multi-threaded
 * drivers): select from the current description; if nothing is suitable, ask the monitors for an
 * immediate check and wait for the next description change, until serverSelectionTimeoutMS (or the
 * operation's own deadline) expires.
 */
import { MongoCompatibilityError, MongoTopologyClosedError } from '../errors';
import { chooseInWindow, selectServers, serverSelectionError, type CustomServerSelector, type ServerSelector } from './server_selection';
import type { Topology } from './topology';
import type { ServerDescription } from './types';
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
}

export async function selectServerDescription(
  topology: Topology,
  selector: ServerSelector,
  options: SelectionOptions
): Promise<ServerDescription> {
  const logger = options.logger;
  if (logger === undefined || !logger.willLog('serverSelection', 'info')) return selectLoop(topology, selector, options);
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
    if (!topology.isOpen) throw new MongoTopologyClosedError();
    const description = topology.description;
    if (!description.compatible) {
      throw new MongoCompatibilityError(description.compatibilityError ?? 'Topology is not compatible with this driver');
    }
    selector.validate(description);
    const inWindow = selectServers(description, selector, {
      deprioritized: options.deprioritized,
      serverSelector: options.serverSelector
    });
    const chosen = chooseInWindow(inWindow, options.operationCount);
    if (chosen) return chosen;

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
