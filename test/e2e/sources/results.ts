/**
 * Outcomes of the instrumentation-library e2e, one file per library in results/, read by
 * scripts/compat-matrix.mjs for the README's compatibility matrix. No timestamps: a file changes
 * only when an outcome does.
 */
import { join } from 'node:path';
import { writeResultsFile } from '../harness/results-file.js';
import type { checkSource } from './check.js';
import type { Library } from './libraries.js';
import { LOSSES, lossesOf, type SourceManifest } from './losses.js';

const RESULTS_DIR = join(import.meta.dirname, 'results');

export interface SourceMatrixEntry {
  client: 'instrumentation';
  library: string;
  /** The pinned versions of the library and the SDKs it wrapped. */
  versions: Record<string, string>;
  /** SDK and call: `anthropic messages`, `openai chat`, `bedrock converse`, `bedrock invoke`. */
  call: string;
  streaming: boolean;
  /** `library-defect`: the library itself reports these calls wrong (listed in `problems`). */
  status: 'pass' | 'fail' | 'library-defect';
  problems: string[];
}

const CALL: Record<string, string> = { anthropic: 'anthropic messages', openai: 'openai chat' };

export function writeSourceResults(runs: { l: Library; manifest: SourceManifest; result: ReturnType<typeof checkSource> }[]): void {
  for (const { l, manifest, result } of runs) {
    const cells = new Map<string, SourceMatrixEntry>();
    for (const c of result.calls) {
      if (c.call.error !== undefined) continue;
      const call = CALL[c.call.sdk] ?? `bedrock ${c.call.api ?? ''}`;
      const key = `${call}|${c.call.stream}`;
      const cell = cells.get(key) ?? { client: 'instrumentation', library: l.lib, versions: manifest.versions, call, streaming: c.call.stream, status: 'pass', problems: [] };
      for (const p of c.problems) cell.problems.push(`${c.call.id}: ${p}`);
      const kinds = lossesOf(l.lib, c.call);
      for (const loss of LOSSES.filter((x) => x.lib === l.lib && kinds.includes(x.what))) {
        const note = `${l.lib}: ${loss.why}`;
        if (!cell.problems.includes(note)) cell.problems.push(note);
      }
      if (c.problems.length > 0) cell.status = 'fail';
      else if (cell.status === 'pass' && kinds.length > 0) cell.status = 'library-defect';
      cells.set(key, cell);
    }
    const entries = [...cells.values()].sort((a, b) => `${a.call}|${a.streaming}`.localeCompare(`${b.call}|${b.streaming}`));
    writeResultsFile(join(RESULTS_DIR, `${l.lib}.json`), { library: l.lib, entries });
  }
}
