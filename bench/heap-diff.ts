/**
 * npx tsx bench/heap-diff.ts A.heapsnapshot B.heapsnapshot N — what B holds more than A, per unit:
 * objects grouped by V8 node type and constructor/name, count and self size, the difference divided
 * by N (with bench/chat-idle-memory.ts's snapshots at N and 2N sockets: per socket). Top 40 by bytes.
 */
import { readFileSync } from 'node:fs';

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

function groups(path: string): Map<string, { count: number; bytes: number }> {
  const s = JSON.parse(readFileSync(path, 'utf8')) as Snapshot;
  const fields = s.snapshot.meta.node_fields;
  const width = fields.length;
  const typeAt = fields.indexOf('type');
  const nameAt = fields.indexOf('name');
  const sizeAt = fields.indexOf('self_size');
  const types = s.snapshot.meta.node_types[0];
  const out = new Map<string, { count: number; bytes: number }>();
  for (let i = 0; i < s.nodes.length; i += width) {
    const type = types[s.nodes[i + typeAt]!]!;
    let name = s.strings[s.nodes[i + nameAt]!]!;
    if (type === 'string' || type === 'concatenated string' || type === 'sliced string') name = `len~${Math.min(64, name.length)}${name.length > 64 ? '+' : ''}`;
    if (name.length > 60) name = `${name.slice(0, 57)}...`;
    const key = `${type} ${name}`;
    const g = out.get(key) ?? { count: 0, bytes: 0 };
    g.count++;
    g.bytes += s.nodes[i + sizeAt]!;
    out.set(key, g);
  }
  return out;
}

const [a, b, n] = process.argv.slice(2);
if (!a || !b) throw new Error('usage: heap-diff.ts A.heapsnapshot B.heapsnapshot [N]');
const per = Number(n ?? 1);
const before = groups(a);
const after = groups(b);
const rows: Array<[string, number, number]> = [];
for (const [key, g] of after) {
  const o = before.get(key) ?? { count: 0, bytes: 0 };
  rows.push([key, (g.count - o.count) / per, (g.bytes - o.bytes) / per]);
}
rows.sort((x, y) => y[2] - x[2]);
const total = rows.reduce((t, r) => t + r[2], 0);
console.log(`total per unit: ${total.toFixed(0)} B`);
for (const [key, count, bytes] of rows.slice(0, 40)) console.log(`${bytes.toFixed(0).padStart(7)} B ${count.toFixed(2).padStart(7)}x  ${key}`);
