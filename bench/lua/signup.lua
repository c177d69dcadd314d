-- signup.lua: POST /api/auth/signup with a new username each time:
-- BENCH_PREFIX (unique per run) + thread number + counter.
dofile(os.getenv("BENCH_LUA_DIR") .. "/report.lua")

local threads = 0

function setup(thread)
	threads = threads + 1
	thread:set("tid", threads)
end

local n = 0

function request()
	n = n + 1
	local body = '{"username":"' .. os.getenv("BENCH_PREFIX") .. tid ..
		"_" .. n .. '","password":"bench-password-1"}'
	return wrk.format("POST", "/api/auth/signup",
		{ ["Content-Type"] = "application/json" }, body)
end
