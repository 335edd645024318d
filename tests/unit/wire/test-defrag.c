// SPDX-License-Identifier: Apache-2.0
// Unit tests for IPv4 and IPv6 fragment reassembly: order, duplicates, overlaps (first seen
// wins), IPv6 extension headers before the Fragment header, timeout, memory caps, and datagrams
// too large. Each fragment goes through decode_packet() first, as in the sensor.
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "wire/decode.h"
#include "wire/defrag.h"

/* The datagram every test cuts up: UDP 1000 > 2000, length 48, checksum 0, then 40 bytes. */
static uint8_t dgram[48];

static void
dgram_fill(void)
{
    const uint8_t udp[8] = {0x03, 0xe8, 0x07, 0xd0, 0x00, 48, 0x00, 0x00};
    memcpy(dgram, udp, sizeof(udp));
    for (size_t i = 8; i < sizeof(dgram); i++)
        dgram[i] = (uint8_t)('a' + i % 26);
}

/* IPv4: IHL 5, TOS 0, total length *, id *, flags/offset *, TTL 64, UDP, checksum 0,
 * 10.0.0.1 > 10.0.0.2. The starred fields are patched by ipv4_frag(). */
static const uint8_t ipv4_hdr[] = {0x45, 0x00, 0,  0, 0, 0, 0,  0, 0x40, 17,
                                   0x00, 0x00, 10, 0, 0, 1, 10, 0, 0,    2};

struct frag {
    uint8_t b[256];
    uint32_t len;
};

static struct frag
ipv4_frag(uint16_t id, uint16_t off, bool more, const uint8_t *payload, size_t len)
{
    struct frag f;
    memset(&f, 0, sizeof(f));
    assert_true(20 + len <= sizeof(f.b));
    memcpy(f.b, ipv4_hdr, 20);
    f.b[2] = (uint8_t)((20 + len) >> 8);
    f.b[3] = (uint8_t)(20 + len);
    f.b[4] = (uint8_t)(id >> 8);
    f.b[5] = (uint8_t)id;
    uint16_t fo = (uint16_t)((more ? 0x2000 : 0) | off / 8);
    f.b[6] = (uint8_t)(fo >> 8);
    f.b[7] = (uint8_t)fo;
    memcpy(f.b + 20, payload, len);
    f.len = (uint32_t)(20 + len);
    return f;
}

static struct decode_stats stats;
static struct defrag *ctx;
static struct defrag_config cfg;

static int
setup(void **state)
{
    (void)state;
    memset(&stats, 0, sizeof(stats));
    dgram_fill();
    cfg.max_bytes = 1 << 20;
    cfg.max_datagrams = 64;
    cfg.timeout_us = 30 * 1000000ull;
    ctx = defrag_new(&cfg);
    assert_non_null(ctx);
    return 0;
}

static int
teardown(void **state)
{
    (void)state;
    defrag_free(ctx);
    ctx = NULL;
    return 0;
}

/* Decodes a fragment (raw IP link) and hands it to the context. */
static int
add(const struct frag *f, uint64_t ts_us, struct defrag_result *res)
{
    struct packet p;
    memset(&p, 0, sizeof(p));
    p.ts_us = ts_us;
    p.data = f->b;
    p.caplen = f->len;
    p.wire_len = f->len + 14;
    p.link = LINK_RAW;
    assert_int_equal(decode_packet(&p, &stats), 0);
    assert_true(p.is_fragment);
    return defrag_add(ctx, &p, &stats, res);
}

static uint64_t
n_events_total(void)
{
    uint64_t n = 0;
    for (int i = 0; i < DECODE_EV_COUNT; i++)
        n += stats.n_events[i];
    return n;
}

/* Checks a rebuilt IPv4 datagram of the test payload: header fields, checksum, UDP. */
static void
check_ipv4_result(const struct defrag_result *res)
{
    assert_int_equal(res->len, 68);
    const uint8_t *h = res->data;
    assert_int_equal(h[2] << 8 | h[3], 68); /* total length */
    assert_int_equal(h[6] << 8 | h[7], 0);  /* no MF, offset 0 */
    uint32_t sum = 0;                       /* the header sums to 0xffff */
    for (int i = 0; i < 20; i += 2)
        sum += (uint32_t)(h[i] << 8 | h[i + 1]);
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    assert_int_equal(sum, 0xffff);
    assert_memory_equal(h + 20, dgram, sizeof(dgram));

    struct packet p;
    memset(&p, 0, sizeof(p));
    assert_int_equal(decode_ip(&p, res->data, res->len, &stats), 0);
    assert_false(p.is_fragment);
    assert_true(p.has_l4);
    assert_int_equal(p.sport, 1000);
    assert_int_equal(p.dport, 2000);
    assert_int_equal(p.payload_len, 40);
}

static void
test_ipv4_in_order(void **state)
{
    (void)state;
    struct defrag_result res;
    struct frag f0 = ipv4_frag(7, 0, true, dgram, 16);
    struct frag f1 = ipv4_frag(7, 16, true, dgram + 16, 16);
    struct frag f2 = ipv4_frag(7, 32, false, dgram + 32, 16);
    assert_int_equal(add(&f0, 100, &res), 0);
    assert_true(defrag_mem_len(ctx) > 0);
    assert_int_equal(add(&f1, 200, &res), 0);
    assert_int_equal(add(&f2, 300, &res), 1);
    check_ipv4_result(&res);
    assert_int_equal(res.n_fragments, 3);
    assert_int_equal(res.wire_len, 3 * (36 + 14));
    assert_int_equal(res.ts_us, 300);
    assert_int_equal(defrag_mem_len(ctx), 0);
    assert_int_equal(n_events_total(), 0);
}

static void
test_ipv4_reverse_order(void **state)
{
    (void)state;
    struct defrag_result res;
    struct frag f0 = ipv4_frag(7, 0, true, dgram, 16);
    struct frag f1 = ipv4_frag(7, 16, true, dgram + 16, 16);
    struct frag f2 = ipv4_frag(7, 32, false, dgram + 32, 16);
    assert_int_equal(add(&f2, 1, &res), 0);
    assert_int_equal(add(&f1, 2, &res), 0);
    assert_int_equal(add(&f0, 3, &res), 1);
    check_ipv4_result(&res);
    assert_int_equal(n_events_total(), 0);
}

static void
test_ipv4_duplicates(void **state)
{
    (void)state;
    struct defrag_result res;
    struct frag f0 = ipv4_frag(7, 0, true, dgram, 16);
    struct frag f1 = ipv4_frag(7, 16, true, dgram + 16, 16);
    struct frag f2 = ipv4_frag(7, 32, false, dgram + 32, 16);
    assert_int_equal(add(&f0, 1, &res), 0);
    assert_int_equal(add(&f0, 2, &res), 0);
    assert_int_equal(add(&f2, 3, &res), 0);
    assert_int_equal(add(&f2, 4, &res), 0);
    assert_int_equal(add(&f1, 5, &res), 1);
    check_ipv4_result(&res);
    assert_int_equal(res.n_fragments, 3); /* duplicates not counted */
    assert_int_equal(n_events_total(), 0);
}

static void
test_ipv4_overlap_first_wins(void **state)
{
    (void)state;
    struct defrag_result res;
    /* [0, 24) with the true bytes, then [16, 48) whose first 8 bytes are 'X' */
    uint8_t evil[32];
    memcpy(evil, dgram + 16, 32);
    memset(evil, 'X', 8);
    struct frag a = ipv4_frag(9, 0, true, dgram, 24);
    struct frag b = ipv4_frag(9, 16, false, evil, 32);
    assert_int_equal(add(&a, 1, &res), 0);
    assert_int_equal(add(&b, 2, &res), 1);
    assert_int_equal(stats.n_events[DECODE_EV_FRAG_OVERLAP], 1);
    check_ipv4_result(&res); /* the original bytes won */

    /* The same overlap with equal bytes is no event */
    struct frag c = ipv4_frag(10, 0, true, dgram, 24);
    struct frag d = ipv4_frag(10, 16, false, dgram + 16, 32);
    assert_int_equal(add(&c, 3, &res), 0);
    assert_int_equal(add(&d, 4, &res), 1);
    check_ipv4_result(&res);
    assert_int_equal(stats.n_events[DECODE_EV_FRAG_OVERLAP], 1);

    /* A fragment that fills a hole and overlaps both sides */
    struct frag e0 = ipv4_frag(11, 0, true, dgram, 8);
    struct frag e2 = ipv4_frag(11, 24, false, dgram + 24, 24);
    struct frag e1 = ipv4_frag(11, 0, true, dgram, 32);
    assert_int_equal(add(&e0, 5, &res), 0);
    assert_int_equal(add(&e2, 6, &res), 0);
    assert_int_equal(add(&e1, 7, &res), 1);
    check_ipv4_result(&res);
    assert_int_equal(res.n_fragments, 3);
    assert_int_equal(stats.n_events[DECODE_EV_FRAG_OVERLAP], 1);
}

static void
test_ipv4_conflicting_end(void **state)
{
    (void)state;
    struct defrag_result res;
    struct frag last = ipv4_frag(5, 32, false, dgram + 32, 16);
    struct frag short_last = ipv4_frag(5, 16, false, dgram + 16, 8);
    struct frag past = ipv4_frag(5, 48, true, dgram + 40, 8);
    assert_int_equal(add(&last, 1, &res), 0);
    assert_int_equal(add(&short_last, 2, &res), 0); /* another end: dropped */
    assert_int_equal(add(&past, 3, &res), 0);       /* bytes past the end: dropped */
    assert_int_equal(stats.n_events[DECODE_EV_FRAG_OVERLAP], 2);

    /* An end before bytes already held */
    struct frag mid = ipv4_frag(6, 16, true, dgram + 16, 16);
    struct frag early = ipv4_frag(6, 8, false, dgram + 8, 8);
    assert_int_equal(add(&mid, 4, &res), 0);
    assert_int_equal(add(&early, 5, &res), 0);
    assert_int_equal(stats.n_events[DECODE_EV_FRAG_OVERLAP], 3);
}

static void
test_keys_kept_apart(void **state)
{
    (void)state;
    struct defrag_result res;
    struct frag f0 = ipv4_frag(7, 0, true, dgram, 16);
    struct frag f1 = ipv4_frag(7, 16, false, dgram + 16, 32);
    f1.b[9] = 6; /* same id, protocol TCP: another datagram */
    assert_int_equal(add(&f0, 1, &res), 0);
    assert_int_equal(add(&f1, 2, &res), 0);
    f1.b[9] = 17;
    f1.b[15] = 9; /* source 10.0.0.9 */
    assert_int_equal(add(&f1, 3, &res), 0);
    f1.b[15] = 1;
    assert_int_equal(add(&f1, 4, &res), 1);
    check_ipv4_result(&res);
}

/* IPv6: payload length *, next header hop-by-hop, hop limit 64, fd00::1 > fd00::2 */
static const uint8_t ipv6_hdr[] = {0x60, 0, 0, 0, 0, 0, 0, 64, 0xfd, 0, 0,    0, 0, 0,
                                   0,    0, 0, 0, 0, 0, 0, 0,  0,    1, 0xfd, 0, 0, 0,
                                   0,    0, 0, 0, 0, 0, 0, 0,  0,    0, 0,    2};

static struct frag
ipv6_frag(uint32_t id, uint16_t off, bool more, const uint8_t *payload, size_t len)
{
    struct frag f;
    memset(&f, 0, sizeof(f));
    const uint8_t ext[] = {
        /* Hop-by-hop: next destination options (60), length 0, PadN 4 */
        60, 0, 1, 4, 0, 0, 0, 0,
        /* Destination options: next fragment (44), length 0, PadN 4 */
        44, 0, 1, 4, 0, 0, 0, 0,
        /* Fragment: next UDP, reserved, offset and M patched below, id patched below */
        17, 0, 0, 0, 0, 0, 0, 0};
    memcpy(f.b, ipv6_hdr, 40);
    memcpy(f.b + 40, ext, sizeof(ext));
    uint16_t fo = (uint16_t)(off | (more ? 1 : 0));
    f.b[56 + 2] = (uint8_t)(fo >> 8);
    f.b[56 + 3] = (uint8_t)fo;
    f.b[56 + 4] = (uint8_t)(id >> 24);
    f.b[56 + 5] = (uint8_t)(id >> 16);
    f.b[56 + 6] = (uint8_t)(id >> 8);
    f.b[56 + 7] = (uint8_t)id;
    memcpy(f.b + 64, payload, len);
    f.len = (uint32_t)(64 + len);
    f.b[4] = (uint8_t)((f.len - 40) >> 8);
    f.b[5] = (uint8_t)(f.len - 40);
    return f;
}

static void
test_ipv6_ext_headers(void **state)
{
    (void)state;
    struct defrag_result res;
    struct frag f0 = ipv6_frag(0x01020304, 0, true, dgram, 24);
    struct frag f1 = ipv6_frag(0x01020304, 24, false, dgram + 24, 24);
    assert_int_equal(add(&f1, 1, &res), 0);
    assert_int_equal(add(&f0, 2, &res), 1);
    assert_int_equal(res.len, 40 + 16 + 48);
    const uint8_t *h = res.data;
    assert_int_equal(h[4] << 8 | h[5], 16 + 48); /* payload length */
    assert_int_equal(h[6], 0);                   /* hop-by-hop */
    assert_int_equal(h[40], 60);                 /* then destination options */
    assert_int_equal(h[48], 17);                 /* which now names UDP: no Fragment header */
    assert_memory_equal(h + 56, dgram, sizeof(dgram));

    struct packet p;
    memset(&p, 0, sizeof(p));
    assert_int_equal(decode_ip(&p, res.data, res.len, &stats), 0);
    assert_false(p.is_fragment);
    assert_true(p.has_l4);
    assert_int_equal(p.l4_off, 56);
    assert_int_equal(p.sport, 1000);
    assert_int_equal(p.payload_len, 40);
    assert_int_equal(n_events_total(), 0);
}

static void
test_ipv6_fragment_first_in_chain(void **state)
{
    (void)state;
    struct defrag_result res;
    /* Fragment header straight after the fixed header: next header 44 in the IPv6 header */
    struct frag f[2];
    for (int i = 0; i < 2; i++) {
        struct frag full = ipv6_frag(77, (uint16_t)(i * 24), i == 0, dgram + (size_t)i * 24, 24);
        memset(&f[i], 0, sizeof(f[i]));
        memcpy(f[i].b, full.b, 40);
        memcpy(f[i].b + 40, full.b + 56, full.len - 56); /* drop the two option headers */
        f[i].len = full.len - 16;
        f[i].b[5] = (uint8_t)(f[i].len - 40);
        f[i].b[6] = 44;
    }
    assert_int_equal(add(&f[0], 1, &res), 0);
    assert_int_equal(add(&f[1], 2, &res), 1);
    assert_int_equal(res.len, 40 + 48);
    assert_int_equal(res.data[6], 17);
    assert_int_equal(res.data[5], 48);
}

static void
test_timeout(void **state)
{
    (void)state;
    struct defrag_result res;
    struct frag f0 = ipv4_frag(7, 0, true, dgram, 16);
    struct frag f2 = ipv4_frag(7, 32, false, dgram + 32, 16);
    struct frag f1 = ipv4_frag(7, 16, true, dgram + 16, 16);
    assert_int_equal(add(&f0, 1000, &res), 0);
    assert_int_equal(add(&f2, 2000, &res), 0);
    defrag_expire(ctx, 1000 + cfg.timeout_us - 1, &stats);
    assert_int_equal(stats.n_events[DECODE_EV_FRAG_TIMEOUT], 0);
    defrag_expire(ctx, 1000 + cfg.timeout_us, &stats);
    assert_int_equal(stats.n_events[DECODE_EV_FRAG_TIMEOUT], 1);
    assert_int_equal(defrag_mem_len(ctx), 0);
    /* The middle alone does not complete anything now */
    assert_int_equal(add(&f1, 1000 + cfg.timeout_us + 1, &res), 0);

    /* Expiry also runs from defrag_add, and only takes the old ones */
    struct frag g0 = ipv4_frag(8, 0, true, dgram, 16);
    assert_int_equal(add(&g0, 2 * cfg.timeout_us + 2000, &res), 0);
    assert_int_equal(stats.n_events[DECODE_EV_FRAG_TIMEOUT], 2);
    struct frag g1 = ipv4_frag(8, 16, false, dgram + 16, 32);
    assert_int_equal(add(&g1, 2 * cfg.timeout_us + 2005, &res), 1);
    check_ipv4_result(&res);
}

static void
test_memcap(void **state)
{
    (void)state;
    defrag_free(ctx);
    cfg.max_bytes = 100;
    cfg.max_datagrams = 2;
    ctx = defrag_new(&cfg);
    assert_non_null(ctx);

    struct defrag_result res;
    uint8_t big[160];
    memset(big, 'b', sizeof(big));
    struct frag f = ipv4_frag(1, 0, true, big, sizeof(big)); /* 160 bytes > 100 */
    assert_int_equal(add(&f, 1, &res), 0);
    assert_int_equal(stats.n_events[DECODE_EV_FRAG_MEMCAP], 1);
    assert_int_equal(defrag_mem_len(ctx), 0);

    /* Two datagrams fit the pool; a third does not */
    struct frag a = ipv4_frag(2, 8, true, dgram, 8);
    struct frag b = ipv4_frag(3, 8, true, dgram, 8);
    struct frag c = ipv4_frag(4, 8, true, dgram, 8);
    assert_int_equal(add(&a, 2, &res), 0);
    assert_int_equal(add(&b, 3, &res), 0);
    assert_int_equal(add(&c, 4, &res), 0);
    assert_int_equal(stats.n_events[DECODE_EV_FRAG_MEMCAP], 2);
    assert_true(defrag_mem_len(ctx) <= cfg.max_bytes);
    /* freed with datagrams still held: ASan would see a leak */
}

static void
test_too_large(void **state)
{
    (void)state;
    struct defrag_result res;
    /* Ping of death: offset 65528 + 16 bytes passes 65535 */
    struct frag pod = ipv4_frag(1, 65528, false, dgram, 16);
    assert_int_equal(add(&pod, 1, &res), 0);
    assert_int_equal(stats.n_events[DECODE_EV_FRAG_TOO_LARGE], 1);
    assert_int_equal(defrag_mem_len(ctx), 0);

    /* A payload that fits alone but not after a 60-byte header: found when complete. */
    /* IPv4: IHL 15, total length 68, id 2, MF, TTL 64, UDP, 10.0.0.1 > 10.0.0.2, then 40 bytes
     * of NOP options */
    struct frag first;
    memset(&first, 0, sizeof(first));
    const uint8_t hdr15[] = {0x4f, 0, 0, 68, 0, 2, 0x20, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2};
    memcpy(first.b, hdr15, sizeof(hdr15));
    memset(first.b + 20, 1, 40);
    memcpy(first.b + 60, dgram, 8);
    first.len = 68;
    assert_int_equal(add(&first, 2, &res), 0);

    /* The last fragment: offset 8, 65500 bytes of payload (total length 65520) */
    uint32_t len = 20 + 65500;
    uint8_t *last = calloc(1, len);
    assert_non_null(last);
    memcpy(last, ipv4_hdr, 20);
    last[2] = (uint8_t)(len >> 8);
    last[3] = (uint8_t)len;
    last[5] = 2;
    last[7] = 1; /* offset 8 */
    struct packet p;
    memset(&p, 0, sizeof(p));
    p.data = last;
    p.caplen = len;
    p.link = LINK_IPV4;
    p.ts_us = 3;
    assert_int_equal(decode_packet(&p, &stats), 0);
    assert_int_equal(defrag_add(ctx, &p, &stats, &res), 0);
    assert_int_equal(stats.n_events[DECODE_EV_FRAG_TOO_LARGE], 2);
    assert_int_equal(defrag_mem_len(ctx), 0);
    free(last);
}

static void
test_free_null_and_non_fragment(void **state)
{
    (void)state;
    defrag_free(NULL);
    struct packet p;
    memset(&p, 0, sizeof(p));
    struct defrag_result res;
    assert_int_equal(defrag_add(ctx, &p, &stats, &res), 0);
    assert_int_equal(defrag_mem_len(ctx), 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_ipv4_in_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ipv4_reverse_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ipv4_duplicates, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ipv4_overlap_first_wins, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ipv4_conflicting_end, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keys_kept_apart, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ipv6_ext_headers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ipv6_fragment_first_in_chain, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_memcap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_too_large, setup, teardown),
        cmocka_unit_test_setup_teardown(test_free_null_and_non_fragment, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
