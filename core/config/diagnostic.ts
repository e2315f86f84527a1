/** One problem found in a configuration file, located to the character. */
export interface Diagnostic {
  severity: 'error' | 'warning';
  file: string;
  line: number;
  col: number;
  /** Dotted YAML path, component ids kept whole: `exporters.clickhouse/archive.endpoint`. */
  path: string;
  message: string;
}

export function formatDiagnostic(d: Diagnostic): string {
  const where = d.path ? `${d.path}: ` : '';
  return `${d.file}:${d.line}:${d.col}: ${d.severity}: ${where}${d.message}`;
}

/** Thrown when a configuration cannot be used; carries every error found, not only the first. */
export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(readonly diagnostics: Diagnostic[]) {
    super(diagnostics.filter((d) => d.severity === 'error').map(formatDiagnostic).join('\n'));
  }
}

/** The file itself could not be read (missing, unreadable): bad input rather than a bad configuration. */
export class UnreadableConfigError extends ConfigError {
  override name = 'UnreadableConfigError';
}
