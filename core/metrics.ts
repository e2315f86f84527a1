import { defineMetrics } from './metric-spec.js';

/** The process's own self-metrics (the service, not a component). */
export const coreMetrics = defineMetrics({
  reloads: { type: 'counter', name: 'tokenledger_config_reloads_total', help: 'Configuration reloads, by result (ok, invalid, failed).', labels: ['result'] },
  ready: { type: 'gauge', name: 'tokenledger_ready', help: '1 when every component of the pipeline has started.' },
  buildInfo: { type: 'gauge', name: 'tokenledger_build_info', help: 'Always 1; the version label says which tokenledger runs.', labels: ['version'] },
  unhandledRejections: { type: 'counter', name: 'tokenledger_unhandled_rejections_total', help: 'Promise rejections no component handled (each one is a bug; see the error log).' },
});
