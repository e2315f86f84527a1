/**
 * `${env:VAR}` and `${env:VAR:-default}` expansion, as the collector does it; `$$` is a literal `$`.
 * A reference to an unset variable without a default is an error, not an empty string.
 */
const REF = /\$\$|\$\{([^}]*)\}/g;
const ENV_REF = /^env:([A-Za-z_][A-Za-z0-9_]*)(?::-(.*))?$/s;

export interface Expansion {
  value: string;
  errors: string[];
}

export function expandEnv(text: string, env: NodeJS.ProcessEnv): Expansion {
  const errors: string[] = [];
  if (!text.includes('$')) return { value: text, errors };
  const value = text.replace(REF, (whole, inner: string | undefined) => {
    if (whole === '$$') return '$';
    const m = ENV_REF.exec(inner ?? '');
    if (!m) {
      errors.push(`bad reference '${whole}': expected \${env:NAME} or \${env:NAME:-default}`);
      return whole;
    }
    const [, name, fallback] = m;
    const set = env[name];
    if (set !== undefined && set !== '') return set;
    if (fallback !== undefined) return fallback;
    errors.push(`environment variable ${name} is not set and '${whole}' has no default (write \${env:${name}:-default})`);
    return '';
  });
  return { value, errors };
}
