/**
 * Load-balanced mode: a connection pinned to a cursor or a transaction (load-balancers.md
 * "Connection Pinning"). Behind a load balancer only the same connection reaches the same
 * service, so the connection stays checked out between commands: the executor runs pinned
 * operations on it without checking out or in, and `release()` finally checks it back in.
 */
import type { PinKind } from '../pool/pool';
import type { PinnedConnection } from '../sessions';
import type { ExecutorConnection, ExecutorServer } from './execute_operation';

export class ConnectionPin implements PinnedConnection {
  private released = false;

  constructor(
    readonly server: ExecutorServer,
    readonly connection: ExecutorConnection,
    readonly kind: PinKind
  ) {
    server.markPinned?.(connection, kind);
  }

  get closed(): boolean {
    return this.connection.closed === true;
  }

  get isReleased(): boolean {
    return this.released;
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    this.server.checkIn(this.connection);
  }
}
