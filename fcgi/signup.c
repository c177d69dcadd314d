/* signup.c: board-signup, the responder that creates accounts. */
#include "config.h"

#include <string.h>

#include "api.h"
#include "log.h"
#include "responder.h"

static void
signup_post(struct board *b, struct req *rq, const struct session *sess,
    struct resp *rs)
{
	struct json_obj o;
	struct user u;
	const char *name, *pw;
	size_t pwlen;
	char hash[PASSWORD_HASH_MAX];
	enum board_err rc;

	(void)sess;
	json_obj_init(&o);
	user_init(&u);
	if (!api_parse_body(rq, rs, &o))
		goto out;
	if (!api_credentials(&o, rs, &name, &pw, &pwlen))
		goto out;
	/* Hash before asking the store, so a taken name costs the same. */
	if (password_hash(&b->cost, pw, pwlen, hash) != BOARD_OK) {
		resp_error_from(rs, BOARD_EUNAVAIL, NULL, NULL);
		goto out;
	}
	rc = store_user_create(b->store, name, hash, &u);
	explicit_bzero(hash, sizeof(hash));
	if (rc == BOARD_EEXIST) {
		resp_error_code(rs, HTTP_ERR_USERNAME_TAKEN, NULL, "username");
		goto out;
	}
	if (rc != BOARD_OK) {
		resp_error_from(rs, rc, NULL, NULL);
		goto out;
	}
	log_info("signup: new user %s", u.id);
	api_user_resp(rs, 201, u.id, u.username);
out:
	user_cleanup(&u);
	json_obj_cleanup(&o);
}

static const struct route routes[] = {
	{ "POST", "/api/auth/signup", signup_post, 0 },
	{ NULL, NULL, NULL, 0 },
};

int
main(int argc, char **argv)
{
	return responder_run("signup", routes, argc, argv);
}
