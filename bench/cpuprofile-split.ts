/**
 * `npx tsx bench/cpuprofile-split.ts FILE.cpuprofile [--from US --to US] [--top N]`: where a V8 CPU
 * profile (node --cpu-prof) spent its samples, within a window of the monotonic clock (µs, as
 * bench/join-cost.ts prints it: process.hrtime and V8's profile clock are the same CLOCK_MONOTONIC).
 * Prints the self time by function, and the share of samples with a frame of each area anywhere on
 * the stack (inclusive: sequelize, control/, media/, node's http, net and streams), idle excluded.
 * `--under REGEX` keeps only the samples with a frame (url or function name) matching it.
 */
import { readFileSync } from 'node:fs';

interface CallFrame { functionName: string; url: string; lineNumber: number }
interface ProfileNode { id: number; callFrame: CallFrame; children?: number[] }
interface Profile { nodes: ProfileNode[]; startTime: number; endTime: number; samples: number[]; timeDeltas: number[] }

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
}

const AREAS: Array<[string, (f: CallFrame) => boolean]> = [
  ['sequelize (and its deps)', (f) => /node_modules\/(sequelize|lodash|moment|dottie|wkx|inflection|retry-as-promised)\//.test(f.url)],
  ['sqlite3 driver', (f) => /node_modules\/sqlite3\//.test(f.url)],
  ['control/', (f) => /\/dist\/control\//.test(f.url) || /\/control\//.test(f.url) && !f.url.includes('node_modules')],
  ['media/', (f) => /\/media\//.test(f.url) && !f.url.includes('node_modules')],
  ['node http', (f) => /node:_http|node:internal\/http|_http_/.test(f.url)],
  ['node net/stream', (f) => /node:net|node:internal\/streams|node:internal\/stream_base/.test(f.url)],
];

function label(f: CallFrame): string {
  const file = f.url ? f.url.replace(/^.*\/(node_modules\/[^/]+\/)?/, (_m, mod: string | undefined) => mod ?? '') : '';
  return `${f.functionName || '(anonymous)'} ${file}${f.url ? `:${f.lineNumber + 1}` : ''}`;
}

function main(): void {
  const file = process.argv[2];
  if (!file) throw new Error('usage: cpuprofile-split.ts FILE.cpuprofile [--from US --to US] [--top N] [--under REGEX]');
  const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const from = Number(arg('from') ?? -Infinity);
  const to = Number(arg('to') ?? Infinity);
  const top = Number(arg('top') ?? 40);
  /** Only samples with a frame whose function name or url matches (e.g. --under sequelize). */
  const under = arg('under') === undefined ? undefined : new RegExp(arg('under')!);
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const n of p.nodes) {
    byId.set(n.id, n);
    for (const c of n.children ?? []) parent.set(c, n.id);
  }
  const self = new Map<string, number>();
  const areas = new Map<string, number>();
  let total = 0;
  let idle = 0;
  let t = p.startTime;
  for (let i = 0; i < p.samples.length; i++) {
    t += p.timeDeltas[i] ?? 0;
    if (t < from || t > to) continue;
    const leaf = byId.get(p.samples[i]!)!;
    if (leaf.callFrame.functionName === '(idle)') {
      idle++;
      continue;
    }
    if (under) {
      let hit = false;
      for (let id: number | undefined = leaf.id; id !== undefined && !hit; id = parent.get(id)) {
        const f = byId.get(id)!.callFrame;
        hit = under.test(f.url) || under.test(f.functionName);
      }
      if (!hit) continue;
    }
    total++;
    const name = label(leaf.callFrame);
    self.set(name, (self.get(name) ?? 0) + 1);
    const hit = new Set<string>();
    for (let id: number | undefined = leaf.id; id !== undefined; id = parent.get(id)) {
      const f = byId.get(id)!.callFrame;
      for (const [area, match] of AREAS) if (match(f)) hit.add(area);
    }
    for (const a of hit) areas.set(a, (areas.get(a) ?? 0) + 1);
  }
  const pct = (n: number) => `${((n / Math.max(1, total)) * 100).toFixed(1)} %`;
  console.log(`${total} busy samples (${idle} idle) in the window`);
  console.log('\ninclusive, by area (a sample counts for every area on its stack):');
  for (const [a, n] of [...areas].sort((x, y) => y[1] - x[1])) console.log(`  ${pct(n).padStart(7)}  ${a}`);
  console.log(`\nself time, top ${top}:`);
  for (const [name, n] of [...self].sort((x, y) => y[1] - x[1]).slice(0, top)) console.log(`  ${pct(n).padStart(7)}  ${name}`);
}

main();
