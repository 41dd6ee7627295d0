import { ValidationError } from '../errors.js';
import type { Delivery, JsonValue } from './pubsub.port.js';

/**
 * What both adapters share so they behave the same: channel names, the size cap, the wire form
 * and kept-message ids. Redis carries exactly these strings; the in-process hub passes them too, so
 * a message that would not survive Redis does not survive the embedded adapter either.
 */

/** The serialised form of one message may not exceed this many characters (a chat line is ~200). */
export const MAX_MESSAGE_CHARS = 64 * 1024;

const CHANNEL = /^[A-Za-z0-9][A-Za-z0-9:._-]{0,199}$/;

/** The channel of a live room: each node subscribes only to the rooms its sockets are in. */
export function roomChannel(roomId: string | number | bigint): string {
  return `room:${roomId}`;
}

/** Channel names are chosen by code, never by clients: a bad one is a programmer mistake (TypeError). */
export function assertChannel(channel: string): void {
  if (typeof channel !== 'string' || !CHANNEL.test(channel)) {
    throw new TypeError(`invalid pub/sub channel ${JSON.stringify(String(channel).slice(0, 60))}: 1-200 of A-Z a-z 0-9 : . _ -`);
  }
}

/** JSON-encodes a message, refusing what JSON cannot carry at the top level and what is too big. */
export function encodeMessage(message: JsonValue): string {
  const json = JSON.stringify(message);
  if (json === undefined) throw new TypeError('a pub/sub message must be a JSON value');
  if (json.length > MAX_MESSAGE_CHARS) throw new TypeError(`a pub/sub message may be at most ${MAX_MESSAGE_CHARS} characters of JSON (got ${json.length})`);
  return json;
}

/** The wire form: 'm' + json for a plain message, 'k' + id + ' ' + json for a kept one. */
export function plainWire(json: string): string {
  return `m${json}`;
}

export function keptWire(id: string, json: string): string {
  return `k${id} ${json}`;
}

/** Decodes a wire string into the delivery every local handler shares (the delivery is frozen; its message is shared, read-only by convention). */
export function decodeWire(channel: string, wire: string): Delivery {
  if (wire.charCodeAt(0) === 107 /* k */) {
    const space = wire.indexOf(' ');
    return Object.freeze({ channel, id: wire.slice(1, space), message: JSON.parse(wire.slice(space + 1)) as JsonValue });
  }
  if (wire.charCodeAt(0) !== 109 /* m */) throw new TypeError('not an onair pub/sub message');
  return Object.freeze({ channel, message: JSON.parse(wire.slice(1)) as JsonValue });
}

const ID = /^(\d{1,16})-(\d{1,16})$/;

/**
 * Parses a kept-message id as a client sends it back (`after` of a resume), so it is checked like
 * any outside input: ValidationError when it is not an id.
 */
export function parseKeptId(id: string): [bigint, bigint] {
  const m = typeof id === 'string' ? ID.exec(id) : null;
  if (!m) throw new ValidationError('not a message id', { code: 'invalid_message_id' });
  return [BigInt(m[1]!), BigInt(m[2]!)];
}

/** Negative, zero or positive as `a` is older than, the same as, or newer than `b`. */
export function compareKeptIds(a: string, b: string): number {
  const [am, as] = parseKeptId(a);
  const [bm, bs] = parseKeptId(b);
  if (am !== bm) return am < bm ? -1 : 1;
  return as === bs ? 0 : as < bs ? -1 : 1;
}

export function resolveLimit(limit: number | undefined, historySize: number): number {
  if (limit === undefined) return historySize;
  if (!Number.isInteger(limit) || limit < 1) throw new TypeError('recent(): limit must be a positive integer');
  return Math.min(limit, historySize);
}
