import type { Logger } from '../core/logging/logger.js';
import type { MediaControl } from '../core/media/media-contract.js';
import { UnavailableError } from '../core/errors.js';

/**
 * Stand-in MediaControl for a standalone control process with no media engine wired in (SRS or
 * nginx-rtmp deployments). Kicks log "media control not configured" and do nothing; listStreams
 * throws, since an empty list would claim no stream is live. The media role supplies the HTTP client.
 */
export function unconfiguredMediaControl(log: Logger): MediaControl {
  const warn = (what: string) => log.warn({ call: what }, 'media control not configured');
  return {
    async kickPublisher() {
      warn('kickPublisher');
      return false;
    },
    async kickViewer() {
      warn('kickViewer');
      return false;
    },
    async listStreams() {
      // "I do not know" must not read as "nothing is live": startup reconciliation would end every show.
      throw new UnavailableError('media control not configured: streams unknown');
    },
  };
}
