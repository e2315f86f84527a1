/**
 * Debian's haproxy as a round-robin load balancer in front of tokenledger replicas, shared by the
 * CLI replica tests (captures replayed through it) and the e2e test (LiteLLM and Claude Code export through it).
 */
import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { serviceAvailable } from './services.js';

export const haproxyAvailable = (): boolean =>
  serviceAvailable('haproxy', spawnSync('haproxy', ['-v'], { stdio: 'ignore' }).status === 0, 'install Debian\'s haproxy (scripts/dev-services.sh)');

export interface Haproxy {
  url: string;
  stop(): Promise<unknown>;
}

/**
 * haproxy on 127.0.0.1:`port` (config in `dir`), round robin over the `backends` ports. HTTP mode
 * balances each request, not each connection; `http-server-close` also closes every server-side
 * connection after its response, so an exporter's keep-alive connection is spread over the backends too.
 */
export async function startHaproxy(dir: string, port: number, backends: number[]): Promise<Haproxy> {
  const cfg = join(dir, `haproxy-${port}.cfg`);
  writeFileSync(cfg, `global
  maxconn 256
defaults
  mode http
  option http-server-close
  timeout connect 2s
  timeout client 30s
  timeout server 30s
frontend otlp
  bind 127.0.0.1:${port}
  default_backend replicas
backend replicas
  balance roundrobin
${backends.map((p, i) => `  server r${i} 127.0.0.1:${p}`).join('\n')}
`);
  const proc = spawn('haproxy', ['-f', cfg, '-db'], { stdio: 'ignore' });
  const stop = (): Promise<unknown> => {
    if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
    proc.kill('SIGTERM');
    return new Promise((r) => proc.once('exit', r));
  };
  const deadline = Date.now() + 10_000;
  while (!(await listening(port))) {
    if (Date.now() > deadline || proc.exitCode !== null) {
      await stop();
      throw new Error(`haproxy (${cfg}) did not listen on 127.0.0.1:${port}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { url: `http://127.0.0.1:${port}`, stop };
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port }, () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}
