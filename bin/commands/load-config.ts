import { factories } from '../components.js';
import { ConfigError, formatDiagnostic } from '../../core/config/diagnostic.js';
import { loadConfigFile } from '../../core/config/load.js';
import type { PipelineConfig } from '../../core/config/types.js';

/** pipeline.yaml for a command: its config, or the ConfigError once its diagnostics are on stderr. */
export function loadCommandConfig(file: string): PipelineConfig | ConfigError {
  try {
    return loadConfigFile(file, factories).config;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    for (const d of err.diagnostics) process.stderr.write(formatDiagnostic(d) + '\n');
    return err;
  }
}
