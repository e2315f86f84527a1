/**
 * Outcomes of the Claude Code end-to-end scenarios, written to results/<scenario>.json and read by
 * scripts/compat-matrix.mjs for the compatibility matrix (docs/compatibility.md) (same status vocabulary as the
 * LiteLLM results). No timestamps: the files change only when an outcome does.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeResultsFile } from '../harness/results-file.js';

const RESULTS_DIR = join(dirname(fileURLToPath(import.meta.url)), 'results');

export interface MatrixEntry {
  client: 'claude-code';
  client_version: string;
  /** `direct` (the Anthropic API), `litellm-anthropic-passthrough` or `litellm-v1-messages`. */
  path: string;
  /** LiteLLM version on the litellm paths, '' on direct. */
  litellm_version: string;
  otlp_protocol: string;
  /** The clickhouse exporter's mode: embedded chDB or a ClickHouse server. */
  clickhouse: 'embedded' | 'server';
  /** `litellm-defect`: LiteLLM itself reports these calls wrong (see `problems`). */
  status: 'pass' | 'fail' | 'litellm-defect';
  /** What the scenario checked, one short phrase per check. */
  checks: string[];
  /** Each known problem behind a status other than pass. */
  problems: string[];
}

/** Collects entries, each `fail` until marked passed; written once at the end of the file. */
export class ScenarioResults {
  private readonly entries = new Map<string, MatrixEntry>();

  constructor(private readonly scenario: string) {}

  static key(e: Pick<MatrixEntry, 'client_version' | 'path' | 'litellm_version' | 'otlp_protocol' | 'clickhouse'>): string {
    return `${e.client_version}|${e.path}|${e.litellm_version}|${e.otlp_protocol}|${e.clickhouse}`;
  }

  plan(e: Omit<MatrixEntry, 'client' | 'status' | 'problems'>): void {
    this.entries.set(ScenarioResults.key(e), { client: 'claude-code', ...e, status: 'fail', problems: [] });
  }

  pass(e: Pick<MatrixEntry, 'client_version' | 'path' | 'litellm_version' | 'otlp_protocol' | 'clickhouse'>): void {
    const entry = this.entries.get(ScenarioResults.key(e));
    if (!entry) throw new Error(`results: ${ScenarioResults.key(e)} was not planned`);
    entry.status = 'pass';
  }

  /** Records a known cause of failure; `litellm` when LiteLLM itself reports the call wrong. */
  problem(e: Pick<MatrixEntry, 'client_version' | 'path' | 'litellm_version' | 'otlp_protocol' | 'clickhouse'>, problem: string, litellm: boolean): void {
    const entry = this.entries.get(ScenarioResults.key(e));
    if (!entry) throw new Error(`results: ${ScenarioResults.key(e)} was not planned`);
    entry.status = litellm ? 'litellm-defect' : 'fail';
    entry.problems.push(problem);
  }

  write(): void {
    const entries = [...this.entries.values()].sort((a, b) => ScenarioResults.key(a).localeCompare(ScenarioResults.key(b)));
    writeResultsFile(join(RESULTS_DIR, `${this.scenario}.json`), { scenario: this.scenario, entries });
  }
}
