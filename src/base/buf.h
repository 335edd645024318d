// SPDX-License-Identifier: Apache-2.0
// A growable byte buffer with a hard cap. Appends that would pass the cap fail with
// IASO_E_LIMIT and leave the buffer as it was, so a caller can count the drop and go on.
#ifndef IASO_BASE_BUF_H
#define IASO_BASE_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

struct buf {
    uint8_t *ptr; /* owned; NUL-terminated when len < cap */
    size_t len;
    size_t cap;
    size_t max; /* hard cap on len; 0 means SIZE_MAX / 2 */
};

void buf_init(struct buf *b, size_t max);
void buf_release(struct buf *b);
static inline void
buf_reset(struct buf *b)
{
    b->len = 0;
    if (b->ptr)
        b->ptr[0] = 0;
}

/* Makes room for n more bytes. 0, IASO_E_LIMIT or IASO_E_NOMEM. */
int buf_reserve(struct buf *b, size_t n);
int buf_append(struct buf *b, const void *data, size_t n);
int buf_append_str(struct buf *b, const char *s);
int buf_append_char(struct buf *b, char c);
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int buf_vprintf(struct buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

/* Drops the first n bytes, moving the rest to the front. */
void buf_consume(struct buf *b, size_t n);

#endif
