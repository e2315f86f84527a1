import { describe, expect, it } from 'vitest';
import { emptyCall, type LlmCall } from '../../../core/llm-call.js';
import { ExactlyOnce, type Outcome } from '../../../processors/claude-normalizer/exactly-once.js';
import { JoinIndex } from '../../../processors/claude-normalizer/join-index.js';
import { requestKey } from '../../../processors/claude-normalizer/join-keys.js';
import { normalizerMetrics } from '../../../processors/claude-normalizer/metrics.js';
import type { Report, Shape } from '../../../processors/claude-normalizer/types.js';
import { UndoLog } from '../../../processors/claude-normalizer/undo-log.js';
import { metricValue, testContext } from '../../helpers/context.js';

/** The exactly-once engine on its own: what it makes of each report, batch by batch, on one index. */
function engine() {
  const ctx = testContext('claude-normalizer');
  const e = new ExactlyOnce(32, ctx.metrics.declare(normalizerMetrics), ctx.logger);
  const index = new JoinIndex(60_000, 1000);
  return {
    ctx, index,
    batch: (reports: Report[]): Outcome[] => {
      e.begin(index, new UndoLog());
      return reports.map((r) => e.take(r, 1_000));
    },
  };
}

function report(record: string, shape: Shape, id: string, over: Partial<LlmCall> = {}, opts: { linkOnly?: boolean; counted?: boolean } = {}): Report {
  const call = { ...emptyCall(), call_id: id, source: shape.startsWith('litellm') ? 'litellm' : 'claude_code', input_tokens: 10, output_tokens: 5, ...over };
  return {
    x: { call, shape, keys: [requestKey(id)], tokenIssue: '', linkOnly: opts.linkOnly, view: { resource: {}, attrs: {}, metadataPrefix: '', litellm: null, headers: null } },
    record, counted: opts.counted === true, count: '',
  };
}

describe('exactly-once outcomes', () => {
  it('bills a new call, drops its re-sent record, and merges a second source in place within the batch, as an update after it', async () => {
    const { ctx, batch } = engine();
    const [billed, resent, merged] = batch([
      report('rec:a', 'litellm_legacy', 'r1'),
      report('rec:a', 'litellm_legacy', 'r1'),
      report('rec:b', 'claude_code_event', 'r1', { session_id: 's1' }),
    ]);
    expect(billed).toMatchObject({ kind: 'billed', call: { call_id: 'r1', session_id: '' } });
    expect(resent).toEqual({ kind: 'resent' });
    expect(merged).toMatchObject({ kind: 'merged', position: 0, call: { session_id: 's1' } });
    if (billed.kind !== 'billed' || merged.kind !== 'merged') throw new Error('unreachable');
    expect(merged.replaces).toBe(billed.call);

    const [later] = batch([report('rec:c', 'openinference', 'r1', { customer: 'acme' })]);
    expect(later).toMatchObject({ kind: 'merged', position: -1, call: { session_id: 's1', customer: 'acme' } });
    const [again] = batch([report('rec:d', 'openinference', 'r1', { customer: 'other' })]);
    expect(again).toEqual({ kind: 'repeated' });
    // The re-sent record and the repeated shape, both counted against the call as first reported.
    expect(await metricValue(ctx.registry, 'tokenledger_normalizer_duplicates_total', { source: 'litellm' })).toBe(2);
    expect(await metricValue(ctx.registry, 'tokenledger_normalizer_joins_total', { first: 'litellm', second: 'claude_code' })).toBe(2);
  });

  it('holds a link-only report until the first billable report of its call, then bills that with what the link knew', () => {
    const { batch, index } = engine();
    expect(batch([report('rec:span', 'claude_code_trace', 'r2', { trace_id: 't1' }, { linkOnly: true })])).toEqual([{ kind: 'held' }]);
    expect(index.find([requestKey('r2')])?.entry.billed).toBe(false);
    const [billed] = batch([report('rec:event', 'claude_code_event', 'r2')]);
    expect(billed).toMatchObject({ kind: 'billed', call: { call_id: 'r2', trace_id: 't1' } });
    expect(index.find([requestKey('r2')])?.entry).toMatchObject({ billed: true, shapes: ['claude_code_trace', 'claude_code_event'] });
  });

  it('counts a report only counted once, and a second report adding nothing is joined without a new record', () => {
    const { batch } = engine();
    const counted = report('uiv:1', 'claude_code_metrics', 'u1', {}, { counted: true });
    expect(batch([counted, counted])).toEqual([{ kind: 'counted' }, { kind: 'resent' }]);
    expect(batch([report('rec:e', 'claude_code_event', 'r3'), report('rec:f', 'litellm_v2', 'r3')]).map((o) => o.kind)).toEqual(['billed', 'joined']);
  });
});
