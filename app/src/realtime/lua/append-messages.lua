-- append-messages: appends a batch of messages of ONE room to its history with consecutive seqs,
-- trims the history by length, bytes and age (oldest first), and publishes the batch as one Valkey message (the frames
-- joined by "\n", which JSON never leaves unescaped), atomically.
--
-- KEYS[1]   room seq counter (string, INCRBY)
-- KEYS[2]   room history (sorted set: score = seq, member = frame)
-- KEYS[3]   room history bytes (string: the summed length of the history's frames)
-- ARGV[1]   the room's channel
-- ARGV[2]   frame prefix: {"type":"message","room":"<id>","seq":
-- ARGV[3]   history max length (entries)
-- ARGV[4]   history max age (ms); also the history key's TTL
-- ARGV[5]   seq counter TTL (ms)
-- ARGV[6]   seq floor: the counter is raised to at least this first (the realtime epoch's base, 0 outside REGION_ROLE=auto)
-- ARGV[7]   history max bytes (the newest message is always kept)
-- ARGV[8..] one frame tail per message: "from":...,"data":...}
-- Returns: the first message's seq (the others follow consecutively).
-- @include lib/now-ms.lua
local count = #ARGV - 7
if tonumber(redis.call('GET', KEYS[1]) or '0') < tonumber(ARGV[6]) then redis.call('SET', KEYS[1], ARGV[6]) end
local first = redis.call('INCRBY', KEYS[1], count) - count + 1
local now = now_ms()
local gap = ',"ts":' .. now .. ','
local frames = {}
local scored = {}
-- A history written before the byte count existed is counted once, in full.
if redis.call('EXISTS', KEYS[3]) == 0 then
  local held = 0
  for _, entry in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do held = held + #entry end
  redis.call('SET', KEYS[3], held)
end
local added = 0
for i = 1, count do
  local seq = first + i - 1
  -- %d: Lua's default number format would write seqs of 15 digits and more in exponent notation.
  local frame = ARGV[2] .. string.format('%d', seq) .. gap .. ARGV[7 + i]
  frames[i] = frame
  scored[2 * i - 1] = seq
  scored[2 * i] = frame
  added = added + #frame
end
redis.call('ZADD', KEYS[2], unpack(scored))
local bytes = redis.call('INCRBY', KEYS[3], added)
-- Removes the oldest `n` entries and their bytes from the count.
local function drop_oldest(n)
  local removed = 0
  for _, entry in ipairs(redis.call('ZRANGE', KEYS[2], 0, n - 1)) do removed = removed + #entry end
  redis.call('ZREMRANGEBYRANK', KEYS[2], 0, n - 1)
  bytes = redis.call('DECRBY', KEYS[3], removed)
end
local max_length = tonumber(ARGV[3])
local size = redis.call('ZCARD', KEYS[2])
if size > max_length then
  drop_oldest(size - max_length)
  size = max_length
end
local max_bytes = tonumber(ARGV[7])
while bytes > max_bytes and size > 1 do
  drop_oldest(1)
  size = size - 1
end
local cutoff = now - tonumber(ARGV[4])
for _ = 1, 8 do
  local head = redis.call('ZRANGE', KEYS[2], 0, 0)
  if #head == 0 then break end
  local ts = tonumber(string.match(head[1], '"ts":(%d+)'))
  if ts == nil or ts >= cutoff then break end
  drop_oldest(1)
end
redis.call('PEXPIRE', KEYS[2], ARGV[4])
redis.call('PEXPIRE', KEYS[3], ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
redis.call('PUBLISH', ARGV[1], table.concat(frames, '\n'))
return first
