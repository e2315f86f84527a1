import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * The join index holds each billed record for the dedupe window. A record must not keep a
 * multi-megabyte telemetry value alive through a slice of it: neither an oversize value it was cut
 * from nor a large LiteLLM blob a short value was parsed out of. Measured in a child process with
 * --expose-gc (the built dist/, as the CLI tests use), so that collection is deterministic.
 */
const DIST = fileURLToPath(new URL('../../../dist/', import.meta.url));

const SCRIPT = `
const { ClaudeNormalizer } = await import(process.env.DIST + 'processors/claude-normalizer/normalizer.js');
const { defaults } = await import(process.env.DIST + 'processors/claude-normalizer/config.js');
const { SelfMetrics } = await import(process.env.DIST + 'core/self-metrics.js');
const { createLogger } = await import(process.env.DIST + 'core/logger.js');
const { Host } = await import(process.env.DIST + 'core/host.js');
const { Registry } = await import('prom-client');
const registry = new Registry();
const n = new ClaudeNormalizer(structuredClone(defaults), { id: 'n', logger: createLogger('error'), metrics: new SelfMetrics(registry), registry, host: new Host(), configDir: '.' });
const MB = 1 << 20;
const heap = () => { globalThis.gc(); globalThis.gc(); return process.memoryUsage().heapUsed; };
const batch = (attributes, i) => ({ resourceSpans: [{ resource: { 'service.name': 'litellm' }, scopeSpans: [{ scope: { name: 'litellm', version: '', attributes: {} }, spans: [{
  traceId: i.toString(16).padStart(32, '0'), spanId: i.toString(16).padStart(16, '0'), parentSpanId: '', name: 'litellm_request', kind: 1,
  startTimeUnixNano: '1795000000000000000', endTimeUnixNano: '1795000001000000000', events: [], status: { code: 0, message: '' },
  attributes: { 'gen_ai.system': 'anthropic', 'llm.request.type': 'completion', 'gen_ai.request.model': 'claude-sonnet-4-5',
    'gen_ai.usage.prompt_tokens': 10, 'gen_ai.usage.completion_tokens': 5, 'gen_ai.response.id': 'msg_' + i, ...attributes },
}] }] }], resourceMetrics: [], resourceLogs: [], calls: [], updates: [], origin: { receiver: 't', transport: 't' } });
n.process(batch({ 'metadata.requester_custom_headers': "{'x-litellm-customer-id': 'warm-up'}", 'team.id': 'warm-up' }, 1000));
const before = heap();
const kept = [];
for (let i = 1; i <= 20; i++) {
  const pad = String.fromCharCode(97 + (i % 26)).repeat(MB) + i;
  const attrs = i % 2
    ? { 'metadata.requester_custom_headers': "{'x-litellm-customer-id': 'customer-" + i + "-abcdefgh', 'x-junk': '" + pad + "'}" }
    : { 'team.id': pad, 'user.id': 'user-' + i + '-' + pad };
  kept.push(...n.process(batch(attrs, i)).calls);
}
const after = heap();
console.log(JSON.stringify({ calls: kept.length, customers: kept.filter((c) => c.customer.startsWith('customer-')).length, retainedMB: (after - before) / MB }));
`;

describe('records held in the join index', () => {
  it('keep no multi-megabyte telemetry value alive (20 reports of 1 MB values: cut ones, and short ones parsed out of a LiteLLM header blob)', () => {
    const r = spawnSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', SCRIPT], { encoding: 'utf8', env: { ...process.env, DIST }, timeout: 60_000 });
    expect(r.stderr).toBe('');
    const out = JSON.parse(r.stdout) as { calls: number; customers: number; retainedMB: number };
    expect(out.calls).toBe(20);
    expect(out.customers).toBe(10);
    // 12 MB with slices of the header blobs, 20 MB with slices of the cut values; measured ≈ 2.1 MB
    // whether 4, 20 or 40 reports (V8's own, not per record).
    expect(out.retainedMB).toBeLessThan(4);
  });
});
