import { PermanentError } from '../../core/errors.js';

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

/** Wraps a permanent ClickHouse error as PermanentError; returns any other error unchanged. */
export function classify(err: unknown): unknown {
  const code = clickhouseCode(err);
  const name = code === undefined ? undefined : PERMANENT.get(code);
  if (!name) return err;
  return new PermanentError(`ClickHouse rejected the batch: ${name} (${code}): ${(err as Error).message}`, { cause: err });
}
