/**
 * A peer broke the RTMP protocol (malformed handshake, chunk, AMF value or command). The codecs
 * throw only this; the connection that fed them the bytes closes, and nothing else is affected.
 */
export class RtmpProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RtmpProtocolError';
  }
}

/** A malformed AMF0 value: fatal for the message that carries it only. */
export class Amf0Error extends RtmpProtocolError {
  constructor(message: string) {
    super(message);
    this.name = 'Amf0Error';
  }
}
