/**
 * The contract every authentication mechanism implements.
 *
 * Mechanisms never touch sockets: they talk to the server through an {@link AuthConnection},
 * so they can run over a real connection, an in-process fake, or a test double alike.
 *
 * Flow (driven by the connection handshake, see `authenticate.ts`):
 *  1. `prepareAuthHandshake(helloCommand, ctx)` adds `saslSupportedMechs` and, when the mechanism
 *     supports it, `speculativeAuthenticate` to the initial `hello`; any state the mechanism needs
 *     later (e.g. the SCRAM client-first message and nonce) is stored in `ctx.speculative`.
 *  2. The caller sends `hello` and stores the reply in `ctx.hello`.
 *  3. `authenticate(ctx)` resolves the mechanism (negotiating the default one) and runs the
 *     conversation, continuing from `ctx.hello.speculativeAuthenticate` when the server answered it.
 *
 * On ANY error thrown by `authenticate` the caller MUST destroy the connection: a half-finished
 * SASL conversation leaves it in an unknown state (and per the auth spec the server must be
 * marked Unknown and its pool cleared).
 */
import type { Document } from 'bson';
import type { MongoCredentials } from './mongo_credentials';

/** The minimal connection surface a mechanism needs. */
export interface AuthConnection {
  /**
   * Run `cmd` against database `db` (OP_MSG) and resolve with the reply.
   * Implementations SHOULD reject with a `MongoServerError` when the reply has `ok: 0`;
   * the mechanisms also check `ok` themselves, so a raw reply is tolerated.
   */
  command(db: string, cmd: Document): Promise<Document>;
  /** `host:port` of the server, for messages (never secret). */
  readonly address: string;
}

/** Per-connection authentication state. */
export interface AuthContext {
  connection: AuthConnection;
  credentials: MongoCredentials;
  /** The handshake (`hello`) reply, for `saslSupportedMechs` and `speculativeAuthenticate`. */
  hello?: Document;
  /** State kept between `prepareHandshake` and `auth` (owned by the mechanism that wrote it). */
  speculative?: unknown;
}

export interface AuthProvider {
  /**
   * Return a copy of the `hello` command with this mechanism's speculative first step added
   * (`speculativeAuthenticate`). May record state in `ctx.speculative`.
   */
  prepareHandshake?(hello: Document, ctx: AuthContext): Promise<Document>;
  /** Run the conversation to completion, or reject. */
  auth(ctx: AuthContext): Promise<void>;
}
