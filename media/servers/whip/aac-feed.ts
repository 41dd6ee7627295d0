import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import type { Logger } from '../../../core/logging/logger.js';
import { FlvParser, FlvParseError } from '../../protocols/flv/flv-parser.js';
import { FLV_TAG_AUDIO } from '../../protocols/flv/flv-tag.js';
import { OggOpusWriter, opusPacketSamples } from '../../protocols/webrtc/ogg-opus.js';

/** ffmpeg's stdin may hold this much Ogg before Opus packets are dropped (ffmpeg stalled). */
const STDIN_CAP = 256 * 1024;

/** ffmpeg: Ogg Opus on stdin -> AAC-LC 48 kHz stereo as FLV on stdout, each packet flushed at once. */
export function aacArgs(): string[] {
  return [
    '-hide_banner', '-loglevel', 'error', '-nostdin',
    '-fflags', 'nobuffer', '-probesize', '32', '-analyzeduration', '0', '-f', 'ogg', '-i', 'pipe:0',
    '-vn', '-c:a', 'aac', '-b:a', '128k', '-ar', '48000', '-ac', '2',
    '-flush_packets', '1', '-f', 'flv', 'pipe:1',
  ];
}

/** The AudioSpecificConfig FLV body ffmpeg's AAC-LC 48 kHz stereo has: announced before ffmpeg says it. */
export const AAC_LC_48K_STEREO_HEADER = Buffer.from([0xaf, 0x00, 0x11, 0x90]);

/**
 * Opus -> AAC for one WHIP publisher: one ffmpeg, fed the Opus RTP payloads as Ogg (granule
 * positions from the RTP timestamps), read back as FLV. `onAudio` gets each AAC tag body (the
 * sequence header first) with its timestamp in ms from the first Opus packet.
 */
export class AacFeed {
  private child: ChildProcessByStdio<Writable, Readable, Readable> | undefined;
  private readonly ogg = new OggOpusWriter();
  private readonly parser = new FlvParser();
  private firstRtpTs = -1;
  private lastRtpTs = 0;
  private rtpExt = 0n;
  private lastGranule = 0n;
  private stopped = false;
  private stderr = '';
  dropped = 0;

  constructor(
    private readonly ffmpegPath: string,
    private readonly log: Logger,
    private readonly onAudio: (body: Buffer, timestampMs: number) => void,
  ) {}

  /** One Opus RTP payload with its 48 kHz RTP timestamp. Starts ffmpeg with the first. */
  push(payload: Buffer, rtpTimestamp: number): void {
    if (this.stopped || payload.length === 0) return;
    if (!this.child) this.start();
    const child = this.child!;
    if (this.firstRtpTs < 0) {
      this.firstRtpTs = rtpTimestamp;
      this.lastRtpTs = rtpTimestamp;
    }
    this.rtpExt += BigInt(((rtpTimestamp - this.lastRtpTs) | 0));
    this.lastRtpTs = rtpTimestamp;
    let granule = this.rtpExt + BigInt(opusPacketSamples(payload));
    if (granule <= this.lastGranule) granule = this.lastGranule + BigInt(opusPacketSamples(payload) || 960);
    this.lastGranule = granule;
    if (child.stdin.writableLength > STDIN_CAP) {
      this.dropped++;
      return;
    }
    child.stdin.write(this.ogg.packet(payload, granule));
  }

  private start(): void {
    const child = spawn(this.ffmpegPath, aacArgs(), { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child = child;
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (t: string) => void (this.stderr = (this.stderr + t).slice(-1024)));
    child.stdin.on('error', () => {}); // ffmpeg gone: the exit handler reports it
    child.once('error', (err) => this.log.warn({ err }, 'aac transcoder did not start'));
    child.once('exit', (code, signal) => {
      if (!this.stopped) this.log.warn({ code, signal, stderr: this.stderr }, 'aac transcoder exited: the publish goes on without audio');
      this.stop();
    });
    child.stdout.on('data', (chunk: Buffer) => {
      let tags;
      try {
        tags = this.parser.push(chunk);
      } catch (err) {
        if (!(err instanceof FlvParseError)) throw err;
        this.log.warn({ err }, 'aac transcoder output unreadable');
        this.stop();
        return;
      }
      for (const t of tags) if (t.type === FLV_TAG_AUDIO && !this.stopped) this.onAudio(Buffer.from(t.body), t.timestamp);
    });
    child.stdin.write(this.ogg.headers(2));
  }

  get running(): boolean {
    return this.child !== undefined && !this.stopped;
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      child.stdin.end();
      setTimeout(() => child.kill('SIGKILL'), 2000).unref();
    }
  }
}
