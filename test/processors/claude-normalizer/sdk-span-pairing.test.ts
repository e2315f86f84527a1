import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Batch } from '../../../core/batch.js';
import type { ResourceSpans, Span } from '../../../core/telemetry.js';
import { checkSource, problemsOf } from '../../e2e/sources/check.js';
import type { SourceManifest } from '../../e2e/sources/losses.js';
import { batchOf } from '../../helpers/context.js';
import { finalRecords, FIXTURES, loadScenario, normalizer, runAll } from './helpers.js';

/**
 * The Anthropic SDK's own span and OpenInference's span of one streamed call share no id
 * (test/fixtures/sources/openinference/): they pair by process, time, model and output
 * (sdk-span-pairing.ts), also when an export falls between them.
 */
const DIR = join(FIXTURES, 'sources/openinference/3.1.0');
const manifest = JSON.parse(readFileSync(join(DIR, 'manifest.json'), 'utf8')) as SourceManifest;
const SDK = 'com.anthropic.sdk.python';

/** Each export split in two, the SDK's spans and the library's, sent in the given order. */
function splitExports(batches: Batch[], sdkFirst: boolean): Batch[] {
  return batches.flatMap((b) => {
    const part = (sdk: boolean) => batchOf({ resourceSpans: b.resourceSpans.map((rs) => ({ ...rs, scopeSpans: rs.scopeSpans.filter((ss) => (ss.scope.name === SDK) === sdk) })) });
    return sdkFirst ? [part(true), part(false)] : [part(false), part(true)];
  });
}

function run(batches: Batch[]) {
  const { n } = normalizer({ dimensions: { env: ['resource:deployment.environment'] } });
  return finalRecords(runAll(n, batches));
}

/** A copy of every span with new ids (span, trace, request and response), `shiftNs` later: a second, identical call. */
function twin(rs: ResourceSpans, shiftNs: bigint): ResourceSpans {
  const ids = ['gen_ai.response.id', 'anthropic.request.id'];
  const shift = (s: Span): Span => ({
    ...s,
    attributes: Object.fromEntries(Object.entries(s.attributes).map(([k, v]) => [k, ids.includes(k) ? `${String(v)}-twin` : v])),
    traceId: `${s.traceId.slice(0, -4)}beef`, spanId: `${s.spanId.slice(0, -4)}beef`, parentSpanId: s.parentSpanId === '' ? '' : `${s.parentSpanId.slice(0, -4)}beef`,
    startTimeUnixNano: String(BigInt(s.startTimeUnixNano) + shiftNs), endTimeUnixNano: String(BigInt(s.endTimeUnixNano) + shiftNs),
  });
  return { ...rs, scopeSpans: rs.scopeSpans.map((ss) => ({ ...ss, spans: ss.spans.map(shift) })) };
}

describe('pairing the Anthropic SDK\'s own spans with a library\'s', () => {
  it('pairs the spans of one export: one record per call', () => {
    expect(problemsOf(checkSource('openinference', manifest, run(loadScenario(DIR))))).toEqual([]);
  });

  it.each([true, false])('pairs across exports (SDK span first: %s): one record per call', (sdkFirst) => {
    expect(problemsOf(checkSource('openinference', manifest, run(splitExports(loadScenario(DIR), sdkFirst))))).toEqual([]);
  });

  it('pairs a re-sent export the same way, billing nothing twice', () => {
    const batches = loadScenario(DIR);
    const records = run([...splitExports(batches, true), ...splitExports(batches, false)]);
    expect(problemsOf(checkSource('openinference', manifest, records))).toEqual([]);
  });

  it('keeps two concurrent identical calls of one process apart: two records, not one', () => {
    const batches = loadScenario(DIR);
    const plain = run(batches).filter((r) => r.status === 'ok').length;
    // Every call made twice at once, 1 ms apart: the same model and tokens, overlapping in time.
    const doubled = batches.map((b) => ({ ...b, resourceSpans: [...b.resourceSpans, ...b.resourceSpans.map((rs) => twin(rs, 1_000_000n))] }));
    const records = run(doubled).filter((r) => r.status === 'ok');
    expect(records.length).toBe(2 * plain);
    const outputs = (rs: typeof records) => rs.map((r) => r.output_tokens).sort((a, b) => a - b);
    expect(outputs(records)).toEqual(outputs([...run(batches), ...run(batches)].filter((r) => r.status === 'ok')));
  });
});

describe('the Anthropic SDK\'s own report against a library\'s', () => {
  const dir = join(FIXTURES, 'sources/openllmetry/0.62.4');
  const olm = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as SourceManifest;

  /** Every span in one export, the library's scope before the SDK's, as an export holding an earlier library span orders them. */
  function libraryFirst(batches: Batch[]): Batch[] {
    const scopes = new Map<string, ResourceSpans['scopeSpans'][number]>();
    for (const rs of batches.flatMap((b) => b.resourceSpans)) {
      for (const ss of rs.scopeSpans) {
        const known = scopes.get(ss.scope.name);
        if (known === undefined) scopes.set(ss.scope.name, { ...ss, spans: [...ss.spans] });
        else known.spans.push(...ss.spans);
      }
    }
    const scopeSpans = [...scopes.values()].sort((x, y) => Number(x.scope.name === SDK) - Number(y.scope.name === SDK));
    return [batchOf({ resourceSpans: [{ resource: batches[0].resourceSpans[0].resource, scopeSpans }] })];
  }

  // In one export the record first billed is corrected in place (what /metrics counts); the SDK's span ends, so is exported, first.
  it.each([false, true])('bills the SDK\'s counts, whatever the scope order of the export (library first, one export: %s): OpenLLMetry\'s streamed output is one too high', (first) => {
    const batches = loadScenario(dir);
    const { n } = normalizer({ dimensions: { env: ['resource:deployment.environment'] } });
    const out = runAll(n, first ? libraryFirst(batches) : batches);
    // As first billed (what /metrics counts), not only as finally stored.
    expect(problemsOf(checkSource('openllmetry', olm, out.flatMap((b) => b.calls)))).toEqual([]);
    expect(problemsOf(checkSource('openllmetry', olm, finalRecords(out)))).toEqual([]);
  });
});
