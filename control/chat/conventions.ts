/** The rules a viewer is shown on entering a room's chat: the platform's, then the room's own. */
export interface Conventions {
  /** The operators' conventions (PUT /admin/conventions), else ONAIR_CHAT_CONVENTIONS; null when neither. */
  platform: string | null;
  /** The anchor's rules for this room (PUT /rooms/{id}/chat-settings {rules}); null when none. */
  room: string | null;
}

export interface ConventionsDeps {
  /** The newest platform conventions written by an operator (control/operator), null when none. */
  platform(): Promise<string | null>;
  /** ONAIR_CHAT_CONVENTIONS: the platform conventions when no operator wrote any. */
  fallback: string | undefined;
  room(roomId: string): Promise<string | null>;
  /** How long a read is reused on this node (a room that 5,000 viewers enter reads once). */
  ttlMs?: number;
  now?: () => number;
}

/**
 * Reads the conventions for a socket's welcome, cached per node for a few seconds: a socket opening
 * costs no database read in a busy room, and an edit shows within `ttlMs` on every node.
 */
export class ConventionsSource {
  private platformHit: { at: number; value: Promise<string | null> } | undefined;
  private readonly rooms = new Map<string, { at: number; value: Promise<string | null> }>();
  private readonly ttlMs: number;
  private readonly now: () => number;

  constructor(private readonly deps: ConventionsDeps) {
    this.ttlMs = deps.ttlMs ?? 10_000;
    this.now = deps.now ?? Date.now;
  }

  async of(roomId: string): Promise<Conventions> {
    const now = this.now();
    if (!this.platformHit || now - this.platformHit.at > this.ttlMs) {
      const value = this.deps.platform();
      value.catch(() => { this.platformHit = undefined; });
      this.platformHit = { at: now, value };
    }
    let hit = this.rooms.get(roomId);
    if (!hit || now - hit.at > this.ttlMs) {
      const value = this.deps.room(roomId);
      value.catch(() => this.rooms.delete(roomId));
      hit = { at: now, value };
      this.rooms.set(roomId, hit);
      if (this.rooms.size > 10_000) this.rooms.delete(this.rooms.keys().next().value!);
    }
    const [platform, room] = await Promise.all([this.platformHit.value, hit.value]);
    return { platform: platform ?? this.deps.fallback ?? null, room };
  }

  /** Forgets a room's cached rules on this node (the anchor just changed them here). */
  forget(roomId: string): void {
    this.rooms.delete(roomId);
  }
}
