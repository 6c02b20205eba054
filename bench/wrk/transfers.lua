-- wrk script: POST /api/money_transfer (BATCH=1) or /api/money_transfers (BATCH>1) between
-- random accounts, each request with its sender's bearer token.
-- The accounts file (written by HttpLoad --client wrk) has one "number token" pair per line.
-- Usage: wrk -t2 -c32 -d15s -s bench/wrk/transfers.lua http://127.0.0.1:PORT -- FILE BATCH [atomic]
-- (a batch is sent with "atomic": false unless the third argument is "atomic")

local numbers, tokens = {}, {}
local batch = 1
local atomic = "false"

function init(args)
  local file = args[1]
  batch = tonumber(args[2] or "1")
  if args[3] == "atomic" then
    atomic = "true"
  end
  for line in io.lines(file) do
    local number, token = line:match("^(%d+) (%S+)$")
    if number then
      numbers[#numbers + 1] = number
      tokens[#tokens + 1] = token
    end
  end
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
end

local function receiver(from)
  local to = math.random(#numbers - 1)
  if to >= from then
    to = to + 1
  end
  return numbers[to]
end

function request()
  local from = math.random(#numbers)
  local headers = {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. tokens[from],
  }
  if batch == 1 then
    local body = '{"to_account_number":"' .. receiver(from) .. '","amount":' .. math.random(100) .. '}'
    return wrk.format("POST", "/api/money_transfer", headers, body)
  end
  local parts = {}
  for i = 1, batch do
    parts[i] = '{"to_account_number":"' .. receiver(from) .. '","amount":' .. math.random(100) .. '}'
  end
  local body = '{"transfers":[' .. table.concat(parts, ",") .. '],"atomic":' .. atomic .. '}'
  return wrk.format("POST", "/api/money_transfers", headers, body)
end


function done(summary, latency, requests)
  -- wrk reports non-2xx itself; print the latency percentiles HttpLoad parses.
  io.write(string.format("eventbank-wrk requests=%d seconds=%.3f p50_us=%d p99_us=%d p999_us=%d max_us=%d errors=%d\n",
    summary.requests, summary.duration / 1e6, latency:percentile(50), latency:percentile(99),
    latency:percentile(99.9), latency.max,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.status + summary.errors.timeout))
end
