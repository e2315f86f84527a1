/** The consumer cannot take the data now (queue full, exporter down): the client should retry. */
export class RetryableError extends Error {
  override name = 'RetryableError';
  constructor(message: string, readonly retryAfterSeconds = 5, options?: ErrorOptions) {
    super(message, options);
  }
}

/** The data can never be accepted (malformed, rejected by the destination): retrying will not help. */
export class PermanentError extends Error {
  override name = 'PermanentError';
}

export function isRetryable(err: unknown): err is RetryableError {
  return err instanceof RetryableError;
}
