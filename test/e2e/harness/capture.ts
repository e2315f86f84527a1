/**
 * Runs the call plan through one real LiteLLM proxy with one OTel setting and records, side by
 * side: the OTLP it exported (OTLP sink files), what the mock upstream served, and a manifest
 * joining each client call to its upstream attempts and the usage the mock reported.
 */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startMockUpstream, type ServedCall } from '../mock-upstream/server.js';
import { callPlan, sendCall, type SentCall } from './calls.js';
import { installCustomAuth, VIRTUAL_KEYS, virtualKeyFor } from './custom-auth.js';
import { MASTER_KEY, startLitellm } from './litellm.js';
import { litellmConfig, litellmEnv, MODELS, type Setting } from './litellm-config.js';
import { startOtlpSink } from './otlp-sink.js';

export interface CaptureResult {
  dir: string;
  sent: SentCall[];
  served: ServedCall[];
  exports: number;
}

function manifestCall(s: SentCall, served: ServedCall[], key: string) {
  const attempts = served.filter((c) => c.mockId === s.spec.id);
  const billed = attempts.filter((c) => c.status === 200 && c.usage !== null);
  const target = s.spec.target in MODELS ? MODELS[s.spec.target as keyof typeof MODELS] : null;
  return {
    id: s.spec.id,
    route: s.spec.route,
    target: s.spec.target,
    model_alias: target?.alias ?? '',
    stream: s.spec.stream,
    cache: s.spec.cache,
    final_delta: s.spec.finalDelta ?? '',
    request_headers: s.spec.headers,
    // The identity the custom_auth hook gave the call's virtual key; null with the master key.
    key_identity: VIRTUAL_KEYS[key] ?? null,
    injected_error: s.spec.error ?? null,
    http_status: s.status,
    litellm_call_id: s.litellmCallId,
    x_litellm_response_cost: s.responseCost,
    client_ms: s.ms,
    billable_upstream_calls: billed.length,
    upstream_attempts: attempts.map((c) => ({ seq: c.seq, api: c.api, path: c.path, model: c.model, stream: c.stream, final_delta: c.finalDelta, status: c.status, error: c.error, request_id: c.requestId, response_id: c.responseId, usage: c.usage })),
    response_excerpt: s.status === 200 ? '' : s.body.slice(0, 300),
  };
}

export async function captureOne(version: string, setting: Setting, outDir: string): Promise<CaptureResult> {
  const work = mkdtempSync(join(tmpdir(), `tl-capture-${version}-`));
  const prefix = `v${version.replace(/\./g, '')}${setting.name.replace(/[^a-z0-9]/g, '')}`;
  const mock = await startMockUpstream({ idPrefix: prefix });
  const sink = await startOtlpSink();
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  sink.recordTo(outDir);
  const sent: SentCall[] = [];
  const keys: string[] = [];
  if (setting.customAuth) installCustomAuth(work);
  let proxy: Awaited<ReturnType<typeof startLitellm>> | null = null;
  try {
    proxy = await startLitellm({ version, config: litellmConfig(mock.url, setting, MASTER_KEY), env: litellmEnv(mock.url, sink.url, setting), workDir: work, delivered: () => sink.requests.length });
    for (const [n, spec] of callPlan(`${setting.name}-`).entries()) {
      const key = setting.customAuth ? virtualKeyFor(n) : MASTER_KEY;
      const s = await sendCall(spec, proxy.url, key);
      sent.push(s);
      keys.push(key);
      if (process.env.CAPTURE_VERBOSE) process.stdout.write(`${spec.id} ${spec.route}/${spec.target} stream=${spec.stream} -> ${s.status} ${s.ms}ms ${s.status === 200 ? '' : s.body.slice(0, 200)}\n`);
    }
  } finally {
    await proxy?.stop();
    await sink.close();
    await mock.close();
  }
  const served = mock.calls.filter((c) => c.api !== 'google.oauth_token');
  writeFileSync(join(outDir, 'mock-requests.jsonl'), served.map((c) => JSON.stringify({ ...c, body: undefined })).join('\n') + '\n');
  const calls = sent.map((s, n) => manifestCall(s, served, keys[n]));
  const billable = served.filter((c) => c.status === 200 && c.usage !== null);
  const sum = (f: (c: ServedCall) => number): number => billable.reduce((a, c) => a + f(c), 0);
  writeFileSync(
    join(outDir, 'manifest.json'),
    JSON.stringify(
      {
        litellm_version: version,
        setting: setting.name,
        description: setting.description,
        otel_env: { OTEL_EXPORTER: 'otlp_http', OTEL_BSP_SCHEDULE_DELAY: '200', ...setting.env },
        models: MODELS,
        mock_totals: {
          billable_upstream_calls: billable.length,
          input: sum((c) => c.usage!.input),
          output: sum((c) => c.usage!.output),
          cache_read: sum((c) => c.usage!.cacheRead),
          cache_write_5m: sum((c) => c.usage!.cacheWrite5m),
          cache_write_1h: sum((c) => c.usage!.cacheWrite1h),
        },
        calls,
      },
      null,
      2,
    ) + '\n',
  );
  if (!process.env.CAPTURE_KEEP_WORKDIR) rmSync(work, { recursive: true, force: true });
  else process.stdout.write(`LiteLLM work dir kept: ${work}\n`);
  return { dir: outDir, sent, served, exports: sink.requests.length };
}
