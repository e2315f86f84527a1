import { PermanentError, RetryableError } from '../../core/errors.js';

/**
 * ClickHouse error codes meaning "this data will never be accepted" (as Vector's sink does):
 * retrying such a batch would block the queue forever. Everything else (network, timeouts,
 * overload, too many parts, a missing table being recreated) is retried.
 * Codes: https://github.com/ClickHouse/ClickHouse/blob/master/src/Common/ErrorCodes.cpp
 */
const PERMANENT = new Map<number, string>([
  [6, 'CANNOT_PARSE_TEXT'], [8, 'THERE_IS_NO_COLUMN'], [16, 'NO_SUCH_COLUMN_IN_TABLE'], [26, 'CANNOT_PARSE_QUOTED_STRING'],
  [27, 'CANNOT_PARSE_INPUT_ASSERTION_FAILED'], [38, 'CANNOT_PARSE_DATE'], [41, 'CANNOT_PARSE_DATETIME'], [53, 'TYPE_MISMATCH'],
  [62, 'SYNTAX_ERROR'], [69, 'ARGUMENT_OUT_OF_BOUND'], [70, 'CANNOT_CONVERT_TYPE'], [72, 'CANNOT_PARSE_NUMBER'],
  [117, 'INCORRECT_DATA'], [131, 'TOO_LARGE_STRING_SIZE'],
]);

/**
 * A part of a cluster is out of reach: retried until it is back, never dropped. How 18.16 says
 * it: an insert into the Distributed table with a whole shard down fails with
 * `Code: 279 … All connection tries failed. Log: Code: 210 … Connection refused (host:port)`;
 * one replica down is not an error (the next replica takes the insert). A replica that lost its
 * ZooKeeper session refuses inserts with 242, one without ZooKeeper with 225; a write whose
 * outcome the server could not learn says 319.
 */
const UNAVAILABLE = new Map<number, string>([
  [159, 'TIMEOUT_EXCEEDED'], [209, 'SOCKET_TIMEOUT'], [210, 'NETWORK_ERROR'], [225, 'NO_ZOOKEEPER'], [242, 'TABLE_IS_READ_ONLY'],
  [279, 'ALL_CONNECTION_TRIES_FAILED'], [286, 'UNSATISFIED_QUORUM_FOR_PREVIOUS_WRITE'], [319, 'UNKNOWN_STATUS_OF_INSERT'], [999, 'KEEPER_EXCEPTION'],
]);

/** The table or database is gone (dropped by hand?): recreate the schema, then retry. */
export const SCHEMA_MISSING = new Set([60, 81]);

export function clickhouseCode(err: unknown): number | undefined {
  if (!(err instanceof Error)) return undefined;
  const e = err as Error & { code?: unknown; clickhouseCode?: unknown };
  if (typeof e.clickhouseCode === 'number') return e.clickhouseCode;
  if (typeof e.code === 'string' && /^\d+$/.test(e.code)) return Number(e.code);
  const m = /Code: (\d+)[.,]/.exec(err.message); // "Code: 27." today, "Code: 27, e.displayText()" in 18.x
  if (m) return Number(m[1]);
  return err.cause === undefined ? undefined : clickhouseCode(err.cause);
}

/**
 * Wraps a permanent ClickHouse error as PermanentError and an unreachable shard, replica or
 * ZooKeeper as RetryableError (named, for the retry log); returns any other error unchanged,
 * which the sender retries too.
 */
export function classify(err: unknown): unknown {
  const code = clickhouseCode(err);
  if (code === undefined) return err;
  const unavailable = UNAVAILABLE.get(code);
  if (unavailable) return new RetryableError(`ClickHouse cluster unavailable, retrying: ${unavailable} (${code}): ${(err as Error).message}`, undefined, { cause: err });
  const permanent = PERMANENT.get(code);
  if (!permanent) return err;
  return new PermanentError(`ClickHouse rejected the batch: ${permanent} (${code}): ${(err as Error).message}`, { cause: err });
}
