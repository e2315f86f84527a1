/**
 * What the pinned Claude Code versions really send, checked without any decoder of ours: each
 * version × OTLP protocol is run against a recording sink, and the raw exports must carry the
 * api_request event and the token/cost metrics with the session and resource attributes. This
 * separates a Claude Code export regression from a tokenledger bug.
 *
 * TOKENLEDGER_WRITE_CAPTURES=1 also writes the exports to
 * test/fixtures/claude-code/e2e-captures/<version>-<protocol>/ (see the README there).
 */
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serviceAvailable } from '../../helpers/services.js';
import { startMockUpstream, type MockUpstream, type MockUsage } from '../mock-upstream/server.js';
import { CLAUDE_CODE_VERSIONS, OTLP_PROTOCOLS, claudeBinary, runClaude } from './cli.js';
import { startEgressTrap, type EgressTrap } from './egress-trap.js';
import { saveExports, startOtlpRecorder, type RecordedExport } from './otlp-recorder.js';
import { promptFor } from './rows.js';

const CAPTURES = join(dirname(fileURLToPath(import.meta.url)), '../../fixtures/claude-code/e2e-captures');
const writeCaptures = process.env.TOKENLEDGER_WRITE_CAPTURES === '1';

const missing = CLAUDE_CODE_VERSIONS.filter((v) => !claudeBinary(v));
const ready = serviceAvailable('claude-code CLI', missing.length === 0, `versions ${missing.join(', ')} not installed; run scripts/setup-claude-code.sh`);

const CONTENT_TYPE = { grpc: 'application/grpc', 'http/protobuf': 'application/x-protobuf', 'http/json': 'application/json' } as const;
const USAGE: MockUsage = { input: 25, output: 42, cacheRead: 9800, cacheWrite5m: 1200, cacheWrite1h: 0 };

interface JsonLogs {
  resourceLogs: { resource: { attributes: { key: string; value: Record<string, unknown> }[] }; scopeLogs: { logRecords: { body?: { stringValue?: string }; attributes: { key: string; value: Record<string, unknown> }[] }[] }[] }[];
}

function attr(list: { key: string; value: Record<string, unknown> }[], key: string): unknown {
  const v = list.find((a) => a.key === key)?.value;
  return v ? Object.values(v)[0] : undefined;
}

describe.skipIf(!ready)('Claude Code OTLP export, as recorded on the wire', () => {
  let mock: MockUpstream;
  let trap: EgressTrap;

  beforeAll(async () => {
    mock = await startMockUpstream({ idPrefix: 'ccwire' });
    trap = await startEgressTrap();
  });
  afterAll(async () => {
    await mock?.close();
    await trap?.close();
  });

  for (const version of CLAUDE_CODE_VERSIONS) {
    for (const protocol of OTLP_PROTOCOLS) {
      it(`${version} over ${protocol}: logs with api_request and metrics with token/cost usage, nothing off loopback`, async () => {
        const recorder = await startOtlpRecorder();
        try {
          const id = `wire-${version}-${protocol}`.replace(/[^a-z0-9]+/gi, '-');
          const run = await runClaude({
            version, baseUrl: mock.url, apiKey: 'sk-ant-e2e-wire', egressProxy: trap.url,
            otlp: { protocol, endpoint: protocol === 'grpc' ? recorder.grpcEndpoint : recorder.httpEndpoint, headers: { authorization: 'Bearer e2e-sink' } },
            resourceAttributes: { 'team.id': 'platform' },
            customHeaders: { 'x-tenant-id': 'acme' },
            prompt: promptFor(id, USAGE),
          });
          expect(run.exitCode, run.stderr).toBe(0);
          const served = mock.billable().filter((s) => s.mockId === id);
          expect(served).toHaveLength(1);
          expect(served[0].headers['x-tenant-id']).toBe('acme');

          // -p mode flushes on exit; allow a moment for the last request to be read.
          const has = (e: RecordedExport[], signal: string, needle: string): boolean =>
            e.some((x) => x.signal === signal && x.body.includes(needle));
          await recorder.waitFor((e) => has(e, 'logs', 'claude_code.api_request') && has(e, 'metrics', 'claude_code.token.usage'), 5000);
          const exports = recorder.exports;
          for (const e of exports) {
            expect(e.transport).toBe(protocol === 'grpc' ? 'grpc' : 'http');
            expect(e.contentType.split(';')[0]).toBe(CONTENT_TYPE[protocol]);
            expect(e.extraHeaders.authorization).toBe('Bearer e2e-sink');
            expect(e.body.includes(run.result.session_id), `${e.signal} export carries session.id`).toBe(true);
            expect(e.body.includes('platform'), `${e.signal} export carries team.id`).toBe(true);
          }
          expect(has(exports, 'metrics', 'claude_code.cost.usage')).toBe(true);
          expect(has(exports, 'logs', served[0].requestId)).toBe(true);

          if (protocol === 'http/json') {
            const records = exports.filter((e) => e.signal === 'logs')
              .flatMap((e) => (JSON.parse(e.body.toString('utf8')) as JsonLogs).resourceLogs)
              .flatMap((rl) => rl.scopeLogs.flatMap((sl) => sl.logRecords))
              .filter((r) => r.body?.stringValue === 'claude_code.api_request');
            expect(records).toHaveLength(1);
            const a = records[0].attributes;
            expect(Number(attr(a, 'input_tokens'))).toBe(USAGE.input);
            expect(Number(attr(a, 'output_tokens'))).toBe(USAGE.output);
            expect(Number(attr(a, 'cache_read_tokens'))).toBe(USAGE.cacheRead);
            expect(Number(attr(a, 'cache_creation_tokens'))).toBe(USAGE.cacheWrite5m + USAGE.cacheWrite1h);
            expect(Number(attr(a, 'cost_usd'))).toBeCloseTo(run.result.total_cost_usd, 9);
            expect(attr(a, 'request_id')).toBe(served[0].requestId);
            expect(attr(a, 'session.id')).toBe(run.result.session_id);
          }
          expect(trap.attempts).toEqual([]);

          if (writeCaptures) {
            const dir = join(CAPTURES, `v${version}-${protocol.replace('/', '-')}`);
            await saveExports(dir, exports);
            writeFileSync(join(dir, 'claude-result.json'), JSON.stringify(run.result, null, 2) + '\n');
            writeFileSync(join(dir, 'mock-call.json'), JSON.stringify({ requestId: served[0].requestId, responseId: served[0].responseId, model: served[0].model, stream: served[0].stream, usage: served[0].usage }, null, 2) + '\n');
          }
          process.stdout.write(`[claude-code wire ${version} ${protocol}] ${exports.length} exports (${exports.map((e) => `${e.signal} ${e.body.length} B${e.transferEncoding ? ' ' + e.transferEncoding : ''}`).join(', ')}), run ${run.durationMs} ms\n`);
        } finally {
          await recorder.close();
        }
      }, 60_000);
    }
  }
});
