import type { Logger } from '../../core/logging/logger.js';

/**
 * Asks a hook and waits at most `timeoutMs`. A hook that throws, rejects or does not answer in
 * time counts as a refusal: media never flows on an unanswered question.
 */
export async function askHook<T extends { allow: boolean }>(
  call: () => Promise<T>,
  timeoutMs: number,
  log: Logger,
  what: string,
): Promise<T | { allow: false; reason: string }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<{ allow: false; reason: string }>((resolve) => {
    timer = setTimeout(() => resolve({ allow: false, reason: 'hook timeout' }), timeoutMs);
  });
  try {
    const answer = await Promise.race([
      Promise.resolve().then(call),
      timeout,
    ]);
    if (!answer || typeof answer.allow !== 'boolean') return { allow: false, reason: 'bad hook answer' };
    return answer;
  } catch (err) {
    log.warn({ err, what }, 'hook failed: refusing');
    return { allow: false, reason: 'hook error' };
  } finally {
    clearTimeout(timer);
  }
}

/** A refusal is answered after a short random delay, so timing says little to a guesser (mediamtx). */
export function refusalDelay(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 20 + Math.floor(Math.random() * 80)));
}
