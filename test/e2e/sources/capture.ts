/**
 * Runs one library's app against the mock upstream and records, side by side, the OTLP it
 * exported (OTLP sink files), what the mock served and a manifest: per planned call its shape,
 * the app's outcome and the upstream attempts with the usage the mock reported.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startMockUpstream, type ServedCall } from '../mock-upstream/server.js';
import { startOtlpSink, type OtlpSink } from '../harness/otlp-sink.js';
import { appIdentity, runApp, type AppOutcome } from './drive.js';
import { GATEWAY_LIB, GATEWAY_LITELLM, runThroughGateway } from './gateway.js';
import { sdksOf, versionsOf, type Library } from './libraries.js';
import { PROVIDERS, sourcePlan, type PlannedCall } from './plan.js';

export interface SourceManifest {
  library: string;
  versions: Record<string, string>;
  identity: ReturnType<typeof appIdentity>;
  calls: (PlannedCall & { provider: string; outcome: AppOutcome | null; attempts: Pick<ServedCall, 'api' | 'status' | 'error' | 'requestId' | 'responseId' | 'usage' | 'stream' | 'model'>[] })[];
}

export function manifestOf(l: Library, plan: PlannedCall[], outcomes: AppOutcome[], served: ServedCall[]): SourceManifest {
  return {
    library: l.lib,
    versions: versionsOf(l),
    identity: appIdentity(l.lib),
    calls: plan.map((p) => ({
      ...p,
      // Through a gateway the OpenAI SDK may call Claude: the provider is the model's.
      provider: p.sdk === 'openai' && p.model.includes('claude') ? PROVIDERS.anthropic : PROVIDERS[p.sdk],
      outcome: outcomes.find((o) => o.id === p.id) ?? null,
      attempts: served.filter((c) => c.mockId === p.id).map((c) => ({ api: c.api, model: c.model, stream: c.stream, status: c.status, error: c.error, requestId: c.requestId, responseId: c.responseId, usage: c.usage })),
    })),
  };
}

export async function captureSource(l: Library, outDir: string): Promise<{ manifest: SourceManifest; exports: number }> {
  const mock = await startMockUpstream({ idPrefix: l.lib.replace(/[^a-z0-9]/g, '') });
  const sink = await startOtlpSink();
  recordInto(outDir, sink);
  const plan = sourcePlan(sdksOf(l), '');
  try {
    const outcomes = await runApp(l, plan, mock.url, sink.url);
    const manifest = manifestOf(l, plan, outcomes, mock.calls);
    saveCapture(outDir, mock.calls, manifest);
    return { manifest, exports: sink.requests.length };
  } finally {
    await sink.close();
    await mock.close();
  }
}

/** An empty `outDir` that `sink` writes every export it records into. */
function recordInto(outDir: string, sink: OtlpSink): void {
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  sink.recordTo(outDir);
}

/** The mock's requests (without bodies) and the manifest, beside the recorded exports. */
function saveCapture(outDir: string, calls: readonly ServedCall[], manifest: SourceManifest): void {
  writeFileSync(join(outDir, 'mock-requests.jsonl'), calls.map((c) => JSON.stringify({ ...c, body: undefined })).join('\n') + '\n');
  writeFileSync(join(outDir, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
}

/** The gateway case (gateway.ts): the app's and LiteLLM's exports recorded side by side. */
export async function captureGateway(outDir: string): Promise<{ manifest: SourceManifest; exports: number }> {
  const mock = await startMockUpstream({ idPrefix: 'gw' });
  const sink = await startOtlpSink();
  recordInto(outDir, sink);
  try {
    const { plan, outcomes } = await runThroughGateway(mock, sink.url, () => sink.requests.length);
    const manifest = manifestOf(GATEWAY_LIB, plan, outcomes, mock.calls);
    manifest.versions.litellm = GATEWAY_LITELLM;
    saveCapture(outDir, mock.calls, manifest);
    return { manifest, exports: sink.requests.length };
  } finally {
    await sink.close();
    await mock.close();
  }
}
