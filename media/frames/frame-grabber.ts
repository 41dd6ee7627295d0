import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { mkdirSync, readFile, rmSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import type { Logger } from '../../core/logging/logger.js';
import type { LiveStreamView, MediaPlugin, MediaPluginContext } from '../plugin.js';
import { FlvSink } from '../recording/flv-sink.js';
import { TagType } from '../stream/media-packet.js';
import type { StreamReader } from '../stream/stream-reader.js';

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

/** What the grabber needs of an ffmpeg child (tests pass a fake). */
export type GrabChild = Pick<ChildProcessByStdio<Writable, null, Readable>, 'stdin' | 'stderr' | 'kill' | 'once'>;

/** Timers and the clock the spawn queue runs on (tests pass media/testing/fake-loop.ts). */
export interface GrabClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface FrameGrabberOptions {
  /** Starts one ffmpeg; default node:child_process spawn with stdin piped and stderr kept. */
  spawn?: (command: string, args: string[]) => GrabChild;
  clock?: GrabClock;
  /**
   * The event loop's free time after one spawn before the next, at least (default 100 ms); a spawn
   * that blocked the loop longer than this leaves that long again (the loop stays at least half free).
   */
  spawnGapMs?: number;
}

const realClock: GrabClock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

interface Grab {
  view: LiveStreamView;
  file: string;
  /** waiting: for the first video keyframe (a reader watches); queued: for its turn to spawn; running: ffmpeg fed. */
  state: 'waiting' | 'queued' | 'running';
  watch: StreamReader;
  child?: GrabChild;
  sink?: FlvSink;
}

/**
 * Screenshots of every live stream for the home page's cards and the operator's supervision wall
 * (实时监管画面): the newest keyframe of `/{app}/{name}` as a JPEG at `/{app}/{name}/frame.jpg`
 * (no token: it shows what the public room list already shows, and it is gone when the show ends).
 * One ffmpeg child per live stream fed by an FlvSink; a crash leaves that stream without frames
 * (logged), never touches the stream itself.
 *
 * The child is spawned lazily and paced: a spawn forks this (large) process and blocks the event loop
 * for tens to hundreds of ms, so a burst of publishes spawning at once starved everything else (the
 * publish hooks timed out). A publish gets a watching reader only; at its first video keyframe it
 * joins a queue that spawns one child per timer turn, spawnGapMs (or the last spawn's own blocking
 * time, if longer) apart. The sink then gets the stream's start-up cache (sequence headers and the
 * GOP from the latest keyframe), so the first frame comes at once. A publish that never sends video
 * spawns nothing; one that ends while queued is dropped from the queue.
 */
export class FrameGrabber implements MediaPlugin {
  readonly name = 'frames';
  private readonly grabs = new Map<string, Grab>();
  private readonly queue: Grab[] = [];
  private timer: unknown;
  private nextSpawnAt = 0;
  private dir = '';
  private app = 'live';
  private ffmpeg = 'ffmpeg';
  private log: Logger | undefined;
  private readonly spawnChild: (command: string, args: string[]) => GrabChild;
  private readonly clock: GrabClock;
  private readonly spawnGapMs: number;
  /** ffmpeg children started so far (tests, the burst probe). */
  spawned = 0;

  constructor(options: FrameGrabberOptions = {}) {
    this.spawnChild = options.spawn ?? ((command, args) => spawn(command, args, { stdio: ['pipe', 'ignore', 'pipe'] }));
    this.clock = options.clock ?? realClock;
    this.spawnGapMs = options.spawnGapMs ?? 100;
  }

  start(ctx: MediaPluginContext): void {
    this.dir = join(ctx.config.dataDir, 'frames');
    this.app = ctx.config.rtmp.app;
    this.ffmpeg = ctx.config.media.ffmpegPath;
    this.log = ctx.log.child({ mod: 'frames' });
    rmSync(this.dir, { recursive: true, force: true }); // frames of a previous run are stale
    mkdirSync(this.dir, { recursive: true });
    ctx.streams.on('publish', (view) => this.onPublish(view));
    ctx.streams.on('unpublish', (view) => this.stop(view.name, view));
  }

  /** Streams waiting for their turn to spawn (tests). */
  get queued(): number {
    return this.queue.length;
  }

  private onPublish(view: LiveStreamView): void {
    if (!NAME.test(view.name)) return;
    this.stop(view.name);
    const grab: Grab = {
      view,
      file: join(this.dir, `${view.name}.jpg`),
      state: 'waiting',
      watch: {
        id: `frames-watch-${view.publisherId}`,
        kind: 'internal',
        onPacket: (packet) => {
          if (packet.type === TagType.Video && packet.isKeyframe && !packet.isSequenceHeader) this.onKeyframe(grab);
        },
        onStreamEnd: () => undefined, // 'unpublish' stops it
      },
    };
    this.grabs.set(view.name, grab);
    view.addReader(grab.watch);
  }

  private onKeyframe(grab: Grab): void {
    if (grab.state !== 'waiting' || this.grabs.get(grab.view.name) !== grab) return;
    grab.state = 'queued';
    grab.view.removeReader(grab.watch);
    this.queue.push(grab);
    this.schedule();
  }

  /** One spawn per timer turn, never before nextSpawnAt. */
  private schedule(): void {
    if (this.timer !== undefined || this.queue.length === 0) return;
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      const grab = this.queue.shift();
      if (grab) {
        const t0 = this.clock.now();
        this.run(grab);
        const blocked = this.clock.now() - t0;
        this.nextSpawnAt = this.clock.now() + Math.max(this.spawnGapMs, blocked);
      }
      this.schedule();
    }, Math.max(0, this.nextSpawnAt - this.clock.now()));
  }

  private run(grab: Grab): void {
    const { view, file } = grab;
    grab.state = 'running';
    this.spawned++;
    let child: GrabChild;
    try {
      child = this.spawnChild(this.ffmpeg, frameArgs(file));
    } catch (err) {
      this.log?.warn({ err, stream: view.name }, 'frame ffmpeg could not start');
      return;
    }
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (text: string) => (stderr = (stderr + text).slice(-1000)));
    child.stdin.on('error', () => undefined); // ffmpeg gone: the exit handler logs it
    const sink = new FlvSink({ id: `frames-${view.publisherId}`, out: child.stdin, log: this.log!, maxBufferedBytes: 2 * 1024 * 1024 });
    grab.child = child;
    grab.sink = sink;
    child.once('error', (err) => this.log?.warn({ err, stream: view.name }, 'frame ffmpeg could not start'));
    child.once('exit', (code, signal) => {
      if (this.grabs.get(view.name) !== grab) return; // stopped on purpose
      this.log?.warn({ stream: view.name, code, signal, stderr: stderr.trim() }, 'frame ffmpeg exited; no frames for this publish');
      view.removeReader(sink);
      sink.close();
    });
    view.addReader(sink); // the start-up cache first: sequence headers and the GOP from the latest keyframe
  }

  /** Ends the grab of `name` (of that view only, when given): unwatch, unqueue, or kill its ffmpeg. */
  private stop(name: string, view?: LiveStreamView): void {
    const grab = this.grabs.get(name);
    if (!grab || (view && grab.view !== view)) return;
    this.grabs.delete(name);
    if (grab.state === 'waiting') grab.view.removeReader(grab.watch);
    if (grab.state === 'queued') this.queue.splice(this.queue.indexOf(grab), 1);
    if (grab.sink) {
      grab.view.removeReader(grab.sink);
      grab.sink.close();
    }
    grab.child?.kill('SIGKILL');
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
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    for (const name of [...this.grabs.keys()]) this.stop(name);
  }
}
