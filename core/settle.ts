/** Waits for `pending` to settle, but no longer than `timeoutMs`. True when everything settled in time. */
export async function settledWithin(pending: Iterable<Promise<unknown>>, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<false>((ok) => { timer = setTimeout(() => ok(false), timeoutMs); });
  const settled = Promise.allSettled(pending).then(() => true as const);
  try {
    return await Promise.race([settled, timedOut]);
  } finally {
    clearTimeout(timer);
  }
}
