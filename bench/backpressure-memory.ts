// The HTTP-FLV backpressure test (media/servers/http-flv/http-flv.test.ts, "memory stays bounded") with accounting:
// per sample, arrayBuffers growth and the bytes the engine holds (shared run, viewer queues, sockets' writableLength,
// GOP). MODE=gc calls gc() before each sample: what is held rather than garbage not yet collected.
// node --expose-gc --import tsx --test --test-reporter=tap bench/backpressure-memory.ts   (MODE=gc or MODE=raw)
import { describe, it, before, after } from 'node:test';
import { connect } from 'node:net';
import { startEngine, waitForEvent, testConfig, httpGet, sleep, type EngineHarness } from '../media/engine-test-kit.js';
import { RtmpClient } from '../media/servers/rtmp/client.js';

const MB = (n: number) => Math.round(n / 1048576 * 10) / 10;
describe('scratch backpressure', () => {
  let h: EngineHarness;
  before(async () => { h = await startEngine({ config: testConfig({ viewerQueueBytes: 256 * 1024, viewerQueueTime: 1000 }) }); });
  after(() => h.close());
  it('measures', async () => {
    const pub = await RtmpClient.open('127.0.0.1', h.rtmpPort);
    await pub.connect('live'); pub.setChunkSize(60_000); pub.publish('X'); await pub.nextStatus();
    pub.sendMedia(9, 0, Buffer.from([0x17, 0, 0, 0, 0, 1, 0x42, 0, 0x1e, 0xff]));
    let ts = 0; let frame = 0;
    const frameBody = (key: boolean) => { const b = Buffer.alloc(50_000, 0x33); b[0] = key ? 0x17 : 0x27; b[1] = 1; return b; };
    const pump = setInterval(() => { for (let i = 0; i < 2; i++) pub.sendMedia(9, (ts += 33), frameBody(frame++ % 15 === 0)); }, 10);
    const slow = connect(h.httpPort, '127.0.0.1'); slow.on('error', () => {});
    slow.write('GET /live/room1.flv?token=good HTTP/1.1\r\nHost: x\r\n\r\n'); slow.pause();
    const healthy = await httpGet(h.httpPort, '/live/room1.flv?token=good');
    let healthyBytes = 0; healthy.on('data', (d: Buffer) => (healthyBytes += d.length));
    const gc = (globalThis as any).gc as (() => void) | undefined;
    if (process.env.MODE === 'gc') gc!();
    const base = process.memoryUsage().arrayBuffers;
    let peak = 0; let peakHeld = 0; let peakAt = '';
    const held = () => {
      const s: any = h.engine.streams.get('room1'); if (!s) return { run: 0, q: 0, w: 0, gop: 0, f: 0 };
      const run = s.run; let runB = 0;
      if (run && run.length > 0) runB = run.bytesFrom(run.endSeq - run.length);
      let q = 0, w = 0, f = 0;
      for (const r of s.readers.values()) { q += r.queuedBytes ?? 0; w += r.sink?.writableLength ?? 0; if (r.following) f++; }
      return { run: runB, q, w, gop: s.gopBytes ?? 0, f };
    };
    const sampler = setInterval(() => {
      if (process.env.MODE === 'gc') gc!();
      const g = process.memoryUsage().arrayBuffers - base;
      const x = held();
      const sum = x.run + x.q + x.w + x.gop;
      if (g > peak) { peak = g; peakAt = `ab ${MB(g)} run ${MB(x.run)} q ${MB(x.q)} wl ${MB(x.w)} gop ${MB(x.gop)} followers ${x.f}`; }
      if (sum > peakHeld) peakHeld = sum;
    }, 50);
    try {
      await waitForEvent(h, 'play.ended', (e) => e.reason === 'slow', 20_000);
      await sleep(1000);
      console.log(`# MODE=${process.env.MODE ?? 'raw'} peak buffer growth ${MB(peak)} MB; at peak: ${peakAt}; peak held (run+queues+writableLength+gop) ${MB(peakHeld)} MB; healthy ${MB(healthyBytes)} MB`);
    } finally { clearInterval(pump); clearInterval(sampler); slow.destroy(); healthy.destroy(); pub.close(); }
  });
});
