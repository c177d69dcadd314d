/* pwhash-tool.c: an Argon2id or bcrypt hash at a chosen cost, for
 * tests/it/faults.sh (a login slow enough to catch its worker in the middle
 * of it) and tests/it/nodedata.sh (hashes as board makes them). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "board.h"
#include "password.h"

/*
 * Usage: pwhash-tool OPS MEM_KIB PASSWORD, or pwhash-tool bcrypt COST
 * PASSWORD. Prints the hash. Exit status: 0 done, 1 hashing failed, 2 usage.
 */
int
main(int argc, char **argv)
{
	struct password_cost cost;
	char out[PASSWORD_HASH_MAX];
	unsigned long long kib;
	char *end;
	int rc = 2;

	memset(&cost, 0, sizeof(cost));
	if (argc != 4)
		goto usage;
	errno = 0;
	if (strcmp(argv[1], "bcrypt") == 0) {
		cost.scheme = PASSWORD_BCRYPT;
		cost.bcrypt_cost = (int)strtoul(argv[2], &end, 10);
		if (errno != 0 || *end != '\0' || cost.bcrypt_cost < 4 ||
		    cost.bcrypt_cost > 31)
			goto usage;
		goto hash;
	}
	cost.ops = strtoull(argv[1], &end, 10);
	if (errno != 0 || *end != '\0' || cost.ops == 0)
		goto usage;
	kib = strtoull(argv[2], &end, 10);
	if (errno != 0 || *end != '\0' || kib == 0 || kib > SIZE_MAX / 1024)
		goto usage;
	cost.mem = (size_t)kib * 1024;
hash:
	rc = 1;
	if (!password_init() ||
	    password_hash(&cost, argv[3], strlen(argv[3]), out) != BOARD_OK) {
		fprintf(stderr, "pwhash-tool: cannot hash\n");
		goto done;
	}
	puts(out);
	rc = 0;
	goto done;
usage:
	fprintf(stderr, "usage: pwhash-tool OPS MEM_KIB PASSWORD\n"
	    "       pwhash-tool bcrypt COST PASSWORD\n");
done:
	return rc;
}
