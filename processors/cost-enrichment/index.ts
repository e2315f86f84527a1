import { isAbsolute, resolve } from 'node:path';
import type { ProcessorFactory } from '../../core/component.js';
import { bundledCatalog, fileCatalog } from './catalog.js';
import { defaults, schema, type CostEnrichmentConfig } from './config.js';
import { costEnrichmentMetrics } from './metrics.js';
import { OnceLog } from './once-log.js';
import { compileOverrides } from './overrides.js';
import { Pricer, type Notice } from './pricer.js';
import { CostEnrichmentProcessor } from './processor.js';
import { validateCostEnrichment } from './validate.js';

export type { CostEnrichmentConfig } from './config.js';
export { Pricer, priceCalls } from './pricer.js';

/** A pricer for a validated config: reads the data file (relative to configDir) and compiles the overrides. */
export function pricerFor(config: CostEnrichmentConfig, configDir: string, notice?: Notice): Pricer {
  const catalog = config.data_file
    ? fileCatalog(isAbsolute(config.data_file) ? config.data_file : resolve(configDir, config.data_file))
    : bundledCatalog();
  return new Pricer(catalog, compileOverrides(config.overrides), notice);
}

/**
 * `cost-enrichment`: cost_usd and price_ref on every LlmCall. The catalog and overrides are read
 * at create(), so a SIGHUP reload (which recreates components) picks up a new data_file for free.
 */
export const costEnrichmentFactory: ProcessorFactory<CostEnrichmentConfig> = {
  kind: 'processor',
  type: 'cost-enrichment',
  readsTelemetry: false,
  schema,
  defaults,
  metrics: costEnrichmentMetrics,
  validate: validateCostEnrichment,
  create(config, ctx) {
    const log = new OnceLog(ctx.logger);
    const pricer = pricerFor(config, ctx.configDir, (model, msg) => log.warn(`notice\u001f${model}\u001f${msg}`, msg, () => ({ model })));
    ctx.logger.info('cost-enrichment ready', { catalog: pricer.catalogSource, overrides: config.overrides.length });
    return new CostEnrichmentProcessor(pricer, config, log, ctx);
  },
};
