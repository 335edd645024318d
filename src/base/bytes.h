// SPDX-License-Identifier: Apache-2.0
// Borrowed byte views and a bounds-checked cursor for reading wire data.
//
// A cursor never reads past its end. A read that does not fit sets the sticky `err` flag and
// returns 0; every later read returns 0 too, so a decoder can read a whole header and check
// `cur.err` once. Multi-byte reads convert to host order.
#ifndef IASO_BASE_BYTES_H
#define IASO_BASE_BYTES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Borrowed bytes: never outlive what `ptr` points into. */
struct bytes {
    const uint8_t *ptr;
    size_t len;
};

static inline struct bytes
bytes_make(const void *ptr, size_t len)
{
    struct bytes b = {(const uint8_t *)ptr, len};
    return b;
}

static inline bool
bytes_eq(struct bytes a, struct bytes b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

struct cursor {
    const uint8_t *ptr; /* borrowed */
    size_t len;
    size_t off;
    bool err;
};

static inline void
cursor_init(struct cursor *c, const void *ptr, size_t len)
{
    c->ptr = (const uint8_t *)ptr;
    c->len = len;
    c->off = 0;
    c->err = false;
}

static inline size_t
cursor_left(const struct cursor *c)
{
    return c->err ? 0 : c->len - c->off;
}

static inline bool
cursor_need(struct cursor *c, size_t n)
{
    if (c->err || c->len - c->off < n) {
        c->err = true;
        return false;
    }
    return true;
}

static inline const uint8_t *
cursor_pos(const struct cursor *c)
{
    return c->ptr + c->off;
}

static inline uint8_t
cursor_u8(struct cursor *c)
{
    if (!cursor_need(c, 1))
        return 0;
    return c->ptr[c->off++];
}

static inline uint16_t
cursor_be16(struct cursor *c)
{
    if (!cursor_need(c, 2))
        return 0;
    const uint8_t *p = c->ptr + c->off;
    c->off += 2;
    return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static inline uint32_t
cursor_be32(struct cursor *c)
{
    if (!cursor_need(c, 4))
        return 0;
    const uint8_t *p = c->ptr + c->off;
    c->off += 4;
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline uint16_t
cursor_le16(struct cursor *c)
{
    if (!cursor_need(c, 2))
        return 0;
    const uint8_t *p = c->ptr + c->off;
    c->off += 2;
    return (uint16_t)(p[0] | (unsigned)p[1] << 8);
}

static inline uint32_t
cursor_le32(struct cursor *c)
{
    if (!cursor_need(c, 4))
        return 0;
    const uint8_t *p = c->ptr + c->off;
    c->off += 4;
    return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t
cursor_le64(struct cursor *c)
{
    uint64_t lo = cursor_le32(c);
    uint64_t hi = cursor_le32(c);
    return lo | hi << 32;
}

/* Skips n bytes; sets err if they are not there. */
static inline bool
cursor_skip(struct cursor *c, size_t n)
{
    if (!cursor_need(c, n))
        return false;
    c->off += n;
    return true;
}

/* Borrows the next n bytes; an empty view and err if they are not there. */
static inline struct bytes
cursor_take(struct cursor *c, size_t n)
{
    struct bytes b = {NULL, 0};
    if (!cursor_need(c, n))
        return b;
    b.ptr = c->ptr + c->off;
    b.len = n;
    c->off += n;
    return b;
}

/* Copies n bytes out; zero-fills `out` and sets err if they are not there. */
static inline bool
cursor_copy(struct cursor *c, void *out, size_t n)
{
    if (!cursor_need(c, n)) {
        memset(out, 0, n);
        return false;
    }
    memcpy(out, c->ptr + c->off, n);
    c->off += n;
    return true;
}

/* Reads big-endian helpers over a raw pointer that the caller has bounds-checked. */
static inline uint16_t
load_be16(const uint8_t *p)
{
    return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static inline uint32_t
load_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

#endif
