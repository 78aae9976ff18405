/**
 * Per-user bound on lookups of rooms that do not exist (GET /rooms/:id, GET /rooms/:id/participants):
 * each miss can cost a replica read and the primary's confirmation (db/rooms.ts), so a user probing
 * ids could keep the primary busy. At most ROOM_MISSES_PER_WINDOW misses per RATE_LIMIT_WINDOW_SECONDS
 * per user on this instance (a fixed window, in memory: the check itself must cost no round trip);
 * past it, lookups of rooms this instance does not know answer 429 `rate_limited` with Retry-After,
 * before any database read. Known rooms are never limited. Users are tracked in a bounded map.
 */
import type { ServerResponse } from "node:http";
import { HttpError } from "../errors";

/** Most users tracked at once; the oldest window is dropped first. */
const TRACKED_USERS_MAX = 50_000;

export interface RoomMissLimitSettings {
  windowSeconds: number;
  missesPerWindow: number;
}

export class RoomMissLimit {
  private readonly windows = new Map<string, { startedAt: number; misses: number }>();

  constructor(
    private readonly settings: RoomMissLimitSettings,
    private readonly now: () => number = Date.now,
  ) {}

  /** Throws 429 (Retry-After set on `res`) when `userId` has used up its misses in the current window. */
  check(userId: string, res: ServerResponse): void {
    const window = this.current(userId);
    if (window === undefined || window.misses < this.settings.missesPerWindow) return;
    const retryAfter = Math.max(1, Math.ceil((window.startedAt + this.settings.windowSeconds * 1000 - this.now()) / 1000));
    res.setHeader("retry-after", String(retryAfter));
    throw new HttpError(
      429,
      "rate_limited",
      `Too many lookups of rooms that do not exist: at most ${this.settings.missesPerWindow} per ` +
        `${this.settings.windowSeconds} s per user (ROOM_MISSES_PER_WINDOW); retry in ${retryAfter} s`,
    );
  }

  /** Counts one lookup of a room that does not exist. */
  recordMiss(userId: string): void {
    let window = this.current(userId);
    if (window === undefined) {
      if (this.windows.size >= TRACKED_USERS_MAX) {
        const oldest = this.windows.keys().next().value;
        if (oldest !== undefined) this.windows.delete(oldest);
      }
      window = { startedAt: this.now(), misses: 0 };
      this.windows.set(userId, window);
    }
    window.misses++;
  }

  private current(userId: string): { startedAt: number; misses: number } | undefined {
    const window = this.windows.get(userId);
    if (window === undefined) return undefined;
    if (this.now() - window.startedAt >= this.settings.windowSeconds * 1000) {
      this.windows.delete(userId);
      return undefined;
    }
    return window;
  }
}
