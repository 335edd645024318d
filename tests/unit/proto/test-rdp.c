// SPDX-License-Identifier: Apache-2.0
// The RDP parser: real xfreerdp -> xrdp connection setups (captured by
// tests/fuzz/corpus/make-rdp-seeds.sh, bytes printed by make-dns-seeds.py --c), and hand-built
// Connection Requests for the cases the real peers do not send and for malformed lengths.
#include "harness.h"

#include "proto/rdp.h"

/*
 * Real traffic. 52084: alice, negotiate server. 52090: bob, /sec:rdp (no negotiation).
 * 52098: carol, /sec:nla, then the client's TLS alert after the confirm. 52106: a routing token
 * from /load-balance-info. 46662 and 53024: no negotiation against a TLS-only server.
 * 53032: a request for standard RDP security only (python) refused by the TLS-only xrdp.
 * 53044: erin, /sec:tls against an RDP-security-only server.
 */
/* tcp-52084 message 0, dir 0, 43 bytes */
static const uint8_t tcp_52084_0[] = {
    0x03, 0x00, 0x00, 0x2b, 0x26, 0xe0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x43, 0x6f, 0x6f, 0x6b,
    0x69, 0x65, 0x3a, 0x20, 0x6d, 0x73, 0x74, 0x73, 0x68, 0x61, 0x73, 0x68, 0x3d, 0x61, 0x6c,
    0x69, 0x63, 0x65, 0x0d, 0x0a, 0x01, 0x00, 0x08, 0x00, 0x03, 0x00, 0x00, 0x00,
};
/* tcp-52084 message 1, dir 1, 19 bytes */
static const uint8_t tcp_52084_1[] = {
    0x03, 0x00, 0x00, 0x13, 0x0e, 0xd0, 0x00, 0x00, 0x12, 0x34,
    0x00, 0x02, 0x01, 0x08, 0x00, 0x01, 0x00, 0x00, 0x00,
};
/* tcp-52090 message 0, dir 0, 33 bytes */
static const uint8_t tcp_52090_0[] = {
    0x03, 0x00, 0x00, 0x21, 0x1c, 0xe0, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x43, 0x6f, 0x6f, 0x6b, 0x69, 0x65, 0x3a, 0x20, 0x6d, 0x73, 0x74,
    0x73, 0x68, 0x61, 0x73, 0x68, 0x3d, 0x62, 0x6f, 0x62, 0x0d, 0x0a,
};
/* tcp-52090 message 1, dir 1, 11 bytes */
static const uint8_t tcp_52090_1[] = {
    0x03, 0x00, 0x00, 0x0b, 0x06, 0xd0, 0x00, 0x00, 0x12, 0x34, 0x00,
};
/* tcp-52098 message 0, dir 0, 43 bytes */
static const uint8_t tcp_52098_0[] = {
    0x03, 0x00, 0x00, 0x2b, 0x26, 0xe0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x43, 0x6f, 0x6f, 0x6b,
    0x69, 0x65, 0x3a, 0x20, 0x6d, 0x73, 0x74, 0x73, 0x68, 0x61, 0x73, 0x68, 0x3d, 0x63, 0x61,
    0x72, 0x6f, 0x6c, 0x0d, 0x0a, 0x01, 0x00, 0x08, 0x00, 0x03, 0x00, 0x00, 0x00,
};
/* tcp-52098 message 1, dir 1, 26 bytes */
static const uint8_t tcp_52098_1[] = {
    0x03, 0x00, 0x00, 0x13, 0x0e, 0xd0, 0x00, 0x00, 0x12, 0x34, 0x00, 0x02, 0x01,
    0x08, 0x00, 0x01, 0x00, 0x00, 0x00, 0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x32,
};
/* tcp-52106 message 0, dir 0, 55 bytes */
static const uint8_t tcp_52106_0[] = {
    0x03, 0x00, 0x00, 0x37, 0x32, 0xe0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x43, 0x6f, 0x6f,
    0x6b, 0x69, 0x65, 0x3a, 0x20, 0x6d, 0x73, 0x74, 0x73, 0x3d, 0x33, 0x36, 0x34, 0x30,
    0x32, 0x30, 0x35, 0x32, 0x32, 0x38, 0x2e, 0x31, 0x35, 0x36, 0x32, 0x39, 0x2e, 0x30,
    0x30, 0x30, 0x30, 0x0d, 0x0a, 0x01, 0x00, 0x08, 0x00, 0x01, 0x00, 0x00, 0x00,
};
/* tcp-52106 message 1, dir 1, 19 bytes */
static const uint8_t tcp_52106_1[] = {
    0x03, 0x00, 0x00, 0x13, 0x0e, 0xd0, 0x00, 0x00, 0x12, 0x34,
    0x00, 0x02, 0x01, 0x08, 0x00, 0x01, 0x00, 0x00, 0x00,
};
/* tcp-46662 message 0, dir 0, 34 bytes */
static const uint8_t tcp_46662_0[] = {
    0x03, 0x00, 0x00, 0x22, 0x1d, 0xe0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x43,
    0x6f, 0x6f, 0x6b, 0x69, 0x65, 0x3a, 0x20, 0x6d, 0x73, 0x74, 0x73, 0x68,
    0x61, 0x73, 0x68, 0x3d, 0x64, 0x61, 0x76, 0x65, 0x0d, 0x0a,
};
/* tcp-46662 message 1, dir 1, 11 bytes */
static const uint8_t tcp_46662_1[] = {
    0x03, 0x00, 0x00, 0x0b, 0x06, 0xd0, 0x00, 0x00, 0x12, 0x34, 0x00,
};
/* tcp-53024 message 0, dir 0, 35 bytes */
static const uint8_t tcp_53024_0[] = {
    0x03, 0x00, 0x00, 0x23, 0x1e, 0xe0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x43,
    0x6f, 0x6f, 0x6b, 0x69, 0x65, 0x3a, 0x20, 0x6d, 0x73, 0x74, 0x73, 0x68,
    0x61, 0x73, 0x68, 0x3d, 0x66, 0x72, 0x61, 0x6e, 0x6b, 0x0d, 0x0a,
};
/* tcp-53024 message 1, dir 1, 11 bytes */
static const uint8_t tcp_53024_1[] = {
    0x03, 0x00, 0x00, 0x0b, 0x06, 0xd0, 0x00, 0x00, 0x12, 0x34, 0x00,
};
/* tcp-53032 message 0, dir 0, 43 bytes */
static const uint8_t tcp_53032_0[] = {
    0x03, 0x00, 0x00, 0x2b, 0x26, 0xe0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x43, 0x6f, 0x6f, 0x6b,
    0x69, 0x65, 0x3a, 0x20, 0x6d, 0x73, 0x74, 0x73, 0x68, 0x61, 0x73, 0x68, 0x3d, 0x67, 0x72,
    0x61, 0x63, 0x65, 0x0d, 0x0a, 0x01, 0x00, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00,
};
/* tcp-53032 message 1, dir 1, 28 bytes */
static const uint8_t tcp_53032_1[] = {
    0x03, 0x00, 0x00, 0x13, 0x0e, 0xd0, 0x00, 0x00, 0x12, 0x34, 0x00, 0x03, 0x00, 0x08,
    0x00, 0x01, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x09, 0x02, 0xf0, 0x80, 0x21, 0x80,
};
/* tcp-53044 message 0, dir 0, 42 bytes */
static const uint8_t tcp_53044_0[] = {
    0x03, 0x00, 0x00, 0x2a, 0x25, 0xe0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x43, 0x6f, 0x6f,
    0x6b, 0x69, 0x65, 0x3a, 0x20, 0x6d, 0x73, 0x74, 0x73, 0x68, 0x61, 0x73, 0x68, 0x3d,
    0x65, 0x72, 0x69, 0x6e, 0x0d, 0x0a, 0x01, 0x00, 0x08, 0x00, 0x01, 0x00, 0x00, 0x00,
};
/* tcp-53044 message 1, dir 1, 19 bytes */
static const uint8_t tcp_53044_1[] = {
    0x03, 0x00, 0x00, 0x13, 0x0e, 0xd0, 0x00, 0x00, 0x12, 0x34,
    0x00, 0x02, 0x01, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00,
};

static void
has(const char *out, const char *want)
{
    if (!strstr(out, want))
        fail_msg("missing %s in\n%s", want, out);
}

static void
lacks(const char *out, const char *want)
{
    if (strstr(out, want))
        fail_msg("unexpected %s in\n%s", want, out);
}

static char *
run2(const uint8_t *cr, size_t cr_len, const uint8_t *cc, size_t cc_len, int *n, int *rc)
{
    struct harness_msg msgs[] = {{0, cr, cr_len}, {1, cc, cc_len}};
    return harness_run(&rdp_parser, msgs, cc ? 2 : 1, n, rc);
}

static void
test_cookie_and_confirm(void **state)
{
    (void)state;
    /* The client's TLS ClientHello starts right after the request: ignored quietly. */
    static const uint8_t tls_hello[] = {0x16, 0x03, 0x01, 0x01, 0x38, 0x01, 0x00, 0x01, 0x34};
    struct harness_msg msgs[] = {
        {0, tcp_52084_0, sizeof(tcp_52084_0)},
        {1, tcp_52084_1, sizeof(tcp_52084_1)},
        {0, tls_hello, sizeof(tls_hello)},
    };
    int n, rc;
    char *out = harness_run(&rdp_parser, msgs, 3, &n, &rc);
    assert_int_equal(rc, 0);
    assert_int_equal(n, 2);
    assert_string_equal(out, "{\"kind\":1,\"dir\":0,\"rdp\":{\"type\":\"connect_request\","
                             "\"cookie\":\"alice\",\"requested_protocols\":[\"ssl\",\"hybrid\"],"
                             "\"requested_protocols_raw\":3,\"flags\":0,"
                             "\"correlation_info\":false}}\n"
                             "{\"kind\":2,\"dir\":1,\"rdp\":{\"type\":\"connect_confirm\","
                             "\"selected_protocol\":\"ssl\",\"flags\":1}}\n");
    free(out);
}

static void
test_real_variants(void **state)
{
    (void)state;
    int n, rc;
    char *out;

    /* No Negotiation Request: no protocols listed; a bare confirm means standard security. */
    out = run2(tcp_52090_0, sizeof(tcp_52090_0), tcp_52090_1, sizeof(tcp_52090_1), &n, &rc);
    assert_int_equal(rc, 0);
    assert_string_equal(out, "{\"kind\":1,\"dir\":0,\"rdp\":{\"type\":\"connect_request\","
                             "\"cookie\":\"bob\"}}\n"
                             "{\"kind\":2,\"dir\":1,\"rdp\":{\"type\":\"connect_confirm\","
                             "\"selected_protocol\":\"rdp\"}}\n");
    free(out);

    /* A TLS alert after the confirm, in the same segment: ignored. */
    out = run2(tcp_52098_0, sizeof(tcp_52098_0), tcp_52098_1, sizeof(tcp_52098_1), &n, &rc);
    assert_int_equal(rc, 0);
    assert_int_equal(n, 2);
    has(out, "\"cookie\":\"carol\"");
    free(out);

    /* A routing token instead of a cookie: the whole line. */
    out = run2(tcp_52106_0, sizeof(tcp_52106_0), tcp_52106_1, sizeof(tcp_52106_1), &n, &rc);
    assert_int_equal(rc, 0);
    has(out, "{\"type\":\"connect_request\",\"routing_token\":\"Cookie: "
             "msts=3640205228.15629.0000\",\"requested_protocols\":[\"ssl\"]");
    lacks(out, "\"cookie\"");
    free(out);

    /* Only standard RDP security offered; the TLS-only server refuses (then an X.224 DT). */
    out = run2(tcp_53032_0, sizeof(tcp_53032_0), tcp_53032_1, sizeof(tcp_53032_1), &n, &rc);
    assert_int_equal(rc, 0);
    assert_string_equal(out, "{\"kind\":1,\"dir\":0,\"rdp\":{\"type\":\"connect_request\","
                             "\"cookie\":\"grace\",\"requested_protocols\":[\"rdp\"],"
                             "\"requested_protocols_raw\":0,\"flags\":0,"
                             "\"correlation_info\":false}}\n"
                             "{\"kind\":3,\"dir\":1,\"rdp\":{\"type\":\"negotiation_failure\","
                             "\"failure_code\":\"ssl_required_by_server\"}}\n");
    free(out);

    /* No negotiation against the TLS-only server: it confirms standard RDP security. */
    out = run2(tcp_46662_0, sizeof(tcp_46662_0), tcp_46662_1, sizeof(tcp_46662_1), &n, &rc);
    assert_int_equal(rc, 0);
    has(out, "\"cookie\":\"dave\"}}\n{\"kind\":2,\"dir\":1,\"rdp\":{\"type\":\"connect_confirm\","
             "\"selected_protocol\":\"rdp\"}}");
    free(out);
    out = run2(tcp_53024_0, sizeof(tcp_53024_0), tcp_53024_1, sizeof(tcp_53024_1), &n, &rc);
    assert_int_equal(rc, 0);
    has(out, "\"cookie\":\"frank\"}}");
    free(out);

    /* TLS offered, standard RDP security selected by an RDP-only server. */
    out = run2(tcp_53044_0, sizeof(tcp_53044_0), tcp_53044_1, sizeof(tcp_53044_1), &n, &rc);
    assert_int_equal(rc, 0);
    has(out, "\"cookie\":\"erin\"");
    has(out, "\"selected_protocol\":\"rdp\",\"flags\":1");
    free(out);
}

/* The request and confirm split into two calls at every byte give the same events. */
static void
test_split_every_byte(void **state)
{
    (void)state;
    int n, rc;
    char *want = run2(tcp_52106_0, sizeof(tcp_52106_0), tcp_52106_1, sizeof(tcp_52106_1), &n, &rc);
    assert_int_equal(n, 2);
    for (size_t k = 1; k < sizeof(tcp_52106_0); k++) {
        for (size_t j = 1; j < sizeof(tcp_52106_1); j += 3) {
            struct harness_msg msgs[] = {
                {0, tcp_52106_0, k},
                {0, tcp_52106_0 + k, sizeof(tcp_52106_0) - k},
                {1, tcp_52106_1, j},
                {1, tcp_52106_1 + j, sizeof(tcp_52106_1) - j},
            };
            char *out = harness_run(&rdp_parser, msgs, 4, &n, &rc);
            assert_string_equal(out, want);
            free(out);
        }
    }
    free(want);
}

/* A request built from parts: TPKT + X.224 CR header, then `body`. */
static size_t
build_cr(uint8_t *out, const void *body, size_t body_len, uint8_t code)
{
    size_t len = 11 + body_len;
    out[0] = 3; /* TPKT version 3, reserved, length */
    out[1] = 0;
    out[2] = (uint8_t)(len >> 8);
    out[3] = (uint8_t)len;
    out[4] = (uint8_t)(len - 5); /* X.224 length indicator */
    out[5] = code;               /* CR 0xE0 or CC 0xD0 */
    memset(out + 6, 0, 5);       /* dst-ref, src-ref, class 0 */
    memcpy(out + 11, body, body_len);
    return len;
}

static void
test_hand_requests(void **state)
{
    (void)state;
    uint8_t pdu[300];
    size_t len;
    int n, rc;
    char *out;

    /* No cookie: the Negotiation Request (every protocol bit) and a correlation info. */
    uint8_t neg_corr[8 + 36] = {0x01, 0x00, 0x08, 0x00, 0x1F, 0x00, 0x00, 0x00, 0x06, 0x00, 0x24};
    len = build_cr(pdu, neg_corr, sizeof(neg_corr), 0xE0);
    out = run2(pdu, len, NULL, 0, &n, &rc);
    assert_int_equal(rc, 0);
    assert_string_equal(out, "{\"kind\":1,\"dir\":0,\"rdp\":{\"type\":\"connect_request\","
                             "\"requested_protocols\":[\"ssl\",\"hybrid\",\"rdstls\","
                             "\"hybrid_ex\",\"rdsaad\"],\"requested_protocols_raw\":31,"
                             "\"flags\":0,\"correlation_info\":true}}\n");
    free(out);

    /* Nothing after the header at all. */
    len = build_cr(pdu, "", 0, 0xE0);
    out = run2(pdu, len, NULL, 0, &n, &rc);
    assert_int_equal(rc, 0);
    assert_string_equal(out, "{\"kind\":1,\"dir\":0,\"rdp\":{\"type\":\"connect_request\"}}\n");
    free(out);

    /* A cookie line without its CR LF. */
    static const char no_crlf[] = "Cookie: mstshash=mallory";
    len = build_cr(pdu, no_crlf, sizeof(no_crlf) - 1, 0xE0);
    out = run2(pdu, len, NULL, 0, &n, &rc);
    assert_int_equal(rc, 0);
    has(out, "\"cookie_malformed\":true");
    lacks(out, "mallory");
    free(out);

    /* A user name longer than RDP_TOKEN_MAX: cut. */
    char longc[17 + 200 + 2];
    memcpy(longc, "Cookie: mstshash=", 17);
    memset(longc + 17, 'u', 200);
    memcpy(longc + 217, "\r\n", 2);
    len = build_cr(pdu, longc, sizeof(longc), 0xE0);
    out = run2(pdu, len, NULL, 0, &n, &rc);
    assert_int_equal(rc, 0);
    has(out, "\"cookie_truncated\":true");
    has(out, "uuu\",\"cookie_truncated\"");
    free(out);

    /* A confirm with an unknown failure code, and with an unknown selected protocol. */
    static const uint8_t req[] = {0x01, 0x00, 0x08, 0x00, 0x03, 0x00, 0x00, 0x00};
    uint8_t cr[64], cc[64];
    size_t cr_len = build_cr(cr, req, sizeof(req), 0xE0);
    static const uint8_t fail99[] = {0x03, 0x00, 0x08, 0x00, 0x63, 0x00, 0x00, 0x00};
    size_t cc_len = build_cr(cc, fail99, sizeof(fail99), 0xD0);
    out = run2(cr, cr_len, cc, cc_len, &n, &rc);
    assert_int_equal(rc, 0);
    has(out, "{\"type\":\"negotiation_failure\",\"failure_code\":\"99\"}");
    free(out);
    static const uint8_t sel_hybrid[] = {0x02, 0x00, 0x08, 0x00, 0x02, 0x00, 0x00, 0x00};
    cc_len = build_cr(cc, sel_hybrid, sizeof(sel_hybrid), 0xD0);
    out = run2(cr, cr_len, cc, cc_len, &n, &rc);
    has(out, "{\"type\":\"connect_confirm\",\"selected_protocol\":\"hybrid\",\"flags\":0}");
    free(out);
    static const uint8_t sel_odd[] = {0x02, 0x00, 0x08, 0x00, 0x03, 0x00, 0x00, 0x00};
    cc_len = build_cr(cc, sel_odd, sizeof(sel_odd), 0xD0);
    out = run2(cr, cr_len, cc, cc_len, &n, &rc);
    has(out, "\"selected_protocol\":3");
    free(out);
}

/* Malformed lengths and codes give up on the flow, without an event. */
static void
test_malformed(void **state)
{
    (void)state;
    uint8_t pdu[300];
    size_t len;
    int n, rc;
    char *out;
    static const uint8_t req[] = {0x01, 0x00, 0x08, 0x00, 0x03, 0x00, 0x00, 0x00};

    struct {
        size_t at;
        uint8_t value;
    } breaks[] = {
        {0, 4},     /* TPKT version */
        {1, 1},     /* TPKT reserved */
        {3, 10},    /* TPKT length below a bare X.224 header */
        {2, 1},     /* TPKT length 256 + ...: above RDP_PDU_MAX */
        {4, 0x20},  /* length indicator that does not match the TPKT */
        {5, 0xF0},  /* an X.224 DT, not a CR */
        {11, 0x02}, /* a Negotiation Response sent by the client */
        {13, 0x09}, /* negotiation length not 8 */
    };
    for (size_t i = 0; i < sizeof(breaks) / sizeof(breaks[0]); i++) {
        len = build_cr(pdu, req, sizeof(req), 0xE0);
        pdu[breaks[i].at] = breaks[i].value;
        out = run2(pdu, len, NULL, 0, &n, &rc);
        if (rc >= 0 || n != 0)
            fail_msg("break %zu: rc %d, %d events:\n%s", i, rc, n, out);
        free(out);
    }

    /* A request sent by the server. */
    len = build_cr(pdu, req, sizeof(req), 0xE0);
    struct harness_msg wrong_dir[] = {{1, pdu, len}};
    out = harness_run(&rdp_parser, wrong_dir, 1, &n, &rc);
    assert_true(rc < 0);
    assert_int_equal(n, 0);
    free(out);

    /* A request cut short: nothing, and end() frees the buffer. */
    out = run2(tcp_52084_0, sizeof(tcp_52084_0) - 1, NULL, 0, &n, &rc);
    assert_int_equal(rc, 0);
    assert_int_equal(n, 0);
    free(out);
}

static void
test_probe_and_gap(void **state)
{
    (void)state;
    static const uint8_t http[] = "GET / HTTP/1.1\r\n";
    assert_int_equal(rdp_parser.probe(tcp_52084_0, sizeof(tcp_52084_0), 0), PROTO_PROBE_YES);
    assert_int_equal(rdp_parser.probe(tcp_52084_1, sizeof(tcp_52084_1), 1), PROTO_PROBE_YES);
    assert_int_equal(rdp_parser.probe(tcp_52084_0, sizeof(tcp_52084_0), 1), PROTO_PROBE_NO);
    assert_int_equal(rdp_parser.probe(tcp_52084_0, 3, 0), PROTO_PROBE_NEED_MORE);
    assert_int_equal(rdp_parser.probe(http, sizeof(http) - 1, 0), PROTO_PROBE_NO);

    /* A gap before the request is read gives up; after it, it does not matter. */
    struct harness h;
    harness_begin(&h, &rdp_parser);
    assert_true(rdp_parser.gap(h.state, &h.ctx, 0, 10) < 0);
    harness_feed(&h, 0, tcp_52084_0, sizeof(tcp_52084_0), 0);
    assert_int_equal(rdp_parser.gap(h.state, &h.ctx, 0, 10), 0);
    harness_end(&h);
    assert_int_equal(h.n_events, 1);
    harness_release(&h);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cookie_and_confirm), cmocka_unit_test(test_real_variants),
        cmocka_unit_test(test_split_every_byte),   cmocka_unit_test(test_hand_requests),
        cmocka_unit_test(test_malformed),          cmocka_unit_test(test_probe_and_gap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
