import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { Registry } from 'prom-client';
import { factories } from '../components.js';
import { emptyBatch, type Batch } from '../../core/batch.js';
import type { Processor } from '../../core/component.js';
import { ConfigError, formatDiagnostic } from '../../core/config/diagnostic.js';
import { loadConfigFile } from '../../core/config/load.js';
import { componentType } from '../../core/config/types.js';
import { Host } from '../../core/host.js';
import { createLogger } from '../../core/logger.js';
import { SelfMetrics } from '../../core/self-metrics.js';
import { decodeExport, OtlpDecodeError, type Encoding, type Signal } from '../../receivers/otlp/index.js';
import { configErrorExit, EXIT } from '../exit-codes.js';

export interface ProcessOptions {
  config?: string;
  pipeline?: string;
  signal?: Signal;
}

/** The config `run` reads when none is named: `process` uses it too, so both price alike. */
const DEFAULT_CONFIG = 'pipeline.yaml';

/** What runs when no --config is given and there is no ./pipeline.yaml: the shipped processors with their defaults. */
const DEFAULT_PROCESSORS = ['claude-normalizer', 'cost-enrichment'];

/** The processors of one pipeline, in order, and where they came from (for the user). */
export interface ProcessPipeline {
  processors: Processor[];
  origin: string;
}

/**
 * Runs OTLP export files (one Export request each, JSON or protobuf, like the test fixtures)
 * through the configured processors and prints one LlmCall JSON object a line. Files are
 * processed in order through the same processor instances, so joins across files apply.
 */
export async function processCommand(files: string[], opts: ProcessOptions, out: (line: string) => void = (l) => process.stdout.write(l + '\n')): Promise<number> {
  let pipeline: ProcessPipeline;
  try {
    pipeline = await createProcessors(opts);
  } catch (err) {
    if (!(err instanceof ConfigError)) {
      process.stderr.write(`tokenledger process: failed to start the processors: ${(err as Error).message}\n`);
      return EXIT.startFailed;
    }
    for (const d of err.diagnostics) process.stderr.write(formatDiagnostic(d) + '\n');
    return configErrorExit(err);
  }
  process.stderr.write(`tokenledger process: processors of ${pipeline.origin}\n`);
  let failed = 0;
  let calls = 0;
  let updates = 0;
  for (const file of files) {
    let batch: Batch;
    try {
      batch = readExport(file, opts.signal);
    } catch (err) {
      failed++;
      process.stderr.write(`tokenledger process: ${file}: ${(err as Error).message}\n`);
      continue;
    }
    batch = await runProcessors(pipeline.processors, batch);
    for (const call of batch.calls) out(JSON.stringify(call));
    calls += batch.calls.length;
    updates += batch.updates.length;
  }
  for (const p of pipeline.processors) await p.shutdown?.();
  process.stderr.write(`tokenledger process: ${files.length - failed} file(s), ${calls} call record(s), ${updates} merged into earlier records${failed ? `, ${failed} file(s) failed` : ''}\n`);
  return failed ? EXIT.usage : EXIT.ok;
}

export async function runProcessors(processors: readonly Processor[], batch: Batch): Promise<Batch> {
  for (const p of processors) batch = await p.process(batch);
  return batch;
}

/**
 * The processors of `--config`, else of ./pipeline.yaml when it exists (what `run` reads), else the
 * shipped defaults: `process` and `run` in one folder must price with the same overrides.
 */
export async function createProcessors(opts: ProcessOptions): Promise<ProcessPipeline> {
  const logger = createLogger('warn', { command: 'process' });
  const registry = new Registry();
  const base = { metrics: new SelfMetrics(registry), registry, host: new Host() };
  let ids: string[];
  let configs: Record<string, unknown>;
  let configDir = process.cwd();
  let origin: string;
  const file = opts.config ?? (existsSync(DEFAULT_CONFIG) ? DEFAULT_CONFIG : undefined);
  if (file !== undefined) {
    const { config } = loadConfigFile(file, factories);
    configDir = dirname(resolve(file));
    const names = Object.keys(config.service.pipelines);
    const name = opts.pipeline ?? names.find((n) => config.service.pipelines[n].processors.length > 0) ?? names[0];
    const spec = config.service.pipelines[name];
    if (!spec) throw new ConfigError([{ severity: 'error', file, line: 0, col: 0, path: `service.pipelines.${name}`, message: `no pipeline named '${name}'; pipelines: ${names.join(', ')}` }]);
    ids = spec.processors;
    configs = config.processors;
    origin = `${file}, pipeline ${name}: ${ids.join(', ') || 'none'}`;
  } else {
    const defaults = factories.filter((f) => f.kind === 'processor' && DEFAULT_PROCESSORS.includes(f.type));
    ids = defaults.map((f) => f.type);
    configs = Object.fromEntries(defaults.map((f) => [f.type, structuredClone(f.defaults)]));
    origin = `the built-in defaults (no --config, no ./${DEFAULT_CONFIG}): ${ids.join(', ')}`;
  }
  const processors: Processor[] = [];
  for (const id of ids) {
    const factory = factories.find((f) => f.kind === 'processor' && f.type === componentType(id));
    if (factory?.kind !== 'processor') continue;
    const p = factory.create(configs[id], { ...base, id, logger: logger.child({ component: id }), configDir });
    await p.start?.();
    processors.push(p);
  }
  return { processors, origin };
}

/** Signal from --signal, the file name (`001-logs.json`) or the JSON's top-level key; encoding from the content. */
export function readExport(file: string, signal?: Signal): Batch {
  let body: Buffer;
  try {
    body = readFileSync(file);
  } catch (err) {
    throw new Error(`cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const encoding: Encoding = body.subarray(0, 64).toString('latin1').trimStart().startsWith('{') ? 'json' : 'protobuf';
  const sig = signal ?? signalOf(file, body, encoding);
  try {
    return { ...emptyBatch({ receiver: 'process', transport: `file:${encoding}` }), ...decodeExport(sig, body, encoding) };
  } catch (err) {
    if (err instanceof OtlpDecodeError) throw new Error(`not a valid OTLP ${sig} export (${encoding}): ${err.message}`);
    throw err;
  }
}

function signalOf(file: string, body: Buffer, encoding: Encoding): Signal {
  const name = basename(file);
  for (const s of ['traces', 'metrics', 'logs'] as const) if (name.includes(s)) return s;
  if (encoding === 'json') {
    const head = body.subarray(0, 256).toString('utf8');
    if (/resource_?spans/i.test(head)) return 'traces';
    if (/resource_?metrics/i.test(head)) return 'metrics';
    if (/resource_?logs/i.test(head)) return 'logs';
  }
  throw new Error('cannot tell the signal from the file name or content: name it *traces*, *metrics* or *logs*, or pass --signal');
}
