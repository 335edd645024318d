// SPDX-License-Identifier: Apache-2.0
// libFuzzer target for the whole HTTP server (centre/http.c on libmicrohttpd): the input is
// the raw bytes a client sends on one connection.
//
// One server without a listening socket is started on the first input and serves every input
// on a fresh socketpair handed over with http_server_conn_add: the input is written, the write
// side shut, and the answer read until the server closes. Its handlers use every part of the
// request API (captures, query, cookies, headers, body, response headers, error JSON, metrics,
// statuses out of range) on whatever the request holds. Promises checked (a broken one traps):
// the server closes the connection within HTTP_FUZZ_DEADLINE_MS, and whatever it sends starts
// as an HTTP/1.x status line. ASan and UBSan watch the rest, leaks included.
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "base/jsonw.h"
#include "base/log.h"
#include "base/parse.h"
#include "centre/http.h"

/* Far longer than any answer takes, well under the smoke run's 10 s per-input timeout. */
#define HTTP_FUZZ_DEADLINE_MS 5000

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct http_server *server;

static void
handler_echo(void *app, struct http_req *req, struct http_resp *resp)
{
    (void)app;
    struct jsonw w;
    jsonw_begin(&w, &resp->body);
    jsonw_object_begin(&w);
    jsonw_key(&w, "method");
    jsonw_str(&w, req->method);
    jsonw_key(&w, "path");
    jsonw_str(&w, req->path);
    jsonw_key(&w, "params");
    jsonw_array_begin(&w);
    for (size_t i = 0; i < req->n_params; i++)
        jsonw_str(&w, req->params[i]);
    jsonw_array_end(&w);
    static const char *const names[] = {"q", "session", "x-test", "host", "content-type"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        const char *q = http_req_query(req, names[i]);
        const char *c = http_req_cookie(req, names[i]);
        const char *h = http_req_header(req, names[i]);
        jsonw_key_str(&w, names[i]);
        jsonw_array_begin(&w);
        jsonw_str(&w, q ? q : "");
        jsonw_str(&w, c ? c : "");
        jsonw_str(&w, h ? h : "");
        jsonw_array_end(&w);
    }
    jsonw_key(&w, "body");
    jsonw_strn(&w, (const char *)req->body, req->body_len);
    jsonw_key(&w, "peer");
    jsonw_str(&w, req->peer);
    jsonw_object_end(&w);
    if (jsonw_end(&w) != 0)
        __builtin_trap();
    if (req->body[req->body_len] != '\0')
        __builtin_trap(); /* the body is NUL-terminated */
    /* Headers from the request: hostile values must be refused, never sent. */
    const char *hv = http_req_query(req, "h");
    if (hv)
        (void)http_resp_header(resp, "X-Echo", hv);
    const char *hn = http_req_query(req, "hn");
    if (hn)
        (void)http_resp_header(resp, hn, "1");
    const char *ct = http_req_query(req, "ct");
    if (ct && strcmp(ct, "text") == 0)
        resp->content_type = "text/plain";
    const char *status = http_req_query(req, "status");
    int64_t n = 0;
    if (status && parse_i64(status, strlen(status), -100000, 100000, &n) == 0)
        resp->status = (int)n;
}

static void
handler_error(void *app, struct http_req *req, struct http_resp *resp)
{
    (void)app;
    http_resp_error(resp, 422, req->n_params ? req->params[0] : "none", "Body was %.*s.",
                    (int)(req->body_len < 200 ? req->body_len : 200), (const char *)req->body);
}

static void
handler_metrics(void *app, struct http_req *req, struct http_resp *resp)
{
    (void)app;
    (void)req;
    resp->content_type = "text/plain; version=0.0.4";
    if (http_server_metrics(server, &resp->body) != 0)
        __builtin_trap();
}

static const struct http_route routes[] = {
    {"GET", "/", handler_echo, "root"},
    {"GET", "/api/v1/incidents", handler_echo, "incidents"},
    {"POST", "/api/v1/incidents", handler_echo, "incidents"},
    {"GET", "/api/v1/incidents/{id}", handler_echo, "incident"},
    {"PUT", "/api/v1/incidents/{id}", handler_echo, "incident"},
    {"PATCH", "/api/v1/incidents/{id}", handler_echo, "incident"},
    {"DELETE", "/api/v1/incidents/{id}", handler_echo, "incident"},
    {"GET", "/api/v1/orgs/{org}/users/{uid}", handler_echo, NULL},
    {"POST", "/error/{code}", handler_error, NULL},
    {NULL, "/any", handler_echo, NULL},
    {"GET", "/metrics", handler_metrics, "metrics"},
    {"GET", "/static/*", handler_echo, "static"},
};

static void
server_stop(void)
{
    http_server_stop(server);
    server = NULL;
}

static bool
server_start(void)
{
    log_set_level(LOG_LEVEL_ERROR); /* libmicrohttpd warns about every malformed request */
    struct http_config cfg = {
        .listen = NULL,
        .body_max = 4096,
        .timeout_s = 3,
        .routes = routes,
        .n_routes = sizeof(routes) / sizeof(routes[0]),
    };
    struct errbuf eb = {""};
    if (http_server_start(&cfg, &server, &eb) != 0) {
        fprintf(stderr, "fuzz-http-request: %s\n", eb.msg);
        return false;
    }
    atexit(server_stop);
    return true;
}

static uint64_t
now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Writes the input and reads the answer, both at once so neither side can block the other.
 * Returns the number of answer bytes kept in `head`, or -1 on a missed deadline. */
static long
converse(int fd, const uint8_t *data, size_t size, char *head, size_t head_len)
{
    size_t n_written = 0, n_read = 0;
    bool is_shut = false;
    uint64_t deadline = now_ms() + HTTP_FUZZ_DEADLINE_MS;
    for (;;) {
        if (!is_shut && n_written == size) {
            shutdown(fd, SHUT_WR);
            is_shut = true;
        }
        uint64_t now = now_ms();
        if (now >= deadline)
            return -1;
        struct pollfd pfd = {fd, (short)(POLLIN | (is_shut ? 0 : POLLOUT)), 0};
        if (poll(&pfd, 1, (int)(deadline - now)) < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (pfd.revents & (POLLIN | POLLHUP | POLLERR)) {
            char chunk[4096];
            ssize_t n = recv(fd, chunk, sizeof(chunk), 0);
            if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
                return (long)n_read; /* closed (or reset): the conversation is over */
            if (n > 0 && n_read < head_len) {
                size_t keep = (size_t)n < head_len - n_read ? (size_t)n : head_len - n_read;
                memcpy(head + n_read, chunk, keep);
                n_read += keep;
            }
        }
        if (!is_shut && (pfd.revents & POLLOUT)) {
            ssize_t n = send(fd, data + n_written, size - n_written, MSG_NOSIGNAL);
            if (n > 0)
                n_written += (size_t)n;
            else if (n < 0 && errno != EAGAIN && errno != EINTR)
                n_written = size; /* the server closed: stop writing, read what it said */
        }
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!server && !server_start())
        return 0;
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
        return 0;
    struct errbuf eb = {""};
    if (http_server_conn_add(server, sv[0], NULL, &eb) != 0) {
        close(sv[1]);
        return 0;
    }
    fcntl(sv[1], F_SETFL, fcntl(sv[1], F_GETFL) | O_NONBLOCK);
    char head[16];
    long n = converse(sv[1], data, size, head, sizeof(head));
    close(sv[1]);
    if (n < 0)
        __builtin_trap(); /* the server kept the connection past the deadline */
    if (n > 0 && (n < 7 || memcmp(head, "HTTP/1.", 7) != 0))
        __builtin_trap();
    return 0;
}
