import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { parseDuration } from '../../core/config/duration.js';
import { Relay } from '../../core/handoff.js';
import type { ServerTlsPem } from '../../core/tls.js';
import { ClientConnections, clientKey } from './clients.js';
import type { HttpConfig } from './config.js';
import { parseEndpoint, type BoundAddress } from './endpoint.js';
import type { ConnectionRefusal } from './metrics.js';

/** What serves the requests of a listener: the OTLP/HTTP server of the receiver now running. */
export interface HttpTarget {
  /** OTLP/HTTP connections one client may hold open (`per_client.max_connections`). */
  readonly maxConnectionsPerClient: number;
  /** Serves a request. */
  accept(req: IncomingMessage, res: ServerResponse): void;
  /** Answers "retry later" to a request that waited too long for the next pipeline of a reload. */
  refuseWaiting(req: IncomingMessage, res: ServerResponse): void;
  /** Counts and logs a connection refused as soon as accepted. */
  refuseConnection(reason: ConnectionRefusal, client?: string): void;
  /** A request that could not be parsed, or did not arrive within the read timeouts. */
  clientError(err: NodeJS.ErrnoException, socket: Duplex): void;
}

/**
 * Node checks read_header_timeout and read_timeout on this period (30 s by default, far coarser
 * than they are). Fixed, not derived from them: a kept server cannot change it, and a reload may
 * shorten the timeouts.
 */
const CONNECTIONS_CHECKING_INTERVAL_MS = 250;

/** The settings a node:http server reads at each use: set at bind, set again on a server a reload keeps. */
function liveSettings(config: HttpConfig): Pick<Server, 'headersTimeout' | 'requestTimeout' | 'keepAliveTimeout' | 'maxConnections'> {
  return {
    headersTimeout: parseDuration(config.read_header_timeout),
    requestTimeout: parseDuration(config.read_timeout),
    keepAliveTimeout: parseDuration(config.idle_timeout),
    maxConnections: config.max_connections,
  };
}

/**
 * The listening node:http(s) server of one OTLP/HTTP endpoint. While a reload keeps the endpoint it
 * outlives the receiver that opened it, with its keep-alive connections: each request goes to
 * whichever receiver is attached to its relay, and waits for the next one during the swap. The
 * per-client connection count belongs to the server too, so the connections it keeps stay counted.
 */
export class HttpListener {
  private closed?: Promise<void>;

  private constructor(
    private readonly server: Server | HttpsServer,
    private readonly connections: ClientConnections,
    readonly tls: boolean,
    readonly address: BoundAddress,
    readonly relay: Relay<HttpTarget>,
  ) {}

  /** Binds `config.endpoint`, with `first` attached. */
  static open(config: HttpConfig, tls: ServerTlsPem | undefined, first: HttpTarget): Promise<HttpListener> {
    const relay = new Relay<HttpTarget>(first);
    const connections = new ClientConnections();
    const onRequest = (req: IncomingMessage, res: ServerResponse): void => relay.route((t) => t.accept(req, res), (t) => t.refuseWaiting(req, res));
    const { maxConnections, ...timeouts } = liveSettings(config);
    const options = { ...timeouts, connectionsCheckingInterval: CONNECTIONS_CHECKING_INTERVAL_MS };
    const server = tls ? createHttpsServer({ ...options, ...tls }, onRequest) : createHttpServer(options, onRequest);
    server.maxConnections = maxConnections;
    // Over TLS, requests come on the TLS socket, not the TCP one 'connection' gives.
    server.on(tls ? 'secureConnection' : 'connection', (socket: Socket) => {
      const target = relay.last;
      if (!connections.admit(socket, target.maxConnectionsPerClient)) target.refuseConnection('client_connection_limit', clientKey(socket.remoteAddress));
    });
    server.on('drop', () => relay.last.refuseConnection('max_connections'));
    server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => relay.last.clientError(err, socket));
    const { host, port } = parseEndpoint(config.endpoint);
    return new Promise((ok, fail) => {
      const onError = (err: Error) => fail(new Error(`cannot listen for OTLP/HTTP on ${config.endpoint}: ${err.message}`, { cause: err }));
      server.once('error', onError);
      server.listen(port, host, () => {
        server.off('error', onError);
        const a = server.address() as AddressInfo;
        ok(new HttpListener(server, connections, tls !== undefined, { host: a.address, port: a.port }, relay));
      });
    });
  }

  /**
   * A reload kept the endpoint: the new configuration's timeouts and connection limit apply from
   * now on (to the connections kept too), and new connections are served with its certificate.
   */
  reconfigure(config: HttpConfig, tls: ServerTlsPem | undefined): void {
    Object.assign(this.server, liveSettings(config));
    if (tls) (this.server as HttpsServer).setSecureContext(tls);
  }

  /** Whether `socket` came over its client's share of connections: its requests are refused. */
  overLimit(socket: Socket): boolean {
    return this.connections.overLimit(socket);
  }

  /** Stops accepting connections and closes the idle ones; resolves once every connection is gone. */
  stopAccepting(): Promise<void> {
    if (!this.closed) {
      this.closed = new Promise<void>((ok) => this.server.close(() => ok()));
      this.server.closeIdleConnections();
    }
    return this.closed;
  }

  /** Answers requests still waiting for a receiver, then closes every connection. */
  async close(): Promise<void> {
    const closed = this.stopAccepting();
    this.relay.close();
    this.server.closeAllConnections();
    await closed;
  }
}
