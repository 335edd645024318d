// SPDX-License-Identifier: Apache-2.0
// TCP stream reassembly (see reasm.h for the behaviour).
//
// Each direction keeps next_seq, the sequence number of the next byte to hand on, and a sorted,
// singly-linked list of the segments that arrived ahead of it. The list holds these invariants
// after every public call, and the code below relies on them:
//   - held segments are disjoint, sorted by seq, and each starts after next_seq (a segment that
//     became contiguous is delivered and freed at once);
//   - no held byte lies at or past fin_seq once a FIN is recorded;
//   - held_len and n_segs match the list; stats.held_len is the sum over all streams.
// Arriving data is cut into pieces around the held segments: bytes already held are compared
// (first seen wins), the pieces between them are delivered straight from the packet when they
// start at next_seq, and copied into new held segments otherwise.
#include "wire/reasm.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "wire/decode.h"

enum {
    REASM_DIR_HAS_ISN = 0x01,  /* next_seq is set */
    REASM_DIR_HAS_DATA = 0x02, /* bytes delivered, held or declared gap: the ISN is final */
    REASM_DIR_HAS_FIN = 0x04,  /* fin_seq is set */
    REASM_DIR_HAS_RST = 0x08,  /* no more data accepted */
};

/* No packet carries this much; keeping lengths below 2^31 keeps the modulo comparisons valid. */
#define REASM_SEG_LEN_MAX (1u << 30)

struct reasm_seg {
    struct reasm_seg *next; /* owned */
    uint32_t seq;
    uint32_t len;
    uint8_t data[];
};

_Static_assert(sizeof(struct reasm_stream) <= 64, "struct reasm_stream lives in every TCP flow");

static inline bool
seq_lt(uint32_t a, uint32_t b)
{
    return (int32_t)(a - b) < 0;
}

static inline bool
seq_le(uint32_t a, uint32_t b)
{
    return (int32_t)(a - b) <= 0;
}

static inline uint32_t
seq_min(uint32_t a, uint32_t b)
{
    return seq_lt(a, b) ? a : b;
}

static inline uint32_t
seg_end(const struct reasm_seg *h)
{
    return h->seq + h->len;
}

void
reasm_init(struct reasm *r, const struct reasm_config *cfg, const struct reasm_ops *ops, void *user)
{
    memset(r, 0, sizeof(*r));
    r->cfg = *cfg;
    if (r->cfg.max_dir_segs == 0)
        r->cfg.max_dir_segs = REASM_DIR_SEGS_DEFAULT;
    if (r->cfg.max_dir_segs > UINT16_MAX)
        r->cfg.max_dir_segs = UINT16_MAX; /* n_segs is 16 bits to keep the stream small */
    r->ops = *ops;
    r->user = user;
}

void
reasm_release(struct reasm *r)
{
    /* Streams own the held segments; a non-zero total means one was not released. */
    assert(r->stats.held_len == 0);
    (void)r;
}

void
reasm_stream_init(struct reasm_stream *s)
{
    memset(s, 0, sizeof(*s));
}

/* Hands on len bytes at next_seq. */
static void
dir_deliver(struct reasm *r, struct reasm_dir *d, void *flow, int dir, const uint8_t *data,
            uint32_t len, uint64_t ts_us)
{
    if (len == 0)
        return;
    d->next_seq += len;
    d->flags |= REASM_DIR_HAS_DATA;
    r->stats.bytes_delivered += len;
    if (r->ops.data)
        r->ops.data(r->user, flow, dir, data, len, ts_us);
}

/* Declares the len bytes at next_seq lost. */
static void
dir_gap(struct reasm *r, struct reasm_dir *d, void *flow, int dir, uint32_t len, uint64_t ts_us)
{
    if (len == 0)
        return;
    d->next_seq += len;
    d->flags |= REASM_DIR_HAS_DATA;
    r->stats.n_gaps++;
    r->stats.gap_bytes += len;
    if (r->ops.gap)
        r->ops.gap(r->user, flow, dir, len, ts_us);
}

/* Unlinks *link and frees it. */
static void
dir_seg_free(struct reasm *r, struct reasm_dir *d, struct reasm_seg **link)
{
    struct reasm_seg *h = *link;
    *link = h->next;
    d->held_len -= h->len;
    d->n_segs--;
    r->stats.held_len -= h->len;
    free(h);
}

/* Delivers the held segments that have become contiguous with next_seq. */
static void
dir_drain(struct reasm *r, struct reasm_dir *d, void *flow, int dir, uint64_t ts_us)
{
    struct reasm_seg *h;
    while ((h = d->segs) != NULL && seq_le(h->seq, d->next_seq)) {
        /* By the invariants h starts exactly at next_seq; trimming a delivered prefix only
         * guards against a bug turning into a read past the segment. */
        uint32_t skip = d->next_seq - h->seq;
        if (skip < h->len)
            dir_deliver(r, d, flow, dir, h->data + skip, h->len - skip, ts_us);
        dir_seg_free(r, d, &d->segs);
    }
}

/*
 * Moves next_seq up to at least target: each hole before target becomes a gap, and the held data
 * between the holes is delivered. Held data contiguous with target is delivered too.
 */
static void
dir_skip_to(struct reasm *r, struct reasm_dir *d, void *flow, int dir, uint32_t target,
            uint64_t ts_us)
{
    while (seq_lt(d->next_seq, target)) {
        const struct reasm_seg *h = d->segs;
        uint32_t stop = h && seq_lt(h->seq, target) ? h->seq : target;
        if (seq_lt(d->next_seq, stop))
            dir_gap(r, d, flow, dir, stop - d->next_seq, ts_us);
        dir_drain(r, d, flow, dir, ts_us);
    }
    dir_drain(r, d, flow, dir, ts_us);
}

/* Delivers everything held, with the holes before it as gaps. */
static void
dir_flush(struct reasm *r, struct reasm_dir *d, void *flow, int dir, uint64_t ts_us)
{
    while (d->segs)
        dir_skip_to(r, d, flow, dir, d->segs->seq, ts_us);
}

/*
 * Copies len bytes at seq into a new held segment linked in at *link. False, counted, when a cap
 * or the allocator refuses; the caller then delivers the bytes instead.
 */
static bool
dir_hold(struct reasm *r, struct reasm_dir *d, struct reasm_seg **link, uint32_t seq,
         const uint8_t *data, uint32_t len)
{
    if (d->n_segs >= r->cfg.max_dir_segs || (uint64_t)d->held_len + len > r->cfg.max_dir_bytes) {
        r->stats.n_dir_cap++;
        return false;
    }
    if (r->stats.held_len + len > r->cfg.max_total_bytes) {
        r->stats.n_memcap++;
        return false;
    }
    struct reasm_seg *h = malloc(sizeof(*h) + len);
    if (!h) {
        r->stats.n_memcap++;
        return false;
    }
    h->seq = seq;
    h->len = len;
    memcpy(h->data, data, len);
    h->next = *link;
    *link = h;
    d->held_len += len;
    d->n_segs++;
    d->flags |= REASM_DIR_HAS_DATA;
    r->stats.held_len += len;
    if (r->stats.held_len > r->stats.held_len_max)
        r->stats.held_len_max = r->stats.held_len;
    return true;
}

/* The other side acknowledged up to ack: whatever hole lies before it, the capture lost. */
static void
dir_acked(struct reasm *r, struct reasm_dir *d, void *flow, int dir, uint32_t ack, uint64_t ts_us)
{
    if (!(d->flags & REASM_DIR_HAS_ISN))
        return;
    /* The FIN takes a sequence number of its own; acknowledging it is not a lost byte. */
    if ((d->flags & REASM_DIR_HAS_FIN) && seq_lt(d->fin_seq, ack))
        ack = d->fin_seq;
    if (seq_lt(d->next_seq, ack))
        dir_skip_to(r, d, flow, dir, ack, ts_us);
}

/* Records the first FIN and drops held bytes past it. */
static void
dir_fin(struct reasm *r, struct reasm_dir *d, uint32_t fin_seq)
{
    /* A FIN before bytes already delivered is stale or forged; it cannot take them back. */
    if ((d->flags & REASM_DIR_HAS_FIN) || seq_lt(fin_seq, d->next_seq))
        return;
    d->fin_seq = fin_seq;
    d->flags |= REASM_DIR_HAS_FIN;
    struct reasm_seg **link = &d->segs;
    while (*link) {
        struct reasm_seg *h = *link;
        if (seq_le(seg_end(h), fin_seq)) {
            link = &h->next;
            continue;
        }
        r->stats.n_after_fin++;
        if (seq_le(fin_seq, h->seq)) {
            dir_seg_free(r, d, link);
            continue;
        }
        uint32_t cut = seg_end(h) - fin_seq;
        h->len -= cut;
        d->held_len -= cut;
        r->stats.held_len -= cut;
        link = &h->next;
    }
}

/*
 * Takes the len bytes at seq, none of them before next_seq or past the FIN. `overlap` says
 * whether the caller already trimmed delivered bytes off the front.
 */
static void
dir_data(struct reasm *r, struct reasm_dir *d, void *flow, int dir, uint32_t seq,
         const uint8_t *payload, uint32_t len, bool overlap, uint64_t ts_us)
{
    uint32_t cur = seq;
    uint32_t end = seq + len;
    bool any_new = false, held = false, diff = false;
    struct reasm_seg **link = &d->segs;

    while (seq_lt(cur, end)) {
        struct reasm_seg *h;
        /* Held segments are sorted and disjoint: the first ending past cur is the only one that
         * can cover cur, and the next one the new bytes can run into. */
        while ((h = *link) != NULL && seq_le(seg_end(h), cur))
            link = &h->next;
        if (h && seq_le(h->seq, cur)) {
            uint32_t stop = seq_min(end, seg_end(h));
            if (memcmp(h->data + (cur - h->seq), payload + (cur - seq), stop - cur) != 0)
                diff = true;
            overlap = true;
            cur = stop;
            /* Compared, h can go now if it is next in line (link is &d->segs then). */
            if (h->seq == d->next_seq) {
                dir_deliver(r, d, flow, dir, h->data, h->len, ts_us);
                dir_seg_free(r, d, link);
            }
            continue;
        }
        uint32_t stop = h && seq_lt(h->seq, end) ? h->seq : end;
        const uint8_t *p = payload + (cur - seq);
        any_new = true;
        if (cur != d->next_seq) {
            if (dir_hold(r, d, link, cur, p, stop - cur)) {
                held = true;
                link = &(*link)->next;
                cur = stop;
                continue;
            }
            /* A cap is hit: give up on the holes before cur instead of holding more. Only
             * segments before cur are freed, and next_seq lands on cur (h starts past it). */
            dir_skip_to(r, d, flow, dir, cur, ts_us);
            link = &d->segs;
        }
        dir_deliver(r, d, flow, dir, p, stop - cur, ts_us);
        cur = stop;
    }
    dir_drain(r, d, flow, dir, ts_us);

    if (!any_new)
        r->stats.n_retransmissions++;
    else if (overlap)
        r->stats.n_overlaps++;
    if (diff)
        r->stats.n_overlap_diff++;
    if (held)
        r->stats.n_out_of_order++;
}

void
reasm_segment(struct reasm *r, struct reasm_stream *s, void *flow, int dir, uint8_t flags,
              uint32_t seq, uint32_t ack, const uint8_t *payload, uint32_t len, uint64_t ts_us)
{
    assert(dir == 0 || dir == 1);
    struct reasm_dir *d = &s->dir[dir];

    if (len > 0)
        r->stats.n_segments++;
    if (len > REASM_SEG_LEN_MAX)
        len = REASM_SEG_LEN_MAX;

    /* The other direction first: this ACK answers what it sent before. */
    if (flags & TCP_ACK)
        dir_acked(r, &s->dir[dir ^ 1], flow, dir ^ 1, ack, ts_us);

    /* A RST ends the direction; data on it is a diagnostic text at most, not stream bytes. */
    if (flags & TCP_RST)
        d->flags |= REASM_DIR_HAS_RST;
    if (d->flags & REASM_DIR_HAS_RST) {
        if (len > 0)
            r->stats.n_after_rst++;
        return;
    }
    if (flags & TCP_SYN) {
        /* Until data has moved, the newest SYN's ISN wins (a retransmitted SYN may carry a new
         * one); after, a SYN is stale or forged and must not rewind the stream. */
        if (!(d->flags & REASM_DIR_HAS_DATA)) {
            d->next_seq = seq + 1;
            d->flags |= REASM_DIR_HAS_ISN;
        }
        seq++; /* the SYN takes a sequence number; data on it starts after */
    } else if (!(d->flags & REASM_DIR_HAS_ISN)) {
        d->next_seq = seq; /* picked up midway */
        d->flags |= REASM_DIR_HAS_ISN;
    }
    if (flags & TCP_FIN)
        dir_fin(r, d, seq + len);

    if (len == 0)
        return;
    uint32_t end = seq + len;
    bool overlap = false;
    if ((d->flags & REASM_DIR_HAS_FIN) && seq_lt(d->fin_seq, end)) {
        r->stats.n_after_fin++;
        if (seq_le(d->fin_seq, seq))
            return;
        end = d->fin_seq;
        len = end - seq;
    }
    if (seq_le(end, d->next_seq)) {
        r->stats.n_retransmissions++;
        return;
    }
    if (seq_lt(seq, d->next_seq)) {
        uint32_t skip = d->next_seq - seq;
        payload += skip;
        len -= skip;
        seq = d->next_seq;
        overlap = true;
    }
    dir_data(r, d, flow, dir, seq, payload, len, overlap, ts_us);
}

void
reasm_stream_flush(struct reasm *r, struct reasm_stream *s, void *flow, uint64_t ts_us)
{
    for (int dir = 0; dir < 2; dir++)
        dir_flush(r, &s->dir[dir], flow, dir, ts_us);
}

void
reasm_stream_release(struct reasm *r, struct reasm_stream *s)
{
    for (int dir = 0; dir < 2; dir++) {
        struct reasm_dir *d = &s->dir[dir];
        while (d->segs)
            dir_seg_free(r, d, &d->segs);
    }
    reasm_stream_init(s);
}
