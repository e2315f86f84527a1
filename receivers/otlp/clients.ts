import type { Socket } from 'node:net';

/** What one client (remote address) holds right now. */
export interface ClientUsage {
  readonly address: string;
  bytes: number;
  requests: number;
}

export interface ClientLimits {
  maxRequests: number;
  /** Enforced by the HTTP listener's ClientConnections, which outlives a receiver across a reload. */
  maxConnections: number;
}

/**
 * Per-client accounting of a receiver, so that one client cannot take the whole in-flight budget or
 * every request slot. An entry lives while its client holds anything.
 */
export class Clients {
  private readonly byAddress = new Map<string, ClientUsage>();

  constructor(readonly limits: ClientLimits) {}

  /** Starts a request of `address`; null when it already has `maxRequests` open. */
  startRequest(address: string): ClientUsage | null {
    const c = this.of(address);
    if (c.requests >= this.limits.maxRequests) {
      this.prune(c);
      return null;
    }
    c.requests++;
    return c;
  }

  endRequest(c: ClientUsage): void {
    c.requests--;
    this.prune(c);
  }

  private of(address: string): ClientUsage {
    let c = this.byAddress.get(address);
    if (c === undefined) this.byAddress.set(address, (c = { address, bytes: 0, requests: 0 }));
    return c;
  }

  private prune(c: ClientUsage): void {
    if (c.bytes === 0 && c.requests === 0) this.byAddress.delete(c.address);
  }
}

/**
 * Open connections per client of one listening server, so that one client cannot hold every
 * connection. It belongs to the server, not to a receiver: when a reload hands the server to the
 * next receiver, the connections it keeps stay counted.
 */
export class ClientConnections {
  private readonly byAddress = new Map<string, number>();
  private readonly over = new WeakSet<Socket>();

  /**
   * Counts `socket` against its client until it closes. One over `max` is not counted but marked:
   * it is kept only to answer its request 503 and close, since a client sees "retry later" where a
   * reset would make some exporters (LiteLLM's) drop data.
   */
  admit(socket: Socket, max: number): boolean {
    const address = clientKey(socket.remoteAddress);
    const open = this.byAddress.get(address) ?? 0;
    if (open >= max) {
      this.over.add(socket);
      return false;
    }
    this.byAddress.set(address, open + 1);
    socket.once('close', () => {
      const left = (this.byAddress.get(address) ?? 1) - 1;
      if (left === 0) this.byAddress.delete(address);
      else this.byAddress.set(address, left);
    });
    return true;
  }

  overLimit(socket: Socket): boolean {
    return this.over.has(socket);
  }
}

/** A socket's remote address as a client key: IPv4-mapped IPv6 (`::ffff:1.2.3.4`, on a dual-stack listener) as plain IPv4. */
export function clientKey(address: string | undefined): string {
  if (address === undefined || address === '') return 'unknown';
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

/** The client key of a grpc-js peer string (`1.2.3.4:port`, `::1:port`, or 'unknown'). */
export function grpcPeerKey(peer: string): string {
  const m = /^(.*):[0-9]+$/.exec(peer);
  return clientKey(m === null ? undefined : m[1]);
}
