import { createHmac } from 'node:crypto';

/**
 * The shared secret of control's media-server hooks (/api/v1/hook/*), carried in the hook URL as
 * `?secret=` because that is what SRS's http_hooks and nginx-rtmp's on_* directives can hold.
 *
 * onair's own media service (npm run start:media) sends ONAIR_HOOK_SECRET when it is set, and
 * otherwise a secret derived from ONAIR_MEDIA_CALLBACK_KEY, which both sides hold already, so a
 * split deployment is protected with no extra setting; control accepts either.
 */
export const HOOK_SECRET_PARAM = 'secret';

export function mediaHookSecret(mediaKey: string): string {
  return createHmac('sha256', mediaKey).update('onair|hook-secret').digest('base64url');
}

/** The secret a sender puts in its hook URLs, if any. */
export function hookSecretToSend(config: { hooks: { secret?: string }; callbacks: { mediaKey?: string } }): string | undefined {
  return config.hooks.secret ?? (config.callbacks.mediaKey ? mediaHookSecret(config.callbacks.mediaKey) : undefined);
}
