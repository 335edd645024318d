// SPDX-License-Identifier: Apache-2.0
// libFuzzer target for TCP stream reassembly. The input is a script of segments run through two
// streams of one reassembler with small caps, then flushed and released; the target aborts when
// an invariant breaks, so the fuzzer reports it like a crash.
//
// Input: an 8-byte header, then records of 4 bytes plus payload.
//   header  [0] bit 0: consistent mode (payload bytes are a function of their sequence number,
//               so any delivered byte can be checked and no overlap may differ)
//               bit 1: release stream A without flushing it
//           [1..4] ISN base of direction 0, big endian; direction 1 uses its complement
//           [5] max_dir_bytes   [6] max_total_bytes / 2   [7] max_dir_segs (low 4 bits; 0 default)
//   record  [0] bit 0 dir, 1 SYN, 2 FIN, 3 RST, 4 ACK, 5 seq delta times 256, 6 stream B
//           [1] seq delta (int8) from where this direction's script left off
//           [2] ack delta (int8) from where the other direction's script left off
//           [3] payload length; in consistent mode generated, else the next input bytes
//               (fewer when the input ends)
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wire/decode.h"
#include "wire/reasm.h"

#define CHECK(x)                                                                                   \
    do {                                                                                           \
        if (!(x))                                                                                  \
            abort();                                                                               \
    } while (0)

struct side {
    uint32_t pos;     /* where the script's next segment starts, before the delta */
    uint64_t events;  /* bytes delivered + gap bytes reported */
    bool has_data;    /* the ISN can no longer move */
    uint64_t in_call; /* bytes delivered + gap in the current call */
};

struct ctx {
    struct reasm_stream s;
    struct side side[2];
};

struct run {
    struct reasm r;
    struct ctx c[2];
    bool consistent;
    uint64_t delivered, gap_bytes;
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t
pattern(int dir, uint32_t seq)
{
    return (uint8_t)(seq * 131u + (seq >> 8) + (unsigned)dir * 7u);
}

static void
on_data(void *user, void *flow, int dir, const uint8_t *p, uint32_t len, uint64_t ts_us)
{
    struct run *run = user;
    struct ctx *c = flow;
    (void)ts_us;
    CHECK(c == &run->c[0] || c == &run->c[1]);
    CHECK(dir == 0 || dir == 1);
    CHECK(len > 0);
    if (run->consistent) {
        /* next_seq already counts these bytes when the callback runs. */
        uint32_t seq = c->s.dir[dir].next_seq - len;
        for (uint32_t i = 0; i < len; i++)
            CHECK(p[i] == pattern(dir, seq + i));
    }
    c->side[dir].in_call += len;
    run->delivered += len;
}

static void
on_gap(void *user, void *flow, int dir, uint32_t len, uint64_t ts_us)
{
    struct run *run = user;
    struct ctx *c = flow;
    (void)ts_us;
    CHECK(c == &run->c[0] || c == &run->c[1]);
    CHECK(dir == 0 || dir == 1);
    CHECK(len > 0 && len < (1u << 31));
    c->side[dir].in_call += len;
    run->gap_bytes += len;
}

static const struct reasm_ops ops = {on_data, on_gap};

/* next_seq of each stream and direction before a call. */
struct snap {
    uint32_t next_seq[2][2];
};

static void
check_all(struct run *run, const struct snap *before)
{
    const struct reasm_config *cfg = &run->r.cfg;
    uint64_t held = 0;
    for (int i = 0; i < 2; i++) {
        struct ctx *c = &run->c[i];
        for (int dir = 0; dir < 2; dir++) {
            struct side *sd = &c->side[dir];
            const struct reasm_dir *d = &c->s.dir[dir];
            /* Once the ISN is final, next_seq moves by exactly what was delivered or gapped. */
            if (sd->has_data)
                CHECK((uint32_t)(d->next_seq - before->next_seq[i][dir]) == (uint32_t)sd->in_call);
            sd->events += sd->in_call;
            sd->in_call = 0;
            if (sd->events > 0 || d->held_len > 0)
                sd->has_data = true;
            CHECK(d->held_len <= cfg->max_dir_bytes);
            CHECK(d->n_segs <= cfg->max_dir_segs);
            CHECK((d->segs == NULL) == (d->n_segs == 0));
            CHECK(d->n_segs <= d->held_len);
            held += d->held_len;
        }
    }
    CHECK(run->r.stats.held_len == held);
    CHECK(held <= cfg->max_total_bytes);
    CHECK(run->r.stats.held_len_max >= held);
    CHECK(run->r.stats.bytes_delivered == run->delivered);
    CHECK(run->r.stats.gap_bytes == run->gap_bytes);
    if (run->consistent)
        CHECK(run->r.stats.n_overlap_diff == 0);
}

static void
snapshot(const struct run *run, struct snap *before)
{
    for (int i = 0; i < 2; i++)
        for (int dir = 0; dir < 2; dir++)
            before->next_seq[i][dir] = run->c[i].s.dir[dir].next_seq;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct run run; /* static: keeps the stack small and the state off the heap */
    uint8_t hdr[8] = {0};
    uint8_t buf[256];
    struct snap before;

    memcpy(hdr, data, size < sizeof(hdr) ? size : sizeof(hdr));
    size_t off = size < sizeof(hdr) ? size : sizeof(hdr);

    memset(&run, 0, sizeof(run));
    run.consistent = hdr[0] & 1;
    struct reasm_config cfg = {
        .max_dir_bytes = hdr[5],
        .max_total_bytes = (uint64_t)hdr[6] * 2,
        .max_dir_segs = hdr[7] & 15u,
    };
    reasm_init(&run.r, &cfg, &ops, &run);
    uint32_t base =
        (uint32_t)hdr[1] << 24 | (uint32_t)hdr[2] << 16 | (uint32_t)hdr[3] << 8 | hdr[4];
    for (int i = 0; i < 2; i++) {
        reasm_stream_init(&run.c[i].s);
        run.c[i].side[0].pos = base;
        run.c[i].side[1].pos = ~base;
    }

    uint64_t ts_us = 0;
    while (size - off >= 4) {
        const uint8_t *rec = data + off;
        off += 4;
        int dir = rec[0] & 1;
        struct ctx *c = &run.c[(rec[0] >> 6) & 1];
        uint8_t flags = 0;
        flags |= (rec[0] & 0x02) ? TCP_SYN : 0;
        flags |= (rec[0] & 0x04) ? TCP_FIN : 0;
        flags |= (rec[0] & 0x08) ? TCP_RST : 0;
        flags |= (rec[0] & 0x10) ? TCP_ACK : 0;
        int32_t delta = rec[1] < 128 ? rec[1] : (int32_t)rec[1] - 256; /* a signed byte */
        if (rec[0] & 0x20)
            delta *= 256;
        uint32_t seq = c->side[dir].pos + (uint32_t)delta;
        uint32_t ack =
            c->side[dir ^ 1].pos + (uint32_t)(rec[2] < 128 ? rec[2] : (int32_t)rec[2] - 256);
        uint32_t len = rec[3];
        if (run.consistent) {
            uint32_t first = seq + ((flags & TCP_SYN) ? 1u : 0u);
            for (uint32_t i = 0; i < len; i++)
                buf[i] = pattern(dir, first + i);
        } else {
            if (len > size - off)
                len = (uint32_t)(size - off);
            memcpy(buf, data + off, len);
            off += len;
        }
        c->side[dir].pos = seq + len;

        /* An exact-size copy so the sanitizer sees any read past the payload. */
        uint8_t *payload = malloc(len ? len : 1);
        CHECK(payload != NULL);
        memcpy(payload, buf, len);
        snapshot(&run, &before);
        reasm_segment(&run.r, &c->s, c, dir, flags, seq, ack, payload, len, ts_us++);
        free(payload);
        check_all(&run, &before);
    }

    for (int i = 0; i < 2; i++) {
        if (i == 0 && (hdr[0] & 2)) {
            uint64_t held_b = run.c[1].s.dir[0].held_len + run.c[1].s.dir[1].held_len;
            reasm_stream_release(&run.r, &run.c[0].s);
            CHECK(run.r.stats.held_len == held_b);
            continue;
        }
        snapshot(&run, &before);
        reasm_stream_flush(&run.r, &run.c[i].s, &run.c[i], ts_us);
        check_all(&run, &before);
        CHECK(run.c[i].s.dir[0].held_len == 0 && run.c[i].s.dir[1].held_len == 0);
        CHECK(run.c[i].s.dir[0].segs == NULL && run.c[i].s.dir[1].segs == NULL);
    }
    for (int i = 0; i < 2; i++)
        reasm_stream_release(&run.r, &run.c[i].s);
    CHECK(run.r.stats.held_len == 0);
    reasm_release(&run.r);
    return 0;
}
