// SPDX-License-Identifier: Apache-2.0
// Layer 2 to 4 decoding. See decode.h for the contract.
//
// Each layer gets a cursor over exactly the bytes it may read (the IP layers narrow it to the
// datagram length, so Ethernet padding and caplen slack never reach TCP or UDP). A fixed header
// is checked once with cursor_need() and then read with load_* from the checked bytes, which
// keeps the common path to one length test per layer. A problem that stops a layer counts its
// event and returns it; the fields of the layers above it stay cleared.
#include "wire/decode.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>

#include "base/bytes.h"
#include "base/error.h"

#define ETH_HDR_LEN 14
#define VLAN_HDR_LEN 4
#define SLL_HDR_LEN 16
#define SLL2_HDR_LEN 20
#define NULL_HDR_LEN 4
#define IPV4_HDR_LEN 20
#define IPV6_HDR_LEN 40
#define TCP_HDR_LEN 20
#define UDP_HDR_LEN 8
#define ICMP_HDR_LEN 8 /* type, code, checksum and the 4-byte rest of header */

#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_IPV6 0x86dd
#define ETHERTYPE_8021Q 0x8100
#define ETHERTYPE_8021AD 0x88a8
#define ETHERTYPE_QINQ_OLD 0x9100 /* pre-802.1ad outer tag, still sent by some switches */

#define DLT_RAW_BSD 12     /* DLT_RAW on most BSDs */
#define DLT_RAW_OPENBSD 14 /* DLT_RAW on OpenBSD */

/*
 * Tags are walked past the two we record so the IP layer is still found, but not without end:
 * each tag costs 4 bytes, and a cap keeps l3_off far inside its 16 bits. No real network
 * stacks more than three.
 */
#define VLAN_WALK_MAX 8

/* RFC 7045 lets a chain be long; real traffic carries one or two. Caps the walk. */
#define IPV6_EXTHDR_MAX 8

#define IPPROTO_HOPOPTS_ 0
#define IPPROTO_ICMP_ 1
#define IPPROTO_TCP_ 6
#define IPPROTO_UDP_ 17
#define IPPROTO_ROUTING_ 43
#define IPPROTO_FRAGMENT_ 44
#define IPPROTO_ESP_ 50
#define IPPROTO_AH_ 51
#define IPPROTO_ICMPV6_ 58
#define IPPROTO_NONE_ 59
#define IPPROTO_DSTOPTS_ 60

static const char *const event_names[DECODE_EV_COUNT] = {
#define DECODE_EV_NAME_(name, eve, desc) eve,
    DECODE_EVENTS(DECODE_EV_NAME_)
#undef DECODE_EV_NAME_
};

static const char *const event_descriptions[DECODE_EV_COUNT] = {
#define DECODE_EV_DESC_(name, eve, desc) desc,
    DECODE_EVENTS(DECODE_EV_DESC_)
#undef DECODE_EV_DESC_
};

const char *
decode_event_name(enum decode_event ev)
{
    if ((unsigned)ev >= DECODE_EV_COUNT)
        return "decoder.unknown";
    return event_names[ev];
}

const char *
decode_event_description(enum decode_event ev)
{
    if ((unsigned)ev >= DECODE_EV_COUNT)
        return "unknown decode event";
    return event_descriptions[ev];
}

/* Counts a stopping event and returns it in decode_packet's encoding. */
static int
event(struct decode_stats *stats, enum decode_event ev)
{
    stats->n_events[ev]++;
    return (int)ev + 1;
}

/* Clears everything decode_packet() fills, and nothing the caller filled. */
static inline void
clear_decoded(struct packet *p)
{
    memset(&p->vlan, 0, sizeof(*p) - offsetof(struct packet, vlan));
}

/* Offset of the cursor's current position from p->data; fits: every layer's start is capped. */
static inline uint16_t
off_in(const struct packet *p, const struct cursor *c)
{
    return (uint16_t)(cursor_pos(c) - p->data);
}

/*
 * The transport layer. `c` covers exactly the IP payload as the IP header bounds it.
 */
static int
decode_l4(struct packet *p, struct cursor *c, struct decode_stats *stats)
{
    const uint8_t *h = cursor_pos(c);
    size_t len = cursor_left(c);

    p->l4_off = off_in(p, c);
    switch (p->proto) {
    case IPPROTO_TCP_: {
        stats->n_tcp++;
        if (!cursor_need(c, TCP_HDR_LEN))
            return event(stats, DECODE_EV_TCP_TRUNCATED);
        size_t hlen = (size_t)(h[12] >> 4) * 4;
        if (hlen < TCP_HDR_LEN || hlen > len)
            return event(stats, DECODE_EV_TCP_BAD_HLEN);
        p->sport = load_be16(h);
        p->dport = load_be16(h + 2);
        p->tcp_seq = load_be32(h + 4);
        p->tcp_ack = load_be32(h + 8);
        p->tcp_flags = h[13];
        p->tcp_win = load_be16(h + 14);
        p->payload = h + hlen;
        p->payload_len = (uint32_t)(len - hlen);
        p->has_l4 = true;
        return 0;
    }
    case IPPROTO_UDP_: {
        stats->n_udp++;
        if (!cursor_need(c, UDP_HDR_LEN))
            return event(stats, DECODE_EV_UDP_TRUNCATED);
        size_t ulen = load_be16(h + 4);
        if (ulen < UDP_HDR_LEN || ulen > len + p->snap_missing)
            return event(stats, DECODE_EV_UDP_BAD_LEN);
        p->sport = load_be16(h);
        p->dport = load_be16(h + 2);
        p->payload = h + UDP_HDR_LEN;
        p->payload_len = (uint32_t)((ulen < len ? ulen : len) - UDP_HDR_LEN);
        p->has_l4 = true;
        return 0;
    }
    case IPPROTO_ICMP_:
    case IPPROTO_ICMPV6_:
        stats->n_icmp++;
        if (!cursor_need(c, ICMP_HDR_LEN))
            return event(stats, p->proto == IPPROTO_ICMP_ ? DECODE_EV_ICMP_TRUNCATED
                                                          : DECODE_EV_ICMPV6_TRUNCATED);
        p->sport = h[0]; /* type */
        p->dport = h[1]; /* code */
        p->payload = h + ICMP_HDR_LEN;
        p->payload_len = (uint32_t)(len - ICMP_HDR_LEN);
        p->has_l4 = true;
        return 0;
    default:
        /* GRE, SCTP, ESP, ...: the IP payload is all we know of it. */
        stats->n_other_l4++;
        p->payload = h;
        p->payload_len = (uint32_t)len;
        return 0;
    }
}

/* True when the options area (RFC 791 TLVs) is well formed. At most 40 bytes. */
static bool
ipv4_options_ok(const uint8_t *opt, size_t len)
{
    size_t i = 0;
    while (i < len) {
        uint8_t type = opt[i];
        if (type == 0) /* end of option list */
            return true;
        if (type == 1) { /* no operation */
            i++;
            continue;
        }
        if (len - i < 2 || opt[i + 1] < 2 || opt[i + 1] > len - i)
            return false;
        i += opt[i + 1];
    }
    return true;
}

/* Bytes of the packet that were on the wire but not captured (the snap length cut them). */
static inline size_t
snapped_len(const struct packet *p)
{
    return p->wire_len > p->caplen ? p->wire_len - p->caplen : 0;
}

/* `c` starts at the IPv4 header and runs to the end of the captured bytes. */
static int
decode_ipv4(struct packet *p, struct cursor *c, struct decode_stats *stats)
{
    const uint8_t *h = cursor_pos(c);
    size_t avail = cursor_left(c);

    stats->n_ipv4++;
    if (!cursor_need(c, IPV4_HDR_LEN))
        return event(stats, DECODE_EV_IPV4_TRUNCATED);
    if (h[0] >> 4 != 4)
        return event(stats, DECODE_EV_IPV4_BAD_VERSION);
    size_t hlen = (size_t)(h[0] & 0x0f) * 4;
    if (hlen < IPV4_HDR_LEN)
        return event(stats, DECODE_EV_IPV4_BAD_HLEN);
    if (hlen > avail)
        return event(stats, DECODE_EV_IPV4_TRUNCATED);
    size_t total_len = load_be16(h + 2);
    /* Captured on a host that segments in the NIC (TSO): the stack leaves the length 0. When the
     * whole frame was captured, the datagram is what follows the header. */
    if (total_len == 0 && p->caplen == p->wire_len)
        total_len = avail;
    if (total_len < hlen)
        return event(stats, DECODE_EV_IPV4_BAD_TOTAL_LEN);

    p->ip_version = 4;
    p->l3_off = off_in(p, c);
    p->ttl = h[8];
    p->proto = h[9];
    memcpy(p->src.b, h + 12, 4);
    memcpy(p->dst.b, h + 16, 4);
    if (total_len > avail + snapped_len(p)) {
        /* Longer than the packet was on the wire: the addresses stand, nothing above does. */
        p->l3_len = (uint32_t)avail;
        return event(stats, DECODE_EV_IPV4_LEN_PAST_PACKET);
    }
    /* A datagram cut by the capture's snap length is sound: decode what was captured. */
    p->l3_len = (uint32_t)total_len;
    size_t cap_len = total_len <= avail ? total_len : avail;
    p->snap_missing = (uint32_t)(total_len - cap_len);
    if (hlen > IPV4_HDR_LEN && !ipv4_options_ok(h + IPV4_HDR_LEN, hlen - IPV4_HDR_LEN))
        stats->n_events[DECODE_EV_IPV4_OPT_INVALID]++; /* noted, not stopping */

    uint16_t frag = load_be16(h + 6);
    if (frag & 0x3fff) { /* MF or an offset */
        p->is_fragment = true;
        p->frag_id = load_be16(h + 4);
        p->frag_off = (uint16_t)((frag & 0x1fff) * 8);
        p->frag_more = (frag & 0x2000) != 0;
        p->frag_payload_off = (uint16_t)(p->l3_off + hlen);
        p->frag_next_proto = p->proto;
        p->payload = h + hlen;
        p->payload_len = (uint32_t)(cap_len - hlen);
        stats->n_fragments++;
        return 0;
    }
    struct cursor l4;
    cursor_init(&l4, h + hlen, cap_len - hlen);
    return decode_l4(p, &l4, stats);
}

/* `c` starts at the IPv6 header and runs to the end of the captured bytes. */
static int
decode_ipv6(struct packet *p, struct cursor *c, struct decode_stats *stats)
{
    const uint8_t *h = cursor_pos(c);
    size_t avail = cursor_left(c);

    stats->n_ipv6++;
    if (!cursor_need(c, IPV6_HDR_LEN))
        return event(stats, DECODE_EV_IPV6_TRUNCATED);
    if (h[0] >> 4 != 6)
        return event(stats, DECODE_EV_IPV6_BAD_VERSION);

    size_t plen = load_be16(h + 4);
    uint8_t nh = h[6];
    p->ip_version = 6;
    p->l3_off = off_in(p, c);
    p->ttl = h[7];
    p->proto = nh;
    memcpy(p->src.b, h + 8, 16);
    memcpy(p->dst.b, h + 24, 16);
    if (plen > avail - IPV6_HDR_LEN + snapped_len(p)) {
        p->l3_len = (uint32_t)avail;
        return event(stats, DECODE_EV_IPV6_LEN_PAST_PACKET);
    }
    p->l3_len = (uint32_t)(IPV6_HDR_LEN + plen);
    size_t cap_plen = plen <= avail - IPV6_HDR_LEN ? plen : avail - IPV6_HDR_LEN;
    p->snap_missing = (uint32_t)(plen - cap_plen);

    /* The extension header chain, inside the payload length (as far as it was captured). */
    struct cursor x;
    cursor_init(&x, h + IPV6_HDR_LEN, cap_plen);
    for (unsigned n_ext = 0;; n_ext++) {
        const uint8_t *e = cursor_pos(&x);
        size_t elen;
        switch (nh) {
        case IPPROTO_HOPOPTS_:
        case IPPROTO_ROUTING_:
        case IPPROTO_DSTOPTS_:
        case IPPROTO_AH_:
        case IPPROTO_FRAGMENT_:
            break;
        default:
            /* TCP, UDP, ICMPv6, ESP (50), no next header (59) or unknown: the chain ends. */
            p->proto = nh;
            if (nh == IPPROTO_NONE_ || nh == IPPROTO_ESP_) {
                p->l4_off = off_in(p, &x);
                p->payload = e;
                p->payload_len = (uint32_t)cursor_left(&x);
                stats->n_other_l4++;
                return 0;
            }
            return decode_l4(p, &x, stats);
        }
        if (n_ext >= IPV6_EXTHDR_MAX)
            return event(stats, DECODE_EV_IPV6_EXTHDR_TOO_MANY);
        if (!cursor_need(&x, 2))
            return event(stats, DECODE_EV_IPV6_EXTHDR_TRUNCATED);
        if (nh == IPPROTO_FRAGMENT_)
            elen = 8;
        else if (nh == IPPROTO_AH_)
            elen = ((size_t)e[1] + 2) * 4;
        else
            elen = ((size_t)e[1] + 1) * 8;
        if (!cursor_skip(&x, elen))
            return event(stats, DECODE_EV_IPV6_EXTHDR_TRUNCATED);
        if (nh == IPPROTO_FRAGMENT_) {
            uint16_t fo = load_be16(e + 2);
            /* Offset 0 without M is an atomic fragment (RFC 6946): a whole datagram. */
            if (fo & 0xfff9) {
                p->is_fragment = true;
                p->proto = e[0];
                p->frag_id = load_be32(e + 4);
                p->frag_off = (uint16_t)(fo & 0xfff8);
                p->frag_more = (fo & 1) != 0;
                p->frag_payload_off = off_in(p, &x);
                p->frag_next_proto = e[0];
                p->payload = cursor_pos(&x);
                p->payload_len = (uint32_t)cursor_left(&x);
                stats->n_fragments++;
                return 0;
            }
        }
        nh = e[0];
    }
}

/* `c` starts at an IP header whose version only the first nibble tells. */
static int
decode_ip_any(struct packet *p, struct cursor *c, struct decode_stats *stats)
{
    if (!cursor_need(c, 1))
        return event(stats, DECODE_EV_IPV4_TRUNCATED);
    switch (cursor_pos(c)[0] >> 4) {
    case 4:
        return decode_ipv4(p, c, stats);
    case 6:
        return decode_ipv6(p, c, stats);
    default:
        return event(stats, DECODE_EV_IPV4_BAD_VERSION);
    }
}

/* Decodes from an EtherType on: VLAN tags, then IPv4 or IPv6. `c` is at the EtherType's payload. */
static int
decode_ethertype(struct packet *p, struct cursor *c, uint16_t type, struct decode_stats *stats)
{
    unsigned n_tags = 0;
    while (type == ETHERTYPE_8021Q || type == ETHERTYPE_8021AD || type == ETHERTYPE_QINQ_OLD) {
        if (n_tags == PACKET_MAX_VLAN)
            stats->n_events[DECODE_EV_VLAN_TOO_MANY]++; /* once; decoding goes on */
        if (n_tags == VLAN_WALK_MAX)
            return (int)DECODE_EV_VLAN_TOO_MANY + 1; /* counted just above, tags ago */
        uint16_t tci = cursor_be16(c);
        type = cursor_be16(c);
        if (c->err)
            return event(stats, DECODE_EV_VLAN_TRUNCATED);
        if (p->n_vlan < PACKET_MAX_VLAN)
            p->vlan[p->n_vlan++] = (uint16_t)(tci & 0x0fff);
        n_tags++;
    }
    switch (type) {
    case ETHERTYPE_IPV4:
        return decode_ipv4(p, c, stats);
    case ETHERTYPE_IPV6:
        return decode_ipv6(p, c, stats);
    default:
        stats->n_other_l3++; /* ARP, LLDP, 802.3 lengths, ... */
        return 0;
    }
}

int
decode_packet(struct packet *p, struct decode_stats *stats)
{
    struct cursor c;
    clear_decoded(p);
    cursor_init(&c, p->data, p->caplen);

    switch (p->link) {
    case LINK_ETHERNET: {
        if (!cursor_skip(&c, 12))
            return event(stats, DECODE_EV_ETH_TRUNCATED);
        uint16_t type = cursor_be16(&c);
        if (c.err)
            return event(stats, DECODE_EV_ETH_TRUNCATED);
        p->has_mac = true;
        return decode_ethertype(p, &c, type, stats);
    }
    case LINK_SLL: {
        if (!cursor_skip(&c, 14))
            return event(stats, DECODE_EV_SLL_TRUNCATED);
        uint16_t type = cursor_be16(&c);
        if (c.err)
            return event(stats, DECODE_EV_SLL_TRUNCATED);
        return decode_ethertype(p, &c, type, stats);
    }
    case LINK_SLL2: {
        uint16_t type = cursor_be16(&c);
        if (!cursor_skip(&c, SLL2_HDR_LEN - 2))
            return event(stats, DECODE_EV_SLL_TRUNCATED);
        return decode_ethertype(p, &c, type, stats);
    }
    case LINK_NULL: {
        /* The address family is in the writer's byte order; the small reading is the right one. */
        if (!cursor_need(&c, NULL_HDR_LEN))
            return event(stats, DECODE_EV_NULL_TRUNCATED);
        uint32_t af = load_be32(cursor_pos(&c));
        if (af > 0xffff)
            af = __builtin_bswap32(af);
        cursor_skip(&c, NULL_HDR_LEN);
        switch (af) {
        case 2:
            return decode_ipv4(p, &c, stats);
        case 24: /* NetBSD, OpenBSD */
        case 28: /* FreeBSD */
        case 30: /* macOS */
            return decode_ipv6(p, &c, stats);
        default:
            stats->n_other_l3++;
            return 0;
        }
    }
    case LINK_RAW:
    case DLT_RAW_BSD:
    case DLT_RAW_OPENBSD:
        return decode_ip_any(p, &c, stats);
    case LINK_IPV4:
        return decode_ipv4(p, &c, stats);
    case LINK_IPV6:
        return decode_ipv6(p, &c, stats);
    default:
        return event(stats, DECODE_EV_LINK_UNSUPPORTED);
    }
}

int
decode_ip(struct packet *p, const uint8_t *data, uint32_t len, struct decode_stats *stats)
{
    uint16_t vlan[PACKET_MAX_VLAN];
    uint8_t n_vlan = p->n_vlan;
    memcpy(vlan, p->vlan, sizeof(vlan));

    clear_decoded(p);
    memcpy(p->vlan, vlan, sizeof(vlan));
    p->n_vlan = n_vlan;
    p->data = data;
    p->caplen = len;

    struct cursor c;
    cursor_init(&c, data, len);
    return decode_ip_any(p, &c, stats);
}

int
ipaddr_format(const struct ipaddr *a, uint8_t ip_version, char *out, size_t out_len)
{
    int af = ip_version == 4 ? AF_INET : ip_version == 6 ? AF_INET6 : -1;
    if (af < 0)
        return IASO_E_INVAL;
    if (af == AF_INET && out_len >= 16) {
        /* By hand: glibc formats IPv4 through sprintf, and this runs for every event. */
        char *o = out;
        for (int i = 0; i < 4; i++) {
            unsigned v = a->b[i];
            if (v >= 100)
                *o++ = (char)('0' + v / 100);
            if (v >= 10)
                *o++ = (char)('0' + v / 10 % 10);
            *o++ = (char)('0' + v % 10);
            *o++ = i < 3 ? '.' : 0;
        }
        return (int)(o - out - 1);
    }
    if (out_len > 0x7fffffff)
        out_len = 0x7fffffff;
    if (!inet_ntop(af, a->b, out, (socklen_t)out_len))
        return -ENOSPC;
    return (int)strlen(out);
}
