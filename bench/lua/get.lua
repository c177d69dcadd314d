-- get.lua: GET the URL given to wrk (headers such as Cookie come from -H).
dofile(os.getenv("BENCH_LUA_DIR") .. "/report.lua")
