import { spawnSync } from 'node:child_process';

/**
 * For tests that need an external tool (ffmpeg, rtmpdump, chromium, nginx...): returns a skip
 * reason when it is missing, or throws under ONAIR_STRICT=1 (CI), where a missing tool is a failure.
 * Use: `it('plays', { skip: missingTool('ffmpeg') }, async () => ...)`.
 */
export function missingTool(command: string, versionArg = '-version'): string | false {
  const res = spawnSync(command, [versionArg], { stdio: 'ignore', timeout: 10_000 });
  if (!res.error && res.status !== null) return false;
  const reason = `${command} is not installed`;
  if (process.env.ONAIR_STRICT === '1') throw new Error(`ONAIR_STRICT=1: ${reason}`);
  return reason;
}
