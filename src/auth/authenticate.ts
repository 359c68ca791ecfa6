/**
 * The two calls the connection handshake makes (see auth_provider.ts for the whole flow):
 *
 *   const hello = await prepareAuthHandshake(helloCommand, ctx);   // before sending hello
 *   ctx.hello = await connection.command('admin', hello);
 *   await authenticate(ctx);                                       // after hello
 *
 * The caller MUST destroy the connection if `authenticate` rejects. Authentication must not run
 * on monitoring connections.
 */
import type { Document } from 'bson';
import type { AuthContext } from './auth_provider';
import { getAuthProvider } from './auth_provider_registry';
import { resolveAuthMechanism, saslSupportedMechsFor } from './mechanism_negotiation';
import { AuthMechanism } from './mongo_credentials';

/**
 * Add `saslSupportedMechs` (DEFAULT mechanism) and the mechanism's `speculativeAuthenticate`
 * to the handshake command. DEFAULT speculates with SCRAM-SHA-256, as the handshake spec requires.
 */
export async function prepareAuthHandshake(hello: Document, ctx: AuthContext): Promise<Document> {
  const { credentials } = ctx;
  let command: Document = { ...hello };
  const saslSupportedMechs = saslSupportedMechsFor(credentials);
  if (saslSupportedMechs !== undefined) command.saslSupportedMechs = saslSupportedMechs;
  const mechanism = credentials.mechanism === AuthMechanism.MONGODB_DEFAULT ? AuthMechanism.MONGODB_SCRAM_SHA256 : credentials.mechanism;
  const provider = getAuthProvider(mechanism);
  if (provider.prepareHandshake) command = await provider.prepareHandshake(command, ctx);
  return command;
}

/**
 * Authenticate the connection described by `ctx` (whose `hello` holds the handshake reply),
 * resolving the DEFAULT mechanism by negotiation. Arbiters cannot authenticate: nothing is done.
 */
export async function authenticate(ctx: AuthContext): Promise<void> {
  if (ctx.hello?.arbiterOnly === true) return;
  const mechanism = resolveAuthMechanism(ctx.credentials, ctx.hello);
  await getAuthProvider(mechanism).auth(ctx);
}
