/**
 * The OpenTelemetry GenAI instrumentation libraries the sources e2e drives, each pinned in
 * requirements/<lib>.txt (Python, .venv/sources-<lib>) and run by app.py: which SDKs each
 * instruments, and the version of the library the fixtures are captured from.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const REPO_ROOT = join(import.meta.dirname, '../../..');

export type Sdk = 'anthropic' | 'openai' | 'bedrock';

export interface Library {
  /** Folder and venv name. */
  lib: string;
  /** The PyPI package that is the instrumentation, whose pinned version names the fixture folder. */
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

export const LIBRARIES: Library[] = [
  {
    lib: 'openllmetry', pkg: 'opentelemetry-instrumentation-anthropic',
    instruments: { anthropic: 'opentelemetry-instrumentation-anthropic', openai: 'opentelemetry-instrumentation-openai', bedrock: 'opentelemetry-instrumentation-bedrock' },
    contextAttributes: false,
  },
  {
    lib: 'openinference', pkg: 'openinference-instrumentation-anthropic',
    instruments: { anthropic: 'openinference-instrumentation-anthropic', openai: 'openinference-instrumentation-openai' }, contextAttributes: true,
  },
  { lib: 'openlit', pkg: 'openlit', instruments: { anthropic: 'openlit', openai: 'openlit', bedrock: 'openlit' }, contextAttributes: false },
  { lib: 'logfire', pkg: 'logfire', instruments: { anthropic: 'logfire', openai: 'logfire' }, contextAttributes: true },
  { lib: 'otel-genai', pkg: 'opentelemetry-instrumentation-openai-v2', instruments: { openai: 'opentelemetry-instrumentation-openai-v2' }, contextAttributes: false },
];

export function sdksOf(l: Library): Sdk[] {
  return Object.keys(l.instruments) as Sdk[];
}

/** The SDK packages, by plan SDK. */
export const SDK_PACKAGES: Record<Sdk, string> = { anthropic: 'anthropic', openai: 'openai', bedrock: 'boto3' };

export function venvPython(lib: string): string {
  return join(REPO_ROOT, '.venv', `sources-${lib}`, 'bin', 'python');
}

export function installed(lib: string): boolean {
  return existsSync(venvPython(lib));
}

/** The pinned version of a package in the library's lock file. */
export function pinnedVersion(lib: string, pkg: string): string {
  const lock = readFileSync(join(REPO_ROOT, 'test/e2e/sources/requirements', `${lib}.txt`), 'utf8');
  const m = new RegExp(`^${pkg.replace(/[-.]/g, '[-_.]')}==(\\S+)`, 'mi').exec(lock);
  if (!m) throw new Error(`test/e2e/sources/requirements/${lib}.txt pins no ${pkg}`);
  return m[1];
}

/** The versions of the packages that shape the telemetry, as the compatibility matrix shows them. */
export function versionsOf(l: Library): Record<string, string> {
  const lock = readFileSync(join(REPO_ROOT, 'test/e2e/sources/requirements', `${l.lib}.txt`), 'utf8');
  const out: Record<string, string> = {};
  const wanted = new Set<string>([...Object.values(l.instruments), ...sdksOf(l).map((s) => SDK_PACKAGES[s])]);
  for (const m of lock.matchAll(/^([a-z0-9_.-]+)==(\S+)/gim)) if (wanted.has(m[1])) out[m[1]] = m[2];
  return out;
}
