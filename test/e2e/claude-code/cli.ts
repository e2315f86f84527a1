/**
 * Runs the real, pinned Claude Code CLI (installed by scripts/setup-claude-code.sh) in `-p` mode,
 * offline: a fresh HOME, an explicit environment (nothing inherited but PATH), the Anthropic API
 * at a local base URL, every other destination forced through a refusing proxy, and OTel export
 * to a local OTLP endpoint. The recipe is ../shared/research/claude-code.md §10.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, '../../..');

/** The pinned versions: one folder with a lockfile each under install/. */
export const CLAUDE_CODE_VERSIONS: readonly string[] = readdirSync(join(here, 'install')).sort();

export type OtlpProtocol = 'grpc' | 'http/protobuf' | 'http/json';
export const OTLP_PROTOCOLS: readonly OtlpProtocol[] = ['grpc', 'http/protobuf', 'http/json'];

/** Model every scenario asks for: priced identically by Claude Code and by genai-prices. */
export const E2E_MODEL = 'claude-sonnet-4-5-20250929';

function platformPackage(): string {
  const arch = process.arch === 'x64' ? 'x64' : process.arch;
  return `@anthropic-ai/claude-code-${process.platform}-${arch}`;
}

/** Path of the native binary of `version`, or null when setup-claude-code.sh has not installed it. */
export function claudeBinary(version: string): string | null {
  const bin = join(repoRoot, '.tools/claude-code', version, 'node_modules', platformPackage(), 'claude');
  return existsSync(bin) ? bin : null;
}

export interface ClaudeRunOptions {
  version: string;
  /** ANTHROPIC_BASE_URL: the mock Anthropic API or a LiteLLM route. */
  baseUrl: string;
  /** Sent as x-api-key. */
  apiKey: string;
  /** URL of the refusing proxy every non-loopback connection is sent to (see egress-trap.ts). */
  egressProxy: string;
  otlp: { protocol: OtlpProtocol; endpoint: string; headers?: Record<string, string> };
  resourceAttributes?: Record<string, string>;
  /** ANTHROPIC_CUSTOM_HEADERS: sent on every API request. */
  customHeaders?: Record<string, string>;
  prompt?: string;
  model?: string;
  /** Further variables, e.g. CLAUDE_CODE_PROPAGATE_TRACEPARENT; they override the defaults above. */
  extraEnv?: Record<string, string>;
  timeoutMs?: number;
}

/** The part of `claude -p --output-format json` the tests read. */
export interface ClaudeResult {
  session_id: string;
  total_cost_usd: number;
  is_error: boolean;
  num_turns: number;
  usage: { input_tokens: number; output_tokens: number; cache_read_input_tokens: number; cache_creation_input_tokens: number };
}

export interface ClaudeRun {
  exitCode: number | null;
  stdout: string;
  stderr: string;
  result: ClaudeResult;
  durationMs: number;
}

const kv = (o: Record<string, string>, sep: string, join_: string): string =>
  Object.entries(o).map(([k, v]) => `${k}${sep}${v}`).join(join_);

/** The environment of a Claude Code run (also of an Agent SDK app, which passes it to the CLI it starts). */
export function claudeEnv(opts: Omit<ClaudeRunOptions, 'version'>, home: string): Record<string, string> {
  const env: Record<string, string> = {
    PATH: `${dirname(process.execPath)}:/usr/local/bin:/usr/bin:/bin`,
    HOME: home,
    TERM: 'dumb',
    ANTHROPIC_BASE_URL: opts.baseUrl,
    ANTHROPIC_API_KEY: opts.apiKey,
    // Anything not on loopback goes to the refusing proxy; the mock, LiteLLM and tokenledger do not.
    HTTPS_PROXY: opts.egressProxy,
    HTTP_PROXY: opts.egressProxy,
    NO_PROXY: '127.0.0.1,localhost',
    DISABLE_AUTOUPDATER: '1',
    // Stops first-party telemetry and feature-flag traffic; OTel export is unaffected (research §2).
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    CLAUDE_CODE_MAX_RETRIES: '1',
    CLAUDE_CODE_ENABLE_TELEMETRY: '1',
    OTEL_METRICS_EXPORTER: 'otlp',
    OTEL_LOGS_EXPORTER: 'otlp',
    OTEL_EXPORTER_OTLP_PROTOCOL: opts.otlp.protocol,
    OTEL_EXPORTER_OTLP_ENDPOINT: opts.otlp.endpoint,
    OTEL_METRIC_EXPORT_INTERVAL: '1000',
    OTEL_LOGS_EXPORT_INTERVAL: '500',
  };
  if (opts.otlp.headers) env.OTEL_EXPORTER_OTLP_HEADERS = kv(opts.otlp.headers, '=', ',');
  if (opts.resourceAttributes) env.OTEL_RESOURCE_ATTRIBUTES = kv(opts.resourceAttributes, '=', ',');
  if (opts.customHeaders) env.ANTHROPIC_CUSTOM_HEADERS = kv(opts.customHeaders, ': ', '\n');
  return { ...env, ...opts.extraEnv };
}

/** Runs `claude -p PROMPT --output-format json` once; rejects on timeout or a non-JSON result. */
export async function runClaude(opts: ClaudeRunOptions): Promise<ClaudeRun> {
  const bin = claudeBinary(opts.version);
  if (!bin) throw new Error(`Claude Code ${opts.version} is not installed: run scripts/setup-claude-code.sh`);
  const root = await mkdtemp(join(tmpdir(), `tokenledger-claude-${opts.version}-`));
  const home = join(root, 'home');
  const work = join(root, 'work');
  await mkdir(home);
  await mkdir(work);
  const args = ['-p', opts.prompt ?? 'hello', '--output-format', 'json', '--model', opts.model ?? E2E_MODEL];
  const started = Date.now();
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const child = spawn(bin, args, { cwd: work, env: claudeEnv(opts, home), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => { stdout += s; });
  child.stderr.setEncoding('utf8').on('data', (s: string) => { stderr += s; });
  const exitCode = await new Promise<number | null>((resolve_, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`claude ${opts.version} did not exit within ${timeoutMs} ms; stderr: ${stderr.slice(-2000)}`));
    }, timeoutMs);
    child.on('error', (err) => { clearTimeout(timer); reject(err); });
    // 'close', not 'exit': stdout must be fully read before the JSON result is parsed.
    child.on('close', (code) => { clearTimeout(timer); resolve_(code); });
  }).finally(() => rm(root, { recursive: true, force: true }));
  let result: ClaudeResult;
  try {
    result = JSON.parse(stdout) as ClaudeResult;
  } catch (err) {
    throw new Error(`claude ${opts.version} exited ${exitCode} without a JSON result (${(err as Error).message}); stdout: ${stdout.slice(0, 2000)} stderr: ${stderr.slice(-2000)}`);
  }
  return { exitCode, stdout, stderr, result, durationMs: Date.now() - started };
}
