import type { Attributes, HistogramDataPoint, Metric, NumberDataPoint, ResourceMetrics } from '../../../core/telemetry.js';
import type { Rejections } from './rejections.js';
import { keyValue, readResources } from './wire-common.js';
import { enter, fixed64Decimal, fixed64Number, leave, readRepeated, sfixed64Number, type Reader, type Wire } from './wire-reader.js';

/**
 * metrics.proto's ExportMetricsServiceRequest read from the wire into core/telemetry.ts metrics.
 * Exponential histograms and summaries are read (to validate them), left out and their points
 * counted in `rejections` (OTLP partial success).
 */

export function metricsRequest(w: Wire, rejections: Rejections): ResourceMetrics[] {
  return readResources(w, (wire, depth) => metric(wire, rejections, depth))
    .map(({ resource, scoped }) => ({ resource, scopeMetrics: scoped.map(({ scope, items }) => ({ scope, metrics: items })) }));
}

type Data =
  | { sum: NonNullable<Metric['sum']> }
  | { gauge: NonNullable<Metric['gauge']> }
  | { histogram: NonNullable<Metric['histogram']> }
  | { unsupported: string; points: number };

/**
 * A Metric, or null when its type is not represented (then its points are counted as rejected).
 * When several `data` oneof members are set, the one kept is the first of sum, gauge, histogram,
 * exponential histogram, summary (the last on the wire among equals), as the former decoder chose.
 */
function metric(w: Wire, rejections: Rejections, depth: number): Metric | null {
  const r = w.r;
  const outer = enter(r, depth);
  let name = '';
  let description = '';
  let unit = '';
  let data: Data | null = null;
  let rank = 5; // of `data`, in the order above; 5: none
  while (r.pos < r.len) {
    const t = r.uint32();
    switch (t >>> 3) {
      case 1: name = r.string(); break;
      case 2: description = r.string(); break;
      case 3: unit = r.string(); break;
      case 7: data = { sum: sum(w, depth + 1) }; rank = 0; break;
      case 5: { const gauge = { dataPoints: numberPoints(w, depth + 1) }; if (rank >= 1) { data = { gauge }; rank = 1; } break; }
      case 9: { const histogram = histogramOf(w, depth + 1); if (rank >= 2) { data = { histogram }; rank = 2; } break; }
      case 10: { const points = opaquePoints(w, depth + 1); if (rank >= 3) { data = { unsupported: 'exponential histogram', points }; rank = 3; } break; }
      case 11: { const points = opaquePoints(w, depth + 1); if (rank >= 4) { data = { unsupported: 'summary', points }; rank = 4; } break; }
      default: r.skipType(t & 7, depth);
    }
  }
  leave(r, outer);
  if (data === null) return { name, description, unit }; // a metric without data is valid OTLP
  if ('unsupported' in data) {
    rejections.unsupportedMetric(name, data.unsupported, data.points);
    return null;
  }
  return { name, description, unit, ...data };
}

/** A Gauge: its data points. */
function numberPoints(w: Wire, depth: number): NumberDataPoint[] {
  const r = w.r;
  const outer = enter(r, depth);
  const dataPoints: NumberDataPoint[] = [];
  while (r.pos < r.len) {
    const t = r.uint32();
    if (t >>> 3 === 1) dataPoints.push(numberPoint(w, depth + 1));
    else r.skipType(t & 7, depth);
  }
  leave(r, outer);
  return dataPoints;
}

function sum(w: Wire, depth: number): NonNullable<Metric['sum']> {
  const r = w.r;
  const outer = enter(r, depth);
  const dataPoints: NumberDataPoint[] = [];
  let aggregationTemporality = 0;
  let isMonotonic = false;
  while (r.pos < r.len) {
    const t = r.uint32();
    switch (t >>> 3) {
      case 1: dataPoints.push(numberPoint(w, depth + 1)); break;
      case 2: aggregationTemporality = r.int32(); break;
      case 3: isMonotonic = r.bool(); break;
      default: r.skipType(t & 7, depth);
    }
  }
  leave(r, outer);
  return { dataPoints, aggregationTemporality, isMonotonic };
}

function histogramOf(w: Wire, depth: number): NonNullable<Metric['histogram']> {
  const r = w.r;
  const outer = enter(r, depth);
  const dataPoints: HistogramDataPoint[] = [];
  let aggregationTemporality = 0;
  while (r.pos < r.len) {
    const t = r.uint32();
    switch (t >>> 3) {
      case 1: dataPoints.push(histogramPoint(w, depth + 1)); break;
      case 2: aggregationTemporality = r.int32(); break;
      default: r.skipType(t & 7, depth);
    }
  }
  leave(r, outer);
  return { dataPoints, aggregationTemporality };
}

/** An ExponentialHistogram or Summary (DataPointsOnly): how many points, each read as an empty message. */
function opaquePoints(w: Wire, depth: number): number {
  const r = w.r;
  const outer = enter(r, depth);
  let points = 0;
  while (r.pos < r.len) {
    const t = r.uint32();
    if (t >>> 3 === 1) {
      const pointOuter = enter(r, depth + 1);
      while (r.pos < r.len) r.skipType(r.uint32() & 7, depth + 1);
      leave(r, pointOuter);
      points++;
    } else r.skipType(t & 7, depth);
  }
  leave(r, outer);
  return points;
}

/** A NumberDataPoint; when both as_int and as_double are set, as_int wins, as the former decoder chose. */
function numberPoint(w: Wire, depth: number): NumberDataPoint {
  const r = w.r;
  const outer = enter(r, depth);
  const attributes: Attributes = {};
  let startTimeUnixNano = '0';
  let timeUnixNano = '0';
  let value = 0;
  let isInt = false;
  while (r.pos < r.len) {
    const t = r.uint32();
    switch (t >>> 3) {
      case 7: keyValue(w, attributes, depth + 1); break;
      case 2: startTimeUnixNano = fixed64Decimal(r); break;
      case 3: timeUnixNano = fixed64Decimal(r); break;
      case 4: { const v = r.double(); if (!isInt) value = v; break; }
      case 6: value = sfixed64Number(r); isInt = true; break;
      default: r.skipType(t & 7, depth);
    }
  }
  leave(r, outer);
  return { attributes, startTimeUnixNano, timeUnixNano, value };
}

const readDouble = (r: Reader): number => r.double();

function histogramPoint(w: Wire, depth: number): HistogramDataPoint {
  const r = w.r;
  const outer = enter(r, depth);
  const attributes: Attributes = {};
  let startTimeUnixNano = '0';
  let timeUnixNano = '0';
  let count = 0;
  let sumValue: number | null = null;
  const bucketCounts: number[] = [];
  const explicitBounds: number[] = [];
  while (r.pos < r.len) {
    const t = r.uint32();
    switch (t >>> 3) {
      case 9: keyValue(w, attributes, depth + 1); break;
      case 2: startTimeUnixNano = fixed64Decimal(r); break;
      case 3: timeUnixNano = fixed64Decimal(r); break;
      case 4: count = fixed64Number(r); break;
      case 5: sumValue = r.double(); break;
      case 6: readRepeated(r, t, bucketCounts, fixed64Number); break;
      case 7: readRepeated(r, t, explicitBounds, readDouble); break;
      default: r.skipType(t & 7, depth);
    }
  }
  leave(r, outer);
  return { attributes, startTimeUnixNano, timeUnixNano, count, sum: sumValue, bucketCounts, explicitBounds };
}
