/** `host:port` or `[v6]:port` → its parts (the schema has validated the shape). */
export function parseEndpoint(endpoint: string): { host: string; port: number } {
  const i = endpoint.lastIndexOf(':');
  const host = endpoint.slice(0, i);
  return { host: host.startsWith('[') ? host.slice(1, -1) : host, port: Number(endpoint.slice(i + 1)) };
}

export interface BoundAddress { host: string; port: number }
