// SPDX-License-Identifier: Apache-2.0
// The RDP parser: the X.224 Connection Request and Confirm that open every RDP connection, with
// the cookie and security negotiation they carry. See rdp.h for what is kept and the limits.
#include "proto/rdp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "base/error.h"

#define RDP_X224_CR 0xE0 /* Connection Request, upper nibble; the lower is the credit (0) */
#define RDP_X224_CC 0xD0 /* Connection Confirm */
#define RDP_NEG_REQ 0x01
#define RDP_NEG_RSP 0x02
#define RDP_NEG_FAILURE 0x03
#define RDP_CORRELATION_INFO 0x06
#define RDP_NEG_LEN 8 /* every negotiation structure is 8 bytes */

/* One direction: the PDU being assembled, then nothing more to do. */
struct rdp_dir {
    uint16_t pdu_len; /* from the TPKT header, once 4 bytes are in */
    uint16_t have;
    bool done;
    uint8_t *buf; /* owned, RDP_PDU_MAX bytes while a PDU is assembled, NULL otherwise */
};

struct rdp_state {
    struct rdp_dir dirs[2];
};

static const uint16_t rdp_ports[] = {3389, 0};

static const char *const rdp_failure_names[] = {
    NULL,
    "ssl_required_by_server",
    "ssl_not_allowed_by_server",
    "ssl_cert_not_on_server",
    "inconsistent_flags",
    "hybrid_required_by_server",
    "ssl_with_user_auth_required_by_server",
};

static const struct {
    uint32_t bit;
    const char *name;
} rdp_protocol_names[] = {
    {RDP_PROTOCOL_SSL, "ssl"},       {RDP_PROTOCOL_HYBRID, "hybrid"},
    {RDP_PROTOCOL_RDSTLS, "rdstls"}, {RDP_PROTOCOL_HYBRID_EX, "hybrid_ex"},
    {RDP_PROTOCOL_RDSAAD, "rdsaad"},
};

/* Checks a TPKT header and X.224 CR (dir 0) or CC (dir 1) code; need is set when short. */
static bool
rdp_header_ok(const uint8_t *p, size_t len, int dir, bool *need)
{
    *need = false;
    if (len < 6) {
        /* Too short to tell; say so only if what is there fits. */
        *need = (len < 1 || p[0] == 3) && (len < 2 || p[1] == 0);
        return false;
    }
    if (p[0] != 3 || p[1] != 0)
        return false;
    size_t pdu_len = load_be16(p + 2);
    if (pdu_len < RDP_PDU_MIN || pdu_len > RDP_PDU_MAX)
        return false;
    /* The length indicator counts the X.224 header after itself, to the end of the TPKT. */
    if (p[4] != pdu_len - 5)
        return false;
    return p[5] == (dir == PROTO_TOCLIENT ? RDP_X224_CC : RDP_X224_CR);
}

static enum proto_probe
rdp_probe(const uint8_t *data, size_t len, int dir)
{
    bool need;
    if (rdp_header_ok(data, len, dir, &need))
        return PROTO_PROBE_YES;
    return need ? PROTO_PROBE_NEED_MORE : PROTO_PROBE_NO;
}

/*
 * Reads the line before the Negotiation Request, if there is one: a cookie
 * "Cookie: mstshash=NAME\r\n" (the name is kept) or a routing token for a load balancer, any
 * other line ended by CR LF, usually "Cookie: msts=..." (the whole line is kept). Moves the
 * cursor past it.
 */
static void
rdp_cookie_read(struct cursor *c, struct rdp_event *ev)
{
    static const char mstshash[] = "Cookie: mstshash=";
    const uint8_t *p = cursor_pos(c);
    size_t left = cursor_left(c);
    /* No line: nothing, or just a negotiation structure (type 1..6, not text) and perhaps the
     * 36-byte correlation info after it. */
    if (left == 0 || (p[0] < 0x20 && (left == RDP_NEG_LEN || left == RDP_NEG_LEN + 36)))
        return;
    size_t end = 0;
    while (end + 1 < left && !(p[end] == '\r' && p[end + 1] == '\n'))
        end++;
    if (end + 1 >= left) {
        ev->bad_token = true; /* no CR LF: where the negotiation starts is unknown */
        cursor_skip(c, left);
        return;
    }
    size_t skip = 0;
    if (end >= sizeof(mstshash) - 1 && memcmp(p, mstshash, sizeof(mstshash) - 1) == 0) {
        ev->has_cookie = true;
        skip = sizeof(mstshash) - 1;
    } else {
        ev->has_routing_token = true;
    }
    size_t n = end - skip;
    if (n > sizeof(ev->token)) {
        n = sizeof(ev->token);
        ev->token_cut = true;
    }
    memcpy(ev->token, p + skip, n);
    ev->token_len = (uint16_t)n;
    cursor_skip(c, end + 2);
}

/* Parses one whole CR or CC PDU and emits its event; IASO_E_FORMAT if it is not one. */
static int
rdp_pdu(const struct proto_ctx *ctx, int dir, const uint8_t *pdu, size_t len, uint64_t ts_us)
{
    bool need;
    if (!rdp_header_ok(pdu, len, dir, &need))
        return IASO_E_FORMAT;
    struct rdp_event ev;
    memset(&ev, 0, sizeof(ev));
    struct cursor c;
    cursor_init(&c, pdu, len);
    cursor_skip(&c, RDP_PDU_MIN); /* TPKT, LI, code, dst-ref, src-ref, class */
    int kind = RDP_EVENT_CONNECT_REQUEST;
    if (dir == PROTO_TOSERVER)
        rdp_cookie_read(&c, &ev);
    else
        kind = RDP_EVENT_CONNECT_CONFIRM;
    if (cursor_left(&c) >= RDP_NEG_LEN) {
        uint8_t type = cursor_u8(&c);
        uint8_t flags = cursor_u8(&c);
        uint16_t neg_len = cursor_le16(&c);
        uint32_t value = cursor_le32(&c);
        bool want = dir == PROTO_TOSERVER ? type == RDP_NEG_REQ
                                          : (type == RDP_NEG_RSP || type == RDP_NEG_FAILURE);
        if (!want || neg_len != RDP_NEG_LEN)
            return IASO_E_FORMAT;
        ev.has_negotiation = true;
        ev.neg_flags = flags;
        if (type == RDP_NEG_FAILURE) {
            kind = RDP_EVENT_NEGOTIATION_FAILURE;
            ev.failure_code = value;
        } else {
            ev.protocols = value;
        }
        if (dir == PROTO_TOSERVER && cursor_left(&c) > 0 &&
            cursor_pos(&c)[0] == RDP_CORRELATION_INFO)
            ev.has_correlation = true;
    }
    struct proto_event pev = {
        .proto = PROTO_RDP,
        .kind = kind,
        .dir = dir,
        .ts_us = ts_us,
        .data = &ev,
    };
    ctx->emit(ctx->user, &pev);
    return 0;
}

static int
rdp_parse(void *state, const struct proto_ctx *ctx, int dir, const uint8_t *data, size_t len,
          uint64_t ts_us)
{
    struct rdp_state *s = state;
    struct rdp_dir *d = &s->dirs[dir & 1];
    if (d->done || len == 0)
        return 0; /* TLS, CredSSP or MCS from here on: not ours to follow */
    if (!d->buf) {
        d->buf = proto_malloc(RDP_PDU_MAX);
        if (!d->buf)
            return IASO_E_NOMEM;
    }
    while (len > 0) {
        /* Up to the TPKT header first, then up to the PDU length it gives. */
        size_t want = d->have < 4 ? 4u : d->pdu_len;
        size_t n = want - d->have;
        if (n > len)
            n = len;
        memcpy(d->buf + d->have, data, n);
        d->have = (uint16_t)(d->have + n);
        data += n;
        len -= n;
        if (d->have < want)
            return 0;
        if (want == 4) {
            d->pdu_len = load_be16(d->buf + 2);
            if (d->buf[0] != 3 || d->buf[1] != 0 || d->pdu_len < RDP_PDU_MIN ||
                d->pdu_len > RDP_PDU_MAX)
                return IASO_E_FORMAT;
            continue;
        }
        int rc = rdp_pdu(ctx, dir, d->buf, d->pdu_len, ts_us);
        d->done = true;
        proto_free(d->buf);
        d->buf = NULL;
        return rc;
    }
    return 0;
}

/* Bytes lost after a direction's PDU do not matter; within it, they leave nothing to read. */
static int
rdp_gap(void *state, const struct proto_ctx *ctx, int dir, size_t len)
{
    (void)ctx;
    (void)len;
    struct rdp_state *s = state;
    return s->dirs[dir & 1].done ? 0 : IASO_E_TRUNC;
}

static void
rdp_end(void *state, const struct proto_ctx *ctx, uint64_t ts_us)
{
    (void)ctx;
    (void)ts_us;
    struct rdp_state *s = state;
    for (size_t i = 0; i < 2; i++) {
        proto_free(s->dirs[i].buf);
        s->dirs[i].buf = NULL;
    }
}

static void
rdp_eve_protocol(struct jsonw *w, uint32_t selected)
{
    if (selected == 0) {
        jsonw_str(w, "rdp");
        return;
    }
    for (size_t i = 0; i < sizeof(rdp_protocol_names) / sizeof(rdp_protocol_names[0]); i++) {
        if (selected == rdp_protocol_names[i].bit) {
            jsonw_str(w, rdp_protocol_names[i].name);
            return;
        }
    }
    jsonw_u64(w, selected);
}

static void
rdp_eve(const struct proto_event *pev, struct jsonw *w)
{
    const struct rdp_event *ev = pev->data;
    switch (pev->kind) {
    case RDP_EVENT_CONNECT_REQUEST:
        jsonw_key(w, "type");
        jsonw_str(w, "connect_request");
        if (ev->has_cookie) {
            jsonw_key(w, "cookie");
            jsonw_strn(w, ev->token, ev->token_len);
        }
        if (ev->has_routing_token) {
            jsonw_key(w, "routing_token");
            jsonw_strn(w, ev->token, ev->token_len);
        }
        if (ev->token_cut) {
            jsonw_key(w, "cookie_truncated");
            jsonw_bool(w, true);
        }
        if (ev->bad_token) {
            jsonw_key(w, "cookie_malformed");
            jsonw_bool(w, true);
        }
        if (ev->has_negotiation) {
            jsonw_key(w, "requested_protocols");
            jsonw_array_begin(w);
            if (ev->protocols == 0)
                jsonw_str(w, "rdp");
            for (size_t i = 0; i < sizeof(rdp_protocol_names) / sizeof(rdp_protocol_names[0]); i++)
                if (ev->protocols & rdp_protocol_names[i].bit)
                    jsonw_str(w, rdp_protocol_names[i].name);
            jsonw_array_end(w);
            jsonw_key(w, "requested_protocols_raw");
            jsonw_u64(w, ev->protocols);
            jsonw_key(w, "flags");
            jsonw_u64(w, ev->neg_flags);
            jsonw_key(w, "correlation_info");
            jsonw_bool(w, ev->has_correlation);
        }
        break;
    case RDP_EVENT_CONNECT_CONFIRM:
        jsonw_key(w, "type");
        jsonw_str(w, "connect_confirm");
        /* A server without negotiation speaks standard RDP security. */
        jsonw_key(w, "selected_protocol");
        rdp_eve_protocol(w, ev->has_negotiation ? ev->protocols : 0);
        if (ev->has_negotiation) {
            jsonw_key(w, "flags");
            jsonw_u64(w, ev->neg_flags);
        }
        break;
    case RDP_EVENT_NEGOTIATION_FAILURE:
        jsonw_key(w, "type");
        jsonw_str(w, "negotiation_failure");
        jsonw_key(w, "failure_code");
        if (ev->failure_code < sizeof(rdp_failure_names) / sizeof(rdp_failure_names[0]) &&
            rdp_failure_names[ev->failure_code]) {
            jsonw_str(w, rdp_failure_names[ev->failure_code]);
        } else {
            char num[16];
            int n = snprintf(num, sizeof(num), "%u", (unsigned)ev->failure_code);
            jsonw_strn(w, num, n > 0 ? (size_t)n : 0);
        }
        break;
    default:
        break;
    }
}

const struct proto_parser rdp_parser = {
    .name = "rdp",
    .id = PROTO_RDP,
    .tcp = true,
    .udp = false,
    .ports = rdp_ports,
    .probe = rdp_probe,
    .state_len = sizeof(struct rdp_state),
    .init = NULL,
    .parse = rdp_parse,
    .gap = rdp_gap,
    .end = rdp_end,
    .eve = rdp_eve,
};
