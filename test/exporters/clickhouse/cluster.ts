import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { createClient, type ClickHouseClient } from '@clickhouse/client';
import { CLUSTER_SETTINGS } from '../../../exporters/clickhouse/client.js';
import type { ClickhouseConfig } from '../../../exporters/clickhouse/config.js';
import { rows, serverConfig, serverUp } from './helpers.js';

/** The cluster scripts/dev-cluster.sh runs: `ledger`, two shards × two replicas, s1r1 on :8131. */
export const CLUSTER_URL = process.env.TOKENLEDGER_CLUSTER_URL ?? 'http://127.0.0.1:8131';
export const CLUSTER = 'ledger';
export const NODES = { s1r1: 8131, s1r2: 8132, s2r1: 8133, s2r2: 8134 } as const;
export type Node = keyof typeof NODES;
const SCRIPT = resolve(import.meta.dirname, '../../../scripts/dev-cluster.sh');

/** True when the entry node answers and knows the cluster `ledger` with four replicas. */
export async function clusterUp(): Promise<boolean> {
  if (!(await serverUp(CLUSTER_URL))) return false;
  const c = clusterClient();
  try {
    const [r] = await rows<{ n: string }>(c, `SELECT count() AS n FROM system.clusters WHERE cluster = '${CLUSTER}'`);
    return Number(r.n) === 4;
  } finally {
    await c.close();
  }
}

/** A client on one node, with the exporter's cluster settings (synchronous inserts, replicas in order). */
export function clusterClient(node: Node = 's1r1'): ClickHouseClient {
  const url = node === 's1r1' ? CLUSTER_URL : `http://127.0.0.1:${NODES[node]}`;
  return createClient({ url, clickhouse_settings: CLUSTER_SETTINGS });
}

export function clusterConfig(database: string, over: Partial<ClickhouseConfig> = {}): ClickhouseConfig {
  return serverConfig(database, { url: CLUSTER_URL, cluster: CLUSTER, ...over });
}

/** Runs scripts/dev-cluster.sh: `kill s2r1` crashes a node, `start` brings back whatever is down. */
export async function clusterCtl(...args: string[]): Promise<void> {
  await promisify(execFile)('bash', [SCRIPT, ...args], { timeout: 90_000 });
}

/** Waits until every replica has fetched what its shard received (SYSTEM SYNC REPLICA on each). */
export async function syncReplicas(database: string, table: string): Promise<void> {
  for (const node of Object.keys(NODES) as Node[]) {
    const c = clusterClient(node);
    try {
      await c.command({ query: `SYSTEM SYNC REPLICA ${database}.${table}` });
    } finally {
      await c.close();
    }
  }
}

/** Distinct calls in one node's local table: where the data physically is. */
export async function localIds(node: Node, database: string, table: string): Promise<number> {
  const c = clusterClient(node);
  try {
    const [r] = await rows<{ ids: string }>(c, `SELECT uniqExact(call_id) AS ids FROM ${database}.${table}`);
    return Number(r.ids);
  } finally {
    await c.close();
  }
}
