import { factories } from '../components.js';
import { ConfigError, formatDiagnostic } from '../../core/config/diagnostic.js';
import { loadConfigFile } from '../../core/config/load.js';
import { componentType } from '../../core/config/types.js';
import { REPORT_KEYS, runReport, type ClickhouseConfig, type ReportKey, type ReportOptions } from '../../exporters/clickhouse/index.js';
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

/** Spend by day/team/customer/model/provider, read from the ClickHouse exporter of pipeline.yaml. */
export async function reportCommand(opts: ReportCliOptions, out: (text: string) => void = (t) => process.stdout.write(t)): Promise<number> {
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
  const groupBy = opts.groupBy.split(',').map((s) => s.trim()).filter(Boolean) as ReportKey[];
  const now = new Date();
  const monthStart = `${now.toISOString().slice(0, 7)}-01`;
  try {
    out(await runReport(exporters[id] as ClickhouseConfig, {
      from: opts.from ?? monthStart,
      to: opts.to ?? new Date(now.getTime() + 1000).toISOString(),
      groupBy,
      format: opts.format,
    }, { configDir: dirname(resolve(opts.config)) }));
    return EXIT.ok;
  } catch (err) {
    process.stderr.write(`tokenledger ${(err as Error).message}\n`);
    return EXIT.usage;
  }
}

export const REPORT_GROUP_HELP = `comma-separated: ${REPORT_KEYS.join(', ')}`;
