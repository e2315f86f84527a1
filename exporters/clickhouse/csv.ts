/** One CSV field (RFC 4180): quoted when it holds a comma, quote or line break. */
export function csvCell(s: string): string {
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Header line and one line per row, each cell the row's value under that header ('' when absent). */
export function csvTable(header: readonly string[], rows: readonly object[]): string {
  const cell = (v: unknown): string => csvCell(v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v));
  return [header.map(csvCell).join(','), ...rows.map((r) => header.map((h) => cell((r as Record<string, unknown>)[h])).join(','))].join('\n') + '\n';
}
