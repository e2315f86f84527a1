/**
 * What an instrumentation library itself gets wrong, as seen in its capture (test/fixtures/sources/):
 * tokenledger cannot restore it. `span`: no span for the call; `error`: an error span without the
 * model (nothing to record); `cache_reads_in_input`: no cache-read count (the reads stay inside the input count, billed at the
 * input price); `cache`: no cache counts at all (reads and writes lost); `cache_split`: no 5m/1h
 * split (all writes at the 5m price); `streaming`: no stream flag.
 */
import type { Sdk } from './libraries.js';
import type { PlannedCall } from './plan.js';

export type LossKind = 'span' | 'error' | 'cache_reads_in_input' | 'cache' | 'output_plus_one' | 'cache_split' | 'streaming';

export interface Loss {
  lib: string;
  sdk?: Sdk;
  api?: PlannedCall['api'];
  stream?: boolean;
  finalDelta?: PlannedCall['finalDelta'];
  error?: boolean;
  what: LossKind;
  why: string;
}

export interface ManifestCall extends PlannedCall {
  provider: string;
  outcome: { ok: boolean } | null;
  attempts: { status: number; requestId: string; responseId: string; usage: { input: number; output: number; cacheRead: number; cacheWrite5m: number; cacheWrite1h: number } | null }[];
}

export interface SourceManifest {
  library: string;
  versions: Record<string, string>;
  identity: { service: string; environment: string; team: string; user: string; session: string };
  calls: ManifestCall[];
}

export const LOSSES: Loss[] = [
  { lib: 'openllmetry', sdk: 'bedrock', api: 'converse', stream: true, what: 'streaming', why: 'converse_stream is not flagged as a stream' },
  { lib: 'openllmetry', sdk: 'bedrock', api: 'invoke', stream: false, what: 'cache_split', why: 'one cache-creation count' },
  { lib: 'openllmetry', sdk: 'bedrock', api: 'invoke', stream: true, what: 'cache', why: 'a streamed InvokeModel span has no cache counts' },
  { lib: 'openllmetry', sdk: 'bedrock', api: 'invoke', stream: true, what: 'streaming', why: 'not flagged as a stream' },
  { lib: 'openlit', sdk: 'anthropic', what: 'cache_split', why: 'one cache-creation count' },
  { lib: 'openlit', sdk: 'anthropic', stream: true, finalDelta: 'output', what: 'cache', why: 'reads cache counts from the final message_delta only, which may carry output_tokens alone' },
  { lib: 'openlit', sdk: 'anthropic', error: true, what: 'error', why: 'its error span has no attributes at all' },
  { lib: 'openlit', sdk: 'bedrock', api: 'converse', stream: true, what: 'span', why: 'converse_stream is not instrumented' },
  { lib: 'openlit', sdk: 'bedrock', api: 'invoke', what: 'span', why: 'InvokeModel is not instrumented' },
  { lib: 'openlit', sdk: 'bedrock', error: true, what: 'error', why: 'its error span has no attributes at all' },
  { lib: 'logfire', sdk: 'anthropic', what: 'cache_split', why: 'one cache-creation count' },
  { lib: 'openllmetry-js', sdk: 'anthropic', what: 'cache_split', why: 'one cache-creation count' },
  { lib: 'openllmetry-js', sdk: 'anthropic', stream: true, what: 'streaming', why: 'no stream flag' },
  { lib: 'otel-genai', sdk: 'openai', what: 'cache_reads_in_input', why: 'no cache-read attribute: cached reads are billed as input' },
  { lib: 'otel-genai', sdk: 'openai', stream: true, what: 'streaming', why: 'no stream flag' },
];

type CallShape = Pick<PlannedCall, 'sdk' | 'api' | 'stream' | 'finalDelta' | 'error'>;

/** The losses that apply to a call of the plan. */
export function lossEntriesOf(lib: string, c: CallShape): Loss[] {
  return LOSSES.filter((l) => l.lib === lib && (l.sdk === undefined || l.sdk === c.sdk) && (l.api === undefined || l.api === c.api)
    && (l.stream === undefined || l.stream === c.stream) && (l.finalDelta === undefined || l.finalDelta === c.finalDelta) && (l.error === undefined || l.error === (c.error !== undefined)));
}

export function lossesOf(lib: string, c: CallShape): LossKind[] {
  return lossEntriesOf(lib, c).map((l) => l.what);
}
