import { z } from 'zod';
import { MAX_PASSWORD_LENGTH } from './password.js';

export const username = z.string().trim().min(3).max(64).regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits, _ . - only');
/** Only the type and the hard cap here: the password rules (length, common passwords) are AuthService's, with their own error codes. */
export const password = z.string().min(1).max(MAX_PASSWORD_LENGTH);

export const registerBody = z.strictObject({
  username,
  password,
  role: z.enum(['viewer', 'anchor', 'operator']).default('viewer'),
});

export const loginBody = z.strictObject({
  username: z.string().min(1).max(64),
  password: z.string().min(1).max(MAX_PASSWORD_LENGTH),
});
