import { ConfigError } from '../../core/config/diagnostic.js';
import { splitEndpoint } from '../../core/admin-server.js';
import type { AdminConfig } from '../../core/config/types.js';
import { createLogger } from '../../core/logger.js';
import { EmbeddedPathLocked, openLedger, remoteReport, REPORT_KEYS, runReport, type AdminApi, type ClickhouseConfig, type ReportKey, type ReportOptions } from '../../exporters/clickhouse/index.js';
import { formatReconciliation } from '../../extensions/anthropic_admin/index.js';
import { dirname, resolve } from 'node:path';
import { EXIT } from '../exit-codes.js';
import { loadCommandConfig } from './load-config.js';
import { pickComponent } from './pick-component.js';

export interface ReportCliOptions {
  config: string;
  exporter?: string;
  from?: string;
  to?: string;
  groupBy: string;
  format: ReportOptions['format'];
}

export const REPORT_VIEWS = ['spend', 'reconciliation'] as const;

/**
 * Spend by day/team/customer/model/provider (view `spend`), or the stored reconciliation with
 * providers' reports (view `reconciliation`), read from the ClickHouse exporter of pipeline.yaml.
 * When a running tokenledger holds the embedded data directory, spend comes from its spend API.
 */
export async function reportCommand(opts: ReportCliOptions, out: (text: string) => void = (t) => process.stdout.write(t), view = 'spend', env: NodeJS.ProcessEnv = process.env): Promise<number> {
  if (!(REPORT_VIEWS as readonly string[]).includes(view)) {
    process.stderr.write(`tokenledger report: unknown view ${JSON.stringify(view)}; use ${REPORT_VIEWS.join(' or ')}\n`);
    return EXIT.usage;
  }
  const config = loadCommandConfig(opts.config);
  if (config instanceof ConfigError) return EXIT.invalidConfig;
  const exporters = config.exporters;
  const id = pickComponent(exporters, 'clickhouse', opts.exporter, 'clickhouse exporter');
  if (id instanceof Error) {
    process.stderr.write(`tokenledger report: ${opts.config}: ${id.message}\n`);
    return EXIT.usage;
  }
  const configDir = dirname(resolve(opts.config));
  if (view === 'reconciliation') return reconciliationReport(exporters[id] as ClickhouseConfig, configDir, opts, out);
  const groupBy = opts.groupBy.split(',').map((s) => s.trim()).filter(Boolean) as ReportKey[];
  const now = new Date();
  const report: ReportOptions = {
    from: opts.from ?? `${now.toISOString().slice(0, 7)}-01`,
    to: opts.to ?? new Date(now.getTime() + 1000).toISOString(),
    groupBy,
    format: opts.format,
  };
  try {
    try {
      out(await runReport(exporters[id] as ClickhouseConfig, report, { configDir }));
    } catch (err) {
      if (!(err instanceof EmbeddedPathLocked)) throw err;
      const api = adminApi(config.service.telemetry.admin, env);
      process.stderr.write(`tokenledger report: ${err.path} is held by a running process; asking the spend API of ${api.base} (service.telemetry.admin of ${opts.config}) instead\n`);
      out(await remoteReport(api, id, report));
    }
    return EXIT.ok;
  } catch (err) {
    process.stderr.write(`tokenledger ${(err as Error).message}\n`);
    return EXIT.usage;
  }
}

/** Where this configuration's admin server listens, as a client reaches it, and a token it accepts. */
export function adminApi(admin: AdminConfig, env: NodeJS.ProcessEnv): AdminApi {
  const { host, port } = splitEndpoint(admin.endpoint);
  const reach = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
  const base = `${admin.tls ? 'https' : 'http'}://${reach.includes(':') ? `[${reach}]` : reach}:${port}`;
  const fromEnv = admin.auth.bearer_tokens_env ? (env[admin.auth.bearer_tokens_env] ?? '').split(',').map((t) => t.trim()).filter(Boolean) : [];
  const token = admin.auth.bearer_tokens[0] ?? fromEnv[0];
  return token === undefined ? { base } : { base, token };
}

export const REPORT_GROUP_HELP = `comma-separated: ${REPORT_KEYS.join(', ')}`;

/** Stored reconciliation rows of whole UTC days (default: this month). */
async function reconciliationReport(config: ClickhouseConfig, configDir: string, opts: ReportCliOptions, out: (text: string) => void): Promise<number> {
  const now = new Date();
  const from = (opts.from ?? `${now.toISOString().slice(0, 7)}-01`).slice(0, 10);
  const to = (opts.to ?? new Date(now.getTime() + 86_400_000).toISOString()).slice(0, 10);
  try {
    const ledger = await openLedger(config, configDir, createLogger('warn', { command: 'report' }));
    try {
      out(formatReconciliation(await ledger.reconciliation.read(from, to), opts.format === 'json' ? 'json' : 'table'));
      return EXIT.ok;
    } finally {
      await ledger.close();
    }
  } catch (err) {
    process.stderr.write(`tokenledger report reconciliation: ${(err as Error).message}\n`);
    return EXIT.usage;
  }
}
