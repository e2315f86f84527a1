import type { Receiver, ReceiverContext } from '../../core/component.js';
import { parseDuration } from '../../core/config/duration.js';
import { createAuthenticator } from '../../core/bearer-auth.js';
import { Admission } from './admission.js';
import { Clients } from './clients.js';
import type { OtlpReceiverConfig } from './config.js';
import type { BoundAddress } from './endpoint.js';
import { ExportHandler } from './export-handler.js';
import { OtlpGrpcServer } from './grpc-server.js';
import { OtlpHttpServer } from './http-server.js';
import { InFlightBytes } from './in-flight.js';
import { otlpReceiverMetrics } from './metrics.js';
import { ThrottledLog } from './throttled-log.js';

const MIB = 1024 * 1024;

/** The OTLP receiver: gRPC and/or HTTP servers sharing one decode path, one in-flight budget and one acknowledgement rule. */
export class OtlpReceiver implements Receiver {
  private readonly grpc?: OtlpGrpcServer;
  private readonly http?: OtlpHttpServer;
  private readonly bound: { grpc?: BoundAddress; http?: BoundAddress } = {};
  private readonly drainMs: number;
  private readonly logger: ReceiverContext['logger'];

  constructor(config: OtlpReceiverConfig, ctx: ReceiverContext, env: NodeJS.ProcessEnv = process.env) {
    const metrics = ctx.metrics.declare(otlpReceiverMetrics);
    const { per_client: perClient, admission } = config;
    const inFlight = new InFlightBytes(Math.floor(config.max_in_flight_mib * MIB), Math.floor(perClient.max_in_flight_mib * MIB), (held) => metrics.inFlight.set({ receiver: ctx.id }, held));
    const clients = new Clients({ maxRequests: perClient.max_requests, maxConnections: perClient.max_connections });
    const retryAfterSeconds = Math.max(1, Math.ceil(parseDuration(config.retry_after) / 1000));
    const headerAttributes = Object.entries(config.headers_to_resource_attributes).map(([h, a]) => [h.toLowerCase(), a] as const);
    const gate = new Admission(admission.max_concurrent_requests, admission.max_queued_requests, (queued) => metrics.queued.set({ receiver: ctx.id }, queued));
    const throttledLog = new ThrottledLog(ctx.logger);
    const handler = new ExportHandler(ctx, metrics, headerAttributes, retryAfterSeconds, gate, parseDuration(admission.max_queue_wait), throttledLog);
    const deps = { handler, auth: createAuthenticator(config.auth, env), inFlight, clients, metrics, logger: ctx.logger, throttledLog, receiverId: ctx.id, configDir: ctx.configDir, retryAfterSeconds, handoff: ctx.handoff };
    if (config.protocols.grpc.enabled) this.grpc = new OtlpGrpcServer(config.protocols.grpc, deps);
    if (config.protocols.http.enabled) this.http = new OtlpHttpServer(config.protocols.http, deps);
    if (!this.grpc && !this.http) throw new Error(`${ctx.id}: protocols.grpc and protocols.http are both disabled; enable at least one`);
    this.drainMs = parseDuration(config.drain_timeout);
    this.logger = ctx.logger;
  }

  async start(): Promise<void> {
    if (this.grpc) this.bound.grpc = await this.grpc.start();
    try {
      if (this.http) this.bound.http = await this.http.start();
    } catch (err) {
      await this.grpc?.close(0);
      throw err;
    }
    this.logger.info('OTLP receiver listening', { grpc: this.bound.grpc, http: this.bound.http });
  }

  /** Where the servers listen (port 0 in the config resolves to the port actually bound). */
  addresses(): { grpc?: BoundAddress; http?: BoundAddress } {
    return { ...this.bound };
  }

  /** Stops accepting, waits for requests in flight to be acknowledged (up to drain_timeout), then closes. */
  async shutdown(): Promise<void> {
    await Promise.all([this.grpc?.close(this.drainMs), this.http?.close(this.drainMs)]);
  }
}
