// SPDX-License-Identifier: Apache-2.0
// Who is asking: passwords (Argon2id), API tokens and UI sessions, and the principal a request
// runs as. Secrets are never stored: passwords as Argon2id strings, tokens and session ids as
// SHA-256 digests (they are 256-bit random values, so a fast digest is enough and keeps each
// request cheap). Comparisons of secrets are constant-time.
#ifndef IASO_CENTRE_AUTH_H
#define IASO_CENTRE_AUTH_H

#include <stdbool.h>
#include <stdint.h>

#include "base/error.h"
#include "centre/store.h"

enum role {
    ROLE_REPORTER,
    ROLE_ANALYST,
    ROLE_ADMIN,
    ROLE_HELPER,
    ROLE_VIEWER,
};

/* API token scopes, a bit set. */
enum {
    SCOPE_READ = 1u << 0,  /* read what the user may read */
    SCOPE_WRITE = 1u << 1, /* report and update incidents, comment, NIS2 reports */
    SCOPE_ADMIN = 1u << 2, /* organisations, users, tokens, audit log */
    SCOPE_ALL = SCOPE_READ | SCOPE_WRITE | SCOPE_ADMIN,
};

#define AUTH_TOKEN_LEN 48      /* "iaso_" + 43 base64url characters of 32 random bytes */
#define AUTH_DIGEST_HEX_LEN 64 /* SHA-256 in hex */
#define AUTH_SESSION_TTL_S ((int64_t)12 * 3600)

/* The user a request runs as. */
struct principal {
    int64_t user_id;
    int64_t org_id;
    enum role role;
    bool org_is_csirt;    /* the user's organisation coordinates a constituency */
    bool org_is_operator; /* the organisation that runs this centre */
    unsigned scopes;      /* SCOPE_ALL for sessions; the token's scopes otherwise */
    bool via_session;     /* cookie session: writes need the CSRF token */
    char csrf[AUTH_TOKEN_LEN + 1];
    char email[256];
};

const char *auth_role_name(enum role r);
int auth_role_parse(const char *s, enum role *out);

/* "read,write" -> bits. IASO_E_INVAL on an unknown scope. */
int auth_scopes_parse(const char *s, unsigned *out);
/* Writes "read,write,admin" (subset) into out (at least 24 bytes). */
void auth_scopes_format(unsigned scopes, char *out, size_t out_len);

/* Must be called once before anything else here (sodium_init). */
int auth_init(void);

/* Hashes a password into an Argon2id string (crypto_pwhash_STRBYTES bytes, NUL included).
 * Refuses passwords shorter than 12 or longer than 256 bytes (IASO_E_INVAL). */
int auth_password_hash(const char *password, char *out, size_t out_len, struct errbuf *eb);
bool auth_password_verify(const char *hash, const char *password);

/* A new random token "iaso_..." (AUTH_TOKEN_LEN characters + NUL). */
void auth_token_new(char out[AUTH_TOKEN_LEN + 1]);
/* SHA-256 of a secret in lowercase hex (65 bytes with NUL). */
void auth_digest(const char *secret, char out[AUTH_DIGEST_HEX_LEN + 1]);
/* Constant-time equality of two NUL-terminated strings of the same length. */
bool auth_secret_equal(const char *a, const char *b);

/*
 * Resolves a bearer token or a session id (the raw secret) to a principal, reading the store.
 * Returns 0, IASO_E_PERM when the secret is unknown, expired, revoked or its user disabled, or
 * another negative code on a store failure.
 */
int auth_principal_from_token(struct store_conn *db, const char *token, int64_t now,
                              struct principal *out, struct errbuf *eb);
int auth_principal_from_session(struct store_conn *db, const char *session, int64_t now,
                                struct principal *out, struct errbuf *eb);
/* Loads a principal by user id (used after login and by the CLI). */
int auth_principal_load(struct store_conn *db, int64_t user_id, struct principal *out,
                        struct errbuf *eb);

/*
 * Login failures, counted per client address and per account name in memory, so guessing is
 * slow: more than 10 failures from one address or 5 against one account in 15 minutes and
 * further attempts are refused until the window passes. Thread-safe.
 */
struct auth_limiter;
struct auth_limiter *auth_limiter_new(void);
void auth_limiter_free(struct auth_limiter *l);
/* Returns 0 when an attempt may go on, or the seconds to wait. */
int64_t auth_limiter_check(struct auth_limiter *l, const char *peer, const char *account,
                           int64_t now);
void auth_limiter_fail(struct auth_limiter *l, const char *peer, const char *account, int64_t now);
void auth_limiter_succeed(struct auth_limiter *l, const char *account);

#endif
