import type { IncomingMessage } from 'node:http';
import { gunzip, inflate, type InputType, type ZlibOptions } from 'node:zlib';
import { GrpcCode } from './codec.js';
import { failure, type ExportFailure } from './export-handler.js';
import type { InFlightBytes } from './in-flight.js';

export type ContentCoding = 'identity' | 'gzip' | 'deflate';

export interface BodyLimits {
  maxBytes: number;
  inFlight: InFlightBytes;
  retryAfterSeconds: number;
}

/** A read body and the in-flight bytes it holds, to release once it is answered. */
export interface Body { bytes: Buffer; held: number }

const tooLarge = (max: number) => failure('too_large', GrpcCode.RESOURCE_EXHAUSTED, 413, `request body exceeds ${max} bytes`);
const inFlightFull = (retryAfter: number) =>
  failure('in_flight_limit', GrpcCode.UNAVAILABLE, 503, 'too much data in flight, retry later', retryAfter);

/**
 * Reads a request body, Content-Length or chunked, refusing as soon as it passes `maxBytes` or
 * the in-flight budget (nothing beyond is buffered), then decompresses it with the same bound on
 * the output (a gzip bomb stops at `maxBytes`). null when the client went away mid-body.
 */
export async function readBody(req: IncomingMessage, coding: ContentCoding, limits: BodyLimits): Promise<Body | ExportFailure | null> {
  const raw = await readRaw(req, limits);
  if (raw === null || !('bytes' in raw)) return raw;
  if (coding === 'identity') return raw;
  let bytes: Buffer;
  try {
    bytes = await decompress(coding, raw.bytes, limits.maxBytes);
  } catch (err) {
    limits.inFlight.release(raw.held);
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ERR_BUFFER_TOO_LARGE') return tooLarge(limits.maxBytes);
    return failure('bad_request', GrpcCode.INVALID_ARGUMENT, 400, `invalid ${coding} body: ${e.message}`);
  }
  // The compressed bytes are garbage now; hold the decompressed size instead.
  const extra = bytes.length - raw.held;
  if (extra > 0 && !limits.inFlight.tryAcquire(extra)) {
    limits.inFlight.release(raw.held);
    return inFlightFull(limits.retryAfterSeconds);
  }
  if (extra < 0) limits.inFlight.release(-extra);
  return { bytes, held: bytes.length };
}

function readRaw(req: IncomingMessage, limits: BodyLimits): Promise<Body | ExportFailure | null> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const settle = (result: Body | ExportFailure | null): void => {
      if (settled) return;
      settled = true;
      req.off('data', onData).off('end', onEnd).off('error', onAbort).off('close', onClose);
      if (!(result !== null && 'bytes' in result)) limits.inFlight.release(size);
      resolve(result);
    };
    const onData = (chunk: Buffer): void => {
      if (size + chunk.length > limits.maxBytes) return settle(tooLarge(limits.maxBytes));
      if (!limits.inFlight.tryAcquire(chunk.length)) return settle(inFlightFull(limits.retryAfterSeconds));
      size += chunk.length;
      chunks.push(chunk);
    };
    const onEnd = (): void => settle({ bytes: chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size), held: size });
    const onAbort = (): void => settle(null);
    const onClose = (): void => { if (!req.complete) settle(null); };
    req.on('data', onData).on('end', onEnd).on('error', onAbort).on('close', onClose);
  });
}

function decompress(coding: 'gzip' | 'deflate', input: Buffer, maxOutputLength: number): Promise<Buffer> {
  const fn: (buf: InputType, options: ZlibOptions, cb: (err: Error | null, out: Buffer) => void) => void = coding === 'gzip' ? gunzip : inflate;
  return new Promise((resolve, reject) => fn(input, { maxOutputLength }, (err, out) => (err ? reject(err) : resolve(out))));
}
