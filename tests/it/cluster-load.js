// cluster-load.js: the steady mixed load of tests/it/cluster.sh.
//
//   node cluster-load.js BASE CONTROL OUTDIR CLIENTS MAX_SECONDS
//
// CLIENTS concurrent clients, each with its own keep-alive connection to
// BASE (the load balancer) and its own user: it signs up, logs in, then
// loops over "who am I" (3 in 8), list (1 in 8), create (1 in 8) and read
// (3 in 8: one of its own posts, whose title and content must come back
// unchanged), PAUSE_MS apart (environment BOARD_CLUSTER_PAUSE_MS, default
// 15). Few creates and lists: the MongoDB test server's list slows down as
// posts pile up, and it would soon be all the test measured.
//
// CONTROL is a JSON file the test rewrites, read every 100 ms:
//   {"phase": "steady", "gen": 0, "stop": false}
// A request counts in the phase current when it starts. When "gen" grows,
// every client logs in again (a fresh cookie) before its next request and
// OUTDIR/gen then holds the new number. "stop": finish and write:
//   OUTDIR/stats.json  {phase: {requests, ok, outcomes: {"201": n,
//                       "ECONNRESET": n, "mismatch": n, ...}}}, plus
//                       "_failures": the first 300 failed requests
//                       ({t, phase, op, outcome, host}); host is the
//                       X-Board-Host header the balancer adds;
//   OUTDIR/acked.jsonl one acknowledged post a line: {id, title, content}.
// It stops by itself after MAX_SECONDS or 100,000 requests per client.
//
//   node cluster-load.js verify BASE ACKED
//
// reads every post of ACKED (acked.jsonl) back, 8 at a time, and prints
// {"checked": n, "missing": n, "changed": n, "errors": n, "first": [...]}.
"use strict";
const http = require("http");
const fs = require("fs");
const path = require("path");

if (process.argv[2] === "verify") {
	verify(process.argv[3], process.argv[4]).catch((e) => {
		console.error(e);
		process.exit(1);
	});
	return;
}
const [base, control, outdir, nclients, maxSecs] = process.argv.slice(2);
const url = new URL(base);
const pauseMs = Number(process.env.BOARD_CLUSTER_PAUSE_MS || 15);
const maxPerClient = 100000;
const t0 = Date.now();
const OK = { me: 200, list: 200, create: 201, read: 200, login: 200,
	signup: 201 };

let ctl = { phase: "setup", gen: 0, stop: false };
const gens = new Array(Number(nclients)).fill(-1);	// cookie generations
const stats = {};
const failures = [];
const acked = [];

function readControl() {
	try {
		ctl = JSON.parse(fs.readFileSync(control, "utf8"));
	} catch (e) {
		// Being rewritten: keep the last one.
	}
	if ((Date.now() - t0) / 1000 > Number(maxSecs))
		ctl.stop = true;
}

function count(phase, op, outcome, host) {
	const s = stats[phase] || (stats[phase] = { requests: 0, ok: 0,
		outcomes: {}, hosts: {} });
	s.requests++;
	s.outcomes[outcome] = (s.outcomes[outcome] || 0) + 1;
	if (outcome === String(OK[op])) {
		s.ok++;
		s.hosts[host || "?"] = (s.hosts[host || "?"] || 0) + 1;
	} else if (failures.length < 300) {
		failures.push({ t: +((Date.now() - t0) / 1000).toFixed(2),
			phase, op, outcome, host });
	}
}

// One request; resolves to {status, body, headers} or {error}.
function request(agent, method, p, body, cookie) {
	return new Promise((resolve) => {
		const headers = { Accept: "application/json" };
		let data = null;
		if (body !== undefined) {
			data = Buffer.from(JSON.stringify(body));
			headers["Content-Type"] = "application/json";
			headers["Content-Length"] = data.length;
			headers.Origin = url.origin;
		}
		if (cookie)
			headers.Cookie = cookie;
		const req = http.request({ host: url.hostname, port: url.port,
			method, path: p, headers, agent }, (res) => {
			const chunks = [];
			res.on("data", (c) => chunks.push(c));
			res.on("end", () => resolve({ status: res.statusCode,
				headers: res.headers,
				body: Buffer.concat(chunks).toString() }));
			res.on("error", (e) => resolve({ error: e.code || "error" }));
		});
		req.setTimeout(10000, () => req.destroy(Object.assign(
			new Error("timeout"), { code: "timeout" })));
		req.on("error", (e) => resolve({ error: e.code || "error" }));
		if (data)
			req.write(data);
		req.end();
	});
}

async function client(i) {
	// Each client its own address, as real users behind the balancer
	// are: login throttling counts attempts per client address before
	// checking the password, so eight clients logging in at once from one
	// address would look like a burst of guesses from it. Not 127.0.7.x:
	// cluster.sh trusts that range as a proxy, and a request whose every
	// hop is trusted counts as the balancer's own address.
	const agent = new http.Agent({ keepAlive: true, maxSockets: 1,
		localAddress: `127.0.8.${i + 1}` });
	const user = `load${i}x${process.pid}`;
	const creds = { username: user, password: `pw-${user}-long` };
	const mine = [];
	let cookie = null, gen = -1, n = 0;

	const call = async (op, method, p, body) => {
		const phase = ctl.phase;
		const r = await request(agent, method, p, body, cookie);
		const host = r.headers ? r.headers["x-board-host"] : undefined;
		let outcome = r.error ? r.error : String(r.status);
		let json = null;
		if (!r.error) {
			try {
				json = JSON.parse(r.body);
			} catch (e) {
				if (r.status !== 204)
					outcome = "not-json-" + r.status;
			}
		}
		return { phase, r, host, outcome, json };
	};

	// Sign up (once: 201, or 409 if a retry finds the first one worked).
	while (!ctl.stop) {
		const c = await call("signup", "POST", "/api/auth/signup", creds);
		count(c.phase, "signup", c.outcome === "409" ? "201" :
			c.outcome, c.host);
		if (c.outcome === "201" || c.outcome === "409")
			break;
		await sleep(200);
	}
	while (!ctl.stop && n < maxPerClient) {
		if (gen !== ctl.gen) {
			const want = ctl.gen;
			const c = await call("login", "POST", "/api/auth/login", creds);
			count(c.phase, "login", c.outcome, c.host);
			const sc = c.r.headers && c.r.headers["set-cookie"];
			if (c.outcome === "200" && sc) {
				cookie = sc[0].split(";")[0];
				gen = gens[i] = want;
			} else {
				await sleep(200);
			}
			continue;
		}
		n++;
		const k = [0, 1, 3, 0, 2, 3, 0, 3][n % 8];
		if (k === 0) {
			const c = await call("me", "GET", "/api/auth/me");
			if (c.outcome === "200" && (!c.json ||
			    c.json.username !== user))
				c.outcome = "mismatch";
			count(c.phase, "me", c.outcome, c.host);
		} else if (k === 1) {
			const c = await call("list", "GET", "/api/posts?limit=10");
			if (c.outcome === "200" && !Array.isArray(c.json &&
			    c.json.posts))
				c.outcome = "mismatch";
			count(c.phase, "list", c.outcome, c.host);
		} else if (k === 2 || mine.length === 0) {
			const post = { title: `t ${user} ${n}`,
				content: `content of post ${n} by ${user}: ${"é".repeat(n % 7)}` };
			const c = await call("create", "POST", "/api/posts", post);
			if (c.outcome === "201") {
				if (c.json && c.json.id && c.json.title === post.title &&
				    c.json.content === post.content) {
					const a = { id: c.json.id, ...post };
					mine.push(a);
					acked.push(a);
				} else {
					c.outcome = "mismatch";
				}
			}
			count(c.phase, "create", c.outcome, c.host);
		} else {
			const a = mine[Math.floor(Math.random() * mine.length)];
			const c = await call("read", "GET", `/api/posts/${a.id}`);
			if (c.outcome === "200" && (!c.json || c.json.id !== a.id ||
			    c.json.title !== a.title || c.json.content !== a.content))
				c.outcome = "mismatch";
			count(c.phase, "read", c.outcome, c.host);
		}
		if (pauseMs > 0)
			await sleep(pauseMs);
	}
	agent.destroy();
}

function sleep(ms) {
	return new Promise((r) => setTimeout(r, ms));
}

async function main() {
	readControl();
	const timer = setInterval(readControl, 100);
	// The oldest cookie generation any client holds.
	const genTimer = setInterval(() => {
		fs.writeFileSync(path.join(outdir, "gen.tmp"),
			`${Math.min(...gens)}\n`);
		fs.renameSync(path.join(outdir, "gen.tmp"), path.join(outdir, "gen"));
	}, 100);
	const clients = [];
	for (let i = 0; i < Number(nclients); i++)
		clients.push(client(i));
	await Promise.all(clients);
	clearInterval(timer);
	clearInterval(genTimer);
	stats._failures = failures;
	fs.writeFileSync(path.join(outdir, "stats.json"),
		JSON.stringify(stats, null, 1));
	fs.writeFileSync(path.join(outdir, "acked.jsonl"),
		acked.map((a) => JSON.stringify(a)).join("\n") + (acked.length ?
		"\n" : ""));
}

async function verify(vbase, ackedFile) {
	const vurl = new URL(vbase);
	const list = fs.readFileSync(ackedFile, "utf8").split("\n")
		.filter((l) => l !== "").map((l) => JSON.parse(l));
	const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
	const out = { checked: 0, missing: 0, changed: 0, errors: 0, first: [] };
	let next = 0;
	const one = (a) => new Promise((resolve) => {
		const req = http.get({ host: vurl.hostname, port: vurl.port,
			path: `/api/posts/${a.id}`, agent }, (res) => {
			const chunks = [];
			res.on("data", (c) => chunks.push(c));
			res.on("end", () => resolve({ status: res.statusCode,
				body: Buffer.concat(chunks).toString() }));
		});
		req.setTimeout(10000, () => req.destroy(new Error("timeout")));
		req.on("error", (e) => resolve({ error: e.message }));
	});
	const worker = async () => {
		while (next < list.length) {
			const a = list[next++];
			const r = await one(a);
			out.checked++;
			let what = null;
			if (r.error || r.status >= 500)
				what = "errors";
			else if (r.status === 404)
				what = "missing";
			else {
				let j = null;
				try { j = JSON.parse(r.body); } catch (e) { }
				if (r.status !== 200 || !j || j.id !== a.id ||
				    j.title !== a.title || j.content !== a.content)
					what = "changed";
			}
			if (what) {
				out[what]++;
				if (out.first.length < 5)
					out.first.push({ id: a.id, what,
						status: r.status || r.error });
			}
		}
	};
	await Promise.all(Array.from({ length: 8 }, worker));
	agent.destroy();
	console.log(JSON.stringify(out));
}

main().catch((e) => {
	console.error(e);
	process.exit(1);
});
