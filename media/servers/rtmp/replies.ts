import * as M from '../../protocols/rtmp/messages.js';
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
