/**
 * Default mechanism negotiation (auth spec "Mechanism Negotiation via Handshake" and
 * "Default Authentication Methods").
 *
 * When the credential names no mechanism (DEFAULT) and has a username, the handshake `hello`
 * carries `saslSupportedMechs: "<source>.<username>"` (raw username, not SASLprep'd). From the
 * reply: SCRAM-SHA-256 if listed, otherwise SCRAM-SHA-1 — also when the list is absent or empty.
 * Unknown entries are ignored, never rejected. An explicit mechanism is always honoured.
 */
import type { Document } from 'bson';
import { AuthMechanism, type AuthMechanismName, type MongoCredentials } from './mongo_credentials';

/** The `saslSupportedMechs` value to send, or undefined when negotiation does not apply. */
export function saslSupportedMechsFor(credentials: MongoCredentials): string | undefined {
  if (credentials.mechanism !== AuthMechanism.MONGODB_DEFAULT || !credentials.username) return undefined;
  return `${credentials.source || 'admin'}.${credentials.username}`;
}

/** The mechanism to authenticate with, given the handshake reply. Never returns DEFAULT. */
export function resolveAuthMechanism(credentials: MongoCredentials, hello?: Document): Exclude<AuthMechanismName, 'DEFAULT'> {
  if (credentials.mechanism !== AuthMechanism.MONGODB_DEFAULT) return credentials.mechanism;
  const supported: unknown = hello?.saslSupportedMechs;
  if (Array.isArray(supported) && supported.includes(AuthMechanism.MONGODB_SCRAM_SHA256)) {
    return AuthMechanism.MONGODB_SCRAM_SHA256;
  }
  return AuthMechanism.MONGODB_SCRAM_SHA1;
}
