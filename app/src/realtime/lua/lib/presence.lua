-- lib/presence: included by the presence scripts (no KEYS, no ARGV of its own).
-- A member is stored in the members hash as "<instance>|<joinedAtMs>|<user JSON>".
-- join_frame(user, id) / leave_frame(info, id): the presence frames every socket of the room receives
-- (built only here; presence-join returns the join frame it published).
-- prune(presence, members, channel, now): removes members whose expiry has passed (at most 1000 per
-- call), announces each one's leave on the channel, and returns how many it removed.
local function join_frame(user, id)
  return '{"type":"presence","event":"join","user":' .. user .. ',"connectionId":"' .. id .. '"}'
end
local function leave_frame(info, id)
  local user = string.match(info, '^[^|]*|%d+|(.*)$') or 'null'
  return '{"type":"presence","event":"leave","user":' .. user .. ',"connectionId":"' .. id .. '"}'
end
local function prune(presence, members, channel, now)
  local expired = redis.call('ZRANGEBYSCORE', presence, '-inf', now, 'LIMIT', 0, 1000)
  for _, id in ipairs(expired) do
    local info = redis.call('HGET', members, id)
    redis.call('ZREM', presence, id)
    redis.call('HDEL', members, id)
    if info then redis.call('PUBLISH', channel, leave_frame(info, id)) end
  end
  return #expired
end
