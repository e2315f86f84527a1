import type { Handoff } from '../../core/handoff.js';
import type { Logger } from '../../core/logger.js';
import type { Authenticator } from './auth.js';
import type { ExportHandler } from './export-handler.js';
import type { InFlightBytes } from './in-flight.js';
import type { ReceiverMetrics } from './metrics.js';

/** What the gRPC and HTTP servers share: one decode-and-acknowledge path, one auth, one in-flight budget. */
export interface TransportDeps {
  handler: ExportHandler;
  auth: Authenticator | null;
  inFlight: InFlightBytes;
  metrics: ReceiverMetrics;
  logger: Logger;
  receiverId: string;
  configDir: string;
  retryAfterSeconds: number;
  handoff: Handoff;
}
