-- The line bench/run.py reads from every wrk script: requests, latency percentiles, socket
-- errors and the responses the script counted as wrong (each thread's `bad`).
-- Use: `local report = dofile(<this file>); done = report(threads)`.
return function(threads)
  return function(summary, latency, requests)
    local wrong = 0
    for _, t in ipairs(threads) do
      wrong = wrong + (t:get("bad") or 0)
    end
    local e = summary.errors
    io.write(string.format(
      'BENCH_RESULT {"requests": %d, "duration_us": %d, "p50_us": %d, "p95_us": %d, ' ..
      '"p99_us": %d, "errors": %d, "wrong_status": %d}\n',
      summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
      latency:percentile(99), e.connect + e.read + e.write + e.status + e.timeout, wrong))
  end
end
