/**
 * Who may use a room, and as what (docs/service-contract.md, "Access"): one row per member in PostgreSQL
 * (`room_members`), the creator as `owner`. Reads go to replicas; "not a member" on a replica is confirmed on the
 * primary (a member added a moment ago may not be replicated yet), exactly as rooms.ts does for rooms.
 *
 * A member's role is cached in-process for MEMBERSHIP_CACHE_MS: a WebSocket join or a token request of a known
 * member costs no database round trip, and the realtime path (messages) never asks at all (the role is checked
 * once, at the join). Changes made on this instance apply here at once; another instance sees a removal or a new
 * role within MEMBERSHIP_CACHE_MS. "Not a member" is never cached, so a member just added can join anywhere.
 */
import { HttpError } from "../errors";
import type { Database } from "./database";

export const ROOM_ROLES = ["owner", "member", "viewer"] as const;
export type RoomRole = (typeof ROOM_ROLES)[number];

/** How long an instance trusts its copy of a member's role. */
export const MEMBERSHIP_CACHE_MS = 10_000;
/** Most members a room may have (the owner included). */
export const MAX_MEMBERS_PER_ROOM = 1000;
const CACHE_MAX_ENTRIES = 100_000;

export interface RoomMember {
  userId: string;
  role: RoomRole;
  addedAt: string;
}

interface MemberRow {
  user_id: string;
  role: RoomRole;
  added_at: Date;
}

/** The refusal for anyone who is not a member, whether or not the room exists (both look alike to them). */
export function accessDenied(roomId: string): HttpError {
  return new HttpError(403, "room_access_denied", `You are not a member of room ${roomId}, or it does not exist`);
}

export class RoomMembers {
  private readonly cache = new Map<string, { role: RoomRole; until: number }>();

  constructor(
    private readonly db: Database,
    private readonly now: () => number = Date.now,
  ) {}

  /** The user's role in the room, or undefined when they are not a member (or the room does not exist). */
  async roleOf(roomId: string, userId: string): Promise<RoomRole | undefined> {
    const key = cacheKey(roomId, userId);
    const cached = this.cache.get(key);
    if (cached !== undefined && cached.until > this.now()) return cached.role;
    const select = "SELECT role FROM room_members WHERE room_id = $1 AND user_id = $2";
    let [row] = await this.db.read<{ role: RoomRole }>(select, [roomId, userId]);
    // Possibly added a moment ago and not yet replicated: ask the primary (a standby region's own node; 503 without
    // one, never a false 403).
    if (row === undefined) [row] = await this.db.readLatest<{ role: RoomRole }>(select, [roomId, userId]);
    if (row === undefined) {
      this.cache.delete(key);
      return undefined;
    }
    this.remember(key, row.role);
    return row.role;
  }

  /** Whether this instance holds an unexpired copy of the user's role in the room (a lookup costs no database read then). */
  isCached(roomId: string, userId: string): boolean {
    const cached = this.cache.get(cacheKey(roomId, userId));
    return cached !== undefined && cached.until > this.now();
  }

  /** The user's role; 403 `room_access_denied` when they are not a member (or the room does not exist). */
  async require(roomId: string, userId: string): Promise<RoomRole> {
    const role = await this.roleOf(roomId, userId);
    if (role === undefined) throw accessDenied(roomId);
    return role;
  }

  /** The room's members, owner first, then by the time they were added. */
  async list(roomId: string): Promise<RoomMember[]> {
    const rows = await this.db.read<MemberRow>(
      "SELECT user_id, role, added_at FROM room_members WHERE room_id = $1 ORDER BY role = 'owner' DESC, added_at, user_id LIMIT $2",
      [roomId, MAX_MEMBERS_PER_ROOM],
    );
    return rows.map((row) => ({ userId: row.user_id, role: row.role, addedAt: row.added_at.toISOString() }));
  }

  /**
   * Adds a member or changes a member's role (never the owner's: 409 `cannot_change_owner`); 409 `room_full` at
   * MAX_MEMBERS_PER_ROOM. One statement, so two concurrent calls cannot both pass the count.
   */
  async put(roomId: string, userId: string, role: Exclude<RoomRole, "owner">): Promise<RoomMember> {
    const rows = await this.db.write<MemberRow & { owner: boolean }>(
      `WITH current AS (SELECT role FROM room_members WHERE room_id = $1 AND user_id = $2),
            members AS (SELECT count(*) AS n FROM room_members WHERE room_id = $1),
            upserted AS (
              INSERT INTO room_members (room_id, user_id, role)
              SELECT $1, $2, $3
              WHERE NOT EXISTS (SELECT 1 FROM current WHERE role = 'owner')
                AND (EXISTS (SELECT 1 FROM current) OR (SELECT n FROM members) < $4)
              ON CONFLICT (room_id, user_id) DO UPDATE SET role = EXCLUDED.role
              RETURNING user_id, role, added_at
            )
       SELECT user_id, role, added_at, false AS owner FROM upserted
       UNION ALL SELECT $2, role, now(), true FROM current WHERE role = 'owner'`,
      [roomId, userId, role, MAX_MEMBERS_PER_ROOM],
    );
    const [row] = rows;
    if (row?.owner === true) throw new HttpError(409, "cannot_change_owner", `${userId} owns room ${roomId}: the owner's role is fixed`);
    if (row === undefined) {
      throw new HttpError(409, "room_full", `Room ${roomId} has ${MAX_MEMBERS_PER_ROOM} members, the most a room may have`);
    }
    this.remember(cacheKey(roomId, userId), row.role);
    return { userId: row.user_id, role: row.role, addedAt: row.added_at.toISOString() };
  }

  /** Removes a member (never the owner: 409 `cannot_change_owner`); false when they were not a member. */
  async remove(roomId: string, userId: string): Promise<boolean> {
    const rows = await this.db.write<{ role: RoomRole; removed: boolean }>(
      `WITH current AS (SELECT role FROM room_members WHERE room_id = $1 AND user_id = $2),
            removed AS (DELETE FROM room_members WHERE room_id = $1 AND user_id = $2 AND role <> 'owner' RETURNING role)
       SELECT role, true AS removed FROM removed UNION ALL SELECT role, false FROM current WHERE role = 'owner'`,
      [roomId, userId],
    );
    const [row] = rows;
    if (row !== undefined && !row.removed) {
      throw new HttpError(409, "cannot_change_owner", `${userId} owns room ${roomId}: the owner cannot be removed`);
    }
    this.cache.delete(cacheKey(roomId, userId));
    return row !== undefined;
  }

  /** Records a role this instance just wrote (the creator's ownership, a member added here). */
  private remember(key: string, role: RoomRole): void {
    if (this.cache.size >= CACHE_MAX_ENTRIES) {
      const oldest = this.cache.keys().next().value;
      if (oldest !== undefined) this.cache.delete(oldest);
    }
    this.cache.delete(key);
    this.cache.set(key, { role, until: this.now() + MEMBERSHIP_CACHE_MS });
  }

  /** Records that `userId` owns the room they just created. */
  rememberOwner(roomId: string, userId: string): void {
    this.remember(cacheKey(roomId, userId), "owner");
  }
}

/** Room ids are `A-Z a-z 0-9 _ -`: JSON-quoting both fields keeps any user id from passing for another pair. */
function cacheKey(roomId: string, userId: string): string {
  return JSON.stringify([roomId, userId]);
}
