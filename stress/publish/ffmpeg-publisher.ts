/**
 * One ffmpeg publisher: the cached sample looped with -re -stream_loop -1 -c copy, so it costs
 * almost no CPU. Never logs the URL (it holds the stream key).
 */
import { spawn, type ChildProcess } from 'node:child_process';

export interface Publisher {
  readonly label: string;
  /** Set when the publisher failed or exited before stop(). */
  error: string | undefined;
  stop(): Promise<void>;
}

export function publisherArgs(sample: string, url: string): string[] {
  return ['-hide_banner', '-loglevel', 'error', '-re', '-stream_loop', '-1', '-i', sample, '-c', 'copy', '-f', 'flv', url];
}

export function startFfmpegPublisher(sample: string, url: string, label: string, ffmpeg = 'ffmpeg', pinCpu?: string): Publisher {
  const args = publisherArgs(sample, url);
  const child: ChildProcess = pinCpu ? spawn('taskset', ['-c', pinCpu, ffmpeg, ...args], { stdio: ['ignore', 'ignore', 'pipe'] }) : spawn(ffmpeg, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stopping = false;
  let lastErr = '';
  child.stderr?.on('data', (d: Buffer) => (lastErr = (lastErr + d.toString()).slice(-500)));
  const pub: Publisher = {
    label,
    error: undefined,
    stop() {
      stopping = true;
      if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
      return new Promise((resolve) => {
        const kill = setTimeout(() => child.kill('SIGKILL'), 2000);
        child.once('close', () => {
          clearTimeout(kill);
          resolve();
        });
        child.kill('SIGTERM');
      });
    },
  };
  child.on('error', (err) => (pub.error = `publisher-spawn: ${err.message}`));
  child.on('close', (code, signal) => {
    // Not the URL: ffmpeg's message may quote it, so keep only the exit status.
    if (!stopping) pub.error = `publisher-exit ${code ?? signal}${/refused|denied|forbidden|401|403/i.test(lastErr) ? ' (refused)' : ''}`;
  });
  return pub;
}
