-- presence-refresh: the heartbeat of one instance's members of one room. Extends their expiry;
-- re-adds (and announces) any that a survivor purged while this instance was unreachable; then
-- prunes expired members of other instances.
--
-- KEYS[1]   room presence (sorted set: member = connection id, score = expiry ms)
-- KEYS[2]   room members (hash: connection id -> "<instance>|<joinedAtMs>|<user JSON>")
-- ARGV[1]   the room's channel
-- ARGV[2]   member TTL (ms)
-- ARGV[3]   presence keys' TTL (ms)
-- ARGV[4]   instance id
-- ARGV[5..] pairs: connection id, user JSON
-- Returns: how many members were re-added.
-- @include lib/now-ms.lua
-- @include lib/presence.lua
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
