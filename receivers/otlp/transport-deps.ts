import type { Handoff } from '../../core/handoff.js';
import type { Logger } from '../../core/logger.js';
import type { Authenticator } from '../../core/bearer-auth.js';
import type { Clients } from './clients.js';
import type { ExportHandler } from './export-handler.js';
import type { InFlightBytes } from './in-flight.js';
import type { ReceiverMetrics } from './metrics.js';
import type { ThrottledLog } from './throttled-log.js';

/** What the gRPC and HTTP servers share: one decode-and-acknowledge path, one auth, one in-flight budget, one per-client ledger. */
export interface TransportDeps {
  handler: ExportHandler;
  auth: Authenticator | null;
  inFlight: InFlightBytes;
  clients: Clients;
  metrics: ReceiverMetrics;
  logger: Logger;
  /** Warnings that come in floods (refusals under overload), at most one a reason every few seconds. */
  throttledLog: ThrottledLog;
  receiverId: string;
  configDir: string;
  retryAfterSeconds: number;
  handoff: Handoff;
}
