import { CallbackEventType } from '../../../core/events/bus-events.js';
import type { CallbackHandlers } from '../callback-consumer.js';
import type { CallbackHandlerDeps } from './handler-deps.js';
import { pushHandler } from './push.handler.js';
import { cutOffHandler } from './cut-off.handler.js';
import { recordHandler } from './record.handler.js';
import { screenshotHandler } from './screenshot.handler.js';
import { auditHandler } from './audit.handler.js';

export type { CallbackHandlerDeps } from './handler-deps.js';

/** event_type -> handler. Push errors (321) have none: the live_events line and the marker are their whole effect. */
export function callbackHandlers(deps: CallbackHandlerDeps): CallbackHandlers {
  const audit = auditHandler(deps);
  return {
    [CallbackEventType.push]: pushHandler(deps),
    [CallbackEventType.cutOff]: cutOffHandler(deps),
    [CallbackEventType.record]: recordHandler(deps),
    [CallbackEventType.screenshot]: screenshotHandler(deps),
    [CallbackEventType.imageAudit]: audit,
    [CallbackEventType.audioAudit]: audit,
    [CallbackEventType.pushError]: async () => undefined,
  };
}
