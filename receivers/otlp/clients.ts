/** What one client (remote address) holds right now. */
export interface ClientUsage {
  readonly address: string;
  bytes: number;
  requests: number;
  connections: number;
}

export interface ClientLimits { maxRequests: number; maxConnections: number }

/**
 * Per-client accounting, so that one client cannot take the whole in-flight budget, every request
 * slot or every connection. An entry lives while its client holds anything.
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

  /** Counts a new connection of `address`; null when it already has `maxConnections`. */
  connect(address: string): ClientUsage | null {
    const c = this.of(address);
    if (c.connections >= this.limits.maxConnections) {
      this.prune(c);
      return null;
    }
    c.connections++;
    return c;
  }

  disconnect(c: ClientUsage): void {
    c.connections--;
    this.prune(c);
  }

  private of(address: string): ClientUsage {
    let c = this.byAddress.get(address);
    if (c === undefined) this.byAddress.set(address, (c = { address, bytes: 0, requests: 0, connections: 0 }));
    return c;
  }

  private prune(c: ClientUsage): void {
    if (c.bytes === 0 && c.requests === 0 && c.connections === 0) this.byAddress.delete(c.address);
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
