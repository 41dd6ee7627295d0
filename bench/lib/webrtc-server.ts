import { spawn, type ChildProcess } from 'node:child_process';
import { hasTaskset } from './child.js';

/** One WHEP viewer's start as the media process logs it (`webrtc viewer started`), ms from the offer. */
export interface ServerPhases { answered: number; ice: number; dtls: number; firstFrame: number; earlyDtls: number }

/** The media process's WebRTC warm-up at the first publish (its log line `webrtc warmed up`), once done. */
export interface WarmUp { ms?: number; ok?: boolean; /** performance.now() in the bench when the line arrived. */ at?: number }

/**
 * Starts bench:webrtc's media process from `argv` (pinned to core 0 when taskset is there; taskset
 * execs it, so the pid is the media process's) and resolves once it printed its ports. Its JSON log
 * lines `webrtc viewer started` are collected into `phases` for as long as it runs.
 */
export async function startWebrtcBenchServer(argv: string[]): Promise<{ server: ChildProcess; ports: { http: number; rtmp: number }; phases: ServerPhases[]; warmUp: WarmUp }> {
  const server = hasTaskset() ? spawn('taskset', ['-c', '0', ...argv], { stdio: ['ignore', 'pipe', 'inherit'] }) : spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'inherit'] });
  const phases: ServerPhases[] = [];
  const warmUp: WarmUp = {};
  const ports = await new Promise<{ http: number; rtmp: number }>((resolve, reject) => {
    let buf = '';
    server.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      const lines = buf.split('\n');
      buf = lines.pop()!;
      for (const line of lines) {
        let o: Record<string, unknown>;
        try {
          o = JSON.parse(line) as Record<string, unknown>;
        } catch {
          continue;
        }
        if (typeof o.http === 'number' && typeof o.rtmp === 'number') resolve(o as { http: number; rtmp: number });
        else if (o.msg === 'webrtc viewer started') phases.push(o as unknown as ServerPhases);
        else if (o.msg === 'webrtc warmed up') Object.assign(warmUp, { ms: o.ms, ok: o.ok, at: performance.now() });
      }
    });
    server.once('close', () => reject(new Error('server exited')));
  });
  return { server, ports, phases, warmUp };
}
