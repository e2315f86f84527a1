/**
 * An application instrumented with one real npm OpenTelemetry instrumentation of the Anthropic
 * SDK, calling the real @anthropic-ai/sdk against the e2e mock upstream on 127.0.0.1: the Node
 * counterpart of app.py, run by test/e2e/sources/ (drive.ts) with the library's install dir
 * (.tools/sources/<lib>, scripts/setup-sources.sh) as APP_NODE_MODULES:
 *   node app.cjs <lib> <plan.json>
 * Environment as app.py's. Prints one JSON line per call: its id, outcome and error.
 */
'use strict';
const { readFileSync } = require('node:fs');
const { createRequire } = require('node:module');
const { join } = require('node:path');

const [lib, planFile] = process.argv.slice(2);
const plan = JSON.parse(readFileSync(planFile, 'utf8'));
const need = createRequire(join(process.env.APP_NODE_MODULES, 'package.json'));
const otlp = process.env.OTEL_EXPORTER_OTLP_ENDPOINT;

/** The OTel SDK setup an app writes for an instrumentation library: OTLP/HTTP protobuf. */
function otelSdk() {
  const { NodeTracerProvider, BatchSpanProcessor } = need('@opentelemetry/sdk-trace-node');
  const { OTLPTraceExporter } = need('@opentelemetry/exporter-trace-otlp-proto');
  const { detectResources, envDetector } = need('@opentelemetry/resources');
  const provider = new NodeTracerProvider({
    // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES, as the app's deployment sets them.
    resource: detectResources({ detectors: [envDetector] }),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: `${otlp}/v1/traces` }), { scheduledDelayMillis: 200 })],
  });
  provider.register();
  return provider;
}

function instrument(provider, sdk) {
  if (lib === 'traceloop') {
    const { AnthropicInstrumentation } = need('@traceloop/instrumentation-anthropic');
    const inst = new AnthropicInstrumentation();
    inst.setTracerProvider(provider);
    inst.manuallyInstrument(sdk);
    return;
  }
  if (lib === 'openinference') {
    const { AnthropicInstrumentation } = need('@arizeai/openinference-instrumentation-anthropic');
    const inst = new AnthropicInstrumentation({ tracerProvider: provider });
    inst.manuallyInstrument(sdk);
    return;
  }
  throw new Error(`app.cjs: unknown library ${lib}`);
}

async function anthropicCall(Anthropic, c) {
  const client = new Anthropic({ baseURL: process.env.MOCK_URL, apiKey: process.env.APP_API_KEY ?? 'sk-ant-e2e', maxRetries: 0 });
  const args = { model: c.model, max_tokens: 64, messages: [{ role: 'user', content: c.prompt }] };
  if (c.cache) args.system = [{ type: 'text', text: 'A long cached system prompt.', cache_control: { type: 'ephemeral' } }];
  if (c.stream) return (await client.messages.stream(args).finalMessage()).id;
  return (await client.messages.create(args)).id;
}

async function main() {
  const provider = otelSdk();
  const sdk = need('@anthropic-ai/sdk');
  instrument(provider, sdk);
  const Anthropic = sdk.default ?? sdk.Anthropic;
  for (const c of plan) {
    if (c.sdk !== 'anthropic') throw new Error(`app.cjs: ${lib} drives the Anthropic SDK only, not ${c.sdk}`);
    try {
      const id = await anthropicCall(Anthropic, c);
      process.stdout.write(JSON.stringify({ id: c.id, ok: true, response_id: id }) + '\n');
    } catch (err) {
      // An injected upstream error: recorded, the plan goes on.
      process.stdout.write(JSON.stringify({ id: c.id, ok: false, error: err.constructor.name, message: String(err.message).slice(0, 200) }) + '\n');
    }
  }
  await provider.shutdown();
}

main().catch((err) => {
  process.stderr.write(`${err.stack}\n`);
  process.exit(1);
});
