-- Pre-signed submissions for wrk, each sent exactly once: the load generator
-- of `python -m bench.gateway --client wrk`, which writes the requests file,
-- starts wrk with one thread and reads the results file.
--
--   wrk -t1 -c<in flight> -d<long> -s bench/wrk_submit.lua <url> -- <requests> <results>
--
-- requests: one line per request, "<first tx id hex> <txs in it> <target> <JSON body>"
-- results:  "first_s last_s answered committed_ok", then per request
--           "<latency s> <txs in it>"; written (via a rename) once every
--           request has its answer. The bench then stops wrk.
--
-- An answer is matched to its request by the first "tx_id" in its body, so the
-- latency is exact whatever the order of answers. Once every request is sent,
-- an idle connection asks /v1/health once a second until the last answer is
-- in; those answers are not counted.
--
-- wrk calls request() once on its first thread before any connection opens, to
-- count pipelined requests; that call is answered without using a submission,
-- and wrk must run with one thread (-t1) so every submission is sent once.

local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } civic_timespec;
  int clock_gettime(int clock, civic_timespec *out);
]]
local CLOCK_MONOTONIC = 1 -- the clock of Python's time.monotonic on Linux
local timespec = ffi.new("civic_timespec")

local function now()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, timespec)
  return tonumber(timespec.tv_sec) + tonumber(timespec.tv_nsec) * 1e-9
end

local requests, ids, sizes = {}, {}, {}
local sent_at, size_of = {}, {}
local lines = {}
local next_request, answered, committed_ok = 1, 0, 0
local first, last
local results_path, idle
local counted = false -- wrk's pipeline count has called request()
local IDLE_MS = 1000

function init(args)
  results_path = args[2]
  for line in io.lines(args[1]) do
    local id, size, target, body = line:match("^(%x+) (%d+) (%S+) (.*)$")
    requests[#requests + 1] = wrk.format("POST", target, { ["Content-Type"] = "application/json" }, body)
    ids[#ids + 1] = id
    sizes[#sizes + 1] = tonumber(size)
  end
  idle = wrk.format("GET", "/v1/health")
end

function delay()
  return next_request > #requests and IDLE_MS or 0
end

function request()
  if not counted then
    counted = true
    return requests[1] or idle
  end
  local i = next_request
  if i > #requests then
    return idle
  end
  next_request = i + 1
  local t = now()
  first = first or t
  sent_at[ids[i]] = t
  size_of[ids[i]] = sizes[i]
  return requests[i]
end

local function finish()
  local out = assert(io.open(results_path .. ".part", "w"))
  out:write(string.format("%.6f %.6f %d %d\n", first, last, answered, committed_ok))
  out:write(table.concat(lines, "\n"), "\n")
  out:close()
  assert(os.rename(results_path .. ".part", results_path))
  wrk.thread:stop()
end

function response(status, headers, body)
  local id = body:match('"tx_id":"(%x+)"')
  local started = id and sent_at[id]
  if not started then
    if body:sub(1, 10) == '{"status":' then
      return -- an idle connection's health check
    end
    -- a refusal without ids (busy, bad request): its request is answered, none committed
    io.stderr:write("wrk_submit: HTTP ", status, " ", body:sub(1, 200), "\n")
    answered = answered + 1
  else
    sent_at[id] = nil
    last = now()
    answered = answered + 1
    local _, ok = body:gsub('"status":"ok"', "")
    committed_ok = committed_ok + ok
    lines[#lines + 1] = string.format("%.6f %d", last - started, size_of[id])
  end
  if answered == #requests then
    last = last or now()
    finish()
  end
end
