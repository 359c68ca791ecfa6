/**
 * The SCRAM math itself, byte for byte against RFC 5802 (SHA-1) and RFC 7677 (SHA-256) with
 * the RFC password "pencil" used directly (MongoDB's SHA-1 digests the password first; that is
 * tested separately through the provider).
 */
import { MongoAuthenticationError } from '../../src/errors';
import { escapeScramUsername, parseScramAttributes, ScramClient, SCRAM_MIN_ITERATIONS } from '../../src/auth/scram_client';
import { ScramKeyCache } from '../../src/auth/scram_key_cache';

describe('SCRAM client math (RFC vectors)', () => {
  it('reproduces the RFC 5802 SCRAM-SHA-1 example', async () => {
    const client = new ScramClient({ mechanism: 'SCRAM-SHA-1', username: 'user', nonce: 'fyko+d2lbbFgONRv9qkxdawL', keyCache: new ScramKeyCache() });
    expect(client.clientFirstMessage()).toBe('n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL');
    const clientFinal = await client.clientFinalMessage('r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096', 'pencil');
    expect(clientFinal).toBe('c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=');
    expect(() => client.verifyServerFinal('v=rmF9pqV8S7suAoZWja4dJRkFsKQ=')).not.toThrow();
  });

  it('reproduces the RFC 7677 SCRAM-SHA-256 example', async () => {
    const client = new ScramClient({ mechanism: 'SCRAM-SHA-256', username: 'user', nonce: 'rOprNGfwEbeRWgbNEkqO', keyCache: new ScramKeyCache() });
    expect(client.clientFirstMessage()).toBe('n,,n=user,r=rOprNGfwEbeRWgbNEkqO');
    const clientFinal = await client.clientFinalMessage(
      'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096',
      'pencil'
    );
    expect(clientFinal).toBe('c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=');
    expect(() => client.verifyServerFinal('v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=')).not.toThrow();
  });

  it('rejects a wrong server signature, an e= error, and a v= before the client-final', async () => {
    const client = new ScramClient({ mechanism: 'SCRAM-SHA-256', username: 'user', nonce: 'rOprNGfwEbeRWgbNEkqO', keyCache: new ScramKeyCache() });
    expect(() => client.verifyServerFinal('v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=')).toThrow(MongoAuthenticationError);
    await client.clientFinalMessage('r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096', 'pencil');
    expect(() => client.verifyServerFinal('v=AAAATRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=')).toThrow(/server signature is invalid/);
    expect(() => client.verifyServerFinal('v=')).toThrow(/server signature is invalid/);
    expect(() => client.verifyServerFinal('')).toThrow(/server signature is invalid/);
    expect(() => client.verifyServerFinal('e=invalid-proof')).toThrow(/server reported error "invalid-proof"/);
  });

  it.each([
    ['a nonce not extending the client nonce', 'r=somethingElse,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096', /does not extend the client nonce/],
    ['a nonce equal to the client nonce', 'r=abc,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096', /does not extend the client nonce/],
    ['an iteration count below 4096', 'r=abcdef,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4095', /iteration count 4095 is below the minimum of 4096/],
    ['a non-numeric iteration count', 'r=abcdef,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=lots', /invalid iteration count/],
    ['a missing salt', 'r=abcdef,i=4096', /salt/],
    ['a server error', 'e=unknown-user', /server reported error "unknown-user"/],
    ['a mandatory extension', 'm=ext,r=abcdef,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096', /extension/]
  ])('rejects %s', async (_name, serverFirst, message) => {
    const cache = new ScramKeyCache();
    const client = new ScramClient({ mechanism: 'SCRAM-SHA-256', username: 'user', nonce: 'abc', keyCache: cache });
    const error = await client.clientFinalMessage(serverFirst, 'pencil').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MongoAuthenticationError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).toContain('SCRAM-SHA-256');
    expect((error as Error).message).not.toContain('pencil');
    expect(cache.derivations).toBe(0); // rejected before any key derivation
  });

  it('enforces exactly 4096 as the minimum', async () => {
    expect(SCRAM_MIN_ITERATIONS).toBe(4096);
    const client = new ScramClient({ mechanism: 'SCRAM-SHA-1', username: 'u', nonce: 'abc', keyCache: new ScramKeyCache() });
    await expect(client.clientFinalMessage('r=abcdef,s=QSXCR+Q6sek8bf92,i=4096', 'pw')).resolves.toMatch(/^c=biws,r=abcdef,p=/);
  });

  it('escapes = and , in usernames (and nothing else)', () => {
    expect(escapeScramUsername('a=b,c')).toBe('a=3Db=2Cc');
    expect(escapeScramUsername('=,=')).toBe('=3D=2C=3D');
    expect(escapeScramUsername('Ⅸ')).toBe('Ⅸ'); // never SASLprep'd
    const client = new ScramClient({ mechanism: 'SCRAM-SHA-1', username: 'a=b,c', nonce: 'xyz', keyCache: new ScramKeyCache() });
    expect(client.clientFirstMessage()).toBe('n,,n=a=3Db=2Cc,r=xyz');
  });

  it('parses attributes whose values contain =', () => {
    const attrs = parseScramAttributes('r=abc,s=QSXCR+Q6sek8bf92==,i=4096');
    expect(attrs.get('s')).toBe('QSXCR+Q6sek8bf92==');
    expect(attrs.get('i')).toBe('4096');
  });

  it('rejects an empty nonce or one containing a comma', () => {
    expect(() => new ScramClient({ mechanism: 'SCRAM-SHA-1', username: 'u', nonce: '' })).toThrow(MongoAuthenticationError);
    expect(() => new ScramClient({ mechanism: 'SCRAM-SHA-1', username: 'u', nonce: 'a,b' })).toThrow(MongoAuthenticationError);
  });
});

describe('ScramKeyCache', () => {
  it('runs PBKDF2 once per (mechanism, password, salt, iterations), sharing concurrent derivations', async () => {
    const cache = new ScramKeyCache();
    const salt = Buffer.from('QSXCR+Q6sek8bf92', 'base64');
    const results = await Promise.all(Array.from({ length: 10 }, () => cache.derive('SCRAM-SHA-1', 'pencil', salt, 4096)));
    expect(cache.derivations).toBe(1);
    for (const keys of results) expect(keys.clientKey.equals(results[0].clientKey)).toBe(true);
    await cache.derive('SCRAM-SHA-256', 'pencil', salt, 4096);
    await cache.derive('SCRAM-SHA-1', 'pencil2', salt, 4096);
    await cache.derive('SCRAM-SHA-1', 'pencil', Buffer.from('other'), 4096);
    await cache.derive('SCRAM-SHA-1', 'pencil', salt, 4097);
    expect(cache.derivations).toBe(5);
  });

  it('is bounded, evicting the least recently used entry', async () => {
    const calls: string[] = [];
    const cache = new ScramKeyCache({
      maxEntries: 2,
      pbkdf2: async password => {
        calls.push(password);
        return Buffer.alloc(32, password.length);
      }
    });
    const salt = Buffer.from('salt');
    await cache.derive('SCRAM-SHA-256', 'a', salt, 4096);
    await cache.derive('SCRAM-SHA-256', 'b', salt, 4096);
    await cache.derive('SCRAM-SHA-256', 'a', salt, 4096); // refresh a
    await cache.derive('SCRAM-SHA-256', 'c', salt, 4096); // evicts b
    expect(cache.size).toBe(2);
    await cache.derive('SCRAM-SHA-256', 'a', salt, 4096);
    await cache.derive('SCRAM-SHA-256', 'b', salt, 4096);
    expect(calls).toEqual(['a', 'b', 'c', 'b']);
  });

  it('does not keep a failed derivation', async () => {
    let fail = true;
    const cache = new ScramKeyCache({
      pbkdf2: async () => {
        if (fail) throw new Error('boom');
        return Buffer.alloc(20);
      }
    });
    await expect(cache.derive('SCRAM-SHA-1', 'x', Buffer.from('s'), 4096)).rejects.toThrow('boom');
    fail = false;
    await expect(cache.derive('SCRAM-SHA-1', 'x', Buffer.from('s'), 4096)).resolves.toHaveProperty('clientKey');
    expect(cache.derivations).toBe(2);
  });
});
