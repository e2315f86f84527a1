/**
 * Outcomes of the LiteLLM end-to-end runs, one file per LiteLLM version in results/, read by
 * scripts/compat-matrix.mjs for the compatibility matrix (docs/compatibility.md). No timestamps: a file changes
 * only when an outcome does.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeResultsFile } from '../harness/results-file.js';

const RESULTS_DIR = join(dirname(fileURLToPath(import.meta.url)), 'results');

export interface LitellmMatrixEntry {
  client: 'litellm';
  litellm_version: string;
  /** LiteLLM's OTel output: `default`, `semconv` (gen_ai_latest_experimental opt-in) or `v2` (LITELLM_OTEL_V2). */
  otel_setting: string;
  /** The client-facing route and the deployment behind it, e.g. `/chat/completions → bedrock/ (Converse)`. */
  route: string;
  streaming: boolean;
  otlp_protocol: string;
  clickhouse: string;
  /** `litellm-defect`: LiteLLM itself reports these calls wrong (listed in `problems`); tokenledger stores what it gets. */
  status: 'pass' | 'fail' | 'litellm-defect';
  /** What was checked, and each problem found. */
  checks: string[];
  problems: string[];
}

/** `run` is the version, or `version/setting` for a non-default OTel output. */
export function writeResults(run: string, entries: LitellmMatrixEntry[]): void {
  const sorted = [...entries].sort((a, b) => `${a.route}|${a.streaming}`.localeCompare(`${b.route}|${b.streaming}`));
  writeResultsFile(join(RESULTS_DIR, `${run.replace('/', '-')}.json`), { run, entries: sorted });
}
