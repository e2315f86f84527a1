import { factories } from '../components.js';
import { ConfigError, formatDiagnostic } from '../../core/config/diagnostic.js';
import { loadConfigFile } from '../../core/config/load.js';
import { componentType } from '../../core/config/types.js';
import { createLogger } from '../../core/logger.js';
import { openLedger, REPORT_KEYS, runReport, type ClickhouseConfig, type ReportKey, type ReportOptions } from '../../exporters/clickhouse/index.js';
import { formatReconciliation } from '../../extensions/anthropic_admin/index.js';
import { dirname, resolve } from 'node:path';
import { EXIT } from '../exit-codes.js';

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
 */
export async function reportCommand(opts: ReportCliOptions, out: (text: string) => void = (t) => process.stdout.write(t), view: string = 'spend'): Promise<number> {
  if (!(REPORT_VIEWS as readonly string[]).includes(view)) {
    process.stderr.write(`tokenledger report: unknown view ${JSON.stringify(view)}; use ${REPORT_VIEWS.join(' or ')}\n`);
    return EXIT.usage;
  }
  let exporters: Record<string, unknown>;
  try {
    exporters = loadConfigFile(opts.config, factories).config.exporters;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    for (const d of err.diagnostics) process.stderr.write(formatDiagnostic(d) + '\n');
    return EXIT.invalidConfig;
  }
  const ids = Object.keys(exporters).filter((id) => componentType(id) === 'clickhouse');
  const id = opts.exporter ?? ids[0];
  if (!id || !ids.includes(id)) {
    process.stderr.write(`tokenledger report: ${opts.config}: ${opts.exporter ? `no clickhouse exporter '${opts.exporter}'` : 'no clickhouse exporter'} (clickhouse exporters: ${ids.join(', ') || 'none'})\n`);
    return EXIT.usage;
  }
  const configDir = dirname(resolve(opts.config));
  if (view === 'reconciliation') return reconciliationReport(exporters[id] as ClickhouseConfig, configDir, opts, out);
  const groupBy = opts.groupBy.split(',').map((s) => s.trim()).filter(Boolean) as ReportKey[];
  const now = new Date();
  const monthStart = `${now.toISOString().slice(0, 7)}-01`;
  try {
    out(await runReport(exporters[id] as ClickhouseConfig, {
      from: opts.from ?? monthStart,
      to: opts.to ?? new Date(now.getTime() + 1000).toISOString(),
      groupBy,
      format: opts.format,
    }, { configDir }));
    return EXIT.ok;
  } catch (err) {
    process.stderr.write(`tokenledger ${(err as Error).message}\n`);
    return EXIT.usage;
  }
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
