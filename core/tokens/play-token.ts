import { createHmac } from 'node:crypto';
import type { PlayDecision, PlayRequest } from '../media/media-contract.js';
import { safeEqual } from './compare.js';

/**
 * Play tokens: `base64url(room|viewer|exp|sig)`, sig = HMAC-SHA256(secret, 'play|room|viewer|exp')
 * in base64url, exp in unix seconds, viewer empty for anonymous viewers. The 'play|' tag keeps the
 * HMAC domain apart from every other signature made with the same secret, so a play token can
 * never pass as a publish credential (and stream keys are random, not signed at all).
 */
export interface PlayTokenClaims {
  room: string;
  viewer?: string;
  /** Expiry, unix seconds. */
  exp: number;
}

export type PlayTokenCheck =
  | { ok: true; claims: PlayTokenClaims }
  | { ok: false; reason: 'malformed' | 'bad_signature' | 'expired' | 'wrong_stream' };

const MAX_TOKEN_LENGTH = 512;
const FIELD = /^[A-Za-z0-9_.:-]{0,64}$/;

function sign(secret: string, room: string, viewer: string, exp: number): string {
  return createHmac('sha256', secret).update(`play|${room}|${viewer}|${exp}`).digest('base64url');
}

export function signPlayToken(secret: string, claims: PlayTokenClaims): string {
  const viewer = claims.viewer ?? '';
  if (!claims.room || !FIELD.test(claims.room) || !FIELD.test(viewer)) throw new TypeError('room and viewer must be short ids');
  if (!Number.isSafeInteger(claims.exp) || claims.exp <= 0) throw new TypeError('exp must be unix seconds');
  const sig = sign(secret, claims.room, viewer, claims.exp);
  return Buffer.from(`${claims.room}|${viewer}|${claims.exp}|${sig}`, 'utf8').toString('base64url');
}

/** Checks signature (constant time), expiry and that the token was issued for `room`. */
export function verifyPlayToken(secret: string, token: string, expect: { room: string; nowSec: number }): PlayTokenCheck {
  if (typeof token !== 'string' || token.length === 0 || token.length > MAX_TOKEN_LENGTH || !/^[A-Za-z0-9_-]+$/.test(token)) {
    return { ok: false, reason: 'malformed' };
  }
  const bytes = Buffer.from(token, 'base64url');
  // The decoder ignores a stray last character and the unused bits of the last one: only the
  // canonical spelling is the token, so one token cannot pass as many (viewer counts, logs).
  if (bytes.toString('base64url') !== token) return { ok: false, reason: 'malformed' };
  const parts = bytes.toString('utf8').split('|');
  if (parts.length !== 4) return { ok: false, reason: 'malformed' };
  const [room, viewer, expText, sig] = parts as [string, string, string, string];
  if (!room || !FIELD.test(room) || !FIELD.test(viewer) || !/^\d{1,12}$/.test(expText)) return { ok: false, reason: 'malformed' };
  const exp = Number(expText);
  if (!safeEqual(sig, sign(secret, room, viewer, exp))) return { ok: false, reason: 'bad_signature' };
  if (room !== expect.room) return { ok: false, reason: 'wrong_stream' };
  if (exp <= expect.nowSec) return { ok: false, reason: 'expired' };
  return { ok: true, claims: { room, viewer: viewer || undefined, exp } };
}

/**
 * The play hook's whole decision, made wherever the play-token key is: control (in one process,
 * or answering on_play) or the media service itself when it holds the key (ONAIR_PLAY_TOKEN_KEY),
 * which saves a round trip to control per viewer. The reason names what failed, for the logs.
 */
export function decidePlay(key: string, app: string, req: Pick<PlayRequest, 'app' | 'streamName' | 'token'>, nowSec: number): PlayDecision {
  if (req.app !== app) return { allow: false, reason: 'unknown_app' };
  if (!req.token) return { allow: false, reason: 'missing_token' };
  const check = verifyPlayToken(key, req.token, { room: req.streamName, nowSec });
  if (!check.ok) {
    return { allow: false, reason: check.reason === 'wrong_stream' ? 'wrong_stream' : check.reason === 'expired' ? 'token_expired' : 'invalid_token' };
  }
  return check.claims.viewer ? { allow: true, viewerId: check.claims.viewer } : { allow: true };
}

/** The key play tokens are signed with: the dedicated play-token key when set, else the secret. */
export function playTokenKey(config: { secret?: string; live: { playTokenKey?: string } }): string {
  const key = config.live.playTokenKey ?? config.secret;
  if (!key) throw new TypeError('config.secret is not set');
  return key;
}
