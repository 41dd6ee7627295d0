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
  let lastErr = '';
  child.stderr?.on('data', (d: Buffer) => (lastErr = (lastErr + d.toString()).slice(-500)));
  // Not the URL: ffmpeg's message may quote it, so keep only the exit status.
  return childPublisher(child, label, () => (/refused|denied|forbidden|401|403/i.test(lastErr) ? ' (refused)' : ''));
}

/**
 * A Publisher over a child process: stop() asks it to end (SIGTERM, SIGKILL after 2 s); an exit
 * the caller did not ask for becomes `error`, with `exitDetail()` appended.
 */
export function childPublisher(child: ChildProcess, label: string, exitDetail: () => string): Publisher {
  let stopping = false;
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
    if (!stopping) pub.error = `publisher-exit ${code ?? signal}${exitDetail()}`;
  });
  return pub;
}
