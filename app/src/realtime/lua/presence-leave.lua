-- presence-leave: removes one connection from a room's presence; announces the leave only if it was there.
--
-- KEYS[1]  room presence (sorted set: member = connection id, score = expiry ms)
-- KEYS[2]  room members (hash: connection id -> "<instance>|<joinedAtMs>|<user JSON>")
-- ARGV[1]  the room's channel
-- ARGV[2]  connection id
-- Returns: 1 when the connection was present, else 0.
-- @include lib/presence.lua
local removed = redis.call('ZREM', KEYS[1], ARGV[2])
local info = redis.call('HGET', KEYS[2], ARGV[2])
redis.call('HDEL', KEYS[2], ARGV[2])
if removed == 1 and info then redis.call('PUBLISH', ARGV[1], leave_frame(info, ARGV[2])) end
return removed
