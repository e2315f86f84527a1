import type { Registry } from 'prom-client';
import type { Batch } from './batch.js';
import type { PathSegment } from './config/yaml-source.js';
import type { Logger } from './logger.js';
import type { MetricSpecs } from './metric-spec.js';
import type { Handoff } from './handoff.js';
import type { Capabilities, Host } from './host.js';
import type { SelfMetrics } from './self-metrics.js';

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
   * duplicate of data never stored. Called in reverse pipeline order, each awaited before the next
   * and before the client is answered (a shared store must have let go before the re-send arrives,
   * at any replica); must not throw nor reject.
   */
  abandon?(output: Batch): void | Promise<void>;
}

export interface Exporter extends Lifecycle, Consumer {}

/**
 * Runs beside the pipelines, not in them (the collector's extensions): a poller, an API. Started
 * after the exporters, so that their capabilities (ctx.host) are there, and stopped before them.
 */
export interface Extension extends Lifecycle {}

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
  /** The pipeline a processor instance belongs to (processors are built per pipeline); unset for receivers and exporters. */
  pipeline?: string;
  /**
   * For a processor: whether a later processor or an exporter of its pipeline reads telemetry
   * (FactoryBase.readsTelemetry). One that turns telemetry into records passes it on only then, so
   * that decoded spans otherwise die young instead of living until every exporter acknowledged.
   */
  telemetryAfter?: boolean;
}

export interface ReceiverContext extends ComponentContext {
  /** Everything downstream: the pipelines this receiver feeds. Resolves when all accepted. */
  next: Consumer;
  /** Carries listening sockets across a reload: leave yours on shutdown, take the previous one on start. */
  handoff: Handoff;
}

/** A problem a component's validate step found, at a path inside the component's own block. */
export interface ConfigProblem {
  path: readonly PathSegment[];
  message: string;
}

/**
 * Another component this one uses, named in its config (e.g. the budget exporter's `ledger`):
 * validated at load (declared, used by a pipeline, offering `capability`) and started before it.
 */
export interface ComponentNeed {
  section: 'receivers' | 'processors' | 'exporters';
  id: string;
  /** Where the id is written, inside the component's own block (for the diagnostic). */
  path: readonly PathSegment[];
  /** What the other component must offer on the host. */
  capability?: keyof Capabilities;
}

/** What a validate step may look at besides the config: where relative paths resolve, the environment create() will see. */
export interface ValidateContext {
  id: string;
  configDir: string;
  env: NodeJS.ProcessEnv;
}

interface FactoryBase<C> {
  type: string;
  /** JSON Schema (draft-07) of this component's config block. Must set additionalProperties: false. */
  schema: Record<string, unknown>;
  defaults: C;
  /** Every self-metric the component makes (its `metrics.ts`), for the generated reference. */
  metrics?: MetricSpecs;
  /**
   * Metrics that are the component's output rather than its health (the Prometheus exporter's spend
   * metrics), documented in a table of their own; `commonLabels` says which labels each carries
   * before the ones its spec lists (e.g. labels set by the config).
   */
  dataMetrics?: { commonLabels: string; specs: MetricSpecs };
  /**
   * Every check the schema cannot express (the collector's `Config.Validate()`), run at load on a
   * schema-valid, defaulted block: `validate`, `run`, `process` and a reload share its verdict, so
   * create() and start() may rely on what it accepts. No side effects; it may read files the config names.
   */
  validate?(config: C, ctx: ValidateContext): ConfigProblem[];
  /** The components an instance uses (see ComponentNeed); the graph starts them first. */
  needs?(config: C): ComponentNeed[];
  /** Capabilities every instance offers on the host, checked against a ComponentNeed's `capability`. */
  provides?: readonly (keyof Capabilities)[];
  /**
   * For processors and exporters: whether an instance reads the telemetry of the batches it gets,
   * not only their records. Absent means it does. The graph tells each processor whether anything
   * after it does (ComponentContext.telemetryAfter).
   */
  readsTelemetry?: boolean | ((config: C) => boolean);
  /**
   * Checks across the instances of this type that pipelines use (one process, one registry, one
   * embedded database...): each problem names the instance it is reported at.
   */
  validateInstances?(instances: { id: string; config: C }[], ctx: Omit<ValidateContext, 'id'>): (ConfigProblem & { id: string })[];
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

export interface ExtensionFactory<C = any> extends FactoryBase<C> {
  kind: 'extension';
  create(config: C, ctx: ComponentContext): Extension;
}

export type Factory = ReceiverFactory | ProcessorFactory | ExporterFactory | ExtensionFactory;
