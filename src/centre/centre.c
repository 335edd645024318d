// SPDX-License-Identifier: Apache-2.0
// The centre's lifecycle and its route table; see centre.h.
//
// Every API route goes through one dispatcher (api_dispatch) that does, in order: find the
// principal (a bearer token, else the session cookie), check the route's access needs, check the
// CSRF header on every unsafe method of a cookie session, take a store connection, call the
// handler, give the connection back. Handlers never repeat these steps, so none can forget one.
#include "centre/centre.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/log.h"
#include "centre/accounts.h"
#include "centre/embed.h"
#include "centre/http.h"
#ifdef IASO_HAVE_INCIDENTS
#include "centre/incident.h"
#endif

int64_t
centre_now(const struct centre *c)
{
    (void)c;
    return (int64_t)time(NULL);
}

static bool
is_safe_method(const char *m)
{
    return strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0 || strcmp(m, "OPTIONS") == 0;
}

/* The joined API table, index-aligned with the HTTP table after the system routes. */
struct route_table {
    struct api_route *api; /* copies; zeroed for system routes */
    struct http_route *http;
    size_t n;
};

struct centre_full {
    struct centre c; /* first: handlers see a struct centre * */
    struct route_table routes;
};

static void
api_dispatch(void *app, struct http_req *req, struct http_resp *resp)
{
    struct centre_full *cf = app;
    const struct api_route *r = &cf->routes.api[req->route];
    struct api a = {.c = &cf->c, .req = req, .resp = resp, .now = centre_now(&cf->c)};
    int rc = store_conn_get(cf->c.store, &a.db, &a.eb);
    if (rc != 0) {
        log_msg(LOG_LEVEL_ERROR, "centre: no database connection: %s", a.eb.msg);
        http_resp_error(resp, 503, "unavailable", "the database is unavailable; try again");
        return;
    }

    const char *auth = http_req_header(req, "Authorization");
    const char *session = http_req_cookie(req, "iaso_session");
    if (auth && strncmp(auth, "Bearer ", 7) == 0) {
        rc = auth_principal_from_token(a.db, auth + 7, a.now, &a.who, &a.eb);
        if (rc == 0) {
            a.has_who = true;
        } else if (rc != IASO_E_PERM) {
            api_store_error(&a, rc);
            goto out;
        } else {
            http_resp_header(resp, "WWW-Authenticate", "Bearer error=\"invalid_token\"");
            api_error(&a, 401, "unauthenticated", "the API token is unknown, expired or revoked");
            goto out;
        }
    } else if (auth) {
        api_error(&a, 401, "unauthenticated", "use 'Authorization: Bearer TOKEN'");
        goto out;
    } else if (session) {
        rc = auth_principal_from_session(a.db, session, a.now, &a.who, &a.eb);
        if (rc == 0)
            a.has_who = true;
        else if (rc != IASO_E_PERM) {
            api_store_error(&a, rc);
            goto out;
        }
    }

    if (r->access != API_PUBLIC) {
        if (!a.has_who) {
            http_resp_header(resp, "WWW-Authenticate", "Bearer");
            api_error(&a, 401, "unauthenticated", "log in or send an API token");
            goto out;
        }
        unsigned need = 0;
        if (r->access & API_READ)
            need |= SCOPE_READ;
        if (r->access & API_WRITE)
            need |= SCOPE_WRITE;
        if (r->access & API_ADMIN)
            need |= SCOPE_ADMIN;
        if ((a.who.scopes & need) != need) {
            api_forbidden(&a, "the API token lacks the scope this request needs");
            goto out;
        }
        if ((r->access & API_ADMIN) && a.who.role != ROLE_ADMIN) {
            api_forbidden(&a, "this needs the admin role");
            goto out;
        }
    }
    /* Public routes (logging in) act on no one's behalf, so they need no CSRF token even when a
     * session cookie comes along; logging in again over an old session must work. */
    if (r->access != API_PUBLIC && a.has_who && a.who.via_session && !is_safe_method(req->method)) {
        const char *csrf = http_req_header(req, "X-CSRF-Token");
        if (!csrf || !auth_secret_equal(csrf, a.who.csrf)) {
            api_forbidden(&a, "missing or wrong X-CSRF-Token header for this session");
            goto out;
        }
    }
    r->fn(&a);
out:
    store_conn_put(a.db);
}

/* ---- system routes ---- */

static void
healthz(void *app, struct http_req *req, struct http_resp *resp)
{
    struct centre_full *cf = app;
    struct store_conn *db = NULL;
    struct errbuf eb = {{0}};
    int64_t one = 0;
    (void)req;
    int rc = store_conn_get(cf->c.store, &db, &eb);
    if (rc == 0)
        rc = store_query_int(db, "SELECT 1", NULL, 0, &one, &eb);
    store_conn_put(db);
    if (rc != 0) {
        http_resp_error(resp, 503, "unavailable", "database: %s", eb.msg);
        return;
    }
    buf_append_str(&resp->body, "{\"status\":\"ok\"}");
}

static void
metrics(void *app, struct http_req *req, struct http_resp *resp)
{
    struct centre_full *cf = app;
    (void)req;
    resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
    http_server_metrics(cf->c.http, &resp->body);
}

static const struct embed_file *
web_find(const char *path)
{
    for (size_t i = 0; i < embed_web_n; i++)
        if (strcmp(embed_web[i].path, path) == 0)
            return &embed_web[i];
    return NULL;
}

static const char *
mime_of(const char *path)
{
    static const struct {
        const char *ext, *type;
    } types[] = {
        {".html", "text/html; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".svg", "image/svg+xml"},
        {".json", "application/json"},
        {".png", "image/png"},
        {".ico", "image/x-icon"},
    };
    const char *dot = strrchr(path, '.');
    for (size_t i = 0; dot && i < sizeof(types) / sizeof(types[0]); i++)
        if (strcmp(dot, types[i].ext) == 0)
            return types[i].type;
    return "application/octet-stream";
}

/* The browser UI: "/" and any path that is not a file give index.html (the UI routes itself
 * from the location hash); files under /ui/ are the embedded assets. */
static void
web(void *app, struct http_req *req, struct http_resp *resp)
{
    (void)app;
    const char *path = req->n_params > 0 ? req->params[0] : "index.html";
    const struct embed_file *f = web_find(path);
    if (!f) {
        http_resp_error(resp, 404, "not_found", "no such file in the UI");
        return;
    }
    resp->content_type = mime_of(f->path);
    http_resp_header(resp, "Content-Security-Policy",
                     "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' "
                     "data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'");
    http_resp_header(resp, "Cache-Control", "no-cache");
    buf_append(&resp->body, f->data, f->len);
}

static void
web_index(void *app, struct http_req *req, struct http_resp *resp)
{
    req->n_params = 0;
    web(app, req, resp);
}

static const struct http_route system_routes[] = {
    {"GET", "/healthz", healthz, "healthz"},
    {"GET", "/metrics", metrics, "metrics"},
    {"GET", "/", web_index, "ui"},
    {"GET", "/ui/*", web, "ui"},
};

static int
routes_build(struct route_table *t)
{
    const struct {
        const struct api_route *r;
        size_t n;
    } mods[] = {
        {accounts_routes, accounts_routes_n},
#ifdef IASO_HAVE_INCIDENTS
        {incident_routes, incident_routes_n},
        {incident_nis2_routes, incident_nis2_routes_n},
#endif
    };
    size_t n_sys = sizeof(system_routes) / sizeof(system_routes[0]);
    size_t n = n_sys;
    for (size_t i = 0; i < sizeof(mods) / sizeof(mods[0]); i++)
        n += mods[i].n;
    t->api = calloc(n, sizeof(struct api_route));
    t->http = calloc(n, sizeof(*t->http));
    if (!t->api || !t->http)
        return IASO_E_NOMEM;
    size_t k = 0;
    for (size_t i = 0; i < n_sys; i++)
        t->http[k++] = system_routes[i];
    for (size_t m = 0; m < sizeof(mods) / sizeof(mods[0]); m++) {
        for (size_t i = 0; i < mods[m].n; i++) {
            const struct api_route *r = &mods[m].r[i];
            t->api[k] = *r;
            t->http[k] = (struct http_route){r->method, r->pattern, api_dispatch, r->name};
            k++;
        }
    }
    t->n = k;
    return 0;
}

int
centre_start(const struct centre_config *cfg, struct centre **out, struct errbuf *eb)
{
    struct centre_full *cf = calloc(1, sizeof(*cf));
    int rc;
    if (!cf)
        return err_set(eb, IASO_E_NOMEM, "out of memory");
    rc = auth_init();
    if (rc != 0) {
        err_set(eb, rc, "libsodium could not start");
        goto fail;
    }
    struct store_options so = {.n_conns_max = (size_t)cfg->db_conns, .migrate = true};
    rc = store_open(cfg->db, &so, &cf->c.store, eb);
    if (rc != 0)
        goto fail;
    cf->c.limiter = auth_limiter_new();
    rc = cf->c.limiter ? routes_build(&cf->routes) : IASO_E_NOMEM;
    if (rc != 0) {
        err_set(eb, rc, "out of memory");
        goto fail;
    }
    cf->c.secure_cookies = cfg->tls_cert != NULL;
    struct http_config hc = {
        .listen = cfg->listen,
        .n_threads = (size_t)cfg->threads,
        .body_max = (size_t)cfg->body_max,
        .conns_max = (unsigned)cfg->conns_max,
        .conns_per_ip_max = (unsigned)cfg->conns_per_ip,
        .timeout_s = (unsigned)cfg->idle_timeout_s,
        .tls_cert = cfg->tls_cert,
        .tls_key = cfg->tls_key,
        .routes = cf->routes.http,
        .n_routes = cf->routes.n,
        .app = cf,
    };
    rc = http_server_start(&hc, &cf->c.http, eb);
    if (rc != 0)
        goto fail;
    *out = &cf->c;
    return 0;
fail:
    centre_stop(&cf->c);
    return rc;
}

uint16_t
centre_port(const struct centre *c)
{
    return http_server_port(c->http);
}

void
centre_stop(struct centre *c)
{
    if (!c)
        return;
    struct centre_full *cf = (struct centre_full *)c;
    http_server_stop(c->http);
    store_free(c->store);
    auth_limiter_free(c->limiter);
    free(cf->routes.api);
    free(cf->routes.http);
    free(cf);
}
