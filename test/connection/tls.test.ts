import { MongoErrorLabel, MongoNetworkError } from '../../src/errors';
import { connect, type Connection } from '../../src/pool/connection';
import { MockServer } from '../tools/mock_server';
import { generateSelfSignedCertificate, hasOpenssl, type TestCertificate } from '../tools/tls_certs';

// The certificate is generated at test time with the openssl CLI; without it these tests
// cannot build a TLS server, so they are skipped (and say why).
const opensslAvailable = hasOpenssl();
const describeTls = opensslAvailable ? describe : describe.skip;
if (!opensslAvailable) {
  // eslint-disable-next-line no-console
  console.warn('TLS connection tests skipped: the `openssl` CLI is not installed, so no test certificate can be generated');
}

describeTls('TLS', () => {
  let cert: TestCertificate;
  let server: MockServer;
  const connections: Connection[] = [];

  beforeAll(() => {
    cert = generateSelfSignedCertificate('IP:127.0.0.1,DNS:localhost');
  });
  afterAll(() => cert?.cleanup());

  beforeEach(async () => {
    server = await MockServer.start({ tls: { key: cert.key, cert: cert.cert } });
  });
  afterEach(async () => {
    for (const c of connections.splice(0)) c.destroy();
    await server.close();
  });

  it('connects with tlsCAFile and runs commands', async () => {
    const conn = await connect({ address: server.address, tls: true, tlsCAFile: cert.certFile });
    connections.push(conn);
    expect(await conn.command('db', { ping: 1 })).toEqual({ ok: 1 });
    expect(server.hellos()).toHaveLength(1);
  });

  it('rejects an untrusted certificate (no backpressure labels), unless tlsAllowInvalidCertificates', async () => {
    const error = (await connect({ address: server.address, tls: true }).catch((e: unknown) => e)) as MongoNetworkError;
    expect(error).toBeInstanceOf(MongoNetworkError);
    expect(error.message).toContain(server.address);
    expect(error.hasErrorLabel(MongoErrorLabel.SystemOverloadedError)).toBe(false);

    const conn = await connect({ address: server.address, tls: true, tlsAllowInvalidCertificates: true });
    connections.push(conn);
    expect(await conn.command('db', { ping: 1 })).toEqual({ ok: 1 });

    const insecure = await connect({ address: server.address, tlsInsecure: true });
    connections.push(insecure);
    expect(insecure.hello?.ok).toBe(1);
  });

  it('checks the hostname unless tlsAllowInvalidHostnames', async () => {
    const other = generateSelfSignedCertificate('DNS:other.example');
    const otherServer = await MockServer.start({ tls: { key: other.key, cert: other.cert } });
    try {
      const error = await connect({ address: otherServer.address, tls: true, tlsCAFile: other.certFile }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(MongoNetworkError);
      expect((error as Error).message).toMatch(/IP: 127\.0\.0\.1 is not in the cert's list|does not match|altnames/i);
      const conn = await connect({
        address: otherServer.address,
        tls: true,
        tlsCAFile: other.certFile,
        tlsAllowInvalidHostnames: true
      });
      connections.push(conn);
      expect(conn.hello?.ok).toBe(1);
    } finally {
      for (const c of connections.splice(0)) c.destroy();
      await otherServer.close();
      other.cleanup();
    }
  });

  it('presents a client certificate from tlsCertificateKeyFile', async () => {
    const mtls = await MockServer.start({
      tls: { key: cert.key, cert: cert.cert, ca: cert.cert, requestCert: true, rejectUnauthorized: true }
    });
    try {
      const refused = await connect({ address: mtls.address, tls: true, tlsCAFile: cert.certFile }).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(MongoNetworkError);
      const conn = await connect({
        address: mtls.address,
        tls: true,
        tlsCAFile: cert.certFile,
        tlsCertificateKeyFile: cert.certKeyFile
      });
      connections.push(conn);
      expect(await conn.command('db', { ping: 1 })).toEqual({ ok: 1 });
    } finally {
      for (const c of connections.splice(0)) c.destroy();
      await mtls.close();
    }
  });

  it('reports an unreadable tlsCAFile clearly', async () => {
    await expect(connect({ address: server.address, tls: true, tlsCAFile: '/nonexistent/ca.pem' })).rejects.toThrow(
      /cannot read tlsCAFile "\/nonexistent\/ca.pem"/
    );
  });
});
