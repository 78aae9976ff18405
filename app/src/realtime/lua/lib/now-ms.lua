-- lib/now-ms: included by scripts that need the time (no KEYS, no ARGV of its own).
-- now_ms(): milliseconds from the Valkey clock (TIME), so every instance compares presence expiries,
-- heartbeats and history ages against the same clock.
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
