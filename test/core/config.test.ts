import { describe, expect, it } from 'vitest';
import { ConfigError, formatDiagnostic } from '../../core/config/diagnostic.js';
import { loadConfigText } from '../../core/config/load.js';
import { expandEnv } from '../../core/config/env.js';
import type { Factory, ValidateContext } from '../../core/component.js';
import { fakeFactories } from './fake-components.js';

const GOOD = `receivers:
  push:
  push/second:
    endpoint: 127.0.0.1:4318
processors:
  tag:
    model: \${env:MODEL:-claude-haiku-4-5}
exporters:
  memory:
  memory/archive:
    mode: slow
service:
  pipelines:
    a:
      receivers: [push, push/second]
      processors: [tag]
      exporters: [memory, memory/archive]
    b:
      receivers: [push]
      exporters: [memory]
`;

function errorsOf(text: string, env: NodeJS.ProcessEnv = {}): string[] {
  try {
    loadConfigText(text, 'p.yaml', fakeFactories, env);
  } catch (err) {
    if (err instanceof ConfigError) return err.diagnostics.filter((d) => d.severity === 'error').map(formatDiagnostic);
    throw err;
  }
  return [];
}

describe('loading pipeline.yaml', () => {
  it('applies defaults, expands env and keeps several pipelines sharing a receiver', () => {
    const { config, warnings } = loadConfigText(GOOD, 'p.yaml', fakeFactories, {});
    expect(warnings).toEqual([]);
    expect(config.processors.tag).toEqual({ model: 'claude-haiku-4-5', max_batch: 100 });
    expect(config.receivers.push).toEqual({ endpoint: '127.0.0.1:0', tokens: [] });
    expect(config.exporters['memory/archive']).toEqual({ mode: 'slow' });
    expect(config.service.shutdown_timeout).toBe('30s');
    expect(config.service.telemetry).toEqual({ logs: { level: 'info' }, admin: { endpoint: '0.0.0.0:9464', auth: { bearer_tokens: [], bearer_tokens_env: '' } } });
    expect(config.service.pipelines.b).toEqual({ receivers: ['push'], processors: [], exporters: ['memory'] });
  });

  it('gives a whole-value env reference the YAML type of its value', () => {
    const text = GOOD.replace('mode: slow', 'mode: slow\n  memory/x:').replace("model: ${env:MODEL:-claude-haiku-4-5}", 'model: m\n    max_batch: ${env:MAX}');
    const { config } = loadConfigText(text, 'p.yaml', fakeFactories, { MAX: '7' });
    expect(config.processors.tag).toEqual({ model: 'm', max_batch: 7 });
  });

  it('warns about a declared but unused component, with its position', () => {
    const { warnings } = loadConfigText(GOOD.replace('exporters:\n  memory:\n', 'exporters:\n  memory:\n  memory/unused:\n'), 'p.yaml', fakeFactories, {});
    expect(warnings.map(formatDiagnostic)).toEqual(["p.yaml:10:3: warning: exporters.memory/unused: exporter 'memory/unused' is declared but used by no pipeline"]);
  });
});

describe('configuration errors name file:line:col, the YAML path, what was expected and what was found', () => {
  const cases: [string, string, NodeJS.ProcessEnv, string[]][] = [
    ['bad YAML', GOOD.replace('receivers: [push, push/second]', 'receivers: [push, push/second'), {}, ['p.yaml:16:7: error: invalid YAML: Flow sequence in block collection must be sufficiently indented and end with a ]']],
    ['unknown key', GOOD.replace('mode: slow', 'mode: slow\n    colour: red'), {},
      ["p.yaml:12:5: error: exporters.memory/archive.colour: unknown key 'colour'; expected one of: mode"]],
    ['wrong type', GOOD.replace("model: ${env:MODEL:-claude-haiku-4-5}", 'model: m\n    max_batch: lots'), {},
      ['p.yaml:8:16: error: processors.tag.max_batch: expected integer, found string "lots"']],
    ['out of range', GOOD.replace("model: ${env:MODEL:-claude-haiku-4-5}", 'model: m\n    max_batch: 0'), {},
      ['p.yaml:8:16: error: processors.tag.max_batch: expected a number >= 1, found number 0']],
    ['bad enum', GOOD.replace('mode: slow', 'mode: turbo'), {},
      ['p.yaml:11:11: error: exporters.memory/archive.mode: expected one of "fast", "slow", found string "turbo"']],
    ['unknown component type', GOOD.replace('  memory/archive:', '  kafka:\n  memory/archive:'), {},
      ["p.yaml:10:3: error: exporters.kafka: unknown exporter type 'kafka'; known types: memory"]],
    ['bad component id', GOOD.replace('  push/second:', '  Push/second:'), {},
      ["p.yaml:3:3: error: receivers.Push/second: bad component id 'Push/second': expected 'type' or 'type/name' (lowercase type, name of letters, digits, _ . -)",
        "p.yaml:15:25: error: service.pipelines.a.receivers[1]: pipeline 'a' names receiver 'push/second', which is not declared; declared receivers: push"]],
    ['pipeline names a missing component', GOOD.replace('exporters: [memory, memory/archive]', 'exporters: [memory, memory/missing]'), {},
      ["p.yaml:17:27: error: service.pipelines.a.exporters[1]: pipeline 'a' names exporter 'memory/missing', which is not declared; declared exporters: memory, memory/archive"]],
    ['component in the wrong section', GOOD.replace('processors: [tag]', 'processors: [memory]'), {},
      ["p.yaml:16:20: error: service.pipelines.a.processors[0]: pipeline 'a' names processor 'memory', which is not declared; 'memory' is declared under exporters, not processors"]],
    ['unset env without default', GOOD.replace("${env:MODEL:-claude-haiku-4-5}", '${env:MODEL}'), {},
      ["p.yaml:7:12: error: environment variable MODEL is not set and '${env:MODEL}' has no default (write ${env:MODEL:-default})"]],
    ['malformed env reference', GOOD.replace("${env:MODEL:-claude-haiku-4-5}", '${MODEL}'), {},
      ["p.yaml:7:12: error: bad reference '${MODEL}': expected ${env:NAME} or ${env:NAME:-default}"]],
    ['bad port', GOOD.replace('127.0.0.1:4318', '127.0.0.1:99999'), {},
      ['p.yaml:4:15: error: receivers.push/second.endpoint: expected host:port with a port from 0 to 65535, found string "127.0.0.1:99999"']],
    ['bad duration', GOOD + '  shutdown_timeout: soon\n', {},
      ['p.yaml:21:21: error: service.shutdown_timeout: expected a duration such as 500ms, 30s or 5m, found string "soon"']],
    ['pipeline without exporters', GOOD.replace('      exporters: [memory]\n', ''), {},
      ["p.yaml:19:7: error: service.pipelines.b: missing required key 'exporters'"]],
    ['empty receiver list', GOOD.replace('receivers: [push]', 'receivers: []'), {},
      ['p.yaml:19:18: error: service.pipelines.b.receivers: expected at least 1 item(s), found 0']],
    ['no service section', GOOD.slice(0, GOOD.indexOf('service:')), {},
      ["p.yaml:1:1: error: missing required key 'service'"]],
    ['empty file', '', {}, ['p.yaml:1:1: error: expected a mapping with receivers, processors, exporters and service, found an empty file']],
    ['unknown top-level key', 'connectors: {}\n' + GOOD, {},
      ["p.yaml:1:1: error: connectors: unknown key 'connectors'; expected one of: service, receivers, processors, exporters, extensions"]],
  ];

  it.each(cases)('%s', (_name, text, env, expected) => {
    const errors = errorsOf(text, env);
    expect(errors.length).toBe(expected.length);
    expected.forEach((e, i) => expect(errors[i].startsWith(e), `${errors[i]}\n  should start with\n${e}`).toBe(true));
  });

  it('reports several errors at once, not only the first', () => {
    const text = GOOD.replace('mode: slow', 'mode: turbo').replace('127.0.0.1:4318', 'nowhere').replace('processors: [tag]', 'processors: [nope]');
    const errors = errorsOf(text);
    expect(errors).toHaveLength(3);
    expect(errors.join('\n')).toContain('exporters.memory/archive.mode');
    expect(errors.join('\n')).toContain('receivers.push/second.endpoint');
    expect(errors.join('\n')).toContain("pipeline 'a' names processor 'nope'");
  });
});

describe('${env:…} expansion', () => {
  it('expands, falls back to defaults, keeps $$ as a literal $', () => {
    expect(expandEnv('a ${env:X} b ${env:Y:-dflt} $$5', { X: 'x' })).toEqual({ value: 'a x b dflt $5', errors: [] });
    expect(expandEnv('${env:EMPTY:-used}', { EMPTY: '' }).value).toBe('used');
  });
});

describe('component validate steps', () => {
  const checked: Factory[] = fakeFactories.map((f) => {
    if (f.type === 'tag') return { ...f, validate: (c: { model: string }) => (c.model === 'forbidden' ? [{ path: ['model'], message: 'not this model' }] : []) };
    if (f.type === 'memory') {
      return {
        ...f,
        validate: (c: { mode: string }, ctx: ValidateContext) => {
          if (ctx.env.BREAK === '1') throw new Error('a bug');
          return c.mode === 'slow' && ctx.configDir === '/etc/tl' ? [{ path: [], message: `slow in ${ctx.id}` }] : [];
        },
        validateInstances: (list: { id: string }[]) => list.slice(1).map(({ id }) => ({ id, path: [], message: `only one, not ${list.length}` })),
      };
    }
    return f;
  }) as Factory[];
  const errors = (text: string, env: NodeJS.ProcessEnv = {}) => {
    try {
      loadConfigText(text, '/etc/tl/p.yaml', checked, env);
      return [];
    } catch (err) {
      return (err as ConfigError).diagnostics.filter((d) => d.severity === 'error').map(formatDiagnostic);
    }
  };

  it('reports each problem at its path with file:line:col, with the config dir and env of the load', () => {
    expect(errors(GOOD.replace('${env:MODEL:-claude-haiku-4-5}', 'forbidden'))).toEqual([
      '/etc/tl/p.yaml:7:12: error: processors.tag.model: not this model',
      '/etc/tl/p.yaml:11:5: error: exporters.memory/archive: slow in memory/archive',
      '/etc/tl/p.yaml:11:5: error: exporters.memory/archive: only one, not 2',
    ]);
  });

  it('skips a block with schema errors (its own messages suffice) and turns a throwing step into a diagnostic', () => {
    expect(errors(GOOD.replace('${env:MODEL:-claude-haiku-4-5}', 'forbidden\n    colour: red'))[0]).toMatch(/processors.tag.colour: unknown key/);
    expect(errors(GOOD.replace('${env:MODEL:-claude-haiku-4-5}', 'forbidden\n    colour: red'))).toHaveLength(3);
    expect(errors(GOOD, { BREAK: '1' }).slice(0, 2)).toEqual(['/etc/tl/p.yaml:9:10: error: exporters.memory: validation failed: a bug', '/etc/tl/p.yaml:11:5: error: exporters.memory/archive: validation failed: a bug']);
  });
});
