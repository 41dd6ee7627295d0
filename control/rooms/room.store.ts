import { QueryTypes } from 'sequelize';
import type { Database } from '../../core/database/database.js';
import { roomsTable, type RoomModel } from '../../core/database/models/room.model.js';
import { idString } from '../../core/database/models/define.js';
import { ConflictError, DuplicateKeyError } from '../../core/errors.js';
import type { Room } from './room.js';

function toRoom(m: RoomModel): Room {
  const r = m.get();
  return {
    id: idString(r.id),
    ownerId: idString(r.owner_id),
    title: r.title,
    coverUrl: r.cover_url,
    streamKey: r.stream_key,
    streamKeyRotatedAt: r.stream_key_rotated_at,
    streamKeyRevoked: Boolean(r.stream_key_revoked),
    isLive: Boolean(r.is_live),
    viewersCount: Number(r.viewers_count),
    recordEnabled: Boolean(r.record_enabled),
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

const isId = (id: string) => /^\d{1,19}$/.test(id);

/** The rooms table, speaking domain types. */
export class RoomStore {
  private readonly table;
  constructor(private readonly db: Database) {
    this.table = roomsTable(db.sequelize);
  }

  /**
   * A show's like and share totals (live_session_counters, written by discovery's SocialService);
   * 0 and 0 before the first like or share. One indexed read: for the single-room view only.
   */
  async sessionCounters(sessionId: string): Promise<{ likes: number; shares: number }> {
    const [row] = await this.db.sequelize.query<{ likes: string | number; shares: string | number }>(
      'SELECT likes, shares FROM live_session_counters WHERE session_id = ?', { replacements: [sessionId], type: QueryTypes.SELECT },
    );
    return { likes: Number(row?.likes ?? 0), shares: Number(row?.shares ?? 0) };
  }

  async create(input: { ownerId: string; title: string; coverUrl: string | null; streamKey: string; recordEnabled: boolean }): Promise<Room> {
    try {
      const m = await this.table.create({
        owner_id: input.ownerId, title: input.title, cover_url: input.coverUrl, stream_key: input.streamKey,
        record_enabled: input.recordEnabled,
      });
      return toRoom(m);
    } catch (err) {
      if (err instanceof DuplicateKeyError) throw new ConflictError('stream key collision', { cause: err });
      throw err;
    }
  }

  async findById(id: string): Promise<Room | null> {
    if (!isId(id)) return null;
    const m = await this.table.findByPk(id);
    return m ? toRoom(m) : null;
  }

  async findByStreamKey(streamKey: string): Promise<Room | null> {
    const m = await this.table.findOne({ where: { stream_key: streamKey } });
    return m ? toRoom(m) : null;
  }

  async findByIds(ids: string[]): Promise<Room[]> {
    const valid = ids.filter(isId);
    if (valid.length === 0) return [];
    return (await this.table.findAll({ where: { id: valid } })).map(toRoom);
  }

  async listByOwner(ownerId: string): Promise<Room[]> {
    return (await this.table.findAll({ where: { owner_id: ownerId }, order: [['id', 'ASC']], limit: 100 })).map(toRoom);
  }

  async listLive(limit: number): Promise<Room[]> {
    return (await this.table.findAll({ where: { is_live: true }, order: [['updated_at', 'DESC']], limit })).map(toRoom);
  }

  async update(id: string, patch: Partial<Pick<Room, 'title' | 'coverUrl' | 'recordEnabled' | 'isLive' | 'viewersCount'>>): Promise<void> {
    const values: Record<string, unknown> = {};
    if (patch.title !== undefined) values.title = patch.title;
    if (patch.coverUrl !== undefined) values.cover_url = patch.coverUrl;
    if (patch.recordEnabled !== undefined) values.record_enabled = patch.recordEnabled;
    if (patch.isLive !== undefined) values.is_live = patch.isLive;
    if (patch.viewersCount !== undefined) values.viewers_count = patch.viewersCount;
    if (Object.keys(values).length) await this.table.update(values, { where: { id } });
  }

  /**
   * A new key (rotation or an operator's restore): the old key stops working at once. Only a
   * restore lifts a revocation; a rotation keeps it, even one racing an operator's revoke.
   */
  async replaceStreamKey(id: string, streamKey: string, at: Date, options: { liftRevocation: boolean }): Promise<void> {
    await this.table.update({
      stream_key: streamKey, stream_key_rotated_at: at, ...(options.liftRevocation ? { stream_key_revoked: false } : {}),
    }, { where: { id } });
  }

  async revokeStreamKey(id: string): Promise<boolean> {
    const [n] = await this.table.update({ stream_key_revoked: true }, { where: { id } });
    return n > 0;
  }
}
