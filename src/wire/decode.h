// SPDX-License-Identifier: Apache-2.0
// Layer 2 to 4 decoding: Ethernet, 802.1Q/802.1ad VLAN (QinQ), Linux cooked capture (SLL and
// SLL2), raw IP, IPv4, IPv6 with extension headers, TCP, UDP, ICMP and ICMPv6.
//
// decode_packet() fills a struct packet with views into the packet bytes: it copies nothing and
// allocates nothing. A malformed packet is never an error of the program: it is counted as a
// decode event (enum decode_event) and decoding stops at the layer that was bad, so the packet is
// still counted and, where the layers above it were sound, used. Fragments are marked as such;
// putting them back together is defrag.h's job.
//
// Thread safety: a struct decode_stats belongs to one thread.
#ifndef IASO_WIRE_DECODE_H
#define IASO_WIRE_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Link types, with libpcap's DLT values where they exist. */
enum link_type {
    LINK_NULL = 0,     /* BSD loopback: 4-byte address family in host order of the writer */
    LINK_ETHERNET = 1, /* DLT_EN10MB */
    LINK_RAW = 101,    /* LINKTYPE_RAW: starts with an IPv4 or IPv6 header (DLT_RAW is 12/14) */
    LINK_IPV4 = 228,   /* LINKTYPE_IPV4 */
    LINK_IPV6 = 229,   /* LINKTYPE_IPV6 */
    LINK_SLL = 113,    /* LINKTYPE_LINUX_SLL */
    LINK_SLL2 = 276,   /* LINKTYPE_LINUX_SLL2 */
};

/* Decode events: X(NAME, "eve_name", description). Names follow Suricata's decoder events. */
#define DECODE_EVENTS(X)                                                                           \
    X(LINK_UNSUPPORTED, "decoder.unsupported_link", "link type not supported")                     \
    X(ETH_TRUNCATED, "decoder.ethernet.pkt_too_small", "Ethernet header truncated")                \
    X(VLAN_TRUNCATED, "decoder.vlan.header_too_small", "VLAN header truncated")                    \
    X(VLAN_TOO_MANY, "decoder.vlan.too_many_layers", "more than two VLAN tags")                    \
    X(SLL_TRUNCATED, "decoder.sll.pkt_too_small", "Linux cooked header truncated")                 \
    X(NULL_TRUNCATED, "decoder.null.pkt_too_small", "loopback header truncated")                   \
    X(IPV4_TRUNCATED, "decoder.ipv4.pkt_too_small", "IPv4 header truncated")                       \
    X(IPV4_BAD_VERSION, "decoder.ipv4.wrong_ip_version", "IPv4 header with another version")       \
    X(IPV4_BAD_HLEN, "decoder.ipv4.hlen_too_small", "IPv4 header length below 20")                 \
    X(IPV4_BAD_TOTAL_LEN, "decoder.ipv4.iplen_smaller_than_hlen", "IPv4 total length invalid")     \
    X(IPV4_LEN_PAST_PACKET, "decoder.ipv4.trunc_pkt", "IPv4 total length past captured bytes")     \
    X(IPV4_OPT_INVALID, "decoder.ipv4.opt_invalid", "IPv4 options malformed")                      \
    X(IPV6_TRUNCATED, "decoder.ipv6.pkt_too_small", "IPv6 header truncated")                       \
    X(IPV6_BAD_VERSION, "decoder.ipv6.wrong_ip_version", "IPv6 header with another version")       \
    X(IPV6_LEN_PAST_PACKET, "decoder.ipv6.trunc_pkt", "IPv6 payload length past captured bytes")   \
    X(IPV6_EXTHDR_TRUNCATED, "decoder.ipv6.trunc_exthdr", "IPv6 extension header truncated")       \
    X(IPV6_EXTHDR_TOO_MANY, "decoder.ipv6.exthdr_too_many", "too many IPv6 extension headers")     \
    X(TCP_TRUNCATED, "decoder.tcp.pkt_too_small", "TCP header truncated")                          \
    X(TCP_BAD_HLEN, "decoder.tcp.hlen_too_small", "TCP data offset below 5 or past the packet")    \
    X(UDP_TRUNCATED, "decoder.udp.pkt_too_small", "UDP header truncated")                          \
    X(UDP_BAD_LEN, "decoder.udp.len_invalid", "UDP length does not match the IP payload")          \
    X(ICMP_TRUNCATED, "decoder.icmpv4.pkt_too_small", "ICMP header truncated")                     \
    X(ICMPV6_TRUNCATED, "decoder.icmpv6.pkt_too_small", "ICMPv6 header truncated")                 \
    X(FRAG_OVERLAP, "defrag.overlap", "overlapping IP fragments with different bytes")             \
    X(FRAG_TOO_LARGE, "defrag.too_large", "reassembled IP datagram over 65535 bytes")              \
    X(FRAG_MEMCAP, "defrag.memcap", "fragment dropped: defrag memory cap reached")                 \
    X(FRAG_TIMEOUT, "defrag.timeout", "incomplete fragmented datagram timed out")

enum decode_event {
#define DECODE_EV_ENUM_(name, eve, desc) DECODE_EV_##name,
    DECODE_EVENTS(DECODE_EV_ENUM_)
#undef DECODE_EV_ENUM_
        DECODE_EV_COUNT
};

const char *decode_event_name(enum decode_event ev);
const char *decode_event_description(enum decode_event ev);

struct decode_stats {
    uint64_t n_events[DECODE_EV_COUNT];
    uint64_t n_ipv4, n_ipv6, n_tcp, n_udp, n_icmp, n_other_l3, n_other_l4, n_fragments;
};

#define PACKET_MAX_VLAN 2

/* Addresses are 16 bytes; IPv4 is stored in the first four, the rest zero. */
struct ipaddr {
    uint8_t b[16];
};

struct packet {
    /* Filled in by the caller before decode_packet(). */
    uint64_t ts_us;      /* capture time, microseconds since the epoch */
    const uint8_t *data; /* borrowed: the captured bytes */
    uint32_t caplen;     /* captured length */
    uint32_t wire_len;   /* original length on the wire (pcap orig_len) */
    int link;            /* enum link_type */

    /* Filled in by decode_packet(). Offsets are from data; 0 means absent unless a flag says. */
    uint16_t vlan[PACKET_MAX_VLAN]; /* VLAN ids, outermost first */
    uint8_t n_vlan;
    uint8_t ip_version; /* 4, 6, or 0 when there is no IP layer */
    uint8_t proto;      /* IP protocol of the transport header (after IPv6 extension headers) */
    uint8_t ttl;        /* IPv4 TTL or IPv6 hop limit */
    bool has_l4;        /* a complete TCP/UDP/ICMP header was decoded */
    bool is_fragment;   /* IPv4 MF set or offset != 0, or an IPv6 Fragment header */
    uint16_t l2_off;    /* Ethernet header (MAC addresses), when link is Ethernet */
    bool has_mac;
    uint16_t l3_off;       /* IP header */
    uint16_t l4_off;       /* transport header */
    uint32_t l3_len;       /* IP datagram length per its header */
    uint32_t snap_missing; /* bytes of the datagram the capture's snap length cut off */
    struct ipaddr src, dst;
    uint16_t sport, dport; /* TCP/UDP ports; ICMP/ICMPv6: type in sport, code in dport */
    uint8_t tcp_flags;     /* FIN 0x01 SYN 0x02 RST 0x04 PSH 0x08 ACK 0x10 URG 0x20 ECE CWR */
    uint32_t tcp_seq, tcp_ack;
    uint16_t tcp_win;
    /* Fragment facts, when is_fragment. */
    uint32_t frag_id;  /* IPv4 id (16 bits) or IPv6 fragment id */
    uint16_t frag_off; /* in bytes */
    bool frag_more;
    uint16_t frag_payload_off; /* start of the fragment's payload (after the fragment header) */
    uint8_t frag_next_proto;   /* protocol carried by the fragmented datagram */
    const uint8_t *payload;    /* borrowed: the transport payload (or the fragment's payload) */
    uint32_t payload_len;
};

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_PSH 0x08
#define TCP_ACK 0x10
#define TCP_URG 0x20
#define TCP_ECE 0x40
#define TCP_CWR 0x80

/*
 * Decodes p->data[0..caplen) according to p->link. Returns 0 when the packet decoded to the
 * deepest layer it has, or the decode event that stopped it (>= 0 as enum decode_event + 1,
 * i.e. a positive number) after counting it in stats. Never fails otherwise.
 * Two events do not stop decoding and are only counted: VLAN_TOO_MANY (a third tag or more; the
 * walk goes on past them, up to 8 tags, then stops with it) and IPV4_OPT_INVALID.
 * stats must not be NULL.
 */
int decode_packet(struct packet *p, struct decode_stats *stats);

/*
 * Decodes an IP datagram that starts at data (e.g. one put back together from fragments) into p:
 * same contract as decode_packet, with p->link ignored and no layer 2. Sets p->data = data and
 * p->caplen = len; keeps ts_us, wire_len and the VLAN ids already in p.
 */
int decode_ip(struct packet *p, const uint8_t *data, uint32_t len, struct decode_stats *stats);

/* Formats an address as inet_ntop would ("10.0.0.1", "fd00::1"); returns the length. */
int ipaddr_format(const struct ipaddr *a, uint8_t ip_version, char *out, size_t out_len);

#endif
