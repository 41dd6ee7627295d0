import { appendFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { OverloadGuard } from './overload-guard.js';

/** What the trace reads from the engine besides the guard, once a second. */
export interface GuardTraceSources {
  /** CPU ms the scheduler's ticks have taken so far (FlushScheduler.workMs). */
  workMs(): number;
  /** When the oldest unwritten data started waiting (FlushScheduler.waitingSince), undefined when none. */
  waitingSince(): number | undefined;
  viewers(): number;
  /** Whether viewers join at a ramp's rate now (JoinRate.ramping). */
  ramping(nowMs: number): boolean;
}

/**
 * ONAIR_DEBUG_GUARD=<file>: one JSON line a second with the admission guard's inputs and state, to
 * see why it refuses (docs/benchmarks.md, "Admission refused during the join ramp"). Off by default;
 * when on it costs an object per tick's fold and one small synchronous append a second.
 *
 * Fields: ticks, lag avg/max (ms), the largest start-up share (ms), the lowest per-tick loop
 * utilization, the second's loop utilization (elu) and process CPU share (cpu, usr), the ticks'
 * write share of the core (work), the guard's smoothed lag/utilization/work (sm, sbusy, swork),
 * whether it is overloaded and what latched it (over, by), how long data waits now (wait), viewers,
 * refusals in the second, and whether viewers joined at a ramp's rate (joins).
 */
export class GuardTrace {
  private t0 = performance.now();
  private cpu0 = process.cpuUsage();
  private elu0 = performance.eventLoopUtilization();
  private work0 = 0;
  private refused0 = 0;
  private ticks = 0;
  private lagSum = 0;
  private lagMax = 0;
  private startupMax = 0;
  private busyMin = 1;

  constructor(
    private readonly file: string,
    private readonly guard: OverloadGuard,
    private readonly sources: GuardTraceSources,
  ) {}

  /** A tick reported `lagMs` at `nowMs` (performance.now()), with its start-up share and loop utilization. */
  tick(lagMs: number, nowMs: number, startupMs: number, busy: number): void {
    this.ticks++;
    this.lagSum += lagMs;
    if (lagMs > this.lagMax) this.lagMax = lagMs;
    if (startupMs > this.startupMax) this.startupMax = startupMs;
    if (busy < this.busyMin) this.busyMin = busy;
    if (nowMs - this.t0 >= 1000) this.write(nowMs);
  }

  private write(now: number): void {
    const dt = now - this.t0;
    const cpu = process.cpuUsage(this.cpu0);
    const elu = performance.eventLoopUtilization();
    const workMs = this.sources.workMs();
    const refused = Object.values(this.guard.refusals).reduce((a, b) => a + b, 0);
    const waiting = this.sources.waitingSince();
    const share = (ms: number) => Number((ms / dt).toFixed(2));
    const line = {
      t: Math.round(now), dt: Math.round(dt), ticks: this.ticks,
      lagAvg: Math.round(this.lagSum / this.ticks), lagMax: Math.round(this.lagMax), stMax: Math.round(this.startupMax),
      busyMin: Number(this.busyMin.toFixed(2)), elu: Number(performance.eventLoopUtilization(elu, this.elu0).utilization.toFixed(2)),
      cpu: share((cpu.user + cpu.system) / 1000), usr: share(cpu.user / 1000), work: share(workMs - this.work0),
      sm: Math.round(this.guard.lagMs), sbusy: Number(this.guard.busyShare.toFixed(2)), swork: Number(this.guard.workShare.toFixed(2)),
      over: this.guard.latched, by: this.guard.latchedBy,
      wait: waiting === undefined ? 0 : Math.round(now - waiting), viewers: this.sources.viewers(),
      refusedNew: refused - this.refused0, joins: this.sources.ramping(now) ? 1 : 0,
    };
    appendFileSync(this.file, JSON.stringify(line) + '\n');
    this.t0 = now;
    this.cpu0 = process.cpuUsage();
    this.elu0 = elu;
    this.work0 = workMs;
    this.refused0 = refused;
    this.ticks = this.lagSum = this.lagMax = this.startupMax = 0;
    this.busyMin = 1;
  }
}
