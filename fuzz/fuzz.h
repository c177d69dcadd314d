/* fuzz.h: what the fuzz targets share: the entry point and small helpers. */
#ifndef BOARD_FUZZ_H
#define BOARD_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "board.h"

/*
 * libFuzzer calls this once per input; fuzz/replay.c calls it for each
 * file in the normal build. Returns 0.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An invariant of the API broke: say which, and crash so it is a finding. */
#define FUZZ_CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: invariant failed: %s\n",	\
		    __FILE__, __LINE__, #cond);				\
		abort();						\
	}								\
} while (0)

/* The input as a C string of exactly size bytes (caller frees). */
static inline char *
fuzz_cstr(const uint8_t *data, size_t size)
{
	char *s = xmalloc(size + 1);

	if (size > 0)
		memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/*
 * Cuts the next '\n'-terminated field off *p (a string fuzz_cstr made)
 * and returns it; the last field runs to the end. NULL when none is left.
 */
static inline char *
fuzz_field(char **p)
{
	char *s = *p, *nl;

	if (s == NULL)
		return NULL;
	nl = strchr(s, '\n');
	if (nl != NULL) {
		*nl = '\0';
		*p = nl + 1;
	} else {
		*p = NULL;
	}
	return s;
}

/* true when s holds no CR or LF (log and header lines stay one line). */
static inline int
fuzz_one_line(const char *s)
{
	return s != NULL && strpbrk(s, "\r\n") == NULL;
}

#endif
