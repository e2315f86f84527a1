/**
 * The OpenTelemetry GenAI instrumentation libraries the sources e2e drives: Python ones pinned in
 * requirements/<lib>.txt (installed into .venv/sources-<lib>, run by app.py), npm ones pinned by
 * npm/<dir>/package-lock.json (installed into .tools/sources/<dir>, run by app.cjs); which SDKs
 * each instruments, and the version the fixtures are captured from.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const REPO_ROOT = join(import.meta.dirname, '../../..');

export type Sdk = 'anthropic' | 'openai' | 'bedrock';

export interface Library {
  /** Fixture folder and results name. */
  lib: string;
  runtime: 'python' | 'node';
  /** The venv (`.venv/sources-<dir>`) or npm install dir (`.tools/sources/<dir>`). */
  dir: string;
  /** The package that is the instrumentation, whose pinned version names the fixture folder. */
  pkg: string;
  /** The SDKs the app calls, each with the package that instruments it. */
  instruments: Partial<Record<Sdk, string>>;
  /**
   * Whether the end user and session the app sets around its calls (app.py, call_context) reach
   * the spans: OpenInference's using_attributes and Logfire's set_baggage do; plain W3C baggage is
   * copied onto spans by none of the others.
   */
  contextAttributes: boolean;
}

const py = (lib: string, pkg: string, instruments: Library['instruments'], contextAttributes = false): Library => ({ lib, runtime: 'python', dir: lib, pkg, instruments, contextAttributes });
const node = (lib: string, dir: string, pkg: string): Library => ({ lib, runtime: 'node', dir, pkg, instruments: { anthropic: pkg }, contextAttributes: false });

export const LIBRARIES: Library[] = [
  py('openllmetry', 'opentelemetry-instrumentation-anthropic', {
    anthropic: 'opentelemetry-instrumentation-anthropic', openai: 'opentelemetry-instrumentation-openai', bedrock: 'opentelemetry-instrumentation-bedrock',
  }),
  py('openinference', 'openinference-instrumentation-anthropic', { anthropic: 'openinference-instrumentation-anthropic', openai: 'openinference-instrumentation-openai' }, true),
  py('openlit', 'openlit', { anthropic: 'openlit', openai: 'openlit', bedrock: 'openlit' }),
  py('logfire', 'logfire', { anthropic: 'logfire', openai: 'logfire' }, true),
  py('otel-genai', 'opentelemetry-instrumentation-openai-v2', { openai: 'opentelemetry-instrumentation-openai-v2' }),
  node('openllmetry-js', 'traceloop', '@traceloop/instrumentation-anthropic'),
  node('openinference-js', 'openinference', '@arizeai/openinference-instrumentation-anthropic'),
];

export function sdksOf(l: Library): Sdk[] {
  return Object.keys(l.instruments) as Sdk[];
}

/** The SDK package of each plan SDK, by runtime. */
export const SDK_PACKAGES: Record<Library['runtime'], Partial<Record<Sdk, string>>> = {
  python: { anthropic: 'anthropic', openai: 'openai', bedrock: 'boto3' },
  node: { anthropic: '@anthropic-ai/sdk' },
};

export function venvPython(dir: string): string {
  return join(REPO_ROOT, '.venv', `sources-${dir}`, 'bin', 'python');
}

export function npmDir(dir: string): string {
  return join(REPO_ROOT, '.tools', 'sources', dir);
}

export function installed(l: Pick<Library, 'runtime' | 'dir'>): boolean {
  return l.runtime === 'python' ? existsSync(venvPython(l.dir)) : existsSync(join(npmDir(l.dir), 'node_modules'));
}

/** Every exactly pinned package of a library's lock file, name → version. */
function pins(l: Pick<Library, 'runtime' | 'dir'>): Map<string, string> {
  const out = new Map<string, string>();
  if (l.runtime === 'python') {
    const lock = readFileSync(join(REPO_ROOT, 'test/e2e/sources/requirements', `${l.dir}.txt`), 'utf8');
    for (const m of lock.matchAll(/^([a-z0-9_.-]+)==(\S+)/gim)) out.set(m[1].toLowerCase(), m[2]);
  } else {
    const lock = JSON.parse(readFileSync(join(REPO_ROOT, 'test/e2e/sources/npm', l.dir, 'package-lock.json'), 'utf8')) as { packages: Record<string, { version?: string }> };
    for (const [path, p] of Object.entries(lock.packages)) if (path.startsWith('node_modules/') && p.version) out.set(path.slice('node_modules/'.length), p.version);
  }
  return out;
}

/** The pinned version of a package in the library's lock file. */
export function pinnedVersion(l: Pick<Library, 'runtime' | 'dir'>, pkg: string): string {
  const v = pins(l).get(pkg.toLowerCase());
  if (v === undefined) throw new Error(`the lock file of ${l.dir} pins no ${pkg}`);
  return v;
}

/** The versions of the packages that shape the telemetry: the instrumentations and the SDKs. */
export function versionsOf(l: Library): Record<string, string> {
  const all = pins(l);
  const out: Record<string, string> = {};
  for (const p of [...Object.values(l.instruments), ...sdksOf(l).map((s) => SDK_PACKAGES[l.runtime][s]!)]) out[p] = all.get(p.toLowerCase()) ?? '';
  return out;
}
