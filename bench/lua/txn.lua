-- wrk script for bench/txn.sh: write-only transactions of TXN_KEYS keys (2 or 8), 16-byte
-- values, for kvstore (SYSTEM=kvstore: POST /txn, SPEC.md section 11) or etcd (SYSTEM=etcd:
-- POST /v3/kv/txn with an empty compare and TXN_KEYS request_put in success, base64 as the
-- gateway requires). Keys come from KEYFILE, lines "key primaryPort" (bench/Drive.java groups):
-- a transaction takes its keys from different primaries in turn, so with 3 followers and
-- redundancy 2 a 2-key transaction always spans all 3 followers. etcd gets the same key names.
-- Any non-2xx answer counts as an error; a 200 with "succeeded":false would be a bug (no compare).
local system = os.getenv("SYSTEM") or "kvstore"
local n = tonumber(os.getenv("TXN_KEYS") or "2")
local keyfile = os.getenv("KEYFILE")
local b = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
local function b64(data)
  return ((data:gsub('.', function(x)
    local r, byte = '', x:byte()
    for i = 8, 1, -1 do r = r .. (byte % 2 ^ i - byte % 2 ^ (i - 1) > 0 and '1' or '0') end
    return r
  end) .. '0000'):gsub('%d%d%d?%d?%d?%d?', function(x)
    if #x < 6 then return '' end
    local c = 0
    for i = 1, 6 do c = c + (x:sub(i, i) == '1' and 2 ^ (6 - i) or 0) end
    return b:sub(c + 1, c + 1)
  end) .. ({ '', '==', '=' })[#data % 3 + 1])
end

local groups, names = {}, {}
for line in io.lines(keyfile) do
  local k, g = line:match("^(%S+)%s+(%S+)$")
  if k then
    if not groups[g] then groups[g] = {}; names[#names + 1] = g end
    local list = groups[g]
    list[#list + 1] = (system == "etcd") and b64(k) or k
  end
end
-- a pool of values, encoded once (the load generator's cost stays small and equal for both)
local vals = {}
math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16) % 100000)
local salt = math.random(0, 999999)
for i = 1, 512 do
  local v = string.format("w%09d%06d", salt, i)
  vals[i] = (system == "etcd") and b64(v) or v
end
wrk.headers["Content-Type"] = "application/json"
local count = 0

request = function()
  count = count + 1
  local start = math.random(1, #names)
  local used, parts = {}, {}
  for i = 1, n do
    local list = groups[names[(start + i - 2) % #names + 1]]
    local k
    repeat k = list[math.random(1, #list)] until not used[k]
    used[k] = true
    local v = vals[(count * n + i) % #vals + 1]
    if system == "etcd" then
      parts[i] = '{"request_put":{"key":"' .. k .. '","value":"' .. v .. '"}}'
    else
      parts[i] = '{"op":"put","key":"' .. k .. '","val":"' .. v .. '"}'
    end
  end
  if system == "etcd" then
    return wrk.format("POST", "/v3/kv/txn", nil, '{"compare":[],"success":[' .. table.concat(parts, ",") .. ']}')
  end
  return wrk.format("POST", "/txn", nil, '{"then":[' .. table.concat(parts, ",") .. ']}')
end
