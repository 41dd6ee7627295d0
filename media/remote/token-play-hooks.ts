import type { PlayDecision, PlayRequest, PublishDecision, PublishRequest, StreamHooks } from '../../core/media/media-contract.js';
import { decidePlay } from '../../core/tokens/play-token.js';

export interface TokenPlayHooksOptions {
  /** Hooks for publishes (control over HTTP): a publish needs the room's key checked by control. */
  publish: StreamHooks;
  /** The play-token key control signs with (config.live.playTokenKey). */
  playTokenKey: string;
  /** The RTMP application viewers play from (config.rtmp.app). */
  app: string;
  now?: () => number;
}

/**
 * StreamHooks for a media service that holds the play-token key: publishes still ask control, but
 * a play is checked here (signature, expiry, stream) with the same decision control makes
 * (decidePlay). A viewer then costs no call to control: time to first frame stays a local matter,
 * and viewers keep joining live streams while control is restarting.
 */
export class TokenPlayHooks implements StreamHooks {
  private readonly now: () => number;

  constructor(private readonly o: TokenPlayHooksOptions) {
    this.now = o.now ?? Date.now;
  }

  authorizePublish(req: PublishRequest): Promise<PublishDecision> {
    return this.o.publish.authorizePublish(req);
  }

  async authorizePlay(req: PlayRequest): Promise<PlayDecision> {
    return decidePlay(this.o.playTokenKey, this.o.app, req, Math.floor(this.now() / 1000));
  }
}
