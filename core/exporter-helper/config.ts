import { durationSchema } from '../config/duration.js';

/**
 * The queue, batch and retry settings every queued exporter shares (the collector's
 * exporterhelper `sending_queue` / `retry_on_failure`). Schemas are JSON Schema fragments that an
 * exporter embeds in its own config schema; an exporter's `defaults` take the constants below.
 */
export interface BatchConfig {
  max_rows: number;
  /** Duration (`1s`). */
  max_delay: string;
}

export interface QueueConfig {
  type: 'memory' | 'disk';
  /** Directory of the disk queue; resolved against the config directory by the helper. */
  path: string;
  max_bytes: number;
}

/** Durations (`500ms`, `30s`). */
export interface RetryConfig {
  initial_interval: string;
  max_interval: string;
  /** `0s` retries forever: the disk queue holds the rows meanwhile. */
  max_elapsed: string;
}

export const DEFAULT_BATCH: BatchConfig = { max_rows: 5000, max_delay: '1s' };
export const DEFAULT_RETRY: RetryConfig = { initial_interval: '500ms', max_interval: '30s', max_elapsed: '0s' };
export const DEFAULT_QUEUE_MAX_BYTES = 1024 * 1024 * 1024;

export const batchSchema = {
  type: 'object',
  additionalProperties: false,
  description: 'Rows are sent when max_rows are queued or the oldest queued row is max_delay old.',
  default: {},
  renamedKeys: { max_delay_ms: 'max_delay' },
  properties: {
    max_rows: { type: 'integer', minimum: 1, maximum: 100_000, default: DEFAULT_BATCH.max_rows, description: 'Most rows in one insert. A few thousand keeps serialization from blocking the event loop.' },
    max_delay: durationSchema(DEFAULT_BATCH.max_delay, 'Longest a queued row waits for its batch to fill before it is sent anyway.', { min: '1ms', max: '1h' }),
  },
} as const;

export function queueSchema(defaultPath: string) {
  return {
    type: 'object',
    additionalProperties: false,
    description: 'Where accepted rows wait until the destination has them. `disk` survives a crash and long outages.',
    default: {},
    properties: {
      type: { enum: ['memory', 'disk'], default: 'disk', description: '`disk`: rows are written and fsynced before the receiver answers its client; `memory`: bounded, lost on crash.' },
      path: { type: 'string', minLength: 1, default: defaultPath, description: 'Directory of the disk queue, relative to the config file. One exporter per directory.' },
      max_bytes: { type: 'integer', minimum: 1024, maximum: 1_099_511_627_776, default: DEFAULT_QUEUE_MAX_BYTES, description: 'Bytes of queued rows beyond which new batches are refused with "retry later" (HTTP 503 / gRPC UNAVAILABLE).' },
    },
  } as const;
}

export const retrySchema = {
  type: 'object',
  additionalProperties: false,
  description: 'Exponential backoff with jitter for failed sends. Permanent errors (rejected data) are never retried.',
  default: {},
  renamedKeys: { initial_interval_ms: 'initial_interval', max_interval_ms: 'max_interval', max_elapsed_ms: 'max_elapsed' },
  properties: {
    initial_interval: durationSchema(DEFAULT_RETRY.initial_interval, 'Wait before the first retry; doubles on each further failure.', { min: '1ms', max: '24h' }),
    max_interval: durationSchema(DEFAULT_RETRY.max_interval, 'Upper bound of the wait between retries.', { min: '1ms', max: '24h' }),
    max_elapsed: durationSchema(DEFAULT_RETRY.max_elapsed, 'Give up on a batch after retrying this long (its rows are counted as failed). `0s` retries forever.', { timer: false, max: '720h' }),
  },
} as const;
