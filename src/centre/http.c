// SPDX-License-Identifier: Apache-2.0
// The centre's HTTP server on libmicrohttpd; see http.h. libmicrohttpd owns the sockets, the
// HTTP parsing and the thread pool; this file turns its callbacks into one handler call per
// request.
//
// The life of a request: libmicrohttpd calls on_uri when the request line is in, with the raw
// target, and what it returns becomes the request's context (struct http_conn_): the raw path,
// the start time, the body buffer. The access handler (on_access) is then called once with the
// headers (the route is chosen and errors known from the headers are answered at once), once
// per piece of body (gathered under body_max), and once at the end, where the handler runs and
// its response is queued. on_completed frees the context, whatever happened to the request.
//
// Counters are relaxed atomics in a per-route array, so the pool's threads never wait on each
// other to count; http_server_metrics reads them without stopping anyone.
#include "centre/http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/jsonw.h"
#include "base/log.h"
#include "base/parse.h"

#define HTTP_THREADS_DEFAULT 4
#define HTTP_BODY_MAX_DEFAULT ((size_t)1 << 20)
#define HTTP_TIMEOUT_S_DEFAULT 30
/* Each connection is a descriptor: raise RLIMIT_NOFILE above this for the listener's sake. */
#define HTTP_CONNS_MAX_DEFAULT 1024
/* A response is built whole in memory; this stops a runaway handler, not a big export. */
#define HTTP_RESP_BODY_MAX ((size_t)64 * 1024 * 1024)
/* GnuTLS priorities: its defaults, but TLS 1.2 and 1.3 only (RFC 8996 retired 1.0 and 1.1). */
#define HTTP_TLS_PRIORITIES "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"
/* A certificate chain or a key is a few KiB; anything near this is the wrong file. */
#define HTTP_PEM_MAX (1 << 20)
/* libmicrohttpd warns about hostile input too (bad TLS handshakes, ...): at most this many
 * lines per window reach the log, the rest are counted (iaso_http_log_lines_dropped_total). */
#define HTTP_LOG_BURST 20
#define HTTP_LOG_WINDOW_MS 10000

/* Latency histogram upper bounds, in ns and as Prometheus writes them; the last is +Inf. */
#define HTTP_N_BUCKETS 10
static const uint64_t bucket_ns[HTTP_N_BUCKETS] = {1000000,   2500000,   5000000,   10000000,
                                                   25000000,  50000000,  100000000, 250000000,
                                                   500000000, 1000000000};
static const char *const bucket_le[HTTP_N_BUCKETS + 1] = {
    "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "+Inf"};
static const char *const class_names[4] = {"2xx", "3xx", "4xx", "5xx"};

/* The methods the server knows, in the order an Allow header lists them. */
static const char *const known_methods[] = {"GET",   "HEAD",   "POST",   "PUT",
                                            "PATCH", "DELETE", "OPTIONS"};
#define HTTP_N_METHODS (sizeof(known_methods) / sizeof(known_methods[0]))

struct route_stats {
    atomic_uint_fast64_t n_by_class[4];                   /* 2xx, 3xx, 4xx, 5xx */
    atomic_uint_fast64_t n_by_bucket[HTTP_N_BUCKETS + 1]; /* not cumulative; the last is +Inf */
    atomic_uint_fast64_t sum_ns;
};

struct http_server {
    struct MHD_Daemon *daemon;       /* owned */
    const struct http_route *routes; /* borrowed */
    size_t n_routes;
    void *app; /* borrowed */
    size_t body_max;
    bool is_tls;
    uint16_t port;
    struct route_stats *stats; /* owned; n_routes + 1, the last for requests no route took */
    atomic_uint_fast64_t n_bytes_in;
    atomic_uint_fast64_t n_bytes_out;
    atomic_int_fast64_t n_conns_open;
    char *cert_pem; /* owned; libmicrohttpd borrows both until the daemon stops */
    char *key_pem;
    /* libmicrohttpd's messages: rate-limited, and the first one during start kept for `eb`. */
    pthread_mutex_t log_mu;
    struct ratelimit log_rl;
    bool is_starting;
    char start_msg[160];
};

/* One request's context; what libmicrohttpd keeps in con_cls. */
struct http_conn_ {
    struct http_server *srv;    /* borrowed */
    struct MHD_Connection *mhd; /* borrowed */
    uint64_t t0_ns;
    struct buf body;
    bool is_started; /* the access handler has seen the headers */
    bool is_too_large;
    bool is_head;
    size_t n_dropped;                    /* body bytes read past the cap */
    int route;                           /* -1 until one matches */
    const char *params[HTTP_PARAMS_MAX]; /* point into scratch */
    size_t n_params;
    char *scratch; /* in path_, after the path */
    size_t scratch_len;
    char path_[]; /* the raw path, NUL, then scratch */
};

static uint64_t
now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- Requests and responses, as handlers see them ---- */

const char *
http_req_header(const struct http_req *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn_->mhd, MHD_HEADER_KIND, name);
}

const char *
http_req_query(const struct http_req *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn_->mhd, MHD_GET_ARGUMENT_KIND, name);
}

const char *
http_req_cookie(const struct http_req *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn_->mhd, MHD_COOKIE_KIND, name);
}

static void
resp_init(struct http_resp *resp)
{
    memset(resp, 0, sizeof(*resp));
    resp->status = 200;
    resp->content_type = "application/json";
    buf_init(&resp->body, HTTP_RESP_BODY_MAX);
}

static void
resp_release(struct http_resp *resp)
{
    buf_release(&resp->body);
    for (size_t i = 0; i < resp->n_headers; i++) {
        free(resp->header_names[i]);
        free(resp->header_values[i]);
    }
    resp->n_headers = 0;
}

/* RFC 9110 token characters, which a header name is made of. */
static bool
is_token(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              strchr("!#$%&'*+-.^_`|~", c)))
            return false;
    }
    return true;
}

/* A header value: anything but control bytes (tab allowed), so no CR LF can split the header. */
static bool
is_header_value(const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return false;
    }
    return true;
}

int
http_resp_header(struct http_resp *resp, const char *name, const char *value)
{
    if (!is_token(name) || !is_header_value(value))
        return IASO_E_INVAL;
    if (resp->n_headers >= HTTP_HEADERS_MAX)
        return IASO_E_LIMIT;
    char *n = strdup(name);
    char *v = strdup(value);
    if (!n || !v) {
        free(n);
        free(v);
        return IASO_E_NOMEM;
    }
    resp->header_names[resp->n_headers] = n;
    resp->header_values[resp->n_headers] = v;
    resp->n_headers++;
    return 0;
}

void
http_resp_error(struct http_resp *resp, int status, const char *code, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    resp->status = status;
    resp->content_type = "application/json";
    buf_reset(&resp->body);
    struct jsonw w;
    jsonw_begin(&w, &resp->body);
    jsonw_object_begin(&w);
    jsonw_key(&w, "error");
    jsonw_object_begin(&w);
    jsonw_key(&w, "status");
    jsonw_i64(&w, status);
    jsonw_key(&w, "code");
    jsonw_str(&w, code);
    jsonw_key(&w, "message");
    jsonw_str(&w, msg);
    jsonw_object_end(&w);
    jsonw_object_end(&w);
    jsonw_end(&w); /* a few hundred bytes into a 64 MiB cap: cannot fail but for memory */
}

static bool
resp_has_header(const struct http_resp *resp, const char *name)
{
    for (size_t i = 0; i < resp->n_headers; i++) {
        if (strcasecmp(resp->header_names[i], name) == 0)
            return true;
    }
    return false;
}

/* ---- Counting ---- */

static void
stats_record(struct http_server *srv, int route, int status, uint64_t t0_ns)
{
    struct route_stats *st = &srv->stats[route >= 0 ? (size_t)route : srv->n_routes];
    uint64_t d = now_ns() - t0_ns;
    size_t b = 0;
    while (b < HTTP_N_BUCKETS && d > bucket_ns[b])
        b++;
    size_t cls = status >= 500 ? 3 : status >= 400 ? 2 : status >= 300 ? 1 : 0;
    atomic_fetch_add_explicit(&st->n_by_class[cls], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&st->n_by_bucket[b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&st->sum_ns, d, memory_order_relaxed);
}

static uint64_t
now_ms(void)
{
    return now_ns() / 1000000u;
}

/* Whether a message may reach the log now. Hostile input and buggy handlers can cause one per
 * request; HTTP_LOG_BURST per window get through, the rest are dropped. */
static bool
log_allowed(struct http_server *srv)
{
    pthread_mutex_lock(&srv->log_mu);
    bool is_allowed = ratelimit_allow(&srv->log_rl, now_ms());
    pthread_mutex_unlock(&srv->log_mu);
    return is_allowed;
}

/* ---- Answering ---- */

/* Adds a header to a libmicrohttpd response; a refusal (libmicrohttpd keeps Content-Length and
 * a few others to itself) drops that header only. */
static void
mhd_header_add(struct MHD_Response *r, const char *name, const char *value)
{
    if (MHD_add_response_header(r, name, value) != MHD_YES)
        log_debug("http: response header %s refused by libmicrohttpd", name);
}

/* Queues resp (releasing it in every case), counts it, and returns what the access handler
 * returns: MHD_NO closes the connection. */
static enum MHD_Result
answer(struct http_conn_ *c, struct http_resp *resp)
{
    struct http_server *srv = c->srv;
    if (resp->status < 200 || resp->status > 599) {
        if (log_allowed(srv))
            log_error("http: handler for route %d set status %d; sending 500", c->route,
                      resp->status);
        http_resp_error(resp, 500, "internal", "The server made an invalid response.");
    }
    int status = resp->status;
    stats_record(srv, c->route, status, c->t0_ns);
    size_t body_len = resp->body.len;
    struct MHD_Response *r;
    if (resp->body.ptr) {
        r = MHD_create_response_from_buffer_with_free_callback(body_len, resp->body.ptr, free);
        if (r)
            resp->body.ptr = NULL; /* libmicrohttpd frees it with the response */
    } else {
        r = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
    }
    if (!r) {
        resp_release(resp);
        return MHD_NO;
    }
    for (size_t i = 0; i < resp->n_headers; i++)
        mhd_header_add(r, resp->header_names[i], resp->header_values[i]);
    if (resp->content_type && is_header_value(resp->content_type) &&
        !resp_has_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE))
        mhd_header_add(r, MHD_HTTP_HEADER_CONTENT_TYPE, resp->content_type);
    static const char *const security[][2] = {
        {"X-Content-Type-Options", "nosniff"},
        {"Referrer-Policy", "no-referrer"},
        {"X-Frame-Options", "DENY"},
        {"Cache-Control", "no-store"},
    };
    for (size_t i = 0; i < sizeof(security) / sizeof(security[0]); i++) {
        if (!resp_has_header(resp, security[i][0]))
            mhd_header_add(r, security[i][0], security[i][1]);
    }
    enum MHD_Result ok = MHD_queue_response(c->mhd, (unsigned)status, r);
    MHD_destroy_response(r);
    resp_release(resp);
    if (!c->is_head)
        atomic_fetch_add_explicit(&srv->n_bytes_out, body_len, memory_order_relaxed);
    return ok;
}

static enum MHD_Result
answer_error(struct http_conn_ *c, int status, const char *code, const char *message,
             const char *allow)
{
    struct http_resp resp;
    resp_init(&resp);
    http_resp_error(&resp, status, code, "%s", message);
    if (allow && http_resp_header(&resp, MHD_HTTP_HEADER_ALLOW, allow) != 0)
        log_debug("http: cannot add Allow: %s", allow);
    return answer(c, &resp);
}

/* The Allow header for a path that some routes match: their methods, HEAD with GET, and
 * OPTIONS, which the server answers itself. */
static void
allow_format(const struct http_conn_ *c, char *out, size_t out_len)
{
    const struct http_server *srv = c->srv;
    bool has[HTTP_N_METHODS] = {false};
    has[HTTP_N_METHODS - 1] = true; /* OPTIONS */
    for (size_t i = 0; i < srv->n_routes; i++) {
        const char *m = srv->routes[i].method;
        const char *params[HTTP_PARAMS_MAX];
        size_t n_params = 0;
        if (!m || http_route_match(&srv->routes[i], 1, m, c->path_, params, &n_params, c->scratch,
                                   c->scratch_len) != 0)
            continue;
        for (size_t k = 0; k < HTTP_N_METHODS; k++) {
            if (strcmp(m, known_methods[k]) == 0)
                has[k] = true;
        }
        if (strcmp(m, "GET") == 0)
            has[1] = true; /* HEAD */
    }
    size_t len = 0;
    out[0] = '\0';
    for (size_t k = 0; k < HTTP_N_METHODS; k++) {
        if (!has[k])
            continue;
        int n = snprintf(out + len, out_len - len, "%s%s", len ? ", " : "", known_methods[k]);
        if (n < 0 || (size_t)n >= out_len - len)
            break;
        len += (size_t)n;
    }
}

static void
peer_format(struct MHD_Connection *mhd, char *out, size_t out_len)
{
    out[0] = '\0';
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(mhd, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (!ci || !ci->client_addr)
        return;
    if (ci->client_addr->sa_family == AF_INET) {
        struct sockaddr_in sin;
        memcpy(&sin, ci->client_addr, sizeof(sin));
        inet_ntop(AF_INET, &sin.sin_addr, out, (socklen_t)out_len);
    } else if (ci->client_addr->sa_family == AF_INET6) {
        struct sockaddr_in6 sin6;
        memcpy(&sin6, ci->client_addr, sizeof(sin6));
        if (IN6_IS_ADDR_V4MAPPED(&sin6.sin6_addr)) /* an IPv4 client of a dual-stack socket */
            inet_ntop(AF_INET, &sin6.sin6_addr.s6_addr[12], out, (socklen_t)out_len);
        else
            inet_ntop(AF_INET6, &sin6.sin6_addr, out, (socklen_t)out_len);
    }
}

static enum MHD_Result
answer_handler(struct http_conn_ *c, const char *method)
{
    struct http_server *srv = c->srv;
    struct http_req req = {
        .method = method,
        .path = c->path_,
        .body = c->body.ptr ? c->body.ptr : (const uint8_t *)"",
        .body_len = c->body.len,
        .n_params = c->n_params,
        .is_tls = srv->is_tls,
        .route = c->route,
        .conn_ = c,
    };
    memcpy(req.params, c->params, sizeof(req.params));
    peer_format(c->mhd, req.peer, sizeof(req.peer));
    struct http_resp resp;
    resp_init(&resp);
    srv->routes[c->route].fn(srv->app, &req, &resp);
    return answer(c, &resp);
}

static bool
is_known_method(const char *method)
{
    for (size_t k = 0; k < HTTP_N_METHODS; k++) {
        if (strcmp(method, known_methods[k]) == 0)
            return true;
    }
    return false;
}

/* How the request says its body is framed. */
struct framing {
    unsigned n_lengths;
    unsigned n_encodings;
    bool is_chunked;
};

static enum MHD_Result
framing_count(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    (void)kind;
    struct framing *f = cls;
    if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0)
        f->n_lengths++;
    if (strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0) {
        f->n_encodings++;
        f->is_chunked = value && strcasecmp(value, "chunked") == 0;
    }
    return MHD_YES;
}

/* The first call for a request: the headers are in, the body not yet. Chooses the route and
 * answers at once what needs no body. */
static enum MHD_Result
on_headers(struct http_conn_ *c, const char *method)
{
    struct http_server *srv = c->srv;
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c->mhd, MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE);
    if (ci)
        atomic_fetch_add_explicit(&srv->n_bytes_in, ci->header_size, memory_order_relaxed);
    c->is_head = strcmp(method, "HEAD") == 0;
    if (!is_known_method(method))
        return answer_error(c, 501, "not_implemented", "The server does not implement this method.",
                            NULL);
    int route = http_route_match(srv->routes, srv->n_routes, method, c->path_, c->params,
                                 &c->n_params, c->scratch, c->scratch_len);
    if (route == HTTP_ROUTE_BAD_PATH)
        return answer_error(c, 400, "bad_path",
                            "The request path is malformed (it must start with '/' and hold "
                            "no empty, '.' or '..' segment, bad escape or control byte).",
                            NULL);
    if (route == HTTP_ROUTE_NONE)
        return answer_error(c, 404, "not_found", "No such resource.", NULL);
    if (route == HTTP_ROUTE_BAD_METHOD) {
        char allow[64];
        allow_format(c, allow, sizeof(allow));
        if (strcmp(method, "OPTIONS") == 0) {
            struct http_resp resp;
            resp_init(&resp);
            resp.status = 204;
            resp.content_type = NULL;
            if (http_resp_header(&resp, MHD_HTTP_HEADER_ALLOW, allow) != 0)
                log_debug("http: cannot add Allow: %s", allow);
            return answer(c, &resp);
        }
        return answer_error(c, 405, "method_not_allowed",
                            "This resource does not take this method; see Allow.", allow);
    }
    c->route = route;
    /* Two lengths, or a length and an encoding, can be read two ways, and a proxy in front may
     * read them the other way (request smuggling): refuse them. libmicrohttpd 0.9.75 takes the
     * first Content-Length. */
    struct framing f = {0, 0, false};
    MHD_get_connection_values(c->mhd, MHD_HEADER_KIND, framing_count, &f);
    if (f.n_lengths > 1 || (f.n_lengths > 0 && f.n_encodings > 0) || f.n_encodings > 1)
        return answer_error(c, 400, "bad_framing",
                            "The request has several Content-Length or Transfer-Encoding "
                            "headers, or both.",
                            NULL);
    if (f.n_encodings > 0 && !f.is_chunked)
        return answer_error(c, 501, "not_implemented",
                            "The server takes no Transfer-Encoding but chunked.", NULL);
    const char *length =
        MHD_lookup_connection_value(c->mhd, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (length) {
        int64_t n = 0;
        if (parse_i64(length, strlen(length), 0, INT64_MAX, &n) != 0)
            return answer_error(c, 400, "bad_length", "The Content-Length is not a number.", NULL);
        if ((uint64_t)n > srv->body_max)
            return answer_error(c, 413, "too_large", "The request body is over the limit.", NULL);
    }
    return MHD_YES;
}

static enum MHD_Result
on_access(void *cls, struct MHD_Connection *mhd, const char *url, const char *method,
          const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
    (void)cls;
    (void)url; /* decoded by libmicrohttpd; the raw path came to on_uri */
    (void)version;
    struct http_conn_ *c = *con_cls;
    if (!c)
        return MHD_NO; /* on_uri could not allocate */
    c->mhd = mhd;
    if (!c->is_started) {
        c->is_started = true;
        return on_headers(c, method);
    }
    if (*upload_data_size > 0) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        atomic_fetch_add_explicit(&c->srv->n_bytes_in, n, memory_order_relaxed);
        if (!c->is_too_large) {
            int rc = buf_append(&c->body, upload_data, n);
            if (rc == IASO_E_NOMEM)
                return MHD_NO; /* drop the connection: nothing better to do */
            if (rc == IASO_E_LIMIT) {
                c->is_too_large = true;
                buf_release(&c->body);
            }
        }
        /* Chunked (no Content-Length) and over the cap: a response cannot be queued while the
         * body arrives, so the rest is read and dropped and 413 sent at the end; a client that
         * sends another body_max bytes is cut off without one. */
        if (c->is_too_large) {
            c->n_dropped += n;
            if (c->n_dropped > c->srv->body_max)
                return MHD_NO;
        }
        return MHD_YES;
    }
    if (c->is_too_large)
        return answer_error(c, 413, "too_large", "The request body is over the limit.", NULL);
    return answer_handler(c, method);
}

/* Called with the raw request target before libmicrohttpd decodes it; the return value is the
 * request's con_cls. */
static void *
on_uri(void *cls, const char *uri, struct MHD_Connection *mhd)
{
    struct http_server *srv = cls;
    size_t len = strcspn(uri, "?");
    size_t scratch_len = len + HTTP_PARAMS_MAX + 1;
    struct http_conn_ *c = calloc(1, sizeof(*c) + len + 1 + scratch_len);
    if (!c)
        return NULL;
    c->srv = srv;
    c->mhd = mhd;
    c->t0_ns = now_ns();
    c->route = -1;
    memcpy(c->path_, uri, len);
    c->path_[len] = '\0';
    c->scratch = c->path_ + len + 1;
    c->scratch_len = scratch_len;
    buf_init(&c->body, srv->body_max);
    return c;
}

static void
on_completed(void *cls, struct MHD_Connection *mhd, void **con_cls,
             enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)mhd;
    (void)toe;
    struct http_conn_ *c = *con_cls;
    if (!c)
        return;
    buf_release(&c->body);
    free(c);
    *con_cls = NULL;
}

static void
on_connection(void *cls, struct MHD_Connection *mhd, void **socket_context,
              enum MHD_ConnectionNotificationCode toe)
{
    (void)mhd;
    (void)socket_context;
    struct http_server *srv = cls;
    int64_t delta = toe == MHD_CONNECTION_NOTIFY_STARTED ? 1 : -1;
    atomic_fetch_add_explicit(&srv->n_conns_open, delta, memory_order_relaxed);
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void
on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    struct http_server *srv = cls;
    char line[256];
    vsnprintf(line, sizeof(line), fmt, ap);
    size_t len = strlen(line);
    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
        line[--len] = '\0';
    pthread_mutex_lock(&srv->log_mu);
    if (srv->is_starting && !srv->start_msg[0])
        snprintf(srv->start_msg, sizeof(srv->start_msg), "%s", line);
    pthread_mutex_unlock(&srv->log_mu);
    if (log_allowed(srv))
        log_warn("http: %s", line);
}

/* ---- Starting and stopping ---- */

/* Reads a whole PEM file into a NUL-terminated string. */
static int
pem_read(const char *path, const char *what, char **out, struct errbuf *eb)
{
    int rc = 0;
    char *text = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        rc = -errno;
        err_set(eb, rc, "%s: cannot open the TLS %s (%s)", path, what, strerror(errno));
        goto out;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > HTTP_PEM_MAX) {
        rc = err_set(eb, IASO_E_FORMAT, "%s: the TLS %s is not a PEM file of at most %d bytes",
                     path, what, HTTP_PEM_MAX);
        goto out;
    }
    size_t size = (size_t)st.st_size;
    text = malloc(size + 1);
    if (!text) {
        rc = err_set(eb, IASO_E_NOMEM, "%s: out of memory reading the TLS %s", path, what);
        goto out;
    }
    size_t len = 0;
    while (len < size) {
        ssize_t n = read(fd, text + len, size - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            rc = err_set(eb, IASO_E_IO, "%s: cannot read the TLS %s (%s)", path, what,
                         n < 0 ? strerror(errno) : "file shrank while read");
            goto out;
        }
        len += (size_t)n;
    }
    text[len] = '\0';
    if (!strstr(text, "-----BEGIN ")) {
        rc = err_set(eb, IASO_E_FORMAT, "%s: the TLS %s is not PEM (no -----BEGIN line)", path,
                     what);
        goto out;
    }
    *out = text;
    text = NULL;
out:
    if (text) {
        explicit_bzero(text, size + 1);
        free(text);
    }
    if (fd >= 0)
        close(fd);
    return rc;
}

/* Fills a socket address from a numeric host ("" = any) and a port. */
static bool
addr_fill(const char *host, uint16_t port, struct sockaddr_storage *ss, socklen_t *ss_len)
{
    memset(ss, 0, sizeof(*ss));
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(port)};
    struct sockaddr_in6 sin6 = {.sin6_family = AF_INET6, .sin6_port = htons(port)};
    if (inet_pton(AF_INET, host, &sin.sin_addr) == 1) {
        memcpy(ss, &sin, sizeof(sin));
        *ss_len = sizeof(sin);
        return true;
    }
    if (inet_pton(AF_INET6, host, &sin6.sin6_addr) == 1) {
        memcpy(ss, &sin6, sizeof(sin6));
        *ss_len = sizeof(sin6);
        return true;
    }
    return false;
}

static bool
ipv6_works(void)
{
    int fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return false;
    close(fd);
    return true;
}

/*
 * Parses "HOST:PORT", "[V6]:PORT" or ":PORT" into an address; `is_any` for the empty host,
 * which becomes "::" (dual stack) where IPv6 works and 0.0.0.0 where it does not.
 */
static int
listen_parse(const char *s, struct sockaddr_storage *ss, socklen_t *ss_len, bool *is_any,
             struct errbuf *eb)
{
    static const char *const hint = "write 127.0.0.1:8080, [::1]:8080 or :8080";
    char host[64];
    const char *port_s;
    size_t host_len;
    if (s[0] == '[') {
        const char *close_br = strchr(s, ']');
        if (!close_br || close_br[1] != ':')
            return err_set(eb, IASO_E_INVAL,
                           "listen \"%s\": no \"]:PORT\" after the IPv6 "
                           "address (%s)",
                           s, hint);
        host_len = (size_t)(close_br - s - 1);
        port_s = close_br + 2;
        if (host_len == 0 || host_len >= sizeof(host) || memchr(s + 1, ':', host_len) == NULL)
            return err_set(eb, IASO_E_INVAL,
                           "listen \"%s\": not an IPv6 address in brackets "
                           "(%s)",
                           s, hint);
        memcpy(host, s + 1, host_len);
    } else {
        const char *colon = strrchr(s, ':');
        if (!colon)
            return err_set(eb, IASO_E_INVAL, "listen \"%s\": no port (%s)", s, hint);
        host_len = (size_t)(colon - s);
        port_s = colon + 1;
        if (memchr(s, ':', host_len))
            return err_set(eb, IASO_E_INVAL,
                           "listen \"%s\": an IPv6 address goes in brackets "
                           "(%s)",
                           s, hint);
        if (host_len >= sizeof(host))
            return err_set(eb, IASO_E_INVAL, "listen \"%s\": the host is too long (%s)", s, hint);
        memcpy(host, s, host_len);
    }
    host[host_len] = '\0';
    int64_t port = 0;
    if (parse_i64(port_s, strlen(port_s), 0, 65535, &port) != 0)
        return err_set(eb, IASO_E_INVAL,
                       "listen \"%s\": the port must be a number from 0 to "
                       "65535 (%s)",
                       s, hint);
    *is_any = host_len == 0;
    if (*is_any)
        snprintf(host, sizeof(host), "%s", ipv6_works() ? "::" : "0.0.0.0");
    if (!addr_fill(host, (uint16_t)port, ss, ss_len))
        return err_set(eb, IASO_E_INVAL,
                       "listen \"%s\": \"%s\" is not a numeric IPv4 or IPv6 "
                       "address (%s)",
                       s, host, hint);
    return 0;
}

/* Programmer errors in the route table, caught at start rather than on the first request. */
static int
routes_check(const struct http_route *routes, size_t n_routes, struct errbuf *eb)
{
    if (n_routes > 0 && !routes)
        return err_set(eb, IASO_E_INVAL, "http: %zu routes but no table", n_routes);
    for (size_t i = 0; i < n_routes; i++) {
        const char *p = routes[i].pattern;
        if (!p || p[0] != '/' || !routes[i].fn)
            return err_set(eb, IASO_E_INVAL,
                           "http: route %zu: a pattern starting with '/' and a handler needed", i);
        size_t len = strlen(p);
        if (len > 1 && p[len - 1] == '/')
            len--; /* one trailing slash is ignored, as in paths */
        size_t n_captures = 0;
        for (size_t start = 1; start <= len;) {
            size_t end = start;
            while (end < len && p[end] != '/')
                end++;
            if (end == start && len != 1)
                return err_set(eb, IASO_E_INVAL, "http: route %zu: \"%s\" has an empty segment", i,
                               p);
            bool is_rest = end - start == 1 && p[start] == '*';
            if ((is_rest && end != len) || (!is_rest && memchr(p + start, '*', end - start)))
                return err_set(eb, IASO_E_INVAL,
                               "http: route %zu: \"%s\": '*' only as the whole last segment", i, p);
            if (is_rest || (end - start >= 2 && p[start] == '{' && p[end - 1] == '}'))
                n_captures++;
            start = end + 1;
        }
        if (n_captures > HTTP_PARAMS_MAX)
            return err_set(eb, IASO_E_INVAL, "http: route %zu: \"%s\" has more than %d captures", i,
                           p, HTTP_PARAMS_MAX);
    }
    return 0;
}

static void
opt_add(struct MHD_OptionItem *opts, size_t *n, enum MHD_OPTION option, intptr_t value, void *ptr)
{
    opts[*n].option = option;
    opts[*n].value = value;
    opts[*n].ptr_value = ptr;
    (*n)++;
}

int
http_server_start(const struct http_config *cfg, struct http_server **out, struct errbuf *eb)
{
    int rc = 0;
    struct http_server *srv = NULL;
    *out = NULL;
    if ((cfg->tls_cert == NULL) != (cfg->tls_key == NULL))
        return err_set(eb, IASO_E_INVAL, "http: TLS needs both a certificate and a key file");
    rc = routes_check(cfg->routes, cfg->n_routes, eb);
    if (rc < 0)
        return rc;
    if (cfg->tls_cert && MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES)
        return err_set(eb, IASO_E_UNSUPPORTED,
                       "http: this libmicrohttpd (%s) was built without TLS; serve plain HTTP "
                       "behind a TLS proxy or install a GnuTLS-enabled libmicrohttpd",
                       MHD_get_version());

    struct sockaddr_storage ss = {0};
    socklen_t ss_len = 0;
    bool is_any = false;
    uint16_t port = 0;
    if (cfg->listen) {
        rc = listen_parse(cfg->listen, &ss, &ss_len, &is_any, eb);
        if (rc < 0)
            return rc;
        struct sockaddr_in sin; /* sin_port and sin6_port sit at the same offset */
        memcpy(&sin, &ss, sizeof(sin));
        port = ntohs(sin.sin_port);
    }

    srv = calloc(1, sizeof(*srv));
    if (!srv)
        return err_set(eb, IASO_E_NOMEM, "http: out of memory");
    pthread_mutex_init(&srv->log_mu, NULL);
    ratelimit_init(&srv->log_rl, HTTP_LOG_WINDOW_MS, HTTP_LOG_BURST);
    srv->routes = cfg->routes;
    srv->n_routes = cfg->n_routes;
    srv->app = cfg->app;
    srv->body_max = cfg->body_max ? cfg->body_max : HTTP_BODY_MAX_DEFAULT;
    srv->is_tls = cfg->tls_cert != NULL;
    srv->stats = calloc(cfg->n_routes + 1, sizeof(*srv->stats));
    if (!srv->stats) {
        rc = err_set(eb, IASO_E_NOMEM, "http: out of memory");
        goto out;
    }
    if (srv->is_tls) {
        rc = pem_read(cfg->tls_cert, "certificate", &srv->cert_pem, eb);
        if (rc < 0)
            goto out;
        rc = pem_read(cfg->tls_key, "key", &srv->key_pem, eb);
        if (rc < 0)
            goto out;
    }

    /* epoll where there is one, with a listening socket. libmicrohttpd 0.9.75's epoll loop
     * misses an end of stream that arrives with the last bytes of an incomplete request, so
     * such a connection waits for timeout_s; bounded, so fine for a server, but it would stall
     * the fuzz target at every truncated input, hence poll() without a listening socket. */
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
    bool has_epoll = MHD_is_feature_supported(MHD_FEATURE_EPOLL) == MHD_YES;
    if (has_epoll && cfg->listen)
        flags |= MHD_USE_EPOLL;
    else if (MHD_is_feature_supported(MHD_FEATURE_POLL) == MHD_YES)
        flags |= MHD_USE_POLL;
    if (srv->is_tls)
        flags |= MHD_USE_TLS;
    if (!cfg->listen)
        flags |= MHD_USE_NO_LISTEN_SOCKET | MHD_USE_ITC;
    else if (ss.ss_family == AF_INET6)
        flags |= is_any ? MHD_USE_DUAL_STACK : MHD_USE_IPv6;

    struct MHD_OptionItem opts[16];
    size_t n = 0;
    opt_add(opts, &n, MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)on_mhd_log, srv);
    opt_add(opts, &n, MHD_OPTION_URI_LOG_CALLBACK, (intptr_t)on_uri, srv);
    opt_add(opts, &n, MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, srv);
    opt_add(opts, &n, MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)on_connection, srv);
    opt_add(opts, &n, MHD_OPTION_CONNECTION_TIMEOUT,
            cfg->timeout_s ? cfg->timeout_s : HTTP_TIMEOUT_S_DEFAULT, NULL);
    opt_add(opts, &n, MHD_OPTION_CONNECTION_LIMIT,
            cfg->conns_max ? cfg->conns_max : HTTP_CONNS_MAX_DEFAULT, NULL);
    if (cfg->conns_per_ip_max)
        opt_add(opts, &n, MHD_OPTION_PER_IP_CONNECTION_LIMIT, cfg->conns_per_ip_max, NULL);
    size_t n_threads = cfg->n_threads ? cfg->n_threads : HTTP_THREADS_DEFAULT;
    if (cfg->listen && n_threads > 1) /* without a listening socket there is no pool */
        opt_add(opts, &n, MHD_OPTION_THREAD_POOL_SIZE, (intptr_t)n_threads, NULL);
    if (cfg->listen)
        opt_add(opts, &n, MHD_OPTION_SOCK_ADDR, 0, &ss);
    if (srv->is_tls) {
        opt_add(opts, &n, MHD_OPTION_HTTPS_MEM_CERT, 0, srv->cert_pem);
        opt_add(opts, &n, MHD_OPTION_HTTPS_MEM_KEY, 0, srv->key_pem);
        opt_add(opts, &n, MHD_OPTION_HTTPS_PRIORITIES, 0, (void *)HTTP_TLS_PRIORITIES);
    }
    opt_add(opts, &n, MHD_OPTION_END, 0, NULL);

    srv->is_starting = true;
    /* The port is in the address already; libmicrohttpd names it in its messages. */
    srv->daemon = MHD_start_daemon(flags, port, NULL, NULL, on_access, srv, MHD_OPTION_ARRAY, opts,
                                   MHD_OPTION_END);
    pthread_mutex_lock(&srv->log_mu);
    srv->is_starting = false;
    pthread_mutex_unlock(&srv->log_mu);
    if (!srv->daemon) {
        rc = err_set(eb, IASO_E_IO, "listen %s: cannot start the HTTP server: %s",
                     cfg->listen ? cfg->listen : "(none)",
                     srv->start_msg[0] ? srv->start_msg : "libmicrohttpd gave no reason");
        goto out;
    }
    if (cfg->listen) {
        const union MHD_DaemonInfo *di =
            MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_BIND_PORT);
        srv->port = di ? di->port : 0;
    }
    *out = srv;
    srv = NULL;
out:
    http_server_stop(srv);
    return rc;
}

uint16_t
http_server_port(const struct http_server *srv)
{
    return srv->port;
}

int
http_server_conn_add(struct http_server *srv, int fd, const char *peer, struct errbuf *eb)
{
    struct sockaddr_storage ss;
    socklen_t ss_len = 0;
    if (!addr_fill(peer ? peer : "127.0.0.1", 0, &ss, &ss_len)) {
        close(fd);
        return err_set(eb, IASO_E_INVAL, "http: peer \"%s\" is not a numeric address", peer);
    }
    /* libmicrohttpd takes the socket, and closes it if it cannot serve it. */
    if (MHD_add_connection(srv->daemon, fd, (const struct sockaddr *)&ss, ss_len) != MHD_YES)
        return err_set(eb, IASO_E_LIMIT, "http: connection refused (%s)", strerror(errno));
    return 0;
}

void
http_server_stop(struct http_server *srv)
{
    if (!srv)
        return;
    if (srv->daemon)
        MHD_stop_daemon(srv->daemon);
    free(srv->stats);
    free(srv->cert_pem);
    if (srv->key_pem) {
        explicit_bzero(srv->key_pem, strlen(srv->key_pem));
        free(srv->key_pem);
    }
    pthread_mutex_destroy(&srv->log_mu);
    free(srv);
}

/* ---- Metrics ---- */

static const char *
route_label(const struct http_server *srv, size_t i)
{
    if (i == srv->n_routes)
        return "(unmatched)";
    return srv->routes[i].name ? srv->routes[i].name : srv->routes[i].pattern;
}

/* A Prometheus label value: backslash, double quote and newline escaped. */
static void
label_append(struct buf *out, const char *s, int *rc)
{
    for (; *s && *rc == 0; s++) {
        if (*s == '\\' || *s == '"')
            *rc = buf_printf(out, "\\%c", *s);
        else if (*s == '\n')
            *rc = buf_append_str(out, "\\n");
        else
            *rc = buf_append_char(out, *s);
    }
}

static void
metric_line(struct buf *out, const char *name, const char *route, const char *extra_key,
            const char *extra_value, const char *value, int *rc)
{
    if (*rc == 0)
        *rc = buf_printf(out, "%s{route=\"", name);
    label_append(out, route, rc);
    if (*rc == 0 && extra_key)
        *rc = buf_printf(out, "\",%s=\"%s", extra_key, extra_value);
    if (*rc == 0)
        *rc = buf_printf(out, "\"} %s\n", value);
}

/* A snapshot of counters, summed over the routes that share a label. */
struct stats_view {
    uint64_t n_by_class[4];
    uint64_t n_by_bucket[HTTP_N_BUCKETS + 1];
    uint64_t sum_ns;
};

/* Sums the counters of every route with the same label as route i (routes for several
 * methods on one pattern usually share it), so each label appears once. */
static void
stats_sum(const struct http_server *srv, size_t i, struct stats_view *sum)
{
    memset(sum, 0, sizeof(*sum));
    const char *label = route_label(srv, i);
    for (size_t j = i; j <= srv->n_routes; j++) {
        if (j != i && strcmp(route_label(srv, j), label) != 0)
            continue;
        const struct route_stats *st = &srv->stats[j];
        for (size_t k = 0; k < 4; k++)
            sum->n_by_class[k] += atomic_load_explicit(&st->n_by_class[k], memory_order_relaxed);
        for (size_t k = 0; k <= HTTP_N_BUCKETS; k++)
            sum->n_by_bucket[k] += atomic_load_explicit(&st->n_by_bucket[k], memory_order_relaxed);
        sum->sum_ns += atomic_load_explicit(&st->sum_ns, memory_order_relaxed);
    }
}

static bool
label_seen_before(const struct http_server *srv, size_t i)
{
    for (size_t j = 0; j < i; j++) {
        if (strcmp(route_label(srv, j), route_label(srv, i)) == 0)
            return true;
    }
    return false;
}

int
http_server_metrics(struct http_server *srv, struct buf *out)
{
    int rc = 0;
    char v[32];
    struct stats_view sum;
    rc = buf_append_str(out, "# HELP iaso_http_requests_total HTTP requests answered, by route "
                             "and status class.\n"
                             "# TYPE iaso_http_requests_total counter\n");
    for (size_t i = 0; i <= srv->n_routes && rc == 0; i++) {
        if (label_seen_before(srv, i))
            continue;
        stats_sum(srv, i, &sum);
        for (size_t k = 0; k < 4; k++) {
            snprintf(v, sizeof(v), "%" PRIu64, sum.n_by_class[k]);
            metric_line(out, "iaso_http_requests_total", route_label(srv, i), "class",
                        class_names[k], v, &rc);
        }
    }
    if (rc == 0)
        rc = buf_append_str(out, "# HELP iaso_http_request_duration_seconds Time from the "
                                 "request line to the response being queued.\n"
                                 "# TYPE iaso_http_request_duration_seconds histogram\n");
    for (size_t i = 0; i <= srv->n_routes && rc == 0; i++) {
        if (label_seen_before(srv, i))
            continue;
        stats_sum(srv, i, &sum);
        uint64_t cumulative = 0;
        for (size_t k = 0; k <= HTTP_N_BUCKETS; k++) {
            cumulative += sum.n_by_bucket[k];
            snprintf(v, sizeof(v), "%" PRIu64, cumulative);
            metric_line(out, "iaso_http_request_duration_seconds_bucket", route_label(srv, i), "le",
                        bucket_le[k], v, &rc);
        }
        snprintf(v, sizeof(v), "%.9f", (double)sum.sum_ns / 1e9);
        metric_line(out, "iaso_http_request_duration_seconds_sum", route_label(srv, i), NULL, NULL,
                    v, &rc);
        snprintf(v, sizeof(v), "%" PRIu64, cumulative);
        metric_line(out, "iaso_http_request_duration_seconds_count", route_label(srv, i), NULL,
                    NULL, v, &rc);
    }
    pthread_mutex_lock(&srv->log_mu);
    uint64_t n_log_dropped = srv->log_rl.n_suppressed;
    pthread_mutex_unlock(&srv->log_mu);
    if (rc == 0)
        rc = buf_printf(
            out,
            "# HELP iaso_http_received_bytes_total Request header and body bytes received.\n"
            "# TYPE iaso_http_received_bytes_total counter\n"
            "iaso_http_received_bytes_total %" PRIuFAST64 "\n"
            "# HELP iaso_http_sent_bytes_total Response body bytes sent.\n"
            "# TYPE iaso_http_sent_bytes_total counter\n"
            "iaso_http_sent_bytes_total %" PRIuFAST64 "\n"
            "# HELP iaso_http_connections_open Client connections open now.\n"
            "# TYPE iaso_http_connections_open gauge\n"
            "iaso_http_connections_open %" PRIdFAST64 "\n"
            "# HELP iaso_http_log_lines_dropped_total Server log lines over the rate limit.\n"
            "# TYPE iaso_http_log_lines_dropped_total counter\n"
            "iaso_http_log_lines_dropped_total %" PRIu64 "\n",
            (uint_fast64_t)atomic_load_explicit(&srv->n_bytes_in, memory_order_relaxed),
            (uint_fast64_t)atomic_load_explicit(&srv->n_bytes_out, memory_order_relaxed),
            (int_fast64_t)atomic_load_explicit(&srv->n_conns_open, memory_order_relaxed),
            n_log_dropped);
    return rc;
}
