import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { parseDuration } from '../../core/config/duration.js';
import { readServerTls } from '../../core/tls.js';
import { clientKey } from './clients.js';
import { encodeStatus, GrpcCode, type Encoding, type Signal } from './codec.js';
import type { HttpConfig } from './config.js';
import { parseEndpoint, type BoundAddress } from './endpoint.js';
import { failure, type ExportFailure } from './export-handler.js';
import { readBody, type ContentCoding } from './http-body.js';
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

/** OTLP/HTTP on node:http: POST of Export requests to the three signal paths. */
export class OtlpHttpServer {
  private readonly server: Server;
  private readonly routes: Map<string, Signal>;
  private readonly maxBytes: number;
  private readonly stallMs: number;
  private readonly active = new Set<Promise<void>>();
  /** Connections over their client's share: their requests are answered 503 (a retryable answer, where a reset would not be). */
  private readonly overLimit = new WeakSet<Socket>();
  private closing = false;

  constructor(private readonly config: HttpConfig, private readonly deps: TransportDeps) {
    this.routes = new Map([[config.traces_url_path, 'traces'], [config.metrics_url_path, 'metrics'], [config.logs_url_path, 'logs']]);
    this.maxBytes = Math.floor(config.max_request_body_size_mib * 1024 * 1024);
    this.stallMs = parseDuration(config.body_stall_timeout);
    const headersTimeout = parseDuration(config.read_header_timeout);
    const requestTimeout = parseDuration(config.read_timeout);
    const timeouts = {
      headersTimeout, requestTimeout, keepAliveTimeout: parseDuration(config.idle_timeout),
      // Node checks both timeouts on this period (30 s by default, far coarser than they are).
      connectionsCheckingInterval: Math.max(250, Math.min(1000, Math.floor(headersTimeout / 4))),
    };
    const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
      const done = this.serve(req, res).catch((err: unknown) => this.internalError(res, err)).finally(() => this.active.delete(done));
      this.active.add(done);
    };
    this.server = config.tls
      ? createHttpsServer({ ...timeouts, ...readServerTls(config.tls, deps.configDir) }, onRequest)
      : createHttpServer(timeouts, onRequest);
    this.server.maxConnections = config.max_connections;
    this.server.on('connection', (socket: Socket) => this.admitConnection(socket));
    this.server.on('drop', () => this.refuseConnection('max_connections'));
    this.server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
      if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
        deps.handler.refuse('http', 'unknown', failure('request_timeout', GrpcCode.UNAVAILABLE, 408, `request not received within read_header_timeout ${config.read_header_timeout} / read_timeout ${config.read_timeout}`));
        if (socket.writable) socket.end(REQUEST_TIMEOUT_RESPONSE);
      } else {
        deps.logger.debug('malformed HTTP request', { err: err.message });
      }
      socket.destroy();
    });
  }

  /**
   * Counts a new connection against its client's share. One over it is kept only to answer its
   * request 503 and close (or until read_header_timeout): a client sees "retry later", not a reset,
   * which some exporters (LiteLLM's) drop data on.
   */
  private admitConnection(socket: Socket): void {
    const client = this.deps.clients.connect(clientKey(socket.remoteAddress));
    if (client === null) {
      this.refuseConnection('client_connection_limit', clientKey(socket.remoteAddress));
      this.overLimit.add(socket);
      return;
    }
    socket.once('close', () => this.deps.clients.disconnect(client));
  }

  private refuseConnection(reason: ConnectionRefusal, client?: string): void {
    this.deps.metrics.refusedConnections.inc({ receiver: this.deps.receiverId, transport: 'http', reason });
    this.deps.throttledLog.warn(`connection:${reason}`, 'connections refused (one line per reason every 10 s)', { transport: 'http', reason, ...(client ? { client } : {}) });
  }

  start(): Promise<BoundAddress> {
    const { host, port } = parseEndpoint(this.config.endpoint);
    return new Promise((ok, fail) => {
      const onError = (err: Error) => fail(new Error(`cannot listen for OTLP/HTTP on ${this.config.endpoint}: ${err.message}`, { cause: err }));
      this.server.once('error', onError);
      this.server.listen(port, host, () => {
        this.server.off('error', onError);
        const a = this.server.address() as AddressInfo;
        ok({ host: a.address, port: a.port });
      });
    });
  }

  /** Stops accepting, lets requests in flight finish (up to `timeoutMs`), then closes every connection. */
  async close(timeoutMs: number): Promise<void> {
    this.closing = true;
    const closed = new Promise<void>((ok) => this.server.close(() => ok()));
    this.server.closeIdleConnections();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((ok) => { timer = setTimeout(() => ok('timeout'), timeoutMs); });
    const result = await Promise.race([Promise.allSettled([...this.active]), timeout]);
    clearTimeout(timer);
    if (result === 'timeout') this.deps.logger.warn('HTTP drain timed out; closing connections with requests still in flight', { requests: this.active.size });
    this.server.closeAllConnections();
    await closed;
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
    if (this.overLimit.has(req.socket)) {
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
