import { AdminRoutes } from './admin-routes.js';

/**
 * Capabilities that components offer one another without importing each other, like the
 * collector's extensions: the ClickHouse exporter provides a `SpendStore`, the Prometheus exporter
 * looks it up to restore budgets after a restart.
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
  private readonly provided = new Map<keyof Capabilities, Capabilities[keyof Capabilities]>();

  provide<K extends keyof Capabilities>(name: K, impl: Capabilities[K]): void {
    this.provided.set(name, impl);
  }

  get<K extends keyof Capabilities>(name: K): Capabilities[K] | undefined {
    return this.provided.get(name) as Capabilities[K] | undefined;
  }
}
