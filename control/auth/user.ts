/** Domain types of users and roles. Ids are strings (BIGINT in the database). */
export const ROLES = ['viewer', 'anchor', 'operator'] as const;
export type Role = (typeof ROLES)[number];

export interface User {
  id: string;
  username: string;
  role: Role;
  createdAt: Date;
}

/** The caller of a request, as the bearer token says. */
export interface AuthUser {
  id: string;
  username: string;
  role: Role;
}
