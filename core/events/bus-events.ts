/**
 * The catalog of events on the bus (STYLE §2.9): event name -> payload type. EventBus<BusEvents>
 * checks every publish and narrows every delivery by its name.
 */

/** Tencent Cloud CSS callback event types (the vendor's `event_type`), also used for the engine's own events. */
export const CallbackEventType = {
  cutOff: 0,
  push: 1,
  record: 100,
  screenshot: 200,
  audioAudit: 315,
  imageAudit: 317,
  pushError: 321,
} as const;
export type CallbackEventTypeCode = (typeof CallbackEventType)[keyof typeof CallbackEventType];

/**
 * One verified callback, whatever its source: a Tencent-style HTTP callback (`css`), the embedded
 * engine's in-process events (`media`), or the engine's signed HTTP callbacks (`media-http`).
 * `identity` is stable across re-sends of the same event and is what handlers deduplicate on
 * (`lock:callback:{identity}` and the callback_processed row).
 */
export interface CallbackReceived {
  identity: string;
  source: 'css' | 'media' | 'media-http';
  eventType: CallbackEventTypeCode;
  /** The stream the event is about: CSS stream_id, or the engine's public stream name (the room id). */
  streamName: string;
  /** CSS `sequence` (one publish activity) or the engine's publisherId. */
  sequence: string | null;
  /** When the event happened (ms since epoch). */
  at: number;
  /** The validated body, without `sign` (CSS), or the engine's event payload. */
  body: Record<string, unknown>;
  receivedAt: number;
  /**
   * True when a signature covers the body (the engine in-process, its HMAC-signed HTTP callbacks, a
   * CSS callback with onair's HMAC header). False (or absent, on a CSS event) for the vendor's
   * MD5(key + t) alone: whoever captured one signature could have written this body, so handlers
   * impose nothing permanent on it by themselves (an audit's severe verdict waits for an operator).
   */
  bodyVerified?: boolean;
}

// A type alias (not an interface) so it satisfies EventCatalog's index signature.
export type BusEvents = {
  'callback.received': CallbackReceived;
};
export type BusEventName = keyof BusEvents & string;
