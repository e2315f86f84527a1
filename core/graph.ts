import type { Batch } from './batch.js';
import type { ComponentContext, Consumer, Exporter, Extension, Factory, Lifecycle, Processor, Receiver } from './component.js';
import { componentType, SECTION_KIND, type ComponentSection, type PipelineConfig } from './config/types.js';
import { isRetryable } from './errors.js';
import type { Handoff } from './handoff.js';
import type { Host } from './host.js';
import { startOrder } from './needs.js';

type BaseContext = Omit<ComponentContext, 'id'> & { handoff: Handoff };

/** One pipeline's own processor instances, in the order the pipeline runs them. */
export interface PipelineProcessors {
  pipeline: string;
  processors: [id: string, processor: Processor][];
}

/**
 * The running components of one configuration, wired as its pipelines say, as the OpenTelemetry
 * Collector wires them: receivers and exporters are one instance per id, shared by the pipelines
 * that name them; processors are built once per pipeline, since they keep state (the normalizer's
 * join index) that must see each copy of the data once, not a second pipeline's copy as a re-send.
 * Each receiver feeds every pipeline that names it; a pipeline runs its processors in order, then
 * fans out to all its exporters and resolves only when every one of them has accepted the batch;
 * if one did not, its processors abandon the batch (Processor.abandon) before the client is told.
 */
export class Graph {
  readonly receivers = new Map<string, Receiver>();
  readonly pipelines: PipelineProcessors[] = [];
  readonly exporters = new Map<string, Exporter>();
  readonly extensions = new Map<string, Extension>();
  private started: [string, Lifecycle][] = [];
  /** Capabilities and admin routes the components of this graph offer. */
  readonly host: Host;

  constructor(readonly config: PipelineConfig, private readonly factories: readonly Factory[], base: BaseContext) {
    this.host = base.host;
    const factoryFor = (section: ComponentSection, id: string): Factory => {
      const kind = SECTION_KIND[section];
      const f = factories.find((x) => x.kind === kind && x.type === componentType(id));
      if (!f) throw new Error(`no ${kind} factory for '${id}'`); // validation guarantees one exists
      return f;
    };
    const ctx = (kind: string, id: string): ComponentContext => ({ ...base, id, logger: base.logger.child({ component: id, kind }) });
    const pipelines = Object.entries(config.service.pipelines);

    for (const id of new Set(pipelines.flatMap(([, p]) => p.exporters))) {
      const f = factoryFor('exporters', id);
      if (f.kind === 'exporter') this.exporters.set(id, f.create(config.exporters[id], ctx('exporter', id)));
    }
    for (const id of config.service.extensions) {
      const f = factoryFor('extensions', id);
      if (f.kind === 'extension') this.extensions.set(id, f.create(config.extensions[id], ctx('extension', id)));
    }
    const consumers = new Map<string, Consumer>();
    const reads = (section: 'processors' | 'exporters', id: string): boolean => {
      const r = factoryFor(section, id).readsTelemetry;
      return typeof r === 'function' ? r(config[section][id]) : r ?? true;
    };
    for (const [pipeline, spec] of pipelines) {
      const own: PipelineProcessors = { pipeline, processors: [] };
      for (const [i, id] of spec.processors.entries()) {
        const f = factoryFor('processors', id);
        if (f.kind !== 'processor') continue;
        const telemetryAfter = spec.processors.slice(i + 1).some((p) => reads('processors', p)) || spec.exporters.some((e) => reads('exporters', e));
        own.processors.push([id, f.create(config.processors[id], {
          ...base, id, pipeline, telemetryAfter, logger: base.logger.child({ component: id, kind: 'processor', pipeline }), metrics: base.metrics.labelled({ pipeline }),
        })]);
      }
      this.pipelines.push(own);
      consumers.set(pipeline, pipelineConsumer(own.processors.map(([, p]) => p), spec.exporters.map((id) => this.exporters.get(id)!)));
    }
    for (const id of new Set(pipelines.flatMap(([, p]) => p.receivers))) {
      const next = fanOut(pipelines.filter(([, p]) => p.receivers.includes(id)).map(([name]) => consumers.get(name)!));
      const f = factoryFor('receivers', id);
      if (f.kind === 'receiver') this.receivers.set(id, f.create(config.receivers[id], { ...ctx('receiver', id), handoff: base.handoff, next }));
    }
  }

  /**
   * Exporters first, then extensions (which may use the exporters' capabilities), processors, and
   * receivers last, so that nothing is accepted before it can be delivered; within each, a component
   * after those it names (FactoryBase.needs).
   */
  async start(): Promise<void> {
    const exporters = startOrder(this.config, this.factories, 'exporters', [...this.exporters.keys()]).map((id) => [id, this.exporters.get(id)!] as const);
    const receivers = startOrder(this.config, this.factories, 'receivers', [...this.receivers.keys()]).map((id) => [id, this.receivers.get(id)!] as const);
    const processors = this.pipelines.flatMap(({ pipeline, processors: list }) => {
      const byId = new Map(list);
      return startOrder(this.config, this.factories, 'processors', list.map(([id]) => id)).map((id) => [`${id} (pipeline ${pipeline})`, byId.get(id)!] as const);
    });
    for (const group of [exporters, [...this.extensions], processors, receivers]) {
      for (const [id, component] of group) {
        try {
          await component.start?.();
        } catch (err) {
          throw new Error(`${id} failed to start: ${(err as Error).message}`, { cause: err });
        }
        this.started.push([id, component]);
      }
    }
  }

  /** Reverse order: receivers stop accepting and drain, then processors, extensions, and exporters flush last. */
  async shutdown(onError: (id: string, err: unknown) => void): Promise<void> {
    for (const [id, component] of this.started.reverse()) {
      try {
        await component.shutdown?.();
      } catch (err) {
        onError(id, err);
      }
    }
    this.started = [];
  }
}

function pipelineConsumer(processors: Processor[], exporters: Exporter[]): Consumer {
  return {
    // The first processor runs outside deliver()'s async frame: that frame lives until every
    // exporter acknowledged (a disk queue's fsync), and holding the decoded telemetry that long
    // promotes it to V8's old generation, where it costs a major collection instead of dying young.
    consume: (batch: Batch) => {
      if (processors.length === 0) return deliver([], exporters, batch);
      let first: Batch | Promise<Batch>;
      try {
        first = processors[0].process(batch);
      } catch (err) {
        return Promise.reject(err);
      }
      return deliver(processors, exporters, first);
    },
  };
}

/** The rest of a pipeline after its first processor returned `first`. */
async function deliver(processors: Processor[], exporters: Exporter[], first: Batch | Promise<Batch>): Promise<void> {
  const done: [Processor, Batch][] = [];
  try {
    let b = await first;
    if (processors.length > 0) done.push([processors[0], b]);
    for (let i = 1; i < processors.length; i++) {
      b = await processors[i].process(b);
      done.push([processors[i], b]);
    }
    await allAccepted(exporters.map((e) => e.consume(b)));
  } catch (err) {
    // Not delivered everywhere: the client re-sends, and each processor must see that as new.
    for (const [p, output] of done.reverse()) await p.abandon?.(output);
    throw err;
  }
}

function fanOut(consumers: Consumer[]): Consumer {
  if (consumers.length === 1) return consumers[0];
  return { consume: (batch) => allAccepted(consumers.map((c) => c.consume(batch))) };
}

/**
 * Waits for every consumer, then fails if any did. A retryable failure wins over a permanent one:
 * the client's retry is then deduplicated downstream by call_id, while a permanent answer would lose
 * the data that the failing consumer could have taken later.
 */
async function allAccepted(pending: Promise<void>[]): Promise<void> {
  const results = await Promise.allSettled(pending);
  const failures = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => r.reason as unknown);
  if (failures.length) throw failures.find(isRetryable) ?? failures[0];
}
