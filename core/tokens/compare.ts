// Kept where tokens and callers have always imported it from; the function lives at core's root (core/http uses it too).
export { safeEqual } from '../safe-equal.js';
