#!/bin/bash
# nodedata.sh: board on the Node services' own data. Users and posts that
# mongoose models (declared as DATA.md shows) wrote with bcryptjs and
# node-argon2 hashes are read, logged into, edited and deleted through
# board; what board writes is read back through mongoose with
# populate('author') and checked with bcryptjs/argon2; the switch from
# BOARD_PASSWORD_HASH=bcrypt to argon2id; board-admin migrate-layout on a
# database of the earlier board layout; and board-admin copy SQLite ->
# MongoDB -> SQLite of 10,000 posts with identical API answers and a live
# session, a second copy changing nothing. Bounded: well under 3 minutes.
set -u

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${BOARD_BUILD_DIR:-${top_builddir:-$top_srcdir}}
node_modules=${BOARD_NODE_MODULES:-$top_srcdir/tests/node_modules}
export top_srcdir

for p in redis-server redis-cli curl jq sqlite3 spawn-fcgi multiwatch node \
    lighttpd; do
	if ! command -v "$p" >/dev/null 2>&1 &&
	    ! [ -x "/usr/sbin/$p" ] && ! [ -x "/usr/bin/$p" ]; then
		echo "1..0 # SKIP $p not installed"
		exit 0
	fi
done
PATH=$PATH:/usr/sbin
for m in mongoose bcryptjs argon2; do
	if [ ! -d "$node_modules/$m" ]; then
		echo "1..0 # SKIP $node_modules: no $m (npm ci in tests/)"
		exit 0
	fi
done
. "$top_srcdir/tests/it/mongo-lib.sh"
if [ ! -x "$JONGODB_BIN" ]; then
	echo "1..0 # SKIP jongodb not installed (script/bootstrap installs it)"
	exit 0
fi
ADMIN=$top_builddir/admin/board-admin
for b in "$ADMIN" "$top_builddir/fcgi/board-posts"; do
	[ -x "$b" ] || { echo "Bail out! $b not built"; exit 1; }
done

IT_TMP=$(mktemp -d "${TMPDIR:-/tmp}/board-nodedata.XXXXXX")
. "$top_srcdir/tests/it/lib.sh"
. "$top_srcdir/script/stack.sh"
cleanup() {
	stack_stop
	mongo_stop
	it_finish_tmp
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

it_test_env
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export BOARD_LOGIN_MAX_FAILURES=1000
# jongodb holding 10,000 posts answers createIndexes and listings slowly on
# a busy machine: more than the default 2 s, not a fault here.
export BOARD_STORE_TIMEOUT_MS=15000
RUN=$IT_TMP/run
stack_start_redis "$IT_TMP/redis" || bail "redis-server did not start"
mongo_start "$IT_TMP" || bail "jongodb did not start"
# MONGODB_URI names database board; others on the same server:
MONGO_BASE=${MONGODB_URI%/*}
uri_db() { echo "$MONGO_BASE/$1"; }
# DocumentDB's read preference throughout: the replica-first reads must
# still see every write (here the "replica" is the primary itself).
DB_NODE="$(uri_db board)?readPreference=secondaryPreferred"

node_side() {	# node_side URI CMD ARGS...
	NODE_PATH=$node_modules timeout 60 node \
	    "$top_srcdir/tests/nodedata/node-side.js" "$@"
}

# (Re)starts the responders (one worker each) with the environment as it
# is now, and lighttpd the first time.
PORT=
start_board() {
	if [ -n "${RESPONDER_PIDS:-}" ]; then
		for p in $RESPONDER_PIDS; do kill -TERM "$p" 2>/dev/null; done
		for p in $RESPONDER_PIDS; do
			for _ in $(seq 1 50); do
				kill -0 "$p" 2>/dev/null || break
				sleep 0.1
			done
			kill -KILL "$p" 2>/dev/null
			wait "$p" 2>/dev/null
		done
	fi
	stack_start_responders "$top_builddir" "$RUN" 1 ||
		bail "responders did not start: $(tail -3 "$RUN/responders.log")"
	if [ -z "$PORT" ]; then
		PORT=$(stack_free_port)
		stack_start_front lighttpd "$top_srcdir" "$RUN" "$PORT" ||
			bail "lighttpd did not start"
		BASE=http://127.0.0.1:$PORT
	fi
	for _ in $(seq 1 50); do
		req GET /api/health
		[ "$STATUS" = 200 ] && return 0
		sleep 0.1
	done
	bail "board is not healthy: $BODY $(tail -3 "$RUN/responders.log")"
}

# login NAME PASSWORD: sets COOKIE (board.sid=...) on success.
COOKIE=
login() {
	req POST /api/auth/login "{\"username\":$(jstr "$1"),\"password\":$(jstr "$2")}"
	COOKIE=$(hdr Set-Cookie | sed 's/;.*//')
}

##### 1. The Node services' data, read and used through board.
SEED=$(node_side "$DB_NODE" seed) || bail "mongoose could not seed"
jid() { printf '%s' "$SEED" | jq -r "$1"; }
U_BCRYPT=$(jid .bcrypt) U_ARGON=$(jid .argon) U_ODD=$(jid .odd)
GHOST=$(jid .ghost)
P1=$(jid '.posts[0]') P2=$(jid '.posts[1]') P_ORPHAN=$(jid '.posts[4]')
diag "mongoose wrote users and 5 posts; jongodb at $MONGODB_URI"

# Side by side with the Node services: new hashes in bcrypt.
export MONGODB_URI=$DB_NODE BOARD_PASSWORD_HASH=bcrypt BOARD_BCRYPT_COST=10
start_board

req GET /api/posts
is "$STATUS" 200 "board lists the posts mongoose wrote"
is "$(jf '[.posts[] | select(.title | startswith("node post"))] | length')" 3 \
    "  all three of nodebcrypt's"
is "$(jf ".posts[] | select(.id == \"$P1\") | .author.username")" nodebcrypt \
    "  with the author's name, looked up by author"
is "$(jf ".posts[] | select(.id == \"$P_ORPHAN\") | .author | tojson")" \
    "{\"id\":\"$GHOST\",\"username\":\"\"}" \
    "  a post whose author is gone: {id, username: \"\"} (DATA.md)"
NODEPOST=$(node_side "$DB_NODE" post "$P1")
req GET "/api/posts/$P1"
is "$STATUS" 200 "a mongoose post reads by id"
is "$(jf '[.title, .content, .author.id, .createdAt, .updatedAt] | tojson')" \
    "$(printf '%s' "$NODEPOST" | jq -c '[.title, .content, .author.id, .createdAt, .updatedAt]')" \
    "  title, content, author, createdAt and updatedAt as mongoose has them"

login nodebcrypt bcrypt-password
is "$STATUS" 200 "a user the auth service made (bcryptjs, cost 10) logs in"
is "$(jf .id)" "$U_BCRYPT" "  as its mongoose _id"
C_BCRYPT=$COOKIE
is "$(node_side "$DB_NODE" verify nodebcrypt bcrypt-password)" "ok bcrypt\$2b\$" \
    "  its hash is left as it was (bcrypt, cost 10 = the setting)"
login nodebcrypt wrong-password
expect_error 401 invalid_credentials "  a wrong password is refused"

login nodeargon argon-password
is "$STATUS" 200 "a node-argon2 user (argon2id m=64 MiB, t=3, p=4) logs in"
is "$(node_side "$DB_NODE" verify nodeargon argon-password)" "ok bcrypt\$2b\$" \
    "  and is rehashed to bcrypt, which the auth service verifies"
login nodeargoni argoni-password
is "$STATUS" 200 "an argon2i user logs in"
login nodeodd plain-text-password
expect_error 401 invalid_credentials "a hash of no known scheme: 401"
sleep 0.3
like "$(grep 'unknown hash scheme' "$RUN/responders.log")" "user $U_ODD: unknown hash scheme" \
    "  and one log line names the user id and \"unknown hash scheme\""
like "$(node_side "$DB_NODE" user nodeodd | jq -r .password)" unknown \
    "  the hash is left alone"

# Edit and delete what mongoose wrote.
req PATCH "/api/posts/$P1" '{"title":"edited by board"}' -b "$C_BCRYPT"
is "$STATUS" 200 "the author edits a mongoose post through board"
EDITED_AT=$(jf .updatedAt)
NODEPOST=$(node_side "$DB_NODE" post "$P1")
is "$(printf '%s' "$NODEPOST" | jq -r '[.title, .updatedAt, .author.username] | join(" ")')" \
    "edited by board $EDITED_AT nodebcrypt" \
    "  mongoose reads the new title and updatedAt, populate('author') the author"
req DELETE "/api/posts/$P2" -b "$C_BCRYPT"
is "$STATUS" 204 "the author deletes a mongoose post through board"
is "$(node_side "$DB_NODE" post "$P2")" null "  mongoose no longer finds it"

# What board writes, read by the Node side.
req POST /api/auth/signup '{"username":"boarduser","password":"board-password"}'
is "$STATUS" 201 "signup through board"
U_BOARD=$(jf .id)
USERDOC=$(node_side "$DB_NODE" user boarduser)
is "$(printf '%s' "$USERDOC" | jq -c '[._id, .username, .password, .__v]')" \
    "[\"$U_BOARD\",\"boarduser\",\"bcrypt\$2b\$\",0]" \
    "  mongoose reads {_id, username, password, __v: 0}"
is "$(node_side "$DB_NODE" verify boarduser board-password)" "ok bcrypt\$2b\$" \
    "  and bcryptjs verifies board's hash, as the auth service will"
login boarduser board-password
C_BOARD=$COOKIE
req POST /api/posts '{"title":"from board","content":"caf\u00e9"}' -b "$C_BOARD"
is "$STATUS" 201 "board writes a post"
PB=$(jf .id)
POSTED=$(jf -c '[.title, .content, .createdAt, .updatedAt]')
req GET "/api/posts/$PB"
is "$STATUS" 200 "  readable by id right after its 201 (secondaryPreferred)"
NODEPOST=$(node_side "$DB_NODE" post "$PB")
is "$(printf '%s' "$NODEPOST" | jq -c '[.title, .content, .createdAt, .updatedAt]')" \
    "$POSTED" "  mongoose reads its title, content and both times"
is "$(printf '%s' "$NODEPOST" | jq -c '[.author.id, .author.username, .__v]')" \
    "[\"$U_BOARD\",\"boarduser\",0]" "  populate('author') finds its author; __v 0"
req PATCH "/api/posts/$PB" '{"title":"not yours"}' -b "$C_BCRYPT"
expect_error 403 forbidden "another user may not edit it"
PN=$(node_side "$DB_NODE" write boarduser "node writes for boarduser")
req GET "/api/posts/$PN"
is "$(jf .author.username)" boarduser "a post mongoose writes now lists with board's user"

# Switching over: the Node services are gone, new hashes Argon2id.
export BOARD_PASSWORD_HASH=argon2id
start_board
login nodebcrypt bcrypt-password
is "$STATUS" 200 "after the switch to argon2id the bcrypt user logs in"
is "$(node_side "$DB_NODE" verify nodebcrypt bcrypt-password)" "ok argon2id" \
    "  and is moved to Argon2id (which node-argon2 still verifies)"
req GET /api/auth/me -b "$C_BOARD"
is "$(jf .username)" boarduser "a session from before the restart still works"

##### 2. The earlier board layout, refused and migrated.
DB_OLD=$(uri_db oldlayout)
OLDUID=$(node_side "$DB_OLD" old-layout) || bail "could not write the old layout"
OUT=$(MONGODB_URI=$DB_OLD "$ADMIN" check 2>&1)
is "$?" 1 "board-admin check refuses a database in the earlier layout"
like "$OUT" "migrate-layout" "  and names board-admin migrate-layout"
OUT=$("$ADMIN" migrate-layout "$DB_OLD" 2>&1)
is "$?" 0 "board-admin migrate-layout"
like "$OUT" " 1 users and 1 posts moved" "  moves the user and the post: $OUT"
is "$(node_side "$DB_OLD" posts | jq -r '.[0].author.username')" olduser \
    "  mongoose now finds the post's author with populate('author')"
is "$(node_side "$DB_OLD" verify olduser old-password)" "ok bcrypt\$2b\$" \
    "  and the user's hash in password"
OUT=$("$ADMIN" migrate-layout "$DB_OLD" 2>&1)
like "$OUT" " 0 users and 0 posts moved" "a second migrate-layout changes nothing"

##### 3. board-admin copy: SQLite -> MongoDB -> SQLite, 10,000 posts.
unset MONGODB_URI
export BOARD_DB=$IT_TMP/src.db
start_board
for u in copy_a copy_b copy_c; do
	req POST /api/auth/signup "{\"username\":\"$u\",\"password\":\"password-$u\"}"
done
login copy_a password-copy_a
C_COPY=$COOKIE
is "$STATUS" 200 "a session on SQLite"
req POST /api/posts '{"title":"made through the API","content":"x"}' -b "$C_COPY"
# 10,000 posts straight into the file (the API would take minutes): three
# authors, times with ties (a tie is broken by id), UTF-8, edits.
sqlite3 "$BOARD_DB" "
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10000),
u AS (SELECT id, username, row_number() OVER (ORDER BY id) - 1 AS k FROM users)
INSERT INTO posts (id, author_id, author_name, title, content, created_ms, updated_ms)
SELECT lower(hex(randomblob(12))), u.id, u.username, 'post ' || i,
       'content ' || i || ' caf' || char(233) || ' ' || char(54620, 44544),
       1700000000000 + (i / 3) * 1000, 1700000000000 + (i / 3) * 1000 + (i % 7)
FROM n JOIN u ON u.k = i % 3;" || bail "could not fill the SQLite file"

# Every page of the listing, a post by id and who the session is.
api_answers() {
	local out=$1 cursor="" page=0
	: >"$out"
	while [ $page -lt 200 ]; do
		req GET "/api/posts?limit=100${cursor:+&cursor=$cursor}"
		[ "$STATUS" = 200 ] || { echo "status $STATUS" >>"$out"; return; }
		printf '%s\n' "$BODY" >>"$out"
		cursor=$(jf '.next // empty')
		[ -n "$cursor" ] || break
		page=$((page + 1))
	done
	req GET /api/auth/me -b "$C_COPY"
	printf '%s %s\n' "$STATUS" "$BODY" >>"$out"
}
api_answers "$IT_TMP/api-sqlite"
is "$(grep -c '"id"' "$IT_TMP/api-sqlite")" 102 "the listing takes 101 pages"
is "$(grep '^{' "$IT_TMP/api-sqlite" | jq -s '[.[].posts[]] | length')" 10001 \
    "  of 10,001 posts"

DB_COPY=$(uri_db copied)
T0=$(date +%s)
OUT=$("$ADMIN" copy "sqlite:$BOARD_DB" "$DB_COPY" 2>&1)
is "$?" 0 "board-admin copy SQLite -> MongoDB"
like "$OUT" "3 users and 10001 posts copied, 0 already there, 0 conflicts" \
    "  copies everything: $(printf '%s' "$OUT" | tail -1)"
DUMP1=$(node_side "$DB_COPY" dump)
OUT=$("$ADMIN" copy "sqlite:$BOARD_DB" "$DB_COPY" 2>&1)
is "$?" 0 "copy run again"
like "$OUT" "0 users and 0 posts copied, 10004 already there, 0 conflicts" \
    "  finds everything already there"
is "$(node_side "$DB_COPY" dump)" "$DUMP1" "  and changes nothing in MongoDB"
OUT=$("$ADMIN" copy "$DB_COPY" "$(uri_db copied)?appName=x&w=majority" 2>&1)
is "$?" 1 "copy refuses FROM and TO the same database (other options)"
like "$OUT" "^board-admin: copy: FROM and TO are the same database" "  in one line"
OUT=$("$ADMIN" copy "sqlite:$BOARD_DB" "sqlite:$IT_TMP/../$(basename "$IT_TMP")/src.db" 2>&1)
is "$?" 1 "  also one SQLite file by two paths"

export MONGODB_URI=$DB_COPY
start_board
api_answers "$IT_TMP/api-mongo"
check "the same API answers on MongoDB, the session included" \
    cmp "$IT_TMP/api-sqlite" "$IT_TMP/api-mongo"
req POST /api/posts '{"title":"after the move","content":"x"}' -b "$C_COPY"
is "$STATUS" 201 "  the live session still writes"
req DELETE "/api/posts/$(jf .id)" -b "$C_COPY"
is "$(node_side "$DB_COPY" posts | jq length)" 10001 \
    "  mongoose reads the 10,001 copied posts"

OUT=$("$ADMIN" copy -q "$DB_COPY" "sqlite:$IT_TMP/back.db" 2>&1)
is "$?" 0 "board-admin copy MongoDB -> SQLite"
like "$OUT" "3 users and 10001 posts copied" "  copies everything"
SUM1=$(sqlite3 "$IT_TMP/back.db" .dump | sha256sum)
OUT=$("$ADMIN" copy "$DB_COPY" "sqlite:$IT_TMP/back.db" 2>&1)
is "$?" 0 "copy run again"
is "$(sqlite3 "$IT_TMP/back.db" .dump | sha256sum)" "$SUM1" "  changes nothing in SQLite"
check "  the users (ids, names, hashes, times) are those of the first file" \
    cmp <(sqlite3 "$BOARD_DB" 'SELECT * FROM users ORDER BY id') \
        <(sqlite3 "$IT_TMP/back.db" 'SELECT * FROM users ORDER BY id')
check "  and so are the posts" \
    cmp <(sqlite3 "$BOARD_DB" 'SELECT * FROM posts ORDER BY id') \
        <(sqlite3 "$IT_TMP/back.db" 'SELECT * FROM posts ORDER BY id')

unset MONGODB_URI
export BOARD_DB=$IT_TMP/back.db
start_board
api_answers "$IT_TMP/api-back"
check "the same API answers after the round trip, the session included" \
    cmp "$IT_TMP/api-sqlite" "$IT_TMP/api-back"
login copy_b password-copy_b
is "$STATUS" 200 "a copied user logs in with the same password"
# A bcryptjs hash on SQLite: verified, then moved to the configured Argon2id.
BH=$(cd "$IT_TMP" && NODE_PATH=$node_modules node -e \
    'console.log(require("bcryptjs").hashSync("bcrypt-on-sqlite", 10))')
sqlite3 "$BOARD_DB" "UPDATE users SET pwhash = '$BH' WHERE username = 'copy_c'"
login copy_c bcrypt-on-sqlite
is "$STATUS" 200 "on SQLite, a user with a bcryptjs hash logs in"
like "$(sqlite3 "$BOARD_DB" "SELECT pwhash FROM users WHERE username = 'copy_c'")" \
    '^\$argon2id\$' "  and is rehashed to Argon2id"

# A conflict is reported, never overwritten.
VICTIM=$(sqlite3 "$IT_TMP/back.db" "SELECT id FROM posts ORDER BY id LIMIT 1")
sqlite3 "$IT_TMP/back.db" "UPDATE posts SET title = 'changed in TO' WHERE id = '$VICTIM'"
OUT=$("$ADMIN" copy "$DB_COPY" "sqlite:$IT_TMP/back.db" 2>&1)
is "$?" 1 "copy onto a changed post exits 1"
like "$OUT" "post $VICTIM: TO holds another version; not overwritten" "  naming it"
is "$(sqlite3 "$IT_TMP/back.db" "SELECT title FROM posts WHERE id = '$VICTIM'")" \
    "changed in TO" "  and leaves it"
# A post whose author SQLite's TO lacks (sqlite3 leaves foreign keys off).
ORPHAN=aaaaaaaaaaaaaaaaaaaaaaaa GHOST=bbbbbbbbbbbbbbbbbbbbbbbb
sqlite3 "$IT_TMP/back.db" .schema | sqlite3 "$IT_TMP/orphan.db"
sqlite3 "$IT_TMP/orphan.db" \
    "INSERT INTO posts VALUES ('$ORPHAN', '$GHOST', 'x', 't', 'c', 1, 1)"
OUT=$("$ADMIN" copy "sqlite:$IT_TMP/orphan.db" "sqlite:$IT_TMP/o2.db" 2>&1)
is "$?" 1 "copy of a post without its author exits 1"
like "$OUT" "post $ORPHAN: its author $GHOST is not in TO; not overwritten" \
    "  naming the post and the author"

##### 4. board-admin user and check.
OUT=$("$ADMIN" -s "$DB_NODE" user show nodebcrypt 2>&1)
like "$OUT" "password  argon2id m=8 t=1 p=1" "user show names the hash's scheme and cost"
case $OUT in *'$argon2id$'*) ok 1 "  never the hash" ;; *) ok 0 "  never the hash" ;; esac
OUT=$("$ADMIN" -s "$DB_NODE" user delete boarduser 2>&1)
is "$?" 1 "user delete without --yes only says what it would do"
req GET /api/auth/me -b "$C_BOARD"
is "$STATUS" 200 "boarduser's session works before the delete"
OUT=$("$ADMIN" -s "$DB_NODE" user delete --yes boarduser 2>&1)
is "$?" 0 "user delete --yes"
like "$OUT" \
    "user boarduser \\($U_BOARD\\) and 2 posts; their sessions have ended" \
    "  says so, and that the sessions ended"
req GET /api/auth/me -b "$C_BOARD"
is "$STATUS" 401 "  the session made before the delete now answers 401"
OUT=$("$ADMIN" check 2>&1)
is "$?" 0 "board-admin check on the running configuration"
like "$OUT" "sessions: unix:.*: ok" "  reaches Redis"
like "$OUT" "store:    sqlite:.*back.db \\(sqlite\\): ok, 3 users, 10001 posts" "  counts the store"
like "$OUT" "hashes:   3 users: 3 argon2id m=8 t=1 p=1" "  tallies the hashes"
OUT=$(MONGODB_URI=$DB_NODE "$ADMIN" check 2>&1)
like "$OUT" "bcrypt \\\$2b\\\$ cost 10" "  on MongoDB too: $(printf '%s' "$OUT" | grep hashes:)"
like "$OUT" "1 users have a hash no scheme here reads" "  and warns of the unreadable one"

diag "took $(( $(date +%s) - T0 )) s since the copy started"
done_testing
