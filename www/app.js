// The board's web page: a hash router over the views in index.html.
//
//   #/            the list of posts, newest first, with "Load more"
//   #/posts/<id>  one post; edit and delete when it is yours
//   #/new         write a post
//   #/login       log in
//   #/signup      sign up
//   #/account     change password, sign out everywhere
//
// Everything a person typed or another person wrote is put on the page with
// textContent (through dom.js), never as HTML.

import { ApiError, auth, posts, describeWait } from './api.js';
import { $, el, setText, show, excerpt, formatTime } from './dom.js';

const PAGE_SIZE = 20;
const EXCERPT_CHARS = 280;

const state = {
	user: null,          // {id, username} when signed in
	userKnown: null,     // promise settled once GET /api/auth/me answered
	flash: null,         // a notice to show on the next view
	returnTo: null,      // where to go after logging in
	focusNext: null,     // id of the element the next view focuses first
	view: null,
	token: 0,            // bumped on every navigation; stale answers are dropped
	list: { next: null, seen: new Set() },
	post: null,          // the post on #/post/<id>
};

/* ---------- errors next to forms ---------- */

// Shows err in box (a .form-error element). retry, when given, is offered as a
// "Try again" button for errors that may go away by themselves.
function showError(box, err, retry) {
	const parts = [el('strong', {}, 'Error: '), messageOf(err)];
	if (err instanceof ApiError && err.status === 429) {
		parts.push(' ', err.retryAfter != null
			? `Please wait ${describeWait(err.retryAfter)} before trying again.`
			: 'Please wait a while before trying again.');
	}
	if (err instanceof ApiError && err.status === 503 && !/unavailable/i.test(err.message))
		parts.push(' The service is unavailable right now.');
	box.replaceChildren(el('p', {}, ...parts));
	if (retry && err instanceof ApiError && err.retryable) {
		const again = el('button', { type: 'button', class: 'retry' }, 'Try again');
		again.addEventListener('click', () => {
			clearError(box);
			retry();
		});
		box.appendChild(again);
	}
	show(box, true);
}

function clearError(box) {
	box.replaceChildren();
	show(box, false);
}

function messageOf(err) {
	if (err instanceof ApiError)
		return err.message;
	console.error(err);
	return 'Something went wrong on this page. Please reload it.';
}

function formErrorBox(form) {
	return form.querySelector('.form-error');
}

function clearFormErrors(form) {
	clearError(formErrorBox(form));
	for (const p of form.querySelectorAll('.field-error')) {
		p.replaceChildren();
		show(p, false);
	}
	for (const input of form.querySelectorAll('[aria-invalid]'))
		input.removeAttribute('aria-invalid');
}

// An API error caused by one field is shown under that field; any other error
// under the form. retry re-sends the form.
function showFormError(form, err, retry) {
	const input = err instanceof ApiError && err.field ? form.elements.namedItem(err.field) : null;
	if (input && input.id) {
		const p = document.getElementById(input.id + '-error');
		if (p) {
			p.replaceChildren(el('strong', {}, 'Error: '), err.message);
			show(p, true);
			input.setAttribute('aria-invalid', 'true');
			input.focus();
			return;
		}
	}
	showError(formErrorBox(form), err, retry);
}

// Runs action(form) on submit, with the submit button disabled meanwhile and
// errors shown next to the form.
function handleSubmit(form, action) {
	let busy = false;
	const submit = async () => {
		if (busy)
			return;
		busy = true;
		clearFormErrors(form);
		const button = form.querySelector('[type=submit]');
		button.disabled = true;
		form.setAttribute('aria-busy', 'true');
		try {
			await action(form);
		} catch (err) {
			if (signedOut(err))
				endSession(err);
			else
				showFormError(form, err, () => form.requestSubmit());
		} finally {
			busy = false;
			button.disabled = false;
			form.removeAttribute('aria-busy');
		}
	};
	form.addEventListener('submit', (ev) => {
		ev.preventDefault();
		submit();
	});
}

// Runs action() for a button, which is disabled meanwhile; an error goes to
// box (a .form-error element), with "Try again" when it may pass.
async function runButton(button, box, action) {
	button.disabled = true;
	clearError(box);
	try {
		await action();
	} catch (err) {
		if (signedOut(err))
			endSession(err);
		else
			showError(box, err, () => runButton(button, box, action));
	} finally {
		button.disabled = false;
	}
}

// A 401 that means the session has ended (a wrong password is a 401 too).
function signedOut(err) {
	return err instanceof ApiError && err.status === 401 &&
		err.code === 'unauthorized';
}

// The session ended elsewhere: the page turns to signed out, which hides
// the form or button that met it, so the error goes to the top of the page.
function endSession(err) {
	setUser(null);
	showError($('session-error'), err);
}

// An action that cannot be undone asks first: NAME-button (aria-controls
// NAME-confirm) opens the group NAME-confirm, with focus on its Cancel
// button NAME-no; Cancel or Escape closes it and focus goes back. NAME-yes
// runs action; its errors go to NAME-error. beforeOpen runs first if given.
function askFirst(name, action, beforeOpen) {
	const button = $(name + '-button');
	const close = () => {
		setAsking(name, false);
		button.focus();
	};
	button.addEventListener('click', () => {
		if (beforeOpen)
			beforeOpen();
		setAsking(name, true);
		$(name + '-no').focus();
	});
	$(name + '-no').addEventListener('click', close);
	$(name + '-confirm').addEventListener('keydown', (ev) => {
		if (ev.key === 'Escape')
			close();
	});
	const yes = $(name + '-yes');
	yes.addEventListener('click',
		() => runButton(yes, $(name + '-error'), action));
}

function setAsking(name, open) {
	clearError($(name + '-error'));
	show($(name + '-confirm'), open);
	$(name + '-button').setAttribute('aria-expanded', String(open));
}

/* ---------- who is signed in ---------- */

function setUser(user) {
	state.user = user ? { id: String(user.id), username: String(user.username) } : null;
	if (user)
		clearError($('session-error'));
	renderHeader();
}

function renderHeader() {
	const signedIn = Boolean(state.user);
	for (const li of document.querySelectorAll('[data-when]'))
		show(li, li.dataset.when === (signedIn ? 'in' : 'out'));
	const text = $('whoami-text');
	if (signedIn) {
		text.replaceChildren('Signed in as ', el('strong', { class: 'username' }, state.user.username));
	} else {
		setText(text, 'Not signed in');
	}
	show($('logout'), signedIn);
	// The parts of the views that depend on who is signed in.
	show($('list-signed-in'), signedIn);
	show($('list-signed-out'), !signedIn);
	show($('new-form'), signedIn);
	show($('new-signed-out'), !signedIn);
	show($('login-signed-in'), signedIn);
	setText($('login-signed-in-name'), signedIn ? state.user.username : '');
	show($('account-signed-in'), signedIn);
	show($('account-signed-out'), !signedIn);
	setText($('account-name'), signedIn ? state.user.username : '');
	if (state.view === 'post' && state.post)
		renderPostActions();
}

function checkSession() {
	clearError($('session-error'));
	state.userKnown = auth.me().then(
		(user) => setUser(user),
		(err) => {
			setUser(null);
			if (!(err instanceof ApiError && err.status === 401)) {
				setText($('whoami-text'), 'Could not check who is signed in');
				showError($('session-error'), err, checkSession);
			}
		});
	return state.userKnown;
}

function logout() {
	return runButton($('logout'), $('session-error'), async () => {
		await auth.logout();
		setUser(null);
		state.flash = 'You are logged out.';
		go('#/');
	});
}

/* ---------- the list ---------- */

function postItem(post) {
	const own = state.user && post.author && post.author.id === state.user.id;
	return el('li', { class: 'post-item', 'data-id': post.id },
		el('article', {},
			el('h2', {}, el('a', { href: '#/posts/' + encodeURIComponent(post.id) }, post.title)),
			el('p', { class: 'meta' },
				el('span', {}, 'by ', el('span', { class: 'author' }, post.author ? post.author.username : '?')),
				own ? el('span', { class: 'badge' }, 'your post') : null,
				el('span', {}, '· ', el('time', { datetime: post.createdAt }, formatTime(post.createdAt)))),
			el('p', { class: 'excerpt' }, excerpt(post.content, EXCERPT_CHARS))));
}

async function loadPage(first) {
	const token = state.token;
	const list = $('post-list');
	const more = $('load-more');
	const status = $('list-status');
	clearError($('list-error'));
	more.disabled = true;
	setText(more, 'Loading…');
	if (first) {
		// Not the list of an earlier visit under an error or a newer list.
		list.replaceChildren();
		state.list.seen = new Set();
		show(more, false);
		setText(status, 'Loading posts…');
	}
	let page;
	try {
		// Who is signed in decides which posts are marked as one's own.
		[page] = await Promise.all([posts.list(first ? null : state.list.next, PAGE_SIZE), state.userKnown]);
	} catch (err) {
		if (token !== state.token)
			return;
		setText(status, '');
		setText(more, 'Load more');
		more.disabled = false;
		showError($('list-error'), err, () => loadPage(first));
		return;
	}
	if (token !== state.token)
		return;
	let firstNew = null;
	for (const post of page.posts || []) {
		if (state.list.seen.has(post.id))
			continue;
		state.list.seen.add(post.id);
		const item = postItem(post);
		list.appendChild(item);
		firstNew = firstNew || item;
	}
	state.list.next = page.next || null;
	setText(more, 'Load more');
	more.disabled = false;
	show(more, Boolean(state.list.next));
	if (state.list.seen.size === 0)
		setText(status, 'No posts yet.');
	else if (!state.list.next)
		setText(status, state.list.seen.size === 1 ? 'That is the only post.' : 'That is all the posts.');
	else
		setText(status, `Showing ${state.list.seen.size} posts.`);
	// After "Load more", keyboard focus goes to the first new post.
	if (!first && firstNew)
		firstNew.querySelector('a').focus();
}

function renderList() {
	state.list.next = null;
	renderHeader();
	loadPage(true);
}

/* ---------- one post ---------- */

function renderPostActions() {
	const post = state.post;
	const own = Boolean(state.user && post.author && post.author.id === state.user.id);
	show($('post-own'), own);
	show($('post-actions'), own);
	if (!own) {
		setAsking('delete', false);
		show($('edit-form'), false);
	}
}

function fillPost(post) {
	state.post = post;
	setText($('post-title'), post.title);
	setText($('post-author'), post.author ? post.author.username : '?');
	const created = $('post-created');
	created.dateTime = post.createdAt;
	setText(created, formatTime(post.createdAt));
	const edited = post.updatedAt && post.updatedAt !== post.createdAt;
	show($('post-edited'), edited);
	if (edited) {
		const updated = $('post-updated');
		updated.dateTime = post.updatedAt;
		setText(updated, formatTime(post.updatedAt));
	}
	setText($('post-content'), post.content);
	document.title = post.title + ' · Board';
	renderPostActions();
}

async function renderPost(id) {
	const token = state.token;
	state.post = null;
	show($('post'), false);
	show($('edit-form'), false);
	setAsking('delete', false);
	clearError($('post-error'));
	show($('post-loading'), true);
	let post;
	try {
		[post] = await Promise.all([posts.get(id), state.userKnown]);
	} catch (err) {
		if (token !== state.token)
			return;
		show($('post-loading'), false);
		if (err instanceof ApiError && err.status === 404)
			err = new ApiError(404, err.code, 'This post does not exist. It may have been deleted.');
		showError($('post-error'), err, () => renderPost(id));
		$('post-error').focus();
		return;
	}
	if (token !== state.token)
		return;
	show($('post-loading'), false);
	fillPost(post);
	show($('post'), true);
	$('post-title').focus();
}

function startEdit() {
	const form = $('edit-form');
	clearFormErrors(form);
	form.elements.title.value = state.post.title;
	form.elements.content.value = state.post.content;
	setAsking('delete', false);
	show(form, true);
	form.elements.title.focus();
}

function stopEdit() {
	show($('edit-form'), false);
	$('edit-button').focus();
}

async function saveEdit(form) {
	const changes = {};
	if (form.elements.title.value !== state.post.title)
		changes.title = form.elements.title.value;
	if (form.elements.content.value !== state.post.content)
		changes.content = form.elements.content.value;
	if (Object.keys(changes).length === 0) {
		stopEdit();
		return;
	}
	const post = await posts.update(state.post.id, changes);
	fillPost(post);
	show(form, false);
	flashNow('Your changes are saved.');
	$('post-title').focus();
}

async function deletePost() {
	await posts.remove(state.post.id);
	state.flash = 'Your post was deleted.';
	go('#/');
}

/* ---------- writing, logging in, signing up ---------- */

async function publish(form) {
	const post = await posts.create(form.elements.title.value, form.elements.content.value);
	form.reset();
	state.flash = 'Your post is published.';
	go('#/posts/' + encodeURIComponent(post.id));
}

async function login(form) {
	const user = await auth.login(form.elements.username.value, form.elements.password.value);
	form.reset();
	setUser(user);
	state.flash = null;
	const to = state.returnTo || '#/';
	state.returnTo = null;
	go(to);
}

async function signup(form) {
	const username = form.elements.username.value;
	const user = await auth.signup(username, form.elements.password.value);
	form.reset();
	state.flash = `Your account ${user && user.username ? user.username : username} is ready. Please log in.`;
	$('login-form').elements.username.value = user && user.username ? user.username : username;
	state.focusNext = 'login-password';
	go('#/login');
}

/* ---------- the account ---------- */

async function changePassword(form) {
	const next = form.elements.newPassword.value;
	if (next !== form.elements.confirm.value) {
		throw new ApiError(400, 'invalid_field',
			'The two new passwords are not the same.', { field: 'confirm' });
	}
	try {
		await auth.changePassword(form.elements.currentPassword.value, next);
	} catch (err) {
		// The API names no field for a wrong password; it is this one.
		if (err instanceof ApiError && err.code === 'invalid_credentials')
			throw new ApiError(err.status, err.code, err.message, { field: 'currentPassword' });
		throw err;
	}
	form.reset();
	flashNow('Your password is changed. Your other sessions have ended.');
	$('account-heading').focus();
}

async function logoutEverywhere() {
	await auth.logoutAll();
	setUser(null);
	state.flash = 'You are signed out everywhere, on every device.';
	go('#/');
}

/* ---------- routing ---------- */

function parseRoute(hash) {
	const m = /^#\/posts\/([^/]+)$/.exec(hash);
	if (m) {
		try {
			return { view: 'post', id: decodeURIComponent(m[1]) };
		} catch (e) {
			return { view: 'post', id: m[1] };
		}
	}
	switch (hash) {
	case '#/new': return { view: 'new' };
	case '#/login': return { view: 'login' };
	case '#/signup': return { view: 'signup' };
	case '#/account': return { view: 'account' };
	default: return { view: 'list' };
	}
}

function go(hash) {
	if (location.hash === hash)
		route();
	else
		location.hash = hash;
}

function flashNow(text) {
	const flash = $('flash');
	setText(flash, text || '');
	show(flash, Boolean(text));
}

function route() {
	// Links inside the page ("Skip to content") are not routes.
	if (location.hash && !location.hash.startsWith('#/'))
		return;
	const r = parseRoute(location.hash);
	state.token++;
	state.view = r.view;
	flashNow(state.flash);
	state.flash = null;
	document.title = 'Board';
	for (const v of document.querySelectorAll('.view'))
		show(v, v.id === 'view-' + r.view);
	for (const a of document.querySelectorAll('[data-nav]')) {
		if (a.dataset.nav === r.view)
			a.setAttribute('aria-current', 'page');
		else
			a.removeAttribute('aria-current');
	}
	for (const form of document.querySelectorAll('form'))
		clearFormErrors(form);
	// A password typed earlier is not left behind in a form.
	for (const input of document.querySelectorAll('input[type=password]'))
		input.value = '';

	switch (r.view) {
	case 'list':
		renderList();
		focusHeading('list-heading');
		break;
	case 'post':
		renderPost(r.id);
		break;
	case 'new':
		renderHeader();
		if (!state.user)
			state.returnTo = '#/new';
		document.title = 'Write a post · Board';
		focusHeading('new-heading');
		break;
	case 'login':
		document.title = 'Log in · Board';
		focusHeading('login-heading');
		break;
	case 'signup':
		document.title = 'Sign up · Board';
		focusHeading('signup-heading');
		break;
	case 'account':
		renderHeader();
		setAsking('everywhere', false);
		if (!state.user)
			state.returnTo = '#/account';
		document.title = 'Account · Board';
		focusHeading('account-heading');
		break;
	}
}

let firstRoute = true;
function focusHeading(id) {
	if (state.focusNext) {
		const next = document.getElementById(state.focusNext);
		state.focusNext = null;
		if (next) {
			next.focus();
			return;
		}
	}
	// On first load focus stays at the top of the document, as usual.
	if (firstRoute) {
		firstRoute = false;
		return;
	}
	$(id).focus();
}

function start() {
	$('logout').addEventListener('click', logout);
	$('load-more').addEventListener('click', () => loadPage(false));
	$('edit-button').addEventListener('click', startEdit);
	$('edit-cancel').addEventListener('click', stopEdit);
	askFirst('delete', deletePost, () => show($('edit-form'), false));
	askFirst('everywhere', logoutEverywhere);
	handleSubmit($('new-form'), publish);
	handleSubmit($('login-form'), login);
	handleSubmit($('signup-form'), signup);
	handleSubmit($('edit-form'), saveEdit);
	handleSubmit($('password-form'), changePassword);
	window.addEventListener('hashchange', () => {
		firstRoute = false;
		route();
	});
	checkSession();
	route();
}

start();
