-- append-messages: appends a batch of messages of ONE room to its history with consecutive seqs,
-- trims the history by length and age, and publishes the batch as one Valkey message (the frames
-- joined by "\n", which JSON never leaves unescaped), atomically.
--
-- KEYS[1]   room seq counter (string, INCRBY)
-- KEYS[2]   room history (sorted set: score = seq, member = frame)
-- ARGV[1]   the room's channel
-- ARGV[2]   frame prefix: {"type":"message","room":"<id>","seq":
-- ARGV[3]   history max length (entries)
-- ARGV[4]   history max age (ms); also the history key's TTL
-- ARGV[5]   seq counter TTL (ms)
-- ARGV[6]   seq floor: the counter is raised to at least this first (the realtime epoch's base, 0 outside REGION_ROLE=auto)
-- ARGV[7..] one frame tail per message: "from":...,"data":...}
-- Returns: the first message's seq (the others follow consecutively).
-- @include lib/now-ms.lua
local count = #ARGV - 6
if tonumber(redis.call('GET', KEYS[1]) or '0') < tonumber(ARGV[6]) then redis.call('SET', KEYS[1], ARGV[6]) end
local first = redis.call('INCRBY', KEYS[1], count) - count + 1
local now = now_ms()
local gap = ',"ts":' .. now .. ','
local frames = {}
local scored = {}
for i = 1, count do
  local seq = first + i - 1
  -- %d: Lua's default number format would write seqs of 15 digits and more in exponent notation.
  local frame = ARGV[2] .. string.format('%d', seq) .. gap .. ARGV[6 + i]
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
redis.call('PUBLISH', ARGV[1], table.concat(frames, '\n'))
return first
