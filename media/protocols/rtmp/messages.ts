import { decodeAmf0, encodeAmf0, AmfEcmaArray, type AmfObject, type AmfValue } from './amf0.js';
import { Amf0Error, RtmpProtocolError } from './rtmp-error.js';
import { MsgType, UserControlEvent, type RtmpMessage } from './message-types.js';

/**
 * RTMP commands and control messages: parsing what clients send (every field checked, since a
 * peer may send any AMF value anywhere) and building what the server answers. Pure.
 */
export interface RtmpCommand {
  name: string;
  transactionId: number;
  /** The command object (null for most stream-level commands). */
  object: AmfObject | null;
  args: AmfValue[];
}

const isObject = (v: AmfValue): v is AmfObject =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);

/** Parses an AMF0 command (type 20) or an AMF3 command (type 17: a 0 byte, then AMF0). */
export function parseCommand(msg: Pick<RtmpMessage, 'typeId' | 'payload'>): RtmpCommand {
  const offset = msg.typeId === MsgType.CommandAmf3 && msg.payload[0] === 0 ? 1 : 0;
  const values = decodeAmf0(msg.payload, offset);
  const [name, txId, obj, ...args] = values;
  if (typeof name !== 'string') throw new Amf0Error('command name is not a string');
  return {
    name,
    transactionId: typeof txId === 'number' && Number.isFinite(txId) ? txId : 0,
    object: obj !== undefined && isObject(obj) ? obj : null,
    args,
  };
}

export interface ConnectParams {
  app: string;
  /** May be missing (some clients omit it): never required. */
  tcUrl: string | undefined;
  objectEncoding: number;
  /** Query string carried in the app ("live?token=x") or tcUrl. */
  query: Record<string, string>;
}

function str(v: AmfValue | undefined): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/** Splits "name?a=1&b=2" into the name and its query (first value per key, bounded). */
export function splitQuery(s: string): { name: string; query: Record<string, string> } {
  const q = s.indexOf('?');
  if (q === -1) return { name: s, query: {} };
  const query: Record<string, string> = Object.create(null);
  const params = new URLSearchParams(s.slice(q + 1));
  let n = 0;
  for (const [k, v] of params) {
    if (++n > 64) break;
    if (!(k in query)) query[k] = v;
  }
  return { name: s.slice(0, q), query: { ...query } };
}

export function parseConnect(cmd: RtmpCommand): ConnectParams {
  const o = cmd.object ?? {};
  const rawApp = str(o.app) ?? '';
  const tcUrl = str(o.tcUrl);
  const { name: app, query: appQuery } = splitQuery(rawApp);
  let tcQuery: Record<string, string> = {};
  if (tcUrl) tcQuery = splitQuery(tcUrl).query;
  const enc = o.objectEncoding;
  return {
    app: app.replace(/\/+$/, ''),
    tcUrl,
    objectEncoding: typeof enc === 'number' && Number.isFinite(enc) ? enc : 0,
    query: { ...tcQuery, ...appQuery },
  };
}

/** The stream name argument of publish/play/releaseStream...: a string, or an error (a number is not a name). */
export function streamNameArg(cmd: RtmpCommand): string {
  const v = cmd.args[0];
  if (typeof v !== 'string') throw new RtmpProtocolError(`${cmd.name}: stream name is not a string`);
  if (v.length === 0 || v.length > 1024) throw new RtmpProtocolError(`${cmd.name}: bad stream name length`);
  return v;
}

/** Returns the payload of an `@setDataFrame` data message without its first string, i.e.
 * `onMetaData` + values, which is exactly an FLV script tag body. Other data messages are
 * returned unchanged. Throws Amf0Error when the payload does not start with a string. */
export function stripSetDataFrame(payload: Buffer): Buffer {
  if (payload.length < 3 || payload[0] !== 0x02) return payload;
  const len = payload.readUInt16BE(1);
  if (3 + len > payload.length) throw new Amf0Error('truncated data message name');
  if (payload.toString('latin1', 3, 3 + len) !== '@setDataFrame') return payload;
  return payload.subarray(3 + len);
}

/** Parses a metadata body (`onMetaData`, object/ECMA array) into its properties, or undefined. */
export function parseMetadata(body: Buffer): AmfObject | undefined {
  try {
    const values = decodeAmf0(body);
    if (values[0] !== 'onMetaData') return undefined;
    const o = values[1];
    return o !== undefined && isObject(o) ? o : undefined;
  } catch (err) {
    if (err instanceof Amf0Error) return undefined;
    throw err;
  }
}

// ---- building messages (server replies, and the client side for tests and the stress tool) ----

type Msg = Pick<RtmpMessage, 'csid' | 'typeId' | 'streamId' | 'timestamp' | 'payload'>;

const u32 = (n: number): Buffer => {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32BE(n >>> 0, 0);
  return b;
};

export const setChunkSizeMsg = (size: number): Msg =>
  ({ csid: 2, typeId: MsgType.SetChunkSize, streamId: 0, timestamp: 0, payload: u32(size & 0x7fffffff) });
export const windowAckSizeMsg = (size: number): Msg =>
  ({ csid: 2, typeId: MsgType.WindowAckSize, streamId: 0, timestamp: 0, payload: u32(size) });
export const ackMsg = (bytes: number): Msg =>
  ({ csid: 2, typeId: MsgType.Acknowledgement, streamId: 0, timestamp: 0, payload: u32(bytes) });
export const setPeerBandwidthMsg = (size: number, limitType = 2): Msg =>
  ({ csid: 2, typeId: MsgType.SetPeerBandwidth, streamId: 0, timestamp: 0, payload: Buffer.concat([u32(size), Buffer.from([limitType])]) });

export function userControlMsg(event: UserControlEvent, value: number): Msg {
  const payload = Buffer.allocUnsafe(6);
  payload.writeUInt16BE(event, 0);
  payload.writeUInt32BE(value >>> 0, 2);
  return { csid: 2, typeId: MsgType.UserControl, streamId: 0, timestamp: 0, payload };
}

export function commandMsg(streamId: number, name: string, txId: number, object: AmfObject | null, ...args: AmfValue[]): Msg {
  return { csid: 3, typeId: MsgType.CommandAmf0, streamId, timestamp: 0, payload: encodeAmf0(name, txId, object, ...args) };
}

export function onStatusMsg(streamId: number, level: 'status' | 'error', code: string, description: string): Msg {
  return commandMsg(streamId, 'onStatus', 0, null, { level, code, description });
}

export function dataMsg(streamId: number, ...values: (AmfValue | AmfEcmaArray)[]): Msg {
  return { csid: 5, typeId: MsgType.DataAmf0, streamId, timestamp: 0, payload: encodeAmf0(...values) };
}

/** Parses a User Control message: event type and its 4-byte value (stream id, or ping timestamp). */
export function parseUserControl(payload: Buffer): { event: number; value: number } {
  if (payload.length < 2) throw new RtmpProtocolError('short user control message');
  return { event: payload.readUInt16BE(0), value: payload.length >= 6 ? payload.readUInt32BE(2) : 0 };
}
