// The board's HTTP API (see API.md), as promises.
//
// Every call resolves with the parsed JSON body (or null for 204) and rejects
// with an ApiError whose `message` is a sentence meant for a person.

export class ApiError extends Error {
	constructor(status, code, message, extra = {}) {
		super(message);
		this.name = 'ApiError';
		this.status = status;        // HTTP status, 0 when the server was not reached
		this.code = code;            // the API's error code, e.g. "invalid_field"
		this.field = extra.field || null;             // for invalid_field
		this.retryAfter = extra.retryAfter ?? null;   // seconds, for 429
		// The same request may work later: offer a retry button.
		this.retryable = status === 0 || status === 502 || status === 503 ||
			status === 504;
	}
}

// Retry-After is either a number of seconds or an HTTP date.
export function parseRetryAfter(value, now = Date.now()) {
	if (value == null || value === '')
		return null;
	const v = value.trim();
	if (/^\d+$/.test(v))
		return Number(v);
	const when = Date.parse(v);
	if (Number.isNaN(when))
		return null;
	return Math.max(0, Math.ceil((when - now) / 1000));
}

// "45 seconds", "1 minute", "3 minutes", "2 hours"
export function describeWait(seconds) {
	const plural = (n, unit) => `${n} ${unit}${n === 1 ? '' : 's'}`;
	if (seconds < 60)
		return plural(Math.max(1, seconds), 'second');
	if (seconds < 3600)
		return plural(Math.ceil(seconds / 60), 'minute');
	return plural(Math.ceil(seconds / 3600), 'hour');
}

const fallbackMessages = {
	400: 'The request was not accepted. Please check what you entered.',
	401: 'You need to log in first.',
	403: 'You are not allowed to do that.',
	404: 'That could not be found.',
	413: 'That is too long to send.',
	429: 'Too many attempts.',
	502: 'The service is unavailable right now.',
	503: 'The service is unavailable right now.',
	504: 'The service did not answer in time.',
};

export async function api(method, path, body) {
	const init = {
		method,
		credentials: 'same-origin',
		cache: 'no-store',
		headers: { Accept: 'application/json' },
	};
	if (body !== undefined) {
		init.headers['Content-Type'] = 'application/json; charset=utf-8';
		init.body = JSON.stringify(body);
	}

	let res;
	try {
		res = await fetch(path, init);
	} catch (e) {
		throw new ApiError(0, 'network',
			'Could not reach the server. Check your connection and try again.');
	}

	let data = null;
	const text = await res.text().catch(() => '');
	if (text) {
		try {
			data = JSON.parse(text);
		} catch (e) {
			data = null;
		}
	}

	if (res.ok)
		return res.status === 204 ? null : data;

	const code = data && typeof data.error === 'string' ? data.error : 'http_' + res.status;
	let message = data && typeof data.message === 'string' && data.message.trim()
		? data.message.trim()
		: fallbackMessages[res.status] ||
		  `Something went wrong (the server answered ${res.status}).`;
	const extra = {};
	if (data && typeof data.field === 'string')
		extra.field = data.field;
	if (res.status === 429)
		extra.retryAfter = parseRetryAfter(res.headers.get('Retry-After'));
	throw new ApiError(res.status, code, message, extra);
}

export const auth = {
	me: () => api('GET', '/api/auth/me'),
	signup: (username, password) => api('POST', '/api/auth/signup', { username, password }),
	login: (username, password) => api('POST', '/api/auth/login', { username, password }),
	logout: () => api('POST', '/api/auth/logout'),
	changePassword: (currentPassword, newPassword) =>
		api('POST', '/api/auth/password', { currentPassword, newPassword }),
	logoutAll: () => api('POST', '/api/auth/logout-all'),
};

export const posts = {
	list(cursor, limit) {
		const q = new URLSearchParams();
		if (limit)
			q.set('limit', String(limit));
		if (cursor)
			q.set('cursor', cursor);
		const qs = q.toString();
		return api('GET', '/api/posts' + (qs ? '?' + qs : ''));
	},
	get: (id) => api('GET', '/api/posts/' + encodeURIComponent(id)),
	create: (title, content) => api('POST', '/api/posts', { title, content }),
	update: (id, changes) => api('PATCH', '/api/posts/' + encodeURIComponent(id), changes),
	remove: (id) => api('DELETE', '/api/posts/' + encodeURIComponent(id)),
};
