/**
 * Control's calls to media's control API are signed like media's event callbacks
 * (core/callbacks/media-callback-signature.ts: HMAC-SHA256 over `${timestamp}.${payload}`, headers
 * X-Onair-Timestamp / X-Onair-Signature), but over method, path and body, so a signature made for
 * one route cannot be replayed on another.
 */
export function controlPayload(method: string, path: string, body: string): string {
  return `${method.toUpperCase()} ${path}\n${body}`;
}
