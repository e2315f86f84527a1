import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { createWriteStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** A program the bench runs beside itself (tokenledger, the collector): its directory, its log, its start and stop. */
export abstract class BenchChild {
  readonly dir: string;
  protected proc: ChildProcess | undefined;
  protected exited = false;

  constructor(private readonly name: string) {
    this.dir = mkdtempSync(join(tmpdir(), `tl-bench-${name}-`));
  }

  get logFile(): string { return join(this.dir, `${this.name}.log`); }

  /** Spawns the program with stdout and stderr into its log, then waits until `ready()` or fails with the log's tail. */
  protected async launch(command: string, args: string[], options: SpawnOptions, ready: () => Promise<boolean>, timeoutMs: number): Promise<void> {
    const log = createWriteStream(this.logFile);
    this.proc = spawn(command, args, { cwd: this.dir, stdio: ['ignore', 'pipe', 'pipe'], ...options });
    this.proc.stdout?.pipe(log);
    this.proc.stderr?.pipe(log);
    this.proc.once('exit', () => { this.exited = true; });
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.exited) throw new Error(`bench: ${this.name} exited during start-up; log:\n${this.logTail()}`);
      if (await ready()) return;
      await sleep(100);
    }
    throw new Error(`bench: ${this.name} not ready after ${timeoutMs} ms; log:\n${this.logTail()}`);
  }

  logTail(): string {
    try {
      return readFileSync(this.logFile, 'utf8').split('\n').slice(-20).join('\n');
    } catch (err) {
      return `(no log: ${(err as Error).message})`;
    }
  }

  /** SIGTERM (the program drains), SIGKILL after `timeoutMs`. Idempotent. */
  async stop(timeoutMs = 30_000): Promise<void> {
    const p = this.proc;
    if (!p || this.exited) return;
    const exited = new Promise<void>((resolve) => p.once('exit', () => resolve()));
    p.kill('SIGTERM');
    const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    await exited;
    clearTimeout(timer);
  }

  /** Immediate SIGKILL, for error paths and process exit. */
  kill(): void {
    if (this.proc && !this.exited) this.proc.kill('SIGKILL');
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
