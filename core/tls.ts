import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { createSecureContext } from 'node:tls';
import type { ConfigProblem } from './component.js';

/** TLS of a server tokenledger runs (OTLP receiver, admin server): certificate and key as PEM files. */
export interface ServerTlsConfig {
  cert_file: string;
  key_file: string;
}

export const serverTlsSchema = {
  type: 'object', additionalProperties: false, required: ['cert_file', 'key_file'],
  description: 'Serve TLS with this certificate and key (PEM files; relative paths resolve against the config file).',
  properties: {
    cert_file: { type: 'string', minLength: 1, description: 'PEM certificate chain.' },
    key_file: { type: 'string', minLength: 1, description: 'PEM private key.' },
  },
};

/** A certificate chain and its key, as PEM. */
export interface ServerTlsPem { cert: Buffer; key: Buffer }

/** The PEM contents, read at start: the files a running server uses are the ones validation read. */
export function readServerTls(tls: ServerTlsConfig, configDir: string): ServerTlsPem {
  return { cert: readFileSync(resolve(configDir, tls.cert_file)), key: readFileSync(resolve(configDir, tls.key_file)) };
}

/** Unreadable files, PEM that is not a certificate or key, a key that does not match the certificate. */
export function serverTlsProblems(tls: ServerTlsConfig | undefined, configDir: string, path: readonly (string | number)[]): ConfigProblem[] {
  if (tls === undefined) return [];
  const files: Partial<Record<'cert' | 'key', Buffer>> = {};
  const problems: ConfigProblem[] = [];
  for (const [field, which] of [['cert_file', 'cert'], ['key_file', 'key']] as const) {
    try {
      files[which] = readFileSync(resolve(configDir, tls[field]));
    } catch (err) {
      problems.push({ path: [...path, field], message: `cannot read ${resolve(configDir, tls[field])}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` });
    }
  }
  if (problems.length > 0) return problems;
  try {
    createSecureContext({ cert: files.cert, key: files.key });
  } catch (err) {
    problems.push({ path: [...path, 'cert_file'], message: `not a usable certificate and key: ${(err as Error).message}` });
  }
  return problems;
}
