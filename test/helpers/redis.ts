/** A private redis-server (Debian's, from scripts/dev-services.sh) on a free loopback port, for tests that stop and restart it. */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './net.js';
import { serviceAvailable } from './services.js';

export function redisAvailable(): boolean {
  const found = spawnSync('redis-server', ['--version'], { encoding: 'utf8' }).status === 0;
  return serviceAvailable('redis-server', found, 'install Debian\'s redis-server');
}

export class RedisServer {
  private proc: ChildProcess | undefined;
  private readonly dir = mkdtempSync(join(tmpdir(), 'tokenledger-redis-'));
  private constructor(readonly port: number) {}

  get url(): string { return `redis://127.0.0.1:${this.port}`; }

  static async start(): Promise<RedisServer> {
    const r = new RedisServer(await freePort());
    await r.restart();
    return r;
  }

  /**
   * (Re)starts it with the data it had: an append-only file fsynced on every write, as a
   * deployment that must survive a Redis restart runs it.
   */
  async restart(): Promise<void> {
    this.proc = spawn('redis-server', ['--bind', '127.0.0.1', '--port', String(this.port), '--dir', this.dir, '--save', '', '--appendonly', 'yes', '--appendfsync', 'always'], { stdio: 'ignore' });
    const deadline = Date.now() + 10_000;
    while (!(await pings(this.port))) {
      if (Date.now() > deadline) throw new Error(`redis-server did not answer on 127.0.0.1:${this.port} within 10 s`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Stops it (SIGTERM: it finishes its append-only file) and waits for it to exit. */
  stop(): Promise<void> { return this.end('SIGTERM'); }

  /** Kills it (SIGKILL, frozen or not): what it had fsynced to its append-only file is all that survives. */
  crash(): Promise<void> { return this.end('SIGKILL'); }

  /** Deletes its data while it is stopped: the next restart() is a Redis that lost everything. */
  forget(): void {
    if (this.proc !== undefined) throw new Error('RedisServer.forget(): stop it first');
    for (const f of readdirSync(this.dir)) rmSync(join(this.dir, f), { recursive: true, force: true });
  }

  private async end(signal: NodeJS.Signals): Promise<void> {
    const p = this.proc;
    this.proc = undefined;
    if (p === undefined || p.exitCode !== null || p.signalCode !== null) return;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill(signal);
    await exited;
  }

  /** Freezes it (SIGSTOP): connections stay open, commands get no reply until resume(). */
  pause(): void { this.proc?.kill('SIGSTOP'); }
  resume(): void { this.proc?.kill('SIGCONT'); }

  async close(): Promise<void> {
    this.resume();
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function pings(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection({ host: '127.0.0.1', port }, () => s.write('PING\r\n'));
    s.setTimeout(1000, () => { s.destroy(); resolve(false); });
    s.once('data', (d) => { s.destroy(); resolve(d.toString().startsWith('+PONG')); });
    s.once('error', () => resolve(false));
  });
}
