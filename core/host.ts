import { AdminRoutes } from './admin-routes.js';
import type { ReconciliationRow, Tokens } from './reconciliation.js';

/**
 * Capabilities that components offer one another without importing each other, like the
 * collector's extensions: the ClickHouse exporter provides a `SpendStore`, the budget exporter
 * names that exporter (`ledger: clickhouse`) and reads spend-to-date from it.
 */
export interface SpendQuery {
  /** Inclusive start, exclusive end, as epoch milliseconds. */
  fromMs: number;
  toMs: number;
  /** Label (team, customer, key_alias, user, or a dimension name) to group by. */
  groupBy: string;
  /** Only calls whose labels equal these values. */
  where: Record<string, string>;
}

export interface SpendStore {
  spendBy(query: SpendQuery): Promise<Map<string, number>>;
}

/** Calls, tokens by type and cost per group, each call counted once. */
export interface UsageQuery {
  fromMs: number;
  toMs: number;
  /** Labels as in SpendQuery, plus `day` (UTC, YYYY-MM-DD). */
  groupBy: string[];
  where: Record<string, string>;
}

export interface UsageRow {
  /** The value of each groupBy label. */
  keys: Record<string, string>;
  calls: number;
  tokens: Tokens;
  cost_usd: number;
}

export interface UsageStore {
  usageBy(query: UsageQuery): Promise<UsageRow[]>;
}

/** Where reconciliation results are kept (a newer row for the same day × provider × model × team replaces the older). */
export interface ReconciliationStore {
  write(rows: ReconciliationRow[]): Promise<void>;
  /** Rows of days from ≤ day < to (YYYY-MM-DD), newest version of each. */
  read(fromDay: string, toDay: string): Promise<ReconciliationRow[]>;
}

export interface Capabilities {
  spendStore: SpendStore;
  usageStore: UsageStore;
  reconciliationStore: ReconciliationStore;
}

export class Host {
  /** Paths served on the admin server beside /metrics and the probes. */
  readonly adminRoutes = new AdminRoutes();
  private readonly provided = new Map<string, Capabilities[keyof Capabilities]>();

  /** `provider`: the id of the component offering it, so that a consumer can name which one it reads. */
  provide<K extends keyof Capabilities>(name: K, impl: Capabilities[K], provider?: string): void {
    this.provided.set(name, impl);
    if (provider !== undefined) this.provided.set(`${name}@${provider}`, impl);
  }

  /** The capability `provider` offers; without a provider, the one offered last. */
  get<K extends keyof Capabilities>(name: K, provider?: string): Capabilities[K] | undefined {
    return this.provided.get(provider === undefined ? name : `${name}@${provider}`) as Capabilities[K] | undefined;
  }
}
