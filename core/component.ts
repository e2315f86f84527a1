import type { Registry } from 'prom-client';
import type { Batch } from './batch.js';
import type { Logger } from './logger.js';
import type { Handoff } from './handoff.js';
import type { Host } from './host.js';
import type { SelfMetrics } from './self-metrics.js';

export type ComponentKind = 'receiver' | 'processor' | 'exporter';

/** Anything with a lifecycle. start() may bind ports or open files; shutdown() drains and releases them. */
export interface Lifecycle {
  start?(): Promise<void>;
  shutdown?(): Promise<void>;
}

/** Takes a batch and resolves once it is safely accepted (for an exporter: queued, or flushed to disk). */
export interface Consumer {
  consume(batch: Batch): Promise<void>;
}

export interface Receiver extends Lifecycle {}

export interface Processor extends Lifecycle {
  process(batch: Batch): Promise<Batch> | Batch;
  /**
   * The pipeline could not deliver `output` (what process() returned): an exporter refused it or a
   * later processor failed, and the client was told so and will re-send. A processor that keeps state
   * (an exactly-once index) takes back what this batch added, so that the re-send is not dropped as a
   * duplicate of data never stored. Called in reverse pipeline order; must not throw.
   */
  abandon?(output: Batch): void;
}

export interface Exporter extends Lifecycle, Consumer {}

export interface ComponentContext {
  /** The id as written in pipeline.yaml: `type` or `type/name`. */
  id: string;
  logger: Logger;
  /** Get-or-create prom-client metrics on the process registry, safe across reloads. */
  metrics: SelfMetrics;
  registry: Registry;
  /** Shared capabilities (e.g. a spend store) that components offer each other without imports. */
  host: Host;
  /** Directory pipeline.yaml lives in; relative paths in component configs resolve against it. */
  configDir: string;
}

export interface ReceiverContext extends ComponentContext {
  /** Everything downstream: the pipelines this receiver feeds. Resolves when all accepted. */
  next: Consumer;
  /** Carries listening sockets across a reload: leave yours on shutdown, take the previous one on start. */
  handoff: Handoff;
}

interface FactoryBase<C> {
  type: string;
  /** JSON Schema (draft-07) of this component's config block. Must set additionalProperties: false. */
  schema: Record<string, unknown>;
  defaults: C;
}

export interface ReceiverFactory<C = any> extends FactoryBase<C> {
  kind: 'receiver';
  create(config: C, ctx: ReceiverContext): Receiver;
}

export interface ProcessorFactory<C = any> extends FactoryBase<C> {
  kind: 'processor';
  create(config: C, ctx: ComponentContext): Processor;
}

export interface ExporterFactory<C = any> extends FactoryBase<C> {
  kind: 'exporter';
  create(config: C, ctx: ComponentContext): Exporter;
}

export type Factory = ReceiverFactory | ProcessorFactory | ExporterFactory;
