/**
 * Busy CPU time of the whole machine (all cores) from /proc/stat, so a benchmark step can show how
 * much CPU something else used meanwhile (this machine is shared; a busy neighbour skews figures).
 */
import { readFileSync } from 'node:fs';

/** Busy seconds summed over all cores (user+nice+system+irq+softirq+steal), from /proc/stat text. */
export function busySeconds(procStat: string, clkTck = 100): number {
  const line = procStat.split('\n').find((l) => l.startsWith('cpu '));
  if (!line) return 0;
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = f;
  return (user + nice + system + irq + softirq + steal) / clkTck;
}

/**
 * Busy seconds of one core (the `cpuN` line), the same fields: the server's pinned core, kernel time
 * included. Loopback TCP input runs in softirq on the core that sends or receives, which a process's
 * own CPU time (utime+stime) does not always carry, so this can read higher than the process column.
 */
export function coreBusySeconds(procStat: string, core: number, clkTck = 100): number {
  const line = procStat.split('\n').find((l) => l.startsWith(`cpu${core} `));
  if (!line) return 0;
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = f;
  return (user + nice + system + irq + softirq + steal) / clkTck;
}

/** coreBusySeconds of this machine's `core` now (0 when /proc/stat cannot be read). */
export function machineCoreBusySeconds(core: number): number {
  try {
    return coreBusySeconds(readFileSync('/proc/stat', 'latin1'), core);
  } catch {
    return 0;
  }
}

export function machineBusySeconds(): number {
  try {
    return busySeconds(readFileSync('/proc/stat', 'latin1'));
  } catch {
    return 0;
  }
}
