import { dirname, resolve } from 'node:path';
import { ConfigError } from '../../core/config/diagnostic.js';
import { createLogger } from '../../core/logger.js';
import { openLedger, type ClickhouseConfig } from '../../exporters/clickhouse/index.js';
import { adminClient, dayString, formatReconciliation, reconcileWindow, type AnthropicAdminConfig } from '../../extensions/anthropic_admin/index.js';
import { configErrorExit, EXIT } from '../exit-codes.js';
import { loadCommandConfig } from './load-config.js';
import { pickComponent } from './pick-component.js';

export interface ReconcileCliOptions {
  config: string;
  extension?: string;
  exporter?: string;
  from?: string;
  to?: string;
  format: 'table' | 'json';
}

/**
 * Pulls Anthropic's usage and cost reports for whole UTC days, compares them with the ledger of
 * the configured ClickHouse exporter, stores the rows in its reconciliation table and prints them.
 * Embedded ClickHouse: fails while a running tokenledger holds the data directory (that one
 * reconciles on its own schedule).
 */
export async function reconcileCommand(opts: ReconcileCliOptions, out: (text: string) => void = (t) => process.stdout.write(t)): Promise<number> {
  const fail = (message: string): number => { process.stderr.write(`tokenledger reconcile: ${message}\n`); return EXIT.usage; };
  const config = loadCommandConfig(opts.config);
  if (config instanceof ConfigError) return configErrorExit(config);
  const ext = pickComponent(config.extensions, 'anthropic_admin', opts.extension, 'anthropic_admin extension');
  if (ext instanceof Error) return fail(`${opts.config}: ${ext.message}`);
  const exp = pickComponent(config.exporters, 'clickhouse', opts.exporter, 'clickhouse exporter');
  if (exp instanceof Error) return fail(`${opts.config}: ${exp.message}`);
  const now = Date.now();
  const window = { fromDay: opts.from ?? `${dayString(now).slice(0, 7)}-01`, toDay: opts.to ?? dayString(now + 86_400_000) };
  const cfg = config.extensions[ext] as AnthropicAdminConfig;
  const client = adminClient(cfg);
  let ledger;
  try {
    ledger = await openLedger(config.exporters[exp] as ClickhouseConfig, dirname(resolve(opts.config)), createLogger('warn', { command: 'reconcile' }));
  } catch (err) {
    return fail(client.redact((err as Error).message));
  }
  try {
    const rows = await reconcileWindow(cfg, client, ledger.usage, window, now);
    await ledger.reconciliation.write(rows);
    out(formatReconciliation(rows, opts.format));
    return EXIT.ok;
  } catch (err) {
    return fail(client.redact((err as Error).message));
  } finally {
    await ledger.close();
  }
}
