import type { ClientUsage } from './clients.js';
import { GrpcCode } from './codec/codec.js';
import { failure, type ExportFailure } from './export-handler.js';

/** Why bytes could not be taken: the receiver's whole budget, or the client's share of it. */
export type InFlightRefusal = 'in_flight_limit' | 'client_in_flight_limit';

/**
 * Bytes of requests received and not yet acknowledged, bounded so that memory stays bounded, and
 * bounded per client so that one client (four stalled uploads, say) cannot hold all of it.
 */
export class InFlightBytes {
  private held = 0;

  constructor(private readonly limit: number, private readonly perClient: number, private readonly onChange: (held: number) => void) {}

  /** Takes `n` more bytes for `client`; the refusal (and nothing taken) when that would pass a limit. */
  tryAcquire(n: number, client: ClientUsage): InFlightRefusal | null {
    if (client.bytes + n > this.perClient) return 'client_in_flight_limit';
    if (this.held + n > this.limit) return 'in_flight_limit';
    this.held += n;
    client.bytes += n;
    this.onChange(this.held);
    return null;
  }

  release(n: number, client: ClientUsage): void {
    this.held -= n;
    client.bytes -= n;
    this.onChange(this.held);
  }

  get bytes(): number {
    return this.held;
  }
}

/** The retryable refusal for a full in-flight budget, the receiver's or the client's share. */
export function inFlightFull(reason: InFlightRefusal, retryAfterSeconds: number): ExportFailure {
  return reason === 'in_flight_limit'
    ? failure(reason, GrpcCode.UNAVAILABLE, 503, 'too much data in flight, retry later', retryAfterSeconds)
    : failure(reason, GrpcCode.UNAVAILABLE, 503, 'this client has too much data in flight, retry later', retryAfterSeconds);
}
