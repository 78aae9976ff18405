-- forget-stale-instance: removes an instance from the registry only if it is still stale (it may have come back).
--
-- KEYS[1]  instance registry (sorted set: member = instance id, score = last heartbeat ms)
-- ARGV[1]  instance id
-- ARGV[2]  heartbeat TTL (ms)
-- Returns: 1 when the instance was removed, else 0.
-- @include lib/now-ms.lua
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if score and tonumber(score) < now_ms() - tonumber(ARGV[2]) then return redis.call('ZREM', KEYS[1], ARGV[1]) end
return 0
