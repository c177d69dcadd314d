// app.js: an Express 4 + express-session + connect-redis app configured as
// the Node service board replaces, for checking that sessions cross over.
// Env: REDIS_SOCKET (unix socket path) or REDIS_URL; SECRETS (newline
// separated, the first signs); LISTEN (a unix socket path or a port).
'use strict';
const express = require('express');
const session = require('express-session');
const RedisStore = require('connect-redis').default;
const { createClient } = require('redis');

const secrets = (process.env.SECRETS || '').split('\n').filter((s) => s);
if (secrets.length === 0) {
	console.error('app.js: SECRETS is empty');
	process.exit(2);
}
const client = process.env.REDIS_SOCKET ?
	createClient({ socket: { path: process.env.REDIS_SOCKET } }) :
	createClient({ url: process.env.REDIS_URL });
client.on('error', (err) => console.error('redis:', err.message));

const app = express();
app.use(express.json());
app.use(session({
	name: 'board.sid',
	secret: secrets,
	store: new RedisStore({ client }),
	resave: false,
	saveUninitialized: false,
	cookie: { httpOnly: true, sameSite: 'lax', secure: false,
		maxAge: 86400000, path: '/' },
}));

app.post('/mint', (req, res, next) => {
	req.session.regenerate((err) => {
		if (err)
			return next(err);
		req.session.userId = req.body.userId;
		req.session.username = req.body.username;
		res.json({ ok: true });
	});
});

app.get('/whoami', (req, res) => {
	if (!req.session.userId)
		return res.status(401).json({ error: 'unauthorized' });
	res.json({ userId: req.session.userId, username: req.session.username });
});

client.connect().then(() => {
	const where = process.env.LISTEN || '0';
	const server = /^\d+$/.test(where) ?
		app.listen(Number(where), '127.0.0.1') : app.listen(where);
	server.on('listening', () => console.error('app.js: listening'));
	process.on('SIGTERM', () => {
		server.close();
		client.quit().finally(() => process.exit(0));
	});
}, (err) => {
	console.error('app.js: redis:', err.message);
	process.exit(1);
});
