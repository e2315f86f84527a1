import { ConfigError, UnreadableConfigError } from '../core/config/diagnostic.js';

/** Exit codes, documented in README.md. */
export const EXIT = {
  ok: 0,
  /** pipeline.yaml is invalid (validate found errors, or run could not load it). */
  invalidConfig: 1,
  /** Bad usage or unreadable input (unknown option, missing or undecodable file). */
  usage: 2,
  /** A component failed to start (port in use, unreachable database, ...). */
  startFailed: 3,
  /** Stopped, but in-flight data did not drain within service.shutdown_timeout. */
  shutdownTimeout: 4,
} as const;

/** A configuration that could not be used: unreadable (2) or invalid (1). */
export function configErrorExit(err: ConfigError): number {
  return err instanceof UnreadableConfigError ? EXIT.usage : EXIT.invalidConfig;
}
