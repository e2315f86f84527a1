import type { Http2Server, ServerHttp2Session } from 'node:http2';
import type * as grpc from '@grpc/grpc-js';

/**
 * grpc-js's own name for a flow-control window; it reads it on clients only, so the server's
 * windows are set here. Kept among the server's options so that a reload with another window
 * rebinds (the listener's fingerprint covers it).
 */
export const FLOW_CONTROL_WINDOW = 'grpc-node.flow_control_window';

/**
 * Widens the HTTP/2 flow-control windows of a bound grpc-js server: each call's (SETTINGS
 * initial window) and each connection's. grpc-js keeps HTTP/2's 64 KiB and has no server option,
 * so a 0.6 MB export crosses in about ten windows, each refilled only on a turn of a busy event
 * loop: uploads stall behind processing and the loop idles between them (bench/README.md).
 * grpc-js keeps its HTTP/2 servers in a private map; false when that map is gone (a grpc-js
 * upgrade changed it), so that the caller says so instead of silently running slow.
 */
export function widenFlowControl(server: grpc.Server, bytes: number): boolean {
  const servers = (server as unknown as { http2Servers?: unknown }).http2Servers;
  if (!(servers instanceof Map)) return false;
  for (const h2 of servers.keys() as IterableIterator<Http2Server>) {
    h2.updateSettings({ initialWindowSize: bytes });
    h2.on('session', (session: ServerHttp2Session) => {
      // A session closed before its first turn has no window to set; that is not an error.
      if (!session.destroyed) session.setLocalWindowSize(bytes);
    });
  }
  return true;
}
