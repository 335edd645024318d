// SPDX-License-Identifier: Apache-2.0
// libFuzzer target for the HTTP route matcher (http_route_match in centre/http-route.c).
//
// Input: one byte choosing the method (GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS, or an
// unknown one), then the raw path. When the rest holds a newline, the text before it is a
// pattern too, tried ahead of a fixed table like the centre's, so patterns get fuzzed as well;
// the path stops at the first NUL. Promises checked (a broken one traps):
//   - the result is a route index or one of the HTTP_ROUTE_ codes;
//   - captures lie inside the scratch area sized as the header says, are NUL-terminated, hold
//     no control byte, a `{name}` capture no '/' and is not empty, a rest capture no ".", ".."
//     or empty segment;
//   - the same route alone matches again with the same captures, and a path malformed for one
//     table is malformed for any;
//   - for the fixed routes, the path rebuilt from the pattern and the captures, percent-encoded,
//     matches that route again with the same captures (decoding round-trips).
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "centre/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
handler_none(void *app, struct http_req *req, struct http_resp *resp)
{
    (void)app;
    (void)req;
    (void)resp;
}

static const struct http_route fixed_routes[] = {
    {"GET", "/", handler_none, NULL},
    {"GET", "/api/v1/incidents", handler_none, NULL},
    {"POST", "/api/v1/incidents/", handler_none, NULL},
    {"GET", "/api/v1/incidents/{id}", handler_none, NULL},
    {"PATCH", "/api/v1/incidents/{id}", handler_none, NULL},
    {"GET", "/api/v1/orgs/{org}/users/{uid}", handler_none, NULL},
    {"GET", "/api/v1/{a}/{b}/{c}/{d}", handler_none, NULL},
    {"DELETE", "/api/v1/sessions/current", handler_none, NULL},
    {NULL, "/metrics", handler_none, NULL},
    {"GET", "/static/*", handler_none, NULL},
    {"GET", "/*", handler_none, NULL},
};
#define N_FIXED (sizeof(fixed_routes) / sizeof(fixed_routes[0]))

static const char *const methods[] = {"GET",   "HEAD",   "POST",    "PUT",
                                      "PATCH", "DELETE", "OPTIONS", "BREW"};

static bool
is_capture(const char *seg, size_t len)
{
    return len >= 2 && seg[0] == '{' && seg[len - 1] == '}';
}

/* Checks one capture; `is_rest` for a `*` capture. */
static void
capture_check(const char *p, const char *scratch, size_t scratch_len, bool is_rest)
{
    if (p < scratch || p >= scratch + scratch_len)
        __builtin_trap();
    const char *nul = memchr(p, '\0', (size_t)(scratch + scratch_len - p));
    if (!nul)
        __builtin_trap();
    size_t len = (size_t)(nul - p);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c < 0x20 || c == 0x7f || (!is_rest && c == '/'))
            __builtin_trap();
    }
    if (!is_rest) {
        if (len == 0)
            __builtin_trap();
        return;
    }
    for (size_t start = 0; start < len;) {
        const char *slash = memchr(p + start, '/', len - start);
        size_t end = slash ? (size_t)(slash - p) : len;
        size_t n = end - start;
        if (n == 0 || (n == 1 && p[start] == '.') ||
            (n == 2 && p[start] == '.' && p[start + 1] == '.'))
            __builtin_trap();
        start = end + 1;
        if (slash && start == len)
            __builtin_trap(); /* a trailing slash is dropped before matching */
    }
}

/* Appends s percent-encoded (unreserved bytes and, in a rest capture, '/' left as they are). */
static void
encode_append(struct buf *out, const char *s, bool keep_slash)
{
    static const char hex[] = "0123456789ABCDEF";
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '.' || c == '_' || c == '~' || (keep_slash && c == '/')) {
            buf_append_char(out, (char)c);
        } else {
            char esc[3] = {'%', hex[c >> 4], hex[c & 15]};
            buf_append(out, esc, 3);
        }
    }
}

/* Rebuilds a path from a fixed route's pattern and its captures and checks it matches again. */
static void
round_trip(const struct http_route *route, const char *method, const char **params, size_t n_params)
{
    struct buf path;
    buf_init(&path, 0);
    const char *p = route->pattern;
    size_t k = 0;
    buf_append_char(&path, '/');
    for (size_t start = 1; p[start];) {
        const char *slash = strchr(p + start, '/');
        size_t end = slash ? (size_t)(slash - p) : strlen(p);
        if (end - start == 1 && p[start] == '*')
            encode_append(&path, params[k++], true);
        else if (is_capture(p + start, end - start))
            encode_append(&path, params[k++], false);
        else
            buf_append(&path, p + start, end - start);
        if (!slash)
            break;
        buf_append_char(&path, '/');
        start = end + 1;
    }
    if (k != n_params)
        __builtin_trap();
    size_t scratch_len = path.len + HTTP_PARAMS_MAX + 1;
    char *scratch = malloc(scratch_len);
    const char *again[HTTP_PARAMS_MAX];
    size_t n_again = 0;
    if (scratch) {
        if (http_route_match(route, 1, method, (const char *)path.ptr, again, &n_again, scratch,
                             scratch_len) != 0 ||
            n_again != n_params)
            __builtin_trap();
        for (size_t i = 0; i < n_params; i++) {
            if (strcmp(again[i], params[i]) != 0)
                __builtin_trap();
        }
    }
    free(scratch);
    buf_release(&path);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *method = methods[data[0] % (sizeof(methods) / sizeof(methods[0]))];
    const uint8_t *rest = data + 1;
    size_t rest_len = size - 1;
    const uint8_t *nl = memchr(rest, '\n', rest_len);
    char *pattern = NULL;
    struct http_route routes[N_FIXED + 1];
    size_t n_routes = 0;
    if (nl) {
        size_t pat_len = (size_t)(nl - rest);
        pattern = malloc(pat_len + 1);
        if (!pattern)
            return 0;
        memcpy(pattern, rest, pat_len);
        pattern[pat_len] = '\0';
        routes[n_routes++] = (struct http_route){"GET", pattern, handler_none, NULL};
        rest_len -= pat_len + 1;
        rest = nl + 1;
    }
    memcpy(routes + n_routes, fixed_routes, sizeof(fixed_routes));
    n_routes += N_FIXED;
    size_t path_len = strnlen((const char *)rest, rest_len);
    char *path = malloc(path_len + 1);
    size_t scratch_len = path_len + HTTP_PARAMS_MAX + 1;
    char *scratch = malloc(scratch_len); /* the exact size http.h promises is enough */
    if (!path || !scratch)
        goto out;
    memcpy(path, rest, path_len);
    path[path_len] = '\0';

    const char *params[HTTP_PARAMS_MAX];
    size_t n_params = 0;
    int rc =
        http_route_match(routes, n_routes, method, path, params, &n_params, scratch, scratch_len);
    if (rc < HTTP_ROUTE_BAD_PATH || rc >= (int)n_routes)
        __builtin_trap();
    if (rc < 0 && n_params != 0)
        __builtin_trap();
    /* Malformed for one table is malformed for all; otherwise an empty table finds nothing.
     * (An empty table writes nothing to scratch, so params stay good.) */
    const char *none[HTTP_PARAMS_MAX];
    size_t n_none = 0;
    int rc_empty = http_route_match(routes, 0, method, path, none, &n_none, scratch, scratch_len);
    if ((rc == HTTP_ROUTE_BAD_PATH) != (rc_empty == HTTP_ROUTE_BAD_PATH) ||
        (rc_empty != HTTP_ROUTE_BAD_PATH && rc_empty != HTTP_ROUTE_NONE))
        __builtin_trap();
    if (rc < 0)
        goto out;
    if (n_params > HTTP_PARAMS_MAX)
        __builtin_trap();
    const char *pat = routes[rc].pattern;
    size_t pat_len = strlen(pat);
    bool has_rest = pat_len >= 2 && pat[pat_len - 1] == '*' && pat[pat_len - 2] == '/';
    if (pat_len >= 3 && pat[pat_len - 1] == '/' && pat[pat_len - 2] == '*' &&
        pat[pat_len - 3] == '/')
        has_rest = true;
    for (size_t i = 0; i < n_params; i++)
        capture_check(params[i], scratch, scratch_len, has_rest && i == n_params - 1);

    /* The same route alone: the same captures. */
    char *scratch2 = malloc(scratch_len);
    if (scratch2) {
        const char *again[HTTP_PARAMS_MAX];
        size_t n_again = 0;
        if (http_route_match(&routes[rc], 1, method, path, again, &n_again, scratch2,
                             scratch_len) != 0 ||
            n_again != n_params)
            __builtin_trap();
        for (size_t i = 0; i < n_params; i++) {
            if (strcmp(again[i], params[i]) != 0)
                __builtin_trap();
        }
        free(scratch2);
    }
    if (!pattern || rc > 0)
        round_trip(&routes[rc], method, params, n_params);
out:
    free(scratch);
    free(path);
    free(pattern);
    return 0;
}
