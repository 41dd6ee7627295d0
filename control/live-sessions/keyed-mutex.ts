/**
 * Runs tasks one at a time per key (a room), in arrival order, within this process. The live
 * lifecycle takes it so start, publish, publish-ended and close of one room never interleave.
 * Several control nodes would need a cache lock as well; one node owns a room's media events here.
 */
export class KeyedMutex {
  private readonly tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const result = previous.then(task, task);
    const tail = result.catch(() => undefined);
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }

  get size(): number {
    return this.tails.size;
  }
}
