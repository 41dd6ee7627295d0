import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { dirname, extname, join } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { pageSecurityHeaders } from '../core/http/security-headers.js';

export interface WebHandlerOptions {
  /** Folder of the pages (default: this folder). */
  root?: string;
  /** node_modules holding mpegts.js and hls.js (default: where Node resolves them from here). */
  nodeModules?: string;
  /** Keep files in memory after the first read (default true; false while editing pages). */
  cache?: boolean;
  /**
   * Origins besides this one the pages may load images and video from: the object store's public
   * origin (replays and covers are presigned URLs there; objectStoreOrigin(config.s3.target)).
   */
  mediaOrigins?: readonly string[];
}

/**
 * A player's file in its package's dist/ folder. Node's resolution finds the package from here
 * whether this module runs from web/ (tsx) or dist/web/ (compiled).
 */
function vendorFile(nodeModules: string | undefined, pkg: string, file: string): string {
  if (nodeModules) return join(nodeModules, pkg, 'dist', file);
  return join(dirname(createRequire(import.meta.url).resolve(pkg)), file);
}

export type WebHandler = (req: IncomingMessage, res: ServerResponse, next?: (err?: unknown) => void) => void;

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};
/**
 * Everything this handler serves from web/, by name. An allowlist, not a pattern: the folder also
 * holds the compiled server code (dist/web/serve.js), which must never be served.
 */
export const WEB_ASSETS = [
  'index.html', 'watch.html', 'login.html', 'studio.html', 'admin.html', 'me.html', 'test-player.html',
  'app.js', 'i18n.js', 'player.js', 'whep-player.js', 'latency.js', 'rooms.js', 'watch.js', 'room-chat.js', 'room-gifts.js', 'room-social.js', 'room-report.js', 'me.js', 'notifications.js', 'studio-chat.js', 'studio-sessions.js', 'login.js', 'studio.js', 'admin.js', 'test-player.js', 'app.css', 'favicon.svg',
] as const;
/** Pages at a path of their own: /login, /studio (anchors), /admin (operators; its API checks the role), /me (personal center). */
const PAGES: Record<string, string> = { '/login': 'login.html', '/studio': 'studio.html', '/admin': 'admin.html', '/me': 'me.html' };
const WATCH = /^\/watch\/[A-Za-z0-9_-]{1,64}\/?$/;

/**
 * Serves the static web pages: `/` (live rooms), `/watch/{room_id}` (the room page), `/login`,
 * `/studio` (anchor studio), `/admin` (operator console), `/me` (personal center), the files of
 * WEB_ASSETS at `/{name}` (the icon also at `/favicon.ico`), and the two players from node_modules at `/vendor/mpegts.js` and
 * `/vendor/hls.js`, each with the pages' security headers (CSP, no framing, no referrer:
 * core/http/security-headers.ts). Works as a plain Node handler or as express middleware: a path
 * it does not own goes to `next()` (or gets a 404 without one).
 */
export function createWebHandler(options: WebHandlerOptions = {}): WebHandler {
  const root = options.root ?? fileURLToPath(new URL('.', import.meta.url));
  const vendor: Record<string, string> = {
    '/vendor/mpegts.js': vendorFile(options.nodeModules, 'mpegts.js', 'mpegts.js'),
    '/vendor/hls.js': vendorFile(options.nodeModules, 'hls.js', 'hls.min.js'),
  };
  const files = new Map<string, string>(WEB_ASSETS.map((name) => [`/${name}`, join(root, name)]));
  files.set('/', join(root, 'index.html'));
  // Browsers ask for /favicon.ico by themselves (pages without the link, a URL typed by hand): the same icon, not a 404.
  files.set('/favicon.ico', join(root, 'favicon.svg'));
  for (const [path, name] of Object.entries(PAGES)) {
    files.set(path, join(root, name));
    files.set(`${path}/`, join(root, name));
  }
  for (const [path, file] of Object.entries(vendor)) files.set(path, file);
  const vendorFiles = new Set(Object.values(vendor));
  const useCache = options.cache ?? true;
  const cache = new Map<string, Buffer>();
  const securityHeaders = pageSecurityHeaders({ mediaOrigins: options.mediaOrigins });

  function resolve(pathname: string): string | undefined {
    if (WATCH.test(pathname)) return join(root, 'watch.html');
    return files.get(pathname);
  }

  return (req, res, next) => {
    const pass = () => (next ? next() : void res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found'));
    if (req.method !== 'GET' && req.method !== 'HEAD') return pass();
    const pathname = (req.url ?? '/').split('?')[0]!;
    const file = resolve(pathname);
    if (!file) return pass();
    securityHeaders(req, res, () => undefined);
    const cached = cache.get(file);
    const load = cached ? Promise.resolve(cached) : readFile(file);
    load.then(
      (body) => {
        if (useCache) cache.set(file, body);
        res.writeHead(200, {
          'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream',
          'Content-Length': body.length,
          'X-Content-Type-Options': 'nosniff',
          'Cache-Control': vendorFiles.has(file) ? 'public, max-age=3600' : 'no-cache',
        });
        res.end(req.method === 'HEAD' ? undefined : body);
      },
      () => pass(),
    );
  };
}
