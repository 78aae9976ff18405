/**
 * Lua scripts: each one is atomic and touches the keys of ONE room (or one global key), so it also
 * runs on a clustered Valkey. Times come from the Valkey clock (TIME), so every instance compares
 * presence expiries and history ages against the same clock.
 *
 * Frames are assembled here by concatenation from pieces serialised once in JavaScript; the
 * published bytes are exactly what every socket receives.
 */
import { defineScript, type CommandParser } from "redis";
import type { RoomKeys } from "./keys";

/** Helpers shared by the presence scripts. */
const LIB = `
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function join_frame(user, id)
  return '{"type":"presence","event":"join","user":' .. user .. ',"connectionId":"' .. id .. '"}'
end
local function leave_frame(info, id)
  local user = string.match(info, '^[^|]*|%d+|(.*)$') or 'null'
  return '{"type":"presence","event":"leave","user":' .. user .. ',"connectionId":"' .. id .. '"}'
end
-- Removes members whose expiry has passed (at most 1000 per call) and announces each one's leave.
local function prune(presence, members, channel, now)
  local expired = redis.call('ZRANGEBYSCORE', presence, '-inf', now, 'LIMIT', 0, 1000)
  for _, id in ipairs(expired) do
    local info = redis.call('HGET', members, id)
    redis.call('ZREM', presence, id)
    redis.call('HDEL', members, id)
    if info then redis.call('PUBLISH', channel, leave_frame(info, id)) end
  end
  return #expired
end
`;

const numberReply = (reply: unknown): number => Number(reply);

/** Limits applied on every append. */
export interface HistoryLimits {
  maxLength: number;
  maxAgeMs: number;
  /** TTL of the sequence counter, refreshed on every append (much longer than the history's). */
  seqTtlMs: number;
}

/** Most messages one append call carries (each is two ZADD arguments; Lua's stack allows ~8000). */
export const MAX_APPEND_BATCH = 500;

/**
 * Appends a batch of messages of ONE room to its history with consecutive seqs and publishes them
 * as one Valkey message (the frames joined by "\n", which JSON never leaves unescaped), atomically;
 * returns the first message's seq. One call per room and flush costs Valkey one script run instead
 * of one per message, and the room's subscribers one published message.
 * ARGV: channel, frame prefix (`{"type":"message","room":"<id>","seq":`), max length, max age (ms),
 * seq counter TTL (ms), then one frame tail (`"from":…,"data":…}`) per message.
 */
export const APPEND_MESSAGES = defineScript({
  NUMBER_OF_KEYS: 2,
  SCRIPT: `${LIB}
local count = #ARGV - 5
local first = redis.call('INCRBY', KEYS[1], count) - count + 1
local now = now_ms()
local gap = ',"ts":' .. now .. ','
local frames = {}
local scored = {}
for i = 1, count do
  local seq = first + i - 1
  local frame = ARGV[2] .. seq .. gap .. ARGV[5 + i]
  frames[i] = frame
  scored[2 * i - 1] = seq
  scored[2 * i] = frame
end
redis.call('ZADD', KEYS[2], unpack(scored))
local max_length = tonumber(ARGV[3])
local size = redis.call('ZCARD', KEYS[2])
if size > max_length then redis.call('ZREMRANGEBYRANK', KEYS[2], 0, size - max_length - 1) end
local cutoff = now - tonumber(ARGV[4])
for _ = 1, 8 do
  local head = redis.call('ZRANGE', KEYS[2], 0, 0)
  if #head == 0 then break end
  local ts = tonumber(string.match(head[1], '"ts":(%d+)'))
  if ts == nil or ts >= cutoff then break end
  redis.call('ZREMRANGEBYRANK', KEYS[2], 0, 0)
end
redis.call('PEXPIRE', KEYS[2], ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
redis.call('PUBLISH', ARGV[1], table.concat(frames, '\\n'))
return first
`,
  parseCommand(parser: CommandParser, keys: RoomKeys, prefix: string, tails: readonly string[], limits: HistoryLimits) {
    if (tails.length === 0 || tails.length > MAX_APPEND_BATCH) {
      throw new RangeError(`appendMessages takes 1 to ${MAX_APPEND_BATCH} messages; got ${tails.length}`);
    }
    parser.pushKey(keys.seq);
    parser.pushKey(keys.history);
    parser.push(keys.channel, prefix, String(limits.maxLength), String(limits.maxAgeMs), String(limits.seqTtlMs), ...tails);
  },
  transformReply: numberReply,
});

/** What a joining connection learns, atomically with its join event. */
export interface JoinReply {
  /** The room's last seq when the join event was published. */
  seq: number;
  /** Whether every message after `since` is (still) in history. False when no `since` was given. */
  recoverable: boolean;
  /** The first batch of frames after `since` (when recoverable), oldest first. */
  entries: string[];
}

/**
 * Adds the connection to the room's presence (pruning expired members first), announces the
 * join, and returns the room's seq plus the first replay batch after `since` (-1: none).
 * ARGV: channel, connection id, instance id, user JSON, ttl ms, key ttl ms, since, batch size.
 */
export const PRESENCE_JOIN = defineScript({
  NUMBER_OF_KEYS: 4,
  SCRIPT: `${LIB}
local now = now_ms()
prune(KEYS[1], KEYS[2], ARGV[1], now)
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[5]), ARGV[2])
redis.call('HSET', KEYS[2], ARGV[2], ARGV[3] .. '|' .. now .. '|' .. ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[6])
redis.call('PEXPIRE', KEYS[2], ARGV[6])
redis.call('PUBLISH', ARGV[1], join_frame(ARGV[4], ARGV[2]))
local seq = tonumber(redis.call('GET', KEYS[3]) or '0')
local since = tonumber(ARGV[7])
if since < 0 or since > seq then return {seq, 0} end
if since == seq then return {seq, 1} end
local head = redis.call('ZRANGE', KEYS[4], 0, 0, 'WITHSCORES')
if #head == 0 or tonumber(head[2]) > since + 1 then return {seq, 0} end
local entries = redis.call('ZRANGE', KEYS[4], '(' .. ARGV[7], seq, 'BYSCORE', 'LIMIT', 0, tonumber(ARGV[8]))
local reply = {seq, 1}
for i, entry in ipairs(entries) do reply[i + 2] = entry end
return reply
`,
  parseCommand(
    parser: CommandParser,
    keys: RoomKeys,
    member: { connectionId: string; instanceId: string; userJson: string },
    ttl: { memberMs: number; keyMs: number },
    replay: { since: number; batch: number },
  ) {
    parser.pushKey(keys.presence);
    parser.pushKey(keys.members);
    parser.pushKey(keys.seq);
    parser.pushKey(keys.history);
    parser.push(
      keys.channel,
      member.connectionId,
      member.instanceId,
      member.userJson,
      String(ttl.memberMs),
      String(ttl.keyMs),
      String(replay.since),
      String(replay.batch),
    );
  },
  transformReply(reply: unknown): JoinReply {
    const list = reply as Array<number | string>;
    return { seq: Number(list[0]), recoverable: Number(list[1]) === 1, entries: list.slice(2).map(String) };
  },
});

/** Removes one connection from the room's presence; announces the leave only if it was there. Returns 1 or 0. */
export const PRESENCE_LEAVE = defineScript({
  NUMBER_OF_KEYS: 2,
  SCRIPT: `${LIB}
local removed = redis.call('ZREM', KEYS[1], ARGV[2])
local info = redis.call('HGET', KEYS[2], ARGV[2])
redis.call('HDEL', KEYS[2], ARGV[2])
if removed == 1 and info then redis.call('PUBLISH', ARGV[1], leave_frame(info, ARGV[2])) end
return removed
`,
  parseCommand(parser: CommandParser, keys: RoomKeys, connectionId: string) {
    parser.pushKey(keys.presence);
    parser.pushKey(keys.members);
    parser.push(keys.channel, connectionId);
  },
  transformReply: numberReply,
});

/**
 * Heartbeat for this instance's members of one room: extends their expiry; re-adds (and
 * announces) any that a survivor purged while this instance was unreachable; then prunes
 * expired members of other instances. Returns how many members were re-added.
 * ARGV: channel, ttl ms, key ttl ms, instance id, then (connection id, user JSON) pairs.
 */
export const PRESENCE_REFRESH = defineScript({
  NUMBER_OF_KEYS: 2,
  SCRIPT: `${LIB}
local now = now_ms()
local expiry = now + tonumber(ARGV[2])
local readded = 0
for i = 5, #ARGV, 2 do
  local id = ARGV[i]
  if redis.call('ZADD', KEYS[1], expiry, id) == 1 then
    redis.call('HSET', KEYS[2], id, ARGV[4] .. '|' .. now .. '|' .. ARGV[i + 1])
    redis.call('PUBLISH', ARGV[1], join_frame(ARGV[i + 1], id))
    readded = readded + 1
  end
end
prune(KEYS[1], KEYS[2], ARGV[1], now)
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
return readded
`,
  parseCommand(
    parser: CommandParser,
    keys: RoomKeys,
    instanceId: string,
    ttl: { memberMs: number; keyMs: number },
    members: ReadonlyArray<{ connectionId: string; userJson: string }>,
  ) {
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
export const PRESENCE_LIST = defineScript({
  NUMBER_OF_KEYS: 2,
  SCRIPT: `${LIB}
prune(KEYS[1], KEYS[2], ARGV[1], now_ms())
local ids = redis.call('ZRANGE', KEYS[1], 0, -1)
local reply = {}
for _, id in ipairs(ids) do
  local info = redis.call('HGET', KEYS[2], id)
  if info then
    reply[#reply + 1] = id
    reply[#reply + 1] = info
  end
end
return reply
`,
  parseCommand(parser: CommandParser, keys: RoomKeys) {
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

/** A page of history after a seq, with the oldest seq still held (-1 when empty). */
export interface HistoryPage {
  oldest: number;
  entries: string[];
}

/** Reads up to `limit` frames with seq > `after`, plus the oldest seq still in history. Read-only. */
export const HISTORY_AFTER = defineScript({
  NUMBER_OF_KEYS: 1,
  SCRIPT: `#!lua flags=no-writes
local head = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
local reply = {-1}
if #head > 0 then reply[1] = tonumber(head[2]) end
local entries = redis.call('ZRANGE', KEYS[1], '(' .. ARGV[1], '+inf', 'BYSCORE', 'LIMIT', 0, tonumber(ARGV[2]))
for i, entry in ipairs(entries) do reply[i + 1] = entry end
return reply
`,
  parseCommand(parser: CommandParser, keys: RoomKeys, after: number, limit: number) {
    parser.pushKey(keys.history);
    parser.push(String(after), String(limit));
  },
  transformReply(reply: unknown): HistoryPage {
    const list = reply as Array<number | string>;
    return { oldest: Number(list[0]), entries: list.slice(1).map(String) };
  },
});

/**
 * Raises the room's seq counter to at least `floor`. After a Valkey failover with asynchronous
 * replication the new primary may be behind what clients already saw; raising the counter keeps
 * seq strictly increasing for them. Returns the counter after the call.
 */
export const SEQ_FLOOR = defineScript({
  NUMBER_OF_KEYS: 1,
  SCRIPT: `
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
local floor = tonumber(ARGV[1])
if current >= floor then return current end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return floor
`,
  parseCommand(parser: CommandParser, keys: RoomKeys, floor: number, ttlMs: number) {
    parser.pushKey(keys.seq);
    parser.push(String(floor), String(ttlMs));
  },
  transformReply: numberReply,
});

/** Where a room is pinned after the call. */
export interface PinReply {
  datacenter: string;
  /** The previous pin when this call moved the room away from an unhealthy deployment. */
  movedFrom?: string;
}

/**
 * Pins the room to a LiveKit deployment: keeps the current pin while it is healthy; otherwise
 * (set-if-absent, or compare-and-set away from an unhealthy one) picks the next healthy deployment
 * after the current one in configuration order. Returns '' when none is healthy.
 * ARGV: ttl ms, n, n names in order, n health flags ('1'/'0').
 */
export const PIN_DATACENTER = defineScript({
  NUMBER_OF_KEYS: 1,
  SCRIPT: `
local current = redis.call('GET', KEYS[1])
local n = tonumber(ARGV[2])
local position, healthy = {}, {}
for i = 1, n do
  position[ARGV[2 + i]] = i
  healthy[i] = ARGV[2 + n + i] == '1'
end
if current and position[current] and healthy[position[current]] then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  return {current, ''}
end
local start = 1
if current and position[current] then start = position[current] + 1 end
for k = 0, n - 1 do
  local i = ((start - 1 + k) % n) + 1
  if healthy[i] then
    redis.call('SET', KEYS[1], ARGV[2 + i], 'PX', ARGV[1])
    return {ARGV[2 + i], current or ''}
  end
end
return {'', current or ''}
`,
  parseCommand(parser: CommandParser, keys: RoomKeys, ttlMs: number, order: ReadonlyArray<{ name: string; healthy: boolean }>) {
    parser.pushKey(keys.livekitPin);
    parser.push(String(ttlMs), String(order.length));
    for (const dc of order) parser.push(dc.name);
    for (const dc of order) parser.push(dc.healthy ? "1" : "0");
  },
  transformReply(reply: unknown): PinReply {
    const [datacenter, previous] = (reply as unknown[]).map(String) as [string, string];
    return datacenter !== "" && previous !== "" && previous !== datacenter ? { datacenter, movedFrom: previous } : { datacenter };
  },
});

/** Records this instance's heartbeat in the instance registry; returns 1 when it was not registered (first beat, or purged). */
export const INSTANCE_BEAT = defineScript({
  NUMBER_OF_KEYS: 1,
  SCRIPT: `${LIB}
return redis.call('ZADD', KEYS[1], now_ms(), ARGV[1])
`,
  parseCommand(parser: CommandParser, instancesKey: string, instanceId: string) {
    parser.pushKey(instancesKey);
    parser.push(instanceId);
  },
  transformReply: numberReply,
});

/** Instances whose last heartbeat is older than the TTL (at most 16 per call). */
export const STALE_INSTANCES = defineScript({
  NUMBER_OF_KEYS: 1,
  SCRIPT: `${LIB}
return redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. (now_ms() - tonumber(ARGV[1])), 'LIMIT', 0, 16)
`,
  parseCommand(parser: CommandParser, instancesKey: string, ttlMs: number) {
    parser.pushKey(instancesKey);
    parser.push(String(ttlMs));
  },
  transformReply: (reply: unknown) => (reply as unknown[]).map(String),
});

/** Removes an instance from the registry only if it is still stale (it may have come back). Returns 1 or 0. */
export const FORGET_STALE_INSTANCE = defineScript({
  NUMBER_OF_KEYS: 1,
  SCRIPT: `${LIB}
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if score and tonumber(score) < now_ms() - tonumber(ARGV[2]) then return redis.call('ZREM', KEYS[1], ARGV[1]) end
return 0
`,
  parseCommand(parser: CommandParser, instancesKey: string, instanceId: string, ttlMs: number) {
    parser.pushKey(instancesKey);
    parser.push(instanceId, String(ttlMs));
  },
  transformReply: numberReply,
});

export const SCRIPTS = {
  appendMessages: APPEND_MESSAGES,
  presenceJoin: PRESENCE_JOIN,
  presenceLeave: PRESENCE_LEAVE,
  presenceRefresh: PRESENCE_REFRESH,
  presenceList: PRESENCE_LIST,
  historyAfter: HISTORY_AFTER,
  seqFloor: SEQ_FLOOR,
  pinDatacenter: PIN_DATACENTER,
  instanceBeat: INSTANCE_BEAT,
  staleInstances: STALE_INSTANCES,
  forgetStaleInstance: FORGET_STALE_INSTANCE,
};
