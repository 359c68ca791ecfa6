/**
 * MONGODB-X509: the TLS client certificate's subject is the identity. One `authenticate` command
 * on `$external`; `user` is sent only when the application gave a username. Supports speculative
 * authentication: the same command rides in `hello.speculativeAuthenticate`, and a reply carrying
 * `speculativeAuthenticate` means authentication is already done.
 */
import type { Document } from 'bson';
import { runAuthCommand, withAuthErrorContext } from './auth_error';
import type { AuthContext, AuthProvider } from './auth_provider';
import type { MongoCredentials } from './mongo_credentials';

export const MONGODB_X509 = 'MONGODB-X509';

export function x509AuthenticateCommand(credentials: MongoCredentials): Document {
  const command: Document = { authenticate: 1, mechanism: MONGODB_X509 };
  if (credentials.username) command.user = credentials.username;
  return command;
}

/** Marker left in `ctx.speculative` by `prepareHandshake`. */
const X509_SPECULATION = Symbol('x509 speculative authentication');

export class X509Provider implements AuthProvider {
  async prepareHandshake(hello: Document, ctx: AuthContext): Promise<Document> {
    ctx.speculative = X509_SPECULATION;
    return { ...hello, speculativeAuthenticate: x509AuthenticateCommand(ctx.credentials) };
  }

  async auth(ctx: AuthContext): Promise<void> {
    const speculated = ctx.speculative === X509_SPECULATION;
    ctx.speculative = undefined;
    const reply: unknown = ctx.hello?.speculativeAuthenticate;
    if (speculated && reply !== null && typeof reply === 'object') return;
    const { credentials, connection } = ctx;
    await withAuthErrorContext(credentials, MONGODB_X509, () =>
      runAuthCommand(connection, '$external', x509AuthenticateCommand(credentials))
    );
  }
}
