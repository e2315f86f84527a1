import { factories } from '../components.js';
import { ConfigError, formatDiagnostic } from '../../core/config/diagnostic.js';
import { loadConfigFile } from '../../core/config/load.js';
import { configErrorExit, EXIT } from '../exit-codes.js';

export function validateCommand(file: string): number {
  try {
    const { config, warnings } = loadConfigFile(file, factories);
    for (const w of warnings) process.stderr.write(formatDiagnostic(w) + '\n');
    const n = Object.keys(config.service.pipelines).length;
    process.stdout.write(`${file}: valid (${n} pipeline${n === 1 ? '' : 's'})\n`);
    return EXIT.ok;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    for (const d of err.diagnostics) process.stderr.write(formatDiagnostic(d) + '\n');
    const errors = err.diagnostics.filter((d) => d.severity === 'error').length;
    process.stderr.write(`${file}: ${errors} error${errors === 1 ? '' : 's'}\n`);
    return configErrorExit(err);
  }
}
