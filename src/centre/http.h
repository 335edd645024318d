// SPDX-License-Identifier: Apache-2.0
// The centre's HTTP/1.1 server: libmicrohttpd underneath (a pool of threads, each with its own
// epoll loop), a table of routes on top. This layer knows nothing of incidents or users: it
// reads a request whole (body capped), finds the route, calls its handler once with the
// complete request, and sends what the handler put in the response. It also keeps the request
// counters and latency histogram that /metrics shows.
//
// Threads: handlers run on the pool's threads, several at once; `app` is shared between them.
//
// What the server answers itself, without calling a handler: 400 for a malformed path (see
// http_route_match) or an ambiguous body framing (two Content-Lengths, or one with a
// Transfer-Encoding), 404 when no route matches, 405 with Allow when the path matches but the
// method does not, 204 with Allow for OPTIONS on such a path, 501 for a method other than GET,
// HEAD, POST, PUT, PATCH, DELETE and OPTIONS or a Transfer-Encoding other than chunked, 413 for
// a body over body_max, and 500 when a handler sets a status outside 200..599. Those bodies
// are http_resp_error JSON. (libmicrohttpd itself answers requests it cannot parse, with HTML.)
// HEAD runs the GET route's handler (req->method says "HEAD") and libmicrohttpd sends the
// headers without the body. An error found from the headers alone is answered before the body
// is read, and the connection is then closed. Every response carries X-Content-Type-Options:
// nosniff, Referrer-Policy: no-referrer, X-Frame-Options: DENY and Cache-Control: no-store,
// each unless the handler set a header of that name itself.
#ifndef IASO_CENTRE_HTTP_H
#define IASO_CENTRE_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/error.h"

#define HTTP_PARAMS_MAX 4   /* path captures per route: /orgs/{id}/users/{uid} needs two */
#define HTTP_HEADERS_MAX 12 /* response headers a handler may add */

struct http_server;
struct http_conn_; /* libmicrohttpd's connection, opaque to handlers */

struct http_req {
    const char *method;  /* "GET", "POST", ... */
    const char *path;    /* the path without the query, as sent (not decoded) */
    const uint8_t *body; /* NUL-terminated as well as counted; borrowed */
    size_t body_len;
    const char *params[HTTP_PARAMS_MAX]; /* the route's {captures}, percent-decoded, in order */
    size_t n_params;
    char peer[64]; /* the client's address, "192.0.2.1" or "2001:db8::1" */
    bool is_tls;
    int route;                /* index in the route table, -1 when none matched */
    struct http_conn_ *conn_; /* private */
};

/* Header, query argument (percent-decoded, '+' as a space) and cookie lookups; NULL when absent,
 * the first when repeated. The strings are borrowed from the connection until the handler
 * returns. Header names are case-insensitive. */
const char *http_req_header(const struct http_req *req, const char *name);
const char *http_req_query(const struct http_req *req, const char *name);
const char *http_req_cookie(const struct http_req *req, const char *name);

struct http_resp {
    int status;               /* 200 unless the handler sets it */
    const char *content_type; /* static string; "application/json" unless set */
    struct buf body;          /* the handler appends; capped at 64 MiB */
    size_t n_headers;
    char *header_names[HTTP_HEADERS_MAX];  /* owned */
    char *header_values[HTTP_HEADERS_MAX]; /* owned */
};

/* Adds a response header (copied). Returns IASO_E_LIMIT past HTTP_HEADERS_MAX, IASO_E_INVAL for
 * an empty name or a name or value holding CR, LF or other control bytes (header injection), and
 * IASO_E_NOMEM. */
int http_resp_header(struct http_resp *resp, const char *name, const char *value);

/* Replaces the body with {"error": {"status": N, "code": CODE, "message": MESSAGE}} and sets the
 * status. `code` is a short machine word ("bad_json", "forbidden"); the message a sentence. */
void http_resp_error(struct http_resp *resp, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

typedef void (*http_handler_fn)(void *app, struct http_req *req, struct http_resp *resp);

/*
 * One route. `pattern` is a path whose segments are literal or `{name}`, which captures one
 * non-empty segment into req->params; a pattern whose last segment is `*` captures the rest of
 * the path (for static files). `method` NULL matches any method. The first matching route
 * wins; a path that matches a route's pattern but not its method gets 405 with an Allow
 * header. http_server_start refuses a pattern that does not start with '/', has an empty segment, a
 * '*' anywhere but as the whole last segment, or more than HTTP_PARAMS_MAX captures.
 */
struct http_route {
    const char *method;
    const char *pattern;
    http_handler_fn fn;
    const char *name; /* label for metrics; the pattern when NULL */
};

#define HTTP_ROUTE_NONE (-1)       /* no route's pattern matches the path: 404 */
#define HTTP_ROUTE_BAD_METHOD (-2) /* a pattern matches, none of those routes the method: 405 */
#define HTTP_ROUTE_BAD_PATH (-3)   /* the path is malformed: 400 */

/*
 * Pure matching, exposed for tests and the fuzz target: returns the index of the first route
 * that matches method and path, or one of the HTTP_ROUTE_ codes above. Fills params (pointing
 * into `scratch`, which receives the decoded captures, each NUL-terminated); scratch of
 * strlen(path) + HTTP_PARAMS_MAX + 1 bytes always suffices, and a route whose captures do not
 * fit is passed over. A HEAD request matches a GET route.
 *
 * Paths: `path` is the raw path without the query. It must start with '/'. One trailing slash
 * is ignored ("/a/b/" is "/a/b"); any other empty segment ("/a//b"), a "." or ".." segment
 * (also when percent-encoded), a bad escape ("%4", "%zz"), or an escape decoding to NUL, '/' or
 * another control byte makes the path malformed. Segments are compared with literals after
 * percent-decoding; captures are percent-decoded ('+' stays '+'). The `*` capture is the rest
 * after the prefix without its leading slash, "" for the prefix itself (pattern "/static/" "*"
 * gives "css/a.css" for "/static/css/a.css", and "" for "/static" and "/static/").
 */
int http_route_match(const struct http_route *routes, size_t n_routes, const char *method,
                     const char *path, const char **params, size_t *n_params, char *scratch,
                     size_t scratch_len);

struct http_config {
    /* "127.0.0.1:8080", "[::1]:8080", ":8080" (every address, IPv6 and IPv4); port 0 picks a
     * free port. NULL: no listening socket, connections come from http_server_conn_add, served
     * by one thread with poll() (tests, fuzzing). */
    const char *listen;
    size_t n_threads;          /* 0 means 4 */
    size_t body_max;           /* request bodies larger than this get 413; 0 means 1 MiB */
    unsigned timeout_s;        /* idle connection timeout; 0 means 30 */
    unsigned conns_max;        /* open connections; 0 means 1024 */
    unsigned conns_per_ip_max; /* open connections from one address; 0 means no limit */
    const char *tls_cert;      /* PEM file paths; both or neither */
    const char *tls_key;
    const struct http_route *routes; /* borrowed for the server's life */
    size_t n_routes;
    void *app; /* passed to every handler */
};

/* Starts listening and serving on background threads. Returns 0, or a negative code with a
 * sentence in `eb` (address in use, unreadable certificate, ...). */
int http_server_start(const struct http_config *cfg, struct http_server **out, struct errbuf *eb);

/* The port actually bound (useful with port 0); 0 without a listening socket. */
uint16_t http_server_port(const struct http_server *srv);

/* Serves a connected stream socket (tests, fuzzing; any server, listening or not). Takes `fd`
 * in every case: it is closed on failure. `peer` names the client for req->peer and the
 * per-address limit; NULL means 127.0.0.1. Returns 0, IASO_E_INVAL when `peer` is not a numeric
 * address, or IASO_E_LIMIT when libmicrohttpd refuses the connection (a limit, memory); with a
 * sentence in `eb`. */
int http_server_conn_add(struct http_server *srv, int fd, const char *peer, struct errbuf *eb);

/* Stops accepting, finishes requests in flight, frees. NULL is fine. */
void http_server_stop(struct http_server *srv);

/* Appends the server's counters in Prometheus text format: iaso_http_requests_total by route
 * and status class, iaso_http_request_duration_seconds histogram by route (from the request
 * line to the response being queued), iaso_http_received_bytes_total (headers and bodies),
 * iaso_http_sent_bytes_total (response bodies), iaso_http_connections_open and
 * iaso_http_log_lines_dropped_total (server log lines over its rate limit). The route label is
 * the route's name; routes that share one are summed, and requests no route took (a bad path,
 * no such route, a wrong or unknown method) are counted as "(unmatched)". Returns 0, or
 * IASO_E_LIMIT / IASO_E_NOMEM from `out`. Safe to call from a handler. */
int http_server_metrics(struct http_server *srv, struct buf *out);

#endif
