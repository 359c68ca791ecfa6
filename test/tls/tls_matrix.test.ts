/**
 * TLS matrix, MongoClient end to end against TLS mock servers, with a PKI generated at test
 * time (two CAs; server, expired, wrong-hostname and client certificates):
 *
 * - verification is on by default and a CA-signed chain verifies with `tlsCAFile`;
 * - wrong CA, expired certificate and hostname mismatch fail with typed errors
 *   (MongoNetworkError with the TLS error as `cause`) and server selection errors explain them;
 * - tlsAllowInvalidHostnames / tlsAllowInvalidCertificates / tlsInsecure relax exactly what they say;
 * - a server requiring client certificates; MONGODB-X509 authentication with the client
 *   certificate's subject.
 */
import type { Document } from 'bson';
import {
  MongoNetworkError,
  MongoServerError,
  MongoServerSelectionError,
  MongoParseError,
  MongoErrorLabel
} from '../../src/errors';
import { MongoClient } from '../../src/mongo_client';
import type { ServerHeartbeatFailedEvent } from '../../src/sdam/sdam_events';
import { MockServer, type RecordedCommand, type HandlerContext } from '../tools/mock_server';
import { generateTlsMatrix, hasOpenssl, type CertFiles, type TlsMatrixCerts } from '../tools/certs';

const opensslAvailable = hasOpenssl();
const describeTls = opensslAvailable ? describe : describe.skip;
if (!opensslAvailable) {
  // eslint-disable-next-line no-console
  console.warn('TLS matrix skipped: the `openssl` CLI is not installed, so no test PKI can be generated');
}

type Outcome = { ok: true; reply: Document } | { ok: false; error: Error; heartbeatFailure?: Error };

describeTls('TLS matrix (MongoClient end to end)', () => {
  let certs: TlsMatrixCerts;
  const servers: MockServer[] = [];

  beforeAll(() => {
    certs = generateTlsMatrix();
  });
  afterAll(() => certs?.pki.cleanup());
  afterEach(async () => {
    for (const s of servers.splice(0)) await s.close();
  });

  async function tlsServer(leaf: CertFiles, extra: Record<string, unknown> = {}): Promise<MockServer> {
    const server = await MockServer.start({ tls: { key: leaf.key, cert: leaf.cert, ...extra }, helloExtra: { logicalSessionTimeoutMinutes: 30 } });
    servers.push(server);
    return server;
  }

  function uri(server: MockServer, options: Record<string, string | boolean>, userinfo = ''): string {
    const params = new URLSearchParams({ directConnection: 'true', serverSelectionTimeoutMS: '800', heartbeatFrequencyMS: '500' });
    for (const [k, v] of Object.entries(options)) params.set(k, String(v));
    return `mongodb://${userinfo}${server.address}/?${params.toString()}`;
  }

  /** Connects, runs ping, closes; reports the outcome and the first heartbeat failure. */
  async function attempt(url: string): Promise<Outcome> {
    const client = new MongoClient(url);
    let heartbeatFailure: Error | undefined;
    client.on('serverHeartbeatFailed', (e: ServerHeartbeatFailedEvent) => {
      heartbeatFailure ??= e.failure as Error;
    });
    try {
      const reply = await client.db('admin').command({ ping: 1 });
      return { ok: true, reply };
    } catch (error) {
      return { ok: false, error: error as Error, heartbeatFailure };
    } finally {
      await client.close();
    }
  }

  function expectTlsFailure(outcome: Outcome, code: string | RegExp, text: RegExp): void {
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    // The operation's error: server selection, explaining the TLS failure.
    expect(outcome.error).toBeInstanceOf(MongoServerSelectionError);
    expect(outcome.error.message).toMatch(text);
    // The underlying error: a MongoNetworkError carrying the TLS error as its cause.
    const failure = outcome.heartbeatFailure;
    expect(failure).toBeInstanceOf(MongoNetworkError);
    expect(failure?.message).toMatch(text);
    // (Node's TLS errors come from another realm under jest: check the shape, not instanceof.)
    const cause = failure?.cause as NodeJS.ErrnoException | undefined;
    expect(typeof cause?.message).toBe('string');
    expect(cause?.code).toMatch(code);
    // A certificate problem is not server overload: no backpressure labels.
    expect((failure as MongoNetworkError).hasErrorLabel(MongoErrorLabel.SystemOverloadedError)).toBe(false);
  }

  const WRONG_CA = /self[- ]signed certificate in certificate chain|unable to (verify|get local issuer)/i;
  const EXPIRED = /certificate has expired/i;
  const HOSTNAME = /Hostname\/IP does not match certificate's altnames|not in the cert's list/i;

  test('a CA-signed chain verifies with tls=true&tlsCAFile', async () => {
    const server = await tlsServer(certs.server);
    const outcome = await attempt(uri(server, { tls: true, tlsCAFile: certs.ca.certFile }));
    expect(outcome).toEqual({ ok: true, reply: expect.objectContaining({ ok: 1 }) });
    expect(server.commands('ping')).toHaveLength(1);
  });

  test('ssl=true is the same as tls=true (and verifies)', async () => {
    const server = await tlsServer(certs.server);
    expect((await attempt(uri(server, { ssl: true, tlsCAFile: certs.ca.certFile }))).ok).toBe(true);
  });

  test('verification is on by default: tls=true without tlsCAFile rejects a private CA', async () => {
    const server = await tlsServer(certs.server);
    expectTlsFailure(await attempt(uri(server, { tls: true })), /UNABLE_TO_GET_ISSUER_CERT_LOCALLY|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE/, WRONG_CA);
    expect(server.commands('ping')).toHaveLength(0);
  });

  test('a plain client against a TLS server fails (no silent downgrade)', async () => {
    const server = await tlsServer(certs.server);
    const outcome = await attempt(uri(server, { serverSelectionTimeoutMS: '500' }));
    expect(outcome.ok).toBe(false);
    if (!outcome.ok) expect(outcome.error).toBeInstanceOf(MongoServerSelectionError);
  });

  describe('failures', () => {
    test('wrong CA', async () => {
      const server = await tlsServer(certs.otherCaServer);
      expectTlsFailure(await attempt(uri(server, { tls: true, tlsCAFile: certs.ca.certFile })), /SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_GET_ISSUER_CERT_LOCALLY|UNABLE_TO_VERIFY_LEAF_SIGNATURE/, WRONG_CA);
    });

    test('expired certificate', async () => {
      const server = await tlsServer(certs.expiredServer);
      expectTlsFailure(await attempt(uri(server, { tls: true, tlsCAFile: certs.ca.certFile })), 'CERT_HAS_EXPIRED', EXPIRED);
    });

    test('hostname mismatch', async () => {
      const server = await tlsServer(certs.wrongHostServer);
      expectTlsFailure(await attempt(uri(server, { tls: true, tlsCAFile: certs.ca.certFile })), 'ERR_TLS_CERT_ALTNAME_INVALID', HOSTNAME);
    });

    test('a missing tlsCAFile is a clear, typed error naming the option', async () => {
      const server = await tlsServer(certs.server);
      const outcome = await attempt(uri(server, { tls: true, tlsCAFile: '/nonexistent/ca.pem', serverSelectionTimeoutMS: '500' }));
      expect(outcome.ok).toBe(false);
      if (outcome.ok) return;
      const text = `${outcome.error.message} ${outcome.heartbeatFailure?.message ?? ''}`;
      expect(text).toMatch(/tlsCAFile/);
      expect(text).toMatch(/nonexistent\/ca\.pem/);
    });
  });

  describe('relaxations relax exactly what they say', () => {
    test('tlsAllowInvalidHostnames: hostname mismatch passes; wrong CA and expired still fail', async () => {
      const wrongHost = await tlsServer(certs.wrongHostServer);
      expect((await attempt(uri(wrongHost, { tls: true, tlsCAFile: certs.ca.certFile, tlsAllowInvalidHostnames: true }))).ok).toBe(true);

      const otherCa = await tlsServer(certs.otherCaServer);
      expectTlsFailure(
        await attempt(uri(otherCa, { tls: true, tlsCAFile: certs.ca.certFile, tlsAllowInvalidHostnames: true })),
        /SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_GET_ISSUER_CERT_LOCALLY|UNABLE_TO_VERIFY_LEAF_SIGNATURE/,
        WRONG_CA
      );
      const expired = await tlsServer(certs.expiredServer);
      expectTlsFailure(await attempt(uri(expired, { tls: true, tlsCAFile: certs.ca.certFile, tlsAllowInvalidHostnames: true })), 'CERT_HAS_EXPIRED', EXPIRED);
    });

    test('tlsAllowInvalidCertificates: wrong CA and expired pass (and, as in the official driver, hostname checks go too)', async () => {
      for (const leaf of [certs.otherCaServer, certs.expiredServer, certs.wrongHostServer]) {
        const server = await tlsServer(leaf);
        expect((await attempt(uri(server, { tls: true, tlsCAFile: certs.ca.certFile, tlsAllowInvalidCertificates: true }))).ok).toBe(true);
      }
    });

    test('tlsInsecure: everything passes, and it implies tls', async () => {
      for (const leaf of [certs.otherCaServer, certs.expiredServer, certs.wrongHostServer]) {
        const server = await tlsServer(leaf);
        expect((await attempt(uri(server, { tlsInsecure: true }))).ok).toBe(true);
      }
    });

    test('tlsInsecure cannot be combined with the options it subsumes', () => {
      expect(() => new MongoClient('mongodb://127.0.0.1/?tlsInsecure=true&tlsAllowInvalidCertificates=true')).toThrow(MongoParseError);
      expect(() => new MongoClient('mongodb://127.0.0.1/?tlsInsecure=true&tlsAllowInvalidHostnames=true')).toThrow(MongoParseError);
    });
  });

  describe('client certificates', () => {
    test('a server requiring a client certificate rejects a client without one and accepts one with tlsCertificateKeyFile', async () => {
      const server = await tlsServer(certs.server, { ca: certs.ca.cert, requestCert: true, rejectUnauthorized: true });
      const pingSubjects: unknown[] = [];
      server.setHandler('ping', (_request, ctx) => {
        pingSubjects.push(ctx.server.peerCertificate(ctx.connectionId)?.subject.CN);
        return { ok: 1 };
      });
      const without = await attempt(uri(server, { tls: true, tlsCAFile: certs.ca.certFile, serverSelectionTimeoutMS: '800' }));
      expect(without.ok).toBe(false);
      if (!without.ok) expect(without.error).toBeInstanceOf(MongoServerSelectionError);

      const withCert = await attempt(uri(server, { tls: true, tlsCAFile: certs.ca.certFile, tlsCertificateKeyFile: certs.client.certKeyFile }));
      expect(withCert.ok).toBe(true);
      expect(pingSubjects).toEqual(['client']);
    });
  });

  describe('MONGODB-X509', () => {
    /** mongod's `authenticate` for X.509: the identity is the client certificate's RFC 2253 subject. */
    function x509Handler(seen: Array<{ user?: string; subject?: string }>) {
      return (request: RecordedCommand, ctx: HandlerContext): Document => {
        const cert = ctx.server.peerCertificate(ctx.connectionId);
        const subject = cert ? rfc2253(cert.subject as unknown as Record<string, string>) : undefined;
        const user = request.body.user as string | undefined;
        seen.push({ user, subject });
        if (request.db !== '$external' || request.body.mechanism !== 'MONGODB-X509' || !subject || (user !== undefined && user !== subject)) {
          return { ok: 0, code: 18, codeName: 'AuthenticationFailed', errmsg: 'Authentication failed.' };
        }
        return { user: subject, dbname: '$external', ok: 1 };
      };
    }

    async function x509Server(seen: Array<{ user?: string; subject?: string }>): Promise<MockServer> {
      const server = await tlsServer(certs.server, { ca: certs.ca.cert, requestCert: true, rejectUnauthorized: true });
      server.setHandler('authenticate', x509Handler(seen));
      return server;
    }

    const x509Options = () => ({
      authMechanism: 'MONGODB-X509',
      tls: true,
      tlsCAFile: certs.ca.certFile,
      tlsCertificateKeyFile: certs.client.certKeyFile
    });

    test('authenticates with the client certificate (no username: the server takes the subject)', async () => {
      const seen: Array<{ user?: string; subject?: string }> = [];
      const server = await x509Server(seen);
      const outcome = await attempt(uri(server, x509Options()));
      expect(outcome.ok).toBe(true);
      expect(seen.length).toBeGreaterThanOrEqual(1);
      expect(seen[0]).toEqual({ user: undefined, subject: certs.clientSubject });
      const auth = server.commands('authenticate')[0];
      expect(auth.db).toBe('$external');
      expect(auth.body).toMatchObject({ authenticate: 1, mechanism: 'MONGODB-X509' });
      // The ping ran on an authenticated connection.
      const pingConnection = server.lastCommand('ping')!.connectionId;
      expect(server.commands('authenticate').some((c) => c.connectionId === pingConnection)).toBe(true);
    });

    test('a username equal to the subject is sent and accepted', async () => {
      const seen: Array<{ user?: string; subject?: string }> = [];
      const server = await x509Server(seen);
      const outcome = await attempt(uri(server, x509Options(), `${encodeURIComponent(certs.clientSubject)}@`));
      expect(outcome.ok).toBe(true);
      expect(seen[0]).toEqual({ user: certs.clientSubject, subject: certs.clientSubject });
    });

    test('a username that is not the certificate subject fails with a typed auth error', async () => {
      const seen: Array<{ user?: string; subject?: string }> = [];
      const server = await x509Server(seen);
      const outcome = await attempt(uri(server, x509Options(), `${encodeURIComponent('CN=mallory')}@`));
      expect(outcome.ok).toBe(false);
      if (outcome.ok) return;
      expect(outcome.error).toBeInstanceOf(MongoServerError);
      expect((outcome.error as MongoServerError).code).toBe(18);
      expect(outcome.error.message).toMatch(/Authentication failed.*MONGODB-X509/);
      expect(server.commands('ping')).toHaveLength(0);
    });

    test('X.509 without a client certificate is refused by the TLS server', async () => {
      const seen: Array<{ user?: string; subject?: string }> = [];
      const server = await x509Server(seen);
      const { tlsCertificateKeyFile: _omit, ...rest } = x509Options();
      const outcome = await attempt(uri(server, { ...rest, serverSelectionTimeoutMS: '800' }));
      expect(outcome.ok).toBe(false);
      expect(seen).toEqual([]);
    });
  });
});

/** `{ O, OU, CN }` (certificate order) → `CN=…,OU=…,O=…` (RFC 2253: most specific first). */
function rfc2253(subject: Record<string, string>): string {
  return Object.entries(subject)
    .reverse()
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}
