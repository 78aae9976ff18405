-- stale-instances: lists instances whose last heartbeat is older than the TTL (at most 16 per call).
--
-- KEYS[1]  instance registry (sorted set: member = instance id, score = last heartbeat ms)
-- ARGV[1]  heartbeat TTL (ms)
-- Returns: the stale instance ids.
-- @include lib/now-ms.lua
return redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. (now_ms() - tonumber(ARGV[1])), 'LIMIT', 0, 16)
