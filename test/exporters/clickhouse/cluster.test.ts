import type { ClickHouseClient } from '@clickhouse/client';
import { afterAll, beforeAll, beforeEach, describe } from 'vitest';
import { serviceAvailable } from '../../helpers/services.js';
import { CLUSTER, CLUSTER_URL, clusterClient, clusterConfig, clusterUp } from './cluster.js';
import { testDatabase } from './helpers.js';
import { storeSuite, type Target } from './store-suite.js';

const up = serviceAvailable('clickhouse cluster', await clusterUp(), `no cluster '${CLUSTER}' of four replicas answers on ${CLUSTER_URL}; run scripts/dev-cluster.sh`);

describe.skipIf(!up)(`clickhouse exporter on the cluster '${CLUSTER}' (2 shards × 2 replicas) at ${CLUSTER_URL}`, () => {
  let client: ClickHouseClient;
  const created: string[] = [];
  let current: Target;

  beforeAll(() => { client = clusterClient(); });
  afterAll(async () => {
    for (const db of created) await client.command({ query: `DROP DATABASE IF EXISTS ${db} ON CLUSTER ${CLUSTER}` });
    await client.close();
  });

  describe('the single-server behaviour holds through Distributed tables', () => {
    beforeEach(() => {
      const db = testDatabase('cl');
      created.push(db);
      current = { config: clusterConfig(db), client, modern: false };
    });
    storeSuite(() => current);
  });
});
