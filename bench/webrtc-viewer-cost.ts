/**
 * `npx tsx bench/webrtc-send.ts --viewers 40`: the media process's CPU per WHEP viewer end to end
 * (RTMP in, the flush loop, packetization, SRTP, the Opus fan-out, werift's RTCP, ICE consent and
 * timers), without viewers that need much CPU of their own. bench:webrtc's werift viewers decrypt
 * every packet in JavaScript and starve on a shared machine; then the server has little to send and
 * its CPU per viewer reads low. Here the viewers are werift peers in this process that let the first
 * packets through (so their receiver reports name the server's SSRCs and keep the session alive)
 * and then count RTP datagrams at the socket and drop them: ICE, DTLS and RTCP stay real.
 *
 * The media process is bench:webrtc's (`bench/webrtc.ts --server`, pinned to core 0) fed by its
 * clock publisher (640x360 30 fps 800 kb/s + AAC, pinned to core 1). The viewers join in groups of
 * 10; once all are connected and 3 s have passed, the media process's user and system CPU are read
 * from /proc over a steady window in which every viewer must keep receiving (>= 90 % of the median
 * packet rate: "healthy"). Printed: CPU % of a core per viewer (minus the publisher-only idle
 * figure, measured first), user/system split, and viewers per core = 100 / that.
 */
import { execSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Socket } from 'node:dgram';
import { ensureSample } from '../stress/publish/sample.js';
import { startClockPublisher } from './lib/clock-publisher.js';
import { startWebrtcBenchServer } from './lib/webrtc-server.js';
import { whepPlay, type WhepPlay } from '../media/servers/whep/whep-client.js';

const SAMPLE = { videoKbps: 800, audioKbps: 128, width: 640, height: 360, fps: 30, gopSeconds: 2, seconds: 10 };
const JOIN_GROUP = 10;

/** utime and stime of a process, in seconds (clock ticks of 1/100 s). */
function cpuOf(pid: number): { user: number; system: number } {
  const text = readFileSync(`/proc/${pid}/stat`, 'latin1');
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { user: Number(f[11]) / 100, system: Number(f[12]) / 100 };
}

/** An RTP datagram (not STUN, DTLS or RTCP: RFC 7983 and RFC 5761's payload types 192-223). */
function isRtp(d: Buffer): boolean {
  return d.length > 12 && d[0]! >= 128 && d[0]! <= 191 && !(d[1]! >= 192 && d[1]! <= 223);
}

interface LeanViewer { play: WhepPlay; datagrams: number }

/** Once connected: the peer's socket hands werift the first RTP (until both tracks were seen), then counts and drops RTP. */
function makeLean(play: WhepPlay): LeanViewer {
  const v: LeanViewer = { play, datagrams: 0 };
  const transports = (play.pc as unknown as { iceTransports: { connection: { protocols: { transport?: { socket?: Socket } }[] } }[] }).iceTransports;
  for (const t of transports) {
    for (const p of t.connection.protocols) {
      const socket = p.transport?.socket;
      if (!socket) continue;
      const listeners = socket.listeners('message') as ((msg: Buffer, rinfo: unknown) => void)[];
      socket.removeAllListeners('message');
      socket.on('message', (msg: Buffer, rinfo: unknown) => {
        if (isRtp(msg)) {
          v.datagrams++;
          if (play.stats.videoPackets >= 30 && play.stats.audioPackets >= 10) return;
        }
        for (const l of listeners) l(msg, rinfo);
      });
    }
  }
  return v;
}

export async function viewerCost(n: number, seconds: number, profileDir?: string): Promise<void> {
  const self = fileURLToPath(new URL('./webrtc.ts', import.meta.url));
  const sample = await ensureSample(SAMPLE);
  const { server, ports } = await startWebrtcBenchServer([process.execPath, ...(profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : []), '--import', 'tsx', self, '--server']);
  const publisher = startClockPublisher(sample, `rtmp://127.0.0.1:${ports.rtmp}/live/X`, 'clock publisher', '1');
  const pid = server.pid!;
  const viewers: LeanViewer[] = [];
  try {
    await new Promise((r) => setTimeout(r, 4000));
    const idle0 = { cpu: cpuOf(pid), at: performance.now() };
    await new Promise((r) => setTimeout(r, 4000));
    const idle1 = { cpu: cpuOf(pid), at: performance.now() };
    const idlePct = ((idle1.cpu.user + idle1.cpu.system - idle0.cpu.user - idle0.cpu.system) / ((idle1.at - idle0.at) / 1000)) * 100;
    const url = `http://127.0.0.1:${ports.http}/live/room1/whep`;
    // Groups of JOIN_GROUP; a viewer refused (503: too many connecting, or the engine behind) or
    // not connected in 15 s tries again after 2 s, up to 20 groups in all.
    const refusals: Record<number, number> = {};
    for (let groups = 0; viewers.length < n && groups < 20; groups++) {
      const group = await Promise.all(Array.from({ length: Math.min(JOIN_GROUP, n - viewers.length) }, () => whepPlay(url, { bearer: 'good' })));
      const ok = await Promise.all(group.map((p) => (p.status === 201 ? p.connected(15_000) : Promise.resolve(false))));
      group.forEach((p, k) => {
        if (ok[k]) return void viewers.push(makeLean(p));
        refusals[p.status] = (refusals[p.status] ?? 0) + 1;
        void p.close().catch(() => {});
      });
      if (ok.some((x) => !x)) await new Promise((r) => setTimeout(r, 2000));
    }
    if (Object.keys(refusals).length > 0) console.log(`joins refused or not connected, by HTTP status (retried): ${JSON.stringify(refusals)}`);
    await new Promise((r) => setTimeout(r, 3000));
    const d0 = viewers.map((v) => v.datagrams);
    const a = { cpu: cpuOf(pid), at: performance.now(), own: process.cpuUsage() };
    await new Promise((r) => setTimeout(r, seconds * 1000));
    const b = { cpu: cpuOf(pid), at: performance.now(), own: process.cpuUsage(a.own) };
    const span = (b.at - a.at) / 1000;
    const rates = viewers.map((v, i) => (v.datagrams - d0[i]!) / span).sort((x, y) => x - y);
    const median = rates[Math.floor(rates.length / 2)] ?? 0;
    const healthy = rates.filter((r) => r >= 0.9 * median).length;
    const user = ((b.cpu.user - a.cpu.user) / span) * 100;
    const system = ((b.cpu.system - a.cpu.system) / span) * 100;
    // CPU per RTP packet delivered (every viewer's datagrams), then per viewer at the stream's
    // packet rate (the median viewer's): viewers that fell behind then count for what they got.
    const total = viewers.reduce((sum, v, i) => sum + (v.datagrams - d0[i]!), 0) / span;
    const usPerPacket = ((user + system - idlePct) * 10_000) / Math.max(1, total);
    const perViewer = (usPerPacket * median) / 10_000;
    console.log(`onair webrtc viewer cost: ${n} asked, ${viewers.length} connected, ${healthy} healthy (>= 90 % of the median ${median.toFixed(0)} RTP datagrams/s), ${seconds} s steady window`);
    console.log(`media process: ${(user + system).toFixed(1)} % of a core (user ${user.toFixed(1)}, system ${system.toFixed(1)}); publisher only ${idlePct.toFixed(1)} %`);
    if (median < 100) console.log('NOT VALID: the median viewer got < 100 RTP datagrams/s (the stream did not flow: publisher or server starved)');
    console.log(`per viewer: ${perViewer.toFixed(3)} % of a core -> ${Math.round(100 / perViewer)} viewers per core; ${usPerPacket.toFixed(1)} us per RTP packet delivered (${total.toFixed(0)}/s)`);
    console.log(`viewers' process (lean peers): ${(((b.own.user + b.own.system) / 1e6 / span) * 100).toFixed(1)} % of a core`);
  } finally {
    await Promise.allSettled(viewers.map((v) => v.play.close()));
    await publisher.stop();
    server.kill('SIGTERM');
    console.log(`uptime: ${execSync('uptime').toString().trim()}`);
  }
}
