/**
 * A test PKI generated at test time with the `openssl` CLI: certificate authorities and leaf
 * certificates they sign (server, client, expired, wrong hostname). Everything lives in one
 * temporary directory removed by `cleanup()`.
 *
 * Leaf certificates are issued with `openssl ca` so validity dates can be set explicitly (an
 * expired certificate) on OpenSSL 3.0, which has no `x509 -not_before`.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

export { hasOpenssl } from './tls_certs';

export interface CertFiles {
  /** PEM private key. */
  keyFile: string;
  /** PEM certificate. */
  certFile: string;
  /** Certificate + key in one PEM (for tlsCertificateKeyFile). */
  certKeyFile: string;
  key: Buffer;
  cert: Buffer;
}

export interface CertificateAuthority extends CertFiles {
  name: string;
}

export interface LeafOptions {
  /** Subject, e.g. `/O=mongowire/OU=drivers/CN=client`. */
  subject: string;
  /** subjectAltName, e.g. `IP:127.0.0.1,DNS:localhost` (none when omitted). */
  altNames?: string;
  /** `server` (serverAuth) or `client` (clientAuth) extended key usage. */
  usage: 'server' | 'client';
  /** Validity window as `YYYYMMDDHHMMSSZ`; default: from yesterday for 2 days. */
  startDate?: string;
  endDate?: string;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

function stamp(date: Date): string {
  return date.toISOString().replace(/[-:T]/g, '').slice(0, 14) + 'Z';
}

export class TestPki {
  readonly dir: string;

  constructor() {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mongowire-pki-'));
  }

  private files(name: string): CertFiles {
    const keyFile = path.join(this.dir, `${name}-key.pem`);
    const certFile = path.join(this.dir, `${name}.pem`);
    const certKeyFile = path.join(this.dir, `${name}-cert-key.pem`);
    const key = fs.readFileSync(keyFile);
    const cert = fs.readFileSync(certFile);
    fs.writeFileSync(certKeyFile, Buffer.concat([cert, key]));
    return { keyFile, certFile, certKeyFile, key, cert };
  }

  /** A self-signed certificate authority. */
  createCa(name: string): CertificateAuthority {
    openssl(
      [
        'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-days', '2',
        '-keyout', `${name}-key.pem`, '-out', `${name}.pem`,
        '-subj', `/O=mongowire-test/CN=${name}`,
        '-addext', 'basicConstraints=critical,CA:TRUE',
        '-addext', 'keyUsage=critical,keyCertSign,cRLSign'
      ],
      this.dir
    );
    const caDir = path.join(this.dir, `${name}-db`);
    fs.mkdirSync(caDir);
    fs.writeFileSync(path.join(caDir, 'index.txt'), '');
    return { name, ...this.files(name) };
  }

  /** A leaf certificate signed by `ca`. */
  issue(ca: CertificateAuthority, name: string, options: LeafOptions): CertFiles {
    const now = Date.now();
    const startDate = options.startDate ?? stamp(new Date(now - 24 * 3600_000));
    const endDate = options.endDate ?? stamp(new Date(now + 2 * 24 * 3600_000));
    const caDir = path.join(this.dir, `${ca.name}-db`);
    const extensions = [
      '[ leaf ]',
      'basicConstraints = CA:FALSE',
      'keyUsage = critical, digitalSignature, keyEncipherment',
      `extendedKeyUsage = ${options.usage === 'server' ? 'serverAuth' : 'clientAuth'}`
    ];
    if (options.altNames) extensions.push(`subjectAltName = ${options.altNames}`);
    const config = [
      '[ ca ]',
      'default_ca = test_ca',
      '[ test_ca ]',
      `database = ${path.join(caDir, 'index.txt')}`,
      `new_certs_dir = ${caDir}`,
      'default_md = sha256',
      'rand_serial = yes',
      'policy = any_policy',
      'unique_subject = no',
      'email_in_dn = no',
      '[ any_policy ]',
      'organizationName = optional',
      'organizationalUnitName = optional',
      'commonName = supplied',
      ...extensions
    ].join('\n');
    const configFile = path.join(this.dir, `${name}.cnf`);
    fs.writeFileSync(configFile, config);
    openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}-key.pem`, '-out', `${name}.csr`, '-subj', options.subject], this.dir);
    openssl(
      [
        'ca', '-batch', '-notext', '-config', configFile, '-extensions', 'leaf',
        '-cert', ca.certFile, '-keyfile', ca.keyFile,
        '-startdate', startDate, '-enddate', endDate,
        '-in', `${name}.csr`, '-out', `${name}.pem`
      ],
      this.dir
    );
    return this.files(name);
  }

  cleanup(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The standard matrix: two CAs and the leaf certificates the TLS tests need. */
export interface TlsMatrixCerts {
  pki: TestPki;
  ca: CertificateAuthority;
  otherCa: CertificateAuthority;
  /** Signed by `ca` for 127.0.0.1 and localhost. */
  server: CertFiles;
  /** Signed by `ca`, valid for 127.0.0.1, but expired yesterday. */
  expiredServer: CertFiles;
  /** Signed by `ca` for `other.example` only. */
  wrongHostServer: CertFiles;
  /** Signed by `otherCa` for 127.0.0.1. */
  otherCaServer: CertFiles;
  /** Client certificate signed by `ca`, subject `CN=client,OU=drivers,O=mongowire`. */
  client: CertFiles;
  /** The RFC 2253 subject of `client`, as mongod reports it for MONGODB-X509. */
  clientSubject: string;
}

export function generateTlsMatrix(): TlsMatrixCerts {
  const pki = new TestPki();
  try {
    const ca = pki.createCa('test-ca');
    const otherCa = pki.createCa('other-ca');
    const local = 'IP:127.0.0.1,DNS:localhost';
    const dayMs = 24 * 3600_000;
    return {
      pki,
      ca,
      otherCa,
      server: pki.issue(ca, 'server', { subject: '/O=mongowire/CN=localhost', altNames: local, usage: 'server' }),
      expiredServer: pki.issue(ca, 'expired', {
        subject: '/O=mongowire/CN=localhost',
        altNames: local,
        usage: 'server',
        startDate: stamp(new Date(Date.now() - 3 * dayMs)),
        endDate: stamp(new Date(Date.now() - dayMs))
      }),
      wrongHostServer: pki.issue(ca, 'wronghost', { subject: '/O=mongowire/CN=other.example', altNames: 'DNS:other.example', usage: 'server' }),
      otherCaServer: pki.issue(otherCa, 'othercaserver', { subject: '/O=mongowire/CN=localhost', altNames: local, usage: 'server' }),
      client: pki.issue(ca, 'client', { subject: '/O=mongowire/OU=drivers/CN=client', usage: 'client' }),
      clientSubject: 'CN=client,OU=drivers,O=mongowire'
    };
  } catch (error) {
    pki.cleanup();
    throw error;
  }
}
