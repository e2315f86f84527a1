import { TOKEN_TYPES, type ReconciliationRow } from '../../core/reconciliation.js';

const COLUMNS = ['day', 'model', 'team', 'status', 'ledger_tokens', 'reported_tokens', 'ledger_usd', 'reported_usd', 'drift_usd', 'drift_ratio', 'unmatched_usd', 'price_drift_usd'] as const;

const sum = (t: ReconciliationRow['ledger']): number => TOKEN_TYPES.reduce((n, k) => n + t[k], 0);

/** Reconciliation rows as a table (with each row's explanation under it) or JSON. */
export function formatReconciliation(rows: ReconciliationRow[], format: 'table' | 'json'): string {
  if (format === 'json') return JSON.stringify(rows, null, 2) + '\n';
  if (rows.length === 0) return 'no reconciliation rows in this window\n';
  const cells = rows.map((r) => [
    r.day, r.model, r.team || '(all)', r.status, String(sum(r.ledger)), String(sum(r.reported)),
    r.ledger_cost_usd.toFixed(6), r.reported_cost_usd === null ? '-' : r.reported_cost_usd.toFixed(6),
    r.drift_usd.toFixed(6), r.drift_ratio.toFixed(4), r.unmatched_cost_usd.toFixed(6), r.price_drift_usd.toFixed(6),
  ]);
  const all = [[...COLUMNS], ...cells];
  const width = COLUMNS.map((_, i) => Math.max(...all.map((l) => l[i].length)));
  const line = (l: string[]): string => l.map((c, i) => (i < 4 ? c.padEnd(width[i]) : c.padStart(width[i]))).join('  ').trimEnd();
  const out = [line([...COLUMNS]), width.map((w) => '-'.repeat(w)).join('  ')];
  rows.forEach((r, i) => {
    out.push(line(cells[i]));
    if (r.explanation) out.push(`  ↳ ${r.explanation}`);
  });
  return out.join('\n') + '\n';
}
