import { randomBytes } from 'node:crypto';
import type { WebSocket, RawData } from 'ws';
import { chatCloseCodes, clientMessageSchema, type ChatUser, type ClientMessage, type ServerMessage } from '../../core/chat/chat-protocol.js';
import { compareKeptIds } from '../../core/pubsub/wire.js';
import type { Logger } from '../../core/logging/logger.js';
import type { Envelope, RoomSocket } from './room-fanout.js';
import { SharedFrame, writeRaw } from './shared-frame.js';

/** Who is on the socket, as decided at upgrade (control/chat/chat-auth.ts). */
export interface ChatPrincipal {
  user: ChatUser | null;
  /** False for anonymous tickets: they read, never post. */
  canPost: boolean;
}

/** What a connection asks of the chat service. */
export interface ChatConnHost {
  readonly maxBufferedBytes: number;
  handle(conn: ChatConn, message: ClientMessage): Promise<void>;
  dropped(reason: 'slow_consumer'): void;
  closed(conn: ChatConn): void;
}

/** A client sending more than this many frames per second is closed (1008): the post limits count posts, this counts frames. */
const MAX_FRAMES_PER_SECOND = 50;
/** Messages a resuming socket may buffer while its history is read; past that it is dropped as slow. */
const MAX_RESUME_BUFFER = 5_000;

/** Where a chat socket keeps its ChatConn, for the shared listeners below. */
const CONN = Symbol('chatConn');
type ConnSocket = WebSocket & { [CONN]?: ChatConn };

function onMessage(this: ConnSocket, data: RawData, isBinary: boolean): void {
  this[CONN]?.onFrame(data, isBinary);
}
function onPong(this: ConnSocket): void {
  const conn = this[CONN];
  if (conn) conn.lastSeen = Date.now();
}
function onError(this: ConnSocket, err: Error): void {
  this[CONN]?.failed(err);
}
function onClose(this: ConnSocket): void {
  this[CONN]?.closedByPeerOrUs();
}

/**
 * One chat socket: parses and checks what the client sends (one message per frame), hands it to
 * the service, and writes what the room's fan-out delivers. Its unsent bytes are bounded: a socket
 * whose queue passes `maxBufferedBytes` is closed with 1013 instead of growing without limit.
 */
export class ChatConn implements RoomSocket {
  lastSeen = Date.now();
  /** When this socket last asked for a `resume` frame (0: never); ChatService spaces them. */
  lastResumeAt = 0;
  /** An anonymous socket's place in ChatService's count per room and address, until it closes. */
  addressKey: string | undefined;
  readonly openedAt = Date.now();
  readonly socketKey = randomBytes(8).toString('hex');
  private isClosed = false;
  /** The ws 'close' was handled (host.closed runs once). */
  private gone = false;
  /** While the missed messages are read from history, live ones wait here (then only newer ones go out). */
  private resumeBuffer: Envelope[] | undefined;
  private frames = 0;
  private frameWindow = 0;

  constructor(
    readonly ws: WebSocket,
    readonly roomId: string,
    readonly sessionId: string | null,
    readonly principal: ChatPrincipal,
    /** The presence member: the user id, or an anonymous socket's own key. */
    readonly member: string,
    private readonly host: ChatConnHost,
    private readonly log: Logger,
  ) {
    // Shared listeners (called with the socket as `this`) that find their ChatConn on the socket:
    // four closures and a `once` wrapper were ~0.6 KB of every socket's heap (docs/benchmarks.md, LOADED of 2026-11-28 17:25).
    (ws as ConnSocket)[CONN] = this;
    ws.on('message', onMessage);
    ws.on('pong', onPong);
    ws.on('error', onError);
    ws.on('close', onClose);
  }

  /** ws 'close' (the socket is gone, whoever closed it). */
  closedByPeerOrUs(): void {
    if (this.gone) return;
    this.gone = true;
    this.isClosed = true;
    this.host.closed(this);
  }

  /** ws 'error': ws closes the socket itself; logged for debugging only. */
  failed(err: Error): void {
    this.log.debug({ err }, 'chat socket error');
  }

  get userId(): string | null {
    return this.principal.user?.id ?? null;
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /** Sends one message of this socket's own (welcome, ack, error, pong). */
  send(message: ServerMessage): void {
    this.write(SharedFrame.of([message]));
  }

  deliver(frame: SharedFrame, messages: readonly Envelope[]): void {
    if (this.resumeBuffer) {
      this.resumeBuffer.push(...messages);
      if (this.resumeBuffer.length > MAX_RESUME_BUFFER) this.close(chatCloseCodes.slowConsumer, 'slow consumer');
      return;
    }
    this.write(frame);
  }

  /** Holds live messages until finishResume() (the socket is being caught up from history). */
  startResume(): void {
    this.resumeBuffer ??= [];
  }

  /** Sends the missed messages, then the live ones that arrived meanwhile and are newer. */
  finishResume(missed: Envelope[]): void {
    const waiting = this.resumeBuffer ?? [];
    this.resumeBuffer = undefined;
    const last = missed.at(-1)?.id;
    const newer = last === undefined ? waiting : waiting.filter((m) => m.id === undefined || compareKeptIds(m.id, last) > 0);
    const all = [...missed, ...newer];
    if (all.length > 0) this.write(SharedFrame.of(all));
  }

  /**
   * Queues one frame, or drops the socket when its unsent bytes would pass the bound. The room's
   * frames are prebuilt once and written as is to the TCP socket (shared-frame.ts); ws.send is the
   * fallback when ws is mid-send or an extension was negotiated. Either way the bytes wait in the
   * socket's write queue, which ws.bufferedAmount counts.
   */
  private write(frame: SharedFrame): void {
    if (this.isClosed || this.ws.readyState !== this.ws.OPEN) return;
    if (this.ws.bufferedAmount + frame.payload.length > this.host.maxBufferedBytes) {
      this.log.info({ roomId: this.roomId, buffered: this.ws.bufferedAmount }, 'chat socket dropped: send queue full');
      this.host.dropped('slow_consumer');
      this.close(chatCloseCodes.slowConsumer, 'slow consumer');
      return;
    }
    if (!writeRaw(this.ws, frame)) this.ws.send(frame.payload, { binary: false });
  }

  close(code: number, reason: string): void {
    if (this.isClosed) return;
    this.isClosed = true;
    // A slow socket's queue is full: a closing handshake would queue behind it, so cut it.
    if (code === chatCloseCodes.slowConsumer) this.ws.terminate();
    else this.ws.close(code, reason);
  }

  /** A client frame (ws 'message'). */
  onFrame(data: RawData, isBinary: boolean): void {
    this.lastSeen = Date.now();
    const second = Math.floor(this.lastSeen / 1000);
    if (second !== this.frameWindow) {
      this.frameWindow = second;
      this.frames = 0;
    }
    if (++this.frames > MAX_FRAMES_PER_SECOND) return this.close(1008, 'too many frames');
    if (isBinary) return this.send({ v: 1, type: 'error', code: 'invalid_message', message: 'send JSON text frames' });
    let parsed: unknown;
    try {
      parsed = JSON.parse(data.toString());
    } catch {
      return this.send({ v: 1, type: 'error', code: 'invalid_json', message: 'not JSON' });
    }
    const checked = clientMessageSchema.safeParse(parsed);
    if (!checked.success) {
      const clientId = typeof (parsed as { client_id?: unknown })?.client_id === 'string' ? String((parsed as { client_id: string }).client_id).slice(0, 64) : undefined;
      return this.send({ v: 1, type: 'error', code: 'invalid_message', message: checked.error.issues[0]?.message ?? 'invalid message', client_id: clientId });
    }
    this.host.handle(this, checked.data).catch((err: unknown) => {
      this.log.error({ err }, 'chat message handling failed');
      this.send({ v: 1, type: 'error', code: 'internal', message: 'internal error' });
    });
  }
}
