/**
 * A selected server as the executor sees it: the description it was selected with, its pool,
 * and SDAM error handling routed to the topology.
 */
import type { Document, ObjectId } from 'bson';
import type { ConnectionPool, PoolConnection, CheckOutOptions, PinKind } from '../pool/pool';
import type { Topology } from './topology';
import type { ServerDescription } from './types';

/** What the executor needs of a pooled connection (the real Connection satisfies it). */
export interface ServerConnection extends PoolConnection {
  readonly address: string;
  readonly maxWireVersion: number;
  readonly maxBsonObjectSize: number;
  readonly maxMessageSizeBytes: number;
  readonly maxWriteBatchSize: number;
  readonly serviceId?: ObjectId | null;
  command(db: string, command: Document, options?: Record<string, unknown>): Promise<Document>;
}

export class Server<C extends ServerConnection = ServerConnection> {
  constructor(
    readonly topology: Topology,
    readonly pool: ConnectionPool<C>,
    readonly description: ServerDescription
  ) {}

  get address(): string {
    return this.description.address;
  }

  /** An idle connection checked out synchronously, or undefined (then use `checkOut`). */
  tryCheckOut(): C | undefined {
    const connection = this.pool.tryCheckOut();
    if (connection !== undefined) this.pool.incrementOperationCount();
    return connection;
  }

  async checkOut(options?: CheckOutOptions): Promise<C> {
    this.pool.incrementOperationCount();
    try {
      return await this.pool.checkOut(options);
    } catch (error) {
      this.pool.decrementOperationCount();
      throw error;
    }
  }

  checkIn(connection: C): void {
    this.pool.decrementOperationCount();
    this.pool.checkIn(connection);
  }

  /** Load-balanced mode: the checked-out connection stays with a cursor or a transaction until checked in. */
  markPinned(connection: C, kind: PinKind): void {
    this.pool.markPinned(connection, kind);
  }

  /** SDAM application-error handling (stale errors are filtered by generation there). */
  handleError(error: unknown, connection?: C): void {
    if (!(error instanceof Error)) return;
    this.topology.handleApplicationError(this.address, error, {
      generation: connection?.generation,
      serviceId: connection?.serviceId ?? undefined,
      handshakeCompleted: connection ? true : undefined
    });
  }
}
