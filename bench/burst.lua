-- Logs in at a new, unknown address on every request: each pays for a
-- password hash (unknown addresses do, so that timing tells nothing) and
-- none is ever locked. Prints how the answers split.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local threads = {}
function setup(thread)
  table.insert(threads, thread)
end
n, refused, busy, other = 0, 0, 0, 0
function request()
  n = n + 1
  local email = "burst-" .. n .. "-" .. math.random(1000000000) .. "@bench.example"
  return wrk.format(nil, nil, nil,
    '{"email":"' .. email .. '","password":"wrong passphrase of the burst"}')
end
function response(status)
  if status == 401 then refused = refused + 1
  elseif status == 503 then busy = busy + 1
  else other = other + 1 end
end
function done()
  local r, b, o = 0, 0, 0
  for _, t in ipairs(threads) do
    r, b, o = r + t:get("refused"), b + t:get("busy"), o + t:get("other")
  end
  io.write(string.format("answers: %d checked (401), %d busy (503), %d other\n", r, b, o))
end
