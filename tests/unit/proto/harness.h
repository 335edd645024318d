// SPDX-License-Identifier: Apache-2.0
// Shared by the parser tests: runs a parser over a conversation and renders its events as JSON
// lines ({"kind":K,"dir":D,"<name>":{...}}), so tests compare readable text. harness_run feeds
// the same conversation whole, one byte at a time, and in 7-byte pieces, and fails the test if
// the events differ: every parser must resume at any byte boundary.
#ifndef IASO_TESTS_PROTO_HARNESS_H
#define IASO_TESTS_PROTO_HARNESS_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/jsonw.h"
#include "proto/proto.h"

/* One message of a conversation: bytes sent in direction dir. */
struct harness_msg {
    int dir;
    const void *data;
    size_t len;
};

struct harness {
    const struct proto_parser *parser;
    void *state;
    struct phi phi;
    struct proto_ctx ctx;
    struct buf out; /* the events, one JSON line each */
    int n_events;
    int rc; /* first negative parse() result */
};

static inline void
harness_emit(void *user, const struct proto_event *ev)
{
    struct harness *h = user;
    struct jsonw w;
    jsonw_begin(&w, &h->out);
    jsonw_object_begin(&w);
    jsonw_key(&w, "kind");
    jsonw_i64(&w, ev->kind);
    jsonw_key(&w, "dir");
    jsonw_i64(&w, ev->dir);
    jsonw_key_str(&w, h->parser->name);
    jsonw_object_begin(&w);
    h->parser->eve(ev, &w);
    jsonw_object_end(&w);
    jsonw_object_end(&w);
    assert_int_equal(jsonw_end(&w), 0);
    buf_append_char(&h->out, '\n');
    h->n_events++;
}

static inline void
harness_begin(struct harness *h, const struct proto_parser *p)
{
    memset(h, 0, sizeof(*h));
    h->parser = p;
    h->state = calloc(1, p->state_len ? p->state_len : 1);
    assert_non_null(h->state);
    if (p->init)
        p->init(h->state);
    phi_init_test(&h->phi, 0x42);
    h->ctx.emit = harness_emit;
    h->ctx.user = h;
    h->ctx.phi = &h->phi;
    h->ctx.udp = false; /* a test of a UDP parser sets it to feed datagrams */
    buf_init(&h->out, 0);
    buf_append_str(&h->out, ""); /* so out.ptr is a string even with no events */
}

/* Feeds bytes in pieces of `chunk` (0: all at once). */
static inline void
harness_feed(struct harness *h, int dir, const void *data, size_t len, size_t chunk)
{
    const uint8_t *p = data;
    if (chunk == 0)
        chunk = len ? len : 1;
    for (size_t off = 0; off < len && h->rc == 0; off += chunk) {
        size_t n = len - off < chunk ? len - off : chunk;
        int rc = h->parser->parse(h->state, &h->ctx, dir, p + off, n, 1000 + off);
        if (rc < 0)
            h->rc = rc;
    }
}

/* Ends the flow; h->out stays for the caller, who calls harness_release(). */
static inline void
harness_end(struct harness *h)
{
    h->parser->end(h->state, &h->ctx, 999999);
    free(h->state);
    h->state = NULL;
}

static inline void
harness_release(struct harness *h)
{
    buf_release(&h->out);
}

/*
 * Runs the conversation three ways and checks they agree, with ctx.file_hashes set to
 * file_hashes (PROTO_HASH_* bits). Returns the events as a malloc'd string (free it) and sets
 * *n_events and *rc (the first negative parse() result, or 0).
 */
static inline char *
harness_run_hashes(const struct proto_parser *p, const struct harness_msg *msgs, size_t n_msgs,
                   uint8_t file_hashes, int *n_events, int *rc)
{
    static const size_t chunks[] = {0, 1, 7};
    char *first = NULL;
    for (size_t k = 0; k < sizeof(chunks) / sizeof(chunks[0]); k++) {
        struct harness h;
        harness_begin(&h, p);
        h.ctx.file_hashes = file_hashes;
        for (size_t i = 0; i < n_msgs; i++)
            harness_feed(&h, msgs[i].dir, msgs[i].data, msgs[i].len, chunks[k]);
        harness_end(&h);
        if (!first) {
            first = strdup((const char *)h.out.ptr);
            *n_events = h.n_events;
            *rc = h.rc;
        } else {
            /* The same events whatever the split. */
            assert_string_equal((const char *)h.out.ptr, first);
            assert_int_equal(h.rc < 0, *rc < 0);
        }
        harness_release(&h);
    }
    return first;
}

/* harness_run_hashes without file digests (ctx.file_hashes 0, as a zeroed ctx has). */
static inline char *
harness_run(const struct proto_parser *p, const struct harness_msg *msgs, size_t n_msgs,
            int *n_events, int *rc)
{
    return harness_run_hashes(p, msgs, n_msgs, 0, n_events, rc);
}

#endif
