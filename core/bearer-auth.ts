import { createHash, timingSafeEqual } from 'node:crypto';
import type { ConfigProblem } from './component.js';

/** Bearer-token authentication of a server tokenledger runs (OTLP receiver, admin server). */
export interface BearerAuthConfig {
  bearer_tokens: string[];
  bearer_tokens_env: string;
}

export const BEARER_AUTH_DEFAULTS: BearerAuthConfig = { bearer_tokens: [], bearer_tokens_env: '' };

export function bearerAuthSchema(description: string) {
  return {
    type: 'object', additionalProperties: false, default: BEARER_AUTH_DEFAULTS, description,
    properties: {
      bearer_tokens: { type: 'array', items: { type: 'string', minLength: 1 }, default: [], description: 'Accepted tokens (write `${env:VAR}` rather than a literal).' },
      bearer_tokens_env: { type: 'string', default: '', description: 'Name of an environment variable holding more accepted tokens, comma-separated. The configuration is invalid when it is named but empty.' },
    },
  };
}

/** Checks an `Authorization: Bearer <token>` value against the configured tokens. */
export type Authenticator = (authorization: string | undefined) => boolean;

function tokensOf(auth: BearerAuthConfig, env: NodeJS.ProcessEnv): string[] {
  const fromEnv = auth.bearer_tokens_env === '' ? [] : (env[auth.bearer_tokens_env] ?? '').split(',').map((t) => t.trim()).filter((t) => t !== '');
  return [...auth.bearer_tokens, ...fromEnv];
}

/** A named but empty token variable would silently turn authentication off. */
export function bearerAuthProblems(auth: BearerAuthConfig, env: NodeJS.ProcessEnv, path: readonly (string | number)[]): ConfigProblem[] {
  if (auth.bearer_tokens_env === '' || tokensOf({ bearer_tokens: [], bearer_tokens_env: auth.bearer_tokens_env }, env).length > 0) return [];
  return [{ path: [...path, 'bearer_tokens_env'], message: `names ${auth.bearer_tokens_env}, which is unset or empty: refusing to start without the tokens` }];
}

/** null when no token is configured (authentication off). */
export function createAuthenticator(auth: BearerAuthConfig, env: NodeJS.ProcessEnv): Authenticator | null {
  const problem = bearerAuthProblems(auth, env, ['auth'])[0];
  if (problem) throw new Error(`${problem.path.join('.')} ${problem.message}`);
  const tokens = tokensOf(auth, env);
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
