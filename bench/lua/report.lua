-- report.lua: loaded by every bench script; prints one machine-readable
-- line at the end of a wrk run, which bench/run.sh parses:
--   BENCH rps=<requests/s> p50_ms=<ms> p99_ms=<ms> requests=<n>
--         bad=<responses with status >= 400> errors=<socket errors+timeouts>
function done(summary, latency, requests)
	local secs = summary.duration / 1e6
	local e = summary.errors
	io.write(string.format(
		"BENCH rps=%.1f p50_ms=%.2f p99_ms=%.2f requests=%d bad=%d errors=%d\n",
		summary.requests / secs,
		latency:percentile(50) / 1000, latency:percentile(99) / 1000,
		summary.requests, e.status,
		e.connect + e.read + e.write + e.timeout))
end
