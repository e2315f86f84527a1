/** `YYYY-MM-DD` or RFC 3339 → epoch ms; a bare date or date-time is read as UTC. NaN when it is neither. */
export function instantMs(text: string): number {
  const t = text.trim();
  if (!/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?([zZ]|[+-]\d{2}:?\d{2})?$/.test(t)) return NaN;
  const iso = /^\d{4}-\d{2}-\d{2}$/.test(t) ? `${t}T00:00:00Z` : /[zZ]|[+-]\d{2}:?\d{2}$/.test(t) ? t : `${t}Z`;
  return Date.parse(iso);
}
