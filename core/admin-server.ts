import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { AdminRoutes } from './admin-routes.js';
import { createAuthenticator, type Authenticator } from './bearer-auth.js';
import { consoleAsset, CONSOLE_HEADERS, isConsolePath } from './console-assets.js';
import type { AdminConfig } from './config/types.js';
import type { Logger } from './logger.js';
import { readServerTls } from './tls.js';

export type Readiness = () => { ready: boolean; reason: string };

/**
 * GET /metrics (Prometheus text), /healthz (process alive), /readyz (all components started), and
 * the paths the running components registered (AdminRoutes: spend API, budget state...), and the
 * web console at / (static files that call that API).
 * With tokens configured /metrics and component paths need one (they show spend by team,
 * customer and key alias); the probes stay open, they tell nothing but up or not.
 */
export class AdminServer {
  private server?: Server;
  private readonly auth: Authenticator | null;

  constructor(private readonly config: AdminConfig, private readonly configDir: string, private readonly registry: Registry, private readonly readiness: Readiness, private readonly routes: () => AdminRoutes | undefined, private readonly logger: Logger, env: NodeJS.ProcessEnv) {
    this.auth = createAuthenticator(config.auth, env);
  }

  async start(): Promise<void> {
    const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
      const path = (req.url ?? '/').split('?')[0];
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('method not allowed\n');
        return;
      }
      const route = path === '/metrics' || path === '/healthz' || path === '/readyz' ? undefined : this.routes()?.find(path);
      if ((path === '/metrics' || route) && this.auth !== null && !this.auth(req.headers.authorization)) {
        res.writeHead(401, { 'www-authenticate': 'Bearer', 'content-type': 'text/plain' }).end('missing or invalid bearer token\n');
      } else if (path === '/metrics') {
        this.registry.metrics().then(
          (body) => res.writeHead(200, { 'content-type': this.registry.contentType }).end(body),
          (err: unknown) => {
            this.logger.error('collecting metrics failed', { err });
            res.writeHead(500, { 'content-type': 'text/plain' }).end(`collecting metrics failed: ${(err as Error).message}\n`);
          },
        );
      } else if (path === '/healthz') {
        res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
      } else if (path === '/readyz') {
        const { ready, reason } = this.readiness();
        res.writeHead(ready ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify({ ready, reason }) + '\n');
      } else if (route) {
        const url = new URL(req.url ?? '/', 'http://admin');
        route({ url, headers: req.headers }).then(
          (answer) => res.writeHead(answer.status, { 'content-type': answer.contentType, ...answer.headers }).end(answer.body),
          (err: unknown) => {
            this.logger.error('admin route failed', { path, err });
            res.writeHead(500, { 'content-type': 'text/plain' }).end(`${path} failed: ${(err as Error).message}\n`);
          },
        );
      } else if (isConsolePath(path)) {
        this.serveConsole(path, res);
      } else {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try / (the console), /metrics, /healthz or /readyz\n');
      }
    };
    const server = this.config.tls ? createHttpsServer(readServerTls(this.config.tls, this.configDir), onRequest) : createServer(onRequest);
    const { host, port } = splitEndpoint(this.config.endpoint);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (err) => this.logger.error('admin server error', { err }));
    this.server = server;
    this.logger.info('admin server listening', { endpoint: this.address(), tls: this.config.tls !== undefined, auth: this.auth !== null });
  }

  private serveConsole(path: string, res: ServerResponse): void {
    try {
      const asset = consoleAsset(path)!;
      res.writeHead(200, { 'content-type': asset.contentType, ...CONSOLE_HEADERS }).end(asset.body);
    } catch (err) {
      this.logger.error('serving the console failed', { path, err });
      res.writeHead(500, { 'content-type': 'text/plain' }).end(`the console cannot be served: ${(err as Error).message}\n`);
    }
  }

  /** host:port actually bound (the port is the OS's choice when configured as 0). */
  address(): string {
    const a = this.server?.address() as AddressInfo | null | undefined;
    return a ? `${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}` : '';
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

export function splitEndpoint(endpoint: string): { host: string; port: number } {
  const i = endpoint.lastIndexOf(':');
  const host = endpoint.slice(0, i).replace(/^\[(.*)\]$/, '$1');
  return { host: host || '0.0.0.0', port: Number(endpoint.slice(i + 1)) };
}
