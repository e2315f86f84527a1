import type { ReceiverFactory } from '../../core/component.js';
import { defaults, schema, type OtlpReceiverConfig } from './config.js';
import { otlpReceiverMetrics } from './metrics.js';
import { OtlpReceiver } from './receiver.js';
import { validateOtlpReceiver } from './validate.js';

export type { OtlpReceiverConfig } from './config.js';
export { OtlpReceiver } from './receiver.js';
export { countItems, decodeExport, decodeExportRequest, OtlpDecodeError, type DecodedExport, type Encoding, type Signal, type TelemetryPart } from './codec/codec.js';

export const otlpReceiverFactory: ReceiverFactory<OtlpReceiverConfig> = {
  kind: 'receiver',
  type: 'otlp',
  schema,
  defaults,
  metrics: otlpReceiverMetrics,
  validate: validateOtlpReceiver,
  create: (config, ctx) => new OtlpReceiver(config, ctx),
};
