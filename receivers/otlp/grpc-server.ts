import type * as grpc from '@grpc/grpc-js';
import { Metadata } from '@grpc/grpc-js';
import { settledWithin } from '../../core/settle.js';
import { readServerTls } from '../../core/tls.js';
import { grpcPeerKey } from './clients.js';
import { encodeStatus, GrpcCode, type Signal } from './codec/codec.js';
import type { GrpcConfig } from './config.js';
import type { BoundAddress } from './endpoint.js';
import { failure, type ExportFailure } from './export-handler.js';
import { GrpcListener, serverOptions, type GrpcTarget } from './grpc-listener.js';
import { inFlightFull } from './in-flight.js';
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
    const options = serverOptions(this.config);
    const pem = this.config.tls && readServerTls(this.config.tls, this.deps.configDir);
    const fingerprint = GrpcListener.fingerprint(options, pem);
    const kept = this.deps.handoff.take(this.handoffKey);
    if (kept instanceof GrpcListener && kept.fingerprint === fingerprint) {
      kept.relay.attach(this);
      this.listener = kept;
    } else {
      if (kept instanceof GrpcListener) {
        this.deps.logger.info('gRPC options or certificate changed: rebinding the endpoint', { endpoint: this.config.endpoint });
        await kept.close(0);
      }
      this.listener = await GrpcListener.open(this.config.endpoint, options, pem, this, this.deps.logger);
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
    const arrived = performance.now();
    const { handler, auth, inFlight, clients, metrics } = this.deps;
    const refuse = (f: ExportFailure): ExportFailure => handler.refuse('grpc', signal, f);
    if (this.closing) return refuse(failure('shutting_down', GrpcCode.UNAVAILABLE, 503, 'receiver is shutting down, retry later', this.deps.retryAfterSeconds));
    if (auth !== null && !auth(metadataValue(call.metadata, 'authorization'))) {
      return refuse(failure('unauthenticated', GrpcCode.UNAUTHENTICATED, 401, 'missing or invalid bearer token'));
    }
    const address = grpcPeerKey(call.getPeer());
    const client = clients.startRequest(address);
    if (client === null) {
      return refuse(failure('client_request_limit', GrpcCode.UNAVAILABLE, 503, `this client has ${clients.limits.maxRequests} calls open, retry later`, this.deps.retryAfterSeconds));
    }
    const body = call.request;
    const refused = inFlight.tryAcquire(body.length, client);
    if (refused !== null) {
      clients.endRequest(client);
      return refuse(inFlightFull(refused, this.deps.retryAfterSeconds));
    }
    const labels = { receiver: this.deps.receiverId, transport: 'grpc', signal } as const;
    try {
      metrics.requestSize.observe(labels, body.length);
      const request = { client: address, arrivedMs: arrived, deadlineMs: deadlineOf(call), gone: () => call.cancelled };
      const outcome = await handler.handle('grpc', signal, body, 'protobuf', (name) => metadataValue(call.metadata, name), request);
      return outcome.ok ? outcome.body : outcome.error;
    } finally {
      inFlight.release(body.length, client);
      clients.endRequest(client);
      metrics.latency.observe(labels, Number(process.hrtime.bigint() - started) / 1e9);
    }
  }
}

/** The call's deadline on performance.now()'s clock; undefined when the client set none. */
function deadlineOf(call: grpc.ServerUnaryCall<Buffer, Buffer>): number | undefined {
  const d = call.getDeadline();
  const epochMs = d instanceof Date ? d.getTime() : d;
  return Number.isFinite(epochMs) ? epochMs - Date.now() + performance.now() : undefined;
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
