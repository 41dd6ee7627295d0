import type { EventRoute } from '../../core/events/event-route.js';
import type { SettlementService } from './settlement.service.js';

/**
 * session.ended: settles the show (statistics, gift totals) as the durable route of its end. The
 * live-session service also schedules the settlement in process the moment a show ends, so the
 * summary is there at once; this route is what makes it certain: a process that dies before its
 * scheduled settlement ran, or a settlement that failed (database away), is retried by the bus and
 * dead-lettered after the attempts. Settling is an upsert by session id: running twice is harmless.
 */
export function sessionEndedHandler(deps: { settlement: Pick<SettlementService, 'settle'> }): EventRoute<'session.ended'> {
  return async (ctx) => {
    await deps.settlement.settle(ctx.event.sessionId);
    await ctx.commit();
  };
}
