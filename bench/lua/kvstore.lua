-- wrk script for kvstore: MIX = get | put | mix (90% GET / 10% PUT) over keys k1..k10000,
-- 16-byte values. Any non-2xx answer is counted by wrk as an error.
local mix = os.getenv("MIX") or "get"
local keys = tonumber(os.getenv("KEYS") or "10000")
local n = 0
math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16) % 100000)

request = function()
  n = n + 1
  local k = "k" .. math.random(1, keys)
  local put = (mix == "put") or (mix == "mix" and math.random(1, 10) == 1)
  if put then
    return wrk.format("PUT", "/?key=" .. k .. "&val=" .. string.format("w%015d", n))
  end
  return wrk.format("GET", "/?key=" .. k)
end
