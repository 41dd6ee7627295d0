/** Roles, and the caller of a request as the bearer token says (auth/user.ts re-exports them). */
export const ROLES = ['viewer', 'anchor', 'operator'] as const;
export type Role = (typeof ROLES)[number];

export interface AuthUser {
  id: string;
  username: string;
  role: Role;
}
