/*
 * fuzz-query.c: the query string of GET /api/posts: http_query_get for
 * "limit" and "cursor", then store_cursor_decode. A cursor that decodes
 * must be one we could have made: it encodes back to the same text and
 * holds a valid id. The raw input is also decoded as a cursor.
 */
#include "config.h"

#include <stdbool.h>
#include <string.h>

#include "http.h"
#include "store.h"
#include "fuzz.h"

static void
cursor(const char *s)
{
	struct store_cursor c;
	char *again;

	memset(&c, 0, sizeof(c));
	if (store_cursor_decode(s, &c) != BOARD_OK)
		return;
	FUZZ_CHECK(c.created_ms >= 0);
	FUZZ_CHECK(store_id_is_valid(c.id));
	again = store_cursor_encode(&c);
	FUZZ_CHECK(again != NULL && strcmp(again, s) == 0);
	free(again);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = { "limit", "cursor", "" };
	char *q;

	/* Front servers cap the request line well below this. */
	if (size > 65536)
		return 0;
	q = fuzz_cstr(data, size);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		bool dup = true;
		char *v = http_query_get(q, names[i], &dup);

		if (v != NULL) {
			/* Decoding only ever shrinks. */
			FUZZ_CHECK(strlen(v) <= size);
			if (strcmp(names[i], "cursor") == 0)
				cursor(v);
		}
		free(v);
	}
	cursor(q);
	free(q);
	return 0;
}
