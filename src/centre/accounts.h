// SPDX-License-Identifier: Apache-2.0
// Organisations, users, API tokens, sessions and the audit log: the functions the command line
// calls directly, and the API routes over them (accounts_routes[]).
#ifndef IASO_CENTRE_ACCOUNTS_H
#define IASO_CENTRE_ACCOUNTS_H

#include <stdint.h>

#include "centre/api.h"

extern const char *const accounts_org_kinds[]; /* "hospital", ..., NULL */

struct org_new {
    const char *name;
    const char *kind;
    const char *country; /* ISO 3166-1 alpha-2 */
    const char *region;  /* may be NULL */
    int64_t csirt_id;    /* 0: none */
    bool is_operator;
};

/* Each of these writes inside the caller's transaction when there is one, and appends to the
 * audit log through `a` (a->db, a->now, a->who when has_who; a->req may be NULL for the CLI).
 * They validate their input and return IASO_E_INVAL with a sentence in a->eb, IASO_E_EXIST
 * when the name or email is taken. */
int accounts_org_create(struct api *a, const struct org_new *o, int64_t *id);
int accounts_user_create(struct api *a, int64_t org_id, const char *email, const char *name,
                         const char *role, const char *password, int64_t *id);
/* Writes the new secret into token_out (shown once, never stored). */
int accounts_token_create(struct api *a, int64_t user_id, const char *kind, const char *name,
                          unsigned scopes, int64_t expires_at, char token_out[AUTH_TOKEN_LEN + 1],
                          int64_t *id);
int accounts_token_revoke(struct api *a, int64_t token_id);
int accounts_user_set_password(struct api *a, int64_t user_id, const char *password);
int accounts_user_set_disabled(struct api *a, int64_t user_id, bool disabled);

/* Country code check: two uppercase ASCII letters. */
bool accounts_country_valid(const char *s);

extern const struct api_route accounts_routes[];
extern const size_t accounts_routes_n;

#endif
