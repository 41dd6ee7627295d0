import type { Database } from '../../core/database/database.js';
import {
  roomAdminsTable, roomBlacklistTable, roomChatSettingsTable, roomModerationLogTable, roomReportsTable,
} from '../../core/database/models/chat.models.js';

export interface ModerationLogEntry {
  id: string;
  room_id: string;
  actor_id: string;
  action: string;
  target_user_id: string | null;
  detail: string | null;
  at: string;
}

export interface RoomReport {
  id: string;
  room_id: string;
  reporter_id: string;
  message_id: string | null;
  reason: string;
  status: string;
  at: string;
}

/** room_blacklist, room_admins, room_reports and room_moderation_log (migration 0200-chat). */
export class RoomModerationStore {
  private readonly blacklist;
  private readonly admins;
  private readonly reports;
  private readonly log;
  private readonly settings;

  constructor(db: Database) {
    this.settings = roomChatSettingsTable(db.sequelize);
    this.blacklist = roomBlacklistTable(db.sequelize);
    this.admins = roomAdminsTable(db.sequelize);
    this.reports = roomReportsTable(db.sequelize);
    this.log = roomModerationLogTable(db.sequelize);
  }

  async isBlacklisted(roomId: string, userId: string): Promise<boolean> {
    return (await this.blacklist.count({ where: { room_id: roomId, user_id: userId } })) > 0;
  }

  /** Idempotent: true when the user was not on the list yet. */
  async addToBlacklist(roomId: string, userId: string, byUserId: string): Promise<boolean> {
    if (await this.isBlacklisted(roomId, userId)) return false;
    await this.blacklist.create({ room_id: roomId, user_id: userId, by_user_id: byUserId, created_at: new Date() });
    return true;
  }

  async removeFromBlacklist(roomId: string, userId: string): Promise<boolean> {
    return (await this.blacklist.destroy({ where: { room_id: roomId, user_id: userId } })) > 0;
  }

  async listBlacklist(roomId: string): Promise<Array<{ user_id: string; at: string }>> {
    const rows = await this.blacklist.findAll({ where: { room_id: roomId }, order: [['created_at', 'DESC']], limit: 1000 });
    return rows.map((r) => ({ user_id: String(r.get().user_id), at: new Date(r.get().created_at).toISOString() }));
  }

  async isAdmin(roomId: string, userId: string): Promise<boolean> {
    return (await this.admins.count({ where: { room_id: roomId, user_id: userId } })) > 0;
  }

  async setAdmin(roomId: string, userId: string, admin: boolean): Promise<boolean> {
    if (!admin) return (await this.admins.destroy({ where: { room_id: roomId, user_id: userId } })) > 0;
    if (await this.isAdmin(roomId, userId)) return false;
    await this.admins.create({ room_id: roomId, user_id: userId, created_at: new Date() });
    return true;
  }

  async listAdmins(roomId: string): Promise<string[]> {
    return (await this.admins.findAll({ where: { room_id: roomId } })).map((r) => String(r.get().user_id));
  }

  async addReport(input: { roomId: string; reporterId: string; messageId: string | null; reason: string }): Promise<string> {
    const row = await this.reports.create({ room_id: input.roomId, reporter_id: input.reporterId, message_id: input.messageId, reason: input.reason, created_at: new Date() });
    return String(row.get().id);
  }

  async listReports(status: 'open' | 'closed' | 'all', limit = 100): Promise<RoomReport[]> {
    const rows = await this.reports.findAll({ where: status === 'all' ? {} : { status }, order: [['id', 'DESC']], limit: Math.min(limit, 500) });
    return rows.map((row) => {
      const r = row.get();
      return {
        id: String(r.id), room_id: String(r.room_id), reporter_id: String(r.reporter_id), message_id: r.message_id, reason: r.reason,
        status: r.status, at: new Date(r.created_at).toISOString(),
      };
    });
  }

  async closeReport(id: string): Promise<boolean> {
    const [n] = await this.reports.update({ status: 'closed' }, { where: { id } });
    return n > 0;
  }

  async logAction(entry: { roomId: string; actorId: string; action: string; targetUserId?: string | null; detail?: string | null }): Promise<void> {
    await this.log.create({
      room_id: entry.roomId, actor_id: entry.actorId, action: entry.action, target_user_id: entry.targetUserId ?? null,
      detail: entry.detail?.slice(0, 500) ?? null, created_at: new Date(),
    });
  }

  async listLog(options: { roomId?: string; limit?: number } = {}): Promise<ModerationLogEntry[]> {
    const rows = await this.log.findAll({ where: options.roomId ? { room_id: options.roomId } : {}, order: [['id', 'DESC']], limit: Math.min(options.limit ?? 100, 500) });
    return rows.map((row) => {
      const r = row.get();
      return {
        id: String(r.id), room_id: String(r.room_id), actor_id: String(r.actor_id), action: r.action,
        target_user_id: r.target_user_id === null ? null : String(r.target_user_id), detail: r.detail, at: new Date(r.created_at).toISOString(),
      };
    });
  }

  /** The room's anonymous-reader setting: true/false, or null when the room follows ONAIR_CHAT_ANONYMOUS. */
  async anonymousSetting(roomId: string): Promise<boolean | null> {
    const row = await this.settings.findByPk(roomId);
    const value = row?.get().anonymous;
    return value === null || value === undefined ? null : Boolean(value);
  }

  async setAnonymous(roomId: string, anonymous: boolean | null): Promise<void> {
    await this.settings.upsert({ room_id: roomId, anonymous, updated_at: new Date() }, { fields: ['room_id', 'anonymous', 'updated_at'] });
  }

  /** The room's own rules (shown on entering its chat), null when it has none. */
  async rules(roomId: string): Promise<string | null> {
    const row = await this.settings.findByPk(roomId);
    return row?.get().rules ?? null;
  }

  async setRules(roomId: string, rules: string | null): Promise<void> {
    await this.settings.upsert({ room_id: roomId, rules, updated_at: new Date() }, { fields: ['room_id', 'rules', 'updated_at'] });
  }
}
