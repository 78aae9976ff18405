-- presence-list: prunes a room's expired members (announcing their leave), then lists the rest.
--
-- KEYS[1]  room presence (sorted set: member = connection id, score = expiry ms)
-- KEYS[2]  room members (hash: connection id -> "<instance>|<joinedAtMs>|<user JSON>")
-- ARGV[1]  the room's channel (for the leave announcements)
-- Returns: {connection id, "<instance>|<joinedAtMs>|<user JSON>", ...} in expiry order.
-- @include lib/now-ms.lua
-- @include lib/presence.lua
prune(KEYS[1], KEYS[2], ARGV[1], now_ms())
local ids = redis.call('ZRANGE', KEYS[1], 0, -1)
local reply = {}
for _, id in ipairs(ids) do
  local info = redis.call('HGET', KEYS[2], id)
  if info then
    reply[#reply + 1] = id
    reply[#reply + 1] = info
  end
end
return reply
