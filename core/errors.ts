/**
 * Domain errors. Services throw these; only the edges (control/http/error-handler.ts, hook
 * endpoints) turn them into HTTP statuses. Check them with instanceof, never by message.
 */
export class OnairError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = 'OnairError';
  }
}

export class ValidationError extends OnairError {
  constructor(message: string, options?: { cause?: unknown; code?: string }) {
    super(options?.code ?? 'invalid_request', message, options);
    this.name = 'ValidationError';
  }
}

export class UnauthorizedError extends OnairError {
  constructor(message = 'authentication required', options?: { cause?: unknown; code?: string }) {
    super(options?.code ?? 'unauthorized', message, options);
    this.name = 'UnauthorizedError';
  }
}

export class ForbiddenError extends OnairError {
  constructor(message = 'forbidden', options?: { cause?: unknown; code?: string }) {
    super(options?.code ?? 'forbidden', message, options);
    this.name = 'ForbiddenError';
  }
}

export class NotFoundError extends OnairError {
  constructor(message = 'not found', options?: { cause?: unknown; code?: string }) {
    super(options?.code ?? 'not_found', message, options);
    this.name = 'NotFoundError';
  }
}

export class ConflictError extends OnairError {
  constructor(message: string, options?: { cause?: unknown; code?: string }) {
    super(options?.code ?? 'conflict', message, options);
    this.name = 'ConflictError';
  }
}

/**
 * A write hit a unique key (the database's constraint error, translated by core/database so nothing
 * above it matches driver errors): `table` is the table written (when the statement names one) and
 * `fields` the key's columns (or index names) as the driver reports them. Stores and services catch
 * it where a duplicate has a meaning (an idempotent retry, a replayed delivery, a taken name).
 */
export class DuplicateKeyError extends ConflictError {
  constructor(message: string, readonly table: string | undefined, readonly fields: readonly string[], options?: { cause?: unknown; code?: string }) {
    super(message, { ...options, code: options?.code ?? 'duplicate' });
    this.name = 'DuplicateKeyError';
  }
}

/** A method called on an object in the wrong state (a closed stream, an ended session). */
export class InvalidStateError extends OnairError {
  constructor(message: string, options?: { cause?: unknown; code?: string }) {
    super(options?.code ?? 'invalid_state', message, options);
    this.name = 'InvalidStateError';
  }
}

/** A dependency (database, Redis, media) is down or did not answer in time. */
export class UnavailableError extends OnairError {
  constructor(message: string, options?: { cause?: unknown; code?: string }) {
    super(options?.code ?? 'unavailable', message, options);
    this.name = 'UnavailableError';
  }
}

/** Too many requests of one kind from one client or for one account: 429 with Retry-After at the edge. */
export class RateLimitedError extends OnairError {
  constructor(message: string, readonly retryAfterMs: number, options?: { cause?: unknown; code?: string }) {
    super(options?.code ?? 'rate_limited', message, options);
    this.name = 'RateLimitedError';
  }
}

/**
 * A bus consumer refuses an event itself (e.g. a schema version it does not know): retrying cannot
 * help, so the consumer loop dead-letters it at once with this message; an operator replays it
 * once a consumer that knows it runs.
 */
export class RejectedEventError extends OnairError {
  constructor(message: string, options?: { cause?: unknown; code?: string }) {
    super(options?.code ?? 'event_rejected', message, options);
    this.name = 'RejectedEventError';
  }
}
