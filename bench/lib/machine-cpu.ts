/**
 * Busy CPU time of the whole machine (all cores) from /proc/stat, so a benchmark step can show how
 * much CPU something else used meanwhile (this machine is shared; a busy neighbour skews figures).
 */
import { readdirSync, readFileSync } from 'node:fs';
import type { ProcStat } from '../../stress/report/server-usage.js';

/** The time fields of one /proc/stat line, in seconds. */
export interface CpuTimes { user: number; nice: number; system: number; idle: number; iowait: number; irq: number; softirq: number; steal: number }

/** The fields of the /proc/stat line that starts with `label` ("cpu " or "cpuN "), in ticks; undefined when there is none. */
function ticksOf(procStat: string, label: string): CpuTimes | undefined {
  const line = procStat.split('\n').find((l) => l.startsWith(label));
  if (!line) return undefined;
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = line.trim().split(/\s+/).slice(1).map(Number);
  return { user, nice, system, idle, iowait, irq, softirq, steal };
}

/** Busy seconds (user+nice+system+irq+softirq+steal) of the /proc/stat line that starts with `label`. */
function busySecondsOf(procStat: string, label: string, clkTck: number): number {
  const t = ticksOf(procStat, label);
  return t ? (t.user + t.nice + t.system + t.irq + t.softirq + t.steal) / clkTck : 0;
}

/** Every time field of core `core` (the `cpuN` line) in seconds, to tell user, system and softirq time apart; undefined when there is no such core. */
export function coreTimes(procStat: string, core: number, clkTck = 100): CpuTimes | undefined {
  const t = ticksOf(procStat, `cpu${core} `);
  if (!t) return undefined;
  return { user: t.user / clkTck, nice: t.nice / clkTck, system: t.system / clkTck, idle: t.idle / clkTck, iowait: t.iowait / clkTck, irq: t.irq / clkTck, softirq: t.softirq / clkTck, steal: t.steal / clkTck };
}

/** Busy seconds summed over all cores, from /proc/stat text. */
export function busySeconds(procStat: string, clkTck = 100): number {
  return busySecondsOf(procStat, 'cpu ', clkTck);
}

/**
 * Busy seconds of one core (the `cpuN` line), the same fields: the server's pinned core, kernel time
 * included. Loopback TCP input runs in softirq on the core that sends or receives, which a process's
 * own CPU time (utime+stime) does not always carry, so this can read higher than the process column.
 */
export function coreBusySeconds(procStat: string, core: number, clkTck = 100): number {
  return busySecondsOf(procStat, `cpu${core} `, clkTck);
}

/** /proc/stat's text now ('' when it cannot be read). */
function readProcStat(): string {
  try {
    return readFileSync('/proc/stat', 'latin1');
  } catch {
    return '';
  }
}

/** coreBusySeconds of this machine's `core` now (0 when /proc/stat cannot be read). */
export function machineCoreBusySeconds(core: number): number {
  return coreBusySeconds(readProcStat(), core);
}

/** coreTimes of this machine's `core` now (undefined when /proc/stat cannot be read). */
export function machineCoreTimes(core: number): CpuTimes | undefined {
  return coreTimes(readProcStat(), core);
}

/** busySeconds of this machine now (0 when /proc/stat cannot be read). */
export function machineBusySeconds(): number {
  return busySeconds(readProcStat());
}

/** What ticksByGroup needs of a process (readProcessTable's entries, from stress/report/server-usage.ts). */
export type ProcEntry = Pick<ProcStat, 'ppid' | 'comm' | 'ticks'>;

/**
 * CPU ticks of `root`'s process tree, summed per group: each process belongs to its nearest
 * ancestor (itself included) that `role` names; the rest of the tree counts as `rootGroup`.
 * Processes outside the tree are not counted (the machine's total gives their share).
 */
export function ticksByGroup(table: Map<number, ProcEntry>, root: number, role: (pid: number, e: ProcEntry) => string | undefined, rootGroup = 'root'): Map<string, number> {
  const out = new Map<string, number>();
  for (const [pid, e] of table) {
    let group: string | undefined;
    let inTree = false;
    for (let p = pid, hops = 0; hops < 64; hops++) {
      const q = table.get(p);
      if (!q) break;
      group ??= role(p, q);
      if (p === root) {
        inTree = true;
        break;
      }
      p = q.ppid;
    }
    if (inTree) out.set(group ?? rootGroup, (out.get(group ?? rootGroup) ?? 0) + e.ticks);
  }
  return out;
}

/**
 * A process's threads' scheduler figures summed, from /proc/<pid>/task/<tid>/schedstat ("run_ns
 * wait_ns slices"): ms on a CPU and ms runnable but waiting for one (run-queue wait: the time the
 * process was ready to work and the machine gave it no core). `mainThreadOnly`: the thread whose
 * id is the pid (Node's event loop). Undefined when not readable.
 */
export function schedMs(pid: number, mainThreadOnly = false): { runMs: number; waitMs: number } | undefined {
  try {
    let runMs = 0;
    let waitMs = 0;
    for (const tid of mainThreadOnly ? [String(pid)] : readdirSync(`/proc/${pid}/task`)) {
      const s = parseSchedstat(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'latin1'));
      if (s) {
        runMs += s.runMs;
        waitMs += s.waitMs;
      }
    }
    return { runMs, waitMs };
  } catch {
    return undefined;
  }
}

/** Parses schedstat text "run_ns wait_ns slices" into ms. */
export function parseSchedstat(text: string): { runMs: number; waitMs: number } | undefined {
  const [run, wait] = text.trim().split(/\s+/).map(Number);
  if (!Number.isFinite(run) || !Number.isFinite(wait)) return undefined;
  return { runMs: run! / 1e6, waitMs: wait! / 1e6 };
}
