import { ValidationError } from '../../core/errors.js';
import { MAX_PASSWORD_LENGTH } from './password.js';

/**
 * What a password must be (README "Password rules"), checked when one is set (registration, the
 * operator from ONAIR_ADMIN_PASSWORD or the CLI), never at login, so existing accounts keep working:
 * - at least `minLength` characters (Unicode code points; ONAIR_PASSWORD_MIN_LENGTH, default 8, as
 *   NIST SP 800-63B asks), not counting spaces around it: eight spaces are no password;
 * - not one character repeated, and not the username;
 * - not among the most common passwords: the top COMMON_PASSWORDS of the ranked list that
 *   @zxcvbn-ts/language-common ships (leaked-password corpora), compared case-insensitively.
 *   It is installed with npm and read from disk on first use; nothing is fetched at run time.
 * Each failure has its own error code, so a client can say what to change.
 */
export const COMMON_PASSWORDS = 10_000;

export interface PasswordRules {
  minLength: number;
}

let common: Promise<Set<string>> | undefined;

/** The common-password list, loaded once, lazily: roles that never set a password never pay for it (~100 ms, a few MB). */
export function commonPasswords(): Promise<Set<string>> {
  common ??= import('@zxcvbn-ts/language-common').then(({ dictionary }) =>
    new Set(dictionary['passwords-common'].slice(0, COMMON_PASSWORDS).map((p) => p.toLowerCase())));
  return common;
}

const codePoints = (s: string) => [...s].length;

/** Throws ValidationError (code password_blank | password_too_short | password_too_long | password_too_simple | password_is_username | password_too_common). */
export async function assertAcceptablePassword(password: string, username: string, rules: PasswordRules): Promise<void> {
  const refuse = (code: string, message: string) => {
    throw new ValidationError(message, { code });
  };
  const trimmed = password.normalize('NFKC').trim();
  if (trimmed.length === 0) refuse('password_blank', 'the password cannot be only spaces');
  if (codePoints(trimmed) < rules.minLength) refuse('password_too_short', `the password needs at least ${rules.minLength} characters (spaces around it do not count)`);
  if (password.length > MAX_PASSWORD_LENGTH) refuse('password_too_long', `the password can have at most ${MAX_PASSWORD_LENGTH} characters`);
  if (new Set(trimmed).size === 1) refuse('password_too_simple', 'the password cannot be one character repeated');
  const lower = trimmed.toLowerCase();
  if (lower === username.trim().toLowerCase()) refuse('password_is_username', 'the password cannot be the username');
  if ((await commonPasswords()).has(lower)) refuse('password_too_common', 'this password is among the most common ones; choose another');
}
