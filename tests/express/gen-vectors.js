// gen-vectors.js: writes tests/data/express-vectors.json from the very
// cookie-signature, cookie and Cookie code express-session 1.19.0 runs.
// Run once from tests/: node express/gen-vectors.js > data/express-vectors.json
'use strict';
const path = require('path');
const es = path.dirname(require.resolve('express-session'));
const req = (m) => require(require.resolve(m, { paths: [es] }));
const signature = req('cookie-signature');
const cookie = req('cookie');
const Cookie = require('express-session').Cookie;

const secrets = [
	'0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef',
	'keyboard cat',
	'k',
	'a secret longer than the sixty-four byte block of SHA-256, so HMAC hashes the key first',
	'sécret ünïcode ☃',
];
const sids = [
	'wQ1pZ7h8m0bT4a6Y3nE2cD9rK5sL1uVx',
	'AbCdEfGhIjKlMnOpQrStUvWxYz012345',
	'-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_',
	'abc',
];
const vectors = [];
for (const secret of secrets) {
	for (const sid of sids) {
		const signed = 's:' + signature.sign(sid, secret);
		const header = cookie.serialize('board.sid', signed, { path: '/' });
		const value = header.slice('board.sid='.length).split(';')[0];
		vectors.push({
			secret_hex: Buffer.from(secret, 'utf8').toString('hex'),
			sid, signed, cookie: value,
		});
	}
}
// The session value connect-redis stores (JSON.stringify of the Session).
const c = new Cookie({ maxAge: 86400000, httpOnly: true, path: '/',
	sameSite: 'lax', secure: false });
const sess = { cookie: c, userId: 'u1', username: 'alice "al" \\ é\n' };
process.stdout.write(JSON.stringify({
	generator: 'express-session 1.19.0 / cookie-signature ' +
	    req('cookie-signature/package.json').version + ' / cookie ' +
	    req('cookie/package.json').version,
	vectors,
	session_json: JSON.stringify(sess),
	session_user_id: sess.userId,
	session_username: sess.username,
}, null, 1) + '\n');
