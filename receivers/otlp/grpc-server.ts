import type * as grpc from '@grpc/grpc-js';
import { Metadata } from '@grpc/grpc-js';
import { settledWithin } from '../../core/settle.js';
import { encodeStatus, GrpcCode, type Signal } from './codec.js';
import type { GrpcConfig } from './config.js';
import type { BoundAddress } from './endpoint.js';
import { failure, type ExportFailure } from './export-handler.js';
import { GrpcListener, type GrpcTarget } from './grpc-listener.js';
import type { TransportDeps } from './transport-deps.js';

/**
 * OTLP/gRPC with @grpc/grpc-js: the three Export services (gzip request compression is built in).
 * The bound server is a GrpcListener, handed to the next receiver when a reload keeps the endpoint.
 */
export class OtlpGrpcServer implements GrpcTarget {
  private listener?: GrpcListener;
  /** Calls in flight, each with a way to answer it at once when the drain times out. */
  private readonly active = new Map<Promise<void>, () => void>();
  private closing = false;

  constructor(private readonly config: GrpcConfig, private readonly deps: TransportDeps) {}

  /** Takes over the previous receiver's server when a reload kept its endpoint, options and certificate; else binds. */
  async start(): Promise<BoundAddress> {
    // Read before taking the server over, so that an unreadable certificate leaves it to the rollback.
    const fingerprint = GrpcListener.fingerprint(this.config, this.deps.configDir);
    const kept = this.deps.handoff.take(this.handoffKey);
    if (kept instanceof GrpcListener && kept.fingerprint === fingerprint) {
      kept.relay.attach(this);
      this.listener = kept;
    } else {
      if (kept instanceof GrpcListener) {
        this.deps.logger.info('gRPC options or certificate changed: rebinding the endpoint', { endpoint: this.config.endpoint });
        await kept.close(0);
      }
      this.listener = await GrpcListener.open(this.config, this.deps.configDir, this);
    }
    return this.listener.address;
  }

  /**
   * On a reload, hands the server over: calls arriving from now on wait for the next receiver,
   * those in flight finish here (up to `timeoutMs`, then are answered UNAVAILABLE so that the client
   * sends again). On a stop: refuses new calls, lets calls in flight finish (up to `timeoutMs`),
   * then closes every connection.
   */
  async close(timeoutMs: number): Promise<void> {
    const listener = this.listener;
    if (!listener) return;
    this.listener = undefined;
    if (this.deps.handoff.leave(this.handoffKey, listener, async () => { await listener.close(0); })) {
      listener.relay.detach(this);
      if (!(await settledWithin(this.active.keys(), timeoutMs))) {
        this.deps.logger.warn('gRPC drain timed out; answering calls still in flight with UNAVAILABLE', { calls: this.active.size });
        for (const cutOff of this.active.values()) cutOff();
      }
      return;
    }
    this.closing = true;
    if (!(await listener.close(timeoutMs))) this.deps.logger.warn('gRPC drain timed out; closing connections with calls still in flight');
  }

  accept(signal: Signal, call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>): void {
    let answered = false;
    const answer: grpc.sendUnaryData<Buffer> = (err, value) => {
      if (answered) return;
      answered = true;
      callback(err, value);
    };
    const done = this.export(signal, call).then(
      (result) => (result instanceof Uint8Array ? answer(null, Buffer.from(result.buffer, result.byteOffset, result.byteLength)) : answer(statusOf(result))),
      (err: unknown) => {
        this.deps.logger.error('OTLP/gRPC request failed unexpectedly', { err });
        answer({ code: GrpcCode.INTERNAL, details: 'internal error' });
      },
    ).finally(() => this.active.delete(done));
    this.active.set(done, () => answer(statusOf(this.deps.handler.refuse('grpc', signal,
      failure('shutting_down', GrpcCode.UNAVAILABLE, 503, 'receiver drain timed out, retry later', this.deps.retryAfterSeconds)))));
  }

  refuseWaiting(signal: Signal, callback: grpc.sendUnaryData<Buffer>): void {
    callback(statusOf(this.deps.handler.refuse('grpc', signal,
      failure('reload_timeout', GrpcCode.UNAVAILABLE, 503, 'receiver is reloading its pipeline, retry later', this.deps.retryAfterSeconds))));
  }

  private get handoffKey(): string {
    return `otlp/grpc ${this.config.endpoint}`;
  }

  private async export(signal: Signal, call: grpc.ServerUnaryCall<Buffer, Buffer>): Promise<Uint8Array | ExportFailure> {
    const started = process.hrtime.bigint();
    const { handler, auth, inFlight, metrics } = this.deps;
    const refuse = (f: ExportFailure): ExportFailure => handler.refuse('grpc', signal, f);
    if (this.closing) return refuse(failure('shutting_down', GrpcCode.UNAVAILABLE, 503, 'receiver is shutting down, retry later', this.deps.retryAfterSeconds));
    if (auth !== null && !auth(metadataValue(call.metadata, 'authorization'))) {
      return refuse(failure('unauthenticated', GrpcCode.UNAUTHENTICATED, 401, 'missing or invalid bearer token'));
    }
    const body = call.request;
    if (!inFlight.tryAcquire(body.length)) {
      return refuse(failure('in_flight_limit', GrpcCode.UNAVAILABLE, 503, 'too much data in flight, retry later', this.deps.retryAfterSeconds));
    }
    const labels = { receiver: this.deps.receiverId, transport: 'grpc', signal } as const;
    try {
      metrics.requestSize.observe(labels, body.length);
      const outcome = await handler.handle('grpc', signal, body, 'protobuf', (name) => metadataValue(call.metadata, name));
      return outcome.ok ? outcome.body : outcome.error;
    } finally {
      inFlight.release(body.length);
      metrics.latency.observe(labels, Number(process.hrtime.bigint() - started) / 1e9);
    }
  }
}

function metadataValue(md: grpc.Metadata, name: string): string | undefined {
  const values = md.get(name).filter((v): v is string => typeof v === 'string');
  return values.length === 0 ? undefined : values.join(',');
}

/** The gRPC error, with a google.rpc.Status (carrying RetryInfo when there is a delay) in `grpc-status-details-bin`. */
function statusOf(f: ExportFailure): Partial<grpc.StatusObject> {
  const metadata = new Metadata();
  metadata.set('grpc-status-details-bin', Buffer.from(encodeStatus('protobuf', f.code, f.message, f.retryAfterSeconds)));
  return { code: f.code, details: f.message, metadata };
}
