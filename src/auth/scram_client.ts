/**
 * The client side of a SCRAM exchange (RFC 5802, RFC 7677), independent of MongoDB's transport.
 *
 *   client-first  = "n,," "n=" escaped-username ",r=" client-nonce
 *   server-first  = "r=" client-nonce+server-nonce ",s=" base64(salt) ",i=" iterations
 *   client-final  = "c=biws,r=" nonce ",p=" base64(ClientKey XOR HMAC(H(ClientKey), AuthMessage))
 *   server-final  = "v=" base64(HMAC(ServerKey, AuthMessage))  |  "e=" server-error
 *
 * The password given here is already prepared (SASLprep'd for SHA-256, MD5-digested for MongoDB's
 * SHA-1); usernames are never SASLprep'd (MongoDB rule), only escaped. Channel binding is never
 * advertised (GS2 header `n,,`). Iteration counts below 4096 are rejected (downgrade protection).
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { clientAuthError } from './auth_error';
import { defaultScramKeyCache, scramHashName, type ScramKeyCache, type ScramMechanism } from './scram_key_cache';

export const SCRAM_MIN_ITERATIONS = 4096;
const GS2_HEADER = 'n,,';

/** RFC 5802 `saslname`: `=` → `=3D`, `,` → `=2C`. */
export function escapeScramUsername(username: string): string {
  return username.replace(/=/g, '=3D').replace(/,/g, '=2C');
}

/** Split `a=1,b=2` into attributes; values may contain `=` (base64). */
export function parseScramAttributes(message: string): Map<string, string> {
  const attributes = new Map<string, string>();
  for (const part of message.split(',')) {
    const eq = part.indexOf('=');
    if (eq !== 1) continue; // attribute names are single letters; ignore malformed parts
    const name = part[0];
    if (!attributes.has(name)) attributes.set(name, part.slice(2));
  }
  return attributes;
}

export interface ScramClientOptions {
  mechanism: ScramMechanism;
  /** The raw username (escaped here, never SASLprep'd). */
  username: string;
  /** The client nonce: printable ASCII without `,`. */
  nonce: string;
  /** Where derived keys are cached (default: the process-wide cache). */
  keyCache?: ScramKeyCache;
}

export class ScramClient {
  readonly mechanism: ScramMechanism;
  readonly clientFirstMessageBare: string;
  private readonly username: string;
  private readonly nonce: string;
  private readonly keyCache: ScramKeyCache;
  private expectedServerSignature?: Buffer;

  constructor(options: ScramClientOptions) {
    if (options.nonce.length === 0 || /[,\s]/.test(options.nonce)) {
      throw clientAuthError(options, options.mechanism, 'invalid client nonce');
    }
    this.mechanism = options.mechanism;
    this.username = options.username;
    this.nonce = options.nonce;
    this.keyCache = options.keyCache ?? defaultScramKeyCache;
    this.clientFirstMessageBare = `n=${escapeScramUsername(options.username)},r=${options.nonce}`;
  }

  /** `n,,n=<user>,r=<nonce>` */
  clientFirstMessage(): string {
    return GS2_HEADER + this.clientFirstMessageBare;
  }

  /**
   * Validate the server-first message and compute the client-final message (with proof).
   * Remembers the server signature the server must present next.
   */
  async clientFinalMessage(serverFirstMessage: string, preparedPassword: string): Promise<string> {
    const attributes = parseScramAttributes(serverFirstMessage);
    const serverError = attributes.get('e');
    if (serverError !== undefined) throw this.fail(`server reported error "${serverError}"`);
    if (attributes.has('m')) throw this.fail('server requires an unsupported SCRAM extension');

    const combinedNonce = attributes.get('r');
    if (!combinedNonce || !combinedNonce.startsWith(this.nonce) || combinedNonce.length <= this.nonce.length) {
      throw this.fail('server nonce does not extend the client nonce');
    }
    const saltText = attributes.get('s');
    const salt = saltText ? Buffer.from(saltText, 'base64') : Buffer.alloc(0);
    if (salt.length === 0) throw this.fail('server sent an empty or missing salt');
    const iterationText = attributes.get('i') ?? '';
    const iterations = /^\d+$/.test(iterationText) ? Number(iterationText) : NaN;
    if (!Number.isSafeInteger(iterations)) throw this.fail('server sent an invalid iteration count');
    if (iterations < SCRAM_MIN_ITERATIONS) {
      throw this.fail(`server iteration count ${iterations} is below the minimum of ${SCRAM_MIN_ITERATIONS}`);
    }

    const hash = scramHashName(this.mechanism);
    const { clientKey, serverKey } = await this.keyCache.derive(this.mechanism, preparedPassword, salt, iterations);
    const clientFinalWithoutProof = `c=${Buffer.from(GS2_HEADER).toString('base64')},r=${combinedNonce}`;
    const authMessage = `${this.clientFirstMessageBare},${serverFirstMessage},${clientFinalWithoutProof}`;
    const storedKey = createHash(hash).update(clientKey).digest();
    const clientSignature = createHmac(hash, storedKey).update(authMessage).digest();
    const clientProof = xor(clientKey, clientSignature);
    this.expectedServerSignature = createHmac(hash, serverKey).update(authMessage).digest();
    return `${clientFinalWithoutProof},p=${clientProof.toString('base64')}`;
  }

  /** Check the server-final message (`v=<signature>`); throws on `e=` or a mismatch. */
  verifyServerFinal(serverFinalMessage: string): void {
    const attributes = parseScramAttributes(serverFinalMessage);
    const serverError = attributes.get('e');
    if (serverError !== undefined) throw this.fail(`server reported error "${serverError}"`);
    const expected = this.expectedServerSignature;
    if (!expected) throw this.fail('server-final message received before the client-final message');
    const verifier = attributes.get('v');
    const received = verifier === undefined ? Buffer.alloc(0) : Buffer.from(verifier, 'base64');
    if (received.length !== expected.length || !timingSafeEqual(received, expected)) {
      throw this.fail('server signature is invalid; the server may not know the password');
    }
  }

  private fail(reason: string): Error {
    return clientAuthError({ username: this.username }, this.mechanism, reason);
  }
}

function xor(a: Buffer, b: Buffer): Buffer {
  const out = Buffer.alloc(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i] ^ b[i];
  return out;
}
