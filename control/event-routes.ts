import type { CommitHook, EventRoutes, FanOutRoutes } from '../core/events/event-route.js';
import { viewerJoinedHandler, viewerLeftHandler } from './audience/viewer-events.handlers.js';
import { streamHeartbeatHandler } from './live-sessions/stream-events.handlers.js';
import { screenshotTakenHandler, type ScreenshotDeps } from './covers/screenshot.handler.js';
import { streamPublishedHandler, streamUnpublishedHandler, type StreamEventDeps } from './live-sessions/stream-events.handlers.js';
import { auditFlaggedHandler, type AuditDeps } from './moderation/audit.handler.js';
import { sessionLiveHandler } from './notifications/session-live.handler.js';
import { recordingCommitHooks, recordingFinishedHandler } from './recordings/recording.handler.js';
import type { AudienceService } from './audience/audience.service.js';
import type { AudienceEventHandlers } from './audience/audience-events.handlers.js';
import { replayReadyHandler } from './notifications/replay-ready.handler.js';
import { sessionEndedHandler } from './settlement/session-ended.handler.js';
import type { SettlementService } from './settlement/settlement.service.js';
import type { DurableEventName } from '../core/events/domain-events.js';

/** What the routes need from control, satisfied by its services as they are (main.ts, the test stacks). */
export type EventRouteDeps = StreamEventDeps & ScreenshotDeps & AuditDeps & {
  sessions: StreamEventDeps['sessions'] & AuditDeps['sessions'] & Parameters<typeof streamHeartbeatHandler>[0];
  rooms: StreamEventDeps['rooms'] & ScreenshotDeps['rooms'] & AuditDeps['rooms'];
  roomService: ScreenshotDeps['roomService'] & AuditDeps['roomService'];
  audience: Pick<AudienceService, 'viewerJoined' | 'viewerLeft'>;
  /** The go-live fan-out worker (control/notifications), kicked after a session.live enqueued its job. */
  notifyFanout?: { kick(): void };
  /** ONAIR_NOTIFY_LIVE_QUIET: a show this soon after another of the anchor announces nothing (LIVE_NOTICE_WINDOW_MS when absent). */
  liveQuietMs?: number;
  settlement: Pick<SettlementService, 'settle'>;
};

/**
 * The durable events control's consumer deliberately does not route, and why (acknowledged and
 * logged in live_events as `no route`). Every other durable event has a route below; a test keeps
 * the two lists complete.
 */
export const unroutedEvents: { readonly [N in DurableEventName]?: string } = {
  'stream.failed': 'the vendor\'s push-error report (CSS 321) changes nothing by itself: the stream.unpublished that follows ends the session; it is kept in live_events for diagnosis',
};

/**
 * The one route of each durable domain event (consumed from the bus), from the domain folder that
 * owns it. Other consumer groups read the same bus on their own (the transcoder: recording.finished).
 */
export function eventRoutes(deps: EventRouteDeps): EventRoutes {
  return {
    'stream.published': streamPublishedHandler(deps),
    'stream.unpublished': streamUnpublishedHandler(deps),
    'session.live': sessionLiveHandler({ fanout: deps.notifyFanout, liveQuietMs: deps.liveQuietMs }),
    'recording.finished': recordingFinishedHandler(),
    'screenshot.taken': screenshotTakenHandler(deps),
    'audit.flagged': auditFlaggedHandler(deps),
    'session.ended': sessionEndedHandler(deps),
    'replay.ready': replayReadyHandler({ liveQuietMs: deps.liveQuietMs }),
  };
}

/** The one route of each fan-out event (not durable: called by the edge's intake as it arrives). */
export function fanOutRoutes(deps: Pick<EventRouteDeps, 'sessions' | 'audience'> & { audienceEvents?: Pick<AudienceEventHandlers, 'entered' | 'exited'> }): FanOutRoutes {
  return {
    'stream.heartbeat': streamHeartbeatHandler(deps.sessions),
    'viewer.joined': viewerJoinedHandler(deps.audience),
    'viewer.left': viewerLeftHandler(deps.audience),
    ...(deps.audienceEvents ? { 'audience.entered': deps.audienceEvents.entered, 'audience.exited': deps.audienceEvents.exited } : {}),
  };
}

/** Follow-up statements the routes' declared rows may ask for. */
export const eventCommitHooks: Record<string, CommitHook> = { ...recordingCommitHooks };
