/**
 * An OTLP/HTTP endpoint that only records: every export request's body (decompressed) and headers,
 * one file per request plus an index.jsonl, in the layout of test/fixtures/claude-code/otlp/.
 */
import { mkdirSync, writeFileSync, appendFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';

export interface SinkRequest {
  n: number;
  at: string;
  method: string;
  url: string;
  signal: string;
  content_type: string;
  content_encoding: string | null;
  user_agent: string;
  extra_headers: Record<string, string>;
  bytes: number;
  file: string;
  body: Buffer;
}

export interface OtlpSink {
  url: string;
  requests: SinkRequest[];
  /** Resolves once at least `n` export requests of `signal` arrived, or rejects after `timeoutMs`. */
  waitFor(signal: string, n: number, timeoutMs: number): Promise<void>;
  /** From now on write files into `dir` (numbering restarts at 1); null stops writing. */
  recordTo(dir: string | null): void;
  close(): Promise<void>;
}

const STANDARD_HEADERS = new Set(['host', 'content-type', 'content-length', 'content-encoding', 'user-agent', 'accept', 'accept-encoding', 'connection', 'transfer-encoding']);

export async function startOtlpSink(): Promise<OtlpSink> {
  const requests: SinkRequest[] = [];
  let dir: string | null = null;
  let fileNo = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const encoding = req.headers['content-encoding'] ?? null;
      const body = encoding === 'gzip' ? gunzipSync(raw) : raw;
      const contentType = req.headers['content-type'] ?? '';
      const signal = (req.url ?? '').replace(/^.*\/v1\//, '').replace(/\?.*$/, '') || 'unknown';
      const extra: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (!STANDARD_HEADERS.has(k) && typeof v === 'string') extra[k] = v;
      const n = dir ? ++fileNo : requests.length + 1;
      const file = `${String(n).padStart(3, '0')}-${signal}.${contentType.includes('json') ? 'json' : 'pb'}`;
      const rec: SinkRequest = { n, at: new Date().toISOString(), method: req.method ?? '', url: req.url ?? '', signal, content_type: contentType, content_encoding: encoding, user_agent: req.headers['user-agent'] ?? '', extra_headers: extra, bytes: body.length, file, body };
      requests.push(rec);
      if (dir) {
        writeFileSync(join(dir, file), body);
        const { body: _omit, ...index } = rec;
        appendFileSync(join(dir, 'index.jsonl'), JSON.stringify(index) + '\n');
      }
      // An empty ExportTraceServiceRequest response is a valid (full success) answer in both encodings.
      res.writeHead(200, { 'content-type': contentType.includes('json') ? 'application/json' : 'application/x-protobuf' });
      res.end(contentType.includes('json') ? '{}' : '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    recordTo(d) {
      dir = d;
      fileNo = 0;
      if (d) mkdirSync(d, { recursive: true });
    },
    async waitFor(signal, n, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (requests.filter((r) => r.signal === signal).length < n) {
        if (Date.now() > deadline) throw new Error(`OTLP sink: ${n} ${signal} export(s) expected within ${timeoutMs} ms, got ${requests.filter((r) => r.signal === signal).length}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
