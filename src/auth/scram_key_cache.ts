/**
 * The SCRAM key cache the auth spec requires ("Caching credentials in SCRAM").
 *
 * PBKDF2 with thousands of iterations is deliberately slow; a pool opening 100 connections must
 * not run it 100 times. Entries are keyed by (mechanism, prepared password, salt, iteration count)
 * — the key is a SHA-256 digest of those, so the map never holds the password itself — and hold
 * the derived `clientKey`/`serverKey`. Concurrent derivations of the same key share one PBKDF2 run.
 * The cache is bounded (least recently used entries are evicted).
 */
import { createHash, createHmac, pbkdf2 } from 'node:crypto';

export type ScramMechanism = 'SCRAM-SHA-1' | 'SCRAM-SHA-256';

export interface ScramKeys {
  readonly clientKey: Buffer;
  readonly serverKey: Buffer;
}

/** `Hi()` of RFC 5802: PBKDF2 with HMAC-`hash`, output length = digest length. */
export type Pbkdf2Function = (password: string, salt: Buffer, iterations: number, hash: 'sha1' | 'sha256') => Promise<Buffer>;

export function scramHashName(mechanism: ScramMechanism): 'sha1' | 'sha256' {
  return mechanism === 'SCRAM-SHA-1' ? 'sha1' : 'sha256';
}

const nodePbkdf2: Pbkdf2Function = (password, salt, iterations, hash) =>
  new Promise((resolve, reject) => {
    pbkdf2(password, salt, iterations, hash === 'sha1' ? 20 : 32, hash, (error, key) => (error ? reject(error) : resolve(key)));
  });

export interface ScramKeyCacheOptions {
  /** Maximum number of entries kept (default 100). */
  maxEntries?: number;
  /** PBKDF2 implementation (default: node:crypto `pbkdf2`). */
  pbkdf2?: Pbkdf2Function;
}

export class ScramKeyCache {
  private readonly entries = new Map<string, Promise<ScramKeys>>();
  private readonly maxEntries: number;
  private readonly pbkdf2: Pbkdf2Function;
  /** How many times PBKDF2 actually ran (cache misses), for observability and tests. */
  derivations = 0;

  constructor(options: ScramKeyCacheOptions = {}) {
    this.maxEntries = Math.max(1, options.maxEntries ?? 100);
    this.pbkdf2 = options.pbkdf2 ?? nodePbkdf2;
  }

  get size(): number {
    return this.entries.size;
  }

  clear(): void {
    this.entries.clear();
  }

  /** The client and server keys for an already prepared (SASLprep'd or MD5-digested) password. */
  derive(mechanism: ScramMechanism, password: string, salt: Buffer, iterations: number): Promise<ScramKeys> {
    const key = createHash('sha256')
      .update(`${mechanism}\0${salt.toString('base64')}\0${iterations}\0${password}`)
      .digest('hex');
    const cached = this.entries.get(key);
    if (cached) {
      this.entries.delete(key);
      this.entries.set(key, cached);
      return cached;
    }
    const hash = scramHashName(mechanism);
    this.derivations++;
    const pending = this.pbkdf2(password, salt, iterations, hash).then(saltedPassword => ({
      clientKey: createHmac(hash, saltedPassword).update('Client Key').digest(),
      serverKey: createHmac(hash, saltedPassword).update('Server Key').digest()
    }));
    pending.catch(() => {
      if (this.entries.get(key) === pending) this.entries.delete(key);
    });
    this.entries.set(key, pending);
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
    return pending;
  }
}

/** The process-wide cache shared by all connections. */
export const defaultScramKeyCache = new ScramKeyCache();
