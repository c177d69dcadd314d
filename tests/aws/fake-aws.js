// fake-aws.js: a loopback stand-in for AWS Secrets Manager, the ECS
// credentials endpoint and EC2 IMDSv2, for the tests.
//
// It rejects what AWS rejects: every Secrets Manager request's SigV4
// signature is recomputed with the official AWS JavaScript signer
// (@smithy/signature-v4, pinned in tests/package.json) over the headers the
// client says it signed, with the request's own X-Amz-Date; a mismatch gets
// AWS's 400 InvalidSignatureException. Keys, session tokens, expiry, the
// target header and the content type are checked as AWS does.
//
// Usage: node tests/aws/fake-aws.js [--region us-east-1]
// (packages from $BOARD_NODE_MODULES, else tests/node_modules)
// Listens on 127.0.0.1:<ephemeral> and prints "PORT=<n>" when ready.
//
// Routes
//   POST /                        Secrets Manager (awsJson1_1)
//   GET  /ecs/...                 ECS task-role credentials (any path)
//   PUT  /latest/api/token        IMDSv2 token
//   GET  /latest/meta-data/iam/security-credentials/[ROLE]
//   GET  /_admin/state            counters and the request log
//   POST /_admin/reset            forget counters and the log
//   POST /_admin/keys             {id, secret} add a long-term key
//   POST /_admin/secret           {name, value | secretString |
//                                  secretBinary, denied} create/replace
//   POST /_admin/deny             {name, denied}: refuse (or allow) it
//   POST /_admin/rotate           {name, value}: new AWSCURRENT, the old
//                                  one becomes AWSPREVIOUS
//   POST /_admin/credentials      {ttl}: lifetime of credentials issued
//                                  from now on (s); {expire: true}: every
//                                  issued temporary key now expired;
//                                  {issue: true}: returns new temporary
//                                  credentials {AccessKeyId, ...}
//   POST /_admin/ecs              {token}: Authorization the ECS endpoint
//                                  requires (null: none)
//   POST /_admin/imds             {v2: bool, putStatus: n, role: s}
'use strict';

const http = require('node:http');
const crypto = require('node:crypto');
const path = require('node:path');

const modules = process.env.BOARD_NODE_MODULES ||
	path.join(__dirname, '..', 'node_modules');
const { SignatureV4 } = require(path.join(modules, '@smithy/signature-v4'));
const { Sha256 } = require(path.join(modules, '@aws-crypto/sha256-js'));
const { HttpRequest } = require(path.join(modules, '@smithy/core/protocols'));

const argRegion = process.argv.indexOf('--region');
const REGION = argRegion > 0 ? process.argv[argRegion + 1] : 'us-east-1';
const ACCOUNT = '123456789012';

// Long-term keys: id -> secret. Temporary ones: id -> {secret, token, exp}.
const keys = new Map([['AKIDFAKEAWSTEST00001', 'fake/secret/key/for/tests/only/0001']]);
const temp = new Map();
const secrets = new Map();
let credTtl = 3600;
let ecsToken = null;
const imds = { v2: true, putStatus: 200, role: 'board-test-role', tokens: new Set() };
let counters;
let log;

function resetCounters() {
	counters = { sm: 0, smOk: 0, ecs: 0, imdsToken: 0, imdsRole: 0,
		imdsCreds: 0, imdsV1: 0, errors: {} };
	log = [];
}
resetCounters();

function rand(n) {
	return crypto.randomBytes(n).toString('base64').replace(/[^A-Za-z0-9]/g, '').slice(0, n);
}

function issue(source) {
	const id = 'ASIA' + rand(16).toUpperCase().padEnd(16, 'X');
	const c = { secret: rand(40), token: 'IQoJ' + rand(120),
		exp: Date.now() + credTtl * 1000, source };
	temp.set(id, c);
	return {
		AccessKeyId: id, SecretAccessKey: c.secret, Token: c.token,
		Expiration: new Date(c.exp).toISOString().replace(/\.\d{3}Z$/, 'Z'),
	};
}

function send(res, status, body, headers = {}) {
	const text = typeof body === 'string' ? body : JSON.stringify(body);
	res.writeHead(status, { 'Content-Length': Buffer.byteLength(text), ...headers });
	res.end(text);
}

// AWS's error shape for awsJson1_1: both the header (with the coral
// suffix AWS appends) and __type, so clients exercise the cleaning rule.
function awsError(res, status, code, message, entry) {
	counters.errors[code] = (counters.errors[code] || 0) + 1;
	if (entry)
		entry.result = code;
	send(res, status, { __type: code, message }, {
		'Content-Type': 'application/x-amz-json-1.1',
		'X-Amzn-Errortype': `${code}:http://internal.amazon.com/coral/com.amazon.coral.service/`,
		'X-Amzn-Requestid': crypto.randomUUID(),
	});
}

function newVersion(s, secretString, secretBinary) {
	const v = { id: crypto.randomUUID(), secretString, secretBinary,
		created: Math.floor(Date.now() / 1000), stages: ['AWSCURRENT'] };
	for (const old of s.versions) {
		if (old.stages.includes('AWSPREVIOUS'))
			old.stages = old.stages.filter((x) => x !== 'AWSPREVIOUS');
		if (old.stages.includes('AWSCURRENT'))
			old.stages = ['AWSPREVIOUS'];
	}
	s.versions.push(v);
}

function putSecret(b) {
	const s = { name: b.name, denied: !!b.denied, versions: [],
		arn: `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${b.name}-${rand(6)}` };
	const str = b.secretString !== undefined ? b.secretString
		: b.value !== undefined ? JSON.stringify({ session_secret_key: b.value }) : undefined;
	newVersion(s, str, b.secretBinary);
	secrets.set(b.name, s);
	return s;
}

function parseAmzDate(s) {
	const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s || '');
	if (!m)
		return null;
	return new Date(Date.UTC(+m[1], m[2] - 1, +m[3], +m[4], +m[5], +m[6]));
}

async function secretsManager(req, res, body) {
	const h = req.headers;
	const entry = { target: h['x-amz-target'], key: null, signedHeaders: null,
		stage: null, result: null };
	counters.sm++;
	log.push(entry);

	const auth = h.authorization || '';
	const m = /^AWS4-HMAC-SHA256 Credential=([^/,\s]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/.exec(auth);
	if (!m)
		return awsError(res, 400, 'MissingAuthenticationTokenException',
			'Missing Authentication Token', entry);
	const [, akid, day, region, service, signedList, signature] = m;
	entry.key = akid;
	entry.signedHeaders = signedList;

	let cred;
	if (keys.has(akid)) {
		if (h['x-amz-security-token'] !== undefined)
			return awsError(res, 400, 'UnrecognizedClientException',
				'The security token included in the request is invalid.', entry);
		cred = { accessKeyId: akid, secretAccessKey: keys.get(akid) };
	} else if (temp.has(akid)) {
		const t = temp.get(akid);
		if (h['x-amz-security-token'] !== t.token)
			return awsError(res, 400, 'UnrecognizedClientException',
				'The security token included in the request is invalid.', entry);
		if (Date.now() >= t.exp)
			return awsError(res, 400, 'ExpiredTokenException',
				'The security token included in the request is expired', entry);
		cred = { accessKeyId: akid, secretAccessKey: t.secret, sessionToken: t.token };
	} else {
		return awsError(res, 400, 'UnrecognizedClientException',
			'The security token included in the request is invalid.', entry);
	}

	const date = parseAmzDate(h['x-amz-date']);
	if (!date)
		return awsError(res, 400, 'IncompleteSignatureException',
			'Authorization header requires existence of either a \'X-Amz-Date\' or a \'Date\' header.', entry);
	if (Math.abs(Date.now() - date.getTime()) > 15 * 60 * 1000)
		return awsError(res, 400, 'InvalidSignatureException',
			'Signature expired: the request time is more than 15 minutes from now', entry);
	if (day !== h['x-amz-date'].slice(0, 8) || region !== REGION || service !== 'secretsmanager')
		return awsError(res, 400, 'InvalidSignatureException',
			`Credential should be scoped to a valid region, service and date: ${day}/${region}/${service}`, entry);

	// AWS: host and every x-amz-* header sent must be signed.
	const signed = signedList.split(';');
	const mustSign = ['host', ...Object.keys(h).filter((n) => n.startsWith('x-amz-'))];
	for (const n of mustSign)
		if (!signed.includes(n))
			return awsError(res, 400, 'InvalidSignatureException',
				`'${n}' must be a signed header`, entry);

	const headers = {};
	for (const n of signed) {
		if (h[n] === undefined)
			return awsError(res, 400, 'InvalidSignatureException',
				`Signed header '${n}' is missing`, entry);
		headers[n] = h[n];
	}
	const url = new URL(req.url, `http://${h.host}`);
	const query = {};
	for (const [k, v] of url.searchParams)
		query[k] = v;
	const signer = new SignatureV4({ credentials: cred, region: REGION,
		service: 'secretsmanager', sha256: Sha256, applyChecksum: false,
		uriEscapePath: true });
	const signedReq = await signer.sign(new HttpRequest({
		method: req.method, protocol: 'http:', hostname: url.hostname,
		port: url.port ? +url.port : undefined, path: url.pathname, query,
		headers, body,
	}), { signingDate: date, signableHeaders: new Set(signed) });
	const want = /Signature=([0-9a-f]{64})/.exec(signedReq.headers.authorization)[1];
	if (!crypto.timingSafeEqual(Buffer.from(want), Buffer.from(signature)))
		return awsError(res, 400, 'InvalidSignatureException',
			'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.', entry);

	if (req.method !== 'POST' || url.pathname !== '/')
		return awsError(res, 404, 'UnknownOperationException', 'Not found', entry);
	if (h['content-type'] !== 'application/x-amz-json-1.1')
		return awsError(res, 400, 'com.amazon.coral.service#SerializationException',
			'Unsupported content type', entry);
	if (h['x-amz-target'] !== 'secretsmanager.GetSecretValue')
		return awsError(res, 400, 'com.amazon.coral.service#UnknownOperationException',
			'Unknown operation', entry);

	let input;
	try {
		input = JSON.parse(body);
	} catch {
		return awsError(res, 400, 'SerializationException', 'Malformed JSON', entry);
	}
	if (typeof input.SecretId !== 'string' || input.SecretId.length < 1 || input.SecretId.length > 2048)
		return awsError(res, 400, 'ValidationException', 'Invalid SecretId', entry);
	const stage = input.VersionStage || 'AWSCURRENT';
	entry.stage = stage;
	const s = secrets.get(input.SecretId) ||
		[...secrets.values()].find((x) => x.arn === input.SecretId);
	if (s && s.denied)
		return awsError(res, 400, 'AccessDeniedException',
			`User: arn:aws:sts::${ACCOUNT}:assumed-role/board/test is not authorized to perform: secretsmanager:GetSecretValue on resource: ${input.SecretId} because no identity-based policy allows the secretsmanager:GetSecretValue action`, entry);
	if (!s)
		return awsError(res, 400, 'ResourceNotFoundException',
			'Secrets Manager can\'t find the specified secret.', entry);
	const v = s.versions.find((x) => x.stages.includes(stage));
	if (!v)
		return awsError(res, 400, 'ResourceNotFoundException',
			`Secrets Manager can't find the specified secret value for staging label: ${stage}`, entry);
	const out = { ARN: s.arn, Name: s.name, VersionId: v.id,
		VersionStages: v.stages, CreatedDate: v.created };
	if (v.secretString !== undefined)
		out.SecretString = v.secretString;
	if (v.secretBinary !== undefined)
		out.SecretBinary = Buffer.from(v.secretBinary).toString('base64');
	counters.smOk++;
	entry.result = 'OK';
	send(res, 200, out, { 'Content-Type': 'application/x-amz-json-1.1' });
}

function ecs(req, res) {
	counters.ecs++;
	if (ecsToken !== null && req.headers.authorization !== ecsToken)
		return send(res, 401, { message: 'unauthorized' });
	const c = issue('ecs');
	send(res, 200, { RoleArn: `arn:aws:iam::${ACCOUNT}:role/board`, ...c },
		{ 'Content-Type': 'application/json' });
}

function imdsRequest(req, res, url) {
	if (url.pathname === '/latest/api/token') {
		counters.imdsToken++;
		if (req.method !== 'PUT')
			return send(res, 405, '');
		if (imds.putStatus !== 200)
			return send(res, imds.putStatus, '');
		const ttl = +req.headers['x-aws-ec2-metadata-token-ttl-seconds'];
		if (!(ttl >= 1 && ttl <= 21600))
			return send(res, 400, '');
		const t = 'AQAEA' + rand(40);
		imds.tokens.add(t);
		return send(res, 200, t, { 'X-aws-ec2-metadata-token-ttl-seconds': String(ttl) });
	}
	const tok = req.headers['x-aws-ec2-metadata-token'];
	if (tok === undefined) {
		if (imds.v2)
			return send(res, 401, '');
		counters.imdsV1++;
	} else if (!imds.tokens.has(tok)) {
		return send(res, 401, '');
	}
	const base = '/latest/meta-data/iam/security-credentials/';
	if (url.pathname === base) {
		counters.imdsRole++;
		return imds.role ? send(res, 200, imds.role) : send(res, 404, '');
	}
	if (url.pathname === base + imds.role) {
		counters.imdsCreds++;
		const c = issue('imds');
		return send(res, 200, { Code: 'Success', LastUpdated: new Date().toISOString(),
			Type: 'AWS-HMAC', ...c });
	}
	send(res, 404, '');
}

function admin(req, res, url, body) {
	let b = {};
	if (body.length) {
		try {
			b = JSON.parse(body);
		} catch {
			return send(res, 400, { error: 'bad json' });
		}
	}
	switch (url.pathname) {
	case '/_admin/state':
		return send(res, 200, { counters, log });
	case '/_admin/reset':
		resetCounters();
		return send(res, 200, {});
	case '/_admin/keys':
		keys.set(b.id, b.secret);
		return send(res, 200, {});
	case '/_admin/secret':
		putSecret(b);
		return send(res, 200, {});
	case '/_admin/deny': {
		const s = secrets.get(b.name);
		if (!s)
			return send(res, 404, { error: 'no such secret' });
		s.denied = !!b.denied;
		return send(res, 200, {});
	}
	case '/_admin/rotate': {
		const s = secrets.get(b.name);
		if (!s)
			return send(res, 404, { error: 'no such secret' });
		newVersion(s, JSON.stringify({ session_secret_key: b.value }));
		return send(res, 200, {});
	}
	case '/_admin/credentials':
		if (b.ttl !== undefined)
			credTtl = b.ttl;
		if (b.expire)
			for (const t of temp.values())
				t.exp = Date.now() - 1000;
		return send(res, 200, b.issue ? issue('admin') : {});
	case '/_admin/ecs':
		ecsToken = b.token === undefined ? null : b.token;
		return send(res, 200, {});
	case '/_admin/imds':
		for (const k of ['v2', 'putStatus', 'role'])
			if (b[k] !== undefined)
				imds[k] = b[k];
		return send(res, 200, {});
	default:
		return send(res, 404, { error: 'no such admin route' });
	}
}

const server = http.createServer((req, res) => {
	const chunks = [];
	let size = 0;
	req.on('data', (c) => {
		size += c.length;
		if (size <= 1 << 20)
			chunks.push(c);
	});
	req.on('end', () => {
		const body = Buffer.concat(chunks).toString('utf8');
		const url = new URL(req.url, 'http://127.0.0.1');
		Promise.resolve().then(() => {
			if (url.pathname.startsWith('/_admin/'))
				return admin(req, res, url, body);
			if (url.pathname.startsWith('/ecs/'))
				return ecs(req, res);
			if (url.pathname.startsWith('/latest/'))
				return imdsRequest(req, res, url);
			return secretsManager(req, res, body);
		}).catch((e) => {
			process.stderr.write(`fake-aws: ${e.stack}\n`);
			if (!res.headersSent)
				awsError(res, 500, 'InternalServiceError', 'stand-in failure');
		});
	});
});

server.listen(0, '127.0.0.1', () => {
	process.stdout.write(`PORT=${server.address().port}\n`);
});
for (const sig of ['SIGTERM', 'SIGINT'])
	process.on(sig, () => process.exit(0));
