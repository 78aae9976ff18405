/**
 * The room log's Valkey scripts (lua/append-messages.lua, history-after.lua, seq-floor.lua), each
 * atomic on the keys of ONE room, so they also run on a clustered Valkey. Arguments are named: each
 * command takes one object.
 *
 * Frames are assembled in Lua by concatenation from pieces serialised once in JavaScript; the
 * published bytes are exactly what every socket receives.
 */
import path from "node:path";
import { defineScript, type CommandParser } from "redis";
import { loadLuaScript } from "../valkey/lua";

/** This owner's .lua files: beside this module (src/…/lua from source, dist/…/lua in the image). */
export const LUA_DIR = path.join(__dirname, "lua");

/** A room's log keys. */
export interface RoomLogKeys {
  /** INCR counter: the room's last message sequence number. */
  seq: string;
  /** Sorted set: score = seq, member = the serialised message frame. Bounded by length, bytes and age. */
  history: string;
  /** String: the summed length of the history's frames (kept by the append script, for the byte bound). */
  historyBytes: string;
  /** Pub/Sub channel carrying the room's message frames, and presence frames (realtime/presence.ts publishes there). */
  channel: string;
}

/** Limits applied on every append. */
export interface HistoryLimits {
  maxLength: number;
  /** HISTORY_MAX_ROOM_BYTES: most bytes of frames held (oldest trimmed first; the newest is always kept). */
  maxBytes: number;
  maxAgeMs: number;
  /** TTL of the sequence counter, refreshed on every append (much longer than the history's). */
  seqTtlMs: number;
}

/** Most messages one append call carries (each is two ZADD arguments; Lua's stack allows ~8000). */
export const MAX_APPEND_BATCH = 500;

export interface AppendMessagesArgs {
  keys: RoomLogKeys;
  /** `{"type":"message","room":"<id>","seq":` */
  framePrefix: string;
  /** One frame tail (`"from":…,"data":…}`) per message, 1 to MAX_APPEND_BATCH. */
  tails: readonly string[];
  limits: HistoryLimits;
  /** The counter is raised to at least this before the seqs are taken (the realtime epoch's base; 0: none). */
  seqFloor?: number;
}

/**
 * Appends a batch of messages of ONE room to its history with consecutive seqs and publishes them
 * as one Valkey message, atomically; resolves with the first message's seq. One call per room and
 * flush costs Valkey one script run instead of one per message, and the room's subscribers one
 * published message.
 */
const APPEND_MESSAGES = defineScript({
  NUMBER_OF_KEYS: 3,
  SCRIPT: loadLuaScript("append-messages", LUA_DIR),
  parseCommand(parser: CommandParser, { keys, framePrefix, tails, limits, seqFloor }: AppendMessagesArgs) {
    if (tails.length === 0 || tails.length > MAX_APPEND_BATCH) {
      throw new RangeError(`appendMessages takes 1 to ${MAX_APPEND_BATCH} messages; got ${tails.length}`);
    }
    parser.pushKey(keys.seq);
    parser.pushKey(keys.history);
    parser.pushKey(keys.historyBytes);
    parser.push(
      keys.channel,
      framePrefix,
      String(limits.maxLength),
      String(limits.maxAgeMs),
      String(limits.seqTtlMs),
      String(seqFloor ?? 0),
      String(limits.maxBytes),
      ...tails,
    );
  },
  transformReply: (reply: unknown): number => Number(reply),
});

/** A page of history after a seq, with the oldest seq still held (-1 when empty). */
export interface HistoryPage {
  oldest: number;
  entries: string[];
}

export interface HistoryAfterArgs {
  keys: RoomLogKeys;
  /** Entries with a seq greater than this. */
  after: number;
  /** At most this many entries. */
  limit: number;
}

/** Reads up to `limit` frames with seq > `after`, plus the oldest seq still in history. Read-only. */
const HISTORY_AFTER = defineScript({
  NUMBER_OF_KEYS: 1,
  SCRIPT: loadLuaScript("history-after", LUA_DIR),
  parseCommand(parser: CommandParser, { keys, after, limit }: HistoryAfterArgs) {
    parser.pushKey(keys.history);
    parser.push(String(after), String(limit));
  },
  transformReply(reply: unknown): HistoryPage {
    const list = reply as Array<number | string>;
    return { oldest: Number(list[0]), entries: list.slice(1).map(String) };
  },
});

export interface SeqFloorArgs {
  keys: RoomLogKeys;
  /** The counter is raised to at least this. */
  floor: number;
  /** TTL (ms) set when the counter is raised. */
  ttlMs: number;
}

/**
 * Raises the room's seq counter to at least `floor` (after a failover the new primary may be behind
 * what clients already saw); resolves with the counter after the call.
 */
const SEQ_FLOOR = defineScript({
  NUMBER_OF_KEYS: 1,
  SCRIPT: loadLuaScript("seq-floor", LUA_DIR),
  parseCommand(parser: CommandParser, { keys, floor, ttlMs }: SeqFloorArgs) {
    parser.pushKey(keys.seq);
    parser.push(String(floor), String(ttlMs));
  },
  transformReply: (reply: unknown): number => Number(reply),
});

export const ROOM_LOG_SCRIPTS = {
  appendMessages: APPEND_MESSAGES,
  historyAfter: HISTORY_AFTER,
  seqFloor: SEQ_FLOOR,
};
