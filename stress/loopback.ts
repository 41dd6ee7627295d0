/**
 * The stress tool sends load only to loopback unless told otherwise: every target URL (API, publish,
 * play, metrics) must name 127.0.0.0/8, ::1 or localhost, or the run is refused before any traffic.
 * Names other than localhost are not resolved: a name is only accepted with --allow-remote.
 */
import { isIPv4 } from 'node:net';

export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (h === '::1' || h === '0:0:0:0:0:0:0:1') return true;
  if (h.startsWith('::ffff:')) return isLoopbackHost(h.slice(7));
  return isIPv4(h) && h.split('.')[0] === '127';
}

export class RemoteTargetError extends Error {
  override name = 'RemoteTargetError';
}

/** Throws for the first non-loopback URL unless allowRemote; URL templates ({key}) are fine. */
export function assertLoopbackTargets(urls: readonly (string | undefined)[], allowRemote: boolean): void {
  if (allowRemote) return;
  for (const raw of urls) {
    if (raw === undefined) continue;
    let host: string;
    try {
      host = new URL(raw.replaceAll('{key}', 'k')).hostname;
    } catch {
      throw new RemoteTargetError(`not a URL: ${raw}`);
    }
    if (!isLoopbackHost(host)) {
      throw new RemoteTargetError(`refusing non-loopback target ${host} (pass --allow-remote to load a remote server you run)`);
    }
  }
}
