import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeHeapSnapshot } from 'node:v8';
import { expect, test } from 'vitest';
import { emptyCall, type LlmCall } from '../../../core/llm-call.js';
import { StringPool } from '../../../processors/claude-normalizer/string-pool.js';
import { readHeapSnapshot } from '../../e2e/harness/heap-snapshot.js';

const MARK = 'tlpool';

/** A heap snapshot of this process, written to a file to be read later. */
function snapshot(): string {
  return writeHeapSnapshot(join(tmpdir(), `tl-pool-${process.pid}-${Date.now()}-${Math.random()}.heapsnapshot`));
}

/**
 * Strings in `file` whose value is `MARK-name-0` (built only here, after the snapshot). Snapshots
 * are all written before any is read: a parsed snapshot holds a copy of each value it counts, and
 * one still unreclaimed when the next is written would be counted there.
 */
function copiesOf(file: string, names: string[]): number[] {
  try {
    const summary = readHeapSnapshot(file);
    return names.map((name) => summary.copiesOf([MARK, name, '0'].join('-')));
  } finally {
    rmSync(file, { force: true });
  }
}

/** A record as decoding makes it: every string a fresh copy. */
function decoded(i: number): LlmCall {
  const fresh = (s: string) => [MARK, s, String(i % 1)].join('-');
  return { ...emptyCall(), call_id: `c${i}`, model: fresh('model'), team: fresh('team'), tags: [fresh('tag')], attributes: { env: fresh('env') } };
}

test('records that repeat a value share one string instead of a copy each', () => {
  const pool = new StringPool(100);
  const kept = Array.from({ length: 500 }, (_, i) => decoded(i));
  const before = snapshot();
  for (const call of kept) pool.internCall(call);
  const after = snapshot();
  const names = ['model', 'team', 'tag', 'env'];
  const counts = { before: copiesOf(before, names), after: copiesOf(after, names) };
  expect(counts).toEqual({ before: [500, 500, 500, 500], after: [1, 1, 1, 1] });
  expect(kept.every((c) => c.model === `${MARK}-model-0` && c.team === `${MARK}-team-0` && c.tags[0] === `${MARK}-tag-0` && c.attributes.env === `${MARK}-env-0`)).toBe(true);
}, 60_000);

test('the pool is bounded: full, it starts over and keeps no more than its size', () => {
  const pool = new StringPool(3);
  const values = ['a1', 'b2', 'c3', 'd4', 'e5'].map((v) => pool.intern(v));
  expect(values).toEqual(['a1', 'b2', 'c3', 'd4', 'e5']);
  expect((pool as unknown as { pool: Map<string, string> }).pool.size).toBeLessThanOrEqual(3);
});
