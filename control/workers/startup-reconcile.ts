import type { Cache } from '../../core/cache/cache.port.js';
import { cacheKeys } from '../../core/cache/keys.js';
import type { Logger } from '../../core/logging/logger.js';
import type { MediaControl, PublishEnded } from '../../core/media/media-contract.js';

export interface StartupReconcileDeps {
  sessionStore: { listByStatus(status: 'live', limit?: number): Promise<Array<{ id: string; roomId: string }>> };
  sessions: { publisherGone(ev: PublishEnded): Promise<void> };
  /** Must answer for what it holds; a MediaControl that cannot (no media configured) throws, and nothing is changed. */
  media: Pick<MediaControl, 'listStreams'>;
  cache: Cache;
  log: Logger;
  now?: () => number;
}

/**
 * Run once when control starts. After a crash (kill -9, power loss) the database still says
 * "live" for shows whose publisher is gone with the old process, and nothing would correct that
 * until the reaper's heartbeat timeout. So: ask media which streams it holds, and treat every live
 * session whose stream is not among them as a publisher that just dropped: the usual reconnect
 * grace, then the end (close_method 3). An encoder that reconnects within the grace keeps its show.
 *
 * The publisher each session had is read BEFORE media is asked, and handed to publisherGone, which
 * ignores a drop of any other publisher: a publish that attaches while this runs is never detached.
 * Returns how many sessions were put into their grace.
 */
export async function reconcileLiveSessions(deps: StartupReconcileDeps): Promise<number> {
  const sessions = await deps.sessionStore.listByStatus('live', 10_000);
  if (sessions.length === 0) return 0;
  const publisherBefore = new Map<string, string>();
  for (const s of sessions) publisherBefore.set(s.id, (await deps.cache.hGetAll(cacheKeys.liveTemp(s.id))).publisher_id ?? '');
  let held: Set<string>;
  try {
    held = new Set((await deps.media.listStreams()).map((s) => s.streamName));
  } catch (err) {
    deps.log.warn({ err, live: sessions.length }, 'media cannot list its streams: live sessions left to the reaper');
    return 0;
  }
  const at = (deps.now ?? Date.now)();
  let detached = 0;
  for (const s of sessions) {
    if (held.has(s.roomId)) continue;
    await deps.sessions.publisherGone({
      streamName: s.roomId, app: '', publisherId: publisherBefore.get(s.id) ?? '', sessionId: s.id, at, reason: 'error', bytesIn: 0, durationMs: 0,
    });
    detached++;
  }
  if (detached) deps.log.warn({ detached, held: held.size }, 'live sessions without a stream in media at start: waiting the reconnect grace');
  return detached;
}
