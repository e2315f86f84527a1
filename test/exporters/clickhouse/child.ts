import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { ClickhouseConfig } from '../../../exporters/clickhouse/config.js';

const ROOT = resolve(import.meta.dirname, '../../..');

/** Compiles child-exporter.ts and what it imports into a temp dir that sees the repo's node_modules. */
export function compileChild(): string {
  const out = mkdtempSync(join(tmpdir(), 'tl-ch-child-'));
  symlinkSync(join(ROOT, 'node_modules'), join(out, 'node_modules'));
  writeFileSync(join(out, 'package.json'), '{"type":"module"}');
  const r = spawnSync(join(ROOT, 'node_modules/.bin/tsc'), [
    '--outDir', out, '--rootDir', ROOT, '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022',
    '--strict', '--skipLibCheck', '--types', 'node', '--resolveJsonModule', join(ROOT, 'test/exporters/clickhouse/child-exporter.ts'),
  ], { encoding: 'utf8', cwd: ROOT });
  if (r.status !== 0) throw new Error(`compiling the child exporter failed:\n${r.stdout}${r.stderr}`);
  return join(out, 'test/exporters/clickhouse/child-exporter.js');
}

export interface ChildRun {
  proc: ChildProcess;
  /** End (exclusive) of the acknowledged range so far. */
  acked: () => number;
  waitFor(pred: (lines: string[]) => boolean, timeoutMs: number): Promise<void>;
  exited: Promise<number | null>;
  stderr: () => string;
}

export function runChild(script: string, args: { config: ClickhouseConfig; configDir: string; from: number; count: number; batch: number; pauseMs: number }): ChildRun {
  const proc = spawn(process.execPath, [script, JSON.stringify(args)], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let err = '';
  let buf = '';
  const waiters: (() => void)[] = [];
  proc.stdout?.on('data', (d: Buffer) => {
    buf += d.toString();
    const parts = buf.split('\n');
    buf = parts.pop() ?? '';
    lines.push(...parts);
    for (const w of waiters.splice(0)) w();
  });
  proc.stderr?.on('data', (d: Buffer) => { err += d.toString(); });
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => { for (const w of waiters.splice(0)) w(); r(code); }));
  return {
    proc,
    exited,
    stderr: () => err,
    acked: () => {
      let end = args.from;
      for (const l of lines) if (l.startsWith('ack ')) end = Number(l.slice(4));
      return end;
    },
    async waitFor(pred, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (!pred(lines)) {
        if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`child exited (${proc.exitCode ?? proc.signalCode}) before the expected output; stderr:\n${err}`);
        if (Date.now() > deadline) throw new Error(`child gave no expected output within ${timeoutMs} ms; stdout:\n${lines.join('\n')}\nstderr:\n${err}`);
        await new Promise<void>((r) => { waiters.push(r); setTimeout(r, 50); });
      }
    },
  };
}
