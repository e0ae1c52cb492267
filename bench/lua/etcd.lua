-- wrk script for etcd's v3 HTTP/JSON gateway: the same mixes as kvstore.lua.
-- GET is POST /v3/kv/range (a linearizable read, etcd's default), PUT is POST /v3/kv/put;
-- keys are base64 in JSON, as the gateway requires.
local mix = os.getenv("MIX") or "get"
local keys = tonumber(os.getenv("KEYS") or "10000")
local n = 0
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
local encoded = {}
for i = 1, keys do encoded[i] = b64("k" .. i) end
math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16) % 100000)
wrk.headers["Content-Type"] = "application/json"

request = function()
  n = n + 1
  local k = encoded[math.random(1, keys)]
  local put = (mix == "put") or (mix == "mix" and math.random(1, 10) == 1)
  if put then
    return wrk.format("POST", "/v3/kv/put", nil, '{"key":"' .. k .. '","value":"' .. b64(string.format("w%015d", n)) .. '"}')
  end
  return wrk.format("POST", "/v3/kv/range", nil, '{"key":"' .. k .. '"}')
end
