// Small DOM helpers. Text is always added as text nodes, never as HTML.

// el('a', {href: '#/', class: 'x'}, 'text', otherNode)
export function el(tag, attrs = {}, ...children) {
	const node = document.createElement(tag);
	for (const [name, value] of Object.entries(attrs)) {
		if (value === false || value == null)
			continue;
		if (name === 'style' || name.startsWith('on'))
			throw new Error('el: refusing attribute ' + name);
		node.setAttribute(name, value === true ? '' : String(value));
	}
	for (const child of children)
		append(node, child);
	return node;
}

function append(node, child) {
	if (child == null || child === false)
		return;
	if (Array.isArray(child)) {
		for (const c of child)
			append(node, c);
	} else if (child instanceof Node) {
		node.appendChild(child);
	} else {
		node.appendChild(document.createTextNode(String(child)));
	}
}

export function $(id) {
	const node = document.getElementById(id);
	if (!node)
		throw new Error('missing element #' + id);
	return node;
}

export function setText(node, text) {
	node.textContent = text == null ? '' : String(text);
}

export function show(node, visible = true) {
	node.hidden = !visible;
}

// Shortens text to at most max characters (code points, so an emoji is never
// cut in half), ending with an ellipsis when it was cut.
export function excerpt(text, max) {
	const chars = Array.from(text);
	if (chars.length <= max)
		return text;
	return chars.slice(0, max).join('').trimEnd() + '…';
}

export function formatTime(iso) {
	const d = new Date(iso);
	if (Number.isNaN(d.getTime()))
		return iso;
	return d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}
