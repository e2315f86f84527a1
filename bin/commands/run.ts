import { factories } from '../components.js';
import { ConfigError, formatDiagnostic } from '../../core/config/diagnostic.js';
import { Service } from '../../core/service.js';
import { configErrorExit, EXIT } from '../exit-codes.js';

/**
 * Runs until SIGTERM/SIGINT; SIGHUP reloads pipeline.yaml. Resolves with the exit code. Signal
 * handlers are installed before anything starts, so that an early SIGHUP cannot kill the process
 * (Node's default) and an early SIGTERM still drains.
 */
export async function runCommand(file: string): Promise<number> {
  const service = new Service(file, factories);
  let stopRequested: (signal: NodeJS.Signals) => void = () => undefined;
  const stopping = new Promise<NodeJS.Signals>((resolve) => { stopRequested = resolve; });
  let stopSignals = 0;
  const onStop = (signal: NodeJS.Signals): void => {
    stopSignals++;
    if (stopSignals === 1) stopRequested(signal);
    else {
      // A second signal means "now": what the disk queue acknowledged survives; a memory queue's does not.
      process.stderr.write(JSON.stringify({ level: 'warn', time: new Date().toISOString(), msg: 'second stop signal: exiting without draining', signal }) + '\n');
      process.exit(EXIT.shutdownTimeout);
    }
  };
  let reloading = Promise.resolve();
  let started = false;
  const onHup = (): void => {
    if (started) reloading = reloading.then(() => service.reload().then(() => undefined));
  };
  process.on('SIGTERM', onStop);
  process.on('SIGINT', onStop);
  process.on('SIGHUP', onHup);
  service.watchUnhandledRejections();
  try {
    try {
      await service.start();
      started = true;
    } catch (err) {
      if (err instanceof ConfigError) for (const d of err.diagnostics) process.stderr.write(formatDiagnostic(d) + '\n');
      else process.stderr.write(`tokenledger: failed to start: ${(err as Error).message}\n`);
      await service.stop();
      return err instanceof ConfigError ? configErrorExit(err) : EXIT.startFailed;
    }
    const signal = await stopping;
    process.stderr.write(JSON.stringify({ level: 'info', time: new Date().toISOString(), msg: 'stopping', signal }) + '\n');
    await reloading;
    return (await service.stop()) ? EXIT.ok : EXIT.shutdownTimeout;
  } finally {
    process.off('SIGHUP', onHup);
  }
}
