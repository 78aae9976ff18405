-- instance-beat: records an instance's heartbeat in the instance registry.
--
-- KEYS[1]  instance registry (sorted set: member = instance id, score = last heartbeat ms)
-- ARGV[1]  instance id
-- Returns: 1 when the instance was not registered (first beat, or purged as dead), else 0.
-- @include lib/now-ms.lua
return redis.call('ZADD', KEYS[1], now_ms(), ARGV[1])
