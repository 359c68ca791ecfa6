/**
 * GSSAPI (Kerberos) is not supported: it needs a native Kerberos library. Selecting it fails
 * with a clear error at authentication time.
 */
import { MongoCompatibilityError } from '../errors';
import type { AuthContext, AuthProvider } from './auth_provider';

export const GSSAPI_NOT_SUPPORTED = 'GSSAPI (Kerberos) is not supported by mongowire';

export class GSSAPIProvider implements AuthProvider {
  async auth(_ctx: AuthContext): Promise<void> {
    throw new MongoCompatibilityError(GSSAPI_NOT_SUPPORTED);
  }
}
