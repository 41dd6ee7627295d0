import * as M from '../../protocols/rtmp/messages.js';
import { serializeMessage } from '../../protocols/rtmp/chunk-writer.js';
import { UserControlEvent } from '../../protocols/rtmp/message-types.js';
import { PLAY_STREAM_ID } from './rtmp-media.js';

/** The server's fixed reply sequences, as messages ready for a ChunkWriter. */
type Msg = ReturnType<typeof M.commandMsg>;

export const WINDOW_ACK_SIZE = 2_500_000;

/** Answer to connect: window, bandwidth, our chunk size, then _result with Connect.Success. */
export function connectReplies(transactionId: number, objectEncoding: number, outChunkSize: number): Msg[] {
  return [
    M.windowAckSizeMsg(WINDOW_ACK_SIZE),
    M.setPeerBandwidthMsg(WINDOW_ACK_SIZE, 2),
    M.setChunkSizeMsg(outChunkSize),
    M.commandMsg(0, '_result', transactionId, { fmsVer: 'FMS/3,0,1,123', capabilities: 31 }, {
      level: 'status',
      code: 'NetConnection.Connect.Success',
      description: 'Connection succeeded.',
      objectEncoding,
    }),
  ];
}

/** The chunk size of every connection until our Set Chunk Size (RTMP's default). */
export const INITIAL_CHUNK_SIZE = 128;

/**
 * Replies that depend on nothing but their arguments, serialized once and shared (never mutated,
 * as the media chunks are): a join, and above all a refused one (issue 15: up to ~1,000 refused
 * RTMP joins a second on a ramp past the ceiling), pays no AMF encoding for them. The keys hold
 * client numbers (transaction ids, stream ids, object encoding): only the small ones clients send
 * (0..15; not -0, whose AMF sign differs) are kept, the rest built each time, so a client cannot
 * fill the memo; MAX_BUILT bounds it anyway.
 */
const built = new Map<string, Buffer>();
const MAX_BUILT = 256;

const small = (n: number | undefined): boolean => n === undefined || (Number.isInteger(n) && n >= 0 && n < 16 && !Object.is(n, -0));

function memo(keep: boolean, key: () => string, build: () => Buffer): Buffer {
  if (!keep) return build();
  const k = key();
  let bytes = built.get(k);
  if (bytes === undefined) {
    bytes = build();
    if (built.size < MAX_BUILT) built.set(k, bytes);
  }
  return bytes;
}

/**
 * connectReplies as the bytes of one socket write: window, bandwidth and Set Chunk Size at the
 * initial chunk size, then _result at `outChunkSize`, the same bytes in the same order as four
 * writes (one TCP segment and one syscall instead of four).
 */
export function connectReplyBytes(transactionId: number, objectEncoding: number, outChunkSize: number): Buffer {
  return memo(small(transactionId) && small(objectEncoding), () => `connect|${transactionId}|${objectEncoding}|${outChunkSize}`, () => {
    const [window, bandwidth, chunkSize, result] = connectReplies(transactionId, objectEncoding, outChunkSize);
    return Buffer.concat([
      serializeMessage(window!, INITIAL_CHUNK_SIZE),
      serializeMessage(bandwidth!, INITIAL_CHUNK_SIZE),
      serializeMessage(chunkSize!, INITIAL_CHUNK_SIZE),
      serializeMessage(result!, outChunkSize),
    ]);
  });
}

/** A `_result` with a null command object and one value (createStream, releaseStream, FCPublish...), at `chunkSize`. */
export function resultBytes(chunkSize: number, transactionId: number, value: number | undefined): Buffer {
  return memo(small(transactionId) && small(value), () => `result|${chunkSize}|${transactionId}|${value}`, () => serializeMessage(M.commandMsg(0, '_result', transactionId, null, value), chunkSize));
}

/** An onStatus on `streamId`, at `chunkSize` (the refusals' NetStream.Play.Failed / StreamNotFound). */
export function statusBytes(chunkSize: number, streamId: number, level: 'status' | 'error', code: string, description: string): Buffer {
  return memo(small(streamId), () => `status|${chunkSize}|${streamId}|${level}|${code}|${description}`, () => serializeMessage(M.onStatusMsg(streamId, level, code, description), chunkSize));
}

/** What a player gets before the media: stream begin, Play.Reset, Play.Start, sample access. */
export function playStartReplies(): Msg[] {
  return [
    M.userControlMsg(UserControlEvent.StreamIsRecorded, PLAY_STREAM_ID),
    M.userControlMsg(UserControlEvent.StreamBegin, PLAY_STREAM_ID),
    M.onStatusMsg(PLAY_STREAM_ID, 'status', 'NetStream.Play.Reset', 'Playing and resetting.'),
    M.onStatusMsg(PLAY_STREAM_ID, 'status', 'NetStream.Play.Start', 'Started playing.'),
    M.dataMsg(PLAY_STREAM_ID, '|RtmpSampleAccess', false, false),
  ];
}

/** What a player gets when the publisher goes away. */
export function playEndReplies(): Msg[] {
  return [
    M.userControlMsg(UserControlEvent.StreamEof, PLAY_STREAM_ID),
    M.onStatusMsg(PLAY_STREAM_ID, 'status', 'NetStream.Play.UnpublishNotify', 'Stream ended.'),
  ];
}
