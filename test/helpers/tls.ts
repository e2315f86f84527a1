import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** A throw-away self-signed certificate for localhost and 127.0.0.1, written as cert.pem and key.pem into `dir`. */
export function selfSignedCert(dir: string): { cert_file: string; key_file: string; ca: Buffer } {
  const cert_file = join(dir, 'cert.pem');
  const key_file = join(dir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost',
    '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-keyout', key_file, '-out', cert_file], { stdio: 'ignore' });
  return { cert_file, key_file, ca: readFileSync(cert_file) };
}
