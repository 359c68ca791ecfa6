/**
 * The deployment a unified test runs against, as the runner needs it: a connection string for
 * client entities, facts for `runOnRequirements`, and the internal-client chores (initialData,
 * outcome, collection/index assertions, killing open transactions).
 */
import type { Document } from 'bson';
import type { ServerInfo } from './requirements';
import type { CollectionData } from './test-file';

export interface Deployment {
  readonly kind: 'real' | 'mock';
  readonly info: ServerInfo;
  /** The connection string for a client entity (`useMultipleMongoses` picks mongos hosts). */
  clientUri(useMultipleMongoses?: boolean): string;
  /** initialData for one collection: drop it, create it (with createOptions), insert the documents. */
  prepareCollection(data: CollectionData): Promise<void>;
  /** A collection's documents sorted by `_id` (primary, local read concern). */
  readCollection(databaseName: string, collectionName: string): Promise<Document[]>;
  collectionExists(databaseName: string, collectionName: string): Promise<boolean>;
  indexExists(databaseName: string, collectionName: string, indexName: string): Promise<boolean>;
  /** `killAllSessions` (ignoring Interrupted/Unauthorized). */
  killAllSessions(): Promise<void>;
  /** Runs a `configureFailPoint` command on one server (targetedFailPoint). */
  configureFailPointOn(address: string, failPoint: Document): Promise<void>;
  /** Turns off a fail point on every server (used after each test). */
  disableFailPoint(name: string, address?: string): Promise<void>;
  /** Releases per-test state (mock: data, cursors, fail points). */
  resetForTest?(): Promise<void>;
  close(): Promise<void>;
}
