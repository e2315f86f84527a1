import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, formatDiagnostic } from '../../core/config/diagnostic.js';
import { loadConfigText } from '../../core/config/load.js';
import { Service } from '../../core/service.js';
import { events, fakeFactories } from './fake-components.js';

const yaml = (extensions: string, listed: string) => `receivers: { push: }
processors: { tag: }
exporters: { memory: }
extensions:
${extensions}
service:
  extensions: ${listed}
  pipelines: { one: { receivers: [push], processors: [tag], exporters: [memory] } }
  telemetry: { logs: { level: error }, admin: { endpoint: 127.0.0.1:0 } }
  shutdown_timeout: 2s
`;

function diagnostics(text: string): string[] {
  try {
    return loadConfigText(text, 'p.yaml', fakeFactories).warnings.map(formatDiagnostic);
  } catch (err) {
    if (err instanceof ConfigError) return err.diagnostics.map(formatDiagnostic);
    throw err;
  }
}

let service: Service | undefined;
beforeEach(() => { events.length = 0; });
afterEach(async () => { await service?.stop(); service = undefined; });

describe('extensions', () => {
  it('start after the exporters (their capabilities are there) and before processors and receivers; stop in reverse', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tl-ext-'));
    writeFileSync(join(dir, 'pipeline.yaml'), yaml('  watch:\n  watch/two:', '[watch, watch/two]'));
    service = new Service(join(dir, 'pipeline.yaml'), fakeFactories);
    await service.start();
    expect(events).toEqual(['start memory', 'start watch (exporter started: true)', 'start watch/two (exporter started: true)', 'start tag', 'start push']);
    events.length = 0;
    await service.stop();
    service = undefined;
    expect(events).toEqual(['stop push', 'stop tag', 'stop watch/two', 'stop watch', 'stop memory']);
  });

  it('are checked like other components: unknown type, undeclared id, unlisted (warning), own validate step', () => {
    expect(diagnostics(yaml('  nope:', '[]'))).toEqual([
      "p.yaml:5:3: error: extensions.nope: unknown extension type 'nope'; known types: watch",
    ]);
    expect(diagnostics(yaml('  watch:', '[watch, other]'))).toEqual([
      "p.yaml:7:23: error: service.extensions[1]: service.extensions names extension 'other', which is not declared; declared extensions: watch",
    ]);
    expect(diagnostics(yaml('  watch:', '[]'))).toEqual([
      "p.yaml:5:3: warning: extensions.watch: extension 'watch' is declared but not listed in service.extensions",
    ]);
    expect(diagnostics(yaml('  watch: { label: bad }', '[watch]'))).toEqual([
      'p.yaml:5:19: error: extensions.watch.label: bad on purpose',
    ]);
  });

  it('a configuration without extensions needs neither section', () => {
    const text = `receivers: { push: }\nexporters: { memory: }\nservice: { pipelines: { one: { receivers: [push], exporters: [memory] } } }\n`;
    const { config } = loadConfigText(text, 'p.yaml', fakeFactories);
    expect(config.extensions).toEqual({});
    expect(config.service.extensions).toEqual([]);
  });
});
