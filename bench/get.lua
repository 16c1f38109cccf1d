-- GET one URL with the headers a TLS proxy in front of the app would add.
-- Env: BENCH_COOKIE (staff session), BENCH_EXPECT (status counted as OK; when set, any other
-- status is an error: a staff page that redirects to the login page is not a success).
local threads = {}
local expect = tonumber(os.getenv("BENCH_EXPECT") or "")

wrk.headers["X-Forwarded-Proto"] = "https"
wrk.headers["X-Forwarded-For"] = "198.51.100.7"
wrk.headers["Accept-Encoding"] = "gzip"
if os.getenv("BENCH_COOKIE") then
  wrk.headers["Cookie"] = os.getenv("BENCH_COOKIE")
end

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  bad = 0
end

if expect then
  function response(status, headers, body)
    if status ~= expect then
      bad = bad + 1
    end
  end
end

-- The BENCH_RESULT line run.py reads (bench/report.lua, next to this script).
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
done = dofile(here .. "report.lua")(threads)
