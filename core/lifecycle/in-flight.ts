/**
 * Work started but not finished (a batched database write, a bus append), so a shutdown can wait
 * for it instead of closing the database under it. Tracking is one Set insert and delete per item.
 */
export class InFlight {
  private readonly pending = new Set<Promise<unknown>>();

  /** Returns `work` itself; it counts as in flight until it settles. */
  track<T>(work: Promise<T>): Promise<T> {
    this.pending.add(work);
    const done = () => void this.pending.delete(work);
    work.then(done, done);
    return work;
  }

  get size(): number {
    return this.pending.size;
  }

  /**
   * Waits until nothing is in flight (work tracked meanwhile included) or `deadline` (epoch ms)
   * passes; resolves with how many items were still pending then (0: all finished).
   */
  async idle(deadline: number): Promise<number> {
    while (this.pending.size > 0) {
      const left = deadline - Date.now();
      if (left <= 0) break;
      await settleWithin(Promise.allSettled([...this.pending]), left);
    }
    return this.pending.size;
  }
}

/** Resolves true when `work` settles within `ms`, false when the time ran out first (work goes on unobserved). */
export async function settleWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), Math.max(0, ms));
  });
  try {
    return await Promise.race([work.then(() => true, () => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
