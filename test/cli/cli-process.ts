import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export { freePort } from '../helpers/net.js';

/** The built CLI (npm test builds dist/ first). */
export const CLI = fileURLToPath(new URL('../../dist/bin/tokenledger.js', import.meta.url));

export function runCli(args: string[], env: NodeJS.ProcessEnv = {}, cwd?: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 30_000, cwd });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A running `tokenledger run`, with its output collected and a way to wait for a line. */
export class RunningCli {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  readonly exited: Promise<number | null>;

  constructor(args: string[], env: NodeJS.ProcessEnv = {}) {
    this.child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout!.on('data', (d: Buffer) => { this.stdout += d.toString(); });
    this.child.stderr!.on('data', (d: Buffer) => { this.stderr += d.toString(); });
    this.exited = new Promise((resolve) => this.child.on('exit', (code) => resolve(code)));
  }

  /** Resolves when `stream` contains a match after `from` characters; rejects after `ms`. */
  async waitFor(stream: 'stdout' | 'stderr', pattern: RegExp | string, ms = 15_000, from = 0): Promise<void> {
    const deadline = Date.now() + ms;
    const hit = () => (typeof pattern === 'string' ? this[stream].indexOf(pattern, from) >= 0 : pattern.test(this[stream].slice(from)));
    while (!hit()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${String(pattern)} on ${stream}:\n${this[stream].slice(from)}\nstderr:\n${this.stderr}`);
      if (this.child.exitCode !== null) throw new Error(`tokenledger exited ${this.child.exitCode} before ${String(pattern)}:\n${this.stderr}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    if (this.child.exitCode === null) this.child.kill(signal);
    return this.exited;
  }
}
