-- read.lua: GET /api/posts/{id} for a random id among those in the file
-- named by BENCH_IDS (one id a line; bench/run.sh writes it when seeding).
dofile(os.getenv("BENCH_LUA_DIR") .. "/report.lua")

local threads = 0

function setup(thread)
	threads = threads + 1
	thread:set("tid", threads)
end

local ids = {}

function init(args)
	for line in io.lines(os.getenv("BENCH_IDS")) do
		if line ~= "" then ids[#ids + 1] = line end
	end
	math.randomseed(os.time() * 100 + tid)
end

function request()
	return wrk.format("GET", "/api/posts/" .. ids[math.random(#ids)])
end
