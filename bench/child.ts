import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { basename, join } from 'node:path';
import { parseDocument } from 'yaml';
import { BenchChild } from './bench-child.js';

/**
 * tokenledger as a child process running the shipped pipeline.yaml (copied into a temp dir, so
 * its ./data paths land there) on free loopback ports, with /proc readings of its memory and CPU.
 */

export interface ChildOptions {
  repo: string;
  /** Server-mode ClickHouse exporter into this database at `url`, instead of embedded chDB. */
  server?: { url: string; database: string };
  /** Extra node flags, e.g. --cpu-prof. */
  nodeArgs?: string[];
  /** The normalizer's join store in the Redis at this URL (a fresh key prefix, short window), instead of in memory. */
  redis?: string;
}

export interface ProcStats { rssMb: number; hwmMb: number; cpuSeconds: number }

const CLK_TCK = 100; // Linux USER_HZ

export async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((resolve, reject) => srv.once('error', reject).listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as net.AddressInfo;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

function get(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => { body += d; }).on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${path} timed out`)));
    req.on('error', reject);
  });
}

/** RSS now and at peak (VmHWM), CPU seconds (user + system, all threads) since start of process `pid`. */
export function procStats(pid: number): ProcStats {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string): number => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { rssMb: kb('VmRSS') / 1024, hwmMb: kb('VmHWM') / 1024, cpuSeconds: (Number(f[11]) + Number(f[12])) / CLK_TCK };
}

/**
 * CPU seconds of process `pid` by thread group: threads are named by what runs them (Node's main
 * thread, V8's GC and compiler helpers, libuv's pool for fs and crypto, chDB's insert, merge and
 * background pools), numbered suffixes dropped. A thread that ended is not counted.
 */
export function threadCpu(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue; // the thread ended meanwhile
      throw err;
    }
    const name = tid === String(pid) ? 'main' : stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')).replace(/[\s#_-]*\d+$/, '');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    out.set(name, (out.get(name) ?? 0) + (Number(f[11]) + Number(f[12])) / CLK_TCK);
  }
  return out;
}

export class TokenledgerChild extends BenchChild {
  grpcPort = 0;
  httpPort = 0;
  adminPort = 0;

  constructor(private readonly opts: ChildOptions) {
    super('tokenledger');
  }

  get pid(): number {
    if (this.proc?.pid === undefined) throw new Error('bench: tokenledger is not running');
    return this.proc.pid;
  }

  async start(timeoutMs = 30_000): Promise<void> {
    const doc = parseDocument(readFileSync(join(this.opts.repo, 'pipeline.yaml'), 'utf8'));
    if (this.opts.server) {
      doc.setIn(['exporters', 'clickhouse', 'mode'], 'server');
      doc.setIn(['exporters', 'clickhouse', 'url'], this.opts.server.url);
      doc.setIn(['exporters', 'clickhouse', 'database'], this.opts.server.database);
      doc.deleteIn(['exporters', 'clickhouse', 'path']);
    }
    if (this.opts.redis) {
      doc.setIn(['processors', 'claude-normalizer'], doc.createNode({
        dedupe: { store: 'redis', redis: { url: this.opts.redis, key_prefix: `bench-${basename(this.dir)}`, window: '5m' } },
      }));
    }
    const config = join(this.dir, 'pipeline.yaml');
    writeFileSync(config, doc.toString());
    [this.grpcPort, this.httpPort, this.adminPort] = [await freePort(), await freePort(), await freePort()];
    await this.launch(process.execPath, [...(this.opts.nodeArgs ?? []), join(this.opts.repo, 'dist', 'bin', 'tokenledger.js'), 'run', '-c', config], {
      env: {
        ...process.env,
        TOKENLEDGER_OTLP_GRPC_ENDPOINT: `127.0.0.1:${this.grpcPort}`,
        TOKENLEDGER_OTLP_HTTP_ENDPOINT: `127.0.0.1:${this.httpPort}`,
        TOKENLEDGER_ADMIN_ENDPOINT: `127.0.0.1:${this.adminPort}`,
        TOKENLEDGER_LOG_LEVEL: 'warn',
      },
    }, () => get(this.adminPort, '/readyz').then((r) => r.status === 200, () => false), timeoutMs);
  }

  /** RSS now and at peak (VmHWM), CPU seconds (user + system) since start. */
  stats(): ProcStats {
    return procStats(this.pid);
  }

  async metrics(): Promise<string> {
    const r = await get(this.adminPort, '/metrics');
    if (r.status !== 200) throw new Error(`bench: /metrics answered ${r.status}`);
    return r.body;
  }
}

/** Sum of the samples of `name` whose labels contain `label` (e.g. `exporter="clickhouse"`). */
export function metricSum(text: string, name: string, label = ''): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name) || (line[name.length] !== '{' && line[name.length] !== ' ')) continue;
    if (label && !line.includes(label)) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}
