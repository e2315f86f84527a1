import { createHash, timingSafeEqual } from 'node:crypto';
import type { OtlpReceiverConfig } from './config.js';

/** Checks `Authorization: Bearer <token>` against the configured tokens; null when auth is off. */
export type Authenticator = (authorization: string | undefined) => boolean;

export function createAuthenticator(auth: OtlpReceiverConfig['auth'], env: NodeJS.ProcessEnv): Authenticator | null {
  const tokens = [...auth.bearer_tokens];
  if (auth.bearer_tokens_env !== '') {
    const fromEnv = (env[auth.bearer_tokens_env] ?? '').split(',').map((t) => t.trim()).filter((t) => t !== '');
    if (fromEnv.length === 0) throw new Error(`auth.bearer_tokens_env names ${auth.bearer_tokens_env}, which is unset or empty: refusing to start without the tokens`);
    tokens.push(...fromEnv);
  }
  if (tokens.length === 0) return null;
  // Comparing digests keeps the comparison constant-time whatever the lengths.
  const digests = tokens.map(sha256);
  return (authorization) => {
    if (authorization === undefined) return false;
    const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (m === null) return false;
    const given = sha256(m[1]);
    let ok = false;
    for (const d of digests) ok = timingSafeEqual(d, given) || ok;
    return ok;
  };
}

const sha256 = (s: string): Buffer => createHash('sha256').update(s).digest();
