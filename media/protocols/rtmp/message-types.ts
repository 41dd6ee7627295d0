/** RTMP message type ids (RTMP spec 5.4, 7.1). */
export const enum MsgType {
  SetChunkSize = 1,
  Abort = 2,
  Acknowledgement = 3,
  UserControl = 4,
  WindowAckSize = 5,
  SetPeerBandwidth = 6,
  Audio = 8,
  Video = 9,
  DataAmf3 = 15,
  SharedObjectAmf3 = 16,
  CommandAmf3 = 17,
  DataAmf0 = 18,
  SharedObjectAmf0 = 19,
  CommandAmf0 = 20,
  Aggregate = 22,
}

/** User control event types (RTMP spec 7.1.7). */
export const enum UserControlEvent {
  StreamBegin = 0,
  StreamEof = 1,
  StreamDry = 2,
  SetBufferLength = 3,
  StreamIsRecorded = 4,
  PingRequest = 6,
  PingResponse = 7,
}

/** One whole RTMP message, reassembled from its chunks. */
export interface RtmpMessage {
  /** Chunk stream id it arrived on. */
  csid: number;
  typeId: number;
  /** Message stream id (0 for control and connection-level commands). */
  streamId: number;
  /** Absolute timestamp, milliseconds, 32-bit. */
  timestamp: number;
  payload: Buffer;
}
