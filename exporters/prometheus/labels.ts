/** Labels every spend metric carries; bounded by nature (a handful of sources, routes, providers, models). */
export const BASE_LABELS = ['provider', 'model', 'route', 'source'] as const;

export { ATTRIBUTION_FIELDS, labelReader, type LabelReader } from '../../core/attribution.js';
