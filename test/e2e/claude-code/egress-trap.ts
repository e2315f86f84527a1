/**
 * An HTTP(S) proxy on 127.0.0.1 that refuses everything and records what was attempted. Claude
 * Code runs with HTTPS_PROXY/HTTP_PROXY pointing here (and NO_PROXY=127.0.0.1), so any attempt to
 * reach a host outside loopback — auto-update, first-party telemetry, feature flags — is caught
 * and shows up in `attempts` instead of leaving the machine.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface EgressTrap {
  url: string;
  /** "CONNECT host:port" or "GET http://…", in arrival order. */
  attempts: string[];
  close(): Promise<void>;
}

export async function startEgressTrap(): Promise<EgressTrap> {
  const attempts: string[] = [];
  const server = createServer((req, res) => {
    attempts.push(`${req.method} ${req.url}`);
    res.writeHead(403).end('egress blocked by the tokenledger e2e harness');
  });
  server.on('connect', (req, socket) => {
    attempts.push(`CONNECT ${req.url}`);
    socket.end('HTTP/1.1 403 Forbidden\r\n\r\n');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    attempts,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
