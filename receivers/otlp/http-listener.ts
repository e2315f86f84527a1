import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { Relay } from '../../core/handoff.js';
import type { Logger } from '../../core/logger.js';
import type { TlsConfig } from './config.js';
import { parseEndpoint, type BoundAddress } from './endpoint.js';

/** What serves the requests of a listener: the OTLP/HTTP server of the receiver now running. */
export interface HttpTarget {
  readonly logger: Logger;
  /** Serves a request. */
  accept(req: IncomingMessage, res: ServerResponse): void;
  /** Answers "retry later" to a request that waited too long for the next pipeline of a reload. */
  refuseWaiting(req: IncomingMessage, res: ServerResponse): void;
}

export interface TlsMaterial { cert: Buffer; key: Buffer }

export function readTls(tls: TlsConfig, configDir: string): TlsMaterial {
  return { cert: readFileSync(resolve(configDir, tls.cert_file)), key: readFileSync(resolve(configDir, tls.key_file)) };
}

/**
 * The listening node:http(s) server of one OTLP/HTTP endpoint. While a reload keeps the endpoint it
 * outlives the receiver that opened it, with its keep-alive connections: each request goes to
 * whichever receiver is attached to its relay, and waits for the next one during the swap.
 */
export class HttpListener {
  private closed?: Promise<void>;

  private constructor(private readonly server: Server | HttpsServer, readonly tls: boolean, readonly address: BoundAddress, readonly relay: Relay<HttpTarget>) {}

  /** Binds `endpoint`, with `first` attached. */
  static open(endpoint: string, tls: TlsMaterial | undefined, first: HttpTarget): Promise<HttpListener> {
    const relay = new Relay<HttpTarget>(first);
    const onRequest = (req: IncomingMessage, res: ServerResponse): void => relay.route((t) => t.accept(req, res), (t) => t.refuseWaiting(req, res));
    const server = tls ? createHttpsServer(tls, onRequest) : createHttpServer(onRequest);
    server.on('clientError', (err, socket) => {
      relay.last.logger.debug('malformed HTTP request', { err: (err as Error).message });
      socket.destroy();
    });
    const { host, port } = parseEndpoint(endpoint);
    return new Promise((ok, fail) => {
      const onError = (err: Error) => fail(new Error(`cannot listen for OTLP/HTTP on ${endpoint}: ${err.message}`, { cause: err }));
      server.once('error', onError);
      server.listen(port, host, () => {
        server.off('error', onError);
        const a = server.address() as AddressInfo;
        ok(new HttpListener(server, tls !== undefined, { host: a.address, port: a.port }, relay));
      });
    });
  }

  /** A reload kept the endpoint: new connections are served with the certificate the new configuration names. */
  renewTls(tls: TlsMaterial): void {
    (this.server as HttpsServer).setSecureContext(tls);
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
