/** What the Claude Code scenarios need besides the CLI: a built tokenledger and, for server mode, a ClickHouse server. */
import { existsSync } from 'node:fs';
import { answers } from '../../helpers/net.js';
import { TOKENLEDGER_JS } from '../harness/tokenledger.js';

export const CLICKHOUSE_SERVER_URL = process.env.TOKENLEDGER_CLICKHOUSE_URL ?? 'http://127.0.0.1:8123';

export function tokenledgerBuilt(): boolean {
  return existsSync(TOKENLEDGER_JS);
}

/** Whether a ClickHouse server answers /ping (a refused connection means no). */
export function clickhouseServerUp(url = CLICKHOUSE_SERVER_URL): Promise<boolean> {
  return answers(`${url}/ping`);
}

export async function dropDatabase(url: string, database: string): Promise<void> {
  const res = await fetch(url, { method: 'POST', body: `DROP DATABASE IF EXISTS ${database}`, signal: AbortSignal.timeout(10_000) });
  if (!res.ok) throw new Error(`ClickHouse ${url}: DROP DATABASE ${database}: HTTP ${res.status}: ${(await res.text()).slice(0, 300)}`);
}
