import type { Socket } from 'node:net';
import { maskKeys, type Logger } from '../../../core/logging/logger.js';
import type { PlayProtocol, PublishEndReason, StreamHooks } from '../../../core/media/media-contract.js';
import { TypedEmitter } from '../../../core/events/typed-emitter.js';
import { ServerHandshake } from '../../protocols/rtmp/handshake.js';
import { ChunkReader } from '../../protocols/rtmp/chunk-reader.js';
import { ChunkWriter } from '../../protocols/rtmp/chunk-writer.js';
import { Amf0Error, RtmpProtocolError } from '../../protocols/rtmp/rtmp-error.js';
import { MsgType, UserControlEvent, type RtmpMessage } from '../../protocols/rtmp/message-types.js';
import * as M from '../../protocols/rtmp/messages.js';
import { askHook, refusalDelay } from '../../stream/hook-call.js';
import { authorizePlay } from '../../stream/play-auth.js';
import type { StreamRegistry } from '../../stream/registry.js';
import type { ViewerRegistry } from '../../stream/viewer-registry.js';
import type { ViewerSession } from '../../stream/viewer-session.js';
import { createPublishedStream, type Publishing } from './publishing.js';
import { OUT_CHUNK_SIZE, PLAY_STREAM_ID, rtmpChunksOf, splitAggregate } from './rtmp-media.js';
import { connectReplyBytes, playEndReplies, playStartReplies, resultBytes, statusBytes } from './replies.js';
import type { RefusalNote } from '../../stream/refusal-spell.js';

export interface RtmpConnDeps {
  streams: StreamRegistry;
  hooks: StreamHooks;
  viewers: ViewerRegistry;
  log: Logger;
  hookTimeoutMs: number;
  /** Publishers that send no media this long are dropped; also the silent-socket timeout. */
  idleTimeoutMs: number;
  /** A publish whose first audio or video does not arrive this long after it was allowed is dropped. */
  firstMediaTimeoutMs: number;
  handshakeTimeoutMs: number;
  gopCacheBytes: number;
  newPublisherId: () => string;
  onRefused: (kind: 'publish' | 'play') => void;
  /** Admission control from the flush lag (OverloadGuard); false refuses a play with NetStream.Play.Failed. */
  admitViewer?: (protocol: PlayProtocol) => boolean;
  /** A connection not publishing or playing this long after it connected is dropped. */
  startTimeoutMs: number;
  /** The server's connection limits: a player may be refused to keep the publishers' reserve (logged once per spell, see RefusalSpell). */
  admission: {
    activate(conn: RtmpConn, kind: 'publish' | 'play'): boolean;
    activatePlay(conn: RtmpConn, nowMs: number): { admitted: boolean; note: RefusalNote };
    startTimedOut(): void;
  };
}

export interface RtmpConnEvents {
  [name: string]: unknown[];
  close: [];
}

/** How long a client that ended its publish or play may keep the connection before we close it. */
const CLIENT_CLOSE_GRACE_MS = 5000;

/**
 * Bytes this connection may have waiting to be sent before it stops reading from its peer until
 * they drain. Every command and ping is answered, so a client that sends them and never reads made
 * the engine queue an answer per request without end (a non-reading RTMP player's ping flood grew
 * the server by 330 MB in 8 s; a client before publishing, 230 MB); with the socket paused the
 * kernel's buffers fill and the client's writes stall instead. A player's media batch (its viewer
 * session writes one at a time) pauses it too, harmlessly: it only sends acks and pings.
 */
export const MAX_UNREAD_REPLY_BYTES = 64 * 1024;

/** Public stream names end up in URLs and file paths (HLS, recordings): a strict set, never '.' or '..'. */
const STREAM_NAME = /^(?!\.{1,2}$)[A-Za-z0-9_.-]{1,128}$/;

/**
 * One RTMP connection: handshake, chunk stream, commands, and then either one publish or one
 * play. Every failure (protocol error, socket error, a bug in a handler) closes this connection
 * and nothing else.
 */
export class RtmpConn extends TypedEmitter<RtmpConnEvents> {
  /** This connection's logger, built at its first line (most connections, refused joins above all, log nothing). */
  private connLog: Logger | undefined;
  private readonly handshake = new ServerHandshake();
  private readonly reader: ChunkReader;
  private readonly writer = new ChunkWriter();
  private handshakeTimer: NodeJS.Timeout | undefined;
  private startTimer: NodeJS.Timeout | undefined;
  /** Counted as a player by the admission (until the connection closes). */
  isPlayer = false;
  private closed = false;
  private app: string | undefined;
  private connectQuery: Record<string, string> = {};
  private peerWindow = 0;
  private lastAck = 0;
  private busy = false; // a publish/play hook is pending
  private publishing: Publishing | undefined;
  private playing: ViewerSession | undefined;
  /** The publish was ended by the client (FCUnpublish / deleteStream). */
  private unpublished = false;
  /** The player sent deleteStream: its viewer ended, the client closes the socket. */
  private stopped = false;
  private closeTimer: NodeJS.Timeout | undefined;
  /** Reading is paused until what we wrote drains (MAX_UNREAD_REPLY_BYTES). */
  private repliesBacklogged = false;
  readonly clientIp: string;

  constructor(private readonly socket: Socket, private readonly deps: RtmpConnDeps) {
    super();
    this.clientIp = socket.remoteAddress ?? '';
    this.emitterLog = deps.log;
    this.reader = new ChunkReader((msg) => this.onMessage(msg));
    socket.setNoDelay(true);
    socket.setTimeout(deps.idleTimeoutMs);
    socket.on('timeout', () => this.close('idle'));
    socket.on('error', (err) => {
      this.log.debug({ err: err.message }, 'socket error');
      this.close('error');
    });
    socket.on('close', () => this.close('closed'));
    socket.on('data', (data: Buffer) => this.onData(data));
    this.handshakeTimer = setTimeout(() => {
      this.log.debug('handshake timeout');
      this.close('idle');
    }, deps.handshakeTimeoutMs);
    // Control messages (a WindowAckSize every few seconds) keep the socket from idling out, so
    // the way to publish or play has its own deadline: a slot held by someone doing neither is freed.
    this.startTimer = setTimeout(() => {
      this.deps.admission.startTimedOut();
      this.log.debug('no publish or play in time: closing'); // counted in onair_media_rtmp_refusals_total
      this.close('idle');
    }, deps.startTimeoutMs);
  }

  private get log(): Logger {
    return (this.connLog ??= this.deps.log.child({ conn: `${this.clientIp}:${this.socket.remotePort}` }));
  }

  /** Reads again unless a publish decision or a backlog of our writes holds the socket. */
  private resumeReading(): void {
    if (!this.closed && !this.repliesBacklogged && !this.reader.isPaused) this.socket.resume();
  }

  /** The admission limits need this slot for a newer connection. */
  displace(): void {
    this.log.debug('displaced by a newer connection at the connection cap'); // counted; floods must not flood the log
    this.close('closed');
  }

  private onData(data: Buffer): void {
    if (this.closed) return;
    try {
      if (this.handshakeTimer) {
        const step = this.handshake.push(data);
        if (step.reply) this.socket.write(step.reply);
        if (!step.done) return;
        clearTimeout(this.handshakeTimer);
        this.handshakeTimer = undefined;
        if (step.rest.length) this.reader.push(step.rest);
      } else {
        this.reader.push(data);
      }
      this.maybeAck();
      if (this.socket.writableLength > MAX_UNREAD_REPLY_BYTES && !this.repliesBacklogged) {
        this.repliesBacklogged = true;
        this.socket.pause();
        this.socket.once('drain', () => {
          this.repliesBacklogged = false;
          this.resumeReading();
        });
      }
    } catch (err) {
      this.fail(err);
    }
  }

  private fail(err: unknown): void {
    if (err instanceof RtmpProtocolError) this.log.info({ err: err.message }, 'protocol error: closing');
    else this.log.error({ err }, 'rtmp connection failed');
    this.close('error');
  }

  private maybeAck(): void {
    if (this.peerWindow > 0 && this.reader.bytesRead - this.lastAck >= this.peerWindow) {
      this.lastAck = this.reader.bytesRead;
      this.send(M.ackMsg(this.reader.bytesRead));
    }
  }

  private send(msg: Parameters<ChunkWriter['serialize']>[0]): void {
    if (!this.closed) this.socket.write(this.writer.serialize(msg));
  }

  /** Bytes already serialized (replies.ts), as one write. */
  private sendBytes(bytes: Buffer): void {
    if (!this.closed) this.socket.write(bytes);
  }

  private onMessage(msg: RtmpMessage): void {
    if (this.closed) return; // the rest of a read that ended the connection
    switch (msg.typeId) {
      case MsgType.Audio:
      case MsgType.Video:
        this.publishing?.onMedia(msg.typeId, msg.timestamp, msg.payload);
        return;
      case MsgType.DataAmf0:
      case MsgType.DataAmf3:
        this.publishing?.onData(msg);
        return;
      case MsgType.Aggregate:
        for (const m of splitAggregate(msg.payload, msg.timestamp)) {
          if (m.type === 18) this.publishing?.onData({ ...msg, typeId: 18, payload: m.body });
          else this.publishing?.onMedia(m.type, m.timestamp, m.body);
        }
        return;
      case MsgType.CommandAmf0:
      case MsgType.CommandAmf3: {
        let cmd: M.RtmpCommand;
        try {
          cmd = M.parseCommand(msg);
        } catch (err) {
          // A malformed AMF value spoils that message only; before connect there is nothing to keep.
          if (!(err instanceof Amf0Error) || this.app === undefined) throw err;
          this.log.info({ err: err.message }, 'ignoring a malformed command');
          return;
        }
        this.onCommand(cmd, msg.streamId);
        return;
      }
      case MsgType.WindowAckSize:
        if (msg.payload.length >= 4) this.peerWindow = msg.payload.readUInt32BE(0);
        return;
      case MsgType.UserControl: {
        const uc = M.parseUserControl(msg.payload);
        if (uc.event === UserControlEvent.PingRequest) this.send(M.userControlMsg(UserControlEvent.PingResponse, uc.value));
        return;
      }
      default:
        return; // Set Chunk Size / Abort are applied by the reader; acks and the rest need nothing
    }
  }

  private onCommand(cmd: M.RtmpCommand, streamId: number): void {
    switch (cmd.name) {
      case 'connect':
        return this.onConnect(cmd);
      case 'createStream':
        return this.sendBytes(resultBytes(this.writer.chunkSize, cmd.transactionId, PLAY_STREAM_ID));
      case 'releaseStream':
      case 'FCPublish':
      case 'getStreamLength':
      case '_checkbw':
        return this.sendBytes(resultBytes(this.writer.chunkSize, cmd.transactionId, undefined));
      case 'publish':
        return this.onPublish(cmd, streamId || PLAY_STREAM_ID);
      case 'play':
        return this.onPlay(cmd, streamId || PLAY_STREAM_ID);
      case 'FCUnpublish':
        // FMS answers FCUnpublish; the publish ends here, the connection stays for deleteStream.
        if (cmd.transactionId) this.sendBytes(resultBytes(this.writer.chunkSize, cmd.transactionId, undefined));
        if (!this.publishing) return;
        this.endPublish();
        // Nothing more can happen on this connection (a second publish is refused): without this
        // a client pinging now and then held a slot the admission can never displace, for ever.
        this.closeTimer ??= setTimeout(() => this.close('closed'), CLIENT_CLOSE_GRACE_MS);
        return;
      case 'deleteStream':
      case 'closeStream':
        return this.onStreamClosed(streamId || PLAY_STREAM_ID);
      default:
        return; // unknown commands are tolerated
    }
  }

  private onConnect(cmd: M.RtmpCommand): void {
    if (this.app !== undefined) throw new RtmpProtocolError('connect sent twice');
    const params = M.parseConnect(cmd);
    this.app = params.app;
    this.connectQuery = params.query;
    // Window, bandwidth, Set Chunk Size and _result in one write (one segment, one syscall): the
    // bytes and their order are those of four writes.
    this.sendBytes(connectReplyBytes(cmd.transactionId, params.objectEncoding, OUT_CHUNK_SIZE));
    this.writer.chunkSize = OUT_CHUNK_SIZE; // every message after Set Chunk Size uses it
  }

  private checkReady(cmd: M.RtmpCommand): string {
    if (this.app === undefined) throw new RtmpProtocolError(`${cmd.name} before connect`);
    if (this.busy || this.publishing || this.playing || this.unpublished || this.stopped) throw new RtmpProtocolError(`${cmd.name} while already publishing or playing`);
    return M.streamNameArg(cmd);
  }

  private onPublish(cmd: M.RtmpCommand, streamId: number): void {
    const rawName = this.checkReady(cmd);
    // No media may be read before the decision: stop parsing and stop reading the socket.
    this.reader.pause();
    this.socket.pause();
    this.busy = true;
    const { name: streamKey, query } = M.splitQuery(rawName);
    const app = this.app!;
    askHook(() => this.deps.hooks.authorizePublish({ app, streamKey, query: { ...this.connectQuery, ...query }, clientIp: this.clientIp }),
      this.deps.hookTimeoutMs, this.log, 'authorizePublish')
      .then(async (answer) => {
        this.busy = false;
        if (this.closed) return;
        let decision = answer;
        if (decision.allow && !STREAM_NAME.test(decision.streamName)) {
          this.log.error('publish hook returned an unusable stream name: refusing');
          decision = { allow: false, reason: 'bad stream name' };
        }
        if (!decision.allow) {
          this.deps.onRefused('publish');
          this.log.warn({ reason: decision.reason, app: maskKeys(app) }, 'publish refused');
          await refusalDelay();
          const code = decision.reason === 'hook timeout' || decision.reason === 'hook error' ? 'NetStream.Publish.Unauthorized' : 'NetStream.Publish.BadName';
          // The reason reaches the encoder (ffmpeg prints "Server error: Publish refused: ..."); every
          // reason that says more than unknown_key needs the valid key already, so it leaks nothing.
          this.send(M.onStatusMsg(streamId, 'error', code, `Publish refused: ${decision.reason}.`));
          this.endGracefully();
          return;
        }
        this.deps.admission.activate(this, 'publish');
        clearTimeout(this.startTimer);
        this.publishing = createPublishedStream({
          streams: this.deps.streams,
          decision,
          app,
          publisherId: this.deps.newPublisherId(),
          clientIp: this.clientIp,
          gopCacheBytes: this.deps.gopCacheBytes,
          log: this.log,
          idleTimeoutMs: this.deps.idleTimeoutMs,
          firstMediaTimeoutMs: this.deps.firstMediaTimeoutMs,
          onIdle: () => this.close('idle'),
        });
        const stream = this.publishing.stream;
        stream.on('kick', (reason) => this.close(reason));
        this.log.info({ stream: stream.name, publisher: stream.publisherId }, 'publish started');
        this.send(M.userControlMsg(UserControlEvent.StreamBegin, streamId));
        this.send(M.onStatusMsg(streamId, 'status', 'NetStream.Publish.Start', `${stream.name} is now published.`));
        this.reader.resume();
        this.resumeReading();
        this.maybeAck();
      })
      .catch((err) => this.fail(err));
  }

  private onPlay(cmd: M.RtmpCommand, streamId: number): void {
    const rawName = this.checkReady(cmd);
    this.busy = true;
    const { name: streamName, query } = M.splitQuery(rawName);
    const fullQuery = { ...this.connectQuery, ...query };
    const conn = this;
    authorizePlay(
      {
        hooks: this.deps.hooks, streams: this.deps.streams, hookTimeoutMs: this.deps.hookTimeoutMs, onRefused: this.deps.onRefused, admitViewer: this.deps.admitViewer,
        get log() {
          return conn.log; // only when a line is written or the hook asked: a refusal by admitViewer builds no logger
        },
      },
      { protocol: 'rtmp', app: this.app!, streamName, query: fullQuery, clientIp: this.clientIp },
    )
      .then((auth) => {
        this.busy = false;
        if (this.closed) return;
        if (!auth.ok) {
          const code = auth.status === 404 ? 'NetStream.Play.StreamNotFound' : 'NetStream.Play.Failed';
          const text = auth.status === 404 ? 'No such stream.' : auth.status === 503 ? 'Server busy, retry later.' : 'Play refused.';
          // A 503 (the engine behind) is logged once per spell by the engine (RefusalSpell), not per play.
          this.sendBytes(statusBytes(this.writer.chunkSize, streamId, 'error', code, text));
          this.endGracefully();
          return;
        }
        const { admitted, note } = this.deps.admission.activatePlay(this, performance.now());
        if (note) this.logPlayersCap(note);
        if (!admitted) {
          this.sendBytes(statusBytes(this.writer.chunkSize, streamId, 'error', 'NetStream.Play.Failed', 'Server full.'));
          this.endGracefully();
          return;
        }
        this.isPlayer = true;
        clearTimeout(this.startTimer);
        const w = (msg: Parameters<ChunkWriter['serialize']>[0]) => this.writer.serialize(msg);
        this.socket.setTimeout(0); // a player may stay silent; its end is the socket's close
        this.playing = this.deps.viewers.start({
          stream: auth.stream,
          protocol: 'rtmp',
          clientIp: this.clientIp,
          viewerId: auth.viewerId,
          sink: this.socket,
          socket: this.socket,
          encode: rtmpChunksOf,
          preamble: playStartReplies().map(w),
          closeTransport: (reason) => {
            if (reason === 'stream-ended') {
              for (const m of playEndReplies()) this.send(m);
              this.endGracefully();
            } else if (!this.stopped) {
              this.close('closed');
            } // a player that sent deleteStream closes the connection itself (onStreamClosed)
          },
        });
        void streamId;
      })
      .catch((err) => this.fail(err));
  }

  /** The players' cap refuses plays: one line when a spell of refusals starts, one with its count when a play is admitted again. */
  private logPlayersCap(note: NonNullable<RefusalNote>): void {
    if (note.kind === 'started') this.deps.log.warn('RTMP players at their cap (the rest is kept for publishers): refusing plays');
    else this.deps.log.info({ refused: note.refused, durationMs: Math.round(note.durationMs) }, 'RTMP players below their cap again: admitting plays');
  }

  /** The publish is over (FCUnpublish, deleteStream): publish.ended now, the socket stays open. */
  private endPublish(): void {
    const publishing = this.publishing;
    if (!publishing) return;
    this.publishing = undefined;
    this.unpublished = true;
    this.log.info({ stream: publishing.stream.name }, 'unpublished');
    publishing.end('unpublished');
  }

  /**
   * deleteStream / closeStream: as nginx-rtmp does, a publisher gets NetStream.Unpublish.Success
   * and a player just stops; either closes the connection itself (GStreamer's rtmp2sink fails
   * with "connection closed remotely" when the server does it first). A client that keeps the
   * socket is dropped after CLIENT_CLOSE_GRACE_MS.
   */
  private onStreamClosed(streamId: number): void {
    if (this.publishing || this.unpublished) {
      this.endPublish();
      this.send(M.onStatusMsg(streamId, 'status', 'NetStream.Unpublish.Success', 'Stop publishing.'));
    } else if (this.playing) {
      this.stopped = true;
      this.playing.end('closed');
    } else {
      return;
    }
    this.closeTimer ??= setTimeout(() => this.close('closed'), CLIENT_CLOSE_GRACE_MS);
  }

  /**
   * Sends what is queued, then closes; a peer that does not close is destroyed after 2 s. The timer
   * goes when the connection closes (a refused player's client closes at once): it would hold the
   * connection for 2 s, thousands of them during a ramp of refusals.
   */
  private endGracefully(): void {
    if (this.closed) return;
    this.socket.end();
    clearTimeout(this.closeTimer);
    this.closeTimer = setTimeout(() => this.close('closed'), 2000).unref();
  }

  /** Drops the publisher of this connection (kickPublisher). */
  kick(): void {
    this.close('kicked');
  }

  /** Closes the socket and ends the publish or play. Idempotent. */
  close(reason: PublishEndReason = 'closed'): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.handshakeTimer);
    clearTimeout(this.startTimer);
    clearTimeout(this.closeTimer);
    this.socket.destroy();
    this.publishing?.end(reason);
    this.playing?.end(reason === 'kicked' ? 'kicked' : reason === 'error' ? 'error' : 'closed');
    this.safeEmit('close');
  }
}
