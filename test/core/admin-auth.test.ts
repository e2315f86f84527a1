import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Service } from '../../core/service.js';
import { freePort } from '../helpers/net.js';
import { serviceAvailable } from '../helpers/services.js';
import { selfSignedCert } from '../helpers/tls.js';
import { fakeFactories } from './fake-components.js';

/** The admin server with bearer-token auth and TLS: /metrics needs the token, the probes do not; a real Prometheus scrapes it. */

const TOKEN = 'admin-test-token-3f9a';
const pipeline = (admin: string) => `receivers: { push: }
exporters: { memory: }
service:
  pipelines: { one: { receivers: [push], exporters: [memory] } }
  telemetry:
    logs: { level: error }
    admin:
${admin}
  shutdown_timeout: 2s
`;

let dir: string;
let ca: Buffer;
let service: Service;
let base: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tl-admin-'));
  const tls = selfSignedCert(dir);
  ca = tls.ca;
  writeFileSync(join(dir, 'pipeline.yaml'), pipeline([
    '      endpoint: 127.0.0.1:0',
    '      tls: { cert_file: cert.pem, key_file: key.pem }',
    '      auth: { bearer_tokens_env: TL_ADMIN_TOKENS }',
  ].join('\n')));
  service = new Service(join(dir, 'pipeline.yaml'), fakeFactories, { TL_ADMIN_TOKENS: `other-token,${TOKEN}` });
  await service.start();
  base = `https://${service.adminAddress()}`;
});
afterAll(async () => {
  await service?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca, headers, timeout: 10_000 }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => { body += c.toString(); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error(`${url}: no answer within 10 s`)));
    req.end();
  });
}

describe('admin server with bearer auth and TLS', () => {
  it('refuses a scrape of /metrics without the token, or with a wrong one (401)', async () => {
    const none = await get(`${base}/metrics`);
    expect(none.status).toBe(401);
    expect(none.headers['www-authenticate']).toBe('Bearer');
    expect(none.body).not.toContain('tokenledger_build_info');
    expect((await get(`${base}/metrics`, { authorization: 'Bearer wrong' })).status).toBe(401);
    expect((await get(`${base}/metrics`, { authorization: TOKEN })).status).toBe(401);
  });

  it('serves /metrics with the token', async () => {
    const ok = await get(`${base}/metrics`, { authorization: `Bearer ${TOKEN}` });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatch(/^tokenledger_build_info\{version="[^"]+"\} 1$/m);
  });

  it('serves the routes components register behind the same token; unknown paths are 404', async () => {
    expect((await get(`${base}/api/test/memory?q=1`)).status).toBe(401);
    const ok = await get(`${base}/api/test/memory?q=1`, { authorization: `Bearer ${TOKEN}` });
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.body)).toEqual({ batches: 0, q: '1' });
    expect((await get(`${base}/api/test/nothing`, { authorization: `Bearer ${TOKEN}` })).status).toBe(404);
  });

  it('keeps /healthz and /readyz open to probes', async () => {
    expect((await get(`${base}/healthz`)).status).toBe(200);
    const ready = await get(`${base}/readyz`);
    expect(ready.status).toBe(200);
    expect(JSON.parse(ready.body)).toEqual({ ready: true, reason: 'all components started' });
  });

  it('speaks only TLS: a plain HTTP request gets no answer from it', async () => {
    const plain = await fetch(`http://${service.adminAddress()}/healthz`, { signal: AbortSignal.timeout(10_000) }).then((r) => r.status, (e: Error) => e.name);
    expect(plain).not.toBe(200);
  });
});

const prometheus = serviceAvailable('prometheus', spawnSync('prometheus', ['--version'], { stdio: 'ignore' }).status === 0, "install Debian's prometheus package (scripts/dev-services.sh)");

describe.runIf(prometheus)('a real Prometheus scrapes the protected admin server', () => {
  let prom: ChildProcess | undefined;
  let promUrl: string;
  let promLog = '';

  beforeAll(async () => {
    writeFileSync(join(dir, 'token'), `${TOKEN}\n`);
    const port = await freePort();
    promUrl = `http://127.0.0.1:${port}`;
    const target = JSON.stringify(service.adminAddress());
    // As README shows it, plus a job without the token that must be refused.
    writeFileSync(join(dir, 'prometheus.yml'), [
      'global: { scrape_interval: 1s }',
      'scrape_configs:',
      '  - job_name: tokenledger',
      '    scheme: https',
      `    authorization: { credentials_file: ${JSON.stringify(join(dir, 'token'))} }`,
      `    tls_config: { ca_file: ${JSON.stringify(join(dir, 'cert.pem'))} }`,
      `    static_configs: [{ targets: [${target}] }]`,
      '  - job_name: no-token',
      '    scheme: https',
      `    tls_config: { ca_file: ${JSON.stringify(join(dir, 'cert.pem'))} }`,
      `    static_configs: [{ targets: [${target}] }]`,
    ].join('\n'));
    prom = spawn('prometheus', [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'], { stdio: ['ignore', 'ignore', 'pipe'] });
    prom.stderr!.on('data', (c: Buffer) => { promLog += c.toString(); });
  }, 30_000);
  afterAll(async () => {
    if (prom && prom.exitCode === null) {
      const exited = new Promise((r) => prom!.once('exit', r));
      prom.kill('SIGTERM');
      await exited;
    }
  });

  it('scrapes with the bearer token over TLS; the job without the token is refused', async () => {
    const deadline = Date.now() + 45_000;
    let targets: { labels: { job: string }; health: string; lastError: string }[] = [];
    while (Date.now() < deadline) {
      const res = await fetch(`${promUrl}/api/v1/targets`).then((r) => r.json() as Promise<{ data: { activeTargets: typeof targets } }>, () => undefined);
      targets = res?.data.activeTargets ?? [];
      if (targets.length === 2 && targets.every((t) => t.health !== 'unknown')) break;
      await new Promise((r) => setTimeout(r, 300));
    }
    const job = (name: string) => targets.find((t) => t.labels.job === name);
    expect(job('tokenledger'), promLog).toMatchObject({ health: 'up', lastError: '' });
    expect(job('no-token')?.health).toBe('down');
    expect(job('no-token')?.lastError).toMatch(/401/);
    const q = await (await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent('tokenledger_build_info{job="tokenledger"}')}`)).json() as { data: { result: unknown[] } };
    expect(q.data.result.length).toBe(1);
  }, 60_000);
});
