import type { Logger } from '../../core/logging/logger.js';
import type { ReplayService } from './replay.service.js';

/** Deletes replays past ONAIR_REPLAY_RETENTION every ONAIR_REPLAY_PRUNE_INTERVAL (nothing when retention is 0). */
export class ReplayPruner {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(private readonly d: { service: ReplayService; retentionMs: number; intervalMs: number; log: Logger }) {}

  start(): void {
    if (this.d.retentionMs <= 0 || this.timer) return;
    const tick = () => {
      this.running ??= this.runOnce().then(() => undefined, (err: unknown) => { this.d.log.warn({ err }, 'replay retention run failed'); }).finally(() => { this.running = undefined; });
    };
    this.timer = setInterval(tick, this.d.intervalMs);
    this.timer.unref();
    tick();
  }

  /** One pass: deletes in batches until nothing is past retention. */
  async runOnce(): Promise<number> {
    let total = 0;
    for (let i = 0; i < 100; i++) {
      const n = await this.d.service.prune(this.d.retentionMs);
      total += n;
      if (n === 0) break;
    }
    return total;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }
}
