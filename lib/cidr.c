/* cidr.c: IPv4 and IPv6 ranges, all held as 16-byte IPv6 addresses. */
#include "config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cidr.h"

struct cidr {
	unsigned char net[16];	/* IPv4 as IPv4-mapped IPv6 */
	unsigned bits;		/* prefix length in that space, 0..128 */
};

struct cidr_list {
	struct cidr *v;
	size_t n;
};

/* ::ffff:0:0/96: IPv4 addresses, one space with IPv6 (RFC 4291 2.5.5.2). */
static const unsigned char v4mapped[12] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
};

/*
 * s[0..len) as 16 bytes, IPv4 as IPv4-mapped; *v4 says whether it was
 * written as IPv4. Brackets ("[2001:db8::1]") are allowed.
 */
static bool
addr_parse(const char *s, size_t len, unsigned char out[16], bool *v4)
{
	char tmp[INET6_ADDRSTRLEN];

	if (len >= 2 && s[0] == '[' && s[len - 1] == ']') {
		s++;
		len -= 2;
	}
	if (len == 0 || len >= sizeof(tmp))
		return false;
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	if (inet_pton(AF_INET, tmp, out + 12) == 1) {
		memcpy(out, v4mapped, sizeof(v4mapped));
		*v4 = true;
		return true;
	}
	*v4 = false;
	return inet_pton(AF_INET6, tmp, out) == 1;
}

static bool
is_mapped(const unsigned char a[16])
{
	return memcmp(a, v4mapped, sizeof(v4mapped)) == 0;
}

/* Do a and b agree in their first bits bits? */
static bool
prefix_equal(const unsigned char *a, const unsigned char *b, unsigned bits)
{
	unsigned full = bits / 8, rest = bits % 8;

	if (memcmp(a, b, full) != 0)
		return false;
	if (rest == 0)
		return true;
	return ((a[full] ^ b[full]) & (0xff << (8 - rest)) & 0xff) == 0;
}

/* One entry, "addr" or "addr/bits"; NULL or a message (caller frees). */
static char *
entry_parse(const char *s, size_t len, struct cidr *out)
{
	const char *slash = memchr(s, '/', len);
	size_t alen = slash != NULL ? (size_t)(slash - s) : len;
	unsigned char host[16];
	bool v4;

	if (!addr_parse(s, alen, out->net, &v4))
		return xasprintf("trusted_proxies: '%.*s' is not an IPv4 or"
		    " IPv6 address or range", (int)len, s);
	out->bits = 128;
	if (slash != NULL) {
		const char *p = slash + 1, *end = s + len;
		unsigned max = v4 ? 32 : 128, bits = 0;

		if (p == end || end - p > 3)
			goto bad_len;
		for (; p < end; p++) {
			if (*p < '0' || *p > '9')
				goto bad_len;
			bits = bits * 10 + (unsigned)(*p - '0');
		}
		if (bits > max)
			goto bad_len;
		out->bits = v4 ? bits + 96 : bits;
	}
	/* Bits past the prefix mean a typing slip ("10.0.0.1/8"): a range
	 * far wider than meant would be trusted, so say so. */
	memcpy(host, out->net, sizeof(host));
	for (unsigned i = out->bits; i < 128; i++)
		host[i / 8] &= (unsigned char)~(0x80u >> (i % 8));
	if (memcmp(host, out->net, sizeof(host)) != 0)
		return xasprintf("trusted_proxies: '%.*s' has bits set past its"
		    " prefix length", (int)len, s);
	return NULL;
bad_len:
	return xasprintf("trusted_proxies: '%.*s' has a bad prefix length",
	    (int)len, s);
}

enum board_err
cidr_list_new(const char *text, struct cidr_list **out, char **errmsg)
{
	struct cidr_list *l = xcalloc(1, sizeof(*l));
	const char *p = text != NULL ? text : "";
	static const char sep[] = " ,\t\r\n";

	*out = NULL;
	*errmsg = NULL;
	for (;;) {
		size_t len;

		p += strspn(p, sep);
		if (*p == '\0')
			break;
		len = strcspn(p, sep);
		l->v = xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
		*errmsg = entry_parse(p, len, &l->v[l->n]);
		if (*errmsg != NULL) {
			cidr_list_free(l);
			return BOARD_EINVAL;
		}
		l->n++;
		p += len;
	}
	*out = l;
	return BOARD_OK;
}

void
cidr_list_free(struct cidr_list *l)
{
	if (l == NULL)
		return;
	free(l->v);
	free(l);
}

size_t
cidr_list_len(const struct cidr_list *l)
{
	return l != NULL ? l->n : 0;
}

bool
cidr_list_match(const struct cidr_list *l, const char *addr, size_t len)
{
	unsigned char a[16];
	bool v4;

	if (l == NULL || l->n == 0 || !addr_parse(addr, len, a, &v4))
		return false;
	for (size_t i = 0; i < l->n; i++)
		if (prefix_equal(a, l->v[i].net, l->v[i].bits))
			return true;
	return false;
}

void
cidr_client_key(const char *addr, char out[CIDR_KEY_MAX])
{
	char text[INET6_ADDRSTRLEN];
	unsigned char a[16];
	bool v4;

	out[0] = '\0';
	if (addr == NULL)
		return;
	if (!addr_parse(addr, strlen(addr), a, &v4)) {
		snprintf(out, CIDR_KEY_MAX, "%s", addr);
		return;
	}
	if (v4 || is_mapped(a)) {
		inet_ntop(AF_INET, a + 12, out, CIDR_KEY_MAX);
		return;
	}
	memset(a + 8, 0, 8);
	inet_ntop(AF_INET6, a, text, sizeof(text));
	snprintf(out, CIDR_KEY_MAX, "%s/64", text);
}
