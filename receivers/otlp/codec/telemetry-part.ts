import type { Batch } from '../../../core/batch.js';

/** What the decoders on both sides (protobuf, JSON) produce, and the request kinds they read. */
export type Signal = 'traces' | 'metrics' | 'logs';
export type Encoding = 'protobuf' | 'json';
export type TelemetryPart = Pick<Batch, 'resourceSpans' | 'resourceMetrics' | 'resourceLogs'>;
