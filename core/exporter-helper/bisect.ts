import { PermanentError } from '../errors.js';

export type Push = (records: string[]) => Promise<number | void>;

/**
 * Pushes records; when the destination rejects them as bad data (PermanentError), halves the batch
 * until each bad record is alone and drops only those, so one malformed record does not cost the
 * thousands around it. Other errors propagate and the caller retries the whole batch (halves already
 * delivered are sent again: destinations make writes idempotent). Resolves with the records dropped.
 */
export async function pushIsolating(records: string[], push: Push, dropped: (record: string, err: PermanentError) => void): Promise<number> {
  if (records.length === 0) return 0;
  try {
    return (await push(records)) ?? 0;
  } catch (err) {
    if (!(err instanceof PermanentError)) throw err;
    if (records.length === 1) {
      dropped(records[0], err);
      return 1;
    }
    const mid = records.length >>> 1;
    return (await pushIsolating(records.slice(0, mid), push, dropped)) + (await pushIsolating(records.slice(mid), push, dropped));
  }
}
