/**
 * A small RTMP client connection for the stress tool: plain handshake, connect, createStream, then
 * play (viewer) or publish (latency probe). Reads go through the caller's shared `onread` buffer so
 * thousands of viewers need no per-read allocation, and through the stress tool's own head-only
 * chunk reader (the engine's reader assembles every message, which one core cannot afford for
 * thousands of viewers); writing and AMF0 use the engine's codecs.
 */
import net from 'node:net';
// The engine's codecs (media-a) for everything but reading: commands, chunk serialization, C0+C1.
import { decodeAmf0, encodeAmf0, type AmfObject, type AmfValue } from '../../media/protocols/rtmp/amf0.js';
import { serializeMessage } from '../../media/protocols/rtmp/chunk-writer.js';
import { buildClientHello } from '../../media/protocols/rtmp/handshake.js';
import { ackMsg, setChunkSizeMsg, userControlMsg } from '../../media/protocols/rtmp/messages.js';
import type { RtmpMessage as EngineMessage } from '../../media/protocols/rtmp/message-types.js';
import { RtmpChunkReader, type RtmpMessage } from './chunk-reader.js';

type OutMessage = Pick<EngineMessage, 'csid' | 'typeId' | 'streamId' | 'timestamp' | 'payload'>;

export interface RtmpTarget {
  host: string;
  port: number;
  app: string;
  /** Stream name, with the query string when the URL had one (servers read tokens from it). */
  name: string;
  tcUrl: string;
}

export function parseRtmpUrl(url: string): RtmpTarget {
  const u = new URL(url);
  if (u.protocol !== 'rtmp:') throw new TypeError(`not an rtmp:// URL: ${u.protocol}`);
  const parts = u.pathname.split('/').filter(Boolean);
  if (parts.length < 2) throw new TypeError('rtmp URL needs /app/name');
  const app = parts[0]!;
  const name = parts.slice(1).join('/') + u.search;
  const port = u.port ? Number(u.port) : 1935;
  return { host: u.hostname, port, app, name, tcUrl: `rtmp://${u.hostname}:${port}/${app}` };
}

export interface RtmpClientHandlers {
  /** Audio (8), video (9) and data (18) messages; media bodies hold only the first bytes. */
  onMedia(msg: RtmpMessage): void;
  /** Play or publish accepted. */
  onReady(): void;
  onError(kind: string): void;
  onClose(): void;
  /** Bytes read from the socket, every read. */
  onBytes(n: number): void;
}

const HANDSHAKE = 1536;
const PUBLISH_CHUNK_SIZE = 60_000;

export class RtmpClient {
  readonly socket: net.Socket;
  private readonly reader: RtmpChunkReader;
  private hs: Buffer | undefined = Buffer.alloc(1 + 2 * HANDSHAKE);
  private hsHave = 0;
  private streamId = 0;
  private writeChunkSize = 128;
  private ackWindow = 0;
  private received = 0;
  private lastAck = 0;
  private closed = false;

  constructor(
    private readonly target: RtmpTarget,
    private readonly mode: 'play' | 'publish',
    private readonly handlers: RtmpClientHandlers,
    readBuffer: Buffer,
    headBytes = 48,
  ) {
    this.reader = new RtmpChunkReader((m) => this.onMessage(m), headBytes);
    this.socket = net.connect({
      host: target.host,
      port: target.port,
      onread: { buffer: readBuffer, callback: (n, buf) => this.onRead(n, buf as Buffer) },
    });
    this.socket.setNoDelay(true);
    this.socket.on('connect', () => this.socket.write(buildClientHello(false)));
    this.socket.on('error', (err: NodeJS.ErrnoException) => this.handlers.onError(err.code ?? 'socket-error'));
    this.socket.on('close', () => {
      this.closed = true;
      this.handlers.onClose();
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.destroy();
  }

  /** Publisher side: send one audio/video/data message on the publish stream. */
  sendMedia(type: number, timestamp: number, body: Buffer): void {
    const csid = type === 8 ? 4 : type === 9 ? 6 : 5;
    this.send({ csid, typeId: type, streamId: this.streamId, timestamp, payload: body });
  }

  get writableLength(): number {
    return this.socket.writableLength;
  }

  private send(msg: OutMessage): void {
    if (this.closed) return;
    this.socket.write(serializeMessage(msg, this.writeChunkSize));
  }

  private command(values: AmfValue[], streamId = 0): void {
    this.send({ csid: streamId === 0 ? 3 : 8, typeId: 20, streamId, timestamp: 0, payload: encodeAmf0(...values) });
  }

  private onRead(n: number, buf: Buffer): boolean {
    this.handlers.onBytes(n);
    this.received += n;
    let start = 0;
    if (this.hs) {
      const take = Math.min(n, this.hs.length - this.hsHave);
      buf.copy(this.hs, this.hsHave, 0, take);
      this.hsHave += take;
      start = take;
      if (this.hsHave < this.hs.length) return true;
      const s1 = this.hs.subarray(1, 1 + HANDSHAKE);
      this.socket.write(Buffer.from(s1)); // C2 echoes S1
      this.hs = undefined;
      this.afterHandshake();
    }
    if (start < n) this.reader.push(buf, start, n);
    if (this.reader.error) {
      this.handlers.onError('rtmp-protocol');
      this.close();
    }
    if (this.ackWindow > 0 && this.received - this.lastAck >= this.ackWindow / 2) {
      this.lastAck = this.received;
      this.send(ackMsg(this.received));
    }
    return true;
  }

  private afterHandshake(): void {
    if (this.mode === 'publish') {
      this.send(setChunkSizeMsg(PUBLISH_CHUNK_SIZE));
      this.writeChunkSize = PUBLISH_CHUNK_SIZE;
    }
    const info: AmfObject = {
      app: this.target.app,
      flashVer: this.mode === 'publish' ? 'FMLE/3.0 (compatible; onair-stress)' : 'LNX 9,0,124,2',
      tcUrl: this.target.tcUrl,
      fpad: false,
      capabilities: 15,
      audioCodecs: 3575,
      videoCodecs: 252,
      videoFunction: 1,
    };
    if (this.mode === 'publish') info.type = 'nonprivate';
    this.command(['connect', 1, info]);
  }

  private onMessage(m: RtmpMessage): void {
    switch (m.type) {
      case 8:
      case 9:
      case 18:
        this.handlers.onMedia(m);
        return;
      case 5:
        if (m.body.length >= 4) this.ackWindow = m.body.readUInt32BE(0);
        return;
      case 4:
        // Ping request (6) wants a ping response (7) with the same value.
        if (m.body.length >= 6 && m.body.readUInt16BE(0) === 6) this.send(userControlMsg(7, m.body.readUInt32BE(2)));
        return;
      case 20:
        this.onCommand(m.body);
        return;
      default:
        return;
    }
  }

  private onCommand(body: Buffer): void {
    let values: AmfValue[];
    try {
      values = decodeAmf0(body);
    } catch {
      this.handlers.onError('rtmp-bad-amf');
      this.close();
      return;
    }
    const [name, txn] = values;
    if (name === '_result' && txn === 1) {
      if (this.mode === 'publish') {
        this.command(['releaseStream', 2, null, this.target.name]);
        this.command(['FCPublish', 3, null, this.target.name]);
      }
      this.command(['createStream', 4, null]);
    } else if (name === '_result' && txn === 4) {
      this.streamId = typeof values[3] === 'number' ? values[3] : 1;
      if (this.mode === 'play') {
        this.command(['play', 0, null, this.target.name, -2], this.streamId);
        const setBufferLength = Buffer.alloc(10);
        setBufferLength.writeUInt16BE(3, 0);
        setBufferLength.writeUInt32BE(this.streamId, 2);
        setBufferLength.writeUInt32BE(3000, 6);
        this.send({ csid: 2, typeId: 4, streamId: 0, timestamp: 0, payload: setBufferLength });
      } else {
        this.command(['publish', 0, null, this.target.name, 'live'], this.streamId);
      }
    } else if (name === '_error') {
      this.handlers.onError(txn === 1 ? 'rtmp-connect-rejected' : 'rtmp-command-error');
      this.close();
    } else if (name === 'onStatus') {
      const info = values[3];
      const code = info && typeof info === 'object' && !Array.isArray(info) && !(info instanceof Date) ? String((info as AmfObject).code ?? '') : '';
      if (code === 'NetStream.Play.Start' || code === 'NetStream.Publish.Start') this.handlers.onReady();
      else if (/Failed|BadName|NotFound|Rejected|Unauthorized|error/i.test(code)) {
        this.handlers.onError(`rtmp-${code || 'status-error'}`);
        this.close();
      }
    }
  }
}
