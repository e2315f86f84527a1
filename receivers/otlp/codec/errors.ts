/** The request body is not a valid OTLP export request. The message says what was wrong. */
export class OtlpDecodeError extends Error {
  override name = 'OtlpDecodeError';
}
