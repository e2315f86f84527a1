import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { parseDuration } from '../../core/config/duration.js';
import { settledWithin } from '../../core/settle.js';
import { readServerTls } from '../../core/tls.js';
import { clientKey } from './clients.js';
import { encodeStatus, GrpcCode, type Encoding, type Signal } from './codec/codec.js';
import type { HttpConfig } from './config.js';
import type { BoundAddress } from './endpoint.js';
import { failure, type ExportFailure } from './export-handler.js';
import { readBody, type ContentCoding } from './http-body.js';
import { HttpListener, type HttpTarget } from './http-listener.js';
import type { ConnectionRefusal, RefusalReason } from './metrics.js';
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

/** Refusals answered before the whole body was read: the rest is drained (nothing kept), then the connection closed. */
const BODY_UNREAD: ReadonlySet<RefusalReason> = new Set(['too_large', 'in_flight_limit', 'client_in_flight_limit', 'client_request_limit', 'client_connection_limit', 'body_stalled']);

/** After such an answer, how long the rest of the body is read and dropped before the connection closes. */
const LINGER_MS = 2000;

/** Node's own answer when `read_header_timeout` or `read_timeout` passes (it checks every `connectionsCheckingInterval`). */
const REQUEST_TIMEOUT_RESPONSE = 'HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n';

/**
 * OTLP/HTTP on node:http: POST of Export requests to the three signal paths. The listening server
 * is an HttpListener, handed to the next receiver when a reload keeps the endpoint.
 */
export class OtlpHttpServer implements HttpTarget {
  private listener?: HttpListener;
  private readonly routes: Map<string, Signal>;
  private readonly maxBytes: number;
  private readonly stallMs: number;
  private readonly active = new Map<ServerResponse, Promise<void>>();
  private closing = false;

  constructor(private readonly config: HttpConfig, private readonly deps: TransportDeps) {
    this.routes = new Map([[config.traces_url_path, 'traces'], [config.metrics_url_path, 'metrics'], [config.logs_url_path, 'logs']]);
    this.maxBytes = Math.floor(config.max_request_body_size_mib * 1024 * 1024);
    this.stallMs = parseDuration(config.body_stall_timeout);
  }

  get maxConnectionsPerClient(): number {
    return this.deps.clients.limits.maxConnections;
  }

  refuseConnection(reason: ConnectionRefusal, client?: string): void {
    this.deps.metrics.refusedConnections.inc({ receiver: this.deps.receiverId, transport: 'http', reason });
    this.deps.throttledLog.warn(`connection:${reason}`, 'connections refused (one line per reason every 10 s)', { transport: 'http', reason, ...(client ? { client } : {}) });
  }

  clientError(err: NodeJS.ErrnoException, socket: Duplex): void {
    if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
      this.deps.handler.refuse('http', 'unknown', failure('request_timeout', GrpcCode.UNAVAILABLE, 408,
        `request not received within read_header_timeout ${this.config.read_header_timeout} / read_timeout ${this.config.read_timeout}`));
      if (socket.writable) socket.end(REQUEST_TIMEOUT_RESPONSE);
    } else {
      this.deps.logger.debug('malformed HTTP request', { err: err.message });
    }
    socket.destroy();
  }

  /** Takes over the previous receiver's listener when a reload kept its endpoint (and TLS or not); else binds. */
  async start(): Promise<BoundAddress> {
    // Read before taking the listener over, so that an unreadable file leaves it to the rollback.
    const tls = this.config.tls && readServerTls(this.config.tls, this.deps.configDir);
    const kept = this.deps.handoff.take(this.handoffKey);
    if (kept instanceof HttpListener && kept.tls === (tls !== undefined)) {
      kept.reconfigure(this.config, tls);
      // Set before attaching: requests that waited for this receiver are served as it attaches.
      this.listener = kept;
      kept.relay.attach(this);
    } else {
      if (kept instanceof HttpListener) {
        this.deps.logger.info('TLS turned on or off: rebinding the endpoint', { endpoint: this.config.endpoint });
        await kept.close();
      }
      this.listener = await HttpListener.open(this.config, tls, this);
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
    const arrived = performance.now();
    const encoding = encodingOf(req.headers['content-type']);
    const path = (req.url ?? '/').split('?', 1)[0];
    const signal = this.routes.get(path);
    const replyEncoding = encoding ?? 'json';
    if (signal === undefined) return this.fail(res, 'unknown', replyEncoding, failure('not_found', GrpcCode.NOT_FOUND, 404, `no OTLP endpoint at ${path}; POST to ${[...this.routes.keys()].join(', ')}`));
    if (req.method !== 'POST') return this.fail(res, signal, replyEncoding, failure('method_not_allowed', GrpcCode.UNIMPLEMENTED, 405, `${req.method} not allowed on ${path}; use POST`));
    if (this.closing) return this.fail(res, signal, replyEncoding, failure('shutting_down', GrpcCode.UNAVAILABLE, 503, 'receiver is shutting down, retry later', this.deps.retryAfterSeconds));
    if (this.listener?.overLimit(req.socket)) {
      return this.fail(res, signal, replyEncoding, failure('client_connection_limit', GrpcCode.UNAVAILABLE, 503,
        `this client has ${this.deps.clients.limits.maxConnections} connections open, retry later`, this.deps.retryAfterSeconds));
    }
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
    const address = clientKey(req.socket.remoteAddress);
    const client = this.deps.clients.startRequest(address);
    if (client === null) {
      return this.fail(res, signal, encoding, failure('client_request_limit', GrpcCode.UNAVAILABLE, 503,
        `this client has ${this.deps.clients.limits.maxRequests} requests open, retry later`, this.deps.retryAfterSeconds));
    }
    try {
      const body = await readBody(req, coding, { maxBytes: this.maxBytes, inFlight: this.deps.inFlight, client, retryAfterSeconds: this.deps.retryAfterSeconds, stallMs: this.stallMs });
      if (body === null) {
        this.deps.logger.debug('client closed the connection before sending the whole body', { signal });
        return;
      }
      if (!('bytes' in body)) return this.fail(res, signal, encoding, body);
      const labels = { receiver: this.deps.receiverId, transport: 'http', signal } as const;
      try {
        this.deps.metrics.requestSize.observe(labels, body.bytes.length);
        const request = { client: address, arrivedMs: arrived, gone: () => req.socket.destroyed };
        const outcome = await this.deps.handler.handle('http', signal, body.bytes, encoding, (name) => headerValue(req, name), request);
        if (outcome.ok) this.send(res, 200, encoding, outcome.body);
        else this.reply(res, encoding, outcome.error);
      } finally {
        this.deps.inFlight.release(body.held, client);
        this.deps.metrics.latency.observe(labels, Number(process.hrtime.bigint() - started) / 1e9);
      }
    } finally {
      this.deps.clients.endRequest(client);
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
    const body = encodeStatus(encoding, f.code, f.message, f.retryAfterSeconds);
    if (BODY_UNREAD.has(f.reason)) this.sendAndClose(res, f.httpStatus, encoding, body);
    else this.send(res, f.httpStatus, encoding, body);
  }

  private send(res: ServerResponse, status: number, encoding: Encoding, body: Uint8Array): void {
    if (this.closing) res.setHeader('Connection', 'close');
    res.writeHead(status, { 'Content-Type': CONTENT_TYPE[encoding], 'Content-Length': body.byteLength });
    res.end(body);
  }

  /**
   * Answers a request whose body was not read whole, reads and drops the rest of it (up to
   * LINGER_MS, nothing kept), then closes: closing while the client still sends would reset the
   * connection, and the client would see a network error instead of the answer.
   */
  private sendAndClose(res: ServerResponse, status: number, encoding: Encoding, body: Uint8Array): void {
    res.setHeader('Connection', 'close');
    res.writeHead(status, { 'Content-Type': CONTENT_TYPE[encoding], 'Content-Length': body.byteLength });
    const req = res.req;
    if (req.complete) {
      res.end(body);
      return;
    }
    res.write(body);
    const done = (): void => {
      clearTimeout(timer);
      req.off('end', done).off('close', done);
      res.end();
    };
    const timer = setTimeout(done, LINGER_MS);
    req.on('end', done).on('close', done);
    req.resume();
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
