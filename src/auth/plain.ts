/**
 * PLAIN (RFC 4616), used by MongoDB for LDAP: one `saslStart` with payload `\0<user>\0<password>`
 * sent to the credential's source (default `$external`, decided by credential parsing).
 */
import { MongoMissingCredentialsError } from '../errors';
import { runAuthCommand, withAuthErrorContext } from './auth_error';
import type { AuthContext, AuthProvider } from './auth_provider';
import { saslStartCommand } from './sasl';

export const PLAIN = 'PLAIN';

export function plainPayload(username: string, password: string): Buffer {
  return Buffer.concat([Buffer.from([0]), Buffer.from(username, 'utf8'), Buffer.from([0]), Buffer.from(password, 'utf8')]);
}

export class PlainProvider implements AuthProvider {
  async auth(ctx: AuthContext): Promise<void> {
    const { credentials, connection } = ctx;
    if (!credentials.username || credentials.password === undefined) {
      throw new MongoMissingCredentialsError('PLAIN authentication requires a username and a password');
    }
    const command = saslStartCommand(PLAIN, plainPayload(credentials.username, credentials.password));
    await withAuthErrorContext(credentials, PLAIN, () => runAuthCommand(connection, credentials.source || '$external', command));
  }
}
