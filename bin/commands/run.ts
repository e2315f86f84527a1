import { factories } from '../components.js';
import { ConfigError, formatDiagnostic } from '../../core/config/diagnostic.js';
import { Service } from '../../core/service.js';
import { EXIT } from '../exit-codes.js';

/** Runs until SIGTERM/SIGINT; SIGHUP reloads pipeline.yaml. Resolves with the exit code. */
export async function runCommand(file: string): Promise<number> {
  const service = new Service(file, factories);
  try {
    await service.start();
  } catch (err) {
    if (err instanceof ConfigError) {
      for (const d of err.diagnostics) process.stderr.write(formatDiagnostic(d) + '\n');
      await service.stop();
      return EXIT.invalidConfig;
    }
    process.stderr.write(`tokenledger: failed to start: ${(err as Error).message}\n`);
    await service.stop();
    return EXIT.startFailed;
  }

  let reloading = Promise.resolve();
  const onHup = (): void => {
    reloading = reloading.then(() => service.reload().then(() => undefined));
  };
  process.on('SIGHUP', onHup);
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  process.off('SIGHUP', onHup);
  process.stderr.write(JSON.stringify({ level: 'info', time: new Date().toISOString(), msg: 'stopping', signal }) + '\n');
  await reloading;
  return (await service.stop()) ? EXIT.ok : EXIT.shutdownTimeout;
}
