import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort, RunningCli } from './cli-process.js';

const VALID = readFileSync(new URL('../fixtures/config/valid.yaml', import.meta.url), 'utf8');

/** An OTLP/JSON trace export with one span, as any OTel SDK would send. */
function traceExport(name: string): string {
  return JSON.stringify({
    resourceSpans: [{
      resource: { attributes: [{ key: 'service.name', value: { stringValue: 'cli-test' } }] },
      scopeSpans: [{ scope: { name: 't' }, spans: [{ traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', name, kind: 1, startTimeUnixNano: '1764000000000000000', endTimeUnixNano: '1764000001000000000' }] }],
    }],
  });
}

let cli: RunningCli | undefined;
afterEach(async () => { await cli?.stop('SIGKILL'); cli = undefined; });

async function start(verbosity: string) {
  const [http, admin] = [await freePort(), await freePort()];
  const dir = mkdtempSync(join(tmpdir(), 'tl-run-'));
  const file = join(dir, 'pipeline.yaml');
  const config = (v: string) => VALID
    .replace('endpoint: 127.0.0.1:0\n      http:\n        endpoint: 127.0.0.1:0', `endpoint: 127.0.0.1:0\n      http:\n        endpoint: 127.0.0.1:${http}`)
    .replace('endpoint: 127.0.0.1:0\n  shutdown', `endpoint: 127.0.0.1:${admin}\n  shutdown`)
    .replace('verbosity: basic', `verbosity: ${v}`)
    .replace('level: warn', 'level: info');
  writeFileSync(file, config(verbosity));
  cli = new RunningCli(['run', '-c', file]);
  await cli.waitFor('stderr', '"msg":"pipeline running"');
  const send = async (name: string) => {
    const r = await fetch(`http://127.0.0.1:${http}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: traceExport(name) });
    return r.status;
  };
  return { cli, file, config, send, admin: `http://127.0.0.1:${admin}` };
}

describe('tokenledger run', () => {
  it('answers /readyz 200 once started, and exits 0 on SIGTERM within the shutdown timeout', async () => {
    const { cli: c, admin, send } = await start('basic');
    expect((await fetch(`${admin}/readyz`)).status).toBe(200);
    expect(await send('a')).toBe(200);
    await c.waitFor('stdout', '"spans":1');
    const t0 = Date.now();
    expect(await c.stop('SIGTERM')).toBe(0);
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(c.stderr).toContain('"msg":"stopped","drained":true');
  });

  it('SIGINT stops gracefully too', async () => {
    const { cli: c } = await start('basic');
    expect(await c.stop('SIGINT')).toBe(0);
  });

  it('SIGHUP with an invalid file keeps the old pipeline serving; with a valid one the new pipeline serves', async () => {
    const { cli: c, file, config, send, admin } = await start('basic');
    expect(await send('before')).toBe(200);
    await c.waitFor('stdout', '"spans":1');

    writeFileSync(file, config('basic').replace('verbosity: basic', 'verbosity: loud'));
    let mark = c.stderr.length;
    c.child.kill('SIGHUP');
    await c.waitFor('stderr', 'reload refused', 10_000, mark);
    expect(c.stderr.slice(mark)).toContain('exporters.debug.verbosity: expected one of');
    const out = c.stdout.length;
    expect(await send('during-invalid')).toBe(200);
    await c.waitFor('stdout', '"spans":1', 10_000, out);
    expect(await (await fetch(`${admin}/metrics`)).text()).toContain('tokenledger_config_reloads_total{result="invalid"} 1');

    writeFileSync(file, config('detailed'));
    mark = c.stderr.length;
    c.child.kill('SIGHUP');
    await c.waitFor('stderr', '"msg":"configuration reloaded"', 15_000, mark);
    const out2 = c.stdout.length;
    expect(await send('after-valid')).toBe(200);
    await c.waitFor('stdout', '"name":"after-valid"', 10_000, out2);
    expect(await (await fetch(`${admin}/metrics`)).text()).toContain('tokenledger_config_reloads_total{result="ok"} 1');
    expect(await c.stop('SIGTERM')).toBe(0);
  });

  it('exits 1 with the errors when pipeline.yaml is invalid, and 3 when a port is taken', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tl-run-'));
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, VALID.replace('verbosity: basic', 'verbosity: loud'));
    const invalid = new RunningCli(['run', '-c', bad]);
    expect(await invalid.exited).toBe(1);
    expect(invalid.stderr).toContain(`${bad}:12:16: error: exporters.debug.verbosity`);

    const { admin } = await start('basic');
    const taken = join(dir, 'taken.yaml');
    writeFileSync(taken, VALID.replace('endpoint: 127.0.0.1:0\n  shutdown', `endpoint: ${admin.slice('http://'.length)}\n  shutdown`));
    const conflict = new RunningCli(['run', '-c', taken]);
    expect(await conflict.exited).toBe(3);
    expect(conflict.stderr).toContain('EADDRINUSE');
  });
});
