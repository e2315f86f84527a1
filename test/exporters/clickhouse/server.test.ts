import { createClient, type ClickHouseClient } from '@clickhouse/client';
import { afterAll, beforeAll, beforeEach, describe } from 'vitest';
import { serviceAvailable } from '../../helpers/services.js';
import { SERVER_URL, serverConfig, serverUp, testDatabase } from './helpers.js';
import { storeSuite, type Target } from './store-suite.js';

const up = serviceAvailable('clickhouse-server', await serverUp(), `nothing answers on ${SERVER_URL}/ping`);

describe.skipIf(!up)(`clickhouse exporter against clickhouse-server at ${SERVER_URL}`, () => {
  let client: ClickHouseClient;
  let modern = false;
  const created: string[] = [];
  let current: Target;

  beforeAll(async () => {
    client = createClient({ url: SERVER_URL });
    const [{ v }] = await (await client.query({ query: 'SELECT version() AS v', format: 'JSONEachRow' })).json<{ v: string }>();
    modern = Number(v.split('.')[0]) >= 22;
  });

  beforeEach(() => {
    const db = testDatabase('srv');
    created.push(db);
    current = { config: serverConfig(db), client, modern };
  });

  afterAll(async () => {
    for (const db of created) await client.command({ query: `DROP DATABASE IF EXISTS ${db}` });
    await client.close();
  });

  storeSuite(() => current);
});
