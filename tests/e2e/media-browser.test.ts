/**
 * Headless Chromium plays a live stream from a real MediaEngine fed by ffmpeg: HTTP-FLV through
 * mpegts.js and HLS through hls.js, from web/test-player.html. The video's currentTime must advance.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, BrowserContext } from 'playwright-core';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { missingTool } from '../../core/testing/tools.js';
import { launchChromium, missingChromium, watchCsp } from '../../core/testing/chromium.js';
import { startLiveTestEngine, type TestEngine } from './media-fixtures.js';

const skip = missingTool('ffmpeg') || missingChromium();

/**
 * The slice of control's API the pages use (documented in DESIGN.md): room 3001 is live with good
 * URLs; room 3002 hands out a broken FLV URL, so its watch page must fall back to HLS. The watch page
 * enters the room (POST /enter) and gets the play grant from it; this fixture's grant names no chat
 * session, so the page plays without chat (the chat journeys are tests/e2e/web-room-chat.test.ts).
 */
function fakeRoomsApi(req: IncomingMessage, res: ServerResponse): boolean {
  const url = new URL(req.url ?? '/', 'http://x');
  const json = (body: unknown) => res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
  const room = /^\/api\/v1\/rooms\/(300[12])(\/play-token|\/enter)?$/.exec(url.pathname);
  if (url.pathname === '/api/v1/rooms' && url.searchParams.get('live') === '1') {
    json({ rooms: [{ id: '3001', title: 'Test room', is_live: true, viewers: 2 }] });
    return true;
  }
  if (!room) return false;
  const id = room[1]!;
  if (!room[2]) json({ id, title: `Test room ${id}`, is_live: true, viewers: 2 });
  else {
    json({
      token: 'good', expires_at: Date.now() + 600_000,
      flv_url: id === '3001' ? 'http://localhost:1/live/3001.flv?token=good' : 'http://localhost:1/live/9999.flv?token=good',
      hls_url: 'http://localhost:1/live/3001/index.m3u8?token=good',
    });
  }
  return true;
}

describe('browser playback', { skip }, () => {
  let media: TestEngine;
  let browser: Browser;
  let context: BrowserContext;

  before(async () => {
    media = await startLiveTestEngine('sk_3001', { api: fakeRoomsApi });
    browser = await launchChromium();
    context = await browser.newContext();
  });

  after(async () => {
    await browser?.close();
    await media?.close();
  });

  /** Every page the tests open must work under its Content-Security-Policy: a violation fails the test. */
  const violations: string[] = [];
  async function openPage(path: string) {
    const page = watchCsp(await context.newPage(), violations, path);
    const response = await page.goto(media.httpBase + path);
    assert.match(response?.headers()['content-security-policy'] ?? '', /script-src 'self'/, `${path} is served with its CSP`);
    return page;
  }

  async function playFor(query: string): Promise<{ currentTime: number; advanced: number; kind: string | null; error: string | null }> {
    const page = await openPage(`/test-player.html?${query}`);
    try {
      const deadline = Date.now() + 25_000;
      let state = { currentTime: 0, kind: null as string | null, error: null as string | null };
      let first: number | undefined;
      while (Date.now() < deadline) {
        // A string expression: this file is compiled without DOM types.
        state = (await page.evaluate(
          '({ currentTime: document.getElementById("video").currentTime, kind: window.playerState.kind, error: window.playerState.error })',
        )) as typeof state;
        if (state.currentTime > 0) first ??= state.currentTime;
        if (state.error || (first !== undefined && state.currentTime - first > 1.2)) break;
        await new Promise((r) => setTimeout(r, 250));
      }
      return { ...state, advanced: first === undefined ? 0 : state.currentTime - first };
    } finally {
      await page.close();
    }
  }

  it('plays HTTP-FLV through mpegts.js', async () => {
    const state = await playFor(`flv=${encodeURIComponent('/live/3001.flv?token=good')}`);
    assert.equal(state.error, null);
    assert.equal(state.kind, 'flv');
    assert.ok(state.advanced > 1.2, `currentTime advanced ${state.advanced} s`);
    assert.ok(media.events.some((e) => e.name === 'play.started' && (e.payload as { protocol: string }).protocol === 'http-flv'));
  });

  it('plays HLS through hls.js', async () => {
    const state = await playFor(`hls=${encodeURIComponent('/live/3001/index.m3u8?token=good')}`);
    assert.equal(state.error, null);
    assert.equal(state.kind, 'hls');
    assert.ok(state.advanced > 1.2, `currentTime advanced ${state.advanced} s`);
    assert.ok(media.events.some((e) => e.name === 'play.started' && (e.payload as { protocol: string }).protocol === 'hls'));
  });

  it('does not play without a valid token', async () => {
    const state = await playFor(`flv=${encodeURIComponent('/live/3001.flv?token=forged')}`);
    assert.notEqual(state.error, null);
    assert.equal(state.kind, null);
  });

  async function watchPage(path: string): Promise<{ currentTime: number; advanced: number; title: string; state: string; status: string }> {
    const page = await openPage(path);
    try {
      const expr = `({ currentTime: document.getElementById("video").currentTime, title: document.getElementById("title").textContent,
        state: document.getElementById("state").textContent, status: document.getElementById("status").textContent })`;
      const deadline = Date.now() + 30_000;
      let s = { currentTime: 0, title: '', state: '', status: '' };
      let first: number | undefined;
      while (Date.now() < deadline) {
        s = (await page.evaluate(expr)) as typeof s;
        if (s.currentTime > 0) first ??= s.currentTime;
        if (first !== undefined && s.currentTime - first > 1.2) break;
        await new Promise((r) => setTimeout(r, 250));
      }
      return { ...s, advanced: first === undefined ? 0 : s.currentTime - first };
    } finally {
      await page.close();
    }
  }

  it('watch page: shows the room and plays it (WebRTC first, tests/e2e/webrtc-browser.test.ts) with the issued token', async () => {
    const s = await watchPage('/watch/3001');
    assert.equal(s.title, 'Test room 3001');
    assert.equal(s.state, 'LIVE');
    assert.equal(s.status, 'playing (WebRTC)');
    assert.ok(s.advanced > 1.2, `currentTime advanced ${s.advanced} s`);
  });

  it('watch page: falls back to HLS when WebRTC (not live under that name) and FLV fail', async () => {
    const s = await watchPage('/watch/3002');
    assert.equal(s.status, 'playing (HLS)');
    assert.ok(s.advanced > 1.2, `currentTime advanced ${s.advanced} s`);
  });

  it('index page lists live rooms with links to their watch pages', async () => {
    const page = await openPage('/');
    try {
      await page.waitForSelector('ul.rooms a', { timeout: 10_000 });
      assert.equal(await page.getAttribute('ul.rooms a', 'href'), '/watch/3001');
      assert.match((await page.textContent('ul.rooms a')) ?? '', /Test room/);
    } finally {
      await page.close();
    }
  });

  // Last: node:test runs a suite's tests in order, so every page above has been played by now.
  it('no page broke its Content-Security-Policy (players, hls.js worker, MSE blob: media)', () => {
    assert.deepEqual(violations, []);
  });
});
