import { connect as netConnect, type Socket } from 'node:net';
import { TypedEmitter } from '../../../core/events/typed-emitter.js';
import { buildClientHello, ClientHandshake } from '../../protocols/rtmp/handshake.js';
import { ChunkReader } from '../../protocols/rtmp/chunk-reader.js';
import { serializeMessage } from '../../protocols/rtmp/chunk-writer.js';
import { MsgType, type RtmpMessage } from '../../protocols/rtmp/message-types.js';
import * as M from '../../protocols/rtmp/messages.js';
import type { AmfObject } from '../../protocols/rtmp/amf0.js';

export interface RtmpClientEvents {
  [name: string]: unknown[];
  /** Every message from the server (commands, media, control). */
  message: [RtmpMessage];
  /** An onStatus: its info object. */
  status: [AmfObject];
  close: [];
  error: [Error];
  handshake: [];
}

/**
 * A small RTMP client for tests, the fuzz test and the stress tool: plain handshake, connect,
 * createStream, then play or publish. Media received is emitted as messages; publish sends
 * media with sendMedia(). Not a product component (no retries, no bandwidth logic).
 */
export class RtmpClient extends TypedEmitter<RtmpClientEvents> {
  readonly socket: Socket;
  private readonly hs = new ClientHandshake();
  private readonly reader: ChunkReader;
  private handshook = false;
  private txId = 1;
  private readonly pending = new Map<number, (cmd: M.RtmpCommand) => void>();
  outChunkSize = 128;
  bytesReceived = 0;
  streamId = 0;

  private constructor(socket: Socket) {
    super();
    this.socket = socket;
    this.reader = new ChunkReader((m) => this.onMessage(m), { maxMessageSize: 16 << 20 });
    socket.on('data', (d: Buffer) => this.onData(d));
    socket.on('close', () => this.emit('close'));
    socket.on('error', (err) => this.listenerCount('error') && this.emit('error', err));
  }

  /** Opens the TCP connection and completes the handshake. */
  static open(host: string, port: number, timeoutMs = 5000, localAddress?: string): Promise<RtmpClient> {
    return new Promise((resolve, reject) => {
      const socket = netConnect({ host, port, localAddress });
      const client = new RtmpClient(socket);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error('RTMP handshake timeout'));
      }, timeoutMs);
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      socket.once('connect', () => socket.write(buildClientHello(false)));
      client.once('handshake', () => {
        clearTimeout(timer);
        resolve(client);
      });
    });
  }

  private onData(d: Buffer): void {
    this.bytesReceived += d.length;
    try {
      if (!this.handshook) {
        const done = this.hs.push(d);
        if (!done) return;
        this.handshook = true;
        this.socket.write(done.c2);
        this.emit('handshake');
        if (done.rest.length) this.reader.push(done.rest);
        return;
      }
      this.reader.push(d);
    } catch (err) {
      this.socket.destroy(err as Error);
    }
  }

  private onMessage(m: RtmpMessage): void {
    if (m.typeId === MsgType.CommandAmf0) {
      const cmd = M.parseCommand(m);
      if (cmd.name === '_result' || cmd.name === '_error') this.pending.get(cmd.transactionId)?.(cmd);
      if (cmd.name === 'onStatus') {
        const info = cmd.args[0];
        if (info && typeof info === 'object' && !Array.isArray(info) && !(info instanceof Date)) this.emit('status', info as AmfObject);
      }
    }
    this.emit('message', m);
  }

  /** Writes raw bytes (fuzzing). */
  writeRaw(buf: Buffer): void {
    this.socket.write(buf);
  }

  send(msg: Parameters<typeof serializeMessage>[0]): void {
    this.socket.write(serializeMessage(msg, this.outChunkSize));
  }

  setChunkSize(size: number): void {
    this.send(M.setChunkSizeMsg(size));
    this.outChunkSize = size;
  }

  private call(name: string, obj: AmfObject | null, ...args: Parameters<typeof M.commandMsg>[4][]): Promise<M.RtmpCommand> {
    const id = ++this.txId;
    return new Promise((resolve, reject) => {
      // A server that closes the connection before answering (a start timeout, a refusal) fails the
      // call instead of leaving it pending for ever.
      const onClose = () => {
        this.pending.delete(id);
        reject(new Error(`connection closed before the answer to ${name}`));
      };
      this.socket.once('close', onClose);
      this.pending.set(id, (cmd) => {
        this.pending.delete(id);
        this.socket.off('close', onClose);
        resolve(cmd);
      });
      this.send(M.commandMsg(0, name, id, obj, ...args));
    });
  }

  /** connect + createStream; resolves with the connect result's info object. */
  async connect(app: string, tcUrl?: string): Promise<M.RtmpCommand> {
    const res = await this.call('connect', { app, type: 'nonprivate', flashVer: 'FMLE/3.0', ...(tcUrl ? { tcUrl } : {}) });
    const cs = await this.call('createStream', null);
    this.streamId = typeof cs.args[0] === 'number' ? cs.args[0] : 1;
    return res;
  }

  /** Sends publish (the name may carry ?query). The answer arrives as a 'status' event. */
  publish(name: string): void {
    this.send(M.commandMsg(this.streamId, 'publish', 0, null, name, 'live'));
  }

  play(name: string): void {
    this.send(M.commandMsg(this.streamId, 'play', 0, null, name, -2000));
  }

  /** Sends one audio (8), video (9) or data (18) message on the publish stream. */
  sendMedia(typeId: 8 | 9 | 18, timestamp: number, payload: Buffer): void {
    this.send({ csid: typeId === 8 ? 4 : typeId === 9 ? 6 : 5, typeId, streamId: this.streamId, timestamp, payload });
  }

  /** Resolves with the next onStatus info. */
  nextStatus(timeoutMs = 5000): Promise<AmfObject> {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('no onStatus in time')), timeoutMs);
      this.once('status', (info) => {
        clearTimeout(t);
        resolve(info);
      });
    });
  }

  close(): void {
    this.socket.destroy();
  }
}
