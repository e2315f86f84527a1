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
  sdks: Sdk[];
}

export const LIBRARIES: Library[] = [
  { lib: 'openllmetry', pkg: 'opentelemetry-instrumentation-anthropic', sdks: ['anthropic', 'openai', 'bedrock'] },
  { lib: 'openinference', pkg: 'openinference-instrumentation-anthropic', sdks: ['anthropic', 'openai'] },
  { lib: 'openlit', pkg: 'openlit', sdks: ['anthropic', 'openai', 'bedrock'] },
  { lib: 'logfire', pkg: 'logfire', sdks: ['anthropic', 'openai'] },
  { lib: 'otel-genai', pkg: 'opentelemetry-instrumentation-openai-v2', sdks: ['openai'] },
];

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
  for (const m of lock.matchAll(/^([a-z0-9_.-]+)==(\S+)/gim)) {
    if (/^(openinference-instrumentation|opentelemetry-instrumentation-(anthropic|openai|bedrock|openai-v2)|openlit|logfire|anthropic|openai|boto3)$/.test(m[1])) out[m[1]] = m[2];
  }
  return out;
}
