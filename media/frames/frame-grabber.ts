import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { mkdirSync, readFile, rmSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import type { Logger } from '../../core/logging/logger.js';
import type { LiveStreamView, MediaPlugin, MediaPluginContext } from '../plugin.js';
import { FlvSink } from '../recording/flv-sink.js';

/** Stream names a frame is kept for (room ids; the same rule as HLS folder names). */
const NAME = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * ffmpeg decodes keyframes only (-skip_frame nokey: a fraction of a full decode) and overwrites one
 * small JPEG per keyframe, atomically, so a reader never sees half a file.
 */
export function frameArgs(file: string): string[] {
  return [
    '-hide_banner', '-loglevel', 'error', '-nostdin',
    // One thread each: a keyframe every few seconds needs no parallel decoding, and every thread costs memory.
    '-threads', '1', '-filter_threads', '1', '-skip_frame', 'nokey', '-f', 'flv', '-i', 'pipe:0',
    '-map', '0:v:0', '-an', '-vf', 'scale=-2:360', '-fps_mode', 'passthrough', '-q:v', '7', '-threads', '1',
    '-f', 'image2', '-update', '1', '-atomic_writing', '1', '-y', file,
  ];
}

interface Grab {
  child: ChildProcessByStdio<Writable, null, Readable>;
  sink: FlvSink;
  file: string;
}

/**
 * Screenshots of every live stream for the home page's cards and the operator's supervision wall
 * (实时监管画面): the newest keyframe of `/{app}/{name}` as a JPEG at `/{app}/{name}/frame.jpg`
 * (no token: it shows what the public room list already shows, and it is gone when the show ends).
 * One ffmpeg child per live stream fed by an FlvSink; a crash leaves that stream without frames
 * (logged), never touches the stream itself.
 */
export class FrameGrabber implements MediaPlugin {
  readonly name = 'frames';
  private readonly grabs = new Map<string, Grab>();
  private dir = '';
  private app = 'live';
  private ffmpeg = 'ffmpeg';
  private log: Logger | undefined;

  start(ctx: MediaPluginContext): void {
    this.dir = join(ctx.config.dataDir, 'frames');
    this.app = ctx.config.rtmp.app;
    this.ffmpeg = ctx.config.media.ffmpegPath;
    this.log = ctx.log.child({ mod: 'frames' });
    rmSync(this.dir, { recursive: true, force: true }); // frames of a previous run are stale
    mkdirSync(this.dir, { recursive: true });
    ctx.streams.on('publish', (view) => this.onPublish(view));
    ctx.streams.on('unpublish', (view) => this.stop(view.name));
  }

  private onPublish(view: LiveStreamView): void {
    if (!NAME.test(view.name)) return;
    this.stop(view.name);
    const file = join(this.dir, `${view.name}.jpg`);
    const child = spawn(this.ffmpeg, frameArgs(file), { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (text: string) => (stderr = (stderr + text).slice(-1000)));
    child.stdin.on('error', () => undefined); // ffmpeg gone: the exit handler logs it
    const sink = new FlvSink({ id: `frames-${view.publisherId}`, out: child.stdin, log: this.log!, maxBufferedBytes: 2 * 1024 * 1024 });
    const grab: Grab = { child, sink, file };
    child.once('error', (err) => this.log?.warn({ err, stream: view.name }, 'frame ffmpeg could not start'));
    child.once('exit', (code, signal) => {
      if (this.grabs.get(view.name) !== grab) return; // stopped on purpose
      this.log?.warn({ stream: view.name, code, signal, stderr: stderr.trim() }, 'frame ffmpeg exited; no frames for this publish');
      view.removeReader(sink);
      sink.close();
    });
    this.grabs.set(view.name, grab);
    view.addReader(sink);
  }

  private stop(name: string): void {
    const grab = this.grabs.get(name);
    if (!grab) return;
    this.grabs.delete(name);
    grab.sink.close();
    grab.child.kill('SIGKILL');
    rmSync(grab.file, { force: true });
  }

  handleHttp(req: IncomingMessage, res: ServerResponse, url: URL): boolean {
    const m = /^\/([^/]+)\/([^/]+)\/frame\.jpg$/.exec(url.pathname);
    if (!m || m[1] !== this.app || !NAME.test(m[2]!)) return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    const grab = this.grabs.get(m[2]!);
    const notFound = () => res.writeHead(404, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' })
      .end('{"error":{"code":"no_frame","message":"no frame yet"}}');
    if (!grab) {
      notFound();
      return true;
    }
    readFile(grab.file, (err, body) => {
      if (err) return void notFound();
      res.writeHead(200, { 'Content-Type': 'image/jpeg', 'Content-Length': body.length, 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' });
      res.end(req.method === 'HEAD' ? undefined : body);
    });
    return true;
  }

  async close(): Promise<void> {
    for (const name of [...this.grabs.keys()]) this.stop(name);
  }
}
