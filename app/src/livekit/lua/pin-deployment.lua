-- pin-deployment: pins a room to a LiveKit deployment. Keeps the current pin while it is healthy;
-- otherwise picks the next healthy deployment after the current one in configuration order
-- (set-if-absent, or compare-and-set away from an unhealthy one), so concurrent requests agree.
--
-- KEYS[1]             the room's pin (string: deployment name)
-- ARGV[1]             pin TTL (ms)
-- ARGV[2]             n: how many deployments are configured
-- ARGV[3..2+n]        the deployment names, in configuration order
-- ARGV[3+n..2+2n]     each deployment's health in the same order ('1' healthy, '0' not)
-- Returns: {pinned deployment ('' when none is healthy), previous pin ('' when none)}.
local current = redis.call('GET', KEYS[1])
local n = tonumber(ARGV[2])
local position, healthy = {}, {}
for i = 1, n do
  position[ARGV[2 + i]] = i
  healthy[i] = ARGV[2 + n + i] == '1'
end
if current and position[current] and healthy[position[current]] then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  return {current, ''}
end
local start = 1
if current and position[current] then start = position[current] + 1 end
for k = 0, n - 1 do
  local i = ((start - 1 + k) % n) + 1
  if healthy[i] then
    redis.call('SET', KEYS[1], ARGV[2 + i], 'PX', ARGV[1])
    return {ARGV[2 + i], current or ''}
  end
end
return {'', current or ''}
