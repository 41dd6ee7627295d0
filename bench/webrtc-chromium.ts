/**
 * `npm run bench:webrtc -- --chromium [--viewers 1,5,10] [--seconds 8] [--pages-core 1]`: time to first frame and
 * glass-to-glass latency of N headless Chromium viewers (Debian's /usr/bin/chromium, one browser,
 * N pages) joining one stream at the same moment (every page loaded and its offer made first, then
 * the N WHEP POSTs released together). Chromium does ICE, DTLS and SRTP natively, so
 * unlike the werift viewers of bench:webrtc the viewers' own crypto costs little; what is left is
 * the server's time and the browser's decode.
 *
 * The media engine runs in its own process (bench/webrtc.ts --server --web, pinned to core 0),
 * serving web/ and WHEP on one origin; the camera (bench/lib/clock-camera.ts: the wall clock burned
 * into every frame, x264 zerolatency 640x360 30 fps 800 kb/s, RTMP) runs here, its ffmpeg pinned to
 * core 1. Each page is web/test-player.html?whep=... (the room page's player.js and whep-player.js,
 * unchanged); an init script (CDP, not a page script: the CSP stays) stamps, from the navigation:
 * the WHEP POST, its answer (the fetch resolving), ICE connected, the peer connected (ICE + DTLS)
 * and the first presented frame (requestVideoFrameCallback). TTFF = POST to first presented frame.
 * Then each page reads the burned-in clock 5 times a second for `seconds`: glass-to-glass =
 * expectedDisplayTime minus the clock (camera -> x264 -> RTMP -> engine -> WHEP -> jitter buffer ->
 * decode -> display). The server's own phases come from its 'webrtc viewer started' log lines.
 */
import { execSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';
import type { Page } from 'playwright-core';
import { CHROMIUM_PATH, launchChromium } from '../core/testing/chromium.js';
import { percentile } from '../stress/report/percentile.js';
import { parseProcStat, readProcessTable } from '../stress/report/server-usage.js';
import { fixed, formatTable } from '../stress/report/table.js';
import { CAMERA, CLOCK_MOD, CLOCK_READER, startClockCamera } from './lib/clock-camera.js';
import { machineBusySeconds, schedMs, ticksByGroup, type ProcEntry } from './lib/machine-cpu.js';
import { pinSelf } from './lib/child.js';
import { startWebrtcBenchServer } from './lib/webrtc-server.js';

const MAX_PAGES = 25;

/** Installed in every page before its scripts run: the start's timestamps in window.__whep (ms from navigation). */
const INIT = `(() => {
  const T = (window.__whep = { post: -1, answer: -1, ice: -1, conn: -1, frame: -1, ready: false });
  const now = () => performance.now();
  // The WHEP POST waits for window.__release() (the bench calls it in every page at once, once every
  // page is loaded and has its offer): N viewers join in the same moment, page loads not included.
  const go = new Promise((r) => (window.__release = r));
  const fetch0 = window.fetch;
  window.fetch = function (input, init) {
    const isPost = !!init && init.method === 'POST' && String(input && input.url ? input.url : input).includes('/whep');
    if (!isPost) return fetch0.apply(this, arguments);
    T.ready = true;
    return go.then(() => {
      if (T.post < 0) T.post = now();
      const p = fetch0.call(window, input, init);
      p.then(() => { if (T.answer < 0) T.answer = now(); }, () => {});
      return p;
    });
  };
  const PC = window.RTCPeerConnection;
  window.RTCPeerConnection = class extends PC {
    constructor(...args) {
      super(...args);
      (window.__pcs = window.__pcs || []).push(this);
      this.addEventListener('iceconnectionstatechange', () => {
        if (T.ice < 0 && (this.iceConnectionState === 'connected' || this.iceConnectionState === 'completed')) T.ice = now();
      });
      this.addEventListener('connectionstatechange', () => { if (T.conn < 0 && this.connectionState === 'connected') T.conn = now(); });
    }
  };
  document.addEventListener('DOMContentLoaded', () => {
    const v = document.getElementById('video');
    if (v && v.requestVideoFrameCallback) v.requestVideoFrameCallback(() => { if (T.frame < 0) T.frame = now(); });
  });
})()`;

/** Page side: glass-to-glass samples, the clock read at most every 200 ms for `ms`. */
const MEASURE = `(async (ms) => {
  const video = document.getElementById('video');
  const canvas = document.createElement('canvas');
  canvas.width = ${CAMERA.width}; canvas.height = ${CAMERA.height};
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  const read = ${CLOCK_READER};
  const samples = [];
  let frames = 0, bad = 0, lastRead = -1e9;
  const start = performance.now();
  await new Promise((resolve) => {
    const timer = setTimeout(resolve, ms + 1000);
    const onFrame = (now, meta) => {
      if (performance.now() - start > ms) { clearTimeout(timer); return resolve(); }
      frames++;
      if (now - lastRead >= 200) {
        lastRead = now;
        const clock = read(video, ctx);
        if (clock < 0) bad++;
        else {
          const shown = Math.round(performance.timeOrigin + (meta.expectedDisplayTime ?? now));
          const g2g = (((shown - clock) % ${CLOCK_MOD}) + ${CLOCK_MOD}) % ${CLOCK_MOD};
          // Above half the clock's range it is a negative latency (a clock shown before it was drawn): a misread.
          if (g2g > ${CLOCK_MOD} / 2) bad++;
          else samples.push(g2g);
        }
      }
      video.requestVideoFrameCallback(onFrame);
    };
    video.requestVideoFrameCallback(onFrame);
  });
  return { samples, frames, bad, seconds: (performance.now() - start) / 1000 };
})`;

/** Page side: the video inbound-rtp figures of the page's peer connection (getStats), cumulative since the join. */
const INBOUND = `(async () => {
  for (const pc of window.__pcs || []) {
    const stats = await pc.getStats();
    for (const s of stats.values()) {
      if (s.type === 'inbound-rtp' && s.kind === 'video') return { received: s.framesReceived ?? 0, decoded: s.framesDecoded ?? 0, dropped: s.framesDropped ?? 0,
        decodeS: s.totalDecodeTime ?? 0, jbS: s.jitterBufferDelay ?? 0, jbCount: s.jitterBufferEmittedCount ?? 0, nacks: s.nackCount ?? 0, plis: s.pliCount ?? 0 };
    }
  }
  return null;
})()`;

interface Stamps { post: number; answer: number; ice: number; conn: number; frame: number }
interface Inbound { received: number; decoded: number; dropped: number; decodeS: number; jbS: number; jbCount: number; nacks: number; plis: number }
interface PageResult { stamps: Stamps | null; error: string | null; samples: number[]; fps: number; inbound?: Inbound | null }

/** The media process from a compiled build in `dir`: bench/webrtc.ts --server --web, in plain JavaScript. */
function distServer(dir: string, warm: boolean, jsDtls: boolean): string {
  const at = (f: string) => JSON.stringify(pathToFileURL(join(dir, f)).href);
  return `
    import { createServer } from 'node:http';
    if (${jsDtls}) (await import(${at('media/servers/whep/native-dtls-crypto.js')})).chooseDtlsCrypto(false);
    const { startEngine, testConfig, testHooks } = await import(${at('media/engine-test-kit.js')});
    const { createLogger } = await import(${at('core/logging/logger.js')});
    const { createWebHandler } = await import(${at('web/serve.js')});
    const h = await startEngine({ hooks: testHooks(), config: testConfig({ statsInterval: 5000, webrtcWarm: ${warm} }), log: createLogger({ level: 'info', name: 'bench-media' }) });
    const web = createWebHandler();
    const server = createServer((req, res) => { if (!h.engine.handleHttp(req, res)) web(req, res); });
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    process.stdout.write(JSON.stringify({ http: server.address().port, rtmp: h.rtmpPort }) + '\\n');
    process.once('SIGTERM', () => void h.close().then(() => process.exit(0)));`;
}

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : def;
}

async function main(): Promise<void> {
  // --dist [DIR]: the media process runs the compiled build (npm run build: what npm run start:media
  // runs, no tsx loader, werift bundled) instead of the sources under tsx.
  const distDir = process.argv.includes('--dist') ? (arg('dist', 'dist').startsWith('--') ? 'dist' : arg('dist', 'dist')) : undefined;
  const steps = arg('viewers', '1,5,10').split(',').map(Number).filter((n) => n > 0 && n <= MAX_PAGES);
  const seconds = Math.min(60, Math.max(3, Number(arg('seconds', '8'))));
  // --profile DIR: the media process runs with --cpu-prof (a .cpuprofile in DIR when it exits).
  // --no-warm: werift loads with the first offer (media.webrtcWarm off), as before it was warmed at the publish.
  const noWarm = process.argv.includes('--no-warm');
  // --js-dtls: werift's own JavaScript for X25519 and signing (A/B of media/servers/whep/native-dtls-crypto.ts).
  const jsDtls = process.argv.includes('--js-dtls');
  const prof = process.argv.includes('--profile') ? ['--cpu-prof', '--cpu-prof-dir', arg('profile', '.')] : [];
  // --pages-core N: this process and so Chromium (and the camera, pinned to core 1 anyway) on core N
  // only, so the media process (pinned to core 0) does not share its core with the pages: an A/B of
  // whether a slow join is the server's or the pages' starving on one machine.
  const pagesCore = process.argv.includes('--pages-core') ? arg('pages-core', '1') : undefined;
  if (pagesCore !== undefined && !pinSelf(pagesCore)) throw new Error('--pages-core needs taskset');
  const { server, ports, phases, warmUp } = await startWebrtcBenchServer(distDir
    ? [process.execPath, ...prof, '--input-type=module', '-e', distServer(resolve(distDir), !noWarm, jsDtls)]
    : [process.execPath, ...prof, '--import', 'tsx', fileURLToPath(new URL('./webrtc.ts', import.meta.url)), '--server', '--web', ...(noWarm ? ['--no-warm'] : []), ...(jsDtls ? ['--js-dtls'] : [])]);
  const cpuOf = () => {
    const s = parseProcStat(readFileSync(`/proc/${server.pid}/stat`, 'latin1'));
    return s ? { at: performance.now(), cpu: s.ticks / 100 } : undefined;
  };
  // The whole machine per step: /proc/stat's busy time, and this process's tree by group (the media
  // process, the camera's ffmpeg, Chromium's processes, this process and the rest of its tree).
  const role = (pid: number, e: ProcEntry) => (pid === server.pid ? 'server' : e.comm === 'ffmpeg' && e.ppid === process.pid ? 'camera' : /chrom/i.test(e.comm) ? 'chromium' : undefined);
  const accounting = () => ({ at: performance.now(), busy: machineBusySeconds(), groups: ticksByGroup(readProcessTable(), process.pid, role, 'bench') });
  const camera = startClockCamera(`rtmp://127.0.0.1:${ports.rtmp}/live/X`, '1');
  const base = `http://127.0.0.1:${ports.http}`;
  const player = `${base}/test-player.html?whep=${encodeURIComponent('/live/room1/whep?token=good')}`;
  const browser = await launchChromium();
  const version = execSync(`${CHROMIUM_PATH} --version 2>/dev/null`).toString().trim();
  const up = () => execSync('uptime').toString().trim().replace(/^.*load average/, 'load average');
  console.log(`onair bench:webrtc --chromium: ${version}, camera ${CAMERA.width}x${CAMERA.height} ${CAMERA.fps} fps x264 zerolatency ${CAMERA.kbps} kb/s, ${seconds} s of latency per step, ${cpus().length} cores; media process: ${distDir ? `built ${distDir}` : 'sources under tsx'}${pagesCore === undefined ? '' : `; pages (and this process) on core ${pagesCore} only`}; ${up()}`);
  const rows: (string | number | undefined)[][] = [];
  const joinRows: (string | number | undefined)[][] = [];
  const acctRows: (string | number | undefined)[][] = [];
  let firstPost: number | undefined;
  const p50p95 = (xs: number[]) => `${fixed(percentile(xs, 50)) ?? '-'} / ${fixed(percentile(xs, 95)) ?? '-'}`;
  try {
    await new Promise((r) => setTimeout(r, 4000)); // the camera live, a GOP in the cache
    for (const n of steps) {
      phases.length = 0;
      const pages: Page[] = [];
      for (let i = 0; i < n; i++) {
        const page = await browser.newPage();
        await page.addInitScript(INIT);
        pages.push(page);
      }
      // All N load and make their offers; then their POSTs are released together (INIT).
      const loaded = await Promise.all(pages.map(async (page) => {
        try {
          // Not the load event: a <video> with a srcObject and no media yet delays it (until the release).
          await page.goto(player, { waitUntil: 'domcontentloaded' });
          const until = Date.now() + 30_000;
          while (Date.now() < until && !(await page.evaluate('window.__whep.ready'))) await new Promise((r) => setTimeout(r, 100));
          return null;
        } catch (err) {
          return (err as Error).message.split('\n')[0]!;
        }
      }));
      // The media process's CPU in the second after the POSTs (the joins: answers, ICE, DTLS, first
      // frames) less the second before (the camera's ingest), per viewer: 'srv join cpu ms'.
      const a0 = accounting();
      const cBase = cpuOf();
      await new Promise((r) => setTimeout(r, 1000));
      const c0 = cpuOf();
      const s0 = schedMs(server.pid!, true);
      firstPost ??= performance.now();
      let cJoin: ReturnType<typeof cpuOf>;
      let sJoin: ReturnType<typeof schedMs>;
      // The server's run-queue wait in the 2 s after the POSTs: ready to work (answers, DTLS, first frames) but given no core.
      const schedTimer = setTimeout(() => (sJoin = schedMs(server.pid!, true)), 2000);
      const joinTimer = setTimeout(() => (cJoin = cpuOf()), 1000);
      await Promise.all(pages.map((page) => page.evaluate('window.__release()').catch(() => {})));
      const results = await Promise.all(pages.map(async (page, i): Promise<PageResult> => {
        try {
          if (loaded[i]) throw new Error(loaded[i]!);
          const until = Date.now() + 15_000;
          let st = null as { stamps: Stamps; error: string | null } | null;
          while (Date.now() < until) {
            st = (await page.evaluate('({ stamps: window.__whep, error: window.playerState ? window.playerState.error : null })')) as typeof st;
            if (st && (st.stamps.frame >= 0 || st.error)) break;
            await new Promise((r) => setTimeout(r, 100));
          }
          if (!st || st.stamps.frame < 0) return { stamps: st?.stamps ?? null, error: st?.error ?? 'no frame in 15 s', samples: [], fps: 0 };
          const m = (await page.evaluate(`${MEASURE}(${seconds * 1000})`)) as { samples: number[]; frames: number; seconds: number };
          const inbound = (await page.evaluate(INBOUND).catch(() => null)) as Inbound | null;
          return { stamps: st.stamps, error: null, samples: m.samples, fps: m.frames / m.seconds, inbound };
        } catch (err) {
          return { stamps: null, error: (err as Error).message.split('\n')[0]!, samples: [], fps: 0 };
        }
      }));
      const c1 = cpuOf();
      const a1 = accounting(); // before the pages close: their renderers' ticks go with them
      clearTimeout(joinTimer);
      clearTimeout(schedTimer);
      const joinCpuMs = cBase && c0 && cJoin! ? Math.max(0, (cJoin!.cpu - c0.cpu) / ((cJoin!.at - c0.at) / 1000) - (c0.cpu - cBase.cpu) / ((c0.at - cBase.at) / 1000)) * 1000 / n : undefined;
      await Promise.all(pages.map((p) => p.close().catch(() => {})));
      const ok = results.filter((r) => r.stamps && r.stamps.frame >= 0);
      const since = (k: keyof Stamps) => ok.filter((r) => r.stamps![k] >= 0).map((r) => r.stamps![k] - r.stamps!.post);
      const valid = (xs: number[]) => xs.filter((x) => x >= 0);
      const lat = results.flatMap((r) => r.samples);
      // The client's share of the time to first frame: the page's TTFF less the server's first frame sent
      // (p50 against p50, p95 against p95; the server counts from the offer's arrival, the page from its POST).
      const gap = (q: number) => {
        const a = percentile(since('frame'), q);
        const b = percentile(phases.map((p) => p.firstFrame), q);
        return a === undefined || b === undefined ? '-' : fixed(a - b);
      };
      joinRows.push([
        n, phases.length, p50p95(phases.map((p) => p.answered)), p50p95(valid(phases.map((p) => p.ice))), p50p95(valid(phases.map((p) => p.dtls))),
        p50p95(phases.map((p) => p.firstFrame)), p50p95(since('frame')), `${gap(50)} / ${gap(95)}`,
        s0 && sJoin! ? `${fixed(sJoin!.runMs - s0.runMs)} / ${fixed(sJoin!.waitMs - s0.waitMs)}` : '-',
      ]);
      const wall = (a1.at - a0.at) / 1000;
      const pct = (g: string) => fixed((((a1.groups.get(g) ?? 0) - (a0.groups.get(g) ?? 0)) / 100 / wall) * 100, 0);
      const machine = ((a1.busy - a0.busy) / wall) * 100;
      const tree = [...a1.groups.keys()].reduce((t, g) => t + (a1.groups.get(g) ?? 0) - (a0.groups.get(g) ?? 0), 0) / 100 / wall * 100;
      const inb = results.map((r) => r.inbound).filter((x): x is Inbound => !!x);
      acctRows.push([
        n, fixed(wall, 1), fixed(machine, 0), pct('server'), pct('camera'), pct('bench'), pct('chromium'), fixed(machine - tree, 0),
        fixed(percentile(inb.map((x) => (x.received ? (x.decoded / x.received) * 100 : 0)), 50), 1),
        fixed(percentile(inb.map((x) => x.dropped), 50)),
        `${fixed(percentile(inb.map((x) => (x.decoded ? (x.decodeS / x.decoded) * 1000 : 0)), 50), 1) ?? '-'} / ${fixed(percentile(inb.map((x) => (x.decoded ? (x.decodeS / x.decoded) * 1000 : 0)), 95), 1) ?? '-'}`,
        p50p95(inb.map((x) => (x.jbCount ? (x.jbS / x.jbCount) * 1000 : 0))),
        `${inb.reduce((t, x) => t + x.nacks, 0)} / ${inb.reduce((t, x) => t + x.plis, 0)}`,
      ]);
      rows.push([
        n, `${ok.length}/${n}`, fixed(percentile(ok.map((r) => r.stamps!.post), 50)),
        p50p95(since('answer')), p50p95(since('ice')), p50p95(since('conn')), p50p95(since('frame')),
        p50p95(phases.map((p) => p.answered)), p50p95(valid(phases.map((p) => p.dtls))), p50p95(phases.map((p) => p.firstFrame)),
        p50p95(lat), fixed(percentile(results.filter((r) => r.fps > 0).map((r) => r.fps), 50), 1),
        fixed(c0 && c1 ? ((c1.cpu - c0.cpu) / ((c1.at - c0.at) / 1000)) * 100 : undefined, 1), fixed(joinCpuMs, 0), up().replace('load average: ', ''),
      ]);
      const errors = [...new Set(results.map((r) => r.error).filter(Boolean))];
      console.log(`N=${n} done${errors.length ? ` (errors: ${errors.join('; ')})` : ''}`);
      await new Promise((r) => setTimeout(r, 2000)); // sessions gone before the next step
    }
  } finally {
    camera.stop();
    await browser.close();
    server.kill('SIGTERM');
    await new Promise((r) => {
      server.once('close', r);
      setTimeout(r, 5000);
    });
  }
  // p50 / p95 ms. 'nav->POST': page navigation to the WHEP POST (page load, offer, ICE gathering, and
  // the wait for the slowest page to be ready: every POST is released at once);
  // the rest from the POST: answer received, ICE connected, peer connected (ICE + DTLS), first frame
  // presented (TTFF); the server's answer made, DTLS done and first frame sent, from the offer's arrival; g2g:
  // glass-to-glass from the burned-in clock; fps: frames presented per second while sampling;
  // srv cpu: the media process over the whole step (join and sampling), % of one core; srv join cpu ms:
  // its CPU in the second after the POSTs less the second before, per viewer (10 ms ticks: coarse).
  const headers = ['N', 'played', 'nav->POST p50', 'answer', 'ICE conn', 'connected', 'TTFF', 'srv answer', 'srv DTLS done', 'srv 1st frame', 'g2g', 'fps p50', 'srv cpu%', 'srv join cpu ms', 'load after'];
  console.log(`\n${formatTable(headers, rows)}`);
  // The join, p50 / p95 ms: the server's side from the offer's arrival (answer made, ICE nominated, DTLS
  // done, first frame sent: media/servers/whep/conn.ts's phases), the page's TTFF from its POST, and the
  // client's share = TTFF less the server's first frame sent (RTP in, jitter buffer, decode, present);
  // then the media process's event-loop thread in the 2 s after the POSTs: ms on a core, ms runnable but waiting for one.
  console.log(`\n${formatTable(['N', 'srv started', 'srv answer', 'srv ICE', 'srv DTLS', 'srv 1st frame sent', 'page TTFF', 'client share', 'srv loop run / runq wait ms, 2 s'], joinRows)}`);
  // Where the machine's CPU went over the step (page loads excluded; join and sampling included), % of
  // one core (the machine has ${cpus().length}): busy from /proc/stat; server, camera (ffmpeg), bench (this
  // process: it draws the camera's frames), chromium (browser, GPU, renderers: its whole tree); other =
  // busy less this tree (other work on the machine). Then the pages' video inbound-rtp getStats at the
  // end: decoded/received %, frames dropped, decode ms per frame, jitter buffer ms per frame, NACKs / PLIs.
  console.log(`\n${formatTable(['N', 'wall s', 'machine%', 'server%', 'camera%', 'bench%', 'chromium%', 'other%', 'decoded/recv %', 'dropped p50', 'decode ms/frame', 'jitter buf ms', 'NACK / PLI'], acctRows)}`);
  // The first step's first viewer is the process's first WHEP offer: warmed up at the publish or not.
  console.log(warmUp.at === undefined
    ? `WebRTC warm-up at the publish: ${noWarm ? 'off (--no-warm): werift loaded with the first offer' : 'not reported'}`
    : `WebRTC warm-up at the publish: ${warmUp.ok ? 'done' : 'FAILED'} in ${warmUp.ms} ms, ${firstPost === undefined ? '?' : Math.round(firstPost - warmUp.at)} ms before the first POST`);
  console.log(`uptime: ${execSync('uptime').toString().trim()}`);
  process.exit(0);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
