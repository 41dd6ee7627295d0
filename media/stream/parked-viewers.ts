import type { ViewerSession } from './viewer-session.js';

/** Viewers of one stream name whose publisher went away, waiting for it to come back. */
interface Parking {
  sessions: Set<ViewerSession>;
  /** The last timestamp they were sent, and when: the new publisher's timeline continues from it. */
  lastTs: number;
  since: number;
  timer: NodeJS.Timeout;
}

/**
 * Keeps the viewers of a stream whose publisher dropped (network cut, kill -9, encoder restart)
 * for the reconnect grace, as SRS and nginx-rtmp keep their players: when a publish of the same
 * name arrives in time, its stream adopts them and they get the new sequence headers and carry on
 * on one connection; when the grace ends first, they end as if the stream had ended.
 */
export class ParkedViewers {
  private readonly byName = new Map<string, Parking>();

  constructor(private readonly graceMs: number) {}

  park(name: string, sessions: ViewerSession[], lastTs: number): void {
    if (sessions.length === 0) return;
    const parking = this.byName.get(name);
    if (parking) {
      for (const s of sessions) parking.sessions.add(s);
      return;
    }
    const timer = setTimeout(() => this.endAll(name), this.graceMs);
    timer.unref();
    this.byName.set(name, { sessions: new Set(sessions), lastTs, since: Date.now(), timer });
  }

  /** Takes the viewers waiting for `name` (the new publish adopts them), if any. */
  take(name: string): Omit<Parking, 'timer'> | undefined {
    const parking = this.byName.get(name);
    if (!parking) return undefined;
    clearTimeout(parking.timer);
    this.byName.delete(name);
    return parking;
  }

  /** A parked viewer left by itself. */
  forget(session: ViewerSession): void {
    for (const [name, parking] of this.byName) {
      if (parking.sessions.delete(session) && parking.sessions.size === 0) {
        clearTimeout(parking.timer);
        this.byName.delete(name);
      }
    }
  }

  /** Ends the viewers waiting for `name` (the grace ended, or control ended the show). */
  endAll(name: string): void {
    const parking = this.take(name);
    for (const s of parking?.sessions ?? []) s.end('stream-ended');
  }

  clear(): void {
    for (const name of [...this.byName.keys()]) this.endAll(name);
  }
}
