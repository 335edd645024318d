// SPDX-License-Identifier: Apache-2.0
// Passwords, tokens, sessions and the login limiter; see auth.h.
#include "centre/auth.h"

#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const role_names[] = {
    [ROLE_REPORTER] = "reporter", [ROLE_ANALYST] = "analyst", [ROLE_ADMIN] = "admin",
    [ROLE_HELPER] = "helper",     [ROLE_VIEWER] = "viewer",
};

const char *
auth_role_name(enum role r)
{
    return (size_t)r < sizeof(role_names) / sizeof(role_names[0]) ? role_names[r] : "?";
}

int
auth_role_parse(const char *s, enum role *out)
{
    for (size_t i = 0; i < sizeof(role_names) / sizeof(role_names[0]); i++) {
        if (s && strcmp(s, role_names[i]) == 0) {
            *out = (enum role)i;
            return 0;
        }
    }
    return IASO_E_INVAL;
}

static const char *const scope_names[] = {"read", "write", "admin"};

int
auth_scopes_parse(const char *s, unsigned *out)
{
    unsigned bits = 0;
    const char *p = s;
    while (p && *p) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        bool found = false;
        for (size_t i = 0; i < 3; i++) {
            if (strlen(scope_names[i]) == len && memcmp(p, scope_names[i], len) == 0) {
                bits |= 1u << i;
                found = true;
            }
        }
        if (!found)
            return IASO_E_INVAL;
        p = end ? end + 1 : p + len;
    }
    if (bits == 0)
        return IASO_E_INVAL;
    *out = bits;
    return 0;
}

void
auth_scopes_format(unsigned scopes, char *out, size_t out_len)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < 3; i++) {
        if (!(scopes & (1u << i)))
            continue;
        int n = snprintf(out + used, out_len - used, "%s%s", used ? "," : "", scope_names[i]);
        if (n < 0 || (size_t)n >= out_len - used)
            return;
        used += (size_t)n;
    }
}

int
auth_init(void)
{
    return sodium_init() < 0 ? IASO_E_IO : 0;
}

int
auth_password_hash(const char *password, char *out, size_t out_len, struct errbuf *eb)
{
    size_t len = strlen(password);
    if (len < 12)
        return err_set(eb, IASO_E_INVAL, "the password is too short: 12 characters at least");
    if (len > 256)
        return err_set(eb, IASO_E_INVAL, "the password is too long: 256 characters at most");
    if (out_len < crypto_pwhash_STRBYTES)
        return err_set(eb, IASO_E_INVAL, "password hash buffer too small");
    if (crypto_pwhash_str_alg(out, password, len, crypto_pwhash_OPSLIMIT_INTERACTIVE,
                              crypto_pwhash_MEMLIMIT_INTERACTIVE,
                              crypto_pwhash_ALG_ARGON2ID13) != 0)
        return err_set(eb, IASO_E_NOMEM, "not enough memory to hash the password");
    return 0;
}

bool
auth_password_verify(const char *hash, const char *password)
{
    return crypto_pwhash_str_verify(hash, password, strlen(password)) == 0;
}

void
auth_token_new(char out[AUTH_TOKEN_LEN + 1])
{
    unsigned char raw[32];
    randombytes_buf(raw, sizeof(raw));
    out[0] = 'i', out[1] = 'a', out[2] = 's', out[3] = 'o', out[4] = '_';
    sodium_bin2base64(out + 5, AUTH_TOKEN_LEN + 1 - 5, raw, sizeof(raw),
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof(raw));
}

void
auth_digest(const char *secret, char out[AUTH_DIGEST_HEX_LEN + 1])
{
    unsigned char d[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(d, (const unsigned char *)secret, strlen(secret));
    sodium_bin2hex(out, AUTH_DIGEST_HEX_LEN + 1, d, sizeof(d));
}

bool
auth_secret_equal(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la != lb || la == 0)
        return false;
    return sodium_memcmp(a, b, la) == 0;
}

struct load_ctx {
    struct principal *p;
    bool found;
    bool disabled;
};

static int
principal_row(void *ctx, const struct store_row *row)
{
    struct load_ctx *lc = ctx;
    struct principal *p = lc->p;
    p->user_id = row->cols[0].i;
    p->org_id = row->cols[1].i;
    if (auth_role_parse(row->cols[2].s, &p->role) != 0)
        p->role = ROLE_VIEWER;
    snprintf(p->email, sizeof(p->email), "%s", row->cols[3].s ? row->cols[3].s : "");
    lc->disabled = row->cols[4].i != 0;
    p->org_is_csirt = row->cols[5].s && strcmp(row->cols[5].s, "csirt") == 0;
    p->org_is_operator = row->cols[6].i != 0;
    if (row->n_cols > 7) {
        /* scopes, or the CSRF token of a session */
        if (row->cols[7].type == STORE_TEXT && p->via_session)
            snprintf(p->csrf, sizeof(p->csrf), "%s", row->cols[7].s);
        else if (row->cols[7].type == STORE_TEXT &&
                 auth_scopes_parse(row->cols[7].s, &p->scopes) != 0)
            p->scopes = 0;
    }
    lc->found = true;
    return 0;
}

#define PRINCIPAL_COLS "u.id, u.org_id, u.role, u.email, u.disabled, o.kind, o.is_operator"

static int
principal_query(struct store_conn *db, const char *sql, const struct store_val *params,
                size_t n_params, struct principal *out, struct errbuf *eb)
{
    struct load_ctx lc = {.p = out};
    int rc = store_exec(db, sql, params, n_params, principal_row, &lc, NULL, eb);
    if (rc != 0)
        return rc;
    if (!lc.found || lc.disabled)
        return IASO_E_PERM;
    return 0;
}

int
auth_principal_load(struct store_conn *db, int64_t user_id, struct principal *out,
                    struct errbuf *eb)
{
    memset(out, 0, sizeof(*out));
    out->scopes = SCOPE_ALL;
    struct store_val p[] = {store_int(user_id)};
    return principal_query(db,
                           "SELECT " PRINCIPAL_COLS " FROM users u JOIN orgs o ON o.id = u.org_id"
                           " WHERE u.id = ?",
                           p, 1, out, eb);
}

int
auth_principal_from_token(struct store_conn *db, const char *token, int64_t now,
                          struct principal *out, struct errbuf *eb)
{
    char digest[AUTH_DIGEST_HEX_LEN + 1];
    memset(out, 0, sizeof(*out));
    if (strlen(token) != AUTH_TOKEN_LEN || strncmp(token, "iaso_", 5) != 0)
        return IASO_E_PERM;
    auth_digest(token, digest);
    struct store_val p[] = {store_text(digest), store_int(now)};
    int rc = principal_query(db,
                             "SELECT " PRINCIPAL_COLS ", t.scopes FROM tokens t"
                             " JOIN users u ON u.id = t.user_id JOIN orgs o ON o.id = u.org_id"
                             " WHERE t.hash = ? AND t.kind = 'api' AND t.revoked_at IS NULL"
                             " AND (t.expires_at IS NULL OR t.expires_at > ?)",
                             p, 2, out, eb);
    if (rc != 0)
        return rc;
    /* When a token was last used, to the minute: at most one write a minute per token, so the
     * read path stays a read. A failure here (a busy database) does not refuse the request. */
    struct store_val q[] = {store_int(now), store_text(digest), store_int(now - 60)};
    struct errbuf ignored;
    store_exec(db,
               "UPDATE tokens SET last_used_at = ? WHERE hash = ?"
               " AND (last_used_at IS NULL OR last_used_at < ?)",
               q, 3, NULL, NULL, NULL, &ignored);
    return 0;
}

int
auth_principal_from_session(struct store_conn *db, const char *session, int64_t now,
                            struct principal *out, struct errbuf *eb)
{
    char digest[AUTH_DIGEST_HEX_LEN + 1];
    memset(out, 0, sizeof(*out));
    if (strlen(session) != AUTH_TOKEN_LEN)
        return IASO_E_PERM;
    auth_digest(session, digest);
    out->via_session = true;
    out->scopes = SCOPE_ALL;
    struct store_val p[] = {store_text(digest), store_int(now)};
    return principal_query(db,
                           "SELECT " PRINCIPAL_COLS ", s.csrf FROM sessions s"
                           " JOIN users u ON u.id = s.user_id JOIN orgs o ON o.id = u.org_id"
                           " WHERE s.hash = ? AND s.expires_at > ?",
                           p, 2, out, eb);
}

/* The limiter: a fixed table of counters keyed by a hash of "a:" + address or "u:" + account.
 * Collisions only make two keys share a budget, which errs on the safe side. */
#define LIMITER_SLOTS 4096
#define LIMITER_WINDOW_S ((int64_t)15 * 60)
#define LIMITER_PER_PEER 10
#define LIMITER_PER_ACCOUNT 5

struct limiter_slot {
    uint64_t key;
    int64_t window_start;
    uint32_t failures;
};

struct auth_limiter {
    pthread_mutex_t lock;
    unsigned char salt[crypto_shorthash_KEYBYTES];
    struct limiter_slot slots[LIMITER_SLOTS];
};

struct auth_limiter *
auth_limiter_new(void)
{
    struct auth_limiter *l = calloc(1, sizeof(*l));
    if (!l)
        return NULL;
    pthread_mutex_init(&l->lock, NULL);
    randombytes_buf(l->salt, sizeof(l->salt));
    return l;
}

void
auth_limiter_free(struct auth_limiter *l)
{
    if (!l)
        return;
    pthread_mutex_destroy(&l->lock);
    free(l);
}

static uint64_t
limiter_key(const struct auth_limiter *l, char tag, const char *s)
{
    unsigned char h[crypto_shorthash_BYTES];
    char buf[300];
    int n = snprintf(buf, sizeof(buf), "%c:%s", tag, s ? s : "");
    size_t len = n < 0 ? 0 : (size_t)n >= sizeof(buf) ? sizeof(buf) - 1 : (size_t)n;
    crypto_shorthash(h, (const unsigned char *)buf, len, l->salt);
    uint64_t k;
    memcpy(&k, h, sizeof(k));
    return k | 1; /* 0 marks a free slot */
}

static struct limiter_slot *
limiter_slot(struct auth_limiter *l, uint64_t key)
{
    return &l->slots[key % LIMITER_SLOTS];
}

static int64_t
slot_wait(const struct limiter_slot *s, uint64_t key, uint32_t max, int64_t now)
{
    if (s->key != key || now - s->window_start >= LIMITER_WINDOW_S || s->failures < max)
        return 0;
    return s->window_start + LIMITER_WINDOW_S - now;
}

int64_t
auth_limiter_check(struct auth_limiter *l, const char *peer, const char *account, int64_t now)
{
    uint64_t kp = limiter_key(l, 'a', peer), ka = limiter_key(l, 'u', account);
    pthread_mutex_lock(&l->lock);
    int64_t wp = slot_wait(limiter_slot(l, kp), kp, LIMITER_PER_PEER, now);
    int64_t wa = slot_wait(limiter_slot(l, ka), ka, LIMITER_PER_ACCOUNT, now);
    pthread_mutex_unlock(&l->lock);
    return wp > wa ? wp : wa;
}

static void
slot_fail(struct limiter_slot *s, uint64_t key, int64_t now)
{
    if (s->key != key || now - s->window_start >= LIMITER_WINDOW_S) {
        s->key = key;
        s->window_start = now;
        s->failures = 0;
    }
    s->failures++;
}

void
auth_limiter_fail(struct auth_limiter *l, const char *peer, const char *account, int64_t now)
{
    uint64_t kp = limiter_key(l, 'a', peer), ka = limiter_key(l, 'u', account);
    pthread_mutex_lock(&l->lock);
    slot_fail(limiter_slot(l, kp), kp, now);
    slot_fail(limiter_slot(l, ka), ka, now);
    pthread_mutex_unlock(&l->lock);
}

void
auth_limiter_succeed(struct auth_limiter *l, const char *account)
{
    uint64_t ka = limiter_key(l, 'u', account);
    pthread_mutex_lock(&l->lock);
    struct limiter_slot *s = limiter_slot(l, ka);
    if (s->key == ka)
        s->failures = 0;
    pthread_mutex_unlock(&l->lock);
}
