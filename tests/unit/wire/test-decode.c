// SPDX-License-Identifier: Apache-2.0
// Unit tests for the L2-L4 decoder: every link type, VLAN stacks, IPv4 and IPv6 (extension
// headers, fragments, atomic fragments), TCP, UDP, ICMP, and each malformed case raising its event.
//
// Packets are built from the header blocks below, each commented byte by byte, and concatenated;
// a test patches single bytes to make a malformed case.
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "wire/decode.h"

/* Ethernet: dst 00:11:22:33:44:55, src 66:77:88:99:aa:bb, EtherType IPv4 */
static const uint8_t eth_ipv4[] = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66,
                                   0x77, 0x88, 0x99, 0xaa, 0xbb, 0x08, 0x00};
/* Ethernet: same MACs, EtherType IPv6 */
static const uint8_t eth_ipv6[] = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66,
                                   0x77, 0x88, 0x99, 0xaa, 0xbb, 0x86, 0xdd};
/* Ethernet: same MACs, EtherType ARP */
static const uint8_t eth_arp[] = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66,
                                  0x77, 0x88, 0x99, 0xaa, 0xbb, 0x08, 0x06};

/* IPv4: version 4 IHL 5, TOS 0, total length 44, id 0x1234, no flags/offset, TTL 64, TCP,
 * checksum 0 (not checked), 10.0.0.1 > 10.0.0.2 */
static const uint8_t ipv4_tcp[] = {0x45, 0x00, 0x00, 44, 0x12, 0x34, 0x00, 0x00, 0x40, 6,
                                   0x00, 0x00, 10,   0,  0,    1,    10,   0,    0,    2};
/* TCP: port 1234 > 80, seq 1, ack 2, data offset 5, flags PSH|ACK, window 512, checksum 0,
 * urgent 0 */
static const uint8_t tcp_hdr[] = {0x04, 0xd2, 0x00, 0x50, 0, 0, 0, 1, 0, 0,
                                  0,    2,    0x50, 0x18, 2, 0, 0, 0, 0, 0};
/* TCP payload */
static const uint8_t abcd[] = {'a', 'b', 'c', 'd'};

/* IPv6: version 6, traffic class 0, flow 0, payload length 12, next header UDP, hop limit 63,
 * fd00::1 > fd00::2 */
static const uint8_t ipv6_udp[] = {
    0x60, 0x00, 0x00, 0x00, 0x00, 12,   17, 63, 0xfd, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0,    0,    0,    1,    0xfd, 0x00, 0,  0,  0,    0,    0, 0, 0, 0, 0, 0, 0, 0, 0, 2};
/* UDP: port 5353 > 53, length 12, checksum 0 */
static const uint8_t udp_hdr[] = {0x14, 0xe9, 0x00, 0x35, 0x00, 12, 0x00, 0x00};

/* IPv4 for the UDP header above: total length 32, UDP, 192.168.1.1 > 192.168.1.2 */
static const uint8_t ipv4_udp[] = {0x45, 0x00, 0x00, 32,  0x00, 0x01, 0x00, 0x00, 0x40, 17,
                                   0x00, 0x00, 192,  168, 1,    1,    192,  168,  1,    2};

struct pkt {
    uint8_t b[512];
    uint32_t len;
};

static void
put(struct pkt *k, const void *bytes, size_t len)
{
    assert_true(k->len + len <= sizeof(k->b));
    memcpy(k->b + k->len, bytes, len);
    k->len += (uint32_t)len;
}

static struct decode_stats stats;

static int
reset(void **state)
{
    (void)state;
    memset(&stats, 0, sizeof(stats));
    return 0;
}

static int
decode(int link, const struct pkt *k, struct packet *p)
{
    memset(p, 0xa5, sizeof(*p)); /* stale fields must be cleared by the decoder */
    p->ts_us = 1;
    p->data = k->b;
    p->caplen = k->len;
    p->wire_len = k->len;
    p->link = link;
    return decode_packet(p, &stats);
}

#define EV(name) ((int)DECODE_EV_##name + 1)

static uint64_t
n_events_total(void)
{
    uint64_t n = 0;
    for (int i = 0; i < DECODE_EV_COUNT; i++)
        n += stats.n_events[i];
    return n;
}

/* The Ethernet/IPv4/TCP packet every IPv4 test starts from. */
static struct pkt
eth_tcp_packet(void)
{
    struct pkt k = {.len = 0};
    put(&k, eth_ipv4, sizeof(eth_ipv4));
    put(&k, ipv4_tcp, sizeof(ipv4_tcp));
    put(&k, tcp_hdr, sizeof(tcp_hdr));
    put(&k, abcd, sizeof(abcd));
    return k;
}

static void
test_ethernet_ipv4_tcp(void **state)
{
    (void)state;
    struct pkt k = eth_tcp_packet();
    struct packet p;
    assert_int_equal(decode(LINK_ETHERNET, &k, &p), 0);
    assert_true(p.has_mac);
    assert_int_equal(p.l2_off, 0);
    assert_int_equal(p.n_vlan, 0);
    assert_int_equal(p.ip_version, 4);
    assert_int_equal(p.l3_off, 14);
    assert_int_equal(p.l3_len, 44);
    assert_int_equal(p.ttl, 64);
    assert_int_equal(p.proto, 6);
    const uint8_t src[16] = {10, 0, 0, 1}, dst[16] = {10, 0, 0, 2};
    assert_memory_equal(p.src.b, src, 16);
    assert_memory_equal(p.dst.b, dst, 16);
    assert_true(p.has_l4);
    assert_false(p.is_fragment);
    assert_int_equal(p.l4_off, 34);
    assert_int_equal(p.sport, 1234);
    assert_int_equal(p.dport, 80);
    assert_int_equal(p.tcp_seq, 1);
    assert_int_equal(p.tcp_ack, 2);
    assert_int_equal(p.tcp_flags, TCP_PSH | TCP_ACK);
    assert_int_equal(p.tcp_win, 512);
    assert_int_equal(p.payload_len, 4);
    assert_ptr_equal(p.payload, k.b + 54);
    assert_int_equal(stats.n_ipv4, 1);
    assert_int_equal(stats.n_tcp, 1);
    assert_int_equal(n_events_total(), 0);
}

static void
test_ethernet_padding_ignored(void **state)
{
    (void)state;
    struct pkt k = eth_tcp_packet();
    const uint8_t pad[6] = {0xee, 0xee, 0xee, 0xee, 0xee, 0xee}; /* frame padding to 64 */
    put(&k, pad, sizeof(pad));
    struct packet p;
    assert_int_equal(decode(LINK_ETHERNET, &k, &p), 0);
    assert_int_equal(p.l3_len, 44);
    assert_int_equal(p.payload_len, 4);
}

static void
test_ethernet_truncated_and_non_ip(void **state)
{
    (void)state;
    struct pkt k = {.len = 0};
    put(&k, eth_ipv4, 13);
    struct packet p;
    assert_int_equal(decode(LINK_ETHERNET, &k, &p), EV(ETH_TRUNCATED));
    assert_int_equal(stats.n_events[DECODE_EV_ETH_TRUNCATED], 1);

    k.len = 0;
    put(&k, eth_arp, sizeof(eth_arp));
    put(&k, abcd, sizeof(abcd)); /* not an ARP body, but ARP is not decoded */
    assert_int_equal(decode(LINK_ETHERNET, &k, &p), 0);
    assert_int_equal(p.ip_version, 0);
    assert_false(p.has_l4);
    assert_int_equal(stats.n_other_l3, 1);
}

/* Ethernet MACs followed by the given tags (TPID, VLAN id) and IPv4. */
static struct pkt
vlan_packet(const uint16_t *tpid, const uint16_t *vid, unsigned n)
{
    struct pkt k = {.len = 0};
    put(&k, eth_ipv4, 12);
    for (unsigned i = 0; i < n; i++) {
        /* TPID, then TCI: priority 5 (0xa000) | VLAN id */
        uint8_t tag[4] = {(uint8_t)(tpid[i] >> 8), (uint8_t)tpid[i], (uint8_t)(0xa0 | vid[i] >> 8),
                          (uint8_t)vid[i]};
        put(&k, tag, sizeof(tag));
    }
    put(&k, eth_ipv4 + 12, 2); /* EtherType IPv4 */
    put(&k, ipv4_tcp, sizeof(ipv4_tcp));
    put(&k, tcp_hdr, sizeof(tcp_hdr));
    put(&k, abcd, sizeof(abcd));
    return k;
}

static void
test_vlan_single_and_qinq(void **state)
{
    (void)state;
    struct packet p;
    const uint16_t q[] = {0x8100}, qid[] = {100};
    struct pkt k = vlan_packet(q, qid, 1);
    assert_int_equal(decode(LINK_ETHERNET, &k, &p), 0);
    assert_int_equal(p.n_vlan, 1);
    assert_int_equal(p.vlan[0], 100);
    assert_int_equal(p.l3_off, 18);
    assert_true(p.has_l4);

    const uint16_t ad[] = {0x88a8, 0x8100}, adid[] = {200, 0xfff};
    k = vlan_packet(ad, adid, 2);
    assert_int_equal(decode(LINK_ETHERNET, &k, &p), 0);
    assert_int_equal(p.n_vlan, 2);
    assert_int_equal(p.vlan[0], 200);
    assert_int_equal(p.vlan[1], 0xfff);
    assert_int_equal(p.l3_off, 22);
    assert_int_equal(p.sport, 1234);

    const uint16_t old[] = {0x9100, 0x8100}, oldid[] = {7, 8};
    k = vlan_packet(old, oldid, 2);
    assert_int_equal(decode(LINK_ETHERNET, &k, &p), 0);
    assert_int_equal(p.n_vlan, 2);
    assert_int_equal(p.vlan[0], 7);
    assert_int_equal(p.vlan[1], 8);
    assert_int_equal(n_events_total(), 0);
}

static void
test_vlan_too_many(void **state)
{
    (void)state;
    struct packet p;
    /* Three tags: counted, the first two kept, decoding goes on to TCP. */
    const uint16_t t3[] = {0x88a8, 0x8100, 0x8100}, id3[] = {1, 2, 3};
    struct pkt k = vlan_packet(t3, id3, 3);
    assert_int_equal(decode(LINK_ETHERNET, &k, &p), 0);
    assert_int_equal(stats.n_events[DECODE_EV_VLAN_TOO_MANY], 1);
    assert_int_equal(p.n_vlan, 2);
    assert_int_equal(p.vlan[0], 1);
    assert_int_equal(p.vlan[1], 2);
    assert_int_equal(p.l3_off, 26);
    assert_true(p.has_l4);

    /* Nine tags: past the walk cap, decoding stops; still one event for the packet. */
    uint16_t t9[9], id9[9];
    for (unsigned i = 0; i < 9; i++) {
        t9[i] = 0x8100;
        id9[i] = (uint16_t)i;
    }
    k = vlan_packet(t9, id9, 9);
    assert_int_equal(decode(LINK_ETHERNET, &k, &p), EV(VLAN_TOO_MANY));
    assert_int_equal(stats.n_events[DECODE_EV_VLAN_TOO_MANY], 2);
    assert_int_equal(p.ip_version, 0);
}

static void
test_vlan_truncated(void **state)
{
    (void)state;
    struct pkt k = {.len = 0};
    put(&k, eth_ipv4, 12);
    const uint8_t tag[] = {0x81, 0x00, 0x00}; /* TPID 802.1Q and one byte of TCI */
    put(&k, tag, sizeof(tag));
    struct packet p;
    assert_int_equal(decode(LINK_ETHERNET, &k, &p), EV(VLAN_TRUNCATED));
    assert_int_equal(stats.n_events[DECODE_EV_VLAN_TRUNCATED], 1);
}

static void
test_sll(void **state)
{
    (void)state;
    /* SLL: packet type 0 (to us), ARPHRD_ETHER 1, address length 6, address + 2 pad bytes,
     * protocol IPv4 */
    const uint8_t sll[] = {0x00, 0x00, 0x00, 0x01, 0x00, 0x06, 0x66, 0x77,
                           0x88, 0x99, 0xaa, 0xbb, 0x00, 0x00, 0x08, 0x00};
    struct pkt k = {.len = 0};
    put(&k, sll, sizeof(sll));
    put(&k, ipv4_udp, sizeof(ipv4_udp));
    put(&k, udp_hdr, sizeof(udp_hdr));
    put(&k, abcd, sizeof(abcd));
    struct packet p;
    assert_int_equal(decode(LINK_SLL, &k, &p), 0);
    assert_false(p.has_mac);
    assert_int_equal(p.l3_off, 16);
    assert_int_equal(p.proto, 17);
    assert_int_equal(p.sport, 5353);
    assert_int_equal(p.dport, 53);
    assert_int_equal(p.payload_len, 4);
    assert_int_equal(stats.n_udp, 1);

    k.len = 15;
    assert_int_equal(decode(LINK_SLL, &k, &p), EV(SLL_TRUNCATED));
}

static void
test_sll2(void **state)
{
    (void)state;
    /* SLL2: protocol IPv6, reserved 0, interface index 3, ARPHRD_ETHER 1, packet type 4
     * (outgoing), address length 6, address + 2 pad bytes */
    const uint8_t sll2[] = {0x86, 0xdd, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0x00, 0x01,
                            0x04, 0x06, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0x00, 0x00};
    struct pkt k = {.len = 0};
    put(&k, sll2, sizeof(sll2));
    put(&k, ipv6_udp, sizeof(ipv6_udp));
    put(&k, udp_hdr, sizeof(udp_hdr));
    put(&k, abcd, sizeof(abcd));
    struct packet p;
    assert_int_equal(decode(LINK_SLL2, &k, &p), 0);
    assert_int_equal(p.ip_version, 6);
    assert_int_equal(p.l3_off, 20);
    assert_int_equal(p.l4_off, 60);
    assert_int_equal(p.ttl, 63);
    assert_int_equal(p.src.b[0], 0xfd);
    assert_int_equal(p.src.b[15], 1);
    assert_int_equal(p.dst.b[15], 2);
    assert_int_equal(p.sport, 5353);
    assert_int_equal(p.payload_len, 4);

    k.len = 19;
    assert_int_equal(decode(LINK_SLL2, &k, &p), EV(SLL_TRUNCATED));
    k.len = 1;
    assert_int_equal(decode(LINK_SLL2, &k, &p), EV(SLL_TRUNCATED));
}

static void
test_null_loopback(void **state)
{
    (void)state;
    struct packet p;
    struct pkt k = {.len = 0};
    /* AF_INET (2), little-endian writer */
    const uint8_t af2_le[] = {0x02, 0x00, 0x00, 0x00};
    put(&k, af2_le, 4);
    put(&k, ipv4_udp, sizeof(ipv4_udp));
    put(&k, udp_hdr, sizeof(udp_hdr));
    put(&k, abcd, sizeof(abcd));
    assert_int_equal(decode(LINK_NULL, &k, &p), 0);
    assert_int_equal(p.ip_version, 4);
    assert_int_equal(p.l3_off, 4);
    assert_true(p.has_l4);

    /* AF_INET (2), big-endian writer */
    k.b[0] = 0;
    k.b[3] = 2;
    assert_int_equal(decode(LINK_NULL, &k, &p), 0);
    assert_int_equal(p.ip_version, 4);

    /* AF_INET6 as macOS (30, little-endian), NetBSD (24, big-endian), FreeBSD (28) */
    const uint8_t af[][4] = {{30, 0, 0, 0}, {0, 0, 0, 24}, {28, 0, 0, 0}};
    for (unsigned i = 0; i < 3; i++) {
        k.len = 0;
        put(&k, af[i], 4);
        put(&k, ipv6_udp, sizeof(ipv6_udp));
        put(&k, udp_hdr, sizeof(udp_hdr));
        put(&k, abcd, sizeof(abcd));
        assert_int_equal(decode(LINK_NULL, &k, &p), 0);
        assert_int_equal(p.ip_version, 6);
        assert_true(p.has_l4);
    }

    /* AF 17 (not IP): other layer 3 */
    k.b[0] = 17;
    assert_int_equal(decode(LINK_NULL, &k, &p), 0);
    assert_int_equal(p.ip_version, 0);
    assert_int_equal(stats.n_other_l3, 1);

    k.len = 3;
    assert_int_equal(decode(LINK_NULL, &k, &p), EV(NULL_TRUNCATED));
}

static void
test_raw_links(void **state)
{
    (void)state;
    struct packet p;
    struct pkt v4 = {.len = 0}, v6 = {.len = 0};
    put(&v4, ipv4_udp, sizeof(ipv4_udp));
    put(&v4, udp_hdr, sizeof(udp_hdr));
    put(&v4, abcd, sizeof(abcd));
    put(&v6, ipv6_udp, sizeof(ipv6_udp));
    put(&v6, udp_hdr, sizeof(udp_hdr));
    put(&v6, abcd, sizeof(abcd));

    const int raw[] = {LINK_RAW, 12, 14};
    for (unsigned i = 0; i < 3; i++) {
        assert_int_equal(decode(raw[i], &v4, &p), 0);
        assert_int_equal(p.ip_version, 4);
        assert_int_equal(p.l3_off, 0);
        assert_true(p.has_l4);
        assert_int_equal(decode(raw[i], &v6, &p), 0);
        assert_int_equal(p.ip_version, 6);
        assert_true(p.has_l4);
    }
    assert_int_equal(decode(LINK_IPV4, &v4, &p), 0);
    assert_int_equal(p.ip_version, 4);
    assert_int_equal(decode(LINK_IPV6, &v6, &p), 0);
    assert_int_equal(p.ip_version, 6);

    /* The wrong version for a fixed-version link */
    assert_int_equal(decode(LINK_IPV4, &v6, &p), EV(IPV4_BAD_VERSION));
    assert_int_equal(decode(LINK_IPV6, &v4, &p), EV(IPV6_TRUNCATED)); /* 32 bytes: length first */
    struct pkt v4_long = v4;
    put(&v4_long, ipv4_udp, sizeof(ipv4_udp)); /* 52 bytes: room for an IPv6 header */
    assert_int_equal(decode(LINK_IPV6, &v4_long, &p), EV(IPV6_BAD_VERSION));

    /* Raw IP with version 5, and an empty packet */
    v4.b[0] = 0x55;
    assert_int_equal(decode(LINK_RAW, &v4, &p), EV(IPV4_BAD_VERSION));
    v4.len = 0;
    assert_int_equal(decode(LINK_RAW, &v4, &p), EV(IPV4_TRUNCATED));

    assert_int_equal(decode(9999, &v6, &p), EV(LINK_UNSUPPORTED));
    assert_int_equal(stats.n_events[DECODE_EV_LINK_UNSUPPORTED], 1);
}

static void
test_ipv4_malformed(void **state)
{
    (void)state;
    struct packet p;
    struct pkt k = eth_tcp_packet();

    k.len = 14 + 19; /* one byte short of the fixed header */
    assert_int_equal(decode(LINK_ETHERNET, &k, &p), EV(IPV4_TRUNCATED));
    assert_int_equal(p.ip_version, 0);

    k = eth_tcp_packet();
    k.b[14] = 0x44; /* IHL 4 */
    assert_int_equal(decode(LINK_ETHERNET, &k, &p), EV(IPV4_BAD_HLEN));

    k = eth_tcp_packet();
    k.b[14] = 0x4f; /* IHL 15: 60 bytes, 58 captured */
    k.b[17] = 60;
    k.len = 14 + 58;
    assert_int_equal(decode(LINK_ETHERNET, &k, &p), EV(IPV4_TRUNCATED));

    k = eth_tcp_packet();
    k.b[17] = 19; /* total length below the header length */
    assert_int_equal(decode(LINK_ETHERNET, &k, &p), EV(IPV4_BAD_TOTAL_LEN));

    k = eth_tcp_packet();
    k.b[17] = 60; /* total length 60, 44 captured: addresses kept, nothing above */
    assert_int_equal(decode(LINK_ETHERNET, &k, &p), EV(IPV4_LEN_PAST_PACKET));
    assert_int_equal(p.ip_version, 4);
    assert_int_equal(p.l3_len, 44);
    assert_int_equal(p.src.b[3], 1);
    assert_int_equal(p.dst.b[3], 2);
    assert_false(p.has_l4);
    assert_int_equal(p.sport, 0);

    k = eth_tcp_packet();
    k.b[14] = 0x65; /* version 6 after an IPv4 EtherType */
    assert_int_equal(decode(LINK_ETHERNET, &k, &p), EV(IPV4_BAD_VERSION));
    assert_int_equal(stats.n_ipv4, 6);
}

/* Packets cut by the capture's snap length are sound: what was captured is decoded. */
static void
test_snapped(void **state)
{
    (void)state;
    struct packet p;
    struct pkt k = eth_tcp_packet();
    /* 58 bytes captured of a 100-byte frame: the IPv4 total length (86) fits the wire length. */
    k.b[17] = 86;
    k.len = 58;
    memset(&p, 0, sizeof(p));
    p.data = k.b;
    p.caplen = 58;
    p.wire_len = 100;
    p.link = LINK_ETHERNET;
    assert_int_equal(decode_packet(&p, &stats), 0);
    assert_true(p.has_l4);
    assert_int_equal(p.sport, 1234);
    assert_int_equal(p.l3_len, 86);
    assert_int_equal(p.snap_missing, 42);
    assert_int_equal(p.payload_len, 4); /* "abcd" only */
    assert_int_equal(n_events_total(), 0);

    /* The same length field on a frame that was only 58 bytes on the wire is a lie. */
    p.wire_len = 58;
    assert_int_equal(decode_packet(&p, &stats), EV(IPV4_LEN_PAST_PACKET));

    /* UDP in IPv6 cut after 4 payload bytes: UDP length 12 is checked against the wire. */
    struct pkt u = {.len = 0};
    put(&u, eth_ipv6, sizeof(eth_ipv6));
    put(&u, ipv6_udp, sizeof(ipv6_udp));
    put(&u, udp_hdr, sizeof(udp_hdr));
    put(&u, abcd, sizeof(abcd));
    memset(&p, 0, sizeof(p));
    p.data = u.b;
    p.caplen = u.len - 2;
    p.wire_len = u.len;
    p.link = LINK_ETHERNET;
    assert_int_equal(decode_packet(&p, &stats), 0);
    assert_true(p.has_l4);
    assert_int_equal(p.dport, 53);
    assert_int_equal(p.payload_len, 2);
    assert_int_equal(p.snap_missing, 2);
}

/* A host that segments in the NIC (TSO) leaves the IPv4 total length 0 in what it captures. */
static void
test_tso_zero_length(void **state)
{
    (void)state;
    struct packet p;
    struct pkt k = eth_tcp_packet();
    k.b[16] = 0;
    k.b[17] = 0;
    assert_int_equal(decode(LINK_ETHERNET, &k, &p), 0);
    assert_true(p.has_l4);
    assert_int_equal(p.payload_len, 4);
    /* Not when part of the frame is missing: then the length cannot be known. */
    memset(&p, 0, sizeof(p));
    p.data = k.b;
    p.caplen = k.len;
    p.wire_len = k.len + 100;
    p.link = LINK_ETHERNET;
    assert_int_equal(decode_packet(&p, &stats), EV(IPV4_BAD_TOTAL_LEN));
}

/* IPv4 with 4 bytes of options before UDP. */
static struct pkt
ipv4_options_packet(const uint8_t opt[4])
{
    /* IPv4: IHL 6, total length 36, UDP, 10.0.0.1 > 10.0.0.2 */
    const uint8_t ip[] = {0x46, 0x00, 0x00, 36, 0x00, 0x01, 0x00, 0x00, 0x40, 17,
                          0x00, 0x00, 10,   0,  0,    1,    10,   0,    0,    2};
    struct pkt k = {.len = 0};
    put(&k, ip, sizeof(ip));
    put(&k, opt, 4);
    put(&k, udp_hdr, sizeof(udp_hdr));
    put(&k, abcd, sizeof(abcd));
    return k;
}

static void
test_ipv4_options(void **state)
{
    (void)state;
    struct packet p;
    /* Router alert (type 148, length 4, value 0) */
    const uint8_t ra[4] = {148, 4, 0, 0};
    struct pkt k = ipv4_options_packet(ra);
    assert_int_equal(decode(LINK_IPV4, &k, &p), 0);
    assert_int_equal(p.l4_off, 24);
    assert_true(p.has_l4);
    /* NOP, NOP, end of list, padding */
    const uint8_t nop[4] = {1, 1, 0, 0};
    k = ipv4_options_packet(nop);
    assert_int_equal(decode(LINK_IPV4, &k, &p), 0);
    assert_int_equal(n_events_total(), 0);

    /* An option whose length runs past the header: counted, decoding goes on */
    const uint8_t bad[4] = {7, 9, 0, 0};
    k = ipv4_options_packet(bad);
    assert_int_equal(decode(LINK_IPV4, &k, &p), 0);
    assert_int_equal(stats.n_events[DECODE_EV_IPV4_OPT_INVALID], 1);
    assert_true(p.has_l4);
    /* A length of 1 and a lone type byte at the end */
    const uint8_t one[4] = {7, 1, 0, 0}, lone[4] = {1, 1, 1, 7};
    k = ipv4_options_packet(one);
    assert_int_equal(decode(LINK_IPV4, &k, &p), 0);
    k = ipv4_options_packet(lone);
    assert_int_equal(decode(LINK_IPV4, &k, &p), 0);
    assert_int_equal(stats.n_events[DECODE_EV_IPV4_OPT_INVALID], 3);
}

static void
test_ipv4_fragments(void **state)
{
    (void)state;
    struct packet p;
    struct pkt k = eth_tcp_packet();
    k.b[20] = 0x20; /* MF, offset 0 */
    assert_int_equal(decode(LINK_ETHERNET, &k, &p), 0);
    assert_true(p.is_fragment);
    assert_false(p.has_l4);
    assert_int_equal(p.sport, 0);
    assert_int_equal(p.frag_id, 0x1234);
    assert_int_equal(p.frag_off, 0);
    assert_true(p.frag_more);
    assert_int_equal(p.frag_next_proto, 6);
    assert_int_equal(p.frag_payload_off, 34);
    assert_ptr_equal(p.payload, k.b + 34);
    assert_int_equal(p.payload_len, 24);

    k.b[20] = 0x40; /* DF only: not a fragment */
    assert_int_equal(decode(LINK_ETHERNET, &k, &p), 0);
    assert_false(p.is_fragment);
    assert_true(p.has_l4);

    k.b[20] = 0x00; /* last fragment at offset 185 * 8 */
    k.b[21] = 185;
    assert_int_equal(decode(LINK_ETHERNET, &k, &p), 0);
    assert_true(p.is_fragment);
    assert_false(p.frag_more);
    assert_int_equal(p.frag_off, 1480);
    assert_int_equal(stats.n_fragments, 2);
    assert_int_equal(stats.n_tcp, 1);
}

static void
test_tcp_options_and_boundaries(void **state)
{
    (void)state;
    struct packet p;
    /* IPv4: total length 52 (20 + 32), TCP, 10.0.0.1 > 10.0.0.2 */
    const uint8_t ip[] = {0x45, 0x00, 0x00, 52, 0x00, 0x01, 0x00, 0x00, 0x40, 6,
                          0x00, 0x00, 10,   0,  0,    1,    10,   0,    0,    2};
    /* TCP: 80 > 40000, seq 0x01020304, ack 0, data offset 7, flags SYN, window 65535 */
    const uint8_t tcp[] = {0x00, 0x50, 0x9c, 0x40, 1,    2,    3, 4, 0, 0,
                           0,    0,    0x70, 0x02, 0xff, 0xff, 0, 0, 0, 0};
    /* TCP options: MSS 1460, NOP, window scale 7, NOP, NOP, end */
    const uint8_t opts[8] = {2, 4, 0x05, 0xb4, 1, 3, 3, 7};
    const uint8_t data[4] = {'w', 'x', 'y', 'z'};
    struct pkt k = {.len = 0};
    put(&k, ip, sizeof(ip));
    put(&k, tcp, sizeof(tcp));
    put(&k, opts, sizeof(opts));
    put(&k, data, sizeof(data));
    assert_int_equal(decode(LINK_IPV4, &k, &p), 0);
    assert_int_equal(p.tcp_flags, TCP_SYN);
    assert_int_equal(p.tcp_seq, 0x01020304);
    assert_int_equal(p.tcp_win, 65535);
    assert_ptr_equal(p.payload, k.b + 48);
    assert_int_equal(p.payload_len, 4);

    /* Data offset 8: the header is exactly the IP payload, no payload */
    k.b[32] = 0x80;
    assert_int_equal(decode(LINK_IPV4, &k, &p), 0);
    assert_int_equal(p.payload_len, 0);
    assert_true(p.has_l4);

    /* Data offset 9: past the IP payload, even though padding would make room */
    const uint8_t pad[8] = {0};
    put(&k, pad, sizeof(pad));
    k.b[32] = 0x90;
    assert_int_equal(decode(LINK_IPV4, &k, &p), EV(TCP_BAD_HLEN));
    assert_false(p.has_l4);
    assert_int_equal(p.sport, 0);

    k.b[32] = 0x40; /* data offset 4 */
    assert_int_equal(decode(LINK_IPV4, &k, &p), EV(TCP_BAD_HLEN));

    k.b[3] = 39; /* IP payload 19 bytes: no room for a TCP header */
    assert_int_equal(decode(LINK_IPV4, &k, &p), EV(TCP_TRUNCATED));
    assert_int_equal(stats.n_events[DECODE_EV_TCP_BAD_HLEN], 2);
    assert_int_equal(stats.n_events[DECODE_EV_TCP_TRUNCATED], 1);
}

static void
test_udp_lengths(void **state)
{
    (void)state;
    struct packet p;
    struct pkt k = {.len = 0};
    put(&k, ipv4_udp, sizeof(ipv4_udp));
    put(&k, udp_hdr, sizeof(udp_hdr));
    put(&k, abcd, sizeof(abcd));
    assert_int_equal(decode(LINK_IPV4, &k, &p), 0);
    assert_int_equal(p.payload_len, 4);

    k.b[25] = 10; /* UDP length 10 < IP payload 12: payload bounded by UDP */
    assert_int_equal(decode(LINK_IPV4, &k, &p), 0);
    assert_int_equal(p.payload_len, 2);

    k.b[25] = 13; /* UDP length past the IP payload */
    assert_int_equal(decode(LINK_IPV4, &k, &p), EV(UDP_BAD_LEN));
    assert_false(p.has_l4);
    k.b[25] = 7; /* below the header */
    assert_int_equal(decode(LINK_IPV4, &k, &p), EV(UDP_BAD_LEN));
    assert_int_equal(stats.n_events[DECODE_EV_UDP_BAD_LEN], 2);

    k.b[3] = 27; /* IP payload 7 bytes */
    assert_int_equal(decode(LINK_IPV4, &k, &p), EV(UDP_TRUNCATED));
}

static void
test_icmp(void **state)
{
    (void)state;
    struct packet p;
    /* IPv4: total length 32, ICMP, 10.0.0.1 > 10.0.0.2 */
    const uint8_t ip[] = {0x45, 0x00, 0x00, 32, 0x00, 0x01, 0x00, 0x00, 0x40, 1,
                          0x00, 0x00, 10,   0,  0,    1,    10,   0,    0,    2};
    /* ICMP: destination unreachable (3), port unreachable (3), checksum, unused */
    const uint8_t icmp[] = {3, 3, 0, 0, 0, 0, 0, 0};
    struct pkt k = {.len = 0};
    put(&k, ip, sizeof(ip));
    put(&k, icmp, sizeof(icmp));
    put(&k, abcd, sizeof(abcd));
    assert_int_equal(decode(LINK_IPV4, &k, &p), 0);
    assert_true(p.has_l4);
    assert_int_equal(p.sport, 3);
    assert_int_equal(p.dport, 3);
    assert_int_equal(p.payload_len, 4);
    assert_int_equal(stats.n_icmp, 1);

    k.b[3] = 27; /* 7 bytes of ICMP */
    assert_int_equal(decode(LINK_IPV4, &k, &p), EV(ICMP_TRUNCATED));

    /* IPv6: payload length 8, next header ICMPv6, fd00::1 > fd00::2 */
    struct pkt k6 = {.len = 0};
    put(&k6, ipv6_udp, sizeof(ipv6_udp));
    k6.b[5] = 8;
    k6.b[6] = 58;
    /* ICMPv6: echo request (128), code 0, checksum, id 1, sequence 1 */
    const uint8_t echo6[] = {128, 0, 0, 0, 0, 1, 0, 1};
    put(&k6, echo6, sizeof(echo6));
    assert_int_equal(decode(LINK_IPV6, &k6, &p), 0);
    assert_int_equal(p.proto, 58);
    assert_int_equal(p.sport, 128);
    assert_int_equal(p.dport, 0);
    assert_int_equal(p.payload_len, 0);

    k6.b[5] = 4; /* 4 bytes of ICMPv6 */
    assert_int_equal(decode(LINK_IPV6, &k6, &p), EV(ICMPV6_TRUNCATED));
}

static void
test_ipv6_malformed(void **state)
{
    (void)state;
    struct packet p;
    struct pkt k = {.len = 0};
    put(&k, eth_ipv6, sizeof(eth_ipv6));
    put(&k, ipv6_udp, sizeof(ipv6_udp));
    put(&k, udp_hdr, sizeof(udp_hdr));
    put(&k, abcd, sizeof(abcd));
    assert_int_equal(decode(LINK_ETHERNET, &k, &p), 0);
    assert_true(p.has_l4);
    assert_int_equal(p.l3_len, 52);

    k.b[14 + 5] = 13; /* payload length past the capture */
    assert_int_equal(decode(LINK_ETHERNET, &k, &p), EV(IPV6_LEN_PAST_PACKET));
    assert_int_equal(p.ip_version, 6);
    assert_int_equal(p.dst.b[15], 2);
    assert_false(p.has_l4);

    k.b[14 + 5] = 12;
    k.b[14] = 0x40; /* version 4 after an IPv6 EtherType */
    assert_int_equal(decode(LINK_ETHERNET, &k, &p), EV(IPV6_BAD_VERSION));

    k.b[14] = 0x60;
    k.len = 14 + 39;
    assert_int_equal(decode(LINK_ETHERNET, &k, &p), EV(IPV6_TRUNCATED));
    assert_int_equal(stats.n_ipv6, 4);
}

/* IPv6 header (payload length and first next header patched in) followed by `ext`. */
static struct pkt
ipv6_packet(uint8_t first_nh, const uint8_t *ext, size_t ext_len)
{
    struct pkt k = {.len = 0};
    put(&k, ipv6_udp, sizeof(ipv6_udp));
    put(&k, ext, ext_len);
    k.b[4] = (uint8_t)((k.len - 40) >> 8);
    k.b[5] = (uint8_t)(k.len - 40);
    k.b[6] = first_nh;
    return k;
}

static void
test_ipv6_extension_chain(void **state)
{
    (void)state;
    struct packet p;
    const uint8_t chain[] = {
        /* Hop-by-hop: next routing (43), length 0 (8 bytes), PadN 4 */
        43, 0, 1, 4, 0, 0, 0, 0,
        /* Routing: next destination options (60), length 1 (16 bytes), type 4, segments 0 */
        60, 1, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        /* Destination options: next AH (51), length 0, PadN 4 */
        51, 0, 1, 4, 0, 0, 0, 0,
        /* AH: next UDP, payload length 4 ((4 + 2) * 4 = 24 bytes), reserved, SPI, seq, ICV */
        17, 4, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        /* UDP: 5353 > 53, length 12 */
        0x14, 0xe9, 0x00, 0x35, 0x00, 12, 0x00, 0x00,
        /* payload */
        'a', 'b', 'c', 'd'};
    struct pkt k = ipv6_packet(0, chain, sizeof(chain));
    assert_int_equal(decode(LINK_IPV6, &k, &p), 0);
    assert_int_equal(p.proto, 17);
    assert_int_equal(p.l4_off, 40 + 8 + 16 + 8 + 24);
    assert_true(p.has_l4);
    assert_int_equal(p.dport, 53);
    assert_int_equal(p.payload_len, 4);

    /* Cut inside the AH header */
    k = ipv6_packet(0, chain, 8 + 16 + 8 + 20);
    assert_int_equal(decode(LINK_IPV6, &k, &p), EV(IPV6_EXTHDR_TRUNCATED));
    /* One byte of the hop-by-hop header */
    k = ipv6_packet(0, chain, 1);
    assert_int_equal(decode(LINK_IPV6, &k, &p), EV(IPV6_EXTHDR_TRUNCATED));
    assert_int_equal(stats.n_events[DECODE_EV_IPV6_EXTHDR_TRUNCATED], 2);
}

static void
test_ipv6_extension_too_many(void **state)
{
    (void)state;
    struct packet p;
    /* Eight destination options headers (60, length 0, PadN 4) then UDP: at the cap, decoded */
    uint8_t ext[9 * 8 + 12];
    for (unsigned i = 0; i < 8; i++) {
        const uint8_t dst_opt[8] = {60, 0, 1, 4, 0, 0, 0, 0};
        memcpy(ext + (size_t)i * 8, dst_opt, 8);
    }
    ext[56] = 17;                 /* the eighth (at 7 * 8) names UDP */
    memcpy(ext + 64, udp_hdr, 8); /* after 8 * 8 bytes */
    memcpy(ext + 72, abcd, 4);
    struct pkt k = ipv6_packet(60, ext, 8 * 8 + 12);
    assert_int_equal(decode(LINK_IPV6, &k, &p), 0);
    assert_true(p.has_l4);

    /* Nine: over the cap */
    const uint8_t dst_opt_udp[8] = {17, 0, 1, 4, 0, 0, 0, 0};
    ext[56] = 60;
    memcpy(ext + 64, dst_opt_udp, 8);
    memcpy(ext + 72, udp_hdr, 8); /* after 9 * 8 bytes */
    memcpy(ext + 80, abcd, 4);
    k = ipv6_packet(60, ext, sizeof(ext));
    assert_int_equal(decode(LINK_IPV6, &k, &p), EV(IPV6_EXTHDR_TOO_MANY));
    assert_false(p.has_l4);
}

static void
test_ipv6_fragment_and_atomic(void **state)
{
    (void)state;
    struct packet p;
    const uint8_t ext[] = {/* Destination options: next fragment (44), length 0, PadN 4 */
                           44, 0, 1, 4, 0, 0, 0, 0,
                           /* Fragment: next UDP, reserved, offset 0 M=1, id 0xdeadbeef */
                           17, 0, 0x00, 0x01, 0xde, 0xad, 0xbe, 0xef,
                           /* UDP: 5353 > 53, length 12 (the whole datagram's) */
                           0x14, 0xe9, 0x00, 0x35, 0x00, 12, 0x00, 0x00,
                           /* payload */
                           'a', 'b', 'c', 'd'};
    struct pkt k = ipv6_packet(60, ext, sizeof(ext));
    assert_int_equal(decode(LINK_IPV6, &k, &p), 0);
    assert_true(p.is_fragment);
    assert_false(p.has_l4);
    assert_true(p.frag_more);
    assert_int_equal(p.frag_off, 0);
    assert_int_equal(p.frag_id, 0xdeadbeef);
    assert_int_equal(p.frag_next_proto, 17);
    assert_int_equal(p.frag_payload_off, 56);
    assert_int_equal(p.payload_len, 12);
    assert_int_equal(stats.n_fragments, 1);

    /* Offset 0x100 * 8 = 2048, M=0: a last fragment */
    k.b[40 + 10] = 0x08;
    k.b[40 + 11] = 0x00;
    assert_int_equal(decode(LINK_IPV6, &k, &p), 0);
    assert_true(p.is_fragment);
    assert_false(p.frag_more);
    assert_int_equal(p.frag_off, 2048);

    /* Offset 0, M=0: an atomic fragment, decoded as a whole datagram (RFC 6946) */
    k.b[40 + 10] = 0;
    k.b[40 + 11] = 0;
    assert_int_equal(decode(LINK_IPV6, &k, &p), 0);
    assert_false(p.is_fragment);
    assert_true(p.has_l4);
    assert_int_equal(p.proto, 17);
    assert_int_equal(p.sport, 5353);
    assert_int_equal(p.payload_len, 4);
    assert_int_equal(stats.n_fragments, 2);
}

static void
test_ipv6_esp_and_no_next(void **state)
{
    (void)state;
    struct packet p;
    /* ESP: SPI 1, sequence 1, then opaque bytes */
    const uint8_t esp[] = {0, 0, 0, 1, 0, 0, 0, 1, 0xaa, 0xbb, 0xcc, 0xdd};
    struct pkt k = ipv6_packet(50, esp, sizeof(esp));
    assert_int_equal(decode(LINK_IPV6, &k, &p), 0);
    assert_int_equal(p.proto, 50);
    assert_false(p.has_l4);
    assert_int_equal(p.l4_off, 40);
    assert_int_equal(p.payload_len, 12);

    /* Hop-by-hop then no next header (59) */
    const uint8_t none[] = {59, 0, 1, 4, 0, 0, 0, 0};
    k = ipv6_packet(0, none, sizeof(none));
    assert_int_equal(decode(LINK_IPV6, &k, &p), 0);
    assert_int_equal(p.proto, 59);
    assert_int_equal(p.payload_len, 0);
    assert_int_equal(stats.n_other_l4, 2);
    assert_int_equal(n_events_total(), 0);
}

static void
test_decode_ip_keeps_vlan(void **state)
{
    (void)state;
    struct packet p;
    const uint16_t ad[] = {0x88a8, 0x8100}, adid[] = {10, 20};
    struct pkt k = vlan_packet(ad, adid, 2);
    assert_int_equal(decode(LINK_ETHERNET, &k, &p), 0);

    struct pkt ip = {.len = 0};
    put(&ip, ipv4_udp, sizeof(ipv4_udp));
    put(&ip, udp_hdr, sizeof(udp_hdr));
    put(&ip, abcd, sizeof(abcd));
    assert_int_equal(decode_ip(&p, ip.b, ip.len, &stats), 0);
    assert_ptr_equal(p.data, ip.b);
    assert_int_equal(p.caplen, ip.len);
    assert_int_equal(p.n_vlan, 2);
    assert_int_equal(p.vlan[0], 10);
    assert_int_equal(p.vlan[1], 20);
    assert_false(p.has_mac);
    assert_int_equal(p.l3_off, 0);
    assert_int_equal(p.proto, 17);
    assert_int_equal(p.ts_us, 1);
}

static void
test_event_names(void **state)
{
    (void)state;
    assert_string_equal(decode_event_name(DECODE_EV_LINK_UNSUPPORTED), "decoder.unsupported_link");
    assert_string_equal(decode_event_name(DECODE_EV_FRAG_TIMEOUT), "defrag.timeout");
    assert_string_equal(decode_event_description(DECODE_EV_UDP_BAD_LEN),
                        "UDP length does not match the IP payload");
    assert_non_null(decode_event_name(DECODE_EV_COUNT));
    assert_non_null(decode_event_description((enum decode_event) - 1));
    for (int i = 0; i < DECODE_EV_COUNT; i++) {
        assert_non_null(decode_event_name((enum decode_event)i));
        assert_true(strlen(decode_event_description((enum decode_event)i)) > 0);
    }
}

static void
test_ipaddr_format(void **state)
{
    (void)state;
    char out[64];
    struct ipaddr a = {{10, 0, 0, 1}};
    assert_int_equal(ipaddr_format(&a, 4, out, sizeof(out)), 8);
    assert_string_equal(out, "10.0.0.1");
    struct ipaddr b = {{0xfd, 0x00, [15] = 1}};
    assert_int_equal(ipaddr_format(&b, 6, out, sizeof(out)), 7);
    assert_string_equal(out, "fd00::1");
    assert_true(ipaddr_format(&a, 4, out, 8) < 0); /* no room for the NUL */
    assert_true(ipaddr_format(&a, 0, out, sizeof(out)) < 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_ethernet_ipv4_tcp, reset),
        cmocka_unit_test_setup(test_ethernet_padding_ignored, reset),
        cmocka_unit_test_setup(test_ethernet_truncated_and_non_ip, reset),
        cmocka_unit_test_setup(test_vlan_single_and_qinq, reset),
        cmocka_unit_test_setup(test_vlan_too_many, reset),
        cmocka_unit_test_setup(test_vlan_truncated, reset),
        cmocka_unit_test_setup(test_sll, reset),
        cmocka_unit_test_setup(test_sll2, reset),
        cmocka_unit_test_setup(test_null_loopback, reset),
        cmocka_unit_test_setup(test_raw_links, reset),
        cmocka_unit_test_setup(test_ipv4_malformed, reset),
        cmocka_unit_test_setup(test_ipv4_options, reset),
        cmocka_unit_test_setup(test_ipv4_fragments, reset),
        cmocka_unit_test_setup(test_tcp_options_and_boundaries, reset),
        cmocka_unit_test_setup(test_udp_lengths, reset),
        cmocka_unit_test_setup(test_icmp, reset),
        cmocka_unit_test_setup(test_ipv6_malformed, reset),
        cmocka_unit_test_setup(test_ipv6_extension_chain, reset),
        cmocka_unit_test_setup(test_ipv6_extension_too_many, reset),
        cmocka_unit_test_setup(test_ipv6_fragment_and_atomic, reset),
        cmocka_unit_test_setup(test_ipv6_esp_and_no_next, reset),
        cmocka_unit_test_setup(test_decode_ip_keeps_vlan, reset),
        cmocka_unit_test_setup(test_event_names, reset),
        cmocka_unit_test_setup(test_snapped, reset),
        cmocka_unit_test_setup(test_tso_zero_length, reset),
        cmocka_unit_test_setup(test_ipaddr_format, reset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
