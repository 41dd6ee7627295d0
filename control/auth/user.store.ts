import type { Database } from '../../core/database/database.js';
import { usersTable, type UserModel } from '../../core/database/models/user.model.js';
import { idString } from '../../core/database/models/define.js';
import { ConflictError, DuplicateKeyError } from '../../core/errors.js';
import { ROLES, type Role, type User } from './user.js';

export interface UserWithSecret extends User {
  passwordHash: string;
}

function toUser(m: UserModel): UserWithSecret {
  const row = m.get();
  const role = (ROLES as readonly string[]).includes(row.role) ? (row.role as Role) : 'viewer';
  return { id: idString(row.id), username: row.username, role, createdAt: row.created_at, passwordHash: row.password_hash };
}

/**
 * How long a user's role read by roleOf() is reused. Every authenticated request asks for the role
 * (a token's claim is only what it was at login), so a short memo spares the primary-key read of a
 * busy client; a change made on this node is seen at once (setRole forgets it), on other nodes
 * within this long.
 */
const ROLE_MEMO_MS = 1_000;
const ROLE_MEMO_MAX = 10_000;

/** The users table, speaking domain types. */
export class UserStore {
  private readonly table;
  private readonly caseSensitive: boolean;
  private readonly roles = new Map<string, { account: { role: Role; passwordHash: string } | null; until: number }>();
  constructor(private readonly db: Database) {
    this.table = usersTable(db.sequelize);
    // MariaDB's collation (utf8mb4_unicode_ci) makes the unique index ignore case; SQLite's does not.
    this.caseSensitive = db.dialect === 'sqlite';
  }

  /** The user's role now, null when there is no such user (memoised for ROLE_MEMO_MS). */
  async roleOf(id: string, now = Date.now()): Promise<Role | null> {
    return (await this.accountOf(id, now))?.role ?? null;
  }

  /** The user's role and password hash now, null when there is no such user (memoised for ROLE_MEMO_MS). */
  async accountOf(id: string, now = Date.now()): Promise<{ role: Role; passwordHash: string } | null> {
    const memo = this.roles.get(id);
    if (memo && memo.until > now) return memo.account;
    if (!/^\d{1,19}$/.test(id)) return null;
    const m = await this.table.findByPk(id, { attributes: ['id', 'role', 'password_hash'] });
    const row = m?.get();
    const account = row
      ? { role: (ROLES as readonly string[]).includes(row.role) ? (row.role as Role) : 'viewer' as Role, passwordHash: row.password_hash }
      : null;
    if (this.roles.size >= ROLE_MEMO_MAX) this.roles.clear();
    this.roles.set(id, { account, until: now + ROLE_MEMO_MS });
    return account;
  }

  async create(input: { username: string; passwordHash: string; role: Role }): Promise<User> {
    try {
      const m = await this.table.create({ username: input.username, password_hash: input.passwordHash, role: input.role });
      const { passwordHash: _omit, ...user } = toUser(m);
      return user;
    } catch (err) {
      if (err instanceof DuplicateKeyError) throw new ConflictError('username is taken', { cause: err, code: 'username_taken' });
      throw err;
    }
  }

  /**
   * Whether another spelling of this name, differing in case only, is taken: `Alice` next to `alice`
   * would be a second account passing for the first (chat, rooms). MariaDB's collation
   * (utf8mb4_unicode_ci) makes the unique index ignore case already; SQLite's does not.
   */
  async nameTakenIgnoringCase(username: string): Promise<boolean> {
    if (!this.caseSensitive) return false;
    const rows = await this.db.sequelize.query('SELECT 1 AS x FROM users WHERE LOWER(username) = LOWER(?) LIMIT 1', { replacements: [username], type: 'SELECT' as never }) as unknown as unknown[];
    return rows.length > 0;
  }

  async findByUsername(username: string): Promise<UserWithSecret | null> {
    const m = await this.table.findOne({ where: { username } });
    return m ? toUser(m) : null;
  }

  async findById(id: string): Promise<User | null> {
    if (!/^\d{1,19}$/.test(id)) return null;
    const m = await this.table.findByPk(id);
    if (!m) return null;
    const { passwordHash: _omit, ...user } = toUser(m);
    return user;
  }

  async setRole(id: string, role: Role): Promise<void> {
    await this.table.update({ role }, { where: { id } });
    this.roles.delete(id);
  }

  async setPassword(id: string, passwordHash: string): Promise<void> {
    await this.table.update({ password_hash: passwordHash }, { where: { id } });
    this.roles.delete(id);
  }
}
