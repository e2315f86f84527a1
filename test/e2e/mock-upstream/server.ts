/**
 * A mock of the model APIs LiteLLM calls upstream, on 127.0.0.1: Anthropic Messages (and
 * count_tokens), Bedrock runtime (Converse, InvokeModel, both streaming), Vertex rawPredict /
 * streamRawPredict for Claude, OpenAI Chat Completions, and a Google OAuth token endpoint so that
 * Vertex credentials can be exchanged offline. Every request it served is logged with the usage
 * it reported: that log is the ground truth the end-to-end tests compare against.
 */
import { appendFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { anthropicError, anthropicMessage, anthropicStreamEvents, countTokens, sse } from './anthropic.js';
import { bedrockError, converseResponse, converseStream, invokeStream } from './bedrock.js';
import { parseDirective, type Directive, type FinalDelta, type MockError, type MockUsage } from './directives.js';
import { chatCompletion, chatCompletionStream, openaiError } from './openai.js';

export type { FinalDelta, MockUsage, MockError } from './directives.js';
export { directiveText } from './directives.js';

export type ApiKind =
  | 'anthropic.messages'
  | 'anthropic.count_tokens'
  | 'bedrock.converse'
  | 'bedrock.converse_stream'
  | 'bedrock.invoke'
  | 'bedrock.invoke_stream'
  | 'vertex.raw_predict'
  | 'vertex.stream_raw_predict'
  | 'openai.chat'
  | 'google.oauth_token'
  | 'unknown';

export interface ServedCall {
  seq: number;
  time: string;
  method: string;
  path: string;
  api: ApiKind;
  model: string;
  stream: boolean;
  status: number;
  /** '' when the call succeeded, else what the mock did: '429', '529', '500', 'timeout', or a parse error. */
  error: string;
  /** The provider request id (Anthropic `request-id`, Bedrock `x-amzn-requestid`, OpenAI `x-request-id`). */
  requestId: string;
  /** The id in the response body (`msg_…`, `chatcmpl-…`), '' for Converse which has none. */
  responseId: string;
  /** Usage reported to the client, in Anthropic meaning; null when none was reported. */
  usage: MockUsage | null;
  /** The final message_delta's usage form of an Anthropic-event stream (Anthropic, Bedrock invoke, Vertex); '' otherwise. */
  finalDelta: FinalDelta | '';
  mockId: string;
  attempt: number;
  headers: Record<string, string>;
  body: unknown;
}

export interface MockUpstreamOptions {
  port?: number;
  /** Makes ids unique across mock instances; lowercase letters and digits. Default: random. */
  idPrefix?: string;
  /** Usage of a call whose prompt carries no directive. */
  defaultUsage?: Partial<MockUsage>;
  /** Also append every served call to this JSONL file. */
  logFile?: string;
}

export interface MockUpstream {
  url: string;
  port: number;
  calls: ServedCall[];
  /** Calls that succeeded and reported usage: what a gateway should bill. */
  billable(): ServedCall[];
  /** Fail the next `count` model calls that carry no directive of their own. */
  failNext(error: MockError, count?: number): void;
  close(): Promise<void>;
}

const DEFAULT_USAGE: MockUsage = { input: 25, output: 42, cacheRead: 0, cacheWrite5m: 0, cacheWrite1h: 0 };
const SECRET_HEADERS = new Set(['authorization', 'x-api-key', 'x-goog-api-key', 'api-key']);
const BEDROCK_PATH = /\/model\/([^/]+)\/(converse-stream|converse|invoke-with-response-stream|invoke)$/;
const BEDROCK_MODEL_ID = /^((us|eu|apac|global)\.)?anthropic\.claude-[a-z0-9.-]+-v\d+:\d+$|^arn:aws:bedrock:/;
const VERTEX_PATH = /\/publishers\/anthropic\/models\/([^/:]+):(rawPredict|streamRawPredict)$/;

interface Route {
  api: ApiKind;
  model: string;
}

function route(path: string): Route {
  if (path.endsWith('/v1/messages/count_tokens')) return { api: 'anthropic.count_tokens', model: '' };
  if (path.endsWith('/v1/messages')) return { api: 'anthropic.messages', model: '' };
  const b = BEDROCK_PATH.exec(path);
  if (b) {
    const kinds: Record<string, ApiKind> = { converse: 'bedrock.converse', 'converse-stream': 'bedrock.converse_stream', invoke: 'bedrock.invoke', 'invoke-with-response-stream': 'bedrock.invoke_stream' };
    return { api: kinds[b[2]], model: decodeURIComponent(b[1]) };
  }
  const v = VERTEX_PATH.exec(path);
  if (v) return { api: v[2] === 'rawPredict' ? 'vertex.raw_predict' : 'vertex.stream_raw_predict', model: decodeURIComponent(v[1]) };
  if (path.endsWith('/chat/completions')) return { api: 'openai.chat', model: '' };
  if (path === '/token' || path.endsWith('/oauth2/v4/token')) return { api: 'google.oauth_token', model: '' };
  return { api: 'unknown', model: '' };
}

function isStreaming(api: ApiKind, body: Record<string, unknown>): boolean {
  if (api === 'bedrock.converse_stream' || api === 'bedrock.invoke_stream' || api === 'vertex.stream_raw_predict') return true;
  if (api === 'anthropic.messages' || api === 'vertex.raw_predict' || api === 'openai.chat') return body.stream === true;
  return false;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function redactedHeaders(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) {
    if (v === undefined) continue;
    out[k] = SECRET_HEADERS.has(k) ? '<redacted>' : Array.isArray(v) ? v.join(', ') : v;
  }
  return out;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function startMockUpstream(opts: MockUpstreamOptions = {}): Promise<MockUpstream> {
  const prefix = opts.idPrefix ?? randomBytes(3).toString('hex');
  if (!/^[a-z0-9]+$/.test(prefix)) throw new Error(`mock upstream: idPrefix "${prefix}" must be lowercase letters and digits`);
  const baseUsage: MockUsage = { ...DEFAULT_USAGE, ...opts.defaultUsage };
  const calls: ServedCall[] = [];
  const attempts = new Map<string, number>();
  const failQueue: MockError[] = [];
  let seq = 0;

  function record(call: ServedCall): void {
    calls.push(call);
    if (opts.logFile) appendFileSync(opts.logFile, JSON.stringify(call) + '\n');
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    const path = (req.url ?? '/').split('?')[0];
    const r = route(path);
    const n = ++seq;
    const pad = String(n).padStart(6, '0');
    const call: ServedCall = {
      seq: n, time: new Date().toISOString(), method: req.method ?? '', path, api: r.api, model: r.model, stream: false,
      status: 200, error: '', requestId: '', responseId: '', usage: null, finalDelta: '', mockId: '', attempt: 1,
      headers: redactedHeaders(req), body: r.api === 'google.oauth_token' ? '<oauth request>' : raw,
    };
    const send = (status: number, headers: Record<string, string>, payload: string | Buffer): void => {
      call.status = status;
      record(call);
      if (res.destroyed) return;
      res.writeHead(status, headers);
      res.end(payload);
    };

    if (r.api === 'unknown') return send(404, { 'content-type': 'application/json' }, JSON.stringify({ error: `mock upstream: no route for ${req.method} ${path}` }));
    if (r.api === 'google.oauth_token') return send(200, { 'content-type': 'application/json' }, JSON.stringify({ access_token: `ya29.mock-${prefix}`, expires_in: 3600, token_type: 'Bearer' }));

    let body: Record<string, unknown>;
    let directive: Directive | null;
    try {
      body = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
      directive = parseDirective(raw);
    } catch (err) {
      call.error = (err as Error).message;
      return send(400, { 'content-type': 'application/json' }, JSON.stringify({ type: 'error', error: { type: 'invalid_request_error', message: call.error } }));
    }
    call.body = body;
    if (!call.model) call.model = typeof body.model === 'string' ? body.model : '';
    call.stream = isStreaming(r.api, body);

    if (r.api === 'anthropic.count_tokens') return send(200, { 'content-type': 'application/json' }, JSON.stringify({ input_tokens: countTokens(body.messages) }));

    if (r.api.startsWith('bedrock.') && !BEDROCK_MODEL_ID.test(call.model)) {
      // What Bedrock answers for an id it does not know (e.g. a gateway alias or `invoke/…` left in the path).
      call.error = 'invalid model id';
      return send(400, { 'content-type': 'application/json', 'x-amzn-errortype': 'ValidationException:http://internal.amazon.com/coral/com.amazon.bedrock/' }, JSON.stringify({ message: 'The provided model identifier is invalid.' }));
    }

    call.mockId = directive?.id ?? '';
    if (call.mockId) {
      call.attempt = (attempts.get(call.mockId) ?? 0) + 1;
      attempts.set(call.mockId, call.attempt);
    }
    const failure: MockError | null =
      directive?.error != null ? (call.attempt <= directive.times ? directive.error : null) : (failQueue.shift() ?? null);
    if (directive?.delayMs) await sleep(directive.delayMs);

    const bedrock = r.api.startsWith('bedrock.');
    call.requestId = bedrock ? `${prefix.padEnd(8, '0').slice(0, 8)}-0000-4000-8000-${String(n).padStart(12, '0')}` : `req_${prefix}_${pad}`;
    const idHeader: Record<string, string> = bedrock ? { 'x-amzn-requestid': call.requestId } : r.api === 'openai.chat' ? { 'x-request-id': call.requestId } : { 'request-id': call.requestId };

    if (failure === 'timeout') {
      call.error = 'timeout';
      call.status = 0;
      record(call);
      return; // never answer; the socket is destroyed on close()
    }
    if (failure !== null) {
      call.error = String(failure);
      if (bedrock) {
        const e = bedrockError(failure);
        return send(e.status, { 'content-type': 'application/json', 'x-amzn-errortype': `${e.type}:http://internal.amazon.com/coral/com.amazon.bedrock/`, ...idHeader }, JSON.stringify(e.body));
      }
      const payload = r.api === 'openai.chat' ? openaiError(failure) : anthropicError(failure);
      return send(failure, { 'content-type': 'application/json', 'retry-after': '0', ...idHeader }, JSON.stringify(payload));
    }

    const usage: MockUsage = { ...baseUsage, ...directive?.usage };
    const form: FinalDelta = directive?.finalDelta ?? 'output';
    const text = `Mock reply ${n}.`;
    call.usage = usage;
    const json = { 'content-type': 'application/json', ...idHeader };
    const eventStream = { 'content-type': 'application/vnd.amazon.eventstream', ...idHeader };
    const textStream = { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', ...idHeader };
    switch (r.api) {
      case 'anthropic.messages':
      case 'vertex.raw_predict':
      case 'vertex.stream_raw_predict': {
        call.responseId = r.api === 'anthropic.messages' ? `msg_${prefix}_${pad}` : `msg_vrtx_${prefix}_${pad}`;
        if (call.stream) {
          call.finalDelta = form;
          return send(200, textStream, sse(anthropicStreamEvents(call.responseId, call.model, text, usage, form)));
        }
        return send(200, json, JSON.stringify(anthropicMessage(call.responseId, call.model, text, usage)));
      }
      case 'bedrock.invoke':
        call.responseId = `msg_bdrk_${prefix}_${pad}`;
        return send(200, {
          ...json,
          'x-amzn-bedrock-input-token-count': String(usage.input),
          'x-amzn-bedrock-output-token-count': String(usage.output),
          'x-amzn-bedrock-cache-read-input-token-count': String(usage.cacheRead),
          'x-amzn-bedrock-cache-write-input-token-count': String(usage.cacheWrite5m + usage.cacheWrite1h),
        }, JSON.stringify(anthropicMessage(call.responseId, call.model, text, usage)));
      case 'bedrock.invoke_stream':
        call.responseId = `msg_bdrk_${prefix}_${pad}`;
        call.finalDelta = form;
        return send(200, eventStream, invokeStream(call.responseId, call.model, text, usage, form));
      case 'bedrock.converse':
        return send(200, json, JSON.stringify(converseResponse(text, usage)));
      case 'bedrock.converse_stream':
        return send(200, eventStream, converseStream(text, usage));
      case 'openai.chat': {
        call.responseId = `chatcmpl-${prefix}${pad}`;
        const oaiUsage = { ...usage, cacheWrite5m: 0, cacheWrite1h: 0 };
        call.usage = oaiUsage;
        if (!call.stream) return send(200, json, JSON.stringify(chatCompletion(call.responseId, call.model, text, oaiUsage)));
        const opts = body.stream_options as { include_usage?: boolean } | undefined;
        const includeUsage = opts?.include_usage === true;
        if (!includeUsage) call.usage = null;
        return send(200, textStream, chatCompletionStream(call.responseId, call.model, text, oaiUsage, includeUsage));
      }
      default:
        throw new Error(`mock upstream: unhandled api ${r.api}`);
    }
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: Error) => {
      process.stderr.write(`mock upstream: ${err.stack ?? err.message}\n`);
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: err.message }));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    calls,
    billable: () => calls.filter((c) => c.status === 200 && c.usage !== null),
    failNext: (error, count = 1) => {
      for (let i = 0; i < count; i++) failQueue.push(error);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
