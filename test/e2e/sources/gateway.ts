/**
 * The app-plus-gateway case: an app instrumented with OpenLLMetry calls the models through a real
 * LiteLLM proxy, and both export their telemetry to the same place. Each call is reported by the
 * library's span, the Anthropic SDK's own span and LiteLLM's span.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MockUpstream } from '../mock-upstream/server.js';
import { MASTER_KEY, startLitellm } from '../harness/litellm.js';
import { litellmConfig, litellmEnv, settingsFor } from '../harness/litellm-config.js';
import { runApp, type AppOutcome } from './drive.js';
import { LIBRARIES } from './libraries.js';
import { gatewayPlan, type PlannedCall } from './plan.js';

/** The LiteLLM release the gateway case runs (the newest installable; CI installs it for the LiteLLM e2e). */
export const GATEWAY_LITELLM = '1.108.7';
export const GATEWAY_LIB = LIBRARIES.find((l) => l.lib === 'openllmetry')!;

/** Runs the gateway plan: app → LiteLLM → mock; app and LiteLLM export to `otlpUrl`. `delivered` as for startLitellm. */
export async function runThroughGateway(mock: MockUpstream, otlpUrl: string, delivered: () => number | Promise<number>): Promise<{ plan: PlannedCall[]; outcomes: AppOutcome[] }> {
  const work = mkdtempSync(join(tmpdir(), 'tl-source-gateway-'));
  const setting = settingsFor(GATEWAY_LITELLM).find((s) => s.name === 'default')!;
  const proxy = await startLitellm({
    version: GATEWAY_LITELLM, config: litellmConfig(mock.url, setting, MASTER_KEY), env: litellmEnv(mock.url, otlpUrl, setting), workDir: work, delivered,
  });
  try {
    const plan = gatewayPlan('');
    const outcomes = await runApp(GATEWAY_LIB, plan, proxy.url, otlpUrl, MASTER_KEY);
    return { plan, outcomes };
  } finally {
    await proxy.stop();
    rmSync(work, { recursive: true, force: true });
  }
}
