/** What an operation implementation can use while a test runs. */
import type { DriverAdapter } from './driver_adapter';
import type { Deployment } from './deployment';
import type { EntityMap } from './entities';
import type { UnifiedOperation } from './test-file';

export interface FailPointRecord {
  /** The client entity id the fail point was configured through. */
  client: string;
  name: string;
  /** `host:port` of the server it was configured on, when known. */
  address?: string;
}

export interface OperationContext {
  entities: EntityMap;
  adapter: DriverAdapter;
  deployment: Deployment;
  failPoints: FailPointRecord[];
  /**
   * Runs nested operations (withTransaction callbacks, loop bodies, thread work) with full checks.
   * Errors propagate (withTransaction needs them) unless `propagateErrors` is false: a thread's
   * expected error is not a failure, only its failed assertions are ("runOnThread").
   */
  runOperations(operations: readonly UnifiedOperation[], options?: { propagateErrors?: boolean }): Promise<void>;
  /** Set when the test started a transaction (the runner then kills open sessions afterwards). */
  startedTransaction: boolean;
  /** Longest wait for `waitForEvent`, `waitForPrimaryChange`, change stream iteration. */
  waitTimeoutMS: number;
}
