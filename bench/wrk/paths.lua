-- wrk script: GET random paths from a list file (one path with its query a line) and count the HTTP
-- statuses. Arguments after `--`: LIST [ACCEPT_ENCODING]. done() prints one `BENCH {json}` line with
-- the statuses of every thread.

local paths = {}
local headers = {}
local threads = {}
-- Global, so that done() can read each thread's copy with thread:get().
statuses = {}

function setup(thread)
  threads[#threads + 1] = thread
  thread:set("thread_number", #threads)
end

function init(args)
  for line in io.lines(args[1]) do
    if line ~= "" then
      paths[#paths + 1] = line
    end
  end
  if #paths == 0 then
    error("no path in " .. args[1])
  end
  if args[2] then
    headers["Accept-Encoding"] = args[2]
  end
  math.randomseed(2000 + thread_number)
end

function request()
  return wrk.format("GET", paths[math.random(#paths)], headers)
end

function response(status, response_headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local total = {}
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses")) do
      total[status] = (total[status] or 0) + count
    end
  end
  local parts = {}
  for status, count in pairs(total) do
    parts[#parts + 1] = string.format('"%d":%d', status, count)
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests":%d,"duration_us":%d,"bytes":%d,"p50_us":%d,"p99_us":%d,"max_us":%d,' ..
    '"errors_connect":%d,"errors_read":%d,"errors_write":%d,"errors_status":%d,"errors_timeout":%d,' ..
    '"statuses":{%s}}\n',
    summary.requests, summary.duration, summary.bytes, latency:percentile(50), latency:percentile(99),
    latency.max, e.connect, e.read, e.write, e.status, e.timeout, table.concat(parts, ",")))
end
