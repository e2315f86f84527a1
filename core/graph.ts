import type { Batch } from './batch.js';
import type { ComponentContext, Consumer, Exporter, Factory, Lifecycle, Processor, Receiver } from './component.js';
import { componentType, SECTION_KIND, type PipelineConfig, type PipelineSpec, type Section } from './config/types.js';
import { isRetryable } from './errors.js';

type BaseContext = Omit<ComponentContext, 'id'>;

/**
 * The running components of one configuration, wired as its pipelines say: each receiver feeds
 * every pipeline that names it; a pipeline runs its processors in order, then fans out to all its
 * exporters and resolves only when every one of them has accepted the batch.
 */
export class Graph {
  readonly receivers = new Map<string, Receiver>();
  readonly processors = new Map<string, Processor>();
  readonly exporters = new Map<string, Exporter>();
  private started: [string, Lifecycle][] = [];

  constructor(readonly config: PipelineConfig, factories: readonly Factory[], base: BaseContext) {
    const factoryFor = (section: Section, id: string): Factory => {
      const kind = SECTION_KIND[section];
      const f = factories.find((x) => x.kind === kind && x.type === componentType(id));
      if (!f) throw new Error(`no ${kind} factory for '${id}'`); // validation guarantees one exists
      return f;
    };
    const ctx = (kind: string, id: string): ComponentContext => ({ ...base, id, logger: base.logger.child({ component: id, kind }) });

    const used = (section: Section) => new Set(Object.values(config.service.pipelines).flatMap((p) => p[section]));
    for (const id of used('exporters')) {
      const f = factoryFor('exporters', id);
      if (f.kind === 'exporter') this.exporters.set(id, f.create(config.exporters[id], ctx('exporter', id)));
    }
    for (const id of used('processors')) {
      const f = factoryFor('processors', id);
      if (f.kind === 'processor') this.processors.set(id, f.create(config.processors[id], ctx('processor', id)));
    }
    for (const id of used('receivers')) {
      const pipelines = Object.values(config.service.pipelines).filter((p) => p.receivers.includes(id)).map((p) => this.pipelineConsumer(p));
      const f = factoryFor('receivers', id);
      if (f.kind === 'receiver') this.receivers.set(id, f.create(config.receivers[id], { ...ctx('receiver', id), next: fanOut(pipelines) }));
    }
  }

  /** Exporters first, then processors, then receivers, so that nothing is accepted before it can be delivered. */
  async start(): Promise<void> {
    for (const group of [this.exporters, this.processors, this.receivers]) {
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

  /** Reverse order: receivers stop accepting and drain, then processors, then exporters flush. */
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

  private pipelineConsumer(spec: PipelineSpec): Consumer {
    const processors = spec.processors.map((id) => this.processors.get(id)!);
    const exporters = spec.exporters.map((id) => this.exporters.get(id)!);
    return {
      consume: async (batch: Batch) => {
        let b = batch;
        for (const p of processors) b = await p.process(b);
        await allAccepted(exporters.map((e) => e.consume(b)));
      },
    };
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
