/**
 * Outcomes of the instrumentation-library e2e, one file per library in results/, read by
 * scripts/compat-matrix.mjs for the compatibility matrix (docs/compatibility.md). No timestamps: a file changes
 * only when an outcome does.
 */
import { join } from 'node:path';
import { writeResultsFile } from '../harness/results-file.js';
import type { checkSource } from './check.js';
import { SDK_PACKAGES, type Library } from './libraries.js';
import { lossEntriesOf, type SourceManifest } from './losses.js';

const RESULTS_DIR = join(import.meta.dirname, 'results');

export interface SourceMatrixEntry {
  client: 'instrumentation';
  library: string;
  /** The instrumentation package and its pinned version, e.g. `openlit 1.45.0`. */
  package: string;
  /** The SDK the app called through, with its pinned version. */
  sdk: string;
  /** The API called: `anthropic messages`, `openai chat`, `bedrock converse`, `bedrock invoke`. */
  call: string;
  streaming: boolean;
  /** `library-defect`: the library itself reports these calls wrong (listed in `problems`). */
  status: 'pass' | 'fail' | 'library-defect';
  problems: string[];
}

const CALL: Record<string, string> = { anthropic: 'anthropic messages', openai: 'openai chat' };

/** `via`: the gateway the app called through, if any (its results go to a file of their own). */
export function writeSourceResults(runs: { l: Library; manifest: SourceManifest; result: ReturnType<typeof checkSource>; via?: string }[]): void {
  for (const { l, manifest, result, via } of runs) {
    const cells = new Map<string, SourceMatrixEntry>();
    for (const c of result.calls) {
      if (c.call.error !== undefined) continue;
      const api = CALL[c.call.sdk] ?? `bedrock ${c.call.api ?? ''}`;
      const call = via === undefined ? api : `${api} to ${c.call.model} via ${via}`;
      const key = `${call}|${c.call.stream}`;
      const sdk = SDK_PACKAGES[l.runtime][c.call.sdk]!;
      const pkg = l.instruments[c.call.sdk]!;
      const cell = cells.get(key) ?? {
        client: 'instrumentation', library: via === undefined ? l.lib : `${l.lib} + ${via}`, package: `${pkg} ${manifest.versions[pkg]}`, sdk: `${sdk} ${manifest.versions[sdk]}`,
        call, streaming: c.call.stream, status: 'pass', problems: [],
      };
      for (const p of c.problems) cell.problems.push(`${c.call.id}: ${p}`);
      const losses = lossEntriesOf(l.lib, c.call);
      for (const loss of losses) {
        const note = `${pkg} ${manifest.versions[pkg]}: ${loss.why}`;
        if (!cell.problems.includes(note)) cell.problems.push(note);
      }
      if (c.problems.length > 0) cell.status = 'fail';
      else if (cell.status === 'pass' && losses.length > 0) cell.status = 'library-defect';
      cells.set(key, cell);
    }
    const entries = [...cells.values()].sort((a, b) => `${a.call}|${a.streaming}`.localeCompare(`${b.call}|${b.streaming}`));
    const name = via === undefined ? l.lib : `${l.lib}+${via.replace(/\s+/g, '-').toLowerCase()}`;
    writeResultsFile(join(RESULTS_DIR, `${name}.json`), { library: entries[0]?.library ?? l.lib, entries });
  }
}

/** The Claude Agent SDK row: one agent query, billed from the Claude Code telemetry of the CLI the SDK ships. */
export function writeAgentResult(label: string, pkg: string, pass: boolean, problems: string[]): void {
  const entry: SourceMatrixEntry = {
    client: 'instrumentation', library: `claude-agent-sdk (${label})`, package: pkg, sdk: 'Claude Code CLI it ships', call: 'agent query (Claude Code telemetry)',
    streaming: true, status: pass ? 'pass' : 'fail', problems,
  };
  writeResultsFile(join(RESULTS_DIR, `claude-agent-sdk-${label.toLowerCase()}.json`), { library: entry.library, entries: [entry] });
}
