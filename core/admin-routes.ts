import type { IncomingHttpHeaders } from 'node:http';

/** A GET (or HEAD) request to the admin server, as a component's route sees it. */
export interface AdminRequest {
  url: URL;
  headers: IncomingHttpHeaders;
}

export interface AdminResponse {
  status: number;
  contentType: string;
  body: string | Uint8Array;
  headers?: Record<string, string>;
}

export type AdminHandler = (req: AdminRequest) => Promise<AdminResponse>;

/**
 * Paths components serve on the admin server (spend API, budget state...), registered in their
 * start() through the host. A path ending in `/` serves everything below it; otherwise it is exact.
 * A reload builds a new graph with a new host, so a removed component's routes go with it.
 */
export class AdminRoutes {
  private readonly exact = new Map<string, AdminHandler>();
  private readonly prefixes: [string, AdminHandler][] = [];

  add(path: string, handler: AdminHandler): void {
    if (this.exact.has(path) || this.prefixes.some(([p]) => p === path)) throw new Error(`admin path ${path} is already served`);
    if (path.endsWith('/')) {
      this.prefixes.push([path, handler]);
      this.prefixes.sort((a, b) => b[0].length - a[0].length); // longest prefix wins
    } else {
      this.exact.set(path, handler);
    }
  }

  find(path: string): AdminHandler | undefined {
    return this.exact.get(path) ?? this.prefixes.find(([p]) => path.startsWith(p))?.[1];
  }
}
