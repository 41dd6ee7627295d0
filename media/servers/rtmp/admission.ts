import { addressKey } from '../../../core/http/client-address.js';
import { RefusalSpell, type RefusalNote } from '../../stream/refusal-spell.js';

/**
 * Who may hold an RTMP connection. Before a connection publishes or plays, nothing proves it is
 * wanted, so the engine bounds what such connections can take:
 * - at most `maxPerIp` connections from one address (refused at accept: 'per_ip'); an IPv6 client
 *   counts by its /64 (addressKey), as media's players per address do: a host has a whole /64;
 * - at most `max` connections in all; at the cap, a new connection displaces the oldest one that
 *   is still not publishing or playing ('displaced'), so an encoder that connects and publishes in
 *   a few hundred milliseconds gets in while others hold every slot idle; only when every slot
 *   publishes or plays is it refused ('server_full');
 * - players never take the last `publisherReserve` slots ('players_full'): a full audience cannot
 *   lock out the anchors;
 * - a connection not publishing or playing `startTimeout` after it connected is dropped
 *   ('start_timeout', enforced by the conn).
 * Each refusal is counted by reason (onair_media_rtmp_refusals_total). Players refused at their cap
 * are logged once per spell (RefusalSpell), not once each: a join ramp past the cap refuses hundreds
 * a second.
 */
export type RtmpRefusal = 'per_ip' | 'server_full' | 'displaced' | 'players_full' | 'start_timeout';

export interface AdmissionLimits {
  max: number;
  maxPerIp: number;
  publisherReserve: number;
}

export interface Admitted {
  readonly clientIp: string;
  /** Drops the connection (it was displaced by a newer one). */
  displace(): void;
}

export class RtmpAdmission<C extends Admitted> {
  private readonly perIp = new Map<string, number>();
  /** Not yet publishing or playing, oldest first (a Set keeps insertion order). */
  private readonly pending = new Set<C>();
  private active = 0;
  private players = 0;
  readonly refusals: Record<RtmpRefusal, number> = { per_ip: 0, server_full: 0, displaced: 0, players_full: 0, start_timeout: 0 };
  /** Plays refused at the players' cap, as spells: what to log when one starts and when a play is admitted again. */
  private readonly playersSpell = new RefusalSpell();

  constructor(private readonly limits: AdmissionLimits) {}

  get size(): number {
    return this.pending.size + this.active;
  }

  /** Before a connection is built: may this address connect now? Displaces the oldest pending one at the cap. */
  admit(clientIp: string): boolean {
    if ((this.perIp.get(addressKey(clientIp)) ?? 0) >= this.limits.maxPerIp) {
      this.refusals.per_ip++;
      return false;
    }
    if (this.size >= this.limits.max) {
      const oldest = this.pending.values().next().value as C | undefined;
      if (!oldest) {
        this.refusals.server_full++;
        return false;
      }
      this.refusals.displaced++;
      oldest.displace(); // its close calls left(), which frees the slot
    }
    return true;
  }

  /** The admitted connection exists: it counts, as pending. */
  joined(conn: C): void {
    const key = addressKey(conn.clientIp);
    this.perIp.set(key, (this.perIp.get(key) ?? 0) + 1);
    this.pending.add(conn);
  }

  /** The connection is about to publish (always allowed) or play (refused when only the reserve is left). */
  activate(conn: C, kind: 'publish' | 'play'): boolean {
    if (kind === 'play' && this.players + 1 > this.limits.max - this.limits.publisherReserve) {
      this.refusals.players_full++;
      return false;
    }
    if (this.pending.delete(conn)) this.active++;
    if (kind === 'play') this.players++;
    return true;
  }

  /**
   * activate(conn, 'play'), with what to log about the players' cap: a note when a spell of
   * refusals starts, one with its count and duration at the next admitted play, else none.
   */
  activatePlay(conn: C, nowMs: number): { admitted: boolean; note: RefusalNote } {
    const admitted = this.activate(conn, 'play');
    return { admitted, note: this.playersSpell.note(admitted, nowMs) };
  }

  left(conn: C, wasPlayer: boolean): void {
    const key = addressKey(conn.clientIp);
    const n = (this.perIp.get(key) ?? 1) - 1;
    if (n > 0) this.perIp.set(key, n);
    else this.perIp.delete(key);
    if (!this.pending.delete(conn)) this.active = Math.max(0, this.active - 1);
    if (wasPlayer) this.players = Math.max(0, this.players - 1);
  }

  startTimedOut(): void {
    this.refusals.start_timeout++;
  }
}
