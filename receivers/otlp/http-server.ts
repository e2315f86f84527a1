import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../../core/logger.js';
import { settledWithin } from '../../core/settle.js';
import { encodeStatus, GrpcCode, type Encoding, type Signal } from './codec.js';
import type { HttpConfig } from './config.js';
import type { BoundAddress } from './endpoint.js';
import { failure, type ExportFailure } from './export-handler.js';
import { readBody, type ContentCoding } from './http-body.js';
import { HttpListener, readTls, type HttpTarget } from './http-listener.js';
import type { TransportDeps } from './transport-deps.js';

const CONTENT_TYPE: Record<Encoding, string> = { protobuf: 'application/x-protobuf', json: 'application/json' };

function encodingOf(contentType: string | undefined): Encoding | null {
  if (contentType === undefined) return null;
  const media = contentType.split(';', 1)[0].trim().toLowerCase();
  if (media === 'application/x-protobuf' || media === 'application/protobuf') return 'protobuf';
  if (media === 'application/json') return 'json';
  return null;
}

function codingOf(header: string | undefined): ContentCoding | null {
  const v = (header ?? '').trim().toLowerCase();
  if (v === '' || v === 'identity') return 'identity';
  if (v === 'gzip' || v === 'x-gzip') return 'gzip';
  if (v === 'deflate') return 'deflate';
  return null;
}

/**
 * OTLP/HTTP on node:http: POST of Export requests to the three signal paths. The listening server
 * is an HttpListener, handed to the next receiver when a reload keeps the endpoint.
 */
export class OtlpHttpServer implements HttpTarget {
  private listener?: HttpListener;
  private readonly routes: Map<string, Signal>;
  private readonly maxBytes: number;
  private readonly active = new Map<ServerResponse, Promise<void>>();
  private closing = false;

  constructor(private readonly config: HttpConfig, private readonly deps: TransportDeps) {
    this.routes = new Map([[config.traces_url_path, 'traces'], [config.metrics_url_path, 'metrics'], [config.logs_url_path, 'logs']]);
    this.maxBytes = Math.floor(config.max_request_body_size_mib * 1024 * 1024);
  }

  get logger(): Logger {
    return this.deps.logger;
  }

  /** Takes over the previous receiver's listener when a reload kept its endpoint (and TLS or not); else binds. */
  async start(): Promise<BoundAddress> {
    // Read before taking the listener over, so that an unreadable file leaves it to the rollback.
    const tls = this.config.tls && readTls(this.config.tls, this.deps.configDir);
    const kept = this.deps.handoff.take(this.handoffKey);
    if (kept instanceof HttpListener && kept.tls === (tls !== undefined)) {
      if (tls) kept.renewTls(tls);
      kept.relay.attach(this);
      this.listener = kept;
    } else {
      if (kept instanceof HttpListener) {
        this.deps.logger.info('TLS turned on or off: rebinding the endpoint', { endpoint: this.config.endpoint });
        await kept.close();
      }
      this.listener = await HttpListener.open(this.config.endpoint, tls, this);
    }
    return this.listener.address;
  }

  /**
   * On a reload, hands the listener over: requests arriving from now on wait for the next
   * receiver, those in flight finish here (up to `timeoutMs`). On a stop: stops accepting, lets
   * requests in flight finish (up to `timeoutMs`), then closes every connection.
   */
  async close(timeoutMs: number): Promise<void> {
    const listener = this.listener;
    if (!listener) return;
    this.listener = undefined;
    if (this.deps.handoff.leave(this.handoffKey, listener, () => listener.close())) {
      listener.relay.detach(this);
      if (!(await settledWithin(this.active.values(), timeoutMs))) {
        this.deps.logger.warn('HTTP drain timed out; closing the connections of requests still in flight', { requests: this.active.size });
        for (const res of this.active.keys()) res.destroy();
      }
      return;
    }
    this.closing = true;
    listener.stopAccepting();
    if (!(await settledWithin(this.active.values(), timeoutMs))) {
      this.deps.logger.warn('HTTP drain timed out; closing connections with requests still in flight', { requests: this.active.size });
    }
    await listener.close();
  }

  accept(req: IncomingMessage, res: ServerResponse): void {
    const done = this.serve(req, res).catch((err: unknown) => this.internalError(res, err)).finally(() => this.active.delete(res));
    this.active.set(res, done);
  }

  refuseWaiting(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '/').split('?', 1)[0];
    this.fail(res, this.routes.get(path) ?? 'unknown', encodingOf(req.headers['content-type']) ?? 'json',
      failure('reload_timeout', GrpcCode.UNAVAILABLE, 503, 'receiver is reloading its pipeline, retry later', this.deps.retryAfterSeconds));
  }

  private get handoffKey(): string {
    return `otlp/http ${this.config.endpoint}`;
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    req.on('error', (err) => this.deps.logger.debug('HTTP request stream error', { err: err.message }));
    const started = process.hrtime.bigint();
    const encoding = encodingOf(req.headers['content-type']);
    const path = (req.url ?? '/').split('?', 1)[0];
    const signal = this.routes.get(path);
    const replyEncoding = encoding ?? 'json';
    if (signal === undefined) return this.fail(res, 'unknown', replyEncoding, failure('not_found', GrpcCode.NOT_FOUND, 404, `no OTLP endpoint at ${path}; POST to ${[...this.routes.keys()].join(', ')}`));
    if (req.method !== 'POST') return this.fail(res, signal, replyEncoding, failure('method_not_allowed', GrpcCode.UNIMPLEMENTED, 405, `${req.method} not allowed on ${path}; use POST`));
    if (this.closing) return this.fail(res, signal, replyEncoding, failure('shutting_down', GrpcCode.UNAVAILABLE, 503, 'receiver is shutting down, retry later', this.deps.retryAfterSeconds));
    if (this.deps.auth !== null && !this.deps.auth(req.headers.authorization)) {
      return this.fail(res, signal, replyEncoding, failure('unauthenticated', GrpcCode.UNAUTHENTICATED, 401, 'missing or invalid bearer token'));
    }
    if (encoding === null) {
      return this.fail(res, signal, replyEncoding, failure('unsupported_media_type', GrpcCode.INVALID_ARGUMENT, 415,
        `unsupported Content-Type ${JSON.stringify(req.headers['content-type'] ?? '')}; use application/x-protobuf or application/json`));
    }
    const coding = codingOf(req.headers['content-encoding']);
    if (coding === null) {
      return this.fail(res, signal, encoding, failure('unsupported_media_type', GrpcCode.INVALID_ARGUMENT, 415,
        `unsupported Content-Encoding ${JSON.stringify(req.headers['content-encoding'])}; use gzip, deflate or none`));
    }
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > this.maxBytes) return this.fail(res, signal, encoding, failure('too_large', GrpcCode.RESOURCE_EXHAUSTED, 413, `request body exceeds ${this.maxBytes} bytes`));

    const body = await readBody(req, coding, { maxBytes: this.maxBytes, inFlight: this.deps.inFlight, retryAfterSeconds: this.deps.retryAfterSeconds });
    if (body === null) {
      this.deps.logger.debug('client closed the connection before sending the whole body', { signal });
      return;
    }
    if (!('bytes' in body)) return this.fail(res, signal, encoding, body);
    const labels = { receiver: this.deps.receiverId, transport: 'http', signal } as const;
    try {
      this.deps.metrics.requestSize.observe(labels, body.bytes.length);
      const outcome = await this.deps.handler.handle('http', signal, body.bytes, encoding, (name) => headerValue(req, name));
      if (outcome.ok) this.send(res, 200, encoding, outcome.body);
      else this.reply(res, encoding, outcome.error);
    } finally {
      this.deps.inFlight.release(body.held);
      this.deps.metrics.latency.observe(labels, Number(process.hrtime.bigint() - started) / 1e9);
    }
  }

  private fail(res: ServerResponse, signal: Signal | 'unknown', encoding: Encoding, f: ExportFailure): void {
    this.deps.handler.refuse('http', signal, f);
    this.reply(res, encoding, f);
  }

  private reply(res: ServerResponse, encoding: Encoding, f: ExportFailure): void {
    if (f.retryAfterSeconds !== undefined) res.setHeader('Retry-After', String(Math.ceil(f.retryAfterSeconds)));
    if (f.httpStatus === 401) res.setHeader('WWW-Authenticate', 'Bearer');
    if (f.httpStatus === 405) res.setHeader('Allow', 'POST');
    // Refused before the body was read (or while reading it): close rather than read the rest.
    if (f.httpStatus === 413 || f.reason === 'in_flight_limit') res.setHeader('Connection', 'close');
    this.send(res, f.httpStatus, encoding, encodeStatus(encoding, f.code, f.message, f.retryAfterSeconds));
  }

  private send(res: ServerResponse, status: number, encoding: Encoding, body: Uint8Array): void {
    if (this.closing) res.setHeader('Connection', 'close');
    res.writeHead(status, { 'Content-Type': CONTENT_TYPE[encoding], 'Content-Length': body.byteLength });
    res.end(body);
  }

  /** A bug, not the client's fault: logged, answered 500 when still possible. */
  private internalError(res: ServerResponse, err: unknown): void {
    this.deps.logger.error('OTLP/HTTP request failed unexpectedly', { err });
    if (res.headersSent) {
      res.destroy();
      return;
    }
    this.send(res, 500, 'json', encodeStatus('json', GrpcCode.INTERNAL, 'internal error'));
  }
}

function headerValue(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}
