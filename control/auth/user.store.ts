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

/** The users table, speaking domain types. */
export class UserStore {
  private readonly table;
  constructor(db: Database) {
    this.table = usersTable(db.sequelize);
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
  }

  async setPassword(id: string, passwordHash: string): Promise<void> {
    await this.table.update({ password_hash: passwordHash }, { where: { id } });
  }
}
