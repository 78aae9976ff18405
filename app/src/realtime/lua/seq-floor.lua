-- seq-floor: raises a room's seq counter to at least a floor. After a Valkey failover with
-- asynchronous replication the new primary may be behind what clients already saw; raising the
-- counter keeps seq strictly increasing for them.
--
-- KEYS[1]  room seq counter (string)
-- ARGV[1]  floor
-- ARGV[2]  seq counter TTL (ms), set only when the counter is raised
-- Returns: the counter after the call.
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
local floor = tonumber(ARGV[1])
if current >= floor then return current end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return floor
