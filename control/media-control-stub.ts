import type { Logger } from '../core/logging/logger.js';
import type { MediaControl } from '../core/media/media-contract.js';

/**
 * Stand-in MediaControl for a standalone control process with no media engine wired in. Every call
 * logs "media control not configured" and does nothing; the media role supplies the HTTP client.
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
      warn('listStreams');
      return [];
    },
  };
}
