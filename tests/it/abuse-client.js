// abuse-client.js: slow and abusive HTTP clients for tests/it/abuse.sh.
// Each mode prints one JSON line per connection (or per port) and exits 0;
// times are seconds since the connection was made.
//
//   slow PORT DELAY_MS FILE
//	send FILE (a raw HTTP request) one byte at a time, DELAY_MS apart;
//	{"status": 201, "at": 4.2, "sent": 250, "closed": false}
//   stall PORT FILE N PAUSE_MS
//	send the first N bytes of FILE, pause PAUSE_MS, then try the rest;
//	{"status": 408 | null, "at": ..., "closedAt": 10.0 | null, "sent": N}
//   shortclose PORT FILE N
//	send the first N bytes of FILE and shut down the sending side (as a
//	client does that gives up); wait up to 5 s for an answer or a close
//   flood COUNT MAX_S PORT...
//	open COUNT connections to each port, half of them idle, half having
//	sent part of a request's header; print {"open": N} once all are
//	connected, then wait (at most MAX_S) for the server to close them and
//	print per port {"port", "opened", "failed", "idleClosed",
//	"partialClosed", "lastClose"}; then close what is left.
"use strict";
const net = require("net");
const fs = require("fs");

const [mode, ...args] = process.argv.slice(2);
// Part of a request's header: no end of line, no blank line.
const PARTIAL = "POST /api/posts HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
	"Content-Type: appl";

function secs(t0) {
	return +((Date.now() - t0) / 1000).toFixed(2);
}

function track(sock, t0, out) {
	let buf = "";
	sock.on("data", (d) => {
		if (out.status === null) {
			buf += d.toString("latin1");
			const m = /^HTTP\/1\.[01] (\d{3})/.exec(buf);
			if (m) {
				out.status = Number(m[1]);
				out.at = secs(t0);
			}
		}
	});
	sock.on("error", (e) => { out.error = e.code; });
	sock.on("close", () => {
		if (out.closedAt === null)
			out.closedAt = secs(t0);
	});
}

function finish(out) {
	console.log(JSON.stringify(out));
	process.exit(0);
}

if (mode === "slow") {
	const [port, delay, file] = [Number(args[0]), Number(args[1]), args[2]];
	const req = fs.readFileSync(file);
	const out = { status: null, at: null, closedAt: null, sent: 0 };
	const sock = net.connect(port, "127.0.0.1", () => {
		const t0 = Date.now();
		sock.setNoDelay(true);
		track(sock, t0, out);
		const step = () => {
			if (out.closedAt !== null || sock.destroyed)
				return;
			if (out.sent === req.length)
				return;
			sock.write(req.subarray(out.sent, out.sent + 1));
			out.sent++;
			setTimeout(step, delay);
		};
		step();
		sock.on("close", () => finish(out));
		setTimeout(() => { sock.destroy(); }, 60000);
	});
} else if (mode === "stall") {
	const [port, file] = [Number(args[0]), args[1]];
	const [n, pause] = [Number(args[2]), Number(args[3])];
	const req = fs.readFileSync(file);
	const out = { status: null, at: null, closedAt: null, sent: 0 };
	const sock = net.connect(port, "127.0.0.1", () => {
		const t0 = Date.now();
		track(sock, t0, out);
		sock.write(req.subarray(0, n));
		out.sent = n;
		setTimeout(() => {
			if (!sock.destroyed && out.closedAt === null) {
				sock.write(req.subarray(n));
				out.sent = req.length;
			}
			// Whatever comes now, within 5 s.
			setTimeout(() => { sock.destroy(); }, 5000);
		}, pause);
		sock.on("close", () => {
			// Report once the pause is over, so "sent" is final.
			const left = pause - (Date.now() - t0);
			setTimeout(() => finish(out), Math.max(0, left + 10));
		});
	});
} else if (mode === "shortclose") {
	const [port, file, n] = [Number(args[0]), args[1], Number(args[2])];
	const req = fs.readFileSync(file);
	const out = { status: null, at: null, closedAt: null, sent: n };
	const sock = net.connect(port, "127.0.0.1", () => {
		const t0 = Date.now();
		track(sock, t0, out);
		sock.end(req.subarray(0, n));
		sock.on("close", () => finish(out));
		setTimeout(() => { sock.destroy(); }, 5000);
	});
} else if (mode === "flood") {
	const count = Number(args[0]), maxS = Number(args[1]);
	const ports = args.slice(2).map(Number);
	const t0 = Date.now();
	const stats = new Map(ports.map((p) => [p, { port: p,
		opened: 0, failed: 0, idleClosed: 0, partialClosed: 0,
		lastClose: null }]));
	const socks = [];
	let pending = count * ports.length;
	let announced = false;
	const announce = () => {
		if (announced)
			return;
		announced = true;
		console.log(JSON.stringify({ open: socks.length,
			at: secs(t0) }));
		const deadline = setTimeout(report, maxS * 1000);
		const poll = setInterval(() => {
			if (socks.every((s) => s.closedByServer || s.failed)) {
				clearTimeout(deadline);
				clearInterval(poll);
				report();
			}
		}, 100);
	};
	const report = () => {
		for (const s of stats.values())
			console.log(JSON.stringify(s));
		for (const s of socks)
			s.sock.destroy();
		process.exit(0);
	};
	let i = 0;
	// Open them in batches of 100, so that the listen backlog is not
	// the thing being tested.
	const batch = () => {
		for (let k = 0; k < 100 && i < count * ports.length; k++, i++) {
			const port = ports[i % ports.length];
			const partial = Math.floor(i / ports.length) % 2 === 1;
			const st = stats.get(port);
			const s = { sock: null, connected: false,
				closedByServer: false, failed: false };
			s.sock = net.connect(port, "127.0.0.1", () => {
				s.connected = true;
				st.opened++;
				if (partial)
					s.sock.write(PARTIAL);
				if (--pending === 0)
					announce();
			});
			s.sock.on("error", () => {});
			s.sock.on("close", () => {
				if (!s.connected) {
					s.failed = true;
					st.failed++;
					if (--pending === 0)
						announce();
					return;
				}
				s.closedByServer = true;
				if (partial)
					st.partialClosed++;
				else
					st.idleClosed++;
				st.lastClose = secs(t0);
			});
			socks.push(s);
		}
		if (i < count * ports.length)
			setTimeout(batch, 20);
	};
	batch();
	setTimeout(announce, 15000);
} else {
	console.error("usage: abuse-client.js slow|stall|shortclose|flood ...");
	process.exit(2);
}
