// SPDX-License-Identifier: Apache-2.0
// The flow table: keying both directions together, VLAN separation, TCP state, timeouts by
// class, eviction of the longest-idle flow when full, port reuse, shutdown.
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "wire/flow.h"

#define SEC UINT64_C(1000000)

struct ended {
    uint64_t id;
    enum flow_end_reason reason;
    uint64_t pkts[2], bytes[2];
    uint8_t state, tcp_state, client;
};

static struct ended log_[256];
static int n_log;

static void
on_end(void *user, struct flow *f, enum flow_end_reason reason)
{
    (void)user;
    assert_true(n_log < 256);
    struct ended *e = &log_[n_log++];
    e->id = f->id;
    e->reason = reason;
    memcpy(e->pkts, f->pkts, sizeof(e->pkts));
    memcpy(e->bytes, f->bytes, sizeof(e->bytes));
    e->state = f->state;
    e->tcp_state = f->tcp_state;
    e->client = f->client;
}

/* A decoded IPv4 packet as decode_packet would leave it: 10.0.0.<a>:<sp> -> 10.0.0.<b>:<dp>. */
static struct packet
pkt(uint8_t proto, uint8_t a, uint16_t sp, uint8_t b, uint16_t dp, uint8_t flags, uint64_t ts)
{
    struct packet p;
    memset(&p, 0, sizeof(p));
    p.ts_us = ts;
    p.wire_len = 100;
    p.ip_version = 4;
    p.proto = proto;
    p.has_l4 = true;
    p.src.b[0] = 10;
    p.src.b[3] = a;
    p.dst.b[0] = 10;
    p.dst.b[3] = b;
    p.sport = sp;
    p.dport = dp;
    p.tcp_flags = flags;
    return p;
}

static struct flow_config
config(uint32_t max)
{
    struct flow_config c;
    c.max_flows = max;
    for (int i = 0; i < FLOW_TO_COUNT; i++)
        c.timeout_us[i] = 60 * SEC;
    c.timeout_us[FLOW_TO_TCP_CLOSED] = 5 * SEC;
    c.timeout_us[FLOW_TO_UDP_NEW] = 30 * SEC;
    return c;
}

static void
test_both_directions_one_flow(void **state)
{
    (void)state;
    n_log = 0;
    struct flow_config c = config(100);
    struct flow_table *t = flow_table_new(&c, on_end, NULL);
    assert_non_null(t);
    int dir;
    /* handshake, data, FIN from both */
    struct packet p = pkt(6, 1, 40000, 2, 104, TCP_SYN, 1 * SEC);
    struct flow *f = flow_table_packet(t, &p, &dir);
    assert_non_null(f);
    assert_int_equal(dir, FLOW_TOSERVER);
    assert_int_equal(f->tcp_state, FLOW_TCP_SYN_SENT);
    p = pkt(6, 2, 104, 1, 40000, TCP_SYN | TCP_ACK, 1 * SEC + 10);
    assert_ptr_equal(flow_table_packet(t, &p, &dir), f);
    assert_int_equal(dir, FLOW_TOCLIENT);
    assert_int_equal(f->tcp_state, FLOW_TCP_SYN_RECV);
    p = pkt(6, 1, 40000, 2, 104, TCP_ACK, 1 * SEC + 20);
    flow_table_packet(t, &p, &dir);
    assert_int_equal(f->tcp_state, FLOW_TCP_ESTABLISHED);
    assert_int_equal(f->state, FLOW_STATE_ESTABLISHED);
    p = pkt(6, 1, 40000, 2, 104, TCP_ACK | TCP_FIN, 2 * SEC);
    flow_table_packet(t, &p, &dir);
    assert_int_equal(f->tcp_state, FLOW_TCP_FIN_WAIT);
    p = pkt(6, 2, 104, 1, 40000, TCP_ACK | TCP_FIN, 2 * SEC + 1);
    flow_table_packet(t, &p, &dir);
    assert_int_equal(f->tcp_state, FLOW_TCP_CLOSED);
    assert_int_equal(f->state, FLOW_STATE_CLOSED);
    assert_int_equal(flow_table_stats(t)->n_created, 1);

    /* Closed flows go after the short closed timeout, not the established one. */
    flow_table_expire(t, 6 * SEC);
    assert_int_equal(n_log, 0);
    flow_table_expire(t, 7 * SEC + 1);
    assert_int_equal(n_log, 1);
    assert_int_equal(log_[0].reason, FLOW_END_TIMEOUT);
    assert_int_equal(log_[0].pkts[0], 3);
    assert_int_equal(log_[0].pkts[1], 2);
    assert_int_equal(log_[0].bytes[0], 300);
    assert_int_equal(flow_table_stats(t)->n_active, 0);
    flow_table_free(t);
}

static void
test_client_is_synack_receiver(void **state)
{
    (void)state;
    n_log = 0;
    struct flow_config c = config(100);
    struct flow_table *t = flow_table_new(&c, on_end, NULL);
    int dir;
    /* The capture starts at the SYN-ACK: its receiver is the client. */
    struct packet p = pkt(6, 2, 104, 1, 40000, TCP_SYN | TCP_ACK, SEC);
    struct flow *f = flow_table_packet(t, &p, &dir);
    assert_int_equal(dir, FLOW_TOCLIENT);
    /* Midstream UDP: the first sender is the client. */
    p = pkt(17, 5, 53, 6, 3333, 0, SEC);
    struct flow *u = flow_table_packet(t, &p, &dir);
    assert_int_equal(dir, FLOW_TOSERVER);
    assert_int_equal(u->state, FLOW_STATE_NEW);
    p = pkt(17, 6, 3333, 5, 53, 0, SEC + 1);
    flow_table_packet(t, &p, &dir);
    assert_int_equal(dir, FLOW_TOCLIENT);
    assert_int_equal(u->state, FLOW_STATE_ESTABLISHED);
    assert_ptr_not_equal(f, u);
    flow_table_flush(t);
    assert_int_equal(n_log, 2);
    assert_int_equal(log_[0].reason, FLOW_END_SHUTDOWN);
    flow_table_free(t);
}

static void
test_vlan_separates(void **state)
{
    (void)state;
    n_log = 0;
    struct flow_config c = config(100);
    struct flow_table *t = flow_table_new(&c, on_end, NULL);
    int dir;
    struct packet p = pkt(17, 1, 1000, 2, 2000, 0, SEC);
    p.n_vlan = 1;
    p.vlan[0] = 10;
    struct flow *a = flow_table_packet(t, &p, &dir);
    p.vlan[0] = 20;
    struct flow *b = flow_table_packet(t, &p, &dir);
    p.n_vlan = 0;
    struct flow *untagged = flow_table_packet(t, &p, &dir);
    assert_ptr_not_equal(a, b);
    assert_ptr_not_equal(a, untagged);
    assert_ptr_not_equal(b, untagged);
    assert_int_equal(flow_table_stats(t)->n_created, 3);
    /* Same key both ways: the hash is symmetric. */
    struct flow_key k1, k2;
    struct packet q1 = pkt(6, 1, 1, 2, 2, 0, 0), q2 = pkt(6, 2, 2, 1, 1, 0, 0);
    assert_int_equal(flow_key_from_packet(&q1, &k1), 0);
    assert_int_equal(flow_key_from_packet(&q2, &k2), 1);
    assert_memory_equal(&k1, &k2, sizeof(k1));
    assert_true(flow_key_hash(&k1) == flow_key_hash(&k2));
    flow_table_flush(t);
    flow_table_free(t);
}

static void
test_eviction_and_timeouts(void **state)
{
    (void)state;
    n_log = 0;
    struct flow_config c = config(64);
    struct flow_table *t = flow_table_new(&c, on_end, NULL);
    int dir;
    /* 64 UDP flows, one per second; flow 0 is refreshed at the end so flow 1 is the oldest. */
    for (int i = 0; i < 64; i++) {
        struct packet p = pkt(17, 1, (uint16_t)(1000 + i), 2, 53, 0, (uint64_t)i * SEC / 10);
        flow_table_packet(t, &p, &dir);
    }
    struct packet p0 = pkt(17, 1, 1000, 2, 53, 0, 7 * SEC);
    flow_table_packet(t, &p0, &dir);
    assert_int_equal(flow_table_stats(t)->n_active, 64);
    /* One more: the longest idle (port 1001) is evicted. */
    struct packet p = pkt(17, 1, 5000, 2, 53, 0, 8 * SEC);
    assert_non_null(flow_table_packet(t, &p, &dir));
    assert_int_equal(n_log, 1);
    assert_int_equal(log_[0].reason, FLOW_END_FORCED);
    assert_int_equal(flow_table_stats(t)->n_evicted, 1);
    assert_int_equal(flow_table_stats(t)->n_active, 64);
    /* UDP new timeout is 30 s: at 36.35 s the flows last seen before 6.35 s are gone. */
    flow_table_expire(t, 36 * SEC + 350000);
    assert_int_equal(flow_table_stats(t)->n_timed_out, 62);
    assert_int_equal(flow_table_stats(t)->n_active, 2);
    assert_true(flow_table_bytes_each(t) <= 256);
    flow_table_flush(t);
    assert_int_equal(flow_table_stats(t)->n_active, 0);
    flow_table_free(t);
    flow_table_free(NULL);
}

static void
test_port_reuse(void **state)
{
    (void)state;
    n_log = 0;
    struct flow_config c = config(100);
    struct flow_table *t = flow_table_new(&c, on_end, NULL);
    int dir;
    struct packet p = pkt(6, 1, 40000, 2, 445, TCP_SYN, SEC);
    struct flow *f = flow_table_packet(t, &p, &dir);
    uint64_t first_id = f->id;
    p = pkt(6, 2, 445, 1, 40000, TCP_RST | TCP_ACK, SEC + 1);
    flow_table_packet(t, &p, &dir);
    assert_int_equal(f->state, FLOW_STATE_CLOSED);
    /* A new SYN on the same tuple within the closed timeout starts a new flow. */
    p = pkt(6, 1, 40000, 2, 445, TCP_SYN, 2 * SEC);
    struct flow *g = flow_table_packet(t, &p, &dir);
    assert_int_equal(n_log, 1);
    assert_int_equal(log_[0].reason, FLOW_END_REUSE);
    assert_int_equal(log_[0].id, first_id);
    assert_true(g->id != first_id);
    assert_int_equal(g->pkts[0], 1);
    /* A packet without IP is not a flow. */
    struct packet arp;
    memset(&arp, 0, sizeof(arp));
    assert_null(flow_table_packet(t, &arp, &dir));
    flow_table_flush(t);
    flow_table_free(t);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_both_directions_one_flow),
        cmocka_unit_test(test_client_is_synack_receiver),
        cmocka_unit_test(test_vlan_separates),
        cmocka_unit_test(test_eviction_and_timeouts),
        cmocka_unit_test(test_port_reuse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
