/**
 * MONGODB-AWS: the client proves its AWS IAM identity by signing (SigV4) an STS
 * `GetCallerIdentity` request which the server then sends to AWS.
 *
 *   saslStart    payload BSON { r: <32-byte client nonce>, p: 110 ('n', no channel binding) }
 *   reply        payload BSON { s: <64-byte server nonce, starting with r>, h: <STS host> }
 *   saslContinue payload BSON { a: <Authorization header>, d: <X-Amz-Date>, t?: <session token> }
 *
 * The signed request is `POST /` with body `Action=GetCallerIdentity&Version=2011-06-15` and the
 * headers Content-Type, Content-Length, Host, X-Amz-Date, X-MongoDB-Server-Nonce (base64 of s),
 * X-MongoDB-GS2-CB-Flag (`n`) and, for temporary credentials, X-Amz-Security-Token.
 * Credentials come from aws_credentials.ts; any failure clears its cache.
 */
import { randomBytes } from 'node:crypto';
import { Binary, deserialize, serialize, type Document } from 'bson';
import { clientAuthError, runAuthCommand, withAuthErrorContext } from './auth_error';
import type { AuthContext, AuthProvider } from './auth_provider';
import { AwsCredentialProvider, type AwsCredentialProviderOptions } from './aws_credentials';
import { signV4 } from './aws_sigv4';
import { payloadBytes, saslContinueCommand } from './sasl';

export const MONGODB_AWS = 'MONGODB-AWS';
const ASCII_N = 110;
export const STS_GET_CALLER_IDENTITY_BODY = 'Action=GetCallerIdentity&Version=2011-06-15';

export interface AwsProviderOptions extends AwsCredentialProviderOptions {
  /** 32-byte client nonce source (default: crypto random). */
  nonce?: () => Uint8Array;
  /** Signing time (default: now). */
  date?: () => Date;
  /** Use this credential provider instead of building one from the options. */
  credentialProvider?: AwsCredentialProvider;
}

/** Spec host rules: 1–255 bytes, no empty labels (no leading/trailing/double periods). */
export function validateStsHost(host: string): boolean {
  return Buffer.byteLength(host, 'utf8') > 0 && Buffer.byteLength(host, 'utf8') <= 255 && host.split('.').every(label => label.length > 0);
}

/** Spec "Region Calculation" (`host` must already be valid). */
export function deriveStsRegion(host: string): string {
  const labels = host.split('.');
  if (labels.length === 1 || host === 'sts.amazonaws.com' || labels[1] === 'amazonaws') return 'us-east-1';
  return labels[1];
}

export class AwsProvider implements AuthProvider {
  readonly credentialProvider: AwsCredentialProvider;
  private readonly nonce: () => Uint8Array;
  private readonly date: () => Date;

  constructor(options: AwsProviderOptions = {}) {
    this.credentialProvider = options.credentialProvider ?? new AwsCredentialProvider(options);
    this.nonce = options.nonce ?? (() => randomBytes(32));
    this.date = options.date ?? (() => new Date());
  }

  async auth(ctx: AuthContext): Promise<void> {
    const { connection, credentials } = ctx;
    const db = credentials.source || '$external';
    try {
      const aws = await this.credentialProvider.getCredentials(credentials);
      const identity = { username: aws.accessKeyId };
      await withAuthErrorContext(identity, MONGODB_AWS, async () => {
        const clientNonce = Buffer.from(this.nonce());
        if (clientNonce.length !== 32) throw clientAuthError(identity, MONGODB_AWS, 'client nonce must be 32 bytes');
        const start = await runAuthCommand(connection, db, {
          saslStart: 1,
          mechanism: MONGODB_AWS,
          payload: new Binary(serialize({ r: new Binary(clientNonce), p: ASCII_N }))
        });

        const serverFirst = decodePayload(start);
        const serverNonce = serverFirst.s instanceof Binary ? Buffer.from(serverFirst.s.value()) : undefined;
        if (!serverNonce || serverNonce.length !== 64 || !serverNonce.subarray(0, 32).equals(clientNonce)) {
          throw clientAuthError(identity, MONGODB_AWS, 'server nonce must be 64 bytes and start with the client nonce');
        }
        const host: unknown = serverFirst.h;
        if (typeof host !== 'string' || !validateStsHost(host)) {
          throw clientAuthError(identity, MONGODB_AWS, 'server sent an invalid STS host');
        }

        const signed = signV4({
          method: 'POST',
          host,
          path: '/',
          headers: {
            'Content-Type': 'application/x-www-form-urlencoded',
            'Content-Length': String(Buffer.byteLength(STS_GET_CALLER_IDENTITY_BODY)),
            'X-MongoDB-Server-Nonce': serverNonce.toString('base64'),
            'X-MongoDB-GS2-CB-Flag': 'n'
          },
          body: STS_GET_CALLER_IDENTITY_BODY,
          region: deriveStsRegion(host),
          service: 'sts',
          date: this.date(),
          credentials: aws
        });
        const clientSecond: Document = { a: signed.authorization, d: signed.amzDate };
        if (aws.sessionToken) clientSecond.t = aws.sessionToken;
        await runAuthCommand(connection, db, saslContinueCommand(start.conversationId, serialize(clientSecond)));
      });
    } catch (error) {
      this.credentialProvider.clearCache();
      throw error;
    }
  }
}

function decodePayload(reply: Document): Document {
  try {
    return deserialize(payloadBytes(reply), { promoteBuffers: false });
  } catch (error) {
    throw clientAuthError({}, MONGODB_AWS, 'server sent a malformed payload', error);
  }
}
