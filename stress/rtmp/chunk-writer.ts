/**
 * RTMP chunk writer for the stress tool's client: every message gets a type-0 header (absolute
 * timestamp, simplest and always valid), continuations get type-3 headers.
 * TODO(stress): switch to media/protocols/rtmp/chunk-writer.ts once the engine's codec exists.
 */

export interface OutMessage {
  csid: number;
  type: number;
  streamId: number;
  timestamp: number;
  body: Buffer;
}

export function encodeMessage(msg: OutMessage, chunkSize: number): Buffer[] {
  if (msg.csid < 2 || msg.csid > 63) throw new TypeError('csid must be 2..63 in this writer');
  const ts = msg.timestamp >>> 0;
  const extended = ts >= 0xffffff;
  const first = Buffer.alloc(12 + (extended ? 4 : 0));
  first[0] = msg.csid; // fmt 0
  first.writeUIntBE(extended ? 0xffffff : ts, 1, 3);
  first.writeUIntBE(msg.body.length, 4, 3);
  first[7] = msg.type;
  first.writeUInt32LE(msg.streamId, 8);
  if (extended) first.writeUInt32BE(ts, 12);
  const out: Buffer[] = [first];
  let pos = 0;
  while (pos < msg.body.length || pos === 0) {
    if (pos > 0) {
      const cont = Buffer.alloc(1 + (extended ? 4 : 0));
      cont[0] = 0xc0 | msg.csid;
      if (extended) cont.writeUInt32BE(ts, 1);
      out.push(cont);
    }
    const end = Math.min(pos + chunkSize, msg.body.length);
    out.push(msg.body.subarray(pos, end));
    pos = end;
    if (msg.body.length === 0) break;
  }
  return out;
}

/** Protocol control messages go on chunk stream 2, message stream 0. */
export function controlMessage(type: number, value: number): OutMessage {
  const body = Buffer.alloc(4);
  body.writeUInt32BE(value >>> 0, 0);
  return { csid: 2, type, streamId: 0, timestamp: 0, body };
}

export function userControl(event: number, value: number): OutMessage {
  const body = Buffer.alloc(6);
  body.writeUInt16BE(event, 0);
  body.writeUInt32BE(value >>> 0, 2);
  return { csid: 2, type: 4, streamId: 0, timestamp: 0, body };
}
