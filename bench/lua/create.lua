-- create.lua: POST /api/posts as the seeded user (cookie in BENCH_COOKIE),
-- with a JSON body of about 300 bytes.
dofile(os.getenv("BENCH_LUA_DIR") .. "/report.lua")

wrk.method = "POST"
wrk.path = "/api/posts"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Cookie"] = os.getenv("BENCH_COOKIE")
wrk.body = '{"title":"A benchmark post","content":"' ..
	string.rep("Lorem ipsum dolor sit amet, consectetur. ", 6) .. '"}'
