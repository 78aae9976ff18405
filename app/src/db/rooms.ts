/**
 * Rooms: created on the primary, read from replicas. Because replicas lag, "not found" on a
 * replica is confirmed on the primary (read-your-writes for a room created a moment ago); while
 * there is no primary that confirmation is impossible and the read answers 503, never a false 404.
 * Room existence is cached in-process (rooms are never deleted), so joins and token requests
 * for a known room cost no database round trip. Absence is cached too, for ROOM_MISS_CACHE_SECONDS:
 * a repeated lookup of an id that does not exist costs no replica read and no primary confirmation.
 * (Room ids are random and made by the server: nobody asks for an id before it exists, save by guessing,
 * so the cached absence of an id that is then created is not a case clients meet.)
 */
import { HttpError } from "../errors";
import { newRoomId } from "../ids";
import type { Database } from "./database";

export interface Room {
  id: string;
  name: string;
  createdAt: string;
}

interface RoomRow {
  id: string;
  name: string;
  created_at: Date;
}

const KNOWN_ROOMS_MAX = 50_000;
const MISSING_ROOMS_MAX = 50_000;

function notFound(id: string): HttpError {
  return new HttpError(404, "room_not_found", `Room ${id} does not exist`);
}

function toRoom(row: RoomRow): Room {
  return { id: row.id, name: row.name, createdAt: row.created_at.toISOString() };
}

export class RoomRepository {
  private readonly known = new Map<string, Room>();
  /** Ids found missing on the primary, with when that answer expires (ms). */
  private readonly missing = new Map<string, number>();

  constructor(
    private readonly db: Database,
    /** ROOM_MISS_CACHE_SECONDS in ms: how long "does not exist" is believed without asking again (0: never cached). */
    private readonly missCacheMs = 0,
    private readonly now: () => number = Date.now,
  ) {}

  /** Whether this instance knows the room exists (a lookup costs nothing then). */
  isKnown(id: string): boolean {
    return this.known.has(id);
  }

  /** A new room, owned by its creator (one statement: the room never exists without its owner's membership). */
  async create(name: string, createdBy: string): Promise<Room> {
    const [row] = await this.db.write<RoomRow>(
      `WITH room AS (INSERT INTO rooms (id, name, created_by) VALUES ($1, $2, $3) RETURNING id, name, created_at),
            owner AS (INSERT INTO room_members (room_id, user_id, role) SELECT id, $3, 'owner' FROM room)
       SELECT id, name, created_at FROM room`,
      [newRoomId(), name, createdBy],
    );
    const room = toRoom(row as RoomRow);
    this.remember(room);
    return room;
  }

  /** The room, or a 404 `room_not_found`. */
  async get(id: string): Promise<Room> {
    const cached = this.known.get(id);
    if (cached !== undefined) return cached;
    const missingUntil = this.missing.get(id);
    if (missingUntil !== undefined) {
      if (missingUntil > this.now()) throw notFound(id);
      this.missing.delete(id);
    }
    const select = "SELECT id, name, created_at FROM rooms WHERE id = $1";
    let [row] = await this.db.read<RoomRow>(select, [id]);
    if (row === undefined) {
      // Possibly created a moment ago and not yet replicated: ask the primary (a standby region's own node). Without
      // it the answer is unknown, so it is a 503 database_unavailable (from readLatest()), not a 404.
      [row] = await this.db.readLatest<RoomRow>(select, [id]);
    }
    if (row === undefined) {
      this.rememberMissing(id);
      throw notFound(id);
    }
    const room = toRoom(row);
    this.remember(room);
    return room;
  }

  private rememberMissing(id: string): void {
    if (this.missCacheMs <= 0) return;
    if (this.missing.size >= MISSING_ROOMS_MAX) {
      const oldest = this.missing.keys().next().value;
      if (oldest !== undefined) this.missing.delete(oldest);
    }
    this.missing.set(id, this.now() + this.missCacheMs);
  }

  private remember(room: Room): void {
    this.missing.delete(room.id);
    if (this.known.size >= KNOWN_ROOMS_MAX) {
      const oldest = this.known.keys().next().value;
      if (oldest !== undefined) this.known.delete(oldest);
    }
    this.known.set(room.id, room);
  }
}
