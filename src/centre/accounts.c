// SPDX-License-Identifier: Apache-2.0
// Organisations, users, tokens, login sessions and the audit log; see accounts.h.
//
// Who may do what:
//   - every logged-in user lists organisations (names are needed to share an incident);
//   - the centre's admins (admin role in the operator organisation) create and change
//     organisations, and manage users and tokens of every organisation;
//   - an organisation's admins manage their own organisation's users (never making anyone a
//     member of another organisation) and see their organisation's audit lines;
//   - every user manages their own password and API tokens.
#include "centre/accounts.h"

#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"

const char *const accounts_org_kinds[] = {"hospital",  "clinic", "ambulance", "laboratory",
                                          "authority", "csirt",  "helper",    NULL};
static const char *const role_choices[] = {"reporter", "analyst", "admin",
                                           "helper",   "viewer",  NULL};
static const char *const token_kinds[] = {"api", "enrol", NULL};

bool
accounts_country_valid(const char *s)
{
    return s && strlen(s) == 2 && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' && s[1] <= 'Z';
}

static bool
email_valid(const char *s)
{
    size_t len = strlen(s);
    const char *at = strchr(s, '@');
    if (len < 3 || len > 254 || !at || at == s || !at[1] || strchr(at + 1, '@'))
        return false;
    for (const char *p = s; *p; p++)
        if ((unsigned char)*p <= ' ' || *p == '<' || *p == '>' || *p == '"' || *p == ',')
            return false;
    return true;
}

int
accounts_org_create(struct api *a, const struct org_new *o, int64_t *id)
{
    bool kind_ok = false;
    for (size_t i = 0; accounts_org_kinds[i]; i++)
        kind_ok |= o->kind && strcmp(o->kind, accounts_org_kinds[i]) == 0;
    if (!o->name || !o->name[0] || strlen(o->name) > 200)
        return err_set(&a->eb, IASO_E_INVAL, "the organisation name must be 1 to 200 bytes");
    if (!kind_ok)
        return err_set(&a->eb, IASO_E_INVAL,
                       "the organisation kind must be one of hospital, clinic, ambulance, "
                       "laboratory, authority, csirt, helper");
    if (!accounts_country_valid(o->country))
        return err_set(&a->eb, IASO_E_INVAL,
                       "the country must be an ISO 3166-1 alpha-2 code such as CZ or DE");
    if (o->region && strlen(o->region) > 100)
        return err_set(&a->eb, IASO_E_INVAL, "the region must be at most 100 bytes");
    if (o->csirt_id > 0) {
        int64_t n = 0;
        struct store_val p[] = {store_int(o->csirt_id)};
        int rc = store_query_int(a->db, "SELECT COUNT(*) FROM orgs WHERE id = ? AND kind = 'csirt'",
                                 p, 1, &n, &a->eb);
        if (rc != 0)
            return rc;
        if (n == 0)
            return err_set(&a->eb, IASO_E_INVAL, "csirt_id %lld is not a CSIRT organisation",
                           (long long)o->csirt_id);
    }
    struct store_val p[] = {
        store_text(o->name),
        store_text(o->kind),
        store_text(o->country),
        store_text(o->region ? o->region : ""),
        o->csirt_id > 0 ? store_int(o->csirt_id) : store_null(),
        store_int(o->is_operator ? 1 : 0),
        store_int(a->now),
    };
    int rc = store_query_int(a->db,
                             "INSERT INTO orgs (name, kind, country, region, csirt_id, is_operator,"
                             " created_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
                             p, 7, id, &a->eb);
    if (rc == IASO_E_EXIST)
        return err_set(&a->eb, rc, "an organisation named '%s' exists already", o->name);
    if (rc != 0)
        return rc;
    return api_audit(a, "org.create", "org", *id,
                     api_object("name", json_string(o->name), "kind", json_string(o->kind), NULL));
}

int
accounts_user_create(struct api *a, int64_t org_id, const char *email, const char *name,
                     const char *role, const char *password, int64_t *id)
{
    enum role r;
    char hash[crypto_pwhash_STRBYTES];
    if (!email || !email_valid(email))
        return err_set(&a->eb, IASO_E_INVAL, "the email address is not valid");
    if (!name || !name[0] || strlen(name) > 200)
        return err_set(&a->eb, IASO_E_INVAL, "the name must be 1 to 200 bytes");
    if (auth_role_parse(role, &r) != 0)
        return err_set(&a->eb, IASO_E_INVAL,
                       "the role must be one of reporter, analyst, admin, helper, viewer");
    int rc = auth_password_hash(password ? password : "", hash, sizeof(hash), &a->eb);
    if (rc != 0)
        return rc;
    struct store_val p[] = {
        store_int(org_id), store_text(email), store_text(name),
        store_text(role),  store_text(hash),  store_int(a->now),
    };
    rc = store_query_int(a->db,
                         "INSERT INTO users (org_id, email, name, role, password_hash, created_at)"
                         " VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
                         p, 6, id, &a->eb);
    sodium_memzero(hash, sizeof(hash));
    if (rc == IASO_E_EXIST)
        return err_set(&a->eb, rc, "a user with the email '%s' exists already", email);
    if (rc == IASO_E_INVAL)
        return err_set(&a->eb, rc, "organisation %lld does not exist", (long long)org_id);
    if (rc != 0)
        return rc;
    return api_audit(a, "user.create", "user", *id,
                     api_object("email", json_string(email), "role", json_string(role), NULL));
}

int
accounts_token_create(struct api *a, int64_t user_id, const char *kind, const char *name,
                      unsigned scopes, int64_t expires_at, char token_out[AUTH_TOKEN_LEN + 1],
                      int64_t *id)
{
    char digest[AUTH_DIGEST_HEX_LEN + 1], scope_text[32], prefix[13];
    if (!name || !name[0] || strlen(name) > 100)
        return err_set(&a->eb, IASO_E_INVAL, "the token name must be 1 to 100 bytes");
    if (strcmp(kind, "api") != 0 && strcmp(kind, "enrol") != 0)
        return err_set(&a->eb, IASO_E_INVAL, "the token kind must be api or enrol");
    if (expires_at != 0 && expires_at <= a->now)
        return err_set(&a->eb, IASO_E_INVAL, "the expiry must be in the future");
    /* A token never carries more than its user: the admin scope and sensor enrolment are for
     * admins. Checked here, so the API and the command line cannot differ. */
    int64_t is_admin = 0;
    struct store_val u[] = {store_int(user_id)};
    int rc = store_query_int(a->db, "SELECT COUNT(*) FROM users WHERE id = ? AND role = 'admin'", u,
                             1, &is_admin, &a->eb);
    if (rc != 0)
        return rc;
    if (!is_admin && (scopes & SCOPE_ADMIN))
        return err_set(&a->eb, IASO_E_PERM, "only admins may have tokens with the admin scope");
    if (!is_admin && strcmp(kind, "enrol") == 0)
        return err_set(&a->eb, IASO_E_PERM, "only admins may create sensor enrolment tokens");
    auth_token_new(token_out);
    auth_digest(token_out, digest);
    auth_scopes_format(scopes, scope_text, sizeof(scope_text));
    snprintf(prefix, sizeof(prefix), "%.12s", token_out);
    struct store_val p[] = {
        store_int(user_id), store_text(kind),
        store_text(name),   store_text(digest),
        store_text(prefix), store_text(scope_text),
        store_int(a->now),  expires_at ? store_int(expires_at) : store_null(),
    };
    rc = store_query_int(a->db,
                         "INSERT INTO tokens (user_id, kind, name, hash, prefix, scopes,"
                         " created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                         p, 8, id, &a->eb);
    if (rc == IASO_E_INVAL)
        return err_set(&a->eb, rc, "user %lld does not exist", (long long)user_id);
    if (rc != 0)
        return rc;
    return api_audit(
        a, "token.create", "token", *id,
        api_object("name", json_string(name), "scopes", json_string(scope_text), NULL));
}

int
accounts_token_revoke(struct api *a, int64_t token_id)
{
    int64_t changed = 0;
    struct store_val p[] = {store_int(a->now), store_int(token_id)};
    int rc =
        store_exec(a->db, "UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", p,
                   2, NULL, NULL, &changed, &a->eb);
    if (rc != 0)
        return rc;
    if (changed == 0)
        return err_set(&a->eb, IASO_E_NOTFOUND, "token %lld not found or already revoked",
                       (long long)token_id);
    return api_audit(a, "token.revoke", "token", token_id, NULL);
}

int
accounts_user_set_password(struct api *a, int64_t user_id, const char *password)
{
    char hash[crypto_pwhash_STRBYTES];
    int rc = auth_password_hash(password, hash, sizeof(hash), &a->eb);
    if (rc != 0)
        return rc;
    int64_t changed = 0;
    struct store_val p[] = {store_text(hash), store_int(user_id)};
    rc = store_exec(a->db, "UPDATE users SET password_hash = ? WHERE id = ?", p, 2, NULL, NULL,
                    &changed, &a->eb);
    sodium_memzero(hash, sizeof(hash));
    if (rc != 0)
        return rc;
    if (changed == 0)
        return err_set(&a->eb, IASO_E_NOTFOUND, "user %lld not found", (long long)user_id);
    /* a new password ends every session of that user */
    struct store_val q[] = {store_int(user_id)};
    rc =
        store_exec(a->db, "DELETE FROM sessions WHERE user_id = ?", q, 1, NULL, NULL, NULL, &a->eb);
    if (rc != 0)
        return rc;
    return api_audit(a, "user.password", "user", user_id, NULL);
}

int
accounts_user_set_disabled(struct api *a, int64_t user_id, bool disabled)
{
    int64_t changed = 0;
    struct store_val p[] = {store_int(disabled ? 1 : 0), store_int(user_id)};
    int rc = store_exec(a->db, "UPDATE users SET disabled = ? WHERE id = ?", p, 2, NULL, NULL,
                        &changed, &a->eb);
    if (rc != 0)
        return rc;
    if (changed == 0)
        return err_set(&a->eb, IASO_E_NOTFOUND, "user %lld not found", (long long)user_id);
    if (disabled) {
        struct store_val q[] = {store_int(user_id)};
        rc = store_exec(a->db, "DELETE FROM sessions WHERE user_id = ?", q, 1, NULL, NULL, NULL,
                        &a->eb);
        if (rc != 0)
            return rc;
    }
    return api_audit(a, disabled ? "user.disable" : "user.enable", "user", user_id, NULL);
}

/* ---- JSON rows ---- */

/* Collects rows into a JSON array with a converter per row. */
struct rows {
    json_t *items;
    json_t *(*convert)(const struct store_row *row);
    int64_t last_id;
};

static int
rows_add(void *ctx, const struct store_row *row)
{
    struct rows *r = ctx;
    json_t *v = r->convert(row);
    if (!v)
        return IASO_E_NOMEM;
    r->last_id = row->cols[0].i;
    return json_array_append_new(r->items, v) == 0 ? 0 : IASO_E_NOMEM;
}

static json_t *
col_text(const struct store_val *v)
{
    return v->type == STORE_NULL ? json_null() : json_stringn(v->s ? v->s : "", v->len);
}

static json_t *
col_int(const struct store_val *v)
{
    return v->type == STORE_NULL ? json_null() : json_integer(v->i);
}

/* Unix seconds as RFC 3339 text; null when NULL. */
static json_t *
col_time(const struct store_val *v)
{
    return v->type == STORE_NULL ? json_null() : api_time_json(v->i);
}

#define ORG_COLS "id, name, kind, country, region, csirt_id, is_operator, created_at"
#define ORG_BY_ID "SELECT " ORG_COLS " FROM orgs WHERE id = ?"

static json_t *
org_json(const struct store_row *row)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", col_int(&row->cols[0]));
    json_object_set_new(o, "name", col_text(&row->cols[1]));
    json_object_set_new(o, "kind", col_text(&row->cols[2]));
    json_object_set_new(o, "country", col_text(&row->cols[3]));
    json_object_set_new(o, "region", col_text(&row->cols[4]));
    json_object_set_new(o, "csirt_id", col_int(&row->cols[5]));
    json_object_set_new(o, "is_operator", json_boolean(row->cols[6].i != 0));
    json_object_set_new(o, "created_at", col_time(&row->cols[7]));
    return o;
}

#define USER_COLS                                                                                  \
    "u.id, u.org_id, u.email, u.name, u.role, u.disabled, u.created_at, u.last_login_at, o.name"
#define USER_BY_ID "SELECT " USER_COLS " FROM users u JOIN orgs o ON o.id = u.org_id WHERE u.id = ?"

static json_t *
user_json(const struct store_row *row)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", col_int(&row->cols[0]));
    json_object_set_new(o, "org_id", col_int(&row->cols[1]));
    json_object_set_new(o, "email", col_text(&row->cols[2]));
    json_object_set_new(o, "name", col_text(&row->cols[3]));
    json_object_set_new(o, "role", col_text(&row->cols[4]));
    json_object_set_new(o, "disabled", json_boolean(row->cols[5].i != 0));
    json_object_set_new(o, "created_at", col_time(&row->cols[6]));
    json_object_set_new(o, "last_login_at", col_time(&row->cols[7]));
    json_object_set_new(o, "org_name", col_text(&row->cols[8]));
    return o;
}

#define TOKEN_COLS                                                                                 \
    "id, user_id, kind, name, prefix, scopes, created_at, expires_at, revoked_at, last_used_at"

static json_t *
token_json(const struct store_row *row)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", col_int(&row->cols[0]));
    json_object_set_new(o, "user_id", col_int(&row->cols[1]));
    json_object_set_new(o, "kind", col_text(&row->cols[2]));
    json_object_set_new(o, "name", col_text(&row->cols[3]));
    json_object_set_new(o, "prefix", col_text(&row->cols[4]));
    json_object_set_new(o, "scopes", col_text(&row->cols[5]));
    json_object_set_new(o, "created_at", col_time(&row->cols[6]));
    json_object_set_new(o, "expires_at", col_time(&row->cols[7]));
    json_object_set_new(o, "revoked_at", col_time(&row->cols[8]));
    json_object_set_new(o, "last_used_at", col_time(&row->cols[9]));
    return o;
}

#define AUDIT_COLS "id, at, user_id, org_id, peer, action, object_type, object_id, detail"

static json_t *
audit_json(const struct store_row *row)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", col_int(&row->cols[0]));
    json_object_set_new(o, "at", col_time(&row->cols[1]));
    json_object_set_new(o, "user_id", col_int(&row->cols[2]));
    json_object_set_new(o, "org_id", col_int(&row->cols[3]));
    json_object_set_new(o, "peer", col_text(&row->cols[4]));
    json_object_set_new(o, "action", col_text(&row->cols[5]));
    json_object_set_new(o, "object_type", col_text(&row->cols[6]));
    json_object_set_new(o, "object_id", col_int(&row->cols[7]));
    json_t *d = row->cols[8].s ? json_loads(row->cols[8].s, 0, NULL) : NULL;
    json_object_set_new(o, "detail", d ? d : json_object());
    return o;
}

/* Runs a query into {"items": [...]} and sends it, or answers the error. For a page, `next`
 * names the member that says where the next one starts ("next_after_id", "next_before_id"):
 * the last item's id when the page is full (`page_limit` items), else null. NULL `next`: a
 * whole list. */
static void
send_rows(struct api *a, const char *sql, const struct store_val *p, size_t n,
          json_t *(*convert)(const struct store_row *), const char *next, int64_t page_limit)
{
    struct rows r = {.items = json_array(), .convert = convert};
    int rc = store_exec(a->db, sql, p, n, rows_add, &r, NULL, &a->eb);
    if (rc != 0) {
        json_decref(r.items);
        api_store_error(a, rc);
        return;
    }
    json_t *out = json_object();
    bool full = (int64_t)json_array_size(r.items) == page_limit;
    json_object_set_new(out, "items", r.items);
    if (next)
        json_object_set_new(out, next, full ? json_integer(r.last_id) : json_null());
    api_send_json(a, 200, out);
}

/* Runs a query for one row with the parameter `id`: *out is its JSON (a new reference), NULL
 * when there is none. 0 or a store error. */
static int
row_fetch(struct api *a, const char *sql, int64_t id, json_t *(*convert)(const struct store_row *),
          json_t **out)
{
    struct rows r = {.items = json_array(), .convert = convert};
    struct store_val p[] = {store_int(id)};
    int rc = store_exec(a->db, sql, p, 1, rows_add, &r, NULL, &a->eb);
    *out = rc == 0 ? json_incref(json_array_get(r.items, 0)) : NULL;
    json_decref(r.items);
    return rc;
}

/* Runs a query for one row with the parameter `id` and sends it with `status`; 404 when there
 * is none. */
static void
send_row(struct api *a, const char *what, const char *sql, int64_t id,
         json_t *(*convert)(const struct store_row *), int status)
{
    json_t *v = NULL;
    int rc = row_fetch(a, sql, id, convert, &v);
    if (rc != 0)
        api_store_error(a, rc);
    else if (!v)
        api_not_found(a, what);
    else
        api_send_json(a, status, v);
}

/* Maps a domain function's failure to a response. */
static void
send_failure(struct api *a, int rc)
{
    if (rc == IASO_E_INVAL)
        api_error(a, 400, "bad_field", "%s", a->eb.msg);
    else if (rc == IASO_E_EXIST)
        api_error(a, 409, "conflict", "%s", a->eb.msg);
    else if (rc == IASO_E_NOTFOUND)
        api_error(a, 404, "not_found", "%s", a->eb.msg);
    else if (rc == IASO_E_PERM)
        api_forbidden(a, a->eb.msg);
    else
        api_store_error(a, rc);
}

/* Opens a write transaction: 0, or the store error, answered. */
static int
tx_begin(struct api *a)
{
    int rc = store_begin(a->db, true, &a->eb);
    if (rc != 0)
        api_store_error(a, rc);
    return rc;
}

static bool
commit_or_fail(struct api *a, int rc)
{
    if (rc == 0)
        rc = store_commit(a->db, &a->eb);
    if (rc != 0) {
        store_rollback(a->db);
        send_failure(a, rc);
        return false;
    }
    return true;
}

/* ---- login ---- */

static const struct api_field login_fields[] = {
    {"email", AF_STRING, true, 1, 254, NULL},
    {"password", AF_STRING, true, 1, 1024, NULL},
};

static void
set_session_cookie(struct api *a, const char *value, int64_t max_age)
{
    char cookie[200];
    snprintf(cookie, sizeof(cookie),
             "iaso_session=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%lld%s", value,
             (long long)max_age, a->c->secure_cookies ? "; Secure" : "");
    http_resp_header(a->resp, "Set-Cookie", cookie);
}

struct login_row {
    int64_t user_id;
    char hash[crypto_pwhash_STRBYTES];
    bool disabled;
    bool found;
};

static int
login_row_fn(void *ctx, const struct store_row *row)
{
    struct login_row *l = ctx;
    l->user_id = row->cols[0].i;
    snprintf(l->hash, sizeof(l->hash), "%s", row->cols[1].s ? row->cols[1].s : "");
    l->disabled = row->cols[2].i != 0;
    l->found = true;
    return 0;
}

/* A valid Argon2id string of a password nobody has, so a login with an unknown email costs the
 * same time as one with a known email. */
static char dummy_hash[crypto_pwhash_STRBYTES];
static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;
static void
dummy_init(void)
{
    char pw[AUTH_TOKEN_LEN + 1];
    auth_token_new(pw);
    if (auth_password_hash(pw, dummy_hash, sizeof(dummy_hash), NULL) != 0)
        dummy_hash[0] = '\0';
}

static void
login(struct api *a)
{
    json_t *b = api_body(a, login_fields, 2, false);
    if (!b)
        return;
    const char *email = json_string_value(json_object_get(b, "email"));
    const char *password = json_string_value(json_object_get(b, "password"));
    int64_t wait = auth_limiter_check(a->c->limiter, a->req->peer, email, a->now);
    if (wait > 0) {
        char ra[24];
        snprintf(ra, sizeof(ra), "%lld", (long long)wait);
        http_resp_header(a->resp, "Retry-After", ra);
        api_error(a, 429, "too_many_attempts", "too many failed logins; try again in %lld seconds",
                  (long long)wait);
        json_decref(b);
        return;
    }
    struct login_row l = {0};
    struct store_val p[] = {store_text(email)};
    int rc = store_exec(a->db, "SELECT id, password_hash, disabled FROM users WHERE email = ?", p,
                        1, login_row_fn, &l, NULL, &a->eb);
    if (rc != 0) {
        json_decref(b);
        api_store_error(a, rc);
        return;
    }
    pthread_once(&dummy_once, dummy_init);
    bool ok =
        auth_password_verify(l.found ? l.hash : dummy_hash, password) && l.found && !l.disabled;
    sodium_memzero(l.hash, sizeof(l.hash));
    if (!ok) {
        auth_limiter_fail(a->c->limiter, a->req->peer, email, a->now);
        log_msg(LOG_LEVEL_WARN, "centre: failed login for '%.64s' from %s", email, a->req->peer);
        api_error(a, 401, "bad_credentials", "wrong email or password");
        json_decref(b);
        return;
    }
    auth_limiter_succeed(a->c->limiter, email);
    json_decref(b);

    char session[AUTH_TOKEN_LEN + 1], csrf[AUTH_TOKEN_LEN + 1], digest[AUTH_DIGEST_HEX_LEN + 1];
    auth_token_new(session);
    auth_token_new(csrf);
    auth_digest(session, digest);
    rc = store_begin(a->db, true, &a->eb);
    if (rc == 0) {
        struct store_val q[] = {store_text(digest), store_int(l.user_id),
                                store_text(csrf),   store_text(a->req->peer),
                                store_int(a->now),  store_int(a->now + AUTH_SESSION_TTL_S)};
        rc = store_exec(a->db,
                        "INSERT INTO sessions (hash, user_id, csrf, peer, created_at, expires_at)"
                        " VALUES (?, ?, ?, ?, ?, ?)",
                        q, 6, NULL, NULL, NULL, &a->eb);
    }
    if (rc == 0) {
        struct store_val q[] = {store_int(a->now), store_int(l.user_id)};
        rc = store_exec(a->db, "UPDATE users SET last_login_at = ? WHERE id = ?", q, 2, NULL, NULL,
                        NULL, &a->eb);
    }
    if (rc == 0) {
        struct store_val q[] = {store_int(a->now)};
        rc = store_exec(a->db, "DELETE FROM sessions WHERE expires_at <= ?", q, 1, NULL, NULL, NULL,
                        &a->eb);
    }
    /* a session this browser held before is ended, not left to expire */
    const char *old = http_req_cookie(a->req, "iaso_session");
    if (rc == 0 && old) {
        char old_digest[AUTH_DIGEST_HEX_LEN + 1];
        auth_digest(old, old_digest);
        struct store_val q[] = {store_text(old_digest)};
        rc = store_exec(a->db, "DELETE FROM sessions WHERE hash = ?", q, 1, NULL, NULL, NULL,
                        &a->eb);
    }
    if (rc == 0)
        rc = auth_principal_load(a->db, l.user_id, &a->who, &a->eb);
    if (rc == 0) {
        a->has_who = true;
        rc = api_audit(a, "session.login", "user", l.user_id, NULL);
    }
    if (!commit_or_fail(a, rc))
        return;
    set_session_cookie(a, session, AUTH_SESSION_TTL_S);
    json_t *out = json_object();
    json_object_set_new(out, "user_id", json_integer(l.user_id));
    json_object_set_new(out, "csrf_token", json_string(csrf));
    json_object_set_new(out, "expires_at", api_time_json(a->now + AUTH_SESSION_TTL_S));
    api_send_json(a, 200, out);
}

static void
logout(struct api *a)
{
    const char *session = http_req_cookie(a->req, "iaso_session");
    if (a->who.via_session && session) {
        char digest[AUTH_DIGEST_HEX_LEN + 1];
        auth_digest(session, digest);
        struct store_val p[] = {store_text(digest)};
        int rc = store_begin(a->db, true, &a->eb);
        if (rc == 0)
            rc = store_exec(a->db, "DELETE FROM sessions WHERE hash = ?", p, 1, NULL, NULL, NULL,
                            &a->eb);
        if (rc == 0)
            rc = api_audit(a, "session.logout", "user", a->who.user_id, NULL);
        if (!commit_or_fail(a, rc))
            return;
    }
    set_session_cookie(a, "", 0);
    a->resp->status = 204;
}

static void
me(struct api *a)
{
    json_t *u = NULL, *org = NULL;
    int rc = row_fetch(a, USER_BY_ID, a->who.user_id, user_json, &u);
    if (rc != 0 || !u) {
        api_store_error(a, rc);
        return;
    }
    row_fetch(a, ORG_BY_ID, a->who.org_id, org_json, &org); /* without it, no "org" */
    if (org)
        json_object_set_new(u, "org", org);
    char scopes[32];
    auth_scopes_format(a->who.scopes, scopes, sizeof(scopes));
    json_object_set_new(u, "scopes", json_string(scopes));
    json_object_set_new(u, "via", json_string(a->who.via_session ? "session" : "token"));
    if (a->who.via_session)
        json_object_set_new(u, "csrf_token", json_string(a->who.csrf));
    json_object_set_new(u, "is_centre_admin", json_boolean(api_is_centre_admin(a)));
    json_object_set_new(u, "is_csirt_staff", json_boolean(api_is_csirt_staff(a)));
    api_send_json(a, 200, u);
}

static const struct api_field password_fields[] = {
    {"old_password", AF_STRING, true, 1, 1024, NULL},
    {"new_password", AF_STRING, true, 12, 256, NULL},
};

static void
me_password(struct api *a)
{
    json_t *b = api_body(a, password_fields, 2, false);
    if (!b)
        return;
    struct login_row l = {0};
    struct store_val p[] = {store_int(a->who.user_id)};
    int rc = store_exec(a->db, "SELECT id, password_hash, disabled FROM users WHERE id = ?", p, 1,
                        login_row_fn, &l, NULL, &a->eb);
    if (rc != 0) {
        json_decref(b);
        api_store_error(a, rc);
        return;
    }
    if (!l.found ||
        !auth_password_verify(l.hash, json_string_value(json_object_get(b, "old_password")))) {
        json_decref(b);
        api_error(a, 403, "bad_credentials", "the old password is wrong");
        return;
    }
    rc = store_begin(a->db, true, &a->eb);
    if (rc == 0)
        rc = accounts_user_set_password(a, a->who.user_id,
                                        json_string_value(json_object_get(b, "new_password")));
    json_decref(b);
    if (commit_or_fail(a, rc))
        a->resp->status = 204;
}

/* ---- organisations ---- */

static void
orgs_list(struct api *a)
{
    send_rows(a, "SELECT " ORG_COLS " FROM orgs ORDER BY name", NULL, 0, org_json, NULL, 0);
}

static void
org_get(struct api *a)
{
    int64_t id;
    if (api_param_id(a, 0, &id) != 0)
        return;
    send_row(a, "organisation", ORG_BY_ID, id, org_json, 200);
}

static const struct api_field org_fields[] = {
    {"name", AF_STRING, true, 1, 200, NULL},
    {"kind", AF_ENUM, true, 0, 0, accounts_org_kinds},
    {"country", AF_STRING, true, 2, 2, NULL},
    {"region", AF_STRING, false, 0, 100, NULL},
    {"csirt_id", AF_INT, false, 1, INT64_MAX, NULL},
};

static void
org_create(struct api *a)
{
    if (!api_is_centre_admin(a)) {
        api_forbidden(a, "only the centre's admins create organisations");
        return;
    }
    json_t *b = api_body(a, org_fields, sizeof(org_fields) / sizeof(org_fields[0]), false);
    if (!b)
        return;
    struct org_new o = {
        .name = json_string_value(json_object_get(b, "name")),
        .kind = json_string_value(json_object_get(b, "kind")),
        .country = json_string_value(json_object_get(b, "country")),
        .region = json_string_value(json_object_get(b, "region")),
        .csirt_id = json_integer_value(json_object_get(b, "csirt_id")),
    };
    int64_t id = 0;
    int rc = tx_begin(a);
    if (rc != 0) {
        json_decref(b);
        return;
    }
    rc = accounts_org_create(a, &o, &id);
    json_decref(b);
    if (!commit_or_fail(a, rc))
        return;
    char loc[64];
    snprintf(loc, sizeof(loc), "/api/v1/orgs/%lld", (long long)id);
    http_resp_header(a->resp, "Location", loc);
    send_row(a, "organisation", ORG_BY_ID, id, org_json, 201);
}

static void
org_update(struct api *a)
{
    int64_t id;
    if (api_param_id(a, 0, &id) != 0)
        return;
    if (!api_is_centre_admin(a)) {
        api_forbidden(a, "only the centre's admins change organisations");
        return;
    }
    json_t *b = api_body(a, org_fields, sizeof(org_fields) / sizeof(org_fields[0]), true);
    if (!b)
        return;
    const char *country = json_string_value(json_object_get(b, "country"));
    if (country && !accounts_country_valid(country)) {
        json_decref(b);
        api_error(a, 400, "bad_field",
                  "field 'country' must be an ISO 3166-1 alpha-2 code such as CZ or DE");
        return;
    }
    int rc = tx_begin(a);
    if (rc != 0) {
        json_decref(b);
        return;
    }
    static const char *const cols[] = {"name", "kind", "country", "region", "csirt_id"};
    int64_t total = 0;
    for (size_t i = 0; i < 5 && rc == 0; i++) {
        json_t *v = json_object_get(b, cols[i]);
        if (!v)
            continue;
        char sql[96];
        snprintf(sql, sizeof(sql), "UPDATE orgs SET %s = ? WHERE id = ?", cols[i]);
        struct store_val p[] = {json_is_integer(v) ? store_int(json_integer_value(v))
                                : json_is_null(v)  ? (i == 3 ? store_text("") : store_null())
                                                   : store_text(json_string_value(v)),
                                store_int(id)};
        int64_t changed = 0;
        if (i == 4 && json_is_integer(v)) {
            int64_t n = 0;
            struct store_val q[] = {store_int(json_integer_value(v))};
            rc = store_query_int(a->db, "SELECT COUNT(*) FROM orgs WHERE id = ? AND kind = 'csirt'",
                                 q, 1, &n, &a->eb);
            if (rc == 0 && n == 0)
                rc = err_set(&a->eb, IASO_E_INVAL, "csirt_id is not a CSIRT organisation");
            if (rc != 0)
                break;
        }
        rc = store_exec(a->db, sql, p, 2, NULL, NULL, &changed, &a->eb);
        total += changed;
    }
    if (rc == 0 && total == 0 && json_object_size(b) > 0)
        rc = err_set(&a->eb, IASO_E_NOTFOUND, "organisation %lld not found", (long long)id);
    if (rc == IASO_E_EXIST)
        err_set(&a->eb, rc, "an organisation with that name exists already");
    if (rc == 0)
        rc = api_audit(a, "org.update", "org", id, json_incref(b));
    json_decref(b);
    if (!commit_or_fail(a, rc))
        return;
    send_row(a, "organisation", ORG_BY_ID, id, org_json, 200);
}

/* ---- users ---- */

/* Users of `org_id` the caller may manage: centre admins any, org admins their own. */
static bool
may_manage_org(const struct api *a, int64_t org_id)
{
    return api_is_centre_admin(a) || (a->who.role == ROLE_ADMIN && a->who.org_id == org_id);
}

struct user_target {
    int64_t org_id;
    bool found;
    bool is_operator_org;
};

static int
user_target_row(void *ctx, const struct store_row *row)
{
    struct user_target *t = ctx;
    t->org_id = row->cols[0].i;
    t->is_operator_org = row->cols[1].i != 0;
    t->found = true;
    return 0;
}

static void
users_list(struct api *a)
{
    int64_t org_id, limit, after;
    if (api_query_int(a, "org_id", a->who.org_id, 1, INT64_MAX, &org_id) != 0 ||
        api_query_int(a, "limit", 100, 1, 1000, &limit) != 0 ||
        api_query_int(a, "after_id", 0, 0, INT64_MAX, &after) != 0)
        return;
    if (!may_manage_org(a, org_id)) {
        api_forbidden(a, "you may list only your own organisation's users");
        return;
    }
    struct store_val p[] = {store_int(org_id), store_int(after), store_int(limit)};
    send_rows(a,
              "SELECT " USER_COLS " FROM users u JOIN orgs o ON o.id = u.org_id"
              " WHERE u.org_id = ? AND u.id > ? ORDER BY u.id LIMIT ?",
              p, 3, user_json, "next_after_id", limit);
}

static const struct api_field user_fields[] = {
    {"org_id", AF_INT, false, 1, INT64_MAX, NULL}, {"email", AF_STRING, true, 3, 254, NULL},
    {"name", AF_STRING, true, 1, 200, NULL},       {"role", AF_ENUM, true, 0, 0, role_choices},
    {"password", AF_STRING, true, 12, 256, NULL},
};

static void
user_create(struct api *a)
{
    json_t *b = api_body(a, user_fields, sizeof(user_fields) / sizeof(user_fields[0]), false);
    if (!b)
        return;
    json_t *org = json_object_get(b, "org_id");
    int64_t org_id = json_is_integer(org) ? json_integer_value(org) : a->who.org_id;
    if (!may_manage_org(a, org_id)) {
        json_decref(b);
        api_forbidden(a, "you may add users only to your own organisation");
        return;
    }
    int64_t id = 0;
    int rc = tx_begin(a);
    if (rc != 0) {
        json_decref(b);
        return;
    }
    rc = accounts_user_create(a, org_id, json_string_value(json_object_get(b, "email")),
                              json_string_value(json_object_get(b, "name")),
                              json_string_value(json_object_get(b, "role")),
                              json_string_value(json_object_get(b, "password")), &id);
    json_decref(b);
    if (!commit_or_fail(a, rc))
        return;
    char loc[64];
    snprintf(loc, sizeof(loc), "/api/v1/users/%lld", (long long)id);
    http_resp_header(a->resp, "Location", loc);
    send_row(a, "user", USER_BY_ID, id, user_json, 201);
}

static bool
load_user_target(struct api *a, int64_t id, struct user_target *t)
{
    struct store_val p[] = {store_int(id)};
    int rc = store_exec(a->db,
                        "SELECT u.org_id, o.is_operator FROM users u JOIN orgs o ON o.id = u.org_id"
                        " WHERE u.id = ?",
                        p, 1, user_target_row, t, NULL, &a->eb);
    if (rc != 0) {
        api_store_error(a, rc);
        return false;
    }
    if (!t->found || !may_manage_org(a, t->org_id)) {
        api_not_found(a, "user");
        return false;
    }
    return true;
}

static void
user_get(struct api *a)
{
    int64_t id;
    struct user_target t = {0};
    if (api_param_id(a, 0, &id) != 0 || !load_user_target(a, id, &t))
        return;
    send_row(a, "user", USER_BY_ID, id, user_json, 200);
}

static const struct api_field user_patch_fields[] = {
    {"name", AF_STRING, false, 1, 200, NULL},
    {"role", AF_ENUM, false, 0, 0, role_choices},
    {"disabled", AF_BOOL, false, 0, 0, NULL},
    {"password", AF_STRING, false, 12, 256, NULL},
};

static void
user_update(struct api *a)
{
    int64_t id;
    struct user_target t = {0};
    if (api_param_id(a, 0, &id) != 0 || !load_user_target(a, id, &t))
        return;
    json_t *b = api_body(a, user_patch_fields, 4, true);
    if (!b)
        return;
    if (id == a->who.user_id && (json_object_get(b, "role") || json_object_get(b, "disabled"))) {
        json_decref(b);
        api_forbidden(a, "you may not change your own role or disable yourself");
        return;
    }
    int rc = tx_begin(a);
    if (rc != 0) {
        json_decref(b);
        return;
    }
    json_t *v;
    if (rc == 0 && (v = json_object_get(b, "name")) && json_is_string(v)) {
        struct store_val p[] = {store_text(json_string_value(v)), store_int(id)};
        rc = store_exec(a->db, "UPDATE users SET name = ? WHERE id = ?", p, 2, NULL, NULL, NULL,
                        &a->eb);
    }
    if (rc == 0 && (v = json_object_get(b, "role")) && json_is_string(v)) {
        struct store_val p[] = {store_text(json_string_value(v)), store_int(id)};
        rc = store_exec(a->db, "UPDATE users SET role = ? WHERE id = ?", p, 2, NULL, NULL, NULL,
                        &a->eb);
        if (rc == 0)
            rc = api_audit(a, "user.role", "user", id, api_object("role", json_incref(v), NULL));
    }
    if (rc == 0 && (v = json_object_get(b, "disabled")) && json_is_boolean(v))
        rc = accounts_user_set_disabled(a, id, json_is_true(v));
    if (rc == 0 && (v = json_object_get(b, "password")) && json_is_string(v))
        rc = accounts_user_set_password(a, id, json_string_value(v));
    json_decref(b);
    if (!commit_or_fail(a, rc))
        return;
    send_row(a, "user", USER_BY_ID, id, user_json, 200);
}

/* ---- tokens ---- */

static void
tokens_list(struct api *a)
{
    struct store_val p[] = {store_int(a->who.user_id)};
    send_rows(a, "SELECT " TOKEN_COLS " FROM tokens WHERE user_id = ? ORDER BY id", p, 1,
              token_json, NULL, 0);
}

static const struct api_field token_fields[] = {
    {"name", AF_STRING, true, 1, 100, NULL},
    {"scopes", AF_ENUM_SET, false, 0, 0, (const char *const[]){"read", "write", "admin", NULL}},
    {"expires_at", AF_TIME, false, 0, 0, NULL},
    {"kind", AF_ENUM, false, 0, 0, token_kinds},
};

static void
token_create(struct api *a)
{
    json_t *b = api_body(a, token_fields, 4, false);
    if (!b)
        return;
    unsigned scopes = SCOPE_READ;
    json_t *sv = json_object_get(b, "scopes");
    if (json_is_array(sv) && json_array_size(sv) > 0) {
        scopes = 0;
        size_t i;
        json_t *e;
        json_array_foreach(sv, i, e)
        {
            unsigned bit = 0;
            auth_scopes_parse(json_string_value(e), &bit);
            scopes |= bit;
        }
    }
    const char *kind = json_string_value(json_object_get(b, "kind"));
    int64_t expires = 0;
    const char *exp = json_string_value(json_object_get(b, "expires_at"));
    if (exp)
        api_time_parse(exp, &expires);
    char token[AUTH_TOKEN_LEN + 1];
    int64_t id = 0;
    int rc = tx_begin(a);
    if (rc != 0) {
        json_decref(b);
        return;
    }
    rc = accounts_token_create(a, a->who.user_id, kind ? kind : "api",
                               json_string_value(json_object_get(b, "name")), scopes, expires,
                               token, &id);
    json_decref(b);
    if (!commit_or_fail(a, rc))
        return;
    json_t *out = json_object();
    json_object_set_new(out, "id", json_integer(id));
    json_object_set_new(out, "token", json_string(token));
    char st[32];
    auth_scopes_format(scopes, st, sizeof(st));
    json_object_set_new(out, "scopes", json_string(st));
    json_object_set_new(out, "expires_at", api_time_json(expires));
    json_object_set_new(out, "note", json_string("the token is shown once; store it now"));
    sodium_memzero(token, sizeof(token));
    api_send_json(a, 201, out);
}

static void
token_revoke(struct api *a)
{
    int64_t id, owner = 0;
    if (api_param_id(a, 0, &id) != 0)
        return;
    struct store_val p[] = {store_int(id)};
    int rc =
        store_query_int(a->db, "SELECT user_id FROM tokens WHERE id = ?", p, 1, &owner, &a->eb);
    if (rc == IASO_E_NOTFOUND || (rc == 0 && owner != a->who.user_id && !api_is_centre_admin(a))) {
        api_not_found(a, "token");
        return;
    }
    if (rc != 0) {
        api_store_error(a, rc);
        return;
    }
    if (tx_begin(a) != 0)
        return;
    rc = accounts_token_revoke(a, id);
    if (commit_or_fail(a, rc))
        a->resp->status = 204;
}

/* ---- audit log ---- */

static void
audit_list(struct api *a)
{
    int64_t limit, before, org_id;
    if (api_query_int(a, "limit", 100, 1, 1000, &limit) != 0 ||
        api_query_int(a, "before_id", INT64_MAX, 1, INT64_MAX, &before) != 0 ||
        api_query_int(a, "org_id", 0, 0, INT64_MAX, &org_id) != 0)
        return;
    if (!api_is_centre_admin(a)) {
        if (org_id != 0 && org_id != a->who.org_id) {
            api_forbidden(a, "you may read only your own organisation's audit log");
            return;
        }
        org_id = a->who.org_id;
    }
    struct store_val p[] = {store_int(before), store_int(org_id), store_int(org_id),
                            store_int(limit)};
    send_rows(a,
              "SELECT " AUDIT_COLS " FROM audit WHERE id < ? AND (? = 0 OR org_id = ?)"
              " ORDER BY id DESC LIMIT ?",
              p, 4, audit_json, "next_before_id", limit);
}

const struct api_route accounts_routes[] = {
    {"POST", "/api/v1/auth/login", login, API_PUBLIC, "auth_login"},
    {"POST", "/api/v1/auth/logout", logout, API_WRITE, "auth_logout"},
    {"GET", "/api/v1/me", me, API_READ, "me"},
    {"POST", "/api/v1/me/password", me_password, API_WRITE, "me_password"},
    {"GET", "/api/v1/orgs", orgs_list, API_READ, "orgs"},
    {"POST", "/api/v1/orgs", org_create, API_ADMIN, "orgs"},
    {"GET", "/api/v1/orgs/{id}", org_get, API_READ, "org"},
    {"PATCH", "/api/v1/orgs/{id}", org_update, API_ADMIN, "org"},
    {"GET", "/api/v1/users", users_list, API_ADMIN, "users"},
    {"POST", "/api/v1/users", user_create, API_ADMIN, "users"},
    {"GET", "/api/v1/users/{id}", user_get, API_ADMIN, "user"},
    {"PATCH", "/api/v1/users/{id}", user_update, API_ADMIN, "user"},
    {"GET", "/api/v1/tokens", tokens_list, API_READ, "tokens"},
    {"POST", "/api/v1/tokens", token_create, API_WRITE, "tokens"},
    {"DELETE", "/api/v1/tokens/{id}", token_revoke, API_WRITE, "token"},
    {"GET", "/api/v1/audit", audit_list, API_ADMIN, "audit"},
};
const size_t accounts_routes_n = sizeof(accounts_routes) / sizeof(accounts_routes[0]);
