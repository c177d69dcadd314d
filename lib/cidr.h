/* cidr.h: address ranges (BOARD_TRUSTED_PROXIES) and per-network keys. */
#ifndef BOARD_CIDR_H
#define BOARD_CIDR_H

#include <stdbool.h>
#include <stddef.h>

#include "board.h"

/*
 * A list of IPv4 and IPv6 ranges, "10.0.0.0/8" or "2001:db8::/32", and
 * plain addresses (a range of one). Pure data: no I/O.
 */
struct cidr_list;

/*
 * Parses text: entries separated by spaces, tabs or commas; NULL or empty
 * text is an empty list. An IPv4 entry also matches the same address
 * written as IPv4-mapped IPv6 ("::ffff:10.0.0.1"), as a server listening
 * on [::] reports it. On success returns BOARD_OK and *out (free it with
 * cidr_list_free()); else BOARD_EINVAL, *out NULL and *errmsg (caller frees)
 * naming the bad entry.
 */
enum board_err cidr_list_new(const char *text, struct cidr_list **out,
    char **errmsg);

void cidr_list_free(struct cidr_list *l);

/* Number of entries. */
size_t cidr_list_len(const struct cidr_list *l);

/*
 * Is the address addr[0..len) (IPv4 or IPv6, optionally in [brackets])
 * inside one of the ranges? Anything that is not an address is not.
 */
bool cidr_list_match(const struct cidr_list *l, const char *addr,
    size_t len);

/*
 * The key login throttling counts a client address under: an IPv4 address
 * (also IPv4-mapped IPv6) as itself, an IPv6 address as its /64 network
 * ("2001:db8:1:2::/64"), since one IPv6 host commonly holds a whole /64 and
 * could otherwise take a fresh address for every try. Text that is not an
 * address is used as it is, cut to fit. out holds CIDR_KEY_MAX bytes.
 */
#define CIDR_KEY_MAX 64
void cidr_client_key(const char *addr, char out[CIDR_KEY_MAX]);

#endif
