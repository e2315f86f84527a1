/** Starts a real LiteLLM proxy from its virtualenv (.venv/litellm-<version>, made by scripts/setup-litellm.sh). */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { freePort, waitForHttp } from './net.js';

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
}

export interface LitellmProxy {
  url: string;
  version: string;
  logFile: string;
  /** SIGTERM, so the OTel SDK's shutdown flushes its batch span processor; SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<number | null>;
}

export const MASTER_KEY = 'sk-tokenledger-e2e-master';

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
  return {
    url,
    version: opts.version,
    logFile,
    async stop(graceMs = 15_000) {
      if (child.exitCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}
