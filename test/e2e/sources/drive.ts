/**
 * Runs app.py in a library's virtualenv: the real SDKs call the mock upstream, the library exports
 * OTLP/HTTP to `otlpUrl` (tokenledger or a recording sink). One process per library.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Library } from './libraries.js';
import { npmDir, venvPython } from './libraries.js';
import type { PlannedCall } from './plan.js';

export interface AppOutcome {
  id: string;
  ok: boolean;
  response_id?: string;
  error?: string;
  message?: string;
}

/** The identity the app gives itself through the standard OTel resource variables. */
export function appIdentity(lib: string): { service: string; environment: string; team: string; user: string; session: string } {
  return { service: `app-${lib}`, environment: 'e2e', team: `team-${lib}`, user: `user-${lib}`, session: `session-${lib}` };
}

/** `apiKey`: the key the SDKs send, when `mockUrl` is a gateway in front of the mock. */
export async function runApp(l: Library, plan: PlannedCall[], mockUrl: string, otlpUrl: string, apiKey?: string, timeoutMs = 120_000): Promise<AppOutcome[]> {
  const work = mkdtempSync(join(tmpdir(), `tl-source-${l.lib}-`));
  const planFile = join(work, 'plan.json');
  writeFileSync(planFile, JSON.stringify(plan));
  const id = appIdentity(l.lib);
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: work,
    MOCK_URL: mockUrl,
    ...(apiKey === undefined ? {} : { APP_API_KEY: apiKey }),
    OTEL_EXPORTER_OTLP_ENDPOINT: otlpUrl,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
    OTEL_SERVICE_NAME: id.service,
    OTEL_RESOURCE_ATTRIBUTES: `deployment.environment=${id.environment},team.id=${id.team}`,
    APP_ENVIRONMENT: id.environment,
    APP_USER: id.user,
    APP_SESSION: id.session,
    OTEL_BSP_SCHEDULE_DELAY: '200',
    // Nothing of the app's may leave the machine: no library phones home.
    OTEL_METRICS_EXPORTER: 'none',
    OTEL_LOGS_EXPORTER: 'none',
    LOGFIRE_SEND_TO_LOGFIRE: 'false',
    TRACELOOP_TELEMETRY: 'false',
    NO_PROXY: '127.0.0.1,localhost',
  };
  const [cmd, app] = l.runtime === 'python' ? [venvPython(l.dir), 'app.py'] : [process.execPath, 'app.cjs'];
  if (l.runtime === 'node') env.APP_NODE_MODULES = npmDir(l.dir);
  const child = spawn(cmd, [join(import.meta.dirname, app), l.runtime === 'python' ? l.lib : l.dir, planFile], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => { stdout += c.toString(); });
  child.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  clearTimeout(timer);
  rmSync(work, { recursive: true, force: true });
  if (code !== 0) throw new Error(`${l.lib} app exited ${code}:\n${stderr.slice(-3000)}`);
  return stdout.split('\n').filter((x) => x.startsWith('{')).map((x) => JSON.parse(x) as AppOutcome);
}
