/**
 * Headless Chromium plays a live stream from a real MediaEngine fed by ffmpeg: HTTP-FLV through
 * mpegts.js and HLS through hls.js, from web/test-player.html. The video's currentTime must advance.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { chromium, type BrowserContext } from 'playwright-core';
import { missingTool } from '../../core/testing/tools.js';
import { publishWithFfmpeg, startTestEngine, waitFor, type TestEngine } from './media-fixtures.js';

const skip = missingTool('ffmpeg') || missingTool('chromium', '--version');

describe('browser playback', { skip }, () => {
  let media: TestEngine;
  let ffmpeg: ChildProcess;
  let browser: BrowserContext;
  let profile: string;

  before(async () => {
    media = await startTestEngine();
    ffmpeg = publishWithFfmpeg(`${media.rtmpBase}/sk_3001`, { seconds: 120 });
    await waitFor('the stream to go live', () => media.events.some((e) => e.name === 'publish.started'));
    profile = mkdtempSync(join(tmpdir(), 'onair-chromium-'));
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync', '--autoplay-policy=no-user-gesture-required'],
    });
  });

  after(async () => {
    await browser?.close();
    ffmpeg?.kill('SIGKILL');
    await media?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  async function playFor(query: string): Promise<{ currentTime: number; kind: string | null; error: string | null }> {
    const page = await browser.newPage();
    try {
      await page.goto(`${media.httpBase}/test-player.html?${query}`);
      const deadline = Date.now() + 25_000;
      let state = { currentTime: 0, kind: null as string | null, error: null as string | null };
      while (Date.now() < deadline) {
        // A string expression: this file is compiled without DOM types.
        state = (await page.evaluate(
          '({ currentTime: document.getElementById("video").currentTime, kind: window.playerState.kind, error: window.playerState.error })',
        )) as typeof state;
        if (state.error || state.currentTime > 1.5) break;
        await new Promise((r) => setTimeout(r, 250));
      }
      return state;
    } finally {
      await page.close();
    }
  }

  it('plays HTTP-FLV through mpegts.js', async () => {
    const state = await playFor(`flv=${encodeURIComponent('/live/3001.flv?token=good')}`);
    assert.equal(state.error, null);
    assert.equal(state.kind, 'flv');
    assert.ok(state.currentTime > 1.5, `currentTime ${state.currentTime}`);
    assert.ok(media.events.some((e) => e.name === 'play.started' && (e.payload as { protocol: string }).protocol === 'http-flv'));
  });

  it('plays HLS through hls.js', async () => {
    const state = await playFor(`hls=${encodeURIComponent('/live/3001/index.m3u8?token=good')}`);
    assert.equal(state.error, null);
    assert.equal(state.kind, 'hls');
    assert.ok(state.currentTime > 1.5, `currentTime ${state.currentTime}`);
    assert.ok(media.events.some((e) => e.name === 'play.started' && (e.payload as { protocol: string }).protocol === 'hls'));
  });

  it('does not play without a valid token', async () => {
    const state = await playFor(`flv=${encodeURIComponent('/live/3001.flv?token=forged')}`);
    assert.notEqual(state.error, null);
    assert.equal(state.kind, null);
  });
});
