/** How long a scrape reuses the last bus counts: several Prometheus servers (or a dashboard refresh) cost one read. */
export const BUS_COUNT_CACHE_MS = 5_000;

/**
 * A read for metrics (a count on the bus), shared by every caller for `ttlMs` and by concurrent
 * callers while it runs. A failed read is not cached (the next scrape tries again).
 */
export function cachedRead<T>(read: () => Promise<T>, ttlMs = BUS_COUNT_CACHE_MS, now: () => number = Date.now): () => Promise<T> {
  let last: { at: number; value: T } | undefined;
  let running: Promise<T> | undefined;
  return () => {
    if (last && now() - last.at < ttlMs) return Promise.resolve(last.value);
    running ??= read()
      .then((value) => { last = { at: now(), value }; return value; })
      .finally(() => { running = undefined; });
    return running;
  };
}
