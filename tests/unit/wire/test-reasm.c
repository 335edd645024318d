// SPDX-License-Identifier: Apache-2.0
// Unit tests for TCP stream reassembly: each test feeds segments and compares what the callbacks
// produced, per direction, against the exact expected stream. A gap shows in the stream as
// "[gap N]", so one string says both what was delivered and where the holes were.
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "wire/decode.h"
#include "wire/reasm.h"

#define OUT_MAX 4096

struct sink {
    char out[2][OUT_MAX];
    size_t len[2];
    int n_data[2]; /* data callbacks, to see zero-copy delivery in one piece */
    void *flow_seen;
};

static void
sink_put(struct sink *k, int dir, const void *p, size_t len)
{
    assert_true(k->len[dir] + len < OUT_MAX);
    memcpy(k->out[dir] + k->len[dir], p, len);
    k->len[dir] += len;
    k->out[dir][k->len[dir]] = '\0';
}

static void
on_data(void *user, void *flow, int dir, const uint8_t *data, uint32_t len, uint64_t ts_us)
{
    struct sink *k = user;
    (void)ts_us;
    assert_true(dir == 0 || dir == 1);
    assert_true(len > 0);
    k->flow_seen = flow;
    k->n_data[dir]++;
    sink_put(k, dir, data, len);
}

static void
on_gap(void *user, void *flow, int dir, uint32_t len, uint64_t ts_us)
{
    struct sink *k = user;
    char text[32];
    (void)ts_us;
    assert_true(len > 0);
    k->flow_seen = flow;
    int n = snprintf(text, sizeof(text), "[gap %u]", len);
    sink_put(k, dir, text, (size_t)n);
}

static const struct reasm_ops ops = {on_data, on_gap};

struct fixture {
    struct reasm r;
    struct reasm_stream s;
    struct sink k;
};

static int flow_token; /* its address is the flow pointer handed through */

static void
fx_init(struct fixture *fx, uint32_t max_dir, uint64_t max_total, uint32_t max_segs)
{
    memset(fx, 0, sizeof(*fx));
    struct reasm_config cfg = {
        .max_dir_bytes = max_dir, .max_total_bytes = max_total, .max_dir_segs = max_segs};
    reasm_init(&fx->r, &cfg, &ops, &fx->k);
    reasm_stream_init(&fx->s);
}

static void
fx_done(struct fixture *fx)
{
    reasm_stream_release(&fx->r, &fx->s);
    assert_int_equal(fx->r.stats.held_len, 0);
    reasm_release(&fx->r);
}

/* One segment of a string payload. */
static void
seg(struct fixture *fx, int dir, uint8_t flags, uint32_t seq, uint32_t ack, const char *data)
{
    reasm_segment(&fx->r, &fx->s, &flow_token, dir, flags, seq, ack, (const uint8_t *)data,
                  (uint32_t)strlen(data), 0);
}

/* Opens both directions with SYNs at ISNs 99 and 499: data starts at 100 and 500. */
static void
handshake(struct fixture *fx)
{
    seg(fx, 0, TCP_SYN, 99, 0, "");
    seg(fx, 1, TCP_SYN | TCP_ACK, 499, 100, "");
    seg(fx, 0, TCP_ACK, 100, 500, "");
}

static void
test_in_order(void **state)
{
    (void)state;
    struct fixture fx;
    fx_init(&fx, 1024, 4096, 0);
    handshake(&fx);
    seg(&fx, 0, TCP_ACK | TCP_PSH, 100, 500, "hello");
    seg(&fx, 0, TCP_ACK | TCP_PSH, 105, 500, " world");
    assert_string_equal(fx.k.out[0], "hello world");
    assert_int_equal(fx.k.n_data[0], 2);
    assert_ptr_equal(fx.k.flow_seen, &flow_token);
    assert_int_equal(fx.r.stats.n_segments, 2);
    assert_int_equal(fx.r.stats.bytes_delivered, 11);
    assert_int_equal(fx.r.stats.n_out_of_order, 0);
    assert_int_equal(fx.r.stats.held_len_max, 0);
    assert_int_equal(fx.k.len[1], 0);
    fx_done(&fx);
}

static void
test_reversed(void **state)
{
    (void)state;
    struct fixture fx;
    fx_init(&fx, 1024, 4096, 0);
    handshake(&fx);
    seg(&fx, 0, 0, 112, 0, "mno");
    seg(&fx, 0, 0, 109, 0, "jkl");
    seg(&fx, 0, 0, 106, 0, "ghi");
    seg(&fx, 0, 0, 103, 0, "def");
    assert_int_equal(fx.k.len[0], 0);
    assert_int_equal(fx.s.dir[0].held_len, 12);
    assert_int_equal(fx.s.dir[0].n_segs, 4);
    assert_int_equal(fx.r.stats.held_len, 12);
    seg(&fx, 0, 0, 100, 0, "abc");
    assert_string_equal(fx.k.out[0], "abcdefghijklmno");
    assert_int_equal(fx.r.stats.n_out_of_order, 4);
    assert_int_equal(fx.r.stats.held_len, 0);
    assert_int_equal(fx.r.stats.held_len_max, 12);
    assert_int_equal(fx.s.dir[0].n_segs, 0);
    assert_int_equal(fx.r.stats.n_gaps, 0);
    fx_done(&fx);
}

static void
test_interleaved(void **state)
{
    (void)state;
    struct fixture fx;
    fx_init(&fx, 1024, 4096, 0);
    handshake(&fx);
    seg(&fx, 0, TCP_ACK, 104, 500, "EFGH");
    seg(&fx, 1, TCP_ACK, 503, 100, "de");
    seg(&fx, 0, TCP_ACK, 100, 500, "ABCD");
    seg(&fx, 1, TCP_ACK, 500, 108, "abc");
    seg(&fx, 0, TCP_ACK, 108, 505, "IJ");
    seg(&fx, 1, TCP_ACK, 505, 110, "f");
    assert_string_equal(fx.k.out[0], "ABCDEFGHIJ");
    assert_string_equal(fx.k.out[1], "abcdef");
    assert_int_equal(fx.r.stats.n_out_of_order, 2);
    assert_int_equal(fx.r.stats.n_gaps, 0);
    fx_done(&fx);
}

static void
test_retransmissions(void **state)
{
    (void)state;
    struct fixture fx;
    fx_init(&fx, 1024, 4096, 0);
    handshake(&fx);
    seg(&fx, 0, 0, 100, 0, "abcd");
    seg(&fx, 0, 0, 100, 0, "abcd"); /* delivered already */
    seg(&fx, 0, 0, 102, 0, "cd");   /* inside delivered bytes */
    seg(&fx, 0, 0, 108, 0, "ijk");
    seg(&fx, 0, 0, 108, 0, "ijk"); /* held already */
    seg(&fx, 0, 0, 109, 0, "j");   /* inside a held segment */
    assert_int_equal(fx.r.stats.n_retransmissions, 4);
    assert_int_equal(fx.r.stats.n_overlaps, 0);
    assert_int_equal(fx.r.stats.n_overlap_diff, 0);
    assert_int_equal(fx.s.dir[0].held_len, 3);
    seg(&fx, 0, 0, 104, 0, "efgh");
    assert_string_equal(fx.k.out[0], "abcdefghijk");
    assert_int_equal(fx.r.stats.n_segments, 7);
    fx_done(&fx);
}

static void
test_overlap_same_bytes(void **state)
{
    (void)state;
    struct fixture fx;
    fx_init(&fx, 1024, 4096, 0);
    handshake(&fx);
    seg(&fx, 0, 0, 100, 0, "abcdef");
    seg(&fx, 0, 0, 103, 0, "defghi"); /* front trimmed against delivered bytes */
    seg(&fx, 0, 0, 112, 0, "mnop");
    seg(&fx, 0, 0, 110, 0, "klmn"); /* tail overlaps held bytes, same */
    seg(&fx, 0, 0, 109, 0, "j");
    assert_string_equal(fx.k.out[0], "abcdefghijklmnop");
    assert_int_equal(fx.r.stats.n_overlaps, 2);
    assert_int_equal(fx.r.stats.n_overlap_diff, 0);
    assert_int_equal(fx.r.stats.n_retransmissions, 0);
    fx_done(&fx);
}

static void
test_overlap_diff_first_wins(void **state)
{
    (void)state;
    struct fixture fx;
    fx_init(&fx, 1024, 4096, 0);
    handshake(&fx);
    seg(&fx, 0, 0, 104, 0, "efgh");
    seg(&fx, 0, 0, 102, 0, "cdXXXXij"); /* covers the held segment, with other bytes */
    assert_int_equal(fx.r.stats.n_overlap_diff, 1);
    assert_int_equal(fx.r.stats.n_overlaps, 1);
    seg(&fx, 0, 0, 100, 0, "ab");
    assert_string_equal(fx.k.out[0], "abcdefghij");

    /* In order data whose tail runs into a held segment: held bytes win. */
    seg(&fx, 0, 0, 112, 0, "mn");
    seg(&fx, 0, 0, 110, 0, "klZZop");
    assert_string_equal(fx.k.out[0], "abcdefghijklmnop");
    assert_int_equal(fx.r.stats.n_overlap_diff, 2);
    /* A full retransmission of held bytes with other bytes is a retransmission and a diff. */
    seg(&fx, 0, 0, 120, 0, "uv");
    seg(&fx, 0, 0, 120, 0, "UV");
    assert_int_equal(fx.r.stats.n_overlap_diff, 3);
    assert_int_equal(fx.r.stats.n_retransmissions, 1);
    seg(&fx, 0, 0, 116, 0, "qrst");
    assert_string_equal(fx.k.out[0], "abcdefghijklmnopqrstuv");
    fx_done(&fx);
}

static void
test_split_around_held(void **state)
{
    (void)state;
    struct fixture fx;
    fx_init(&fx, 1024, 4096, 0);
    handshake(&fx);
    /* Held: [104,106) "ef", [108,110) "ij", [112,114) "mn". */
    seg(&fx, 0, 0, 104, 0, "ef");
    seg(&fx, 0, 0, 108, 0, "ij");
    seg(&fx, 0, 0, 112, 0, "mn");
    /* Fills the holes between them and extends past the last; still ahead of 100. */
    seg(&fx, 0, 0, 103, 0, "dEFghIJklMNop");
    assert_int_equal(fx.s.dir[0].n_segs, 7);
    assert_int_equal(fx.s.dir[0].held_len, 13);
    assert_int_equal(fx.r.stats.n_overlap_diff, 1);
    seg(&fx, 0, 0, 100, 0, "abc");
    assert_string_equal(fx.k.out[0], "abcdefghijklmnop");
    assert_int_equal(fx.s.dir[0].n_segs, 0);

    /* The same, arriving in order: delivered from the packet around the held pieces. */
    seg(&fx, 0, 0, 120, 0, "uv");
    seg(&fx, 0, 0, 124, 0, "yz");
    seg(&fx, 0, 0, 116, 0, "qrstUVwxYZ");
    assert_string_equal(fx.k.out[0], "abcdefghijklmnopqrstuvwxyz");
    assert_int_equal(fx.s.dir[0].held_len, 0);
    fx_done(&fx);
}

static void
test_ack_declares_gap(void **state)
{
    (void)state;
    struct fixture fx;
    fx_init(&fx, 1024, 4096, 0);
    handshake(&fx);
    seg(&fx, 0, 0, 100, 0, "abc");
    seg(&fx, 0, 0, 106, 0, "ghi");
    /* Without the ACK flag the number means nothing. */
    seg(&fx, 1, 0, 500, 109, "");
    assert_string_equal(fx.k.out[0], "abc");
    /* The server acknowledges 109: bytes 103..105 reached it, not us. */
    seg(&fx, 1, TCP_ACK, 500, 109, "");
    assert_string_equal(fx.k.out[0], "abc[gap 3]ghi");
    assert_int_equal(fx.r.stats.n_gaps, 1);
    assert_int_equal(fx.r.stats.gap_bytes, 3);
    /* Acknowledging past held data: gap, data, gap. */
    seg(&fx, 0, 0, 112, 0, "mn");
    seg(&fx, 1, TCP_ACK, 500, 117, "");
    assert_string_equal(fx.k.out[0], "abc[gap 3]ghi[gap 3]mn[gap 3]");
    assert_int_equal(fx.r.stats.gap_bytes, 9);
    assert_int_equal(fx.s.dir[0].next_seq, 117);
    /* An ACK behind next_seq changes nothing; data lost before it now counts as retransmitted. */
    seg(&fx, 1, TCP_ACK, 500, 110, "");
    seg(&fx, 0, 0, 114, 0, "opq");
    assert_int_equal(fx.r.stats.n_retransmissions, 1);
    assert_string_equal(fx.k.out[0], "abc[gap 3]ghi[gap 3]mn[gap 3]");
    /* Its data is delivered before the acknowledging segment's own. */
    seg(&fx, 0, 0, 118, 0, "s");
    seg(&fx, 1, TCP_ACK, 500, 119, "reply");
    assert_string_equal(fx.k.out[0], "abc[gap 3]ghi[gap 3]mn[gap 3][gap 1]s");
    assert_string_equal(fx.k.out[1], "reply");
    fx_done(&fx);
}

static void
test_ack_of_fin_is_no_gap(void **state)
{
    (void)state;
    struct fixture fx;
    fx_init(&fx, 1024, 4096, 0);
    handshake(&fx);
    seg(&fx, 0, TCP_ACK | TCP_FIN, 100, 500, "bye");
    seg(&fx, 1, TCP_ACK, 500, 104, ""); /* 103 + 1 for the FIN */
    assert_string_equal(fx.k.out[0], "bye");
    assert_int_equal(fx.r.stats.n_gaps, 0);
    /* The SYN's sequence number is not a gap either: handshake() acked 100 and 500. */
    assert_int_equal(fx.k.len[1], 0);
    fx_done(&fx);
}

static void
test_dir_cap_forces_flush(void **state)
{
    (void)state;
    struct fixture fx;
    fx_init(&fx, 8, 4096, 0);
    handshake(&fx);
    seg(&fx, 0, 0, 102, 0, "cde");
    seg(&fx, 0, 0, 106, 0, "ghi");
    assert_int_equal(fx.s.dir[0].held_len, 6);
    /* 6 + 3 > 8: the holes before 110 become gaps, and "klm" follows straight on. */
    seg(&fx, 0, 0, 110, 0, "klm");
    assert_string_equal(fx.k.out[0], "[gap 2]cde[gap 1]ghi[gap 1]klm");
    assert_int_equal(fx.r.stats.n_dir_cap, 1);
    assert_int_equal(fx.r.stats.n_memcap, 0);
    assert_int_equal(fx.s.dir[0].held_len, 0);
    assert_int_equal(fx.r.stats.held_len_max, 6);

    /* Held data past the new segment stays held. */
    seg(&fx, 0, 0, 120, 0, "uvwxyz");
    seg(&fx, 0, 0, 115, 0, "pqr");
    assert_string_equal(fx.k.out[0], "[gap 2]cde[gap 1]ghi[gap 1]klm[gap 2]pqr");
    assert_int_equal(fx.s.dir[0].held_len, 6);
    assert_int_equal(fx.r.stats.n_dir_cap, 2);

    /* A segment bigger than the cap alone is delivered after the gap before it. */
    seg(&fx, 0, 0, 130, 0, "0123456789");
    assert_string_equal(fx.k.out[0],
                        "[gap 2]cde[gap 1]ghi[gap 1]klm[gap 2]pqr[gap 2]uvwxyz[gap 4]0123456789");
    assert_int_equal(fx.r.stats.n_dir_cap, 3);
    fx_done(&fx);
}

static void
test_seg_count_cap(void **state)
{
    (void)state;
    struct fixture fx;
    fx_init(&fx, 1024, 4096, 2);
    handshake(&fx);
    seg(&fx, 0, 0, 101, 0, "b");
    seg(&fx, 0, 0, 103, 0, "d");
    seg(&fx, 0, 0, 105, 0, "f");
    assert_string_equal(fx.k.out[0], "[gap 1]b[gap 1]d[gap 1]f");
    assert_int_equal(fx.r.stats.n_dir_cap, 1);
    assert_int_equal(fx.s.dir[0].n_segs, 0);
    fx_done(&fx);
}

static void
test_memcap_two_streams(void **state)
{
    (void)state;
    struct fixture a, b;
    fx_init(&a, 1024, 10, 0);
    fx_init(&b, 1024, 10, 0);
    /* Both streams in one reassembler: b's stream is driven through a's. */
    handshake(&a);
    seg(&a, 0, 0, 110, 0, "01234567");
    assert_int_equal(a.r.stats.held_len, 8);
    reasm_segment(&a.r, &b.s, &flow_token, 0, 0, 1000, 0, (const uint8_t *)"x", 1, 0);
    reasm_segment(&a.r, &b.s, &flow_token, 0, 0, 1005, 0, (const uint8_t *)"yyy", 3, 0);
    /* 8 + 3 > 10: b gives up its hole rather than hold. */
    assert_string_equal(a.k.out[0], "x[gap 4]yyy");
    assert_int_equal(a.r.stats.n_memcap, 1);
    assert_int_equal(a.r.stats.n_dir_cap, 0);
    assert_int_equal(a.r.stats.held_len, 8);
    reasm_segment(&a.r, &b.s, &flow_token, 0, 0, 1010, 0, (const uint8_t *)"zz", 2, 0);
    assert_int_equal(a.r.stats.held_len, 10);
    assert_int_equal(a.r.stats.held_len_max, 10);
    /* Releasing a frees room for b. */
    reasm_stream_release(&a.r, &a.s);
    assert_int_equal(a.r.stats.held_len, 2);
    reasm_segment(&a.r, &b.s, &flow_token, 0, 0, 1020, 0, (const uint8_t *)"0123456", 7, 0);
    assert_int_equal(a.r.stats.held_len, 9);
    assert_int_equal(a.r.stats.n_memcap, 1);
    reasm_stream_flush(&a.r, &b.s, &flow_token, 0);
    assert_string_equal(a.k.out[0], "x[gap 4]yyy[gap 2]zz[gap 8]0123456");
    reasm_stream_release(&a.r, &b.s);
    fx_done(&a);
    fx_done(&b);
}

static void
test_fin_then_data(void **state)
{
    (void)state;
    struct fixture fx;
    fx_init(&fx, 1024, 4096, 0);
    handshake(&fx);
    seg(&fx, 0, 0, 108, 0, "ijkl"); /* held, partly past the FIN to come */
    seg(&fx, 0, 0, 120, 0, "uv");   /* held, wholly past it */
    seg(&fx, 0, TCP_FIN, 100, 0, "abcdefghij");
    seg(&fx, 0, TCP_FIN, 100, 0, ""); /* a second FIN, earlier: the first stands */
    seg(&fx, 0, 0, 112, 0, "mnop");   /* wholly past the FIN */
    seg(&fx, 0, 0, 100, 0, "abcdefghijkl");
    reasm_stream_flush(&fx.r, &fx.s, &flow_token, 0);
    assert_string_equal(fx.k.out[0], "abcdefghij");
    assert_int_equal(fx.r.stats.n_after_fin, 4);
    assert_int_equal(fx.r.stats.n_retransmissions, 1);
    assert_int_equal(fx.r.stats.n_overlaps, 1); /* the FIN's data ran into "ij" */
    assert_int_equal(fx.r.stats.n_overlap_diff, 0);
    assert_int_equal(fx.s.dir[0].held_len, 0);
    assert_int_equal(fx.r.stats.held_len, 0);
    fx_done(&fx);
}

static void
test_syn_isn(void **state)
{
    (void)state;
    struct fixture fx;
    fx_init(&fx, 1024, 4096, 0);
    seg(&fx, 0, TCP_SYN, 1000, 0, "");
    seg(&fx, 0, TCP_SYN, 2000, 0, ""); /* retransmitted with a new ISN: the newest wins */
    assert_int_equal(fx.s.dir[0].next_seq, 2001);
    seg(&fx, 0, 0, 2001, 0, "GET /");
    seg(&fx, 0, TCP_SYN, 3000, 0, ""); /* after data: ignored */
    seg(&fx, 0, 0, 2006, 0, " HTTP/1.1");
    /* Data on a SYN starts after it (TCP Fast Open). */
    seg(&fx, 1, TCP_SYN | TCP_ACK, 7000, 2001, "hi");
    assert_string_equal(fx.k.out[0], "GET / HTTP/1.1");
    assert_string_equal(fx.k.out[1], "hi");
    assert_int_equal(fx.s.dir[1].next_seq, 7003);
    assert_int_equal(fx.r.stats.n_gaps, 0);
    fx_done(&fx);
}

static void
test_midstream(void **state)
{
    (void)state;
    struct fixture fx;
    fx_init(&fx, 1024, 4096, 0);
    seg(&fx, 1, TCP_ACK, 90000, 5000, "200 OK"); /* dir 0 unknown yet: the ACK is ignored */
    seg(&fx, 0, TCP_ACK, 5000, 90006, "next");
    seg(&fx, 0, TCP_ACK, 4990, 90006, "0123456789"); /* before the pickup point */
    seg(&fx, 0, TCP_ACK, 5004, 90006, " one");
    assert_string_equal(fx.k.out[0], "next one");
    assert_string_equal(fx.k.out[1], "200 OK");
    assert_int_equal(fx.r.stats.n_retransmissions, 1);
    assert_int_equal(fx.r.stats.n_gaps, 0);
    fx_done(&fx);
}

static void
test_wraparound(void **state)
{
    (void)state;
    struct fixture fx;
    fx_init(&fx, 1024, 4096, 0);
    seg(&fx, 0, TCP_SYN, 0xfffffff9u, 0, ""); /* data from 0xfffffffa */
    seg(&fx, 0, 0, 0xfffffffau, 0, "abc");
    seg(&fx, 0, 0, 0x00000002u, 0, "ijk"); /* past 2^32, ahead */
    seg(&fx, 0, 0, 0xffffffffu, 0, "fg");  /* held, before the one above */
    assert_int_equal(fx.s.dir[0].n_segs, 2);
    seg(&fx, 0, 0, 0xfffffffbu, 0, "bcdefgh"); /* crosses 2^32, overlaps both sides */
    assert_string_equal(fx.k.out[0], "abcdefghijk");
    assert_int_equal(fx.s.dir[0].next_seq, 5);
    assert_int_equal(fx.r.stats.n_overlap_diff, 0);
    /* More than 2^31 ahead reads as behind: counted as a retransmission, not held. */
    seg(&fx, 0, 0, 0x80000010u, 0, "far");
    assert_int_equal(fx.r.stats.n_retransmissions, 1);
    assert_int_equal(fx.s.dir[0].n_segs, 0);
    fx_done(&fx);

    /* A gap across the wrap, declared by an ACK. */
    fx_init(&fx, 1024, 4096, 0);
    seg(&fx, 0, 0, 0xfffffffeu, 0, "ab");
    seg(&fx, 0, 0, 3, 0, "de");
    seg(&fx, 1, TCP_ACK, 0, 5, "");
    assert_string_equal(fx.k.out[0], "ab[gap 3]de");
    reasm_stream_flush(&fx.r, &fx.s, &flow_token, 0);
    assert_string_equal(fx.k.out[0], "ab[gap 3]de");
    fx_done(&fx);
}

static void
test_zero_length(void **state)
{
    (void)state;
    struct fixture fx;
    fx_init(&fx, 1024, 4096, 0);
    handshake(&fx);
    seg(&fx, 0, TCP_ACK, 100, 500, "");
    seg(&fx, 0, TCP_ACK, 150, 500, ""); /* a bare ACK ahead: no data, no gap */
    seg(&fx, 0, TCP_ACK, 100, 500, "ab");
    assert_string_equal(fx.k.out[0], "ab");
    assert_int_equal(fx.r.stats.n_segments, 1);
    assert_int_equal(fx.r.stats.n_retransmissions, 0);
    assert_int_equal(fx.k.n_data[0], 1);
    fx_done(&fx);
}

static void
test_flush_at_end(void **state)
{
    (void)state;
    struct fixture fx;
    fx_init(&fx, 1024, 4096, 0);
    handshake(&fx);
    seg(&fx, 0, 0, 100, 0, "ab");
    seg(&fx, 0, 0, 105, 0, "fg");
    seg(&fx, 0, 0, 110, 0, "kl");
    seg(&fx, 1, 0, 502, 0, "CD");
    reasm_stream_flush(&fx.r, &fx.s, &flow_token, 0);
    assert_string_equal(fx.k.out[0], "ab[gap 3]fg[gap 3]kl");
    assert_string_equal(fx.k.out[1], "[gap 2]CD");
    assert_int_equal(fx.r.stats.held_len, 0);
    /* Flushing again is harmless. */
    reasm_stream_flush(&fx.r, &fx.s, &flow_token, 0);
    assert_string_equal(fx.k.out[0], "ab[gap 3]fg[gap 3]kl");
    fx_done(&fx);
}

static void
test_release_without_delivery(void **state)
{
    (void)state;
    struct fixture fx;
    fx_init(&fx, 1024, 4096, 0);
    handshake(&fx);
    seg(&fx, 0, 0, 105, 0, "fg");
    seg(&fx, 1, 0, 510, 0, "xyz");
    assert_int_equal(fx.r.stats.held_len, 5);
    reasm_stream_release(&fx.r, &fx.s);
    assert_int_equal(fx.r.stats.held_len, 0);
    assert_int_equal(fx.k.len[0] + fx.k.len[1], 0);
    assert_null(fx.s.dir[0].segs);
    fx_done(&fx);
}

static void
test_rst(void **state)
{
    (void)state;
    struct fixture fx;
    fx_init(&fx, 1024, 4096, 0);
    handshake(&fx);
    seg(&fx, 0, 0, 100, 0, "ab");
    seg(&fx, 0, 0, 104, 0, "ef");
    seg(&fx, 0, TCP_RST, 102, 0, "reset text");
    seg(&fx, 0, 0, 102, 0, "cd");
    seg(&fx, 1, 0, 500, 0, "still"); /* the other direction goes on */
    assert_string_equal(fx.k.out[0], "ab");
    assert_int_equal(fx.r.stats.n_after_rst, 2);
    reasm_stream_flush(&fx.r, &fx.s, &flow_token, 0);
    assert_string_equal(fx.k.out[0], "ab[gap 2]ef");
    assert_string_equal(fx.k.out[1], "still");
    fx_done(&fx);
}

static void
test_stream_is_small(void **state)
{
    (void)state;
    assert_true(sizeof(struct reasm_stream) <= 64);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_in_order),
        cmocka_unit_test(test_reversed),
        cmocka_unit_test(test_interleaved),
        cmocka_unit_test(test_retransmissions),
        cmocka_unit_test(test_overlap_same_bytes),
        cmocka_unit_test(test_overlap_diff_first_wins),
        cmocka_unit_test(test_split_around_held),
        cmocka_unit_test(test_ack_declares_gap),
        cmocka_unit_test(test_ack_of_fin_is_no_gap),
        cmocka_unit_test(test_dir_cap_forces_flush),
        cmocka_unit_test(test_seg_count_cap),
        cmocka_unit_test(test_memcap_two_streams),
        cmocka_unit_test(test_fin_then_data),
        cmocka_unit_test(test_syn_isn),
        cmocka_unit_test(test_midstream),
        cmocka_unit_test(test_wraparound),
        cmocka_unit_test(test_zero_length),
        cmocka_unit_test(test_flush_at_end),
        cmocka_unit_test(test_release_without_delivery),
        cmocka_unit_test(test_rst),
        cmocka_unit_test(test_stream_is_small),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
