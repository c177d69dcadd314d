-- login.lua: POST /api/auth/login with the seeded user's name and password
-- (BENCH_USER, BENCH_PASSWORD). Each answer hashes the password with
-- Argon2id and writes a new session to Redis.
dofile(os.getenv("BENCH_LUA_DIR") .. "/report.lua")

wrk.method = "POST"
wrk.path = "/api/auth/login"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"username":"' .. os.getenv("BENCH_USER") ..
	'","password":"' .. os.getenv("BENCH_PASSWORD") .. '"}'
