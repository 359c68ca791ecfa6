/**
 * Mechanism name → provider. Providers are stateless singletons (per-connection state lives in the
 * AuthContext; the SCRAM key cache and the AWS credential cache are process-wide on purpose).
 */
import { MongoCompatibilityError, MongoInvalidArgumentError } from '../errors';
import type { AuthProvider } from './auth_provider';
import { AwsProvider } from './aws';
import { GSSAPIProvider } from './gssapi';
import { AuthMechanism } from './mongo_credentials';
import { PlainProvider } from './plain';
import { ScramProvider } from './scram';
import { X509Provider } from './x509';

const providers = new Map<string, AuthProvider>();

function create(mechanism: string): AuthProvider {
  switch (mechanism) {
    case AuthMechanism.MONGODB_SCRAM_SHA1:
      return new ScramProvider('SCRAM-SHA-1');
    case AuthMechanism.MONGODB_SCRAM_SHA256:
      return new ScramProvider('SCRAM-SHA-256');
    case AuthMechanism.MONGODB_PLAIN:
      return new PlainProvider();
    case AuthMechanism.MONGODB_X509:
      return new X509Provider();
    case AuthMechanism.MONGODB_AWS:
      return new AwsProvider();
    case AuthMechanism.MONGODB_GSSAPI:
      return new GSSAPIProvider();
    case AuthMechanism.MONGODB_OIDC:
      throw new MongoCompatibilityError('MONGODB-OIDC is not supported by mongowire');
    case AuthMechanism.MONGODB_CR:
      throw new MongoCompatibilityError('MONGODB-CR was removed in MongoDB 4.0 and is not supported by mongowire');
    case AuthMechanism.MONGODB_DEFAULT:
      throw new MongoInvalidArgumentError('The DEFAULT mechanism must be resolved by negotiation first (see resolveAuthMechanism)');
    default:
      throw new MongoInvalidArgumentError(`Unknown authentication mechanism ${JSON.stringify(mechanism)}`);
  }
}

/** The provider for a concrete mechanism name. Throws for DEFAULT, unknown and unsupported ones. */
export function getAuthProvider(mechanism: string): AuthProvider {
  let provider = providers.get(mechanism);
  if (!provider) {
    provider = create(mechanism);
    providers.set(mechanism, provider);
  }
  return provider;
}
