/** Domain types of users and roles. Ids are strings (BIGINT in the database). */
import type { Role } from '../http/caller.js';

// The caller's shape lives with the HTTP layer that reads it from the token (http/ never imports auth/).
export { ROLES, type AuthUser, type Role } from '../http/caller.js';

export interface User {
  id: string;
  username: string;
  role: Role;
  createdAt: Date;
}

