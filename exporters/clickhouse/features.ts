/**
 * What the ClickHouse server can do, decided by its version: the one place that knows which
 * release introduced what. Debian's clickhouse-server 18.16 has none of these; chDB (26.x) and
 * current servers have all.
 */
export interface ServerFeatures {
  version: string;
  /** DateTime64 (sub-second timestamps), 20.1. */
  dateTime64: boolean;
  /** Map(String, String) without experimental flags, 21.8 (we require 22.1). */
  map: boolean;
  /** LowCardinality(String) on by default, 19.1 (we require 19.3). */
  lowCardinality: boolean;
  /** Table TTL expressions, 19.6. */
  ttl: boolean;
  /** The Bool type, 21.12 (we require 22.1). */
  bool: boolean;
  /** insert_deduplication_token and non_replicated_deduplication_window, 22.2. */
  dedupToken: boolean;
}

export function parseVersion(version: string): [number, number] {
  const m = /^(\d+)\.(\d+)/.exec(version.trim());
  if (!m) throw new Error(`cannot read the ClickHouse version from ${JSON.stringify(version)}`);
  return [Number(m[1]), Number(m[2])];
}

export function featuresOf(version: string): ServerFeatures {
  const [major, minor] = parseVersion(version);
  const atLeast = (ma: number, mi: number): boolean => major > ma || (major === ma && minor >= mi);
  return {
    version,
    dateTime64: atLeast(20, 1),
    map: atLeast(22, 1),
    lowCardinality: atLeast(19, 3),
    ttl: atLeast(19, 6),
    bool: atLeast(22, 1),
    dedupToken: atLeast(22, 2),
  };
}
