// SPDX-License-Identifier: Apache-2.0
// Streaming JSON writer; see jsonw.h.
#include "base/jsonw.h"

#include <string.h>

#include "base/error.h"

/* The slow path: grow the buffer (or fail at its cap). */
static void
put_slow(struct jsonw *w, const void *p, size_t n)
{
    int rc = buf_append(w->out, p, n);
    if (rc < 0)
        w->err = rc;
}

/* Appends n bytes. The NUL that struct buf keeps after its bytes is written by jsonw_end. */
static inline void
put(struct jsonw *w, const void *p, size_t n)
{
    struct buf *b = w->out;
    if (w->err)
        return;
    if (b->cap - b->len > n) {
        memcpy(b->ptr + b->len, p, n);
        b->len += n;
        return;
    }
    put_slow(w, p, n);
}

static inline void
put_c(struct jsonw *w, char c)
{
    put(w, &c, 1);
}

/* Before a value: a comma if a sibling came before, unless the value follows its key. */
static void
value_prefix(struct jsonw *w)
{
    if (w->after_key) {
        w->after_key = false;
        return;
    }
    if (w->depth > 0) {
        if (w->need_comma[w->depth - 1])
            put_c(w, ',');
        w->need_comma[w->depth - 1] = true;
    }
}

void
jsonw_begin(struct jsonw *w, struct buf *out)
{
    w->out = out;
    w->start_len = out->len;
    w->depth = 0;
    w->err = 0;
    w->after_key = false;
    w->need_comma[0] = false;
}

int
jsonw_end(struct jsonw *w)
{
    if (!w->err && w->depth != 0)
        w->err = IASO_E_INVAL;
    if (w->err)
        w->out->len = w->start_len;
    if (w->out->ptr)
        w->out->ptr[w->out->len] = 0;
    return w->err;
}

static void
open_(struct jsonw *w, char c)
{
    value_prefix(w);
    if (w->depth >= JSONW_MAX_DEPTH) {
        w->err = IASO_E_LIMIT;
        return;
    }
    put_c(w, c);
    w->need_comma[w->depth++] = false;
}

static void
close_(struct jsonw *w, char c)
{
    if (w->depth <= 0) {
        w->err = IASO_E_INVAL;
        return;
    }
    w->depth--;
    put_c(w, c);
}

void
jsonw_object_begin(struct jsonw *w)
{
    open_(w, '{');
}

void
jsonw_object_end(struct jsonw *w)
{
    close_(w, '}');
}

void
jsonw_array_begin(struct jsonw *w)
{
    open_(w, '[');
}

void
jsonw_array_end(struct jsonw *w)
{
    close_(w, ']');
}

void
jsonw_key_quoted(struct jsonw *w, const char *quoted, size_t len)
{
    value_prefix(w);
    put(w, quoted, len);
    w->after_key = true;
}

void
jsonw_key_str(struct jsonw *w, const char *key)
{
    value_prefix(w);
    put_c(w, '"');
    put(w, key, strlen(key));
    put(w, "\":", 2);
    w->after_key = true;
}

/* Bytes that go into a JSON string as they are: printable ASCII but '"' and '\\'. A table,
 * because this loop runs over every string of every event. */
static const uint8_t plain[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};

void
jsonw_strn(struct jsonw *w, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    value_prefix(w);
    put_c(w, '"');
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, run = 0;
    while (i < len) {
        unsigned char c = p[i];
        if (plain[c]) {
            i++;
            run++;
            continue;
        }
        put(w, p + i - run, run);
        run = 0;
        if (c < 0x80) {
            char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            if (c == '"' || c == '\\') {
                char e2[2] = {'\\', (char)c};
                put(w, e2, 2);
            } else if (c == '\n') {
                put(w, "\\n", 2);
            } else if (c == '\r') {
                put(w, "\\r", 2);
            } else if (c == '\t') {
                put(w, "\\t", 2);
            } else {
                put(w, esc, 6);
            }
            i++;
            continue;
        }
        /* A multi-byte UTF-8 sequence: copy it if well-formed, else write U+FFFD. */
        size_t n = c >= 0xf0 && c <= 0xf4 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 && c <= 0xdf ? 2 : 0;
        bool ok = n > 0 && i + n <= len;
        for (size_t k = 1; ok && k < n; k++)
            ok = (p[i + k] & 0xc0) == 0x80;
        if (ok && n == 3) {
            unsigned cp = (c & 0x0fu) << 12 | (p[i + 1] & 0x3fu) << 6;
            ok = cp >= 0x800 && (cp < 0xd800 || cp > 0xdfff);
        } else if (ok && n == 4) {
            unsigned cp = (c & 0x07u) << 18 | (p[i + 1] & 0x3fu) << 12;
            ok = cp >= 0x10000 && cp <= 0x10ffff;
        }
        if (ok) {
            put(w, p + i, n);
            i += n;
        } else {
            put(w, "\xef\xbf\xbd", 3);
            i++;
        }
    }
    put(w, p + i - run, run);
    put_c(w, '"');
}

void
jsonw_str(struct jsonw *w, const char *s)
{
    jsonw_strn(w, s, strlen(s));
}

void
jsonw_u64(struct jsonw *w, uint64_t v)
{
    char tmp[24];
    size_t n = 0;
    do {
        tmp[sizeof(tmp) - 1 - n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    value_prefix(w);
    put(w, tmp + sizeof(tmp) - n, n);
}

void
jsonw_i64(struct jsonw *w, int64_t v)
{
    if (v >= 0) {
        jsonw_u64(w, (uint64_t)v);
        return;
    }
    value_prefix(w);
    put_c(w, '-');
    /* The minus sign is placed; write the magnitude as a value of its own, comma-free. */
    w->after_key = true;
    jsonw_u64(w, (uint64_t)0 - (uint64_t)v);
}

void
jsonw_bool(struct jsonw *w, bool v)
{
    value_prefix(w);
    put(w, v ? "true" : "false", v ? 4 : 5);
}

void
jsonw_null(struct jsonw *w)
{
    value_prefix(w);
    put(w, "null", 4);
}

void
jsonw_raw(struct jsonw *w, const char *json, size_t len)
{
    value_prefix(w);
    put(w, json, len);
}

void
jsonw_raw_members(struct jsonw *w, const char *members, size_t len)
{
    if (len == 0)
        return;
    value_prefix(w); /* the comma before the first member, if a member came before */
    put(w, members, len);
}
