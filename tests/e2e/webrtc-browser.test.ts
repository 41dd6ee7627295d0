/**
 * Headless Chromium (Debian's) plays WebRTC (WHEP) from a real MediaEngine fed by an ffmpeg RTMP
 * push: RTCPeerConnection.getStats framesDecoded must grow and the video's currentTime advance. A
 * forged or missing token is refused before any peer exists; kick drops a WebRTC viewer; the room
 * page plays WebRTC by default and shows the latency it measures.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { PlayStarted } from '../../core/media/media-contract.js';
import { missingTool } from '../../core/testing/tools.js';
import { launchChromium, missingChromium } from '../../core/testing/chromium.js';
import { startLiveTestEngine, waitFor, type TestEngine } from './media-fixtures.js';

const skip = missingTool('ffmpeg') || missingChromium();

/** Room 3101 is live; the watch page's grant (POST /enter) hands out token 'good'. */
function fakeRoomsApi(req: IncomingMessage, res: ServerResponse): boolean {
  const url = new URL(req.url ?? '/', 'http://x');
  const room = /^\/api\/v1\/rooms\/(3101)(\/play-token|\/enter)?$/.exec(url.pathname);
  if (!room) return false;
  const json = (body: unknown) => res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
  if (!room[2]) json({ id: '3101', title: 'WebRTC room', is_live: true, viewers: 1 });
  else json({ token: 'good', expires_at: Date.now() + 600_000, flv_url: '/live/3101.flv?token=good', hls_url: '/live/3101/index.m3u8?token=good' });
  return true;
}

interface Probe { currentTime: number; framesDecoded: number; kind: string | null; error: string | null; connection: string | null }
const PROBE = `(async () => {
  const h = window.playerHandle;
  let framesDecoded = 0;
  if (h && h.pc) (await h.pc.getStats()).forEach((s) => { if (s.type === 'inbound-rtp' && s.kind === 'video') framesDecoded = s.framesDecoded ?? 0; });
  return { currentTime: document.getElementById('video').currentTime, framesDecoded, kind: window.playerState.kind,
    error: window.playerState.error, connection: h && h.pc ? h.pc.connectionState : null };
})()`;

describe('WebRTC playback in Chromium', { skip }, () => {
  let media: TestEngine;
  let browser: Browser;
  let context: BrowserContext;

  before(async () => {
    media = await startLiveTestEngine('sk_3101', { api: fakeRoomsApi });
    browser = await launchChromium();
    context = await browser.newContext();
  });

  after(async () => {
    await browser?.close();
    await media?.close();
  });

  const webrtcStarts = () => media.events.filter((e) => e.name === 'play.started' && (e.payload as PlayStarted).protocol === 'webrtc').map((e) => e.payload as PlayStarted);

  async function openPlayer(whep: string): Promise<Page> {
    const page = await context.newPage();
    await page.goto(`${media.httpBase}/test-player.html?whep=${encodeURIComponent(whep)}`);
    return page;
  }

  async function probeUntil(page: Page, done: (p: Probe) => boolean, ms = 20_000): Promise<Probe> {
    const end = Date.now() + ms;
    let p = (await page.evaluate(PROBE)) as Probe;
    while (!done(p) && Date.now() < end) {
      await new Promise((r) => setTimeout(r, 250));
      p = (await page.evaluate(PROBE)) as Probe;
    }
    return p;
  }

  it('plays WHEP: framesDecoded grows and currentTime advances', async () => {
    const page = await openPlayer('/live/3101/whep?token=good');
    try {
      const first = await probeUntil(page, (p) => p.framesDecoded > 0 || p.error !== null);
      assert.equal(first.error, null);
      assert.equal(first.kind, 'webrtc');
      const later = await probeUntil(page, (p) => p.framesDecoded >= first.framesDecoded + 30 && p.currentTime >= first.currentTime + 1);
      assert.ok(later.framesDecoded >= first.framesDecoded + 30, `framesDecoded ${first.framesDecoded} -> ${later.framesDecoded}`);
      assert.ok(later.currentTime >= first.currentTime + 1, `currentTime ${first.currentTime} -> ${later.currentTime}`);
      assert.equal(webrtcStarts().length, 1);
      assert.equal(media.engine.streams.get('3101')!.viewers.webrtc, 1);
    } finally {
      await page.close();
    }
    // The page's DELETE on pagehide (or, failing that, the peer's silence) ends the viewer.
    await waitFor('the viewer to leave', () => media.engine.streams.get('3101')!.viewers.webrtc === 0, 15_000);
  });

  it('refuses a forged token (403) and a missing one (401) with the JSON error, before any peer or media', async () => {
    const before = webrtcStarts().length;
    const peers = media.engine.whep!.size;
    const page = await openPlayer('/live/3101/whep?token=forged');
    try {
      const p = await probeUntil(page, (x) => x.error !== null || x.kind !== null, 15_000);
      assert.equal(p.kind, null);
      assert.match(p.error ?? '', /WHEP 403/);
      const answers = (await page.evaluate(`(async () => {
        const pc = new RTCPeerConnection();
        pc.addTransceiver('video', { direction: 'recvonly' });
        await pc.setLocalDescription(await pc.createOffer());
        const post = async (url, headers = {}) => {
          const r = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/sdp', ...headers }, body: pc.localDescription.sdp });
          return { status: r.status, body: await r.json() };
        };
        const out = [await post('/live/3101/whep'), await post('/live/3101/whep', { Authorization: 'Bearer forged' })];
        pc.close();
        return out;
      })()`)) as { status: number; body: { error: { code: string } } }[];
      assert.deepEqual(answers.map((a) => [a.status, a.body.error.code]), [[401, 'unauthorized'], [403, 'forbidden']]);
    } finally {
      await page.close();
    }
    assert.equal(webrtcStarts().length, before, 'no WebRTC viewer started');
    assert.equal(media.engine.whep!.size, peers, 'no peer was created');
  });

  it('kick drops a WebRTC viewer: decoding stops', async () => {
    const page = await openPlayer('/live/3101/whep?token=good');
    try {
      const playing = await probeUntil(page, (p) => p.framesDecoded > 10 || p.error !== null);
      assert.ok(playing.framesDecoded > 10, JSON.stringify(playing));
      const viewer = webrtcStarts().at(-1)!;
      assert.equal(await media.engine.kickViewer(viewer.viewerId), true);
      await waitFor('play.ended kicked', () => media.events.some((e) => e.name === 'play.ended' && (e.payload as { viewerId: string; reason: string }).viewerId === viewer.viewerId && (e.payload as { reason: string }).reason === 'kicked'));
      await new Promise((r) => setTimeout(r, 1000));
      const a = (await page.evaluate(PROBE)) as Probe;
      await new Promise((r) => setTimeout(r, 1500));
      const b = (await page.evaluate(PROBE)) as Probe;
      assert.equal(b.framesDecoded, a.framesDecoded, 'no frame decoded after the kick');
      assert.equal(media.engine.whep!.size, 0);
    } finally {
      await page.close();
    }
  });

  it('the room page plays WebRTC by default and shows the measured latency', async () => {
    const page = await context.newPage();
    try {
      await page.goto(`${media.httpBase}/watch/3101`);
      // Polled from here: the page's CSP forbids the string evaluation waitForFunction needs.
      await waitFor('playing (WebRTC)', async () => (await page.textContent('#status')) === 'playing (WebRTC)', 20_000);
      await waitFor('a latency reading', async () => /latency ≈ \d+ ms/.test((await page.textContent('#latency').catch(() => '')) ?? ''), 10_000);
      const ms = Number(await page.getAttribute('#latency', 'data-ms'));
      assert.ok(ms >= 0 && ms < 5000, `latency ${ms} ms`);
    } finally {
      await page.close();
    }
  });
});
