import type { IncomingMessage, ServerResponse } from 'node:http';
import helmet from 'helmet';

/** A connect-style middleware that sets headers and calls next (helmet's shape). */
export type HeaderMiddleware = (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void;

/**
 * Headers for the web pages (helmet): a Content-Security-Policy that lets the pages run only
 * onair's own scripts (no inline script: each page's code is its own file), mpegts.js and hls.js
 * from /vendor, hls.js's worker from a blob: URL, and Media Source playback (blob: media) of
 * streams from the same origin; no framing by other sites (clickjacking), no referrer sent.
 * HSTS is left to whoever terminates TLS: onair itself may well be served over plain HTTP, where
 * upgrade-insecure-requests would break every subresource, so that directive is off too.
 * `mediaOrigins` (the object store's public origin: replays and covers are presigned URLs there)
 * may serve images and video to the pages; scripts never come from them.
 */
export function pageSecurityHeaders(options: { mediaOrigins?: readonly string[] } = {}): HeaderMiddleware {
  const media = [...new Set(options.mediaOrigins ?? [])];
  return helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:', 'blob:', ...media],
        mediaSrc: ["'self'", 'blob:', ...media],
        workerSrc: ["'self'", 'blob:'],
        connectSrc: ["'self'"],
        fontSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
      },
    },
    xFrameOptions: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
    strictTransportSecurity: false,
  }) as HeaderMiddleware;
}

/** Headers for API answers (JSON, never rendered): nothing may load from them, nothing may frame them. */
export function apiSecurityHeaders(): HeaderMiddleware {
  return helmet({
    contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
    xFrameOptions: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
    strictTransportSecurity: false,
    // Pages of other origins may call the API with their own tokens (CORS decides), so the
    // resource policy stays permissive for it; the pages themselves keep helmet's same-origin.
    crossOriginResourcePolicy: { policy: 'cross-origin' },
  }) as HeaderMiddleware;
}

/**
 * The origin (scheme://host[:port]) browsers fetch presigned object-store URLs from: the S3 URL's
 * publicUrl when set, else its own endpoint. Undefined without object storage (local folder: same origin).
 */
export function objectStoreOrigin(target: { endPoint: string; port: number; useSSL: boolean; publicEndpoint?: { endPoint: string; port: number; useSSL: boolean } } | undefined): string | undefined {
  if (!target) return undefined;
  const e = target.publicEndpoint ?? target;
  const host = e.endPoint.includes(':') ? `[${e.endPoint}]` : e.endPoint;
  const defaultPort = e.useSSL ? 443 : 80;
  return `${e.useSSL ? 'https' : 'http'}://${host}${e.port === defaultPort ? '' : `:${e.port}`}`;
}
