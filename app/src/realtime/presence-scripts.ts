/**
 * Presence's Valkey scripts: a room's members (lua/presence-join.lua, presence-leave.lua,
 * presence-refresh.lua, presence-list.lua, each atomic on the keys of ONE room) and the instance
 * registry (instance-beat.lua, stale-instances.lua, forget-stale-instance.lua, on one global key).
 * Times come from the Valkey clock, so every instance compares expiries against the same clock.
 * Arguments are named: each command takes one object.
 */
import path from "node:path";
import { defineScript, type CommandParser } from "redis";
import { loadLuaScript } from "../valkey/lua";
import type { RoomLogKeys } from "./room-log-scripts";

/** This owner's .lua files: beside this module (src/…/lua from source, dist/…/lua in the image). */
export const LUA_DIR = path.join(__dirname, "lua");

const numberReply = (reply: unknown): number => Number(reply);

/** A room's presence keys. */
export interface PresenceKeys {
  /** Sorted set: member = connection id, score = expiry (ms, Valkey clock). */
  presence: string;
  /** Hash: connection id → "<instance>|<joinedAtMs>|<user JSON>". */
  members: string;
  /** The room's channel (owned by the room log), where join and leave frames are published. */
  channel: string;
}

/** Member TTL and the TTL of the room's presence keys. */
export interface PresenceTtl {
  memberMs: number;
  keyMs: number;
}

/** What a joining connection learns, atomically with its join event. */
export interface JoinReply {
  /** The room's last seq when the join event was published. */
  seq: number;
  /** Whether every message after `since` is (still) in history. False when no `since` was given. */
  recoverable: boolean;
  /** The presence join frame the script published (built in Lua only: lua/lib/presence.lua). */
  joinFrame: string;
  /** The first batch of frames after `since` (when recoverable), oldest first. */
  entries: string[];
}

export interface PresenceJoinArgs {
  keys: PresenceKeys;
  /** The room log's seq and history are read in the same script, atomically with the join event. */
  log: RoomLogKeys;
  member: { connectionId: string; instanceId: string; userJson: string };
  ttl: PresenceTtl;
  /** `since`: the last seq the client saw (-1: none); `batch`: most frames returned; `seqFloor`: the realtime epoch's base (0: none). */
  replay: { since: number; batch: number; seqFloor?: number };
}

/**
 * Adds the connection to the room's presence (pruning expired members first), announces the
 * join, and returns the room's seq plus the first replay batch after `since`.
 */
const PRESENCE_JOIN = defineScript({
  NUMBER_OF_KEYS: 4,
  SCRIPT: loadLuaScript("presence-join", LUA_DIR),
  parseCommand(parser: CommandParser, { keys, log, member, ttl, replay }: PresenceJoinArgs) {
    parser.pushKey(keys.presence);
    parser.pushKey(keys.members);
    parser.pushKey(log.seq);
    parser.pushKey(log.history);
    parser.push(
      keys.channel,
      member.connectionId,
      member.instanceId,
      member.userJson,
      String(ttl.memberMs),
      String(ttl.keyMs),
      String(replay.since),
      String(replay.batch),
      String(replay.seqFloor ?? 0),
    );
  },
  transformReply(reply: unknown): JoinReply {
    const list = reply as Array<number | string>;
    return { seq: Number(list[0]), recoverable: Number(list[1]) === 1, joinFrame: String(list[2]), entries: list.slice(3).map(String) };
  },
});

export interface PresenceLeaveArgs {
  keys: PresenceKeys;
  connectionId: string;
}

/** Removes one connection from the room's presence; announces the leave only if it was there. Resolves with 1 or 0. */
const PRESENCE_LEAVE = defineScript({
  NUMBER_OF_KEYS: 2,
  SCRIPT: loadLuaScript("presence-leave", LUA_DIR),
  parseCommand(parser: CommandParser, { keys, connectionId }: PresenceLeaveArgs) {
    parser.pushKey(keys.presence);
    parser.pushKey(keys.members);
    parser.push(keys.channel, connectionId);
  },
  transformReply: numberReply,
});

export interface PresenceRefreshArgs {
  keys: PresenceKeys;
  instanceId: string;
  ttl: PresenceTtl;
  /** This instance's members of the room. */
  members: ReadonlyArray<{ connectionId: string; userJson: string }>;
}

/**
 * Heartbeat for this instance's members of one room: extends their expiry; re-adds (and
 * announces) any that a survivor purged while this instance was unreachable; then prunes
 * expired members of other instances. Resolves with how many members were re-added.
 */
const PRESENCE_REFRESH = defineScript({
  NUMBER_OF_KEYS: 2,
  SCRIPT: loadLuaScript("presence-refresh", LUA_DIR),
  parseCommand(parser: CommandParser, { keys, instanceId, ttl, members }: PresenceRefreshArgs) {
    parser.pushKey(keys.presence);
    parser.pushKey(keys.members);
    parser.push(keys.channel, String(ttl.memberMs), String(ttl.keyMs), instanceId);
    for (const member of members) parser.push(member.connectionId, member.userJson);
  },
  transformReply: numberReply,
});

/** One present connection, as stored. */
export interface PresenceEntry {
  connectionId: string;
  instance: string;
  joinedAt: number;
  userJson: string;
}

/** Prunes expired members (announcing their leave), then lists the rest. */
const PRESENCE_LIST = defineScript({
  NUMBER_OF_KEYS: 2,
  SCRIPT: loadLuaScript("presence-list", LUA_DIR),
  parseCommand(parser: CommandParser, { keys }: { keys: PresenceKeys }) {
    parser.pushKey(keys.presence);
    parser.pushKey(keys.members);
    parser.push(keys.channel);
  },
  transformReply(reply: unknown): PresenceEntry[] {
    const flat = (reply as unknown[]).map(String);
    const entries: PresenceEntry[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) {
      const info = flat[i + 1] as string;
      const first = info.indexOf("|");
      const second = info.indexOf("|", first + 1);
      entries.push({
        connectionId: flat[i] as string,
        instance: info.slice(0, first),
        joinedAt: Number(info.slice(first + 1, second)),
        userJson: info.slice(second + 1),
      });
    }
    return entries;
  },
});

export interface InstanceBeatArgs {
  instancesKey: string;
  instanceId: string;
}

/** Records this instance's heartbeat in the instance registry; resolves with 1 when it was not registered (first beat, or purged). */
const INSTANCE_BEAT = defineScript({
  NUMBER_OF_KEYS: 1,
  SCRIPT: loadLuaScript("instance-beat", LUA_DIR),
  parseCommand(parser: CommandParser, { instancesKey, instanceId }: InstanceBeatArgs) {
    parser.pushKey(instancesKey);
    parser.push(instanceId);
  },
  transformReply: numberReply,
});

export interface StaleInstancesArgs {
  instancesKey: string;
  /** Instances whose last heartbeat is older than this. */
  ttlMs: number;
}

/** Instances whose last heartbeat is older than the TTL (at most 16 per call). */
const STALE_INSTANCES = defineScript({
  NUMBER_OF_KEYS: 1,
  SCRIPT: loadLuaScript("stale-instances", LUA_DIR),
  parseCommand(parser: CommandParser, { instancesKey, ttlMs }: StaleInstancesArgs) {
    parser.pushKey(instancesKey);
    parser.push(String(ttlMs));
  },
  transformReply: (reply: unknown) => (reply as unknown[]).map(String),
});

export interface ForgetStaleInstanceArgs {
  instancesKey: string;
  instanceId: string;
  ttlMs: number;
}

/** Removes an instance from the registry only if it is still stale (it may have come back). Resolves with 1 or 0. */
const FORGET_STALE_INSTANCE = defineScript({
  NUMBER_OF_KEYS: 1,
  SCRIPT: loadLuaScript("forget-stale-instance", LUA_DIR),
  parseCommand(parser: CommandParser, { instancesKey, instanceId, ttlMs }: ForgetStaleInstanceArgs) {
    parser.pushKey(instancesKey);
    parser.push(instanceId, String(ttlMs));
  },
  transformReply: numberReply,
});

export const PRESENCE_SCRIPTS = {
  presenceJoin: PRESENCE_JOIN,
  presenceLeave: PRESENCE_LEAVE,
  presenceRefresh: PRESENCE_REFRESH,
  presenceList: PRESENCE_LIST,
  instanceBeat: INSTANCE_BEAT,
  staleInstances: STALE_INSTANCES,
  forgetStaleInstance: FORGET_STALE_INSTANCE,
};
