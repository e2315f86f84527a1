/**
 * The queue, batch and retry settings every queued exporter shares (the collector's
 * exporterhelper `sending_queue` / `retry_on_failure`). Schemas are JSON Schema fragments that an
 * exporter embeds in its own config schema; defaults live both in `default:` (ajv useDefaults)
 * and in the constants below.
 */
export interface BatchConfig {
  max_rows: number;
  max_delay_ms: number;
}

export interface QueueConfig {
  type: 'memory' | 'disk';
  /** Directory of the disk queue; resolved against the config directory by the exporter. */
  path: string;
  max_bytes: number;
}

export interface RetryConfig {
  initial_interval_ms: number;
  max_interval_ms: number;
  /** 0 retries forever: the disk queue holds the rows meanwhile. */
  max_elapsed_ms: number;
}

export const DEFAULT_BATCH: BatchConfig = { max_rows: 5000, max_delay_ms: 1000 };
export const DEFAULT_RETRY: RetryConfig = { initial_interval_ms: 500, max_interval_ms: 30_000, max_elapsed_ms: 0 };
export const DEFAULT_QUEUE_MAX_BYTES = 1024 * 1024 * 1024;

export const batchSchema = {
  type: 'object',
  additionalProperties: false,
  description: 'Rows are sent when max_rows are queued or the oldest queued row is max_delay_ms old.',
  default: {},
  properties: {
    max_rows: { type: 'integer', minimum: 1, maximum: 100_000, default: DEFAULT_BATCH.max_rows, description: 'Most rows in one insert. A few thousand keeps serialization from blocking the event loop.' },
    max_delay_ms: { type: 'integer', minimum: 1, maximum: 3_600_000, default: DEFAULT_BATCH.max_delay_ms, description: 'Longest a queued row waits for its batch to fill before it is sent anyway.' },
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
  properties: {
    initial_interval_ms: { type: 'integer', minimum: 1, maximum: 86_400_000, default: DEFAULT_RETRY.initial_interval_ms, description: 'Wait before the first retry; doubles on each further failure.' },
    max_interval_ms: { type: 'integer', minimum: 1, maximum: 86_400_000, default: DEFAULT_RETRY.max_interval_ms, description: 'Upper bound of the wait between retries.' },
    max_elapsed_ms: { type: 'integer', minimum: 0, maximum: 2_592_000_000, default: DEFAULT_RETRY.max_elapsed_ms, description: 'Give up on a batch after retrying this long (its rows are counted as failed). 0 retries forever.' },
  },
} as const;
