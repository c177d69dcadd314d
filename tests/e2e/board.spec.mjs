// End-to-end tests of the web page (www/) in headless Chromium, printing TAP.
//
//   BOARD_URL=http://127.0.0.1:8080/ node tests/e2e/board.spec.mjs
//
// BOARD_URL          the running stack (default http://127.0.0.1:8080/)
// BOARD_SCREENSHOTS  where screenshots of the main views go
//                    (default tests/e2e/screenshots/)
// BOARD_NODE_MODULES where playwright-core is (default tests/node_modules)
// BOARD_CHROMIUM     the browser (default /usr/bin/chromium; never downloaded)
//
// Plain Node, no test runner: each step prints "ok N - ..." or "not ok N - ...";
// the plan line comes last.

import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const nodeModules = process.env.BOARD_NODE_MODULES || path.join(here, '..', 'node_modules');
const require = createRequire(path.join(nodeModules, 'resolve-from-here.js'));

const BASE = new URL(process.env.BOARD_URL || 'http://127.0.0.1:8080/').href;
const ORIGIN = new URL(BASE).origin;
const SHOTS = process.env.BOARD_SCREENSHOTS || path.join(here, 'screenshots');
const CHROMIUM = process.env.BOARD_CHROMIUM || '/usr/bin/chromium';
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
const STEP_TIMEOUT_MS = 60000;

/* ---------- TAP ---------- */

let count = 0;
let failures = 0;

function diag(text) {
	for (const line of String(text).split('\n'))
		console.log('# ' + line);
}

async function step(name, fn) {
	count++;
	let timer;
	try {
		await Promise.race([
			fn(),
			new Promise((_, reject) => {
				timer = setTimeout(() => reject(new Error(`step timed out after ${STEP_TIMEOUT_MS} ms`)), STEP_TIMEOUT_MS);
			}),
		]);
		console.log(`ok ${count} - ${name}`);
	} catch (err) {
		failures++;
		console.log(`not ok ${count} - ${name}`);
		diag(err && err.stack ? err.stack : err);
	} finally {
		clearTimeout(timer);
	}
}

/* ---------- the API from Node ---------- */

async function call(method, apiPath, body, cookie) {
	const headers = { Accept: 'application/json', Origin: ORIGIN };
	if (body !== undefined)
		headers['Content-Type'] = 'application/json';
	if (cookie)
		headers.Cookie = cookie;
	const res = await fetch(new URL(apiPath, BASE), {
		method, headers, body: body === undefined ? undefined : JSON.stringify(body),
	});
	const text = await res.text();
	let json = null;
	try {
		json = text ? JSON.parse(text) : null;
	} catch (e) {
		json = null;
	}
	return { status: res.status, headers: res.headers, json, text };
}

async function apiUser(username, password) {
	const signup = await call('POST', 'api/auth/signup', { username, password });
	assert.equal(signup.status, 201, `signup ${username}: ${signup.text}`);
	return apiLogin(username, password);
}

async function apiLogin(username, password) {
	const login = await call('POST', 'api/auth/login', { username, password });
	assert.equal(login.status, 200, `login ${username}: ${login.text}`);
	const cookie = login.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
	assert.ok(cookie, 'login set a cookie');
	return { user: login.json, cookie };
}

/* ---------- browser helpers ---------- */

const dialogs = [];
const pageErrors = [];

async function newPage(browser, viewport, storageState) {
	const context = await browser.newContext({ viewport, storageState, locale: 'en-US' });
	context.setDefaultTimeout(10000);
	const page = await context.newPage();
	page.on('dialog', (d) => {
		dialogs.push(d.message());
		d.dismiss().catch(() => {});
	});
	page.on('pageerror', (err) => pageErrors.push('page error: ' + err.message));
	page.on('console', (msg) => {
		// Chromium logs every 4xx answer to fetch; those are expected here.
		if (msg.type() === 'error' && !/^Failed to load resource/.test(msg.text()))
			pageErrors.push('console: ' + msg.text());
	});
	return { context, page };
}

async function open(page, hash) {
	const target = new URL(hash, BASE).href;
	if (page.url() === target)
		await page.reload();
	else
		await page.goto(target);
	await page.locator('#main').waitFor({ state: 'attached' });
}

async function shot(page, name, fullPage = false) {
	await page.screenshot({ path: path.join(SHOTS, name + '.png'), fullPage });
}

async function signedInAs(page, username) {
	await page.locator('#whoami-text', { hasText: 'Signed in as ' + username }).waitFor();
}

async function listIds(page) {
	return page.$$eval('#post-list > li', (lis) => lis.map((li) => li.dataset.id));
}

async function writePost(page, title, content) {
	await open(page, '#/new');
	await page.locator('#new-form').waitFor();
	await page.fill('#new-title', title);
	await page.fill('#new-content', content);
	await page.getByRole('button', { name: 'Publish' }).click();
	await page.locator('#flash', { hasText: 'published' }).waitFor();
	await page.locator('#post-title').waitFor();
	const m = /#\/posts\/(.+)$/.exec(page.url());
	assert.ok(m, 'after publishing the page shows the post: ' + page.url());
	return decodeURIComponent(m[1]);
}

/* ---------- the tests ---------- */

const run = Date.now().toString(36) + Math.random().toString(36).slice(2, 6);
const A = { username: 'a_' + run, password: 'pass-A-' + run };
const B = { username: 'b_' + run, password: 'pass-B-' + run };
const C = { username: 'c_' + run, password: 'pass-C-' + run };
const D = { username: 'd_' + run, password: 'pass-D-' + run, next: 'new-pass-D-' + run };
const KO_TITLE = '안녕하세요 👋 게시판 🎉';
const KO_CONTENT = '한국어 본문입니다.\n이모지: 😀🇰🇷👨‍👩‍👧 끝\n\n  공백도 그대로  ';
const XSS_TITLE = '<img src=x onerror=alert(1)>';
const XSS_CONTENT = '<script>alert(2)</script><b>not bold</b> & &amp;';

// The stack must answer before any test runs; 5 s at most.
async function stackUp() {
	let last = null;
	for (let i = 0; i < 10; i++) {
		try {
			const res = await fetch(new URL('api/health', BASE), { signal: AbortSignal.timeout(2000) });
			if (res.status === 200)
				return null;
			last = 'GET /api/health answered ' + res.status;
		} catch (err) {
			last = err.cause ? err.cause.message || String(err.cause) : err.message;
		}
		await new Promise((r) => setTimeout(r, 500));
	}
	return last;
}

async function main() {
	const down = await stackUp();
	if (down) {
		console.log(`Bail out! no board at ${BASE}: ${down}`);
		process.exitCode = 1;
		return;
	}
	mkdirSync(SHOTS, { recursive: true });
	const { chromium } = require('playwright-core');
	let browser;
	try {
		browser = await chromium.launch({
			executablePath: CHROMIUM,
			args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking',
				'--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
		});
	} catch (err) {
		console.log('not ok 1 - launch Chromium');
		diag(err.stack || err);
		console.log('1..1');
		process.exitCode = 1;
		return;
	}

	try {
		await tests(browser);
	} finally {
		await browser.close();
	}
	console.log(`1..${count}`);
	if (failures)
		diag(`${failures} of ${count} failed`);
	process.exitCode = failures ? 1 : 0;
}

async function tests(browser) {
	diag(`against ${BASE}, run ${run}, screenshots in ${SHOTS}`);
	const a = await newPage(browser, DESKTOP);
	const b = await newPage(browser, DESKTOP);
	let postId = null;      // A's first post
	let koId = null;
	let xssId = null;
	let cUser = null;       // {user, cookie} made through the API

	await step('the page is served as UTF-8 HTML with a strict Content-Security-Policy', async () => {
		const res = await fetch(BASE);
		assert.equal(res.status, 200);
		assert.match(res.headers.get('content-type') || '', /^text\/html/i);
		const csp = res.headers.get('content-security-policy') || '';
		assert.match(csp, /default-src 'self'/, 'CSP header: ' + csp);
		assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/, 'CSP header: ' + csp);
		const html = await res.text();
		assert.match(html, /<meta charset="utf-8">/i);
		assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/i, 'no inline script');
		assert.doesNotMatch(html, /\sstyle=|\son[a-z]+=/i, 'no inline style or event handler');
	});

	await step('a too-short username on sign-up shows the API\'s message at the username field', async () => {
		const expected = await call('POST', 'api/auth/signup', { username: 'ab', password: 'long enough password' });
		assert.equal(expected.status, 400);
		assert.equal(expected.json.field, 'username');
		await open(a.page, '#/signup');
		await a.page.fill('#signup-username', 'ab');
		await a.page.fill('#signup-password', 'long enough password');
		await a.page.getByRole('button', { name: 'Create account' }).click();
		const err = a.page.locator('#signup-form #signup-username-error');
		await err.waitFor();
		assert.equal((await err.textContent()).trim(), 'Error: ' + expected.json.message);
		assert.equal(await a.page.getAttribute('#signup-username', 'aria-invalid'), 'true');
		await shot(a.page, 'signup-field-error');
	});

	await step('user A signs up through the page and is asked to log in', async () => {
		await open(a.page, '#/signup');
		await a.page.fill('#signup-username', A.username);
		await a.page.fill('#signup-password', A.password);
		await a.page.getByRole('button', { name: 'Create account' }).click();
		await a.page.locator('#flash', { hasText: 'Please log in' }).waitFor();
		assert.ok(await a.page.locator('#view-login').isVisible());
		assert.equal(await a.page.inputValue('#login-username'), A.username);
		assert.ok(await a.page.locator('#whoami-text', { hasText: 'Not signed in' }).isVisible());
	});

	await step('user A logs in and the header says who is signed in', async () => {
		await a.page.fill('#login-password', A.password);
		await a.page.getByRole('button', { name: 'Log in' }).click();
		await signedInAs(a.page, A.username);
		assert.ok(await a.page.locator('#view-list').isVisible());
		assert.ok(await a.page.getByRole('button', { name: 'Log out' }).isVisible());
		// Still signed in after a reload: GET /api/auth/me on load.
		await a.page.reload();
		await signedInAs(a.page, A.username);
	});

	await step('a wrong password shows the API\'s message next to the login form', async () => {
		// Unknown user and wrong password get the same answer; ask with an
		// unknown user so that A's failure count is touched only once.
		const expected = await call('POST', 'api/auth/login', { username: 'nobody_' + run, password: 'wrong password' });
		assert.equal(expected.status, 401, expected.text);
		await open(b.page, '#/login');
		await b.page.fill('#login-username', A.username);
		await b.page.fill('#login-password', 'not the password');
		await b.page.getByRole('button', { name: 'Log in' }).click();
		const err = b.page.locator('#login-form .form-error');
		await err.waitFor();
		assert.equal((await err.textContent()).trim(), 'Error: ' + expected.json.message);
		assert.ok(await b.page.locator('#whoami-text', { hasText: 'Not signed in' }).isVisible());
		await shot(b.page, 'login-error');
	});

	await step('user B signs up and logs in using only the keyboard', async () => {
		await open(b.page, '#/signup');
		await b.page.focus('#signup-username');
		await b.page.keyboard.type(B.username);
		await b.page.keyboard.press('Tab');
		await b.page.keyboard.type(B.password);
		await b.page.keyboard.press('Enter');
		await b.page.locator('#flash', { hasText: 'Please log in' }).waitFor();
		// The login form comes with the username filled in and the password focused.
		assert.equal(await b.page.evaluate(() => document.activeElement.id), 'login-password');
		await b.page.keyboard.type(B.password);
		await b.page.keyboard.press('Enter');
		await signedInAs(b.page, B.username);
	});

	await step('every input has a label', async () => {
		const unlabeled = await a.page.$$eval('input, textarea, select',
			(els) => els.filter((e) => e.labels.length === 0 || !e.labels[0].textContent.trim()).map((e) => e.id || e.name));
		assert.deepEqual(unlabeled, []);
	});

	await step('keyboard focus is visible', async () => {
		await open(a.page, '#/');
		await a.page.locator('#list-status').waitFor();
		await a.page.keyboard.press('Tab');
		await a.page.keyboard.press('Tab');
		const focus = await a.page.evaluate(() => {
			const e = document.activeElement;
			const s = getComputedStyle(e);
			return { tag: e.tagName, style: s.outlineStyle, width: parseFloat(s.outlineWidth) };
		});
		assert.equal(focus.tag, 'A');
		assert.notEqual(focus.style, 'none');
		assert.ok(focus.width >= 2, 'outline width ' + focus.width);
	});

	await step('user A writes a post and it is listed first', async () => {
		await open(a.page, '#/new');
		await shot(a.page, 'write-form');
		postId = await writePost(a.page, 'First post by ' + A.username, 'Hello from A.\nSecond line.');
		assert.equal(await a.page.textContent('#post-title'), 'First post by ' + A.username);
		assert.equal(await a.page.textContent('#post-content'), 'Hello from A.\nSecond line.');
		assert.ok(await a.page.locator('#post-actions').isVisible(), 'A sees the controls on A\'s post');
		await open(a.page, '#/');
		await a.page.reload();   // a fresh load: the list waits for GET /api/auth/me
		await a.page.locator('#post-list > li').first().waitFor();
		const first = a.page.locator('#post-list > li').first();
		assert.equal(await first.getAttribute('data-id'), postId);
		assert.equal(await first.locator('h2').textContent(), 'First post by ' + A.username);
		assert.equal(await first.locator('.badge').textContent(), 'your post', 'own post marked in words');
	});

	await step('Korean and emoji text round-trip exactly', async () => {
		koId = await writePost(a.page, KO_TITLE, KO_CONTENT);
		assert.equal(await a.page.textContent('#post-title'), KO_TITLE);
		assert.equal(await a.page.textContent('#post-content'), KO_CONTENT);
		const stored = await call('GET', 'api/posts/' + encodeURIComponent(koId));
		assert.equal(stored.status, 200);
		assert.equal(stored.json.title, KO_TITLE);
		assert.equal(stored.json.content, KO_CONTENT);
		await shot(a.page, 'post-korean');
		await open(a.page, '#/');
		await a.page.locator(`#post-list > li[data-id="${koId}"]`).waitFor();
		assert.equal(await a.page.locator(`#post-list > li[data-id="${koId}"] h2`).textContent(), KO_TITLE);
	});

	await step('a title with HTML in it is shown as text and runs nothing', async () => {
		const before = dialogs.length;
		xssId = await writePost(a.page, XSS_TITLE, XSS_CONTENT);
		assert.equal(await a.page.textContent('#post-title'), XSS_TITLE);
		assert.equal(await a.page.textContent('#post-content'), XSS_CONTENT);
		await open(a.page, '#/');
		const item = a.page.locator(`#post-list > li[data-id="${xssId}"]`);
		await item.waitFor();
		assert.equal(await item.locator('h2').textContent(), XSS_TITLE);
		await a.page.waitForTimeout(500);
		assert.equal(await a.page.locator('main img, main script, main b').count(), 0, 'no element made from user text');
		assert.equal(dialogs.length, before, 'no dialog opened: ' + dialogs.join(', '));
		await shot(a.page, 'list-desktop', true);
	});

	await step('user B sees no edit or delete controls on A\'s post', async () => {
		await open(b.page, '#/posts/' + encodeURIComponent(postId));
		await b.page.locator('#post-title', { hasText: 'First post by' }).waitFor();
		assert.equal(await b.page.locator('#post-author').textContent(), A.username);
		assert.equal(await b.page.getByRole('button', { name: /^(Edit|Delete)$/ }).count(), 0);
		assert.ok(await b.page.locator('#post-actions').isHidden());
		assert.ok(await b.page.locator('#post-own').isHidden());
		await shot(b.page, 'post-other-user');
	});

	await step('an edit or delete of A\'s post forced from B\'s browser gets 403', async () => {
		const result = await b.page.evaluate(async (id) => {
			const { posts } = await import(new URL('api.js', location.href).href);
			const out = {};
			try {
				await posts.update(id, { title: 'taken over' });
				out.patch = { ok: true };
			} catch (e) {
				out.patch = { status: e.status, code: e.code, message: e.message };
			}
			try {
				await posts.remove(id);
				out.del = { ok: true };
			} catch (e) {
				out.del = { status: e.status, code: e.code, message: e.message };
			}
			return out;
		}, postId);
		assert.equal(result.patch.status, 403, JSON.stringify(result));
		assert.equal(result.patch.code, 'forbidden');
		assert.ok(result.patch.message.length > 0);
		assert.equal(result.del.status, 403, JSON.stringify(result));
		const stored = await call('GET', 'api/posts/' + encodeURIComponent(postId));
		assert.equal(stored.json.title, 'First post by ' + A.username);
	});

	await step('user A edits A\'s post', async () => {
		await open(a.page, '#/posts/' + encodeURIComponent(postId));
		await a.page.getByRole('button', { name: 'Edit' }).click();
		assert.equal(await a.page.inputValue('#edit-title'), 'First post by ' + A.username);
		await a.page.fill('#edit-title', 'Edited — 수정됨 ✏️');
		await a.page.fill('#edit-content', 'New text.');
		await shot(a.page, 'edit-form');
		await a.page.getByRole('button', { name: 'Save changes' }).click();
		await a.page.locator('#flash', { hasText: 'saved' }).waitFor();
		assert.equal(await a.page.textContent('#post-title'), 'Edited — 수정됨 ✏️');
		assert.equal(await a.page.textContent('#post-content'), 'New text.');
		assert.ok(await a.page.locator('#post-edited').isVisible(), 'marked as edited');
		assert.ok(await a.page.locator('#edit-form').isHidden());
		const stored = await call('GET', 'api/posts/' + encodeURIComponent(postId));
		assert.equal(stored.json.title, 'Edited — 수정됨 ✏️');
		assert.equal(stored.json.content, 'New text.');
		await shot(a.page, 'post-own');
	});

	await step('an empty title on edit shows the error at the title field', async () => {
		await a.page.getByRole('button', { name: 'Edit' }).click();
		await a.page.fill('#edit-title', '   ');
		await a.page.getByRole('button', { name: 'Save changes' }).click();
		const err = a.page.locator('#edit-form #edit-title-error');
		await err.waitFor();
		assert.match(await err.textContent(), /^Error: \S/);
		await a.page.getByRole('button', { name: 'Cancel' }).click();
		assert.ok(await a.page.locator('#edit-form').isHidden());
	});

	await step('user A deletes A\'s post', async () => {
		const focused = () =>
			a.page.evaluate(() => document.activeElement.id);
		const expanded = () =>
			a.page.getAttribute('#delete-button', 'aria-expanded');
		await a.page.locator('#delete-button').click();
		await a.page.locator('#delete-confirm').waitFor();
		assert.equal(await focused(), 'delete-no', 'focus on Cancel');
		assert.equal(await expanded(), 'true');
		await a.page.keyboard.press('Escape');
		assert.ok(await a.page.locator('#delete-confirm').isHidden(),
			'Escape closes it');
		assert.equal(await focused(), 'delete-button', 'focus back');
		assert.equal(await expanded(), 'false');
		await a.page.locator('#delete-button').click();
		await a.page.locator('#delete-confirm').waitFor();
		await shot(a.page, 'delete-confirm');
		await a.page.getByRole('button', { name: 'Yes, delete it' }).click();
		await a.page.locator('#flash', { hasText: 'deleted' }).waitFor();
		assert.ok(await a.page.locator('#view-list').isVisible());
		const stored = await call('GET', 'api/posts/' + encodeURIComponent(postId));
		assert.equal(stored.status, 404);
		await a.page.locator('#list-status').filter({ hasNotText: 'Loading' }).waitFor();
		assert.equal(await a.page.locator(`#post-list > li[data-id="${postId}"]`).count(), 0);
		await open(a.page, '#/posts/' + encodeURIComponent(postId));
		await a.page.locator('#post-error', { hasText: 'does not exist' }).waitFor();
	});

	await step('"Load more" pages through the posts with no duplicates', async () => {
		cUser = await apiUser(C.username, C.password);
		const made = [];
		for (let i = 1; i <= 25; i++) {
			const r = await call('POST', 'api/posts',
				{ title: `Paging ${run} #${String(i).padStart(2, '0')}`, content: `Post ${i} of 25.` }, cUser.cookie);
			assert.equal(r.status, 201, r.text);
			made.push(r.json.id);
		}
		await open(a.page, '#/');
		await a.page.waitForFunction(() => document.querySelectorAll('#post-list > li').length > 0);
		let ids = await listIds(a.page);
		assert.equal(ids.length, 20, 'the first page has 20 posts');
		for (const id of ids)
			assert.ok(made.includes(id), 'the 20 newest are the 25 just made');
		const more = a.page.getByRole('button', { name: 'Load more' });
		assert.ok(await more.isVisible(), '"Load more" is offered');
		await more.click();
		await a.page.waitForFunction(() => document.querySelectorAll('#post-list > li').length > 20);
		ids = await listIds(a.page);
		assert.equal(new Set(ids).size, ids.length, 'no post listed twice');
		for (const id of made)
			assert.ok(ids.includes(id), 'every new post is listed after "Load more"');
		// Keyboard focus moved to the first post of the new page.
		assert.equal(await a.page.evaluate(() => document.activeElement.closest('li').dataset.id), ids[20]);
		// A few more pages, if the store holds more.
		for (let i = 0; i < 3 && await more.isVisible(); i++) {
			const n = ids.length;
			await more.click();
			await a.page.waitForFunction((k) => document.querySelectorAll('#post-list > li').length > k ||
				document.getElementById('load-more').hidden, n);
			ids = await listIds(a.page);
			assert.equal(new Set(ids).size, ids.length, 'no post listed twice');
		}
	});

	await step('429 on login shows the message and how long to wait', async () => {
		await b.page.route((url) => url.pathname.endsWith('/api/auth/login'), (route) => route.fulfill({
			status: 429,
			headers: { 'Retry-After': '120', 'Cache-Control': 'no-store' },
			contentType: 'application/json; charset=utf-8',
			body: JSON.stringify({ error: 'too_many_attempts', message: 'Too many failed logins.' }),
		}));
		try {
			await open(b.page, '#/login');
			await b.page.fill('#login-username', B.username);
			await b.page.fill('#login-password', 'whatever it is');
			await b.page.getByRole('button', { name: 'Log in' }).click();
			const err = b.page.locator('#login-form .form-error');
			await err.waitFor();
			assert.match(await err.textContent(), /Too many failed logins\..*2 minutes/);
			await shot(b.page, 'login-429');
		} finally {
			await b.page.unrouteAll();
		}
	});

	await step('503 on the list says the service is unavailable and retries', async () => {
		await b.page.route((url) => url.pathname.endsWith('/api/posts'), (route) => route.fulfill({
			status: 503,
			contentType: 'application/json; charset=utf-8',
			body: JSON.stringify({ error: 'unavailable', message: 'The service is unavailable, try again soon.' }),
		}));
		try {
			await open(b.page, '#/');
			const err = b.page.locator('#list-error');
			await err.waitFor();
			assert.match(await err.textContent(), /unavailable/);
			await shot(b.page, 'list-503');
		} finally {
			await b.page.unrouteAll();
		}
		await b.page.getByRole('button', { name: 'Try again' }).click();
		await b.page.waitForFunction(() => document.querySelectorAll('#post-list > li').length > 0);
		assert.ok(await b.page.locator('#list-error').isHidden());
	});

	await step('user B logs out', async () => {
		await b.page.getByRole('button', { name: 'Log out' }).click();
		await b.page.locator('#whoami-text', { hasText: 'Not signed in' }).waitFor();
		assert.ok(await b.page.getByRole('link', { name: 'Log in' }).first().isVisible());
		const status = await b.page.evaluate(async () =>
			(await fetch('api/auth/me', { credentials: 'same-origin' })).status);
		assert.equal(status, 401);
		await open(b.page, '#/new');
		assert.ok(await b.page.locator('#new-signed-out').isVisible());
		assert.ok(await b.page.locator('#new-form').isHidden());
	});

	await step('a phone-sized window shows the list without scrolling sideways', async () => {
		// A long word that must wrap instead of widening the page.
		const long = await call('POST', 'api/posts',
			{ title: 'W'.repeat(120), content: 'https://example.com/' + 'x'.repeat(300) }, cUser.cookie);
		assert.equal(long.status, 201, long.text);
		const phone = await newPage(browser, PHONE, await a.context.storageState());
		try {
			await open(phone.page, '#/');
			await phone.page.waitForFunction(() => document.querySelectorAll('#post-list > li').length > 0);
			await signedInAs(phone.page, A.username);
			const widths = await phone.page.evaluate(() => ({
				scroll: document.documentElement.scrollWidth,
				client: document.documentElement.clientWidth,
			}));
			assert.ok(widths.scroll <= widths.client, `list: ${widths.scroll} > ${widths.client}`);
			await shot(phone.page, 'list-phone');
			await shot(phone.page, 'list-phone-full', true);
			await open(phone.page, '#/posts/' + encodeURIComponent(long.json.id));
			await phone.page.locator('#post-title').waitFor();
			const w2 = await phone.page.evaluate(() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]);
			assert.ok(w2[0] <= w2[1], `post: ${w2[0]} > ${w2[1]}`);
			await open(phone.page, '#/posts/' + encodeURIComponent(koId));
			await phone.page.locator('#post-title', { hasText: KO_TITLE }).waitFor();
			await shot(phone.page, 'post-phone');
			await open(phone.page, '#/new');
			await shot(phone.page, 'write-phone');
		} finally {
			await phone.context.close();
		}
	});

	const d = await newPage(browser, DESKTOP);
	let dOther = null;      // D's session on "another device" (through the API)

	await step('the Account view is in the navigation and says who is signed in', async () => {
		dOther = await apiUser(D.username, D.password);
		await open(d.page, '#/login');
		await d.page.fill('#login-username', D.username);
		await d.page.fill('#login-password', D.password);
		await d.page.getByRole('button', { name: 'Log in' }).click();
		await signedInAs(d.page, D.username);
		await d.page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Account' }).click();
		await d.page.locator('#view-account').waitFor();
		assert.equal(await d.page.evaluate(() => document.activeElement.id), 'account-heading',
			'focus moves to the view\'s heading');
		assert.equal(await d.page.getAttribute('a[data-nav="account"]', 'aria-current'), 'page');
		assert.equal(await d.page.textContent('#account-name'), D.username);
		assert.equal(await d.page.title(), 'Account · Board');
		for (const name of ['Current password', 'New password', 'New password again'])
			assert.ok(await d.page.getByLabel(name, { exact: true }).isVisible(), 'labelled field ' + name);
		await shot(d.page, 'account');
	});

	await step('password change: errors show next to the fields (confirmation, the API\'s limits)', async () => {
		await d.page.fill('#password-current', D.password);
		await d.page.fill('#password-new', D.next);
		await d.page.fill('#password-confirm', D.next + 'x');
		await d.page.getByRole('button', { name: 'Change password' }).click();
		const confirmErr = d.page.locator('#password-confirm-error');
		await confirmErr.waitFor();
		assert.match(await confirmErr.textContent(), /^Error: The two new passwords are not the same\./);
		assert.equal(await d.page.getAttribute('#password-confirm', 'aria-invalid'), 'true');
		assert.equal(await d.page.evaluate(() => document.activeElement.id), 'password-confirm');
		// The API's own answer for a new password that is too short.
		const expected = await call('POST', 'api/auth/password',
			{ currentPassword: D.password, newPassword: 'short' }, dOther.cookie);
		assert.equal(expected.status, 400, expected.text);
		assert.equal(expected.json.field, 'newPassword');
		await d.page.fill('#password-new', 'short');
		await d.page.fill('#password-confirm', 'short');
		await d.page.getByRole('button', { name: 'Change password' }).click();
		const newErr = d.page.locator('#password-new-error');
		await newErr.waitFor();
		assert.equal((await newErr.textContent()).trim(), 'Error: ' + expected.json.message);
		assert.equal(await d.page.getAttribute('#password-new', 'aria-invalid'), 'true');
		assert.ok(await confirmErr.isHidden(), 'the earlier error is gone');
		assert.equal(await d.page.getAttribute('#password-confirm', 'aria-invalid'), null);
		assert.equal(await d.page.evaluate(() => document.activeElement.id), 'password-new');
		await shot(d.page, 'account-field-error');
	});

	await step('a wrong current password shows the API\'s message at that field', async () => {
		const expected = await call('POST', 'api/auth/password',
			{ currentPassword: 'not the password', newPassword: D.next }, dOther.cookie);
		assert.equal(expected.status, 401, expected.text);
		assert.equal(expected.json.error, 'invalid_credentials');
		await d.page.fill('#password-current', 'not the password either');
		await d.page.fill('#password-new', D.next);
		await d.page.fill('#password-confirm', D.next);
		await d.page.getByRole('button', { name: 'Change password' }).click();
		const err = d.page.locator('#password-current-error');
		await err.waitFor();
		assert.equal((await err.textContent()).trim(), 'Error: ' + expected.json.message);
		assert.equal(await d.page.getAttribute('#password-current', 'aria-invalid'), 'true');
		await signedInAs(d.page, D.username);
	});

	await step('user D changes the password with the keyboard: the other session ends, this one goes on', async () => {
		await d.page.fill('#password-current', '');
		await d.page.fill('#password-new', '');
		await d.page.fill('#password-confirm', '');
		await d.page.focus('#password-current');
		await d.page.keyboard.type(D.password);
		await d.page.keyboard.press('Tab');
		assert.equal(await d.page.evaluate(() => document.activeElement.id), 'password-new');
		await d.page.keyboard.type(D.next);
		await d.page.keyboard.press('Tab');
		assert.equal(await d.page.evaluate(() => document.activeElement.id), 'password-confirm');
		await d.page.keyboard.type(D.next);
		await d.page.keyboard.press('Enter');
		await d.page.locator('#flash', { hasText: 'Your password is changed' }).waitFor();
		assert.equal(await d.page.getAttribute('#flash', 'role'), 'status', 'announced politely');
		assert.equal(await d.page.evaluate(() => document.activeElement.id), 'account-heading');
		assert.equal(await d.page.inputValue('#password-current'), '', 'the form is emptied');
		assert.equal(await d.page.locator('#password-form .field-error:not([hidden])').count(), 0);
		const other = await call('GET', 'api/auth/me', undefined, dOther.cookie);
		assert.equal(other.status, 401, 'the other session has ended: ' + other.text);
		await d.page.reload();
		await signedInAs(d.page, D.username);
		const oldPw = await call('POST', 'api/auth/login', { username: D.username, password: D.password });
		assert.equal(oldPw.status, 401, 'the old password: ' + oldPw.text);
		dOther = await apiLogin(D.username, D.next);	// the new password
	});

	await step('sign out everywhere asks first; Cancel and Escape keep every session', async () => {
		await open(d.page, '#/account');
		const button = d.page.getByRole('button', { name: 'Sign out everywhere' });
		await button.click();
		await d.page.locator('#everywhere-confirm').waitFor();
		assert.equal(await d.page.evaluate(() => document.activeElement.id), 'everywhere-no', 'focus on Cancel');
		assert.equal(await d.page.getAttribute('#everywhere-button', 'aria-expanded'), 'true');
		await shot(d.page, 'everywhere-confirm', true);
		await d.page.keyboard.press('Escape');
		assert.ok(await d.page.locator('#everywhere-confirm').isHidden());
		assert.equal(await d.page.evaluate(() => document.activeElement.id), 'everywhere-button', 'focus back');
		await button.click();
		await d.page.getByRole('button', { name: 'Cancel' }).click();
		assert.ok(await d.page.locator('#everywhere-confirm').isHidden());
		assert.equal(await d.page.getAttribute('#everywhere-button', 'aria-expanded'), 'false');
		assert.equal((await call('GET', 'api/auth/me', undefined, dOther.cookie)).status, 200);
		await signedInAs(d.page, D.username);
	});

	await step('sign out everywhere ends every session, this one too', async () => {
		await d.page.getByRole('button', { name: 'Sign out everywhere' }).click();
		await d.page.getByRole('button', { name: 'Yes, sign out everywhere' }).click();
		await d.page.locator('#flash', { hasText: 'signed out everywhere' }).waitFor();
		await d.page.locator('#whoami-text', { hasText: 'Not signed in' }).waitFor();
		assert.ok(await d.page.locator('#view-list').isVisible());
		assert.equal(await d.page.locator('a[data-nav="account"]').isVisible(), false, 'no Account link signed out');
		const status = await d.page.evaluate(async () =>
			(await fetch('api/auth/me', { credentials: 'same-origin' })).status);
		assert.equal(status, 401, 'this browser\'s session has ended');
		assert.equal((await call('GET', 'api/auth/me', undefined, dOther.cookie)).status, 401,
			'the other session has ended');
		assert.equal((await d.context.cookies()).filter((c) => c.name === 'board.sid' && c.value).length, 0,
			'the cookie is cleared');
		await open(d.page, '#/account');
		assert.ok(await d.page.locator('#account-signed-out').isVisible());
		assert.ok(await d.page.locator('#password-form').isHidden());
	});

	await step('a session ended elsewhere: the page says so at the top',
	    async () => {
		await open(d.page, '#/login');
		await d.page.fill('#login-username', D.username);
		await d.page.fill('#login-password', D.next);
		await d.page.getByRole('button', { name: 'Log in' }).click();
		await signedInAs(d.page, D.username);
		await open(d.page, '#/account');
		await signedInAs(d.page, D.username);
		const other = await apiLogin(D.username, D.next);
		const all = await call('POST', 'api/auth/logout-all', undefined,
			other.cookie);
		assert.equal(all.status, 204, all.text);
		await d.page.locator('#everywhere-button').click();
		await d.page.getByRole('button',
			{ name: 'Yes, sign out everywhere' }).click();
		await d.page.locator('#whoami-text',
			{ hasText: 'Not signed in' }).waitFor();
		const err = d.page.locator('#session-error');
		await err.waitFor();
		assert.match(await err.textContent(), /^Error: \S/);
		assert.equal(await err.getAttribute('role'), 'alert');
		assert.ok(await d.page.locator('#account-signed-out').isVisible());
		assert.ok(await d.page.locator('#everywhere-confirm').isHidden());
		// Without a reload, which would clear it anyway.
		await d.page.getByRole('navigation', { name: 'Main' })
			.getByRole('link', { name: 'Log in' }).click();
		await d.page.locator('#view-login').waitFor();
		assert.ok(await err.isVisible(), 'the error stays until a login');
		await d.page.fill('#login-username', D.username);
		await d.page.fill('#login-password', D.next);
		await d.page.getByRole('button', { name: 'Log in' }).click();
		await signedInAs(d.page, D.username);
		assert.ok(await err.isHidden(), 'a new login clears it');
	});
	await d.context.close();

	await step('no dialog, script error or CSP violation happened', async () => {
		assert.deepEqual(dialogs, []);
		assert.deepEqual(pageErrors, []);
	});

	await a.context.close();
	await b.context.close();
}

main().catch((err) => {
	console.log('not ok - the test script itself failed');
	diag(err.stack || err);
	console.log(`1..${count + 1}`);
	process.exitCode = 1;
});
