import { realpath, stat } from 'node:fs/promises';
import { isAbsolute, resolve, sep } from 'node:path';

/**
 * A recorded file an external media server reports (SRS on_dvr `file`, nginx-rtmp record_done
 * `path`), accepted only when it is an existing regular file inside the recordings directory once
 * every symlink is resolved: `/etc/shadow`, `../../etc/passwd` and a link pointing out are refused,
 * so nothing outside that folder can become a recording row or a transcode job. A relative path is
 * taken relative to the directory. Returns the real path, or null.
 */
export async function recordingInside(dir: string, file: string): Promise<string | null> {
  if (!file || file.includes('\0')) return null;
  const root = await realpath(dir).catch(() => null);
  if (!root) return null;
  const real = await realpath(isAbsolute(file) ? file : resolve(root, file)).catch(() => null);
  if (!real || !real.startsWith(root.endsWith(sep) ? root : root + sep)) return null;
  const info = await stat(real).catch(() => null);
  return info?.isFile() ? real : null;
}
