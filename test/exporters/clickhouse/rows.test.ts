import { describe, expect, it } from 'vitest';
import { Ajv } from 'ajv';
import { PermanentError, RetryableError } from '../../../core/errors.js';
import { defaults, schema } from '../../../exporters/clickhouse/config.js';
import { classify, clickhouseCode } from '../../../exporters/clickhouse/errors.js';
import { featuresOf } from '../../../exporters/clickhouse/features.js';
import { convertRow, encodeRecord, insertBody, invalidReason, recordDay, recordRow, splitTimestamp, toRow, VersionClock } from '../../../exporters/clickhouse/rows.js';
import { refreshSql } from '../../../exporters/clickhouse/rollup.js';
import { callColumns, MIGRATIONS } from '../../../exporters/clickhouse/schema.js';
import { labelExpr, sqlString } from '../../../exporters/clickhouse/sql.js';
import { format, parseInstant } from '../../../exporters/clickhouse/report.js';
import { makeCall } from './helpers.js';

describe('featuresOf', () => {
  it('gives Debian 18.16 none of the new types and chDB 26.7 all of them', () => {
    expect(featuresOf('18.16.1')).toMatchObject({ dateTime64: false, map: false, lowCardinality: false, ttl: false, bool: false, dedupToken: false });
    expect(featuresOf('26.7.2.1')).toMatchObject({ dateTime64: true, map: true, lowCardinality: true, ttl: true, bool: true, dedupToken: true });
    expect(featuresOf('19.8.3')).toMatchObject({ lowCardinality: true, ttl: true, dateTime64: false });
  });

  it('refuses a version it cannot read', () => {
    expect(() => featuresOf('unknown')).toThrow(/cannot read the ClickHouse version/);
  });
});

describe('schema DDL', () => {
  const t = (version: string, extra = {}) => ({ database: 'db', table: 'calls', features: featuresOf(version), ...extra });

  it('covers every LlmCall field on both server generations', () => {
    const fields = Object.keys(makeCall(0));
    for (const v of ['18.16.1', '26.7.2.1']) {
      const names = callColumns(featuresOf(v)).map(([n]) => n.replace(/_(keys|values|us)$/, ''));
      for (const f of fields) expect(names, `${f} on ${v}`).toContain(f);
    }
  });

  it('uses a ReplacingMergeTree keyed by day, model and call_id, with TTL only where supported', () => {
    const [calls] = MIGRATIONS[0].statements(t('26.7.2.1', { ttlDays: 400 }));
    expect(calls).toMatch(/ENGINE = ReplacingMergeTree\(ingest_version\)/);
    expect(calls).toMatch(/ORDER BY \(toDate\(timestamp\), model, call_id\)/);
    expect(calls).toMatch(/TTL toDateTime\(timestamp\) \+ INTERVAL 400 DAY/);
    expect(calls).toMatch(/non_replicated_deduplication_window/);
    const [old] = MIGRATIONS[0].statements(t('18.16.1', { ttlDays: 400 }));
    expect(old).not.toMatch(/TTL|SETTINGS|LowCardinality|Map\(|DateTime64/);
  });

  it('with a cluster: ON CLUSTER, Replicated engines and Distributed tables sharded by call_id', () => {
    const stmts = MIGRATIONS[0].statements(t('24.8.1', { cluster: 'prod' }));
    expect(stmts).toHaveLength(4);
    expect(stmts[0]).toMatch(/CREATE TABLE IF NOT EXISTS db\.calls_local ON CLUSTER prod .*ENGINE = ReplicatedReplacingMergeTree\('\/clickhouse\/tables\/\{shard\}\/db\/calls_local', '\{replica\}', ingest_version\)/s);
    expect(stmts[1]).toBe('CREATE TABLE IF NOT EXISTS db.calls ON CLUSTER prod AS db.calls_local ENGINE = Distributed(prod, db, calls_local, cityHash64(call_id))');
    expect(stmts[3]).toMatch(/db\.calls_daily ON CLUSTER prod AS db\.calls_daily_local/);
  });

  it('builds the rollup refresh from FINAL and rejects a malformed day', () => {
    const sql = refreshSql('db', 'calls', ['2026-11-20'], 7);
    expect(sql).toMatch(/FROM db\.calls FINAL WHERE toDate\(timestamp\) IN \(toDate\('2026-11-20'\)\)/);
    expect(sql).toMatch(/FROM db\.calls_daily FINAL/);
    expect(() => refreshSql('db', 'calls', ["2026-11-20') OR (1"], 7)).toThrow(/is not a day/);
  });
});

describe('rows', () => {
  it('splits RFC 3339 timestamps to the microsecond, whatever the number of digits', () => {
    expect(splitTimestamp('2026-11-24T17:48:17.123456789Z')).toEqual({ seconds: '2026-11-24 17:48:17', micros: 123456 });
    expect(splitTimestamp('2026-11-24T17:48:17.5Z')).toEqual({ seconds: '2026-11-24 17:48:17', micros: 500000 });
    expect(splitTimestamp('2026-11-24T17:48:17Z')).toEqual({ seconds: '2026-11-24 17:48:17', micros: 0 });
    expect(splitTimestamp('2026-11-24T19:48:17.250+02:00')).toEqual({ seconds: '2026-11-24 17:48:17', micros: 250000 });
  });

  it('lays a row out for either table layout', () => {
    const modern = toRow({ v: 42, c: makeCall(1) }, { dateTime64: true, maps: true });
    expect(modern).toMatchObject({ timestamp: '2026-11-21 10:01:05.123456', dimensions: { project: 'p1', env: 'prod' }, ingest_version: 42 });
    expect(modern).not.toHaveProperty('timestamp_us');
    const old = toRow({ v: 42, c: makeCall(1) }, { dateTime64: false, maps: false });
    expect(old).toMatchObject({ timestamp: '2026-11-21 10:01:05', timestamp_us: 123456, dimensions_keys: ['project', 'env'], dimensions_values: ['p1', 'prod'] });
    expect(old).not.toHaveProperty('dimensions');
  });

  it('queues rows serialized for the table, and converts records queued for another layout', () => {
    const layouts = [false, true].flatMap((dateTime64) => [false, true].map((maps) => ({ dateTime64, maps })));
    for (const from of [undefined, ...layouts]) {
      const record = encodeRecord(makeCall(1), 42, from);
      expect(recordDay(record)).toBe('2026-11-21');
      for (const to of layouts) {
        expect(JSON.parse(recordRow(record, to)), `${JSON.stringify(from)} → ${JSON.stringify(to)}`).toEqual(JSON.parse(JSON.stringify(toRow({ v: 42, c: makeCall(1) }, to))));
      }
    }
    const same = encodeRecord(makeCall(1), 42, layouts[3]);
    expect(recordRow(same, layouts[3])).toBe(same.slice(11)); // passed through, not re-encoded
    expect(() => recordRow('x2026-11-21{}', layouts[0])).toThrow(/unknown layout tag/);
    expect(convertRow({ timestamp: '2026-11-21 10:01:05', timestamp_us: 5 }, layouts[0], layouts[2]).timestamp).toBe('2026-11-21 10:01:05.000005');
  });

  it('names what would make an insert fail', () => {
    expect(invalidReason(makeCall(1))).toBeUndefined();
    expect(invalidReason(makeCall(1, { call_id: '' }))).toMatch(/call_id/);
    expect(invalidReason(makeCall(1, { timestamp: 'yesterday' }))).toMatch(/timestamp/);
    expect(invalidReason(makeCall(1, { output_tokens: -1 }))).toMatch(/output_tokens/);
    expect(invalidReason(makeCall(1, { input_tokens: 1.5 }))).toMatch(/input_tokens/);
    expect(invalidReason(makeCall(1, { cost_usd: Number.NaN }))).toMatch(/cost_usd/);
  });

  it('issues strictly increasing versions even within one millisecond', () => {
    const c = new VersionClock();
    const vs = [c.next(1000), c.next(1000), c.next(999), c.next(2000)];
    expect(vs).toEqual([1_000_000, 1_000_001, 1_000_002, 2_000_000]);
  });
});

describe('SQL literals', () => {
  it('escapes quotes and backslashes, and reads dimensions in either layout', () => {
    expect(sqlString("a'b\\c")).toBe("'a\\'b\\\\c'");
    expect(labelExpr({ dateTime64: true, maps: true }, 'team')).toBe('`team`');
    expect(labelExpr({ dateTime64: true, maps: true }, "pro'ject")).toBe("dimensions['pro\\'ject']");
    expect(labelExpr({ dateTime64: false, maps: false }, 'project')).toBe("dimensions_values[indexOf(dimensions_keys, 'project')]");
  });
});

describe('error classification', () => {
  it('treats bad data as permanent and everything else as retryable', () => {
    const parse = Object.assign(new Error('Cannot parse input'), { code: '27' });
    expect(clickhouseCode(parse)).toBe(27);
    expect(classify(parse)).toBeInstanceOf(PermanentError);
    const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    expect(classify(refused)).toBe(refused);
    expect(clickhouseCode(new Error('Code: 53. DB::Exception: Type mismatch'))).toBe(53);
    expect(clickhouseCode(new Error('Code: 27, e.displayText() = DB::Exception: Cannot parse input'))).toBe(27);
    const tooMany = new Error('Code: 252. DB::Exception: Too many parts');
    expect(classify(tooMany)).toBe(tooMany);
  });

  it('names an unreachable shard as retryable, as clickhouse-server 18.16 reports it for a Distributed insert', () => {
    // Verbatim (abridged) from 18.16 with both replicas of shard 2 killed; cluster.test.ts sees it live.
    const shardDown = new Error('Code: 279, e.displayText() = DB::NetException: All connection tries failed. Log: \n\nCode: 210, e.displayText() = DB::NetException: Connection refused (127.0.0.1:9134), e.what() = DB::NetException\n\n: Insertion status:\nWrote 1 blocks and 52 rows on shard 0 replica 0, 127.0.0.1:9131 (average 0 ms per block)\n, e.what() = DB::NetException');
    const c = classify(shardDown);
    expect(c).toBeInstanceOf(RetryableError);
    expect((c as Error).message).toMatch(/^ClickHouse cluster unavailable, retrying: ALL_CONNECTION_TRIES_FAILED \(279\)/);
    expect(classify(new Error('Code: 242, e.displayText() = DB::Exception: Table is in readonly mode'))).toBeInstanceOf(RetryableError);
  });
});

describe('config schema', () => {
  const ajv = new Ajv({ useDefaults: true, allErrors: true, strict: false });
  const validate = ajv.compile(schema);

  it('fills in the documented defaults: embedded with a disk queue', () => {
    const cfg: Record<string, unknown> = {};
    expect(validate(cfg)).toBe(true);
    expect(cfg).toEqual(defaults);
  });

  it('rejects unknown keys and identifiers that would need quoting', () => {
    expect(validate({ tabel: 'x' })).toBe(false);
    expect(validate({ table: 'calls; DROP TABLE x' })).toBe(false);
    expect(validate({ queue: { type: 'kafka' } })).toBe(false);
    expect(validate({ retry: { max_elapsed: '-1s' } })).toBe(false);
  });

  it('describes every property', () => {
    const walk = (s: Record<string, unknown>, path: string): void => {
      const props = s.properties as Record<string, Record<string, unknown>> | undefined;
      if (!props) return;
      for (const [k, v] of Object.entries(props)) {
        expect(typeof v.description, `${path}${k}`).toBe('string');
        walk(v, `${path}${k}.`);
      }
    };
    walk(schema as unknown as Record<string, unknown>, '');
  });
});

describe('report formatting', () => {
  it('reads bare dates and times as UTC and refuses nonsense', () => {
    expect(parseInstant('2026-11-20', 'from')).toBe(Date.UTC(2026, 10, 20));
    expect(parseInstant('2026-11-20T12:00:00', 'from')).toBe(Date.UTC(2026, 10, 20, 12));
    expect(parseInstant('2026-11-20T12:00:00+01:00', 'from')).toBe(Date.UTC(2026, 10, 20, 11));
    expect(() => parseInstant('last tuesday', 'from')).toThrow(/--from "last tuesday" is not a date/);
  });

  it('quotes CSV cells that need it', () => {
    const csv = format([{ team: 'a,"b"', calls: 1, input_tokens: 2, output_tokens: 3, cache_read_tokens: 4, cache_write_tokens: 5, cost_usd: 0.1 }], ['team'], 'csv');
    expect(csv).toBe('team,calls,input_tokens,output_tokens,cache_read_tokens,cache_write_tokens,cost_usd\n"a,""b""",1,2,3,4,5,0.100000\n');
  });

  it('insertBody is the rows as UTF-8 lines, multi-byte characters and escaped control characters included', () => {
    const rows = [
      encodeRecord(makeCall(1, { user: 'zoë 名前 🚀' }), 1, { dateTime64: true, maps: true }).slice(11),
      encodeRecord(makeCall(2, { team: 'tab\tnew\nline' }), 2, { dateTime64: false, maps: false }).slice(11),
      '{"call_id":"x"}',
    ];
    const body = insertBody(rows);
    expect(body.equals(Buffer.from(rows.join('\n') + '\n', 'utf8'))).toBe(true);
    expect(body.toString('utf8').split('\n').slice(0, -1).map((l) => (JSON.parse(l) as { call_id: string }).call_id)).toEqual(['call-1', 'call-2', 'x']);
  });
});
