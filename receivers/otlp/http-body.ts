import type { IncomingMessage } from 'node:http';
import { gunzip, inflate, type InputType, type ZlibOptions } from 'node:zlib';
import { GrpcCode } from './codec/codec.js';
import { failure, type ExportFailure } from './export-handler.js';
import type { ClientUsage } from './clients.js';
import { inFlightFull, type InFlightBytes } from './in-flight.js';

export type ContentCoding = 'identity' | 'gzip' | 'deflate';

export interface BodyLimits {
  maxBytes: number;
  inFlight: InFlightBytes;
  client: ClientUsage;
  retryAfterSeconds: number;
  /** A body from which no byte arrives for this long is cut (its bytes released). */
  stallMs: number;
}

/** A read body and the in-flight bytes it holds, to release once it is answered. */
export interface Body { bytes: Buffer; held: number }

const tooLarge = (max: number) => failure('too_large', GrpcCode.RESOURCE_EXHAUSTED, 413, `request body exceeds ${max} bytes`);
const stalled = (ms: number, received: number, retryAfter: number) =>
  failure('body_stalled', GrpcCode.UNAVAILABLE, 503, `request body stalled: no byte for ${ms} ms after ${received} bytes; nothing was accepted, send it again`, retryAfter);

/**
 * Reads a request body, Content-Length or chunked, refusing as soon as it passes `maxBytes` or
 * the in-flight budget or the client's share of it (bytes are counted as they arrive, not as
 * declared; nothing beyond is buffered), or when no byte arrives for `stallMs`; then decompresses
 * it with the same bound on the output (a gzip bomb stops at `maxBytes`). null when the client went
 * away mid-body.
 */
export async function readBody(req: IncomingMessage, coding: ContentCoding, limits: BodyLimits): Promise<Body | ExportFailure | null> {
  const raw = await readRaw(req, limits);
  if (raw === null || !('bytes' in raw)) return raw;
  if (coding === 'identity') return raw;
  let bytes: Buffer;
  try {
    bytes = await decompress(coding, raw.bytes, limits.maxBytes);
  } catch (err) {
    limits.inFlight.release(raw.held, limits.client);
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ERR_BUFFER_TOO_LARGE') return tooLarge(limits.maxBytes);
    return failure('bad_request', GrpcCode.INVALID_ARGUMENT, 400, `invalid ${coding} body: ${e.message}`);
  }
  // The compressed bytes are garbage now; hold the decompressed size instead.
  const extra = bytes.length - raw.held;
  const refused = extra > 0 ? limits.inFlight.tryAcquire(extra, limits.client) : null;
  if (refused !== null) {
    limits.inFlight.release(raw.held, limits.client);
    return inFlightFull(refused, limits.retryAfterSeconds);
  }
  if (extra < 0) limits.inFlight.release(-extra, limits.client);
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
      clearTimeout(stall);
      req.off('data', onData).off('end', onEnd).off('error', onAbort).off('close', onClose);
      if (!(result !== null && 'bytes' in result)) limits.inFlight.release(size, limits.client);
      resolve(result);
    };
    const stall = setTimeout(() => settle(stalled(limits.stallMs, size, limits.retryAfterSeconds)), limits.stallMs);
    const onData = (chunk: Buffer): void => {
      stall.refresh();
      if (size + chunk.length > limits.maxBytes) return settle(tooLarge(limits.maxBytes));
      const refused = limits.inFlight.tryAcquire(chunk.length, limits.client);
      if (refused !== null) return settle(inFlightFull(refused, limits.retryAfterSeconds));
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
