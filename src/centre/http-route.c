// SPDX-License-Identifier: Apache-2.0
// Route matching for the HTTP server (see http_route_match in http.h): checking a raw request
// path, comparing it segment by segment with the route patterns, and percent-decoding the
// captures. Pure on purpose: no libmicrohttpd, no allocation, no globals, no clock, so the
// fuzz target reaches every branch and a test can table every rule.
//
// The path is checked once, whole, before any pattern is tried; after that every escape in it
// is known to be valid and to decode to a byte that is neither NUL, '/' nor a control byte, so
// the matching loops need not check again.
#include "centre/http.h"

#include <stdbool.h>
#include <string.h>

static int
hex_value(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decodes the byte at s[*i] (an escape or a plain byte) and moves *i past it. For text that
 * seg_check has passed, where every '%' starts a good escape; a '%' that does not (never seen
 * there) stands for itself. */
static unsigned char
decode_next(const char *s, size_t *i)
{
    unsigned char c = (unsigned char)s[*i];
    if (c == '%') {
        int hi = hex_value((unsigned char)s[*i + 1]);
        int lo = hi < 0 ? -1 : hex_value((unsigned char)s[*i + 2]);
        if (lo >= 0) {
            *i += 3;
            return (unsigned char)(hi * 16 + lo);
        }
    }
    *i += 1;
    return c;
}

/* A byte no path may hold, raw or decoded: controls (request splitting, log forging) and DEL. */
static bool
is_forbidden(unsigned char c)
{
    return c < 0x20 || c == 0x7f;
}

/* Checks one raw, non-empty segment: escapes well-formed, nothing forbidden decoded, and not
 * "." or ".." (also as "%2e"). */
static bool
seg_check(const char *s, size_t len)
{
    size_t n_decoded = 0;
    bool is_all_dots = true;
    for (size_t i = 0; i < len;) {
        unsigned char c = (unsigned char)s[i];
        if (is_forbidden(c) || c == ' ')
            return false;
        if (c == '%') {
            if (len - i < 3 || hex_value((unsigned char)s[i + 1]) < 0 ||
                hex_value((unsigned char)s[i + 2]) < 0)
                return false;
            c = decode_next(s, &i);
            if (is_forbidden(c) || c == '/')
                return false;
        } else {
            i++;
        }
        n_decoded++;
        is_all_dots = is_all_dots && c == '.';
    }
    return !(is_all_dots && n_decoded <= 2);
}

/*
 * Checks a raw path and gives its length without one trailing slash ("/" stays "/"). Every
 * segment must be non-empty but the last, which is empty only for "/" and a trailing slash.
 */
static bool
path_check(const char *path, size_t *len_out)
{
    if (path[0] != '/')
        return false;
    size_t len = strlen(path);
    for (size_t start = 1;;) {
        const char *slash = memchr(path + start, '/', len - start);
        size_t end = slash ? (size_t)(slash - path) : len;
        if (end == start) {
            if (end != len)
                return false; /* an empty segment inside: "//" */
        } else if (!seg_check(path + start, end - start)) {
            return false;
        }
        if (end == len)
            break;
        start = end + 1;
    }
    *len_out = len > 1 && path[len - 1] == '/' ? len - 1 : len;
    return true;
}

/* Compares a raw path segment, decoded, with a literal pattern segment. */
static bool
seg_equal(const char *seg, size_t seg_len, const char *lit, size_t lit_len)
{
    size_t i = 0, k = 0;
    while (i < seg_len && k < lit_len) {
        if (decode_next(seg, &i) != (unsigned char)lit[k++])
            return false;
    }
    return i == seg_len && k == lit_len;
}

/* Where decoded captures go: bytes written so far into a caller's scratch area. */
struct capture_out {
    const char **params;
    size_t n_params;
    char *scratch;
    size_t scratch_len;
    size_t used;
};

/* Decodes raw text into the next capture. False when it does not fit or there are too many. */
static bool
capture_add(struct capture_out *co, const char *raw, size_t raw_len)
{
    if (!co->scratch || co->n_params >= HTTP_PARAMS_MAX || co->scratch_len - co->used < raw_len + 1)
        return false; /* decoding never lengthens, so raw_len + 1 is enough */
    char *dst = co->scratch + co->used;
    size_t n = 0;
    for (size_t i = 0; i < raw_len;)
        dst[n++] = (char)decode_next(raw, &i);
    dst[n] = '\0';
    co->params[co->n_params++] = dst;
    co->used += n + 1;
    return true;
}

/* The end of the segment that starts at `start` in s[0..len). */
static size_t
seg_end(const char *s, size_t len, size_t start)
{
    const char *slash = memchr(s + start, '/', len - start);
    return slash ? (size_t)(slash - s) : len;
}

/* Matches a checked path (len without its trailing slash) against one pattern. */
static bool
pattern_match(const char *pattern, const char *path, size_t path_len, struct capture_out *co)
{
    size_t pat_len = strlen(pattern);
    if (pat_len == 0 || pattern[0] != '/')
        return false;
    if (pat_len > 1 && pattern[pat_len - 1] == '/')
        pat_len--;
    size_t pi = 1, si = 1; /* the starts of the current segments; si > path_len: path done */
    for (;;) {
        size_t pe = seg_end(pattern, pat_len, pi);
        if (pe == pat_len && pe - pi == 1 && pattern[pi] == '*') {
            size_t rest = si <= path_len ? si : path_len;
            return capture_add(co, path + rest, path_len - rest);
        }
        if (si > path_len)
            return false;
        size_t se = seg_end(path, path_len, si);
        if (pe - pi >= 2 && pattern[pi] == '{' && pattern[pe - 1] == '}') {
            if (se == si || !capture_add(co, path + si, se - si))
                return false;
        } else if (!seg_equal(path + si, se - si, pattern + pi, pe - pi)) {
            return false;
        }
        if (pe == pat_len)
            return se == path_len;
        pi = pe + 1;
        si = se + 1;
    }
}

static bool
method_accepts(const char *route_method, const char *method)
{
    if (!route_method)
        return true;
    if (strcmp(route_method, method) == 0)
        return true;
    return strcmp(method, "HEAD") == 0 && strcmp(route_method, "GET") == 0;
}

int
http_route_match(const struct http_route *routes, size_t n_routes, const char *method,
                 const char *path, const char **params, size_t *n_params, char *scratch,
                 size_t scratch_len)
{
    *n_params = 0;
    size_t path_len = 0;
    if (!path_check(path, &path_len))
        return HTTP_ROUTE_BAD_PATH;
    bool is_path_known = false;
    for (size_t i = 0; i < n_routes; i++) {
        struct capture_out co = {params, 0, scratch, scratch ? scratch_len : 0, 0};
        if (!routes[i].pattern || !pattern_match(routes[i].pattern, path, path_len, &co))
            continue;
        is_path_known = true;
        if (method_accepts(routes[i].method, method ? method : "")) {
            *n_params = co.n_params;
            return (int)i;
        }
    }
    return is_path_known ? HTTP_ROUTE_BAD_METHOD : HTTP_ROUTE_NONE;
}
