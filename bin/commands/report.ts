import { factories } from '../components.js';
import { ConfigError, formatDiagnostic } from '../../core/config/diagnostic.js';
import { loadConfigFile } from '../../core/config/load.js';
import { componentType, type AdminConfig, type PipelineConfig } from '../../core/config/types.js';
import { EmbeddedPathLocked } from '../../exporters/clickhouse/client.js';
import type { ClickhouseConfig } from '../../exporters/clickhouse/config.js';
import { REPORT_KEYS, runReport, type ReportKey, type ReportOptions } from '../../exporters/clickhouse/report.js';
import { remoteReport, type AdminApi } from '../../exporters/clickhouse/report-remote.js';
import { splitEndpoint } from '../../core/admin-server.js';
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

/**
 * Spend by day/team/model/..., read from the ClickHouse exporter of pipeline.yaml. When a running
 * tokenledger holds the embedded data directory, the same report comes from its spend API.
 */
export async function reportCommand(opts: ReportCliOptions, out: (text: string) => void = (t) => process.stdout.write(t), env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let config: PipelineConfig;
  try {
    config = loadConfigFile(opts.config, factories).config;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    for (const d of err.diagnostics) process.stderr.write(formatDiagnostic(d) + '\n');
    return EXIT.invalidConfig;
  }
  const exporters = config.exporters;
  const ids = Object.keys(exporters).filter((id) => componentType(id) === 'clickhouse');
  const id = opts.exporter ?? ids[0];
  if (!id || !ids.includes(id)) {
    process.stderr.write(`tokenledger report: ${opts.config}: ${opts.exporter ? `no clickhouse exporter '${opts.exporter}'` : 'no clickhouse exporter'} (clickhouse exporters: ${ids.join(', ') || 'none'})\n`);
    return EXIT.usage;
  }
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
      out(await runReport(exporters[id] as ClickhouseConfig, report, { configDir: dirname(resolve(opts.config)) }));
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
