#!lua flags=no-writes
-- history-after: reads a page of a room's history after a seq, plus the oldest seq still held. Read-only.
--
-- KEYS[1]  room history (sorted set: score = seq, member = frame)
-- ARGV[1]  after: entries with seq > ARGV[1]
-- ARGV[2]  limit: at most this many entries
-- Returns: {oldest seq held (-1 when empty), frame, frame, ...} oldest first.
local head = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
local reply = {-1}
if #head > 0 then reply[1] = tonumber(head[2]) end
local entries = redis.call('ZRANGE', KEYS[1], '(' .. ARGV[1], '+inf', 'BYSCORE', 'LIMIT', 0, tonumber(ARGV[2]))
for i, entry in ipairs(entries) do reply[i + 1] = entry end
return reply
