/**
 * The benchmark's publisher: the stress tool's probe publisher (the sample paced like -re, with
 * the wall clock in an SEI NAL every 7th video frame: stress/flv/clock-sei.ts), run as a child pinned to
 * the load core, so the servers' latency can be read at the viewers and the load generator's busy
 * event loop does not jitter the stream. `node --import tsx bench/lib/clock-publisher.ts SAMPLE URL`
 * publishes until SIGTERM; on failure it prints the reason and exits 1. Never logs the URL.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startProbePublisher } from '../../stress/publish/probe-publisher.js';
import { childPublisher, type Publisher } from '../../stress/publish/ffmpeg-publisher.js';
import { hasTaskset } from './child.js';

export function startClockPublisher(sample: string, url: string, label: string, pinCpu: string): Publisher {
  const script = fileURLToPath(import.meta.url);
  const argv = [process.execPath, '--import', 'tsx', script, sample, url];
  const [cmd, ...args] = hasTaskset() ? ['taskset', '-c', pinCpu, ...argv] : argv;
  const child = spawn(cmd!, args, { stdio: ['ignore', 'pipe', 'ignore'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-200)));
  return childPublisher(child, label, () => (out.trim() ? ` (${out.trim()})` : ''));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [sample, url] = process.argv.slice(2);
  const pub = startProbePublisher(sample!, url!, 'bench publisher');
  const check = setInterval(() => {
    if (pub.error === undefined) return;
    process.stdout.write(`${pub.error}\n`);
    process.exit(1);
  }, 200);
  process.once('SIGTERM', () => {
    clearInterval(check);
    void pub.stop().then(() => process.exit(0));
  });
}
