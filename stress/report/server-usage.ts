/**
 * Server CPU and memory while a load runs: from /proc for a local PID (the process and all its
 * descendants, so nginx's workers and onair's ffmpeg children count), or from a Prometheus
 * /metrics endpoint (process_cpu_seconds_total, process_resident_memory_bytes) for a remote one.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

export interface UsageSample {
  /** performance.now() of the sample. */
  at: number;
  cpuSeconds: number;
  rssBytes: number;
}

export interface UsageSource {
  readonly label: string;
  sample(): Promise<UsageSample | undefined>;
}

const CLK_TCK = 100; // Linux USER_HZ: 100 on every architecture Node runs on

/** One process from /proc/PID/stat: its parent, command name, CPU ticks (utime+stime, and each) and RSS (pages). */
export interface ProcStat { ppid: number; comm: string; ticks: number; utime: number; stime: number; rssPages: number }

/** Parses the text of /proc/PID/stat (the command name may hold spaces and parentheses). */
export function parseProcStat(text: string): ProcStat | undefined {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return undefined;
  const f = text.slice(close + 2).split(' ');
  // After "pid (comm) ": state(0) ppid(1) ... utime(11) stime(12) ... rss(21)
  const ppid = Number(f[1]);
  const utime = Number(f[11]);
  const stime = Number(f[12]);
  const ticks = utime + stime;
  const rssPages = Number(f[21]);
  if (!Number.isFinite(ppid) || !Number.isFinite(ticks) || !Number.isFinite(rssPages)) return undefined;
  return { ppid, comm: text.slice(open + 1, close), ticks, utime, stime, rssPages };
}

/** Every process now, pid -> its /proc/PID/stat (processes that end while /proc is read are left out). */
export function readProcessTable(): Map<number, ProcStat> {
  const all = new Map<number, ProcStat>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const s = parseProcStat(readFileSync(`/proc/${name}/stat`, 'latin1'));
      if (s) all.set(Number(name), s);
    } catch {
      // the process ended between readdir and read
    }
  }
  return all;
}

export class ProcUsage implements UsageSource {
  readonly label: string;
  constructor(
    private readonly pid: number,
    private readonly pageSize = 4096,
  ) {
    this.label = `/proc/${pid} (+children)`;
  }

  async sample(): Promise<UsageSample | undefined> {
    const all = readProcessTable();
    if (!all.has(this.pid)) return undefined;
    let ticks = 0;
    let pages = 0;
    for (const [pid, s] of all) {
      if (!isDescendant(pid, this.pid, all)) continue;
      ticks += s.ticks;
      pages += s.rssPages;
    }
    return { at: performance.now(), cpuSeconds: ticks / CLK_TCK, rssBytes: pages * this.pageSize };
  }
}

function isDescendant(pid: number, root: number, all: Map<number, { ppid: number }>): boolean {
  for (let p = pid, hops = 0; hops < 64; hops++) {
    if (p === root) return true;
    const s = all.get(p);
    if (!s || s.ppid <= 1) return false;
    p = s.ppid;
  }
  return false;
}

/** The two process metrics from Prometheus text exposition. */
export function parseProcessMetrics(text: string): { cpuSeconds?: number; rssBytes?: number } {
  const out: { cpuSeconds?: number; rssBytes?: number } = {};
  for (const line of text.split('\n')) {
    if (line.startsWith('process_cpu_seconds_total')) out.cpuSeconds = Number(line.trim().split(/\s+/)[1]);
    else if (line.startsWith('process_resident_memory_bytes')) out.rssBytes = Number(line.trim().split(/\s+/)[1]);
  }
  return out;
}

export class MetricsUsage implements UsageSource {
  readonly label: string;
  constructor(private readonly url: string) {
    this.label = `${new URL(url).origin}/metrics`;
  }

  async sample(): Promise<UsageSample | undefined> {
    try {
      const res = await fetch(this.url, { signal: AbortSignal.timeout(2000) });
      if (!res.ok) return undefined;
      const m = parseProcessMetrics(await res.text());
      if (m.cpuSeconds === undefined || m.rssBytes === undefined) return undefined;
      return { at: performance.now(), cpuSeconds: m.cpuSeconds, rssBytes: m.rssBytes };
    } catch {
      return undefined;
    }
  }
}

export interface UsageFigures {
  source: string;
  /** Percent of one core over the window. */
  cpuPercent: number;
  rssMB: number;
  peakRssMB: number;
}

/** CPU % between the first and last sample; RSS as last and peak. */
export function usageBetween(samples: readonly UsageSample[], source: string): UsageFigures | undefined {
  if (samples.length < 2) return undefined;
  const a = samples[0]!;
  const b = samples[samples.length - 1]!;
  const seconds = (b.at - a.at) / 1000;
  if (seconds <= 0) return undefined;
  return {
    source,
    cpuPercent: ((b.cpuSeconds - a.cpuSeconds) / seconds) * 100,
    rssMB: b.rssBytes / 1e6,
    peakRssMB: Math.max(...samples.map((s) => s.rssBytes)) / 1e6,
  };
}
