import { dirname, resolve } from 'node:path';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { AdminServer } from './admin-server.js';
import type { Factory } from './component.js';
import { ConfigError, formatDiagnostic } from './config/diagnostic.js';
import { parseDuration } from './config/duration.js';
import { loadConfigFile } from './config/load.js';
import type { PipelineConfig } from './config/types.js';
import { Graph } from './graph.js';
import { Handoff } from './handoff.js';
import { Host } from './host.js';
import { coreMetrics } from './metrics.js';
import { createLogger, type Logger } from './logger.js';
import { SelfMetrics } from './self-metrics.js';
import { settledWithin } from './settle.js';
import { VERSION } from './version.js';

type State = 'stopped' | 'starting' | 'running' | 'reloading' | 'stopping';

/**
 * The process: loads pipeline.yaml, runs its graph, serves the admin endpoints, reloads on demand
 * (SIGHUP) and stops draining (SIGTERM). An invalid new configuration never replaces a running one.
 */
export class Service {
  readonly registry = new Registry();
  readonly metrics = new SelfMetrics(this.registry);
  private readonly configPath: string;
  private graph?: Graph;
  /** Outlives the graphs: carries receivers' listening sockets from one to the next on reload. */
  private readonly handoff = new Handoff();
  private admin?: AdminServer;
  private state: State = 'stopped';
  private reason = 'not started';
  private logger: Logger;
  private readonly own = this.metrics.declare(coreMetrics);

  constructor(configPath: string, private readonly factories: readonly Factory[], private readonly env: NodeJS.ProcessEnv = process.env) {
    this.configPath = resolve(configPath);
    this.logger = createLogger('info', { service: 'tokenledger' });
    collectDefaultMetrics({ register: this.registry });
    this.own.buildInfo.set({ version: VERSION }, 1);
  }

  /** Loads and starts the configuration. Throws ConfigError for an invalid file, Error when a component cannot start. */
  async start(): Promise<void> {
    this.setState('starting', 'starting components');
    const config = this.load();
    this.admin = new AdminServer(config.service.telemetry.admin, dirname(this.configPath), this.registry, () => this.readiness(), () => this.graph?.host.adminRoutes, this.logger, this.env);
    await this.admin.start();
    await this.run(config);
    this.setState('running', '');
  }

  /**
   * A stray promise rejection inside a component must not take the whole pipeline (and what it
   * has in memory) down: it is logged and counted, and the process keeps serving.
   */
  watchUnhandledRejections(): void {
    process.on('unhandledRejection', (reason) => {
      this.own.unhandledRejections.inc();
      this.logger.error('unhandled promise rejection', { err: reason });
    });
  }

  adminAddress(): string {
    return this.admin?.address() ?? '';
  }

  /** Swaps in the configuration on disk. Returns false (and keeps the old pipeline) when it is invalid or fails to start. */
  async reload(): Promise<boolean> {
    if (this.state !== 'running') {
      this.logger.warn('reload ignored', { state: this.state });
      return false;
    }
    let config: PipelineConfig;
    try {
      config = this.load();
    } catch (err) {
      this.own.reloads.inc({ result: 'invalid' });
      this.logger.error('reload refused: the new configuration is invalid; the running pipeline is kept', { file: this.configPath, errors: errorLines(err) });
      return false;
    }
    const old = this.graph!;
    if (JSON.stringify(config.service.telemetry.admin) !== JSON.stringify(old.config.service.telemetry.admin)) {
      this.logger.warn('service.telemetry.admin changed; it takes effect at the next restart');
    }
    this.setState('reloading', 'replacing the pipeline');
    // Receivers whose endpoint stays hand their listening sockets over: clients wait, never find the port closed.
    this.handoff.begin();
    try {
      await this.drain(old, parseDuration(old.config.service.shutdown_timeout));
      try {
        await this.run(config);
        for (const gone of Object.keys(old.config.service.pipelines).filter((p) => !(p in config.service.pipelines))) {
          await this.metrics.removeSeries({ pipeline: gone });
        }
        this.own.reloads.inc({ result: 'ok' });
        this.logger.info('configuration reloaded', { file: this.configPath });
        this.setState('running', '');
        return true;
      } catch (err) {
        this.own.reloads.inc({ result: 'failed' });
        this.logger.error('reload failed to start; restarting the previous configuration', { err });
        await this.run(old.config);
        this.setState('running', '');
        return false;
      }
    } finally {
      await this.handoff.end(this.logger);
    }
  }

  /** Drains and stops everything. Resolves true when it finished within service.shutdown_timeout. */
  async stop(): Promise<boolean> {
    const timeoutMs = this.graph ? parseDuration(this.graph.config.service.shutdown_timeout) : 1000;
    this.setState('stopping', 'shutting down');
    const drained = this.graph ? await this.drain(this.graph, timeoutMs) : true;
    this.graph = undefined;
    await this.admin?.stop();
    this.setState('stopped', 'stopped');
    this.logger.info('stopped', { drained });
    return drained;
  }

  private load(): PipelineConfig {
    const { config, warnings } = loadConfigFile(this.configPath, this.factories, this.env);
    this.logger = createLogger(config.service.telemetry.logs.level, { service: 'tokenledger' });
    for (const w of warnings) this.logger.warn(formatDiagnostic(w));
    return config;
  }

  private async run(config: PipelineConfig): Promise<void> {
    const graph = new Graph(config, this.factories, {
      logger: this.logger, metrics: this.metrics, registry: this.registry, host: new Host(), configDir: dirname(this.configPath), handoff: this.handoff,
    });
    try {
      await graph.start();
    } catch (err) {
      await graph.shutdown((id, e) => this.logger.error('stopping a component after a failed start failed', { component: id, err: e }));
      throw err;
    }
    this.graph = graph;
    this.logger.info('pipeline running', {
      receivers: [...graph.receivers.keys()], pipelines: Object.fromEntries(graph.pipelines.map((p) => [p.pipeline, p.processors.map(([id]) => id)])), exporters: [...graph.exporters.keys()],
      extensions: [...graph.extensions.keys()],
    });
  }

  private async drain(graph: Graph, timeoutMs: number): Promise<boolean> {
    const ok = await settledWithin([graph.shutdown((id, err) => this.logger.error('component failed to stop cleanly', { component: id, err }))], timeoutMs);
    if (!ok) this.logger.error('shutdown timeout exceeded; some data may still be in flight', { timeout_ms: timeoutMs });
    return ok;
  }

  private setState(state: State, reason: string): void {
    this.state = state;
    this.reason = reason;
    this.own.ready.set(state === 'running' ? 1 : 0);
  }

  private readiness(): { ready: boolean; reason: string } {
    return { ready: this.state === 'running', reason: this.state === 'running' ? 'all components started' : this.reason };
  }
}

export function errorLines(err: unknown): string[] {
  return err instanceof ConfigError ? err.diagnostics.map(formatDiagnostic) : [(err as Error).message];
}
