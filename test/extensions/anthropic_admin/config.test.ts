import { describe, expect, it } from 'vitest';
import { factories } from '../../../bin/components.js';
import { ConfigError, formatDiagnostic } from '../../../core/config/diagnostic.js';
import { loadConfigText } from '../../../core/config/load.js';

const KEY = 'sk-ant-admin01-config-test-a1b2';
const yaml = (block: string) => `receivers: { otlp: }
exporters: { clickhouse: }
extensions:
  anthropic_admin:
${block}
service:
  extensions: [anthropic_admin]
  pipelines: { p: { receivers: [otlp], exporters: [clickhouse] } }
`;

function errors(text: string, env: NodeJS.ProcessEnv): string[] {
  try {
    loadConfigText(text, 'p.yaml', factories, env);
    return [];
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return err.diagnostics.map(formatDiagnostic);
  }
}

describe('anthropic_admin configuration', () => {
  it('a missing or empty key, an unset variable, a key with whitespace and a too short interval are errors that never print the key', () => {
    expect(errors(yaml('    url: http://127.0.0.1:9'), {})).toEqual(['p.yaml:5:5: error: extensions.anthropic_admin.admin_key: is empty: set it to an Admin API key, e.g. ${env:ANTHROPIC_ADMIN_KEY}']);
    expect(errors(yaml('    admin_key: ${env:ANTHROPIC_ADMIN_KEY}'), {})[0]).toMatch(/environment variable ANTHROPIC_ADMIN_KEY is not set/);
    const spaced = errors(yaml('    admin_key: ${env:ANTHROPIC_ADMIN_KEY}\n    interval: 30s'), { ANTHROPIC_ADMIN_KEY: `${KEY} x` });
    expect(spaced).toEqual([
      'p.yaml:5:16: error: extensions.anthropic_admin.admin_key: contains whitespace (value not shown: it is a secret)',
      'p.yaml:6:15: error: extensions.anthropic_admin.interval: 30s is below 1m: the reports are aggregated per minute at best, and the Admin API is rate limited',
    ]);
    expect(spaced.join('\n')).not.toContain('config-test');
    expect(errors(yaml('    admin_key: ${env:ANTHROPIC_ADMIN_KEY}'), { ANTHROPIC_ADMIN_KEY: KEY })).toEqual([]);
  });
});
