// SPDX-License-Identifier: Apache-2.0
// A small streaming JSON writer into a struct buf, for output on the hot path (EVE events,
// metrics): no tree, no allocation beyond the buffer's, commas placed for the caller. Nesting is
// capped at JSONW_MAX_DEPTH; writes past the buffer's cap set `err` and are dropped whole by the
// caller (jsonw_end reports it).
#ifndef IASO_BASE_JSONW_H
#define IASO_BASE_JSONW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"

#define JSONW_MAX_DEPTH 16

struct jsonw {
    struct buf *out;  /* borrowed */
    size_t start_len; /* where this value began, to roll back on error */
    int depth;
    bool need_comma[JSONW_MAX_DEPTH]; /* a sibling came before at this depth */
    bool after_key;                   /* the next value belongs to a key just written */
    int err;
};

/* Starts a value (usually an object: call jsonw_object_begin next) at the end of out. */
void jsonw_begin(struct jsonw *w, struct buf *out);
/* Finishes: returns 0, or the first error, in which case out is rolled back to where it was. */
int jsonw_end(struct jsonw *w);

void jsonw_object_begin(struct jsonw *w);
void jsonw_object_end(struct jsonw *w);
void jsonw_array_begin(struct jsonw *w);
void jsonw_array_end(struct jsonw *w);
/* A key inside an object; the next value call writes its value. `key` is trusted ASCII that
 * needs no escaping. jsonw_key takes a string literal and costs one copy; jsonw_key_str any
 * string. */
#define jsonw_key(w, key) jsonw_key_quoted((w), "\"" key "\":", sizeof(key) + 2)
void jsonw_key_str(struct jsonw *w, const char *key);
/* The key already quoted and followed by a colon: "\"name\":". */
void jsonw_key_quoted(struct jsonw *w, const char *quoted, size_t len);
void jsonw_str(struct jsonw *w, const char *s);
/* Any bytes: escaped, invalid UTF-8 replaced by U+FFFD. */
void jsonw_strn(struct jsonw *w, const char *s, size_t len);
void jsonw_u64(struct jsonw *w, uint64_t v);
void jsonw_i64(struct jsonw *w, int64_t v);
void jsonw_bool(struct jsonw *w, bool v);
void jsonw_null(struct jsonw *w);
/* Raw JSON text the caller vouches for. */
void jsonw_raw(struct jsonw *w, const char *json, size_t len);
/* Raw object members ("a":1,"b":2) the caller vouches for, placed as if written one by one. */
void jsonw_raw_members(struct jsonw *w, const char *members, size_t len);

#endif
