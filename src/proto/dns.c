// SPDX-License-Identifier: Apache-2.0
// The DNS parser: header, first question, answer and authority records, over UDP datagrams or
// length-prefixed TCP streams. See dns.h for the limits and how the transport is told apart.
#include "proto/dns.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "base/error.h"

#define DNS_HEADER_LEN 12
/* The probe's idea of a plausible message: real resolvers ask one question, a handful at most. */
#define DNS_PROBE_QDCOUNT_MAX 4
#define DNS_PROBE_RRCOUNT_MAX 256

enum dns_mode { DNS_MODE_UNKNOWN = 0, DNS_MODE_UDP, DNS_MODE_TCP };

/* One direction of a TCP flow: the length prefix and the message being assembled. */
struct dns_tcp_dir {
    uint8_t prefix[2];
    uint8_t prefix_len; /* 0..2 bytes of the prefix seen */
    uint32_t msg_len;   /* from the prefix, <= DNS_TCP_MSG_MAX */
    uint32_t have;      /* bytes of the message in buf */
    uint32_t buf_cap;
    uint8_t *buf; /* owned; allocated only when a message is split across calls */
};

struct dns_state {
    uint8_t mode; /* enum dns_mode, decided by the first parse() call */
    struct dns_tcp_dir dirs[2];
};

static const uint16_t dns_ports[] = {53, 5353, 5355, 0};

static const struct {
    uint16_t type;
    const char *name;
} dns_rrtypes[] = {
    {1, "A"},       {2, "NS"},      {3, "MD"},        {4, "MF"},          {5, "CNAME"},
    {6, "SOA"},     {7, "MB"},      {8, "MG"},        {9, "MR"},          {10, "NULL"},
    {11, "WKS"},    {12, "PTR"},    {13, "HINFO"},    {14, "MINFO"},      {15, "MX"},
    {16, "TXT"},    {17, "RP"},     {18, "AFSDB"},    {24, "SIG"},        {25, "KEY"},
    {28, "AAAA"},   {29, "LOC"},    {30, "NXT"},      {33, "SRV"},        {35, "NAPTR"},
    {36, "KX"},     {37, "CERT"},   {39, "DNAME"},    {41, "OPT"},        {42, "APL"},
    {43, "DS"},     {44, "SSHFP"},  {45, "IPSECKEY"}, {46, "RRSIG"},      {47, "NSEC"},
    {48, "DNSKEY"}, {49, "DHCID"},  {50, "NSEC3"},    {51, "NSEC3PARAM"}, {52, "TLSA"},
    {53, "SMIMEA"}, {55, "HIP"},    {59, "CDS"},      {60, "CDNSKEY"},    {61, "OPENPGPKEY"},
    {62, "CSYNC"},  {63, "ZONEMD"}, {64, "SVCB"},     {65, "HTTPS"},      {99, "SPF"},
    {249, "TKEY"},  {250, "TSIG"},  {251, "IXFR"},    {252, "AXFR"},      {253, "MAILB"},
    {254, "MAILA"}, {255, "ANY"},   {256, "URI"},     {257, "CAA"},
};

static const char *const dns_rcodes[] = {
    "NOERROR",  "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP",  "REFUSED",
    "YXDOMAIN", "YXRRSET", "NXRRSET",  "NOTAUTH",  "NOTZONE",
};

const char *
dns_rrtype_name(uint16_t type)
{
    for (size_t i = 0; i < sizeof(dns_rrtypes) / sizeof(dns_rrtypes[0]); i++)
        if (dns_rrtypes[i].type == type)
            return dns_rrtypes[i].name;
    return NULL;
}

/* Opcodes seen in practice: QUERY, STATUS, NOTIFY, UPDATE. */
static bool
dns_opcode_known(unsigned opcode)
{
    return opcode == 0 || opcode == 2 || opcode == 4 || opcode == 5;
}

/* Does p[0..len) start with a header a real DNS peer would send? */
static bool
dns_header_plausible(const uint8_t *p, size_t len)
{
    if (len < DNS_HEADER_LEN)
        return false;
    uint16_t flags = load_be16(p + 2);
    uint16_t qd = load_be16(p + 4), an = load_be16(p + 6);
    uint16_t ns = load_be16(p + 8), ar = load_be16(p + 10);
    bool qr = flags & 0x8000;
    if (!dns_opcode_known((flags >> 11) & 0xF) || (flags & 0x0040) || (flags & 0xF) > 10)
        return false;
    if (!qr && (flags & 0xF) != 0)
        return false;
    /* mDNS answers carry no question; anything else asks one to a few. */
    if (qd > DNS_PROBE_QDCOUNT_MAX || (qd == 0 && !(qr && an > 0)))
        return false;
    if (an > DNS_PROBE_RRCOUNT_MAX || ns > DNS_PROBE_RRCOUNT_MAX || ar > DNS_PROBE_RRCOUNT_MAX)
        return false;
    /* The first name starts with a label or the root, never a pointer (nothing to point to). */
    if (len > DNS_HEADER_LEN && p[DNS_HEADER_LEN] > DNS_LABEL_MAX)
        return false;
    return true;
}

static enum proto_probe
dns_probe(const uint8_t *data, size_t len, int dir)
{
    (void)dir;
    if (len < DNS_HEADER_LEN)
        return PROTO_PROBE_NEED_MORE;
    if (dns_header_plausible(data, len))
        return PROTO_PROBE_YES;
    if (len < 2 + DNS_HEADER_LEN)
        return PROTO_PROBE_NEED_MORE;
    if (load_be16(data) >= DNS_HEADER_LEN && dns_header_plausible(data + 2, len - 2))
        return PROTO_PROBE_YES;
    return PROTO_PROBE_NO;
}

/* A bounded text buffer: appends that do not fit are cut. */
struct dns_text {
    char *p;
    size_t cap; /* including the NUL */
    size_t len;
};

static void
dns_text_put(struct dns_text *t, const void *s, size_t n)
{
    size_t room = t->cap - 1 - t->len;
    if (n > room)
        n = room;
    if (n == 0 || !s)
        return;
    memcpy(t->p + t->len, s, n);
    t->len += n;
    t->p[t->len] = '\0';
}

static void
dns_text_putu(struct dns_text *t, uint32_t v)
{
    char num[16];
    int n = snprintf(num, sizeof(num), "%u", (unsigned)v);
    if (n > 0)
        dns_text_put(t, num, (size_t)n);
}

/* A decoded name: dotted text (no trailing dot; "" for the root). */
struct dns_name {
    char text[DNS_NAME_TEXT_MAX];
    uint16_t len;
    uint8_t longest_label;
};

/*
 * Reads the name at *off of msg[0..msg_len) and moves *off past it (past the first pointer, if
 * any). Returns 0 or the anomaly bit that stopped it. The walk is a loop, not a recursion: each
 * pointer must point before the start of the labels that led to it, so positions strictly
 * decrease from jump to jump and the walk ends; DNS_NAME_JUMPS_MAX bounds it again.
 */
static uint32_t
dns_name_read(const uint8_t *msg, size_t msg_len, size_t *off, struct dns_name *name)
{
    struct dns_text t = {name->text, sizeof(name->text), 0};
    size_t pos = *off, seg_start = *off, end = 0;
    size_t wire_len = 1; /* the root label */
    unsigned jumps = 0;
    bool jumped = false;
    name->text[0] = '\0';
    name->len = 0;
    name->longest_label = 0;
    for (;;) {
        if (pos >= msg_len)
            return DNS_ANOM_TRUNCATED;
        uint8_t b = msg[pos];
        if (b == 0) {
            if (!jumped)
                end = pos + 1;
            break;
        }
        if ((b & 0xC0) == 0xC0) {
            if (pos + 1 >= msg_len)
                return DNS_ANOM_TRUNCATED;
            size_t target = (size_t)(b & 0x3F) << 8 | msg[pos + 1];
            if (!jumped)
                end = pos + 2;
            jumped = true;
            if (target >= seg_start || ++jumps > DNS_NAME_JUMPS_MAX)
                return DNS_ANOM_POINTER_LOOP;
            pos = seg_start = target;
            continue;
        }
        if (b & 0xC0)
            return DNS_ANOM_BAD_LABEL; /* 0x40 extended and 0x80 reserved label types */
        if (msg_len - pos - 1 < b)
            return DNS_ANOM_TRUNCATED;
        wire_len += 1u + b;
        if (wire_len > DNS_NAME_WIRE_MAX)
            return DNS_ANOM_NAME_TOO_LONG;
        if (t.len > 0)
            dns_text_put(&t, ".", 1);
        dns_text_put(&t, msg + pos + 1, b);
        if (b > name->longest_label)
            name->longest_label = b;
        pos += 1u + b;
    }
    name->len = (uint16_t)t.len;
    *off = end;
    return 0;
}

/* Appends the name at msg[off..) to t; fails unless its in-place bytes end by rd_end. */
static uint32_t
dns_rdata_name(const uint8_t *msg, size_t off, size_t rd_end, struct dns_text *t)
{
    struct dns_name n;
    uint32_t anom = dns_name_read(msg, rd_end, &off, &n);
    if (anom)
        return anom;
    dns_text_put(t, n.text, n.len);
    return 0;
}

/* Writes the presentation form of the record data at msg[off..off+rdlen) into rr->rdata. */
static uint32_t
dns_rdata_decode(const uint8_t *msg, size_t off, size_t rdlen, struct dns_rr *rr)
{
    struct dns_text t = {rr->rdata, sizeof(rr->rdata), 0};
    size_t end = off + rdlen;
    const uint8_t *p = msg + off;
    uint32_t anom = 0;
    char addr[INET6_ADDRSTRLEN];
    rr->rdata[0] = '\0';
    switch (rr->type) {
    case 1:  /* A */
    case 28: /* AAAA */
        if (rdlen != (rr->type == 1 ? 4u : 16u)) {
            anom = DNS_ANOM_BAD_RDATA;
            break;
        }
        if (inet_ntop(rr->type == 1 ? AF_INET : AF_INET6, p, addr, sizeof(addr)))
            dns_text_put(&t, addr, strlen(addr));
        break;
    case 2:  /* NS */
    case 5:  /* CNAME */
    case 12: /* PTR */
    case 39: /* DNAME */
        anom = dns_rdata_name(msg, off, end, &t);
        break;
    case 15: /* MX: preference, exchange */
        if (rdlen < 3) {
            anom = DNS_ANOM_BAD_RDATA;
            break;
        }
        dns_text_putu(&t, load_be16(p));
        dns_text_put(&t, " ", 1);
        anom = dns_rdata_name(msg, off + 2, end, &t);
        break;
    case 33: /* SRV: priority, weight, port, target */
        if (rdlen < 7) {
            anom = DNS_ANOM_BAD_RDATA;
            break;
        }
        for (size_t i = 0; i < 3; i++) {
            dns_text_putu(&t, load_be16(p + 2 * i));
            dns_text_put(&t, " ", 1);
        }
        anom = dns_rdata_name(msg, off + 6, end, &t);
        break;
    case 6: { /* SOA: mname, rname, serial, refresh, retry, expire, minimum */
        size_t pos = off;
        struct dns_name n;
        for (int i = 0; i < 2 && !anom; i++) {
            anom = dns_name_read(msg, end, &pos, &n);
            dns_text_put(&t, n.text, n.len);
            dns_text_put(&t, " ", 1);
        }
        if (anom)
            break;
        if (end - pos != 20) {
            anom = DNS_ANOM_BAD_RDATA;
            break;
        }
        for (size_t i = 0; i < 5; i++) {
            if (i)
                dns_text_put(&t, " ", 1);
            dns_text_putu(&t, load_be32(msg + pos + 4 * i));
        }
        break;
    }
    case 16: { /* TXT: the character-strings joined by spaces, cut at DNS_RDATA_TEXT_MAX */
        struct cursor c;
        cursor_init(&c, p, rdlen);
        while (cursor_left(&c) > 0) {
            uint8_t n = cursor_u8(&c);
            struct bytes s = cursor_take(&c, n);
            if (c.err) {
                anom = DNS_ANOM_BAD_RDATA;
                break;
            }
            if (t.len > 0)
                dns_text_put(&t, " ", 1);
            dns_text_put(&t, s.ptr, s.len);
        }
        break;
    }
    default:
        break; /* type number and rdlength only */
    }
    if (anom) {
        /* Data that does not fit its type is not shown half-decoded. */
        t.len = 0;
        rr->rdata[0] = '\0';
    }
    rr->rdata_len = (uint16_t)t.len;
    return anom;
}

/*
 * Walks the count records of one section from *off (at most DNS_SECTION_RRS_MAX). Records of the
 * answer and authority sections go into the event while it has room. Returns 0 or the anomaly
 * that ended the walk (the message is not followed past it).
 */
static uint32_t
dns_section_walk(const uint8_t *msg, size_t msg_len, size_t *off, uint16_t count, uint8_t section,
                 struct dns_event *ev, uint16_t *n_walked)
{
    uint32_t anom = 0;
    uint16_t n = count > DNS_SECTION_RRS_MAX ? DNS_SECTION_RRS_MAX : count;
    for (uint16_t i = 0; i < n; i++) {
        if (*off >= msg_len)
            return DNS_ANOM_COUNT_MISMATCH;
        struct dns_name name;
        anom = dns_name_read(msg, msg_len, off, &name);
        if (anom)
            return anom;
        struct cursor c;
        cursor_init(&c, msg + *off, msg_len - *off);
        uint16_t type = cursor_be16(&c);
        uint16_t rrclass = cursor_be16(&c);
        uint32_t ttl = cursor_be32(&c);
        uint16_t rdlen = cursor_be16(&c);
        if (!cursor_need(&c, rdlen))
            return DNS_ANOM_TRUNCATED;
        size_t rd_off = *off + c.off;
        *off = rd_off + rdlen;
        if (n_walked)
            (*n_walked)++;
        if (section == 0 || ev->n_rrs >= DNS_EVENT_RRS_MAX)
            continue;
        struct dns_rr *rr = &ev->rrs[ev->n_rrs++];
        rr->section = section;
        rr->type = type;
        rr->rrclass = rrclass;
        rr->ttl = ttl;
        rr->rdlength = rdlen;
        memcpy(rr->name, name.text, name.len + 1u);
        rr->name_len = name.len;
        ev->anomalies |= dns_rdata_decode(msg, rd_off, rdlen, rr);
    }
    /* Past the cap the next section's start is unknown: the walk of the message ends here. */
    return n < count ? DNS_ANOM_RRS_CAPPED : 0;
}

/*
 * Parses one whole message and emits its event. Returns 0, or IASO_E_FORMAT when the header or
 * the question cannot be read (the bytes are not DNS as far as we can tell).
 */
static int
dns_message(const struct proto_ctx *ctx, bool is_tcp, int dir, const uint8_t *msg, size_t len,
            uint64_t ts_us)
{
    /* About 5 KB on the stack: DNS_EVENT_RRS_MAX keeps it so, and no allocation per message. */
    struct dns_event event;
    struct dns_event *ev = &event;
    memset(ev, 0, sizeof(*ev));
    int rc = 0;
    struct cursor c;
    cursor_init(&c, msg, len);
    ev->is_tcp = is_tcp;
    ev->id = cursor_be16(&c);
    ev->flags = cursor_be16(&c);
    ev->qdcount = cursor_be16(&c);
    ev->ancount = cursor_be16(&c);
    ev->nscount = cursor_be16(&c);
    ev->arcount = cursor_be16(&c);
    if (c.err) {
        rc = IASO_E_FORMAT;
        goto out;
    }
    ev->qr = ev->flags & 0x8000;
    ev->opcode = (uint8_t)((ev->flags >> 11) & 0xF);
    ev->aa = ev->flags & 0x0400;
    ev->tc = ev->flags & 0x0200;
    ev->rd = ev->flags & 0x0100;
    ev->ra = ev->flags & 0x0080;
    ev->rcode = (uint8_t)(ev->flags & 0xF);

    size_t off = DNS_HEADER_LEN;
    uint32_t anom = 0;
    /* Questions: the first goes in the event, the others (rare) are only walked. */
    uint16_t n_q = ev->qdcount > DNS_SECTION_RRS_MAX ? DNS_SECTION_RRS_MAX : ev->qdcount;
    if (n_q < ev->qdcount)
        ev->anomalies |= DNS_ANOM_RRS_CAPPED;
    for (uint16_t i = 0; i < n_q && !anom; i++) {
        struct dns_name name;
        if (off >= len) {
            anom = DNS_ANOM_COUNT_MISMATCH;
            break;
        }
        anom = dns_name_read(msg, len, &off, &name);
        if (anom)
            break;
        if (len - off < 4) {
            anom = DNS_ANOM_TRUNCATED;
            break;
        }
        if (i == 0) {
            ev->has_question = true;
            ev->qtype = load_be16(msg + off);
            ev->qclass = load_be16(msg + off + 2);
            memcpy(ev->rrname, name.text, name.len + 1u);
            ev->rrname_len = name.len;
            ev->query_name_len = name.len;
            ev->longest_label = name.longest_label;
        }
        off += 4;
    }
    /* A query whose question cannot be read is not DNS we can follow. */
    if (!ev->has_question && ev->qdcount > 0 && !ev->qr) {
        rc = IASO_E_FORMAT;
        goto out;
    }
    if (!anom)
        anom =
            dns_section_walk(msg, len, &off, ev->ancount, DNS_SECTION_ANSWER, ev, &ev->n_answers);
    if (!anom)
        anom = dns_section_walk(msg, len, &off, ev->nscount, DNS_SECTION_AUTHORITY, ev,
                                &ev->n_authorities);
    if (!anom)
        anom = dns_section_walk(msg, len, &off, ev->arcount, 0, ev, NULL);
    ev->anomalies |= anom;

    struct proto_event pev = {
        .proto = PROTO_DNS,
        .kind = ev->qr ? DNS_EVENT_ANSWER : DNS_EVENT_QUERY,
        .dir = dir,
        .ts_us = ts_us,
        .data = ev,
    };
    ctx->emit(ctx->user, &pev);
out:
    return rc;
}

/* Feeds TCP stream bytes of one direction: prefix, message, prefix, ... */
static int
dns_tcp_feed(struct dns_tcp_dir *d, const struct proto_ctx *ctx, int dir, const uint8_t *data,
             size_t len, uint64_t ts_us)
{
    while (len > 0) {
        if (d->prefix_len < 2) {
            d->prefix[d->prefix_len++] = *data++;
            len--;
            if (d->prefix_len == 2) {
                d->msg_len = load_be16(d->prefix);
                d->have = 0;
                if (d->msg_len == 0)
                    d->prefix_len = 0; /* an empty message: nothing to parse */
            }
            continue;
        }
        int rc;
        if (d->have == 0 && len >= d->msg_len) {
            /* The common case: the whole message is here, parse it in place. */
            rc = dns_message(ctx, true, dir, data, d->msg_len, ts_us);
            data += d->msg_len;
            len -= d->msg_len;
        } else {
            if (d->buf_cap < d->msg_len) {
                /* msg_len <= DNS_TCP_MSG_MAX: the prefix is 16 bits. */
                uint8_t *nb = proto_realloc(d->buf, d->msg_len);
                if (!nb)
                    return IASO_E_NOMEM;
                d->buf = nb;
                d->buf_cap = d->msg_len;
            }
            size_t n = d->msg_len - d->have;
            if (n > len)
                n = len;
            memcpy(d->buf + d->have, data, n);
            d->have += (uint32_t)n;
            data += n;
            len -= n;
            if (d->have < d->msg_len)
                return 0;
            rc = dns_message(ctx, true, dir, d->buf, d->msg_len, ts_us);
        }
        d->prefix_len = 0;
        d->have = 0;
        if (rc < 0)
            return rc;
    }
    return 0;
}

static int
dns_parse(void *state, const struct proto_ctx *ctx, int dir, const uint8_t *data, size_t len,
          uint64_t ts_us)
{
    struct dns_state *s = state;
    if (len == 0)
        return 0;
    if (s->mode == DNS_MODE_UNKNOWN)
        s->mode = (uint8_t)(ctx->udp ? DNS_MODE_UDP : DNS_MODE_TCP);
    if (s->mode == DNS_MODE_UDP)
        return dns_message(ctx, false, dir, data, len, ts_us);
    return dns_tcp_feed(&s->dirs[dir & 1], ctx, dir, data, len, ts_us);
}

static void
dns_end(void *state, const struct proto_ctx *ctx, uint64_t ts_us)
{
    (void)ctx;
    (void)ts_us;
    struct dns_state *s = state;
    for (size_t i = 0; i < 2; i++) {
        proto_free(s->dirs[i].buf);
        s->dirs[i].buf = NULL;
    }
}

static void
dns_eve_rrtype(struct jsonw *w, uint16_t type)
{
    const char *name = dns_rrtype_name(type);
    if (name) {
        jsonw_str(w, name);
    } else {
        char num[16];
        int n = snprintf(num, sizeof(num), "TYPE%u", (unsigned)type);
        jsonw_strn(w, num, n > 0 ? (size_t)n : 0);
    }
}

static void
dns_eve_rrs(struct jsonw *w, const struct dns_event *ev, uint8_t section)
{
    jsonw_array_begin(w);
    for (size_t i = 0; i < ev->n_rrs; i++) {
        const struct dns_rr *rr = &ev->rrs[i];
        if (rr->section != section)
            continue;
        jsonw_object_begin(w);
        jsonw_key(w, "rrname");
        jsonw_strn(w, rr->name, rr->name_len);
        jsonw_key(w, "rrtype");
        dns_eve_rrtype(w, rr->type);
        jsonw_key(w, "ttl");
        jsonw_u64(w, rr->ttl);
        if (rr->rdata_len > 0) {
            jsonw_key(w, "rdata");
            jsonw_strn(w, rr->rdata, rr->rdata_len);
        }
        if (rr->type == 16 || rr->rdata_len == 0) {
            jsonw_key(w, "rdlength");
            jsonw_u64(w, rr->rdlength);
        }
        jsonw_object_end(w);
    }
    jsonw_array_end(w);
}

static void
dns_eve(const struct proto_event *pev, struct jsonw *w)
{
    static const char *const anomaly_names[] = {
        "truncated",      "pointer_loop", "name_too_long", "bad_label",
        "count_mismatch", "rrs_capped",   "bad_rdata",
    };
    const struct dns_event *ev = pev->data;
    char hex[8];
    int n = snprintf(hex, sizeof(hex), "%04x", (unsigned)ev->flags);

    jsonw_key(w, "type");
    jsonw_str(w, pev->kind == DNS_EVENT_ANSWER ? "answer" : "query");
    jsonw_key(w, "id");
    jsonw_u64(w, ev->id);
    jsonw_key(w, "transport");
    jsonw_str(w, ev->is_tcp ? "tcp" : "udp");
    jsonw_key(w, "flags");
    jsonw_strn(w, hex, n > 0 ? (size_t)n : 0);
    jsonw_key(w, "qr");
    jsonw_bool(w, ev->qr);
    jsonw_key(w, "aa");
    jsonw_bool(w, ev->aa);
    jsonw_key(w, "tc");
    jsonw_bool(w, ev->tc);
    jsonw_key(w, "rd");
    jsonw_bool(w, ev->rd);
    jsonw_key(w, "ra");
    jsonw_bool(w, ev->ra);
    jsonw_key(w, "opcode");
    jsonw_u64(w, ev->opcode);
    if (ev->has_question) {
        jsonw_key(w, "rrname");
        jsonw_strn(w, ev->rrname, ev->rrname_len);
        jsonw_key(w, "rrtype");
        dns_eve_rrtype(w, ev->qtype);
        if (pev->kind == DNS_EVENT_QUERY) {
            jsonw_key(w, "query_len");
            jsonw_u64(w, ev->query_name_len);
            jsonw_key(w, "longest_label");
            jsonw_u64(w, ev->longest_label);
        }
    }
    if (pev->kind == DNS_EVENT_ANSWER) {
        jsonw_key(w, "rcode");
        if (ev->rcode < sizeof(dns_rcodes) / sizeof(dns_rcodes[0])) {
            jsonw_str(w, dns_rcodes[ev->rcode]);
        } else {
            char num[16];
            int m = snprintf(num, sizeof(num), "RCODE%u", (unsigned)ev->rcode);
            jsonw_strn(w, num, m > 0 ? (size_t)m : 0);
        }
        jsonw_key(w, "ancount");
        jsonw_u64(w, ev->ancount);
        if (ev->n_answers > 0) {
            jsonw_key(w, "answers");
            dns_eve_rrs(w, ev, DNS_SECTION_ANSWER);
        }
        if (ev->n_authorities > 0) {
            jsonw_key(w, "authorities");
            dns_eve_rrs(w, ev, DNS_SECTION_AUTHORITY);
        }
    }
    if (ev->anomalies) {
        jsonw_key(w, "anomalies");
        jsonw_array_begin(w);
        for (size_t i = 0; i < sizeof(anomaly_names) / sizeof(anomaly_names[0]); i++)
            if (ev->anomalies & (1u << i))
                jsonw_str(w, anomaly_names[i]);
        jsonw_array_end(w);
    }
}

const struct proto_parser dns_parser = {
    .name = "dns",
    .id = PROTO_DNS,
    .tcp = true,
    .udp = true,
    .ports = dns_ports,
    .probe = dns_probe,
    .state_len = sizeof(struct dns_state),
    .init = NULL,
    .parse = dns_parse,
    .gap = NULL, /* a gap loses the TCP framing; the caller gives up for us */
    .end = dns_end,
    .eve = dns_eve,
};
