/** Starts a real LiteLLM proxy from its virtualenv (.venv/litellm-<version>, made by scripts/setup-litellm.sh). */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { freePort, waitForHttp } from '../../helpers/net.js';

export const REPO_ROOT = resolve(import.meta.dirname, '../../..');

export function litellmBin(version: string): string {
  return join(REPO_ROOT, '.venv', `litellm-${version}`, 'bin', 'litellm');
}

export function litellmInstalled(version: string): boolean {
  return existsSync(litellmBin(version));
}

export interface LitellmOptions {
  version: string;
  config: Record<string, unknown>;
  env: Record<string, string>;
  /** Folder for config.yaml and litellm.log. */
  workDir: string;
  /**
   * How many spans (or export requests) LiteLLM's OTel export has delivered so far, read where it
   * exports to. stop() waits until this has not moved for a second before it signals LiteLLM,
   * which does not always flush its last span on SIGTERM (seen on 1.108.7).
   */
  delivered?: () => number | Promise<number>;
}

export interface LitellmProxy {
  url: string;
  version: string;
  logFile: string;
  /**
   * Once `delivered` has been still for QUIET_MS (at most SETTLE_TIMEOUT_MS), SIGTERM, so the OTel
   * SDK's shutdown flushes whatever is left in its batch span processor; SIGKILL after `graceMs`.
   */
  stop(graceMs?: number): Promise<number | null>;
}

export const MASTER_KEY = 'sk-tokenledger-e2e-master';

/** LiteLLM's batch span processor exports every 200 ms: a second without a delivery means it has nothing left. */
const QUIET_MS = 1000;
const SETTLE_TIMEOUT_MS = 15_000;

/** Resolves once `delivered` has not changed for QUIET_MS; throws after SETTLE_TIMEOUT_MS or when reading it fails. */
async function settled(delivered: () => number | Promise<number>): Promise<void> {
  const deadline = Date.now() + SETTLE_TIMEOUT_MS;
  let last = await delivered();
  let since = Date.now();
  while (Date.now() - since < QUIET_MS) {
    if (Date.now() > deadline) throw new Error(`LiteLLM kept exporting for ${SETTLE_TIMEOUT_MS} ms (${last} delivered)`);
    await new Promise((r) => setTimeout(r, 100));
    const now = await delivered();
    if (now !== last) {
      last = now;
      since = Date.now();
    }
  }
}

export async function startLitellm(opts: LitellmOptions): Promise<LitellmProxy> {
  const port = await freePort();
  const configPath = join(opts.workDir, 'config.yaml');
  writeFileSync(configPath, stringify(opts.config));
  const logFile = join(opts.workDir, 'litellm.log');
  const log = createWriteStream(logFile);
  const child: ChildProcess = spawn(litellmBin(opts.version), ['--config', configPath, '--host', '127.0.0.1', '--port', String(port), '--num_workers', '1'], {
    cwd: opts.workDir,
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: opts.workDir,
      LITELLM_LOCAL_MODEL_COST_MAP: 'True',
      LITELLM_MODE: 'PRODUCTION', // no .env file loading
      LITELLM_TELEMETRY: 'False',
      DISABLE_SCHEMA_UPDATE: 'True',
      NO_DOCS: 'True',
      PYTHONUNBUFFERED: '1',
      ...opts.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitForHttp(`${url}/health/liveliness`, 90_000, exited);
  } catch (err) {
    child.kill('SIGKILL');
    throw new Error(`LiteLLM ${opts.version} did not start (log: ${logFile}): ${(err as Error).message}`);
  }
  let stopping: Promise<number | null> | undefined;
  async function stop(graceMs: number): Promise<number | null> {
    if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
    if (opts.delivered) {
      try {
        await settled(opts.delivered);
      } catch (err) {
        // Stopping goes on regardless: the scenario's own checks show what did not arrive.
        process.stderr.write(`LiteLLM ${opts.version}: stopping without a quiet export period: ${(err as Error).message}\n`);
      }
    }
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    const code = await exited;
    clearTimeout(timer);
    return code;
  }
  return {
    url,
    version: opts.version,
    logFile,
    stop(graceMs = 15_000) {
      // Idempotent: a cleanup hook may stop a proxy the scenario has already stopped.
      stopping ??= stop(graceMs);
      return stopping;
    },
  };
}
