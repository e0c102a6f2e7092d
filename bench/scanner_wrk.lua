-- The scanner's calls for wrk (bench/mass_testing.py --wrk): one scan per POST, each body a line of a file
-- made by the benchmark (a handheld's scan of one person into its own tube). Arguments after "--": the
-- file, wrk's thread count, the bearer token. Every thread takes every n-th line; when its lines run out
-- it starts again (answered "already recorded": the benchmark counts only the scans stored).

local threads = {}
local made = 0

function setup(thread)
  made = made + 1
  thread:set("id", made)
  table.insert(threads, thread)
end

function init(args)
  local path, count, token = args[1], tonumber(args[2]), args[3]
  bodies = {}
  local line_no = 0
  for line in io.lines(path) do
    if line_no % count == id - 1 then
      bodies[#bodies + 1] = line
    end
    line_no = line_no + 1
  end
  position = 1
  wrapped = 0
  failed = 0
  wrk.headers["Authorization"] = "Bearer " .. token
  wrk.headers["Content-Type"] = "application/json"
end

function request()
  local body = bodies[position]
  position = position + 1
  if position > #bodies then
    position = 1
    wrapped = wrapped + 1
  end
  return wrk.format("POST", "/api/testing/scans?lang=en", nil, body)
end

function response(status, headers, body)
  if status ~= 200 then
    failed = failed + 1
  end
end

function done(summary, latency, requests)
  local failures, wraps = 0, 0
  for _, thread in ipairs(threads) do
    failures = failures + thread:get("failed")
    wraps = wraps + thread:get("wrapped")
  end
  io.write(string.format("FANGKONG failed=%d wrapped=%d p50_ms=%.2f p99_ms=%.2f\n", failures, wraps,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
