// errors-client.js: raw-socket HTTP client and fake FastCGI responders for
// tests/it/errors.sh. Every mode exits by itself within its time bound.
//
//   send PORT FILE [MAX_S [N PAUSE_MS]]
//	connect to 127.0.0.1:PORT, write FILE (a raw request, bytes as they
//	are), and read until the server closes or MAX_S (default 10) pass;
//	with N and PAUSE_MS, write the first N bytes, pause, then the rest.
//	Write errors (the server may answer and close before the whole
//	request is sent) are noted, not fatal. Prints one JSON line:
//	{"status": 400 | null, "version": "HTTP/1.1", "headers": {lower-case
//	name: last value}, "body": "...", "http09": true when bytes came back
//	without a status line, "closedAt": seconds | null, "error": code}
//   fcgi SOCKET die|stuck MAX_S
//	a fake FastCGI responder on the unix socket SOCKET: "die" reads each
//	request to its end (the empty FCGI_STDIN record) and then closes the
//	connection without a word, as a worker killed mid-request does;
//	"stuck" reads and never answers. Prints "ready" once listening, one
//	line per request it took, and exits after MAX_S.
"use strict";
const net = require("net");
const fs = require("fs");

const [mode, ...args] = process.argv.slice(2);

function send(port, file, maxS, n, pauseMs) {
	const req = fs.readFileSync(file);
	const t0 = Date.now();
	const out = { status: null, version: null, headers: {}, body: "",
		http09: false, closedAt: null, error: null, bytesSent: 0 };
	const chunks = [];
	const sock = net.connect(port, "127.0.0.1");
	let done = false;
	const finish = () => {
		if (done)
			return;
		done = true;
		const raw = Buffer.concat(chunks);
		const text = raw.toString("latin1");
		const m = /^(HTTP\/\d\.\d) (\d{3})[^\r\n]*\r\n/.exec(text);
		if (m) {
			out.version = m[1];
			out.status = Number(m[2]);
			const end = text.indexOf("\r\n\r\n");
			const head = end < 0 ? text : text.slice(0, end);
			for (const line of head.split("\r\n").slice(1)) {
				const c = line.indexOf(":");
				if (c > 0)
					out.headers[line.slice(0, c).toLowerCase()] =
					    line.slice(c + 1).trim();
			}
			if (end >= 0)
				out.body = raw.subarray(end + 4).toString("utf8");
		} else if (raw.length > 0) {
			out.http09 = true;
			out.body = raw.toString("utf8");
		}
		console.log(JSON.stringify(out));
		sock.destroy();
		process.exit(0);
	};
	const write = (buf) => {
		sock.write(buf, (e) => {
			if (!e)
				out.bytesSent += buf.length;
		});
	};
	sock.on("connect", () => {
		if (n === undefined || n >= req.length) {
			write(req);
			return;
		}
		write(req.subarray(0, n));
		setTimeout(() => {
			if (!sock.destroyed)
				write(req.subarray(n));
		}, pauseMs);
	});
	sock.on("data", (d) => chunks.push(d));
	sock.on("error", (e) => { out.error = out.error || e.code; });
	sock.on("close", () => {
		out.closedAt = +((Date.now() - t0) / 1000).toFixed(2);
		finish();
	});
	setTimeout(finish, maxS * 1000);
}

function fcgi(path, how, maxS) {
	try {
		fs.unlinkSync(path);
	} catch (e) {
		// none left over
	}
	const server = net.createServer((sock) => {
		let buf = Buffer.alloc(0);
		sock.on("error", () => {});
		sock.on("data", (d) => {
			buf = Buffer.concat([buf, d]);
			// Records: version, type, request id (2), content length
			// (2), padding length, reserved; FCGI_STDIN is type 5.
			while (buf.length >= 8) {
				const type = buf[1];
				const len = buf.readUInt16BE(4) + buf[6];
				if (buf.length < 8 + len)
					break;
				const empty = buf.readUInt16BE(4) === 0;
				buf = buf.subarray(8 + len);
				if (type === 5 && empty) {
					console.log(`request ${how}`);
					if (how === "die")
						sock.destroy();
				}
			}
		});
	});
	server.listen(path, () => console.log("ready"));
	setTimeout(() => process.exit(0), maxS * 1000);
	process.on("SIGTERM", () => process.exit(0));
}

if (mode === "send") {
	const [port, file, maxS, n, pause] = args;
	send(Number(port), file, Number(maxS || 10),
	    n === undefined ? undefined : Number(n), Number(pause || 0));
} else if (mode === "fcgi") {
	fcgi(args[0], args[1], Number(args[2] || 60));
} else {
	console.error("usage: errors-client.js send PORT FILE [MAX_S [N PAUSE_MS]] | fcgi SOCKET die|stuck MAX_S");
	process.exit(2);
}
