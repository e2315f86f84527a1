import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The process holding an embedded data directory, when another one does. ClickHouse locks
 * `<path>/status` and writes its PID there; chDB reports a second opener only as "Failed to
 * create connection" (the lock message goes to the native stderr), so the file is read first.
 * A status file left by a process that is gone names no live process and is ignored.
 */
export function embeddedLockHolder(path: string): number | undefined {
  let text: string;
  try {
    text = readFileSync(join(path, 'status'), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Error(`cannot read ${join(path, 'status')}: ${(err as Error).message}`, { cause: err });
  }
  const pid = Number(/^PID: (\d+)$/m.exec(text)?.[1]);
  if (!Number.isSafeInteger(pid) || pid <= 0 || pid === process.pid) return undefined;
  try {
    process.kill(pid, 0);
    return pid;
  } catch (err) {
    // EPERM: alive, but another user's; ESRCH: gone.
    return (err as NodeJS.ErrnoException).code === 'EPERM' ? pid : undefined;
  }
}
