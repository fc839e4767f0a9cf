-- wrk script: GET random paths built from a list file (one z/x/y a line) as PREFIX .. line .. SUFFIX.
-- Arguments after `--`: LIST PREFIX SUFFIX [ACCEPT_ENCODING]. done() prints one `BENCH {json}` line.

local paths = {}
local headers = {}
local thread_count = 0

function setup(thread)
  thread_count = thread_count + 1
  thread:set("thread_number", thread_count)
end

function init(args)
  local list, prefix, suffix = args[1], args[2], args[3]
  for line in io.lines(list) do
    if line ~= "" then
      paths[#paths + 1] = prefix .. line .. suffix
    end
  end
  if #paths == 0 then
    error("no tile in " .. list)
  end
  if args[4] then
    headers["Accept-Encoding"] = args[4]
  end
  -- Each thread draws its own sequence, the same from run to run.
  math.randomseed(1000 + thread_number)
end

function request()
  return wrk.format("GET", paths[math.random(#paths)], headers)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests":%d,"duration_us":%d,"bytes":%d,"p50_us":%d,"p99_us":%d,"max_us":%d,' ..
    '"errors_connect":%d,"errors_read":%d,"errors_write":%d,"errors_status":%d,"errors_timeout":%d}\n',
    summary.requests, summary.duration, summary.bytes, latency:percentile(50), latency:percentile(99),
    latency.max, e.connect, e.read, e.write, e.status, e.timeout))
end
