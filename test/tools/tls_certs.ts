/** Self-signed TLS material generated at test time with the `openssl` CLI (when installed). */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

export interface TestCertificate {
  dir: string;
  /** PEM private key (unencrypted). */
  keyFile: string;
  /** PEM certificate (self-signed, so it is also its own CA). */
  certFile: string;
  /** Certificate + key in one PEM (for tlsCertificateKeyFile). */
  certKeyFile: string;
  key: Buffer;
  cert: Buffer;
  cleanup(): void;
}

/** Whether the openssl CLI is available. */
export function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Generates a self-signed certificate for `subjectAltName` (default: 127.0.0.1 and localhost). */
export function generateSelfSignedCertificate(subjectAltName = 'IP:127.0.0.1,DNS:localhost'): TestCertificate {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mongowire-tls-'));
  const keyFile = path.join(dir, 'key.pem');
  const certFile = path.join(dir, 'cert.pem');
  const certKeyFile = path.join(dir, 'cert-key.pem');
  execFileSync(
    'openssl',
    [
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-days', '1',
      '-keyout', keyFile, '-out', certFile,
      '-subj', '/CN=mongowire-test', '-addext', `subjectAltName=${subjectAltName}`
    ],
    { stdio: 'ignore' }
  );
  const key = fs.readFileSync(keyFile);
  const cert = fs.readFileSync(certFile);
  fs.writeFileSync(certKeyFile, Buffer.concat([cert, key]));
  return {
    dir,
    keyFile,
    certFile,
    certKeyFile,
    key,
    cert,
    cleanup: () => fs.rmSync(dir, { recursive: true, force: true })
  };
}
