import { readFileSync } from 'node:fs';

/** The valid CLI fixture, broken one way at a time; each with the start of the error it must print. */
const VALID = readFileSync(new URL('../fixtures/config/valid.yaml', import.meta.url), 'utf8');

function edit(from: string, to: string): string {
  if (!VALID.includes(from)) throw new Error(`fixture has no '${from}'`);
  return VALID.replace(from, to);
}

export const BROKEN: { name: string; text: string; expect: string }[] = [
  { name: 'bad-yaml', text: edit('receivers: [otlp]', 'receivers: [otlp'), expect: ':18:7: error: invalid YAML:' },
  { name: 'tab-indent', text: edit('  debug/calls:', '\tdebug/calls:'), expect: ':13:1: error: invalid YAML:' },
  { name: 'unknown-key', text: edit('verbosity: basic', 'verbosity: basic\n    colour: red'), expect: ":13:5: error: exporters.debug.colour: unknown key 'colour'; expected one of: verbosity" },
  { name: 'wrong-type', text: edit('verbosity: basic', 'verbosity: 3'), expect: ':12:16: error: exporters.debug.verbosity: expected one of "basic", "normal", "detailed", found number 3' },
  { name: 'unknown-type', text: edit('  debug/calls:', '  kafka:'), expect: ":13:3: error: exporters.kafka: unknown exporter type 'kafka'; known types: " },
  { name: 'missing-component', text: edit('exporters: [debug, debug/calls]', 'exporters: [debug, debug/nope]'), expect: ":19:26: error: service.pipelines.llm.exporters[1]: pipeline 'llm' names exporter 'debug/nope', which is not declared" },
  { name: 'bad-env', text: edit('level: warn', 'level: ${env:TOKENLEDGER_TEST_UNSET_LEVEL}'), expect: ':22:14: error: environment variable TOKENLEDGER_TEST_UNSET_LEVEL is not set' },
  { name: 'bad-env-syntax', text: edit('level: warn', 'level: ${LEVEL}'), expect: ":22:14: error: bad reference '${LEVEL}'" },
  { name: 'bad-port', text: edit('endpoint: 127.0.0.1:0\n  shutdown', 'endpoint: 127.0.0.1:70000\n  shutdown'), expect: ':24:17: error: service.telemetry.admin.endpoint: expected host:port with a port from 0 to 65535, found string "127.0.0.1:70000"' },
  { name: 'bad-level', text: edit('level: warn', 'level: loud'), expect: ':22:14: error: service.telemetry.logs.level: expected one of "debug", "info", "warn", "error", found string "loud"' },
  { name: 'bad-duration', text: edit('shutdown_timeout: 5s', 'shutdown_timeout: 5 seconds'), expect: ':25:21: error: service.shutdown_timeout: expected a duration such as 500ms, 30s or 5m, found string "5 seconds"' },
  { name: 'no-pipelines', text: VALID.slice(0, VALID.indexOf('  pipelines:')) + '  pipelines: {}\n', expect: ':15:14: error: service.pipelines: expected at least 1 entry, found none' },
  { name: 'processor-as-exporter', text: edit('exporters: [debug, debug/calls]', 'exporters: [debug, claude-normalizer]'), expect: "'claude-normalizer' is declared under processors, not exporters" },
  { name: 'receiver-not-a-list', text: edit('receivers: [otlp]', 'receivers: otlp'), expect: ':17:18: error: service.pipelines.llm.receivers: expected array, found string "otlp"' },
  { name: 'empty', text: '', expect: ':1:1: error: expected a mapping with receivers, processors, exporters and service, found an empty file' },
];
