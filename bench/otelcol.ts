import { execFile } from 'node:child_process';
import { existsSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { BenchChild } from './bench-child.js';
import { freePort, procStats, type ProcStats } from './child.js';

/**
 * The OpenTelemetry Collector `--vs-otelcol` compares against: `otlp → memory_limiter → batch →
 * file` (traces), built by scripts/setup-otelcol.sh outside the repository, run as a child
 * process on free loopback ports with its own telemetry off.
 */

export const OTELCOL_VERSION = '0.165.0';

/** The binary: $TOKENLEDGER_OTELCOL, else where scripts/setup-otelcol.sh puts it. */
export function otelcolPath(): string {
  return process.env.TOKENLEDGER_OTELCOL ?? join(process.env.TOKENLEDGER_OTELCOL_DIR ?? join(homedir(), '.cache', 'tokenledger', `otelcol-${OTELCOL_VERSION}`), 'otelcol-bench');
}

/**
 * The collector binary, built first when it is missing (minutes, once); a reason instead when it
 * cannot be had (no Go, the build failed), so that the bench says why it skipped the comparison.
 */
export async function ensureOtelcol(repo: string, log: (msg: string) => void): Promise<{ path: string } | { skipped: string }> {
  const path = otelcolPath();
  if (existsSync(path)) return { path };
  if (process.env.TOKENLEDGER_OTELCOL) return { skipped: `TOKENLEDGER_OTELCOL=${path} does not exist` };
  const go = await new Promise<boolean>((resolve) => execFile('go', ['version'], (err) => resolve(!err)));
  if (!go) return { skipped: 'Go is not installed, so the collector cannot be built (scripts/setup-otelcol.sh)' };
  log(`building the OpenTelemetry Collector ${OTELCOL_VERSION} with ocb (scripts/setup-otelcol.sh, once; a few minutes)`);
  return new Promise((resolve) => {
    execFile(join(repo, 'scripts', 'setup-otelcol.sh'), { timeout: 20 * 60_000, maxBuffer: 64 * 1024 * 1024 }, (err, _stdout, stderr) => {
      if (err || !existsSync(path)) resolve({ skipped: `scripts/setup-otelcol.sh failed: ${err?.message ?? 'no binary'}\n${stderr.split('\n').slice(-10).join('\n')}` });
      else resolve({ path });
    });
  });
}

function config(dir: string, grpcPort: number, httpPort: number): string {
  // JSON is YAML: no YAML writer needed for a fixed shape.
  return JSON.stringify({
    receivers: { otlp: { protocols: { grpc: { endpoint: `127.0.0.1:${grpcPort}` }, http: { endpoint: `127.0.0.1:${httpPort}` } } } },
    processors: { memory_limiter: { check_interval: '1s', limit_mib: 1500, spike_limit_mib: 300 }, batch: {} },
    exporters: { file: { path: join(dir, 'spans.json') } },
    service: {
      telemetry: { logs: { level: 'warn' }, metrics: { level: 'none' } },
      pipelines: { traces: { receivers: ['otlp'], processors: ['memory_limiter', 'batch'], exporters: ['file'] } },
    },
  }, null, 2);
}

export class OtelcolChild extends BenchChild {
  grpcPort = 0;
  httpPort = 0;

  constructor(private readonly binary: string) {
    super('otelcol');
  }

  async start(timeoutMs = 30_000): Promise<void> {
    [this.grpcPort, this.httpPort] = [await freePort(), await freePort()];
    const cfg = join(this.dir, 'config.yaml');
    writeFileSync(cfg, config(this.dir, this.grpcPort, this.httpPort));
    await this.launch(this.binary, ['--config', cfg], {}, () => listening(this.httpPort), timeoutMs);
  }

  stats(): ProcStats {
    if (this.proc?.pid === undefined) throw new Error('bench: otelcol is not running');
    return procStats(this.proc.pid);
  }

  /** Bytes the file exporter has written so far. */
  written(): number {
    try {
      return statSync(join(this.dir, 'spans.json')).size;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
      throw err;
    }
  }

  /** Waits until the file exporter's output stopped growing (the batch processor flushes every 200 ms), at most `timeoutMs`. */
  async drained(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = -1;
    for (let size = this.written(); size !== last && Date.now() < deadline; size = this.written()) {
      last = size;
      await sleep(500);
    }
  }
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port }, () => { s.destroy(); resolve(true); });
    s.on('error', () => resolve(false));
  });
}
