import { AdminRoutes } from './admin-routes.js';

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

export interface Capabilities {
  spendStore: SpendStore;
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
