/**
 * Headless Chromium for the browser tests (playwright-core driving Debian's /usr/bin/chromium):
 * one place for the binary, the skip reason when it is missing, the launch flags and the
 * Content-Security-Policy violation capture every page test does.
 *
 *   const skip = missingTool('ffmpeg') || missingChromium();
 *   before(async () => { browser = await launchChromium(); });
 *   after(async () => { await browser?.close(); });
 *   const page = await browser.newPage(); watchCsp(page, violations, '/watch/1');
 *   ...
 *   assert.deepEqual(violations, []);
 */
import { chromium, type Browser, type LaunchOptions, type Page } from 'playwright-core';
import { missingTool } from './tools.js';

/** Debian's chromium package (playwright-core downloads no browser of its own). */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/**
 * The flags every browser test launches with: headless, no sandbox (containers), no GPU, no QUIC
 * and no background traffic (only the test's own requests reach the servers under test), media
 * plays without a user gesture, pages in English (the tests read their text).
 */
export const CHROMIUM_ARGS: readonly string[] = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--autoplay-policy=no-user-gesture-required', '--lang=en-US',
];

/** A skip reason when Debian's chromium is missing (a failure under ONAIR_STRICT=1, see missingTool). */
export function missingChromium(): string | false {
  return missingTool(CHROMIUM_PATH, '--version');
}

/** Launches headless Chromium with CHROMIUM_ARGS (plus `options.args`); the caller closes it. */
export function launchChromium(options: Omit<LaunchOptions, 'executablePath' | 'headless'> = {}): Promise<Browser> {
  return chromium.launch({ ...options, executablePath: CHROMIUM_PATH, headless: true, args: [...CHROMIUM_ARGS, ...(options.args ?? [])] });
}

/** A console message Chromium prints when the page's Content-Security-Policy blocks something. */
export const CSP_VIOLATION = /Content Security Policy|Refused to/i;

/**
 * Records every CSP violation `page` reports on its console into `into` (prefixed with `label`
 * when given); the test asserts `into` is empty at the end. Returns the page.
 */
export function watchCsp(page: Page, into: string[], label?: string): Page {
  page.on('console', (msg) => {
    if (CSP_VIOLATION.test(msg.text())) into.push(label === undefined ? msg.text() : `${label}: ${msg.text()}`);
  });
  return page;
}

/** The trimmed text of `selector` on `page`, '' when it is absent (for polling with until/waitFor). */
export async function textOf(page: Page, selector: string): Promise<string> {
  return ((await page.textContent(selector).catch(() => '')) ?? '').trim();
}
