-- presence-join: adds a connection to a room's presence (pruning expired members first), announces
-- the join, and returns the room's seq plus the first replay batch after `since`, atomically.
--
-- KEYS[1]  room presence (sorted set: member = connection id, score = expiry ms)
-- KEYS[2]  room members (hash: connection id -> "<instance>|<joinedAtMs>|<user JSON>")
-- KEYS[3]  room seq counter (string)
-- KEYS[4]  room history (sorted set: score = seq, member = frame)
-- ARGV[1]  the room's channel
-- ARGV[2]  connection id
-- ARGV[3]  instance id
-- ARGV[4]  user JSON
-- ARGV[5]  member TTL (ms)
-- ARGV[6]  presence keys' TTL (ms)
-- ARGV[7]  since: the last seq the client saw (-1: none)
-- ARGV[8]  replay batch size
-- ARGV[9]  seq floor: the realtime epoch's base; a room whose counter is below it (or missing) is at the floor
-- Returns: {seq, recoverable (1/0), join frame, frame, frame, ...}: recoverable is 1 when every
-- message after `since` is still in history; the join frame is the presence frame published for
-- this join (the one place it is built); the frames are the first batch after `since`, oldest first.
-- @include lib/now-ms.lua
-- @include lib/presence.lua
local now = now_ms()
prune(KEYS[1], KEYS[2], ARGV[1], now)
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[5]), ARGV[2])
redis.call('HSET', KEYS[2], ARGV[2], ARGV[3] .. '|' .. now .. '|' .. ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[6])
redis.call('PEXPIRE', KEYS[2], ARGV[6])
local join = join_frame(ARGV[4], ARGV[2])
redis.call('PUBLISH', ARGV[1], join)
local seq = math.max(tonumber(redis.call('GET', KEYS[3]) or '0'), tonumber(ARGV[9]))
local since = tonumber(ARGV[7])
if since < 0 or since > seq then return {seq, 0, join} end
if since == seq then return {seq, 1, join} end
local head = redis.call('ZRANGE', KEYS[4], 0, 0, 'WITHSCORES')
if #head == 0 or tonumber(head[2]) > since + 1 then return {seq, 0, join} end
local entries = redis.call('ZRANGE', KEYS[4], '(' .. ARGV[7], seq, 'BYSCORE', 'LIMIT', 0, tonumber(ARGV[8]))
local reply = {seq, 1, join}
for i, entry in ipairs(entries) do reply[i + 3] = entry end
return reply
