import { readFileSync } from 'node:fs';

/** The valid CLI fixture, broken one way at a time; each with the start of the error it must print. */
const VALID = readFileSync(new URL('../fixtures/config/valid.yaml', import.meta.url), 'utf8');

function edit(from: string, to: string): string {
  if (!VALID.includes(from)) throw new Error(`fixture has no '${from}'`);
  return VALID.replace(from, to);
}

const withProcessor = (block: string) => edit('processors:\n  claude-normalizer:\n', `processors:\n  claude-normalizer:\n${block}`);
const withReceiver = (block: string) => edit('        endpoint: 127.0.0.1:0\nprocessors:', `        endpoint: 127.0.0.1:0\n${block}processors:`);
const withExporter = (block: string) => edit('exporters:\n', `exporters:\n${block}`);
const withOverride = (entry: string) => withProcessor(`  cost-enrichment:\n    overrides:\n      - ${entry}\n`);
const withAdmin = (block: string) => edit('    admin:\n      endpoint: 127.0.0.1:0\n', `    admin:\n      endpoint: 127.0.0.1:0\n${block}`);

/**
 * Files the schema accepts but `run` would refuse or crash on (issue 14 §2), and files that would
 * copy content or credentials into rows and labels (§3): the components' validate steps refuse them.
 */
export const REFUSED_AT_VALIDATION: { name: string; text: string; expect: string }[] = [
  { name: 'attribution-credential-header', text: withProcessor('    attribution:\n      team: [litellm:team_alias, header:authorization]\n'), expect: ":11:34: error: processors.claude-normalizer.attribution.team[1]: 'authorization' is a credential header" },
  { name: 'model-provider-not-an-otel-name', text: withProcessor('    model_providers: { my-claude: Anthropic }\n'), expect: ":10:35: error: processors.claude-normalizer.model_providers.my-claude: 'Anthropic' is not a provider name" },
  { name: 'attribution-unknown-litellm-field', text: withProcessor('    attribution:\n      user: [litellm:email]\n'), expect: ':11:14: error: processors.claude-normalizer.attribution.user[0]: "litellm:email": litellm fields are' },
  { name: 'dimension-content-attribute', text: withProcessor('    dimensions:\n      project: [attribute:gen_ai.input.messages]\n'), expect: ":11:17: error: processors.claude-normalizer.dimensions.project[0]: 'gen_ai.input.messages' is a content attribute" },
  { name: 'dimension-prompt-attribute', text: withProcessor('    dimensions:\n      p: [attribute:prompt, attribute:input.value, resource:gen_ai.prompt]\n'), expect: ":11:29: error: processors.claude-normalizer.dimensions.p[1]: 'input.value' is a content attribute" },
  { name: 'dimension-api-key-header', text: withProcessor('    dimensions:\n      k: [header:x-api-key]\n'), expect: ":11:11: error: processors.claude-normalizer.dimensions.k[0]: 'x-api-key' is a credential header" },
  { name: 'include-content-attribute', text: withProcessor('    attributes:\n      include: [gen_ai.request.model, gen_ai.completion]\n'), expect: ":11:39: error: processors.claude-normalizer.attributes.include[1]: 'gen_ai.completion' is a content attribute" },
  { name: 'header-authorization-to-resource', text: withReceiver('    headers_to_resource_attributes:\n      authorization: team.id\n'), expect: ":9:22: error: receivers.otlp.headers_to_resource_attributes.authorization: 'authorization' is a credential header" },
  { name: 'header-cookie-to-resource', text: withReceiver('    headers_to_resource_attributes:\n      x-tenant-id: tenant.id\n      Cookie: session.cookie\n'), expect: ":10:15: error: receivers.otlp.headers_to_resource_attributes.Cookie: 'Cookie' is a credential header" },
  { name: 'duplicate-budget-name', text: withExporter("  budget:\n    budgets:\n      - { name: team-a, scope: { team: a }, limit_usd: 10 }\n      - { name: team-a, scope: { team: b }, limit_usd: 20 }\n"), expect: ":14:17: error: exporters.budget.budgets[1].name: duplicate budget name 'team-a'" },
  { name: 'budget-mars-time-zone', text: withExporter("  budget:\n    budgets:\n      - { name: b, scope: { team: a }, limit_usd: 10, timezone: Mars/Olympus }\n"), expect: ":13:65: error: exporters.budget.budgets[0].timezone: unknown time zone 'Mars/Olympus'" },
  { name: 'budgets-under-prometheus', text: withExporter("  prometheus:\n    budgets:\n      - { name: b, scope: { team: a }, limit_usd: 10 }\n"), expect: ":13:7: error: exporters.prometheus.budgets: 'budgets' moved to the budget exporter" },
  { name: 'budget-ledger-undeclared', text: withExporter("  budget:\n    ledger: clickhous\n    budgets: [{ name: b, scope: { team: '*' }, limit_usd: 10 }]\n").replace('exporters: [debug, debug/calls]', 'exporters: [debug, budget]'), expect: ":12:13: error: exporters.budget.ledger: names exporter 'clickhous', which is not declared; declared exporters: budget, debug, debug/calls" },
  { name: 'budget-ledger-without-store', text: withExporter("  budget:\n    ledger: debug\n    budgets: [{ name: b, scope: { team: '*' }, limit_usd: 10 }]\n").replace('exporters: [debug, debug/calls]', 'exporters: [debug, budget]'), expect: ":12:13: error: exporters.budget.ledger: names exporter 'debug', which offers no spendStore; exporters that do: (none declared)" },
  { name: 'budget-ledger-unused', text: withExporter("  clickhouse:\n    queue: { type: memory }\n  budget:\n    ledger: clickhouse\n    budgets: [{ name: b, scope: { team: '*' }, limit_usd: 10 }]\n").replace('exporters: [debug, debug/calls]', 'exporters: [debug, budget]'), expect: ":14:13: error: exporters.budget.ledger: names exporter 'clickhouse', which no pipeline uses" },
  { name: 'budget-sync-interval-zero', text: withExporter("  budget:\n    sync_interval: 0s\n    budgets: [{ name: b, scope: { team: '*' }, limit_usd: 10 }]\n"), expect: ":12:20: error: exporters.budget.sync_interval: expected at least 100ms, found '0s'" },
  { name: 'override-inverted-dates', text: withOverride('{ name: promo, model: claude-*, discount_percent: 10, valid_from: 2026-12-01, valid_to: 2026-11-01 }'), expect: ':12:97: error: processors.cost-enrichment.overrides[0].valid_to: valid_to 2026-11-01 must be after valid_from 2026-12-01' },
  { name: 'override-not-a-day', text: withOverride('{ name: promo, model: claude-*, discount_percent: 10, valid_from: 2026-02-30 }'), expect: ":12:75: error: processors.cost-enrichment.overrides[0].valid_from: '2026-02-30' is not a calendar day" },
  { name: 'override-regex-glob', text: withOverride("{ name: fast, model: 'claude-(sonnet|opus)-.*', multiplier: 6 }"), expect: ":12:30: error: processors.cost-enrichment.overrides[0].model: glob 'claude-(sonnet|opus)-.*' contains '(', which no model id contains" },
  { name: 'override-duplicate-name', text: withProcessor('  cost-enrichment:\n    overrides:\n      - { name: a, model: gpt-4o, multiplier: 2 }\n      - { name: a, model: gpt-4o-mini, multiplier: 2 }\n'), expect: ":13:17: error: processors.cost-enrichment.overrides[1].name: duplicate override name 'a'" },
  { name: 'override-upper-case-provider', text: withOverride('{ name: a, model: gpt-4o, provider: OpenAI, multiplier: 2 }'), expect: ":12:45: error: processors.cost-enrichment.overrides[0].provider: 'OpenAI' never matches" },
  { name: 'override-negative-price', text: withOverride('{ name: a, model: my-model, prices: { input: -3, output: 15 } }'), expect: ':12:54: error: processors.cost-enrichment.overrides[0].prices.input: expected a number >= 0, found number -3' },
  { name: 'override-huge-multiplier', text: withOverride('{ name: a, model: my-model, multiplier: 1e12 }'), expect: ':12:49: error: processors.cost-enrichment.overrides[0].multiplier: expected a number <= 1000, found number 1000000000000' },
  { name: 'override-tiny-multiplier', text: withOverride('{ name: a, model: my-model, multiplier: 0.0000001 }'), expect: ':12:49: error: processors.cost-enrichment.overrides[0].multiplier: expected a number >= 0.000001' },
  { name: 'missing-price-data-file', text: withProcessor('  cost-enrichment:\n    data_file: ./no-such-prices.json\n'), expect: ':11:16: error: processors.cost-enrichment.data_file: cannot read data_file' },
  { name: 'huge-grpc-message', text: edit('        endpoint: 127.0.0.1:0\n      http:', '        endpoint: 127.0.0.1:0\n        max_recv_msg_size_mib: 1000000000\n      http:'), expect: ':6:32: error: receivers.otlp.protocols.grpc.max_recv_msg_size_mib: expected a number <= 1024, found number 1000000000' },
  { name: 'huge-http-body', text: edit('      http:\n        endpoint: 127.0.0.1:0\n', '      http:\n        endpoint: 127.0.0.1:0\n        max_request_body_size_mib: 4096\n'), expect: ':8:36: error: receivers.otlp.protocols.http.max_request_body_size_mib: expected a number <= 1024, found number 4096' },
  { name: 'in-flight-below-request-size', text: withReceiver('    max_in_flight_mib: 8\n'), expect: ':8:24: error: receivers.otlp.max_in_flight_mib: 8 MiB is less than the largest accepted request (20 MiB)' },
  { name: 'client-share-below-request-size', text: withReceiver('    per_client: { max_in_flight_mib: 8 }\n'), expect: ':8:38: error: receivers.otlp.per_client.max_in_flight_mib: 8 MiB is less than the largest accepted request (20 MiB)' },
  { name: 'header-timeout-above-read-timeout', text: withReceiver('        read_header_timeout: 2m\n        read_timeout: 60s\n'), expect: ':8:30: error: receivers.otlp.protocols.http.read_header_timeout: 2m is longer than read_timeout (60s)' },
  { name: 'no-protocol', text: edit('      grpc:\n        endpoint: 127.0.0.1:0\n      http:\n        endpoint: 127.0.0.1:0\n', '      grpc: { enabled: false }\n      http: { enabled: false }\n'), expect: ':4:7: error: receivers.otlp.protocols: protocols.grpc and protocols.http are both disabled' },
  { name: 'same-port-grpc-http', text: edit('        endpoint: 127.0.0.1:0\n      http:\n        endpoint: 127.0.0.1:0\n', '        endpoint: 127.0.0.1:14317\n      http:\n        endpoint: 0.0.0.0:14317\n'), expect: ":7:19: error: receivers.otlp.protocols.http.endpoint: port 14317 is also protocols.grpc.endpoint's" },
  { name: 'same-url-path', text: edit('      http:\n        endpoint: 127.0.0.1:0\n', '      http:\n        endpoint: 127.0.0.1:0\n        logs_url_path: /v1/traces\n'), expect: ":8:24: error: receivers.otlp.protocols.http.logs_url_path: '/v1/traces' is also traces_url_path" },
  { name: 'bearer-tokens-env-unset', text: withReceiver('    auth:\n      bearer_tokens_env: TOKENLEDGER_TEST_UNSET_TOKENS\n'), expect: ':9:26: error: receivers.otlp.auth.bearer_tokens_env: names TOKENLEDGER_TEST_UNSET_TOKENS, which is unset or empty' },
  { name: 'receiver-tls-missing-files', text: edit('      http:\n        endpoint: 127.0.0.1:0\n', '      http:\n        endpoint: 127.0.0.1:0\n        tls: { cert_file: no-cert.pem, key_file: no-key.pem }\n'), expect: ':8:27: error: receivers.otlp.protocols.http.tls.cert_file: cannot read ' },
  { name: 'dedupe-max-entries-huge', text: withProcessor('    dedupe: { max_entries: 1000000000 }\n'), expect: ':10:28: error: processors.claude-normalizer.dedupe.max_entries: expected a number <= 5000000' },
  { name: 'max-label-sets-huge', text: withExporter('  prometheus:\n    max_label_sets: 1000000000\n'), expect: ':12:21: error: exporters.prometheus.max_label_sets: expected a number <= 100000' },
  { name: 'clickhouse-embedded-cluster', text: withExporter('  clickhouse:\n    cluster: prod\n'), expect: ':12:14: error: exporters.clickhouse.cluster: a cluster needs mode: server' },
  { name: 'two-prometheus-exporters', text: withExporter('  prometheus:\n  prometheus/b:\n    labels: [team]\n').replace('exporters: [debug, debug/calls]', 'exporters: [debug, prometheus, prometheus/b]'), expect: ":13:5: error: exporters.prometheus/b: a second prometheus exporter (after 'prometheus')" },
  { name: 'clickhouse-embedded-paths-differ', text: withExporter('  clickhouse:\n    path: ./a\n    queue: { type: memory }\n  clickhouse/b:\n    path: ./b\n    queue: { type: memory }\n').replace('exporters: [debug, debug/calls]', 'exporters: [clickhouse, clickhouse/b]'), expect: ":15:11: error: exporters.clickhouse/b.path: './b' differs from clickhouse's './a'" },
  { name: 'clickhouse-shared-disk-queue', text: withExporter('  clickhouse:\n    queue: { path: ./q }\n  clickhouse/b:\n    queue: { path: ./q }\n').replace('exporters: [debug, debug/calls]', 'exporters: [clickhouse, clickhouse/b]'), expect: ':14:20: error: exporters.clickhouse/b.queue.path: ' },
  { name: 'grpc-endpoint-without-host', text: edit('      grpc:\n        endpoint: 127.0.0.1:0\n', '      grpc:\n        endpoint: ":4317"\n'), expect: ":5:19: error: receivers.otlp.protocols.grpc.endpoint: ':4317' names no host" },
  { name: 'url-path-with-query', text: edit('      http:\n        endpoint: 127.0.0.1:0\n', '      http:\n        endpoint: 127.0.0.1:0\n        traces_url_path: /v1/traces?tenant=a\n'), expect: ":8:26: error: receivers.otlp.protocols.http.traces_url_path: '/v1/traces?tenant=a' holds a query" },
  { name: 'timer-overflow-duration', text: edit('shutdown_timeout: 5s', 'shutdown_timeout: 1000h'), expect: ':25:21: error: service.shutdown_timeout: expected a duration of at most 596h' },
  { name: 'admin-tokens-env-unset', text: withAdmin('      auth: { bearer_tokens_env: TOKENLEDGER_TEST_UNSET_TOKENS }\n'), expect: ':25:34: error: service.telemetry.admin.auth.bearer_tokens_env: names TOKENLEDGER_TEST_UNSET_TOKENS, which is unset or empty' },
  { name: 'admin-tls-missing-files', text: withAdmin('      tls: { cert_file: absent.pem, key_file: absent-key.pem }\n'), expect: ':25:25: error: service.telemetry.admin.tls.cert_file: cannot read ' },
];

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
  { name: 'renamed-seconds-key', text: withProcessor('    dedupe:\n      window_seconds: 600\n'), expect: ":11:7: error: processors.claude-normalizer.dedupe.window_seconds: 'window_seconds' was renamed 'window' and takes a duration (500ms, 30s, 5m, 1h): write window: 10m" },
  { name: 'no-pipelines', text: VALID.slice(0, VALID.indexOf('  pipelines:')) + '  pipelines: {}\n', expect: ':15:14: error: service.pipelines: expected at least 1 entry, found none' },
  { name: 'processor-as-exporter', text: edit('exporters: [debug, debug/calls]', 'exporters: [debug, claude-normalizer]'), expect: "'claude-normalizer' is declared under processors, not exporters" },
  { name: 'receiver-not-a-list', text: edit('receivers: [otlp]', 'receivers: otlp'), expect: ':17:18: error: service.pipelines.llm.receivers: expected array, found string "otlp"' },
  { name: 'empty', text: '', expect: ':1:1: error: expected a mapping with receivers, processors, exporters and service, found an empty file' },
];
