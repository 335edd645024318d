// SPDX-License-Identifier: Apache-2.0
// The behaviour detectors: each fires exactly at its threshold and not below, once per window,
// again in the next window; evidence is valid JSON with the counts and no patient data; tables
// stay within their caps under a flood of sources; workers can share one instance.
//
// Flows and events are built by hand: a flow is its key (client endpoint 0), its first-packet
// TCP flags and its byte counts; events are the parsers' structs with the fields the detectors
// read.
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/jsonw.h"
#include "detect/behave.h"
#include "proto/dicom.h"
#include "proto/dns.h"
#include "proto/hl7.h"
#include "proto/rdp.h"
#include "proto/smb2.h"

#define SEC 1000000ull /* microseconds */

/* ---- recording alerts ---- */

#define REC_MAX 64
struct rec_alert {
    enum rule_id rule;
    int src_side;
    uint64_t subject;
    uint64_t flow_id;
    char evidence[2048]; /* the evidence object as JSON text */
};

struct rec {
    int n;
    int n_total; /* also those past REC_MAX */
    struct rec_alert a[REC_MAX];
};

static void
on_alert(void *user, const struct alert *a)
{
    struct rec *r = user;
    r->n_total++;
    if (r->n == REC_MAX)
        return;
    struct rec_alert *ra = &r->a[r->n++];
    ra->rule = a->rule;
    ra->src_side = a->src_side;
    ra->subject = a->subject;
    ra->flow_id = a->flow ? a->flow->id : 0;
    struct buf b;
    buf_init(&b, 0);
    struct jsonw w;
    jsonw_begin(&w, &b);
    jsonw_object_begin(&w);
    if (a->evidence)
        a->evidence(&w, a->evidence_arg);
    jsonw_object_end(&w);
    assert_int_equal(jsonw_end(&w), 0);
    assert_true(b.len < sizeof(ra->evidence));
    memcpy(ra->evidence, b.ptr, b.len);
    ra->evidence[b.len] = '\0';
    buf_release(&b);
}

struct fixture {
    struct behave *b;
    struct alert_gate gate;
    struct rec rec;
};

/* A detector set with the defaults, changed by "name=value" strings, NULL-terminated. */
static void
setup(struct fixture *fx, const char *home_net, const char *const *set)
{
    memset(fx, 0, sizeof(*fx));
    struct behave_config c;
    behave_config_defaults(&c);
    struct errbuf eb;
    assert_int_equal(behave_config_set(&c, "hash_seed=20240601", &eb), 0); /* reproducible */
    for (size_t i = 0; set && set[i]; i++)
        assert_int_equal(behave_config_set(&c, set[i], &eb), 0);
    fx->b = behave_new(&c, home_net, &eb);
    assert_non_null(fx->b);
    struct alert_gate_config gc = {0, 0}; /* no rate limit: the tests count every alert */
    alert_gate_init(&fx->gate, &gc, on_alert, &fx->rec);
}

static void
teardown(struct fixture *fx)
{
    behave_free(fx->b);
}

static int
count_rule(const struct rec *r, enum rule_id rule)
{
    int n = 0;
    for (int i = 0; i < r->n; i++)
        n += r->a[i].rule == rule;
    return n;
}

/* The i-th alert's evidence, parsed; the caller json_decref()s it. */
static json_t *
evidence(const struct rec *r, int i)
{
    assert_true(i < r->n);
    json_error_t err;
    json_t *j = json_loads(r->a[i].evidence, 0, &err);
    if (!j)
        fail_msg("evidence is not JSON (%s): %s", err.text, r->a[i].evidence);
    assert_true(json_is_object(j));
    return j;
}

static json_int_t
ev_int(json_t *j, const char *key)
{
    json_t *v = json_object_get(j, key);
    if (!json_is_integer(v))
        fail_msg("evidence has no integer '%s'", key);
    return json_integer_value(v);
}

static const char *
ev_str(json_t *j, const char *key)
{
    json_t *v = json_object_get(j, key);
    if (!json_is_string(v))
        fail_msg("evidence has no string '%s'", key);
    return json_string_value(v);
}

static size_t
ev_array_len(json_t *j, const char *key)
{
    json_t *v = json_object_get(j, key);
    if (!json_is_array(v))
        fail_msg("evidence has no array '%s'", key);
    return json_array_size(v);
}

/* Whether the array under key holds the string s. */
static bool
ev_array_has(json_t *j, const char *key, const char *s)
{
    json_t *v = json_object_get(j, key);
    size_t i;
    json_t *x;
    json_array_foreach(v, i, x)
    {
        if (json_is_string(x) && strcmp(json_string_value(x), s) == 0)
            return true;
    }
    return false;
}

/* ---- flows ---- */

static uint64_t next_flow_id = 1;

static struct ipaddr
ip(const char *text, uint8_t *version)
{
    struct ipaddr a;
    memset(&a, 0, sizeof(a));
    if (inet_pton(AF_INET, text, a.b) == 1) {
        *version = 4;
    } else {
        assert_int_equal(inet_pton(AF_INET6, text, a.b), 1);
        *version = 6;
    }
    return a;
}

/* A flow from client:cport to server:sport; TCP flows start with a bare SYN. */
static void
mkflow(struct flow *f, const char *client, uint16_t cport, const char *server, uint16_t sport,
       uint8_t proto)
{
    memset(f, 0, sizeof(*f));
    uint8_t v1, v2;
    f->key.addr[0] = ip(client, &v1);
    f->key.addr[1] = ip(server, &v2);
    assert_int_equal(v1, v2);
    f->key.ip_version = v1;
    f->key.port[0] = cport;
    f->key.port[1] = sport;
    f->key.proto = proto;
    f->client = 0;
    f->id = next_flow_id++;
    if (proto == 6)
        f->tcp_flags[FLOW_TOSERVER] = TCP_SYN;
    f->pkts[0] = 1;
}

/* One new flow at time ts. */
static void
flow_at(struct fixture *fx, const char *client, const char *server, uint16_t sport, uint8_t proto,
        uint64_t ts)
{
    struct flow f;
    mkflow(&f, client, 40000, server, sport, proto);
    f.start_us = f.last_us = ts;
    behave_flow_new(fx->b, &fx->gate, &f, ts);
}

static void
event(struct fixture *fx, const struct flow *f, enum proto_id proto, int kind, int dir, uint64_t ts,
      const void *data)
{
    struct proto_event ev = {proto, kind, dir, ts, data};
    behave_event(fx->b, &fx->gate, f, &ev);
}

/* ---- configuration ---- */

static void
test_config(void **state)
{
    (void)state;
    struct behave_config c;
    behave_config_defaults(&c);
    assert_int_equal(c.scan_ports, 100);
    assert_int_equal(c.scan_window, 60000);
    assert_int_equal(c.dicom_retrieve_window, 300000);
    assert_int_equal(c.rdp_short_bytes, 20480);
    assert_int_equal(c.dns_label_entropy, 3500);
    assert_int_equal(c.scan_memcap, 32 << 20);
    assert_int_equal(c.smb_admin_share, 1);

    struct errbuf eb;
    assert_int_equal(behave_config_set(&c, "scan_ports=250", &eb), 0);
    assert_int_equal(c.scan_ports, 250);
    assert_int_equal(behave_config_set(&c, "scan_window=5m", &eb), 0);
    assert_int_equal(c.scan_window, 300000);
    assert_int_equal(behave_config_set(&c, "scan_window=90", &eb), 0);
    assert_int_equal(c.scan_window, 90000);
    assert_int_equal(behave_config_set(&c, "dns_label_entropy=4.25", &eb), 0);
    assert_int_equal(c.dns_label_entropy, 4250);
    assert_int_equal(behave_config_set(&c, "dns_label_entropy=4", &eb), 0);
    assert_int_equal(c.dns_label_entropy, 4000);
    assert_int_equal(behave_config_set(&c, "smb_admin_share=off", &eb), 0);
    assert_int_equal(c.smb_admin_share, 0);
    assert_int_equal(behave_config_set(&c, "smb_admin_share=1", &eb), 0);
    assert_int_equal(c.smb_admin_share, 1);
    assert_int_equal(behave_config_set(&c, "rdp_short_bytes=64K", &eb), 0);
    assert_int_equal(c.rdp_short_bytes, 65536);
    assert_int_equal(behave_config_set(&c, "dns_nxdomain=0", &eb), 0);
    assert_int_equal(c.dns_nxdomain, 0);

    /* Errors leave the configuration as it was and say what is wrong. */
    struct behave_config before = c;
    assert_int_equal(behave_config_set(&c, "scan_portz=5", &eb), IASO_E_USAGE);
    assert_string_equal(eb.msg, "threshold 'scan_portz=5': no parameter is called 'scan_portz' "
                                "(the names are listed in --help)");
    assert_int_equal(behave_config_set(&c, "scan_ports", &eb), IASO_E_USAGE);
    assert_non_null(strstr(eb.msg, "expected name=value"));
    assert_int_equal(behave_config_set(&c, "scan_ports=many", &eb), IASO_E_USAGE);
    assert_string_equal(eb.msg, "threshold 'scan_ports=many': scan_ports takes a whole number "
                                "from 0 to 65536");
    assert_int_equal(behave_config_set(&c, "scan_ports=-1", &eb), IASO_E_USAGE);
    assert_int_equal(behave_config_set(&c, "scan_ports=", &eb), IASO_E_USAGE);
    assert_int_equal(behave_config_set(&c, "scan_window=0", &eb), IASO_E_USAGE);
    assert_string_equal(eb.msg, "threshold 'scan_window=0': scan_window takes a duration such as "
                                "30s, 5m or 2h, from 1s to 1d");
    assert_int_equal(behave_config_set(&c, "scan_window=2d", &eb), IASO_E_USAGE);
    assert_int_equal(behave_config_set(&c, "scan_memcap=1K", &eb), IASO_E_USAGE);
    assert_non_null(strstr(eb.msg, "a size such as 64K or 32M, from 64K to 64G"));
    assert_int_equal(behave_config_set(&c, "dns_label_entropy=3.1415", &eb), IASO_E_USAGE);
    assert_non_null(strstr(eb.msg, "from 0.000 to 6.000"));
    assert_int_equal(behave_config_set(&c, "dns_label_entropy=7", &eb), IASO_E_USAGE);
    assert_int_equal(behave_config_set(&c, "dns_label_entropy=.", &eb), IASO_E_USAGE);
    assert_int_equal(behave_config_set(&c, "dns_label_entropy=1.2.3", &eb), IASO_E_USAGE);
    assert_int_equal(behave_config_set(&c, "smb_admin_share=maybe", &eb), IASO_E_USAGE);
    assert_string_equal(
        eb.msg, "threshold 'smb_admin_share=maybe': smb_admin_share takes 1 (on) or 0 (off)");
    assert_memory_equal(&c, &before, sizeof(c));

    /* The table: every name unique, every default accepted as a value. */
    size_t n = behave_param_count();
    assert_true(n >= 30);
    assert_null(behave_param_at(n));
    assert_null(behave_param_name(n));
    for (size_t i = 0; i < n; i++) {
        const struct behave_param *p = behave_param_at(i);
        assert_string_equal(p->name, behave_param_name(i));
        assert_true(strlen(p->help) > 10);
        assert_true(strlen(p->unit) > 0);
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(p->name, behave_param_name(j));
        char text[128];
        snprintf(text, sizeof(text), "%s=%s", p->name, p->def);
        struct behave_config d, e;
        behave_config_defaults(&d);
        behave_config_defaults(&e);
        assert_int_equal(behave_config_set(&d, text, &eb), 0);
        assert_memory_equal(&d, &e, sizeof(d));
    }
}

static void
test_new_errors(void **state)
{
    (void)state;
    struct behave_config c;
    behave_config_defaults(&c);
    struct errbuf eb;
    assert_null(behave_new(&c, "10.0.0.0/8,hospital", &eb));
    assert_string_equal(eb.msg, "home networks: network 'hospital': 'hospital' is not an IPv4 or "
                                "IPv6 address (write 10.0.0.0/8 or fd00::/8)");
    assert_null(behave_new(&c, "", &eb));
    assert_int_equal(behave_config_set(&c, "scan_ports=65536", &eb), 0);
    assert_int_equal(behave_config_set(&c, "scan_memcap=64K", &eb), 0);
    assert_null(behave_new(&c, NULL, &eb));
    assert_non_null(strstr(eb.msg, "scan_memcap 65536 bytes does not hold one bucket"));
    assert_non_null(strstr(eb.msg, "raise scan_memcap or lower the thresholds"));
    behave_free(NULL);

    struct behave *b = behave_new(&c, "10.0.0.0/8", NULL);
    assert_null(b);
    behave_config_defaults(&c);
    b = behave_new(&c, "10.0.0.0/8, 2001:db8::/32", &eb);
    assert_non_null(b);
    struct behave_stats st;
    behave_stats(b, &st);
    for (int i = 0; i < BEHAVE_TABLE_COUNT; i++) {
        assert_true(st.table[i].n_slots >= 8);
        assert_int_equal(st.table[i].n_tracked, 0);
    }
    assert_true(st.mem_bytes <= (uint64_t)(c.scan_memcap + c.dicom_memcap + c.smb_memcap +
                                           c.rdp_memcap + c.dns_memcap));
    assert_string_equal(behave_table_name(BEHAVE_TABLE_SCAN), "scan");
    assert_string_equal(behave_table_name(BEHAVE_TABLE_DNS), "dns");
    behave_free(b);
}

/* ---- scans ---- */

static void
test_scan_ports(void **state)
{
    (void)state;
    struct fixture fx;
    const char *set[] = {"scan_ports=10", "scan_hosts=0", NULL};
    setup(&fx, NULL, set);
    uint64_t t0 = 1000 * SEC;

    /* Nine distinct ports, each twice, on two hosts: below the threshold. */
    for (int i = 0; i < 9; i++) {
        flow_at(&fx, "10.0.0.5", "10.0.0.9", (uint16_t)(20 + i), 6, t0 + (uint64_t)i * SEC);
        flow_at(&fx, "10.0.0.5", "10.0.0.10", (uint16_t)(20 + i), 6, t0 + (uint64_t)i * SEC);
    }
    assert_int_equal(fx.rec.n, 0);
    /* Flows that do not start with a bare SYN, answers seen first, and multicast do not count. */
    struct flow f;
    mkflow(&f, "10.0.0.5", 40000, "10.0.0.9", 1000, 6);
    f.tcp_flags[FLOW_TOSERVER] = TCP_SYN | TCP_ACK;
    behave_flow_new(fx.b, &fx.gate, &f, t0 + 10 * SEC);
    f.tcp_flags[FLOW_TOSERVER] = TCP_ACK;
    behave_flow_new(fx.b, &fx.gate, &f, t0 + 10 * SEC);
    mkflow(&f, "10.0.0.5", 53, "10.0.0.9", 50000, 17);
    behave_flow_new(fx.b, &fx.gate, &f, t0 + 10 * SEC);
    flow_at(&fx, "10.0.0.5", "239.255.255.250", 1900, 17, t0 + 10 * SEC);
    flow_at(&fx, "10.0.0.5", "255.255.255.255", 67, 17, t0 + 10 * SEC);
    flow_at(&fx, "10.0.0.6", "10.0.0.9", 80, 6, t0 + 10 * SEC); /* another source */
    assert_int_equal(fx.rec.n, 0);

    /* The tenth port (UDP counts too) fires, once. */
    flow_at(&fx, "10.0.0.5", "10.0.0.9", 161, 17, t0 + 11 * SEC);
    assert_int_equal(fx.rec.n, 1);
    assert_int_equal(fx.rec.a[0].rule, RULE_SCAN_PORTS);
    assert_int_equal(fx.rec.a[0].src_side, FLOW_TOSERVER);
    assert_int_equal(fx.rec.a[0].subject, t0);
    json_t *j = evidence(&fx.rec, 0);
    assert_int_equal(ev_int(j, "count"), 10);
    assert_int_equal(ev_int(j, "threshold"), 10);
    assert_int_equal(ev_int(j, "window_s"), 60);
    assert_int_equal(ev_array_len(j, "ports"), 8);
    json_t *last = json_array_get(json_object_get(j, "ports"), 7);
    assert_int_equal(json_integer_value(last), 161);
    json_decref(j);
    for (int i = 0; i < 20; i++)
        flow_at(&fx, "10.0.0.5", "10.0.0.9", (uint16_t)(2000 + i), 6, t0 + 12 * SEC);
    assert_int_equal(fx.rec.n, 1);

    /* The window ends 60 s after it opened: nine more are below again, the tenth fires. */
    uint64_t t1 = t0 + 61 * SEC;
    for (int i = 0; i < 9; i++)
        flow_at(&fx, "10.0.0.5", "10.0.0.9", (uint16_t)(20 + i), 6, t1);
    assert_int_equal(fx.rec.n, 1);
    flow_at(&fx, "10.0.0.5", "10.0.0.9", 29, 6, t1 + SEC);
    assert_int_equal(fx.rec.n, 2);
    assert_int_equal(fx.rec.a[1].subject, t1);

    /* A window that expires below the threshold starts over. */
    uint64_t t2 = t1 + 120 * SEC;
    for (int i = 0; i < 9; i++)
        flow_at(&fx, "10.0.0.5", "10.0.0.9", (uint16_t)(20 + i), 6, t2);
    flow_at(&fx, "10.0.0.5", "10.0.0.9", 29, 6, t2 + 60 * SEC);
    assert_int_equal(fx.rec.n, 2);
    teardown(&fx);
}

static void
test_scan_hosts(void **state)
{
    (void)state;
    struct fixture fx;
    const char *set[] = {"scan_hosts=5", "scan_ports=0", NULL};
    setup(&fx, "10.0.0.0/8,fd00::/8", set);
    uint64_t t0 = 50 * SEC;
    char host[64];
    /* Outside the home networks: not counted by default. */
    for (int i = 0; i < 10; i++) {
        snprintf(host, sizeof(host), "198.51.100.%d", i + 1);
        flow_at(&fx, "10.1.1.1", host, 443, 6, t0);
    }
    for (int i = 0; i < 4; i++) {
        snprintf(host, sizeof(host), "10.2.0.%d", i + 1);
        flow_at(&fx, "10.1.1.1", host, 445, 6, t0);
        flow_at(&fx, "10.1.1.1", host, 139, 6, t0); /* the same host again */
    }
    flow_at(&fx, "10.1.1.1", "10.2.0.1", 3389, 6, t0); /* a known host again */
    assert_int_equal(fx.rec.n, 0);
    flow_at(&fx, "10.1.1.1", "10.2.0.99", 0, 1, t0 + SEC); /* ICMP counts */
    assert_int_equal(fx.rec.n, 1);
    assert_int_equal(fx.rec.a[0].rule, RULE_SCAN_HOSTS);
    json_t *j = evidence(&fx.rec, 0);
    assert_int_equal(ev_int(j, "count"), 5);
    assert_int_equal(ev_array_len(j, "hosts"), 4);
    assert_true(ev_array_has(j, "hosts", "10.2.0.99"));
    assert_true(ev_array_has(j, "hosts", "10.2.0.2"));
    json_decref(j);

    /* IPv6 sources are their own. */
    for (int i = 0; i < 5; i++) {
        snprintf(host, sizeof(host), "fd00::%d", i + 1);
        flow_at(&fx, "fd00::aa", host, 22, 6, t0);
    }
    assert_int_equal(fx.rec.n, 2);
    teardown(&fx);

    /* scan_hosts_home_only=0 counts every destination. */
    const char *set2[] = {"scan_hosts=5", "scan_hosts_home_only=0", NULL};
    setup(&fx, NULL, set2);
    for (int i = 0; i < 5; i++) {
        snprintf(host, sizeof(host), "198.51.100.%d", i + 1);
        flow_at(&fx, "10.1.1.1", host, 443, 6, t0);
    }
    assert_int_equal(count_rule(&fx.rec, RULE_SCAN_HOSTS), 1);
    assert_int_equal(count_rule(&fx.rec, RULE_SCAN_PORTS), 0);
    teardown(&fx);
}

/* ---- RDP ---- */

static void
test_rdp(void **state)
{
    (void)state;
    struct fixture fx;
    const char *set[] = {"rdp_attempts=5", "rdp_short=3", NULL};
    setup(&fx, NULL, set);
    uint64_t t0 = 10 * SEC;
    /* Attempts to 3389 of one server count; another server is another pair. */
    for (int i = 0; i < 4; i++) {
        flow_at(&fx, "10.0.0.7", "10.0.0.1", 3389, 6, t0 + (uint64_t)i * SEC);
        flow_at(&fx, "10.0.0.7", "10.0.0.2", 3389, 6, t0 + (uint64_t)i * SEC);
    }
    assert_int_equal(count_rule(&fx.rec, RULE_RDP_BRUTE_FORCE), 0);
    /* A connection request with a user name on a counted flow adds the name, not an attempt. */
    struct flow f;
    mkflow(&f, "10.0.0.7", 40001, "10.0.0.1", 3389, 6);
    struct rdp_event r;
    memset(&r, 0, sizeof(r));
    r.has_cookie = true;
    r.token_len = (uint16_t)snprintf(r.token, sizeof(r.token), "administrator");
    event(&fx, &f, PROTO_RDP, RDP_EVENT_CONNECT_REQUEST, 0, t0 + 5 * SEC, &r);
    assert_int_equal(count_rule(&fx.rec, RULE_RDP_BRUTE_FORCE), 0);
    flow_at(&fx, "10.0.0.7", "10.0.0.1", 3389, 6, t0 + 6 * SEC);
    assert_int_equal(fx.rec.n, 1);
    assert_int_equal(fx.rec.a[0].rule, RULE_RDP_BRUTE_FORCE);
    json_t *j = evidence(&fx.rec, 0);
    assert_int_equal(ev_int(j, "attempts"), 5);
    assert_int_equal(ev_int(j, "short"), 0);
    assert_int_equal(ev_int(j, "attempts_threshold"), 5);
    assert_int_equal(ev_int(j, "window_s"), 300);
    assert_true(ev_array_has(j, "users", "administrator"));
    json_decref(j);
    teardown(&fx);

    /* Connections that end short, on another port (found by the parser). */
    setup(&fx, NULL, set);
    for (int i = 0; i < 3; i++) {
        mkflow(&f, "10.0.0.8", (uint16_t)(40000 + i), "10.0.0.3", 3390, 6);
        f.bytes[0] = 3000;
        f.bytes[1] = i == 1 ? 500000 : 6000; /* the second is a session: long */
        f.last_us = t0 + (uint64_t)i * SEC;
        behave_flow_end(fx.b, &fx.gate, &f, PROTO_RDP);
        behave_flow_end(fx.b, &fx.gate, &f, PROTO_NONE); /* not RDP, not 3389: ignored */
    }
    assert_int_equal(fx.rec.n, 0);
    mkflow(&f, "10.0.0.8", 40010, "10.0.0.3", 3390, 6);
    f.bytes[0] = 100;
    f.last_us = t0 + 10 * SEC;
    behave_flow_end(fx.b, &fx.gate, &f, PROTO_RDP);
    assert_int_equal(fx.rec.n, 1);
    j = evidence(&fx.rec, 0);
    assert_int_equal(ev_int(j, "short"), 3);
    assert_int_equal(ev_int(j, "short_threshold"), 3);
    assert_int_equal(ev_int(j, "short_bytes"), 20480);
    json_decref(j);
    teardown(&fx);

    /* On another port, connection requests are the attempts. */
    setup(&fx, NULL, set);
    for (int i = 0; i < 5; i++) {
        mkflow(&f, "10.0.0.9", (uint16_t)(40000 + i), "10.0.0.3", 13389, 6);
        snprintf(r.token, sizeof(r.token), "user%d", i);
        r.token_len = 5;
        event(&fx, &f, PROTO_RDP, RDP_EVENT_CONNECT_REQUEST, 0, t0, &r);
        assert_int_equal(fx.rec.n, i == 4);
    }
    j = evidence(&fx.rec, 0);
    assert_int_equal(ev_array_len(j, "users"), 4); /* the last four */
    assert_true(ev_array_has(j, "users", "user4"));
    assert_false(ev_array_has(j, "users", "user0"));
    json_decref(j);
    teardown(&fx);
}

/* ---- DICOM and HL7 ---- */

static struct dicom_dimse *
find_rq(const char *level, enum dicom_match name_match)
{
    struct dicom_dimse *m = calloc(1, sizeof(*m));
    assert_non_null(m);
    m->has = DICOM_HAS_COMMAND_FIELD | DICOM_HAS_MESSAGE_ID;
    m->command_field = 0x0020;
    snprintf(m->query_level, sizeof(m->query_level), "%s", level);
    m->n_keys = 3;
    m->keys[0].tag = 0x00100010;
    m->keys[0].keyword = "PatientName";
    m->keys[0].match = name_match;
    m->keys[0].is_patient = true;
    snprintf(m->keys[0].value, sizeof(m->keys[0].value), "%s",
             name_match == DICOM_MATCH_EXACT ? "phi:4f2a9c" : "");
    m->keys[1].tag = 0x00080020;
    m->keys[1].keyword = "StudyDate";
    m->keys[1].match = DICOM_MATCH_RANGE;
    snprintf(m->keys[1].value, sizeof(m->keys[1].value), "20240101-20241231");
    m->keys[2].tag = 0x00100020;
    m->keys[2].keyword = "PatientID";
    m->keys[2].match = DICOM_MATCH_UNIVERSAL;
    m->keys[2].is_patient = true;
    return m;
}

static void
test_dicom_sweep(void **state)
{
    (void)state;
    struct fixture fx;
    const char *set[] = {"dicom_find_queries=4", NULL};
    setup(&fx, NULL, set);
    struct flow f;
    mkflow(&f, "10.0.0.20", 50000, "10.0.0.30", 104, 6);
    uint64_t t0 = 100 * SEC;
    struct dicom_dimse *broad = find_rq("STUDY", DICOM_MATCH_WILDCARD);
    struct dicom_dimse *exact = find_rq("STUDY", DICOM_MATCH_EXACT);
    struct dicom_dimse *series = find_rq("SERIES", DICOM_MATCH_WILDCARD);
    struct dicom_dimse *worklist = find_rq("", DICOM_MATCH_WILDCARD);
    for (int i = 0; i < 3; i++)
        event(&fx, &f, PROTO_DICOM, DICOM_EVENT_DIMSE, 0, t0 + (uint64_t)i * SEC, broad);
    /* Narrow queries, other levels and worklists do not count; nor do responses. */
    for (int i = 0; i < 10; i++) {
        event(&fx, &f, PROTO_DICOM, DICOM_EVENT_DIMSE, 0, t0, exact);
        event(&fx, &f, PROTO_DICOM, DICOM_EVENT_DIMSE, 0, t0, series);
        event(&fx, &f, PROTO_DICOM, DICOM_EVENT_DIMSE, 0, t0, worklist);
    }
    struct dicom_dimse *rsp = find_rq("STUDY", DICOM_MATCH_WILDCARD);
    rsp->command_field = 0x8020; /* C-FIND-RSP */
    for (int i = 0; i < 10; i++)
        event(&fx, &f, PROTO_DICOM, DICOM_EVENT_DIMSE, 1, t0, rsp);
    free(rsp);
    assert_int_equal(fx.rec.n, 0);
    snprintf(broad->query_level, sizeof(broad->query_level), "PATIENT");
    event(&fx, &f, PROTO_DICOM, DICOM_EVENT_DIMSE, 0, t0 + 10 * SEC, broad);
    assert_int_equal(fx.rec.n, 1);
    assert_int_equal(fx.rec.a[0].rule, RULE_DICOM_QUERY_SWEEP);
    assert_int_equal(fx.rec.a[0].src_side, FLOW_TOSERVER);
    json_t *j = evidence(&fx.rec, 0);
    assert_int_equal(ev_int(j, "count"), 4);
    assert_int_equal(ev_int(j, "threshold"), 4);
    assert_int_equal(ev_int(j, "window_s"), 60);
    assert_true(ev_array_has(j, "queries", "STUDY PatientName:wildcard StudyDate:range"));
    assert_true(ev_array_has(j, "queries", "PATIENT PatientName:wildcard StudyDate:range"));
    json_decref(j);
    /* No values of keys, patient or not. */
    assert_null(strstr(fx.rec.a[0].evidence, "phi:"));
    assert_null(strstr(fx.rec.a[0].evidence, "2024"));
    event(&fx, &f, PROTO_DICOM, DICOM_EVENT_DIMSE, 0, t0 + 11 * SEC, broad);
    assert_int_equal(fx.rec.n, 1);
    free(broad);
    free(exact);
    free(series);
    free(worklist);
    teardown(&fx);
}

static void
test_dicom_retrieve(void **state)
{
    (void)state;
    struct fixture fx;
    const char *set[] = {"dicom_retrieve_requests=3", "dicom_retrieve_instances=1000", NULL};
    setup(&fx, NULL, set);
    struct flow f;
    mkflow(&f, "10.0.0.21", 50000, "10.0.0.30", 104, 6);
    uint64_t t0 = 100 * SEC;
    struct dicom_dimse *m = calloc(1, sizeof(*m));
    assert_non_null(m);
    m->has = DICOM_HAS_COMMAND_FIELD;
    m->command_field = 0x0021; /* C-MOVE-RQ */
    snprintf(m->move_destination, sizeof(m->move_destination), "EXFIL_AE");
    event(&fx, &f, PROTO_DICOM, DICOM_EVENT_DIMSE, 0, t0, m);
    m->command_field = 0x0010; /* C-GET-RQ */
    event(&fx, &f, PROTO_DICOM, DICOM_EVENT_DIMSE, 0, t0, m);
    assert_int_equal(fx.rec.n, 0);
    m->command_field = 0x0021;
    event(&fx, &f, PROTO_DICOM, DICOM_EVENT_DIMSE, 0, t0 + SEC, m);
    assert_int_equal(fx.rec.n, 1);
    assert_int_equal(fx.rec.a[0].rule, RULE_DICOM_BULK_RETRIEVE);
    json_t *j = evidence(&fx.rec, 0);
    assert_int_equal(ev_int(j, "requests"), 3);
    assert_int_equal(ev_int(j, "c_move"), 2);
    assert_int_equal(ev_int(j, "c_get"), 1);
    assert_int_equal(ev_int(j, "window_s"), 300);
    assert_true(ev_array_has(j, "move_destinations", "EXFIL_AE"));
    json_decref(j);
    teardown(&fx);

    /* By instances: the final responses' completed sub-operations, not the pending ones. */
    const char *set2[] = {"dicom_retrieve_requests=0", "dicom_retrieve_instances=1000", NULL};
    setup(&fx, NULL, set2);
    memset(m, 0, sizeof(*m));
    m->has = DICOM_HAS_COMMAND_FIELD | DICOM_HAS_STATUS | DICOM_HAS_COMPLETED;
    m->command_field = 0x8021; /* C-MOVE-RSP */
    m->status = 0xff00;        /* pending */
    m->n_completed = 900;
    event(&fx, &f, PROTO_DICOM, DICOM_EVENT_DIMSE, 1, t0, m);
    m->status = 0x0000;
    m->n_completed = 600;
    event(&fx, &f, PROTO_DICOM, DICOM_EVENT_DIMSE, 1, t0, m);
    assert_int_equal(fx.rec.n, 0);
    m->command_field = 0x8010; /* C-GET-RSP */
    m->n_completed = 399;
    event(&fx, &f, PROTO_DICOM, DICOM_EVENT_DIMSE, 1, t0, m);
    assert_int_equal(fx.rec.n, 0);
    m->n_completed = 1;
    event(&fx, &f, PROTO_DICOM, DICOM_EVENT_DIMSE, 1, t0, m);
    assert_int_equal(fx.rec.n, 1);
    assert_int_equal(fx.rec.a[0].src_side, FLOW_TOSERVER); /* the requester: the client */
    j = evidence(&fx.rec, 0);
    assert_int_equal(ev_int(j, "instances"), 1000);
    assert_int_equal(ev_int(j, "requests"), 0);
    json_decref(j);
    free(m);
    teardown(&fx);
}

static void
test_dicom_ae_guessing(void **state)
{
    (void)state;
    struct fixture fx;
    const char *set[] = {"dicom_rejects=3", NULL};
    setup(&fx, NULL, set);
    uint64_t t0 = 100 * SEC;
    struct dicom_association a;
    memset(&a, 0, sizeof(a));
    a.end = "reject";
    snprintf(a.calling_ae, sizeof(a.calling_ae), "SCANNER");
    struct flow f;
    /* One wrong title retried: a misconfiguration, counted once. */
    for (int i = 0; i < 10; i++) {
        mkflow(&f, "10.0.0.40", (uint16_t)(50000 + i), "10.0.0.30", 104, 6);
        snprintf(a.called_ae, sizeof(a.called_ae), "PACS");
        event(&fx, &f, PROTO_DICOM, DICOM_EVENT_ASSOCIATION, 1, t0, &a);
    }
    /* Other ends do not count. */
    a.end = "release";
    snprintf(a.called_ae, sizeof(a.called_ae), "OTHER");
    event(&fx, &f, PROTO_DICOM, DICOM_EVENT_ASSOCIATION, 1, t0, &a);
    a.end = "reject";
    snprintf(a.called_ae, sizeof(a.called_ae), "ORTHANC");
    event(&fx, &f, PROTO_DICOM, DICOM_EVENT_ASSOCIATION, 1, t0, &a);
    assert_int_equal(fx.rec.n, 0);
    snprintf(a.called_ae, sizeof(a.called_ae), "DCM4CHEE");
    event(&fx, &f, PROTO_DICOM, DICOM_EVENT_ASSOCIATION, 1, t0 + SEC, &a);
    assert_int_equal(fx.rec.n, 1);
    assert_int_equal(fx.rec.a[0].rule, RULE_DICOM_AE_GUESSING);
    assert_int_equal(fx.rec.a[0].src_side, FLOW_TOSERVER);
    json_t *j = evidence(&fx.rec, 0);
    assert_int_equal(ev_int(j, "count"), 3);
    assert_int_equal(ev_int(j, "window_s"), 300);
    assert_true(ev_array_has(j, "ae_pairs", "SCANNER->PACS"));
    assert_true(ev_array_has(j, "ae_pairs", "SCANNER->DCM4CHEE"));
    json_decref(j);
    teardown(&fx);
}

/* HL7 values are counted, not NUL-terminated. */
static void
hl7_set(struct hl7_str *h, const char *v)
{
    int n = snprintf(h->s, sizeof(h->s), "%s", v);
    h->len = (uint8_t)n;
}

static void
test_external(void **state)
{
    (void)state;
    struct fixture fx;
    setup(&fx, "10.0.0.0/8", NULL);
    uint64_t t0 = 100 * SEC;
    struct dicom_associate rq;
    memset(&rq, 0, sizeof(rq));
    snprintf(rq.calling_ae, sizeof(rq.calling_ae), "MODALITY1");
    snprintf(rq.called_ae, sizeof(rq.called_ae), "CLOUDPACS");
    struct flow f;
    mkflow(&f, "10.0.0.20", 50000, "10.0.0.30", 104, 6);
    event(&fx, &f, PROTO_DICOM, DICOM_EVENT_ASSOCIATE_RQ, 0, t0, &rq);
    assert_int_equal(fx.rec.n, 0);
    /* 192.168.x is not home here: the server is the external side; the client that sent to it
     * is the source. */
    mkflow(&f, "10.0.0.20", 50000, "192.168.1.1", 104, 6);
    event(&fx, &f, PROTO_DICOM, DICOM_EVENT_ASSOCIATE_RQ, 0, t0, &rq);
    struct dicom_association sum;
    memset(&sum, 0, sizeof(sum));
    sum.end = "release";
    event(&fx, &f, PROTO_DICOM, DICOM_EVENT_ASSOCIATION, 0, t0, &sum); /* the same flow */
    assert_int_equal(fx.rec.n, 1);
    assert_int_equal(fx.rec.a[0].rule, RULE_DICOM_EXTERNAL);
    assert_int_equal(fx.rec.a[0].src_side, FLOW_TOSERVER);
    assert_int_equal(fx.rec.a[0].subject, 0);
    json_t *j = evidence(&fx.rec, 0);
    assert_string_equal(ev_str(j, "external"), "server");
    assert_string_equal(ev_str(j, "calling_ae"), "MODALITY1");
    assert_string_equal(ev_str(j, "called_ae"), "CLOUDPACS");
    json_decref(j);

    /* HL7 from an external client, many messages on one flow: one alert. */
    struct hl7_message *m = calloc(1, sizeof(*m));
    assert_non_null(m);
    hl7_set(&m->sending_application.full, "LAB");
    hl7_set(&m->receiving_facility.full, "HOSP");
    hl7_set(&m->message_type, "ADT");
    hl7_set(&m->trigger_event, "A08");
    snprintf(m->patient_name, sizeof(m->patient_name), "phi:77aa");
    mkflow(&f, "203.0.113.5", 50000, "10.0.0.31", 2575, 6);
    for (int i = 0; i < 5; i++)
        event(&fx, &f, PROTO_HL7, HL7_EVENT_MESSAGE, 0, t0 + (uint64_t)i, m);
    assert_int_equal(fx.rec.n, 2);
    assert_int_equal(fx.rec.a[1].rule, RULE_HL7_EXTERNAL);
    assert_int_equal(fx.rec.a[1].src_side, FLOW_TOSERVER);
    j = evidence(&fx.rec, 1);
    assert_string_equal(ev_str(j, "external"), "client");
    assert_string_equal(ev_str(j, "sending_application"), "LAB");
    assert_string_equal(ev_str(j, "receiving_facility"), "HOSP");
    assert_string_equal(ev_str(j, "message_type"), "ADT^A08");
    json_decref(j);
    assert_null(strstr(fx.rec.a[1].evidence, "phi:"));
    /* Both internal: nothing. */
    mkflow(&f, "10.9.0.5", 50000, "10.0.0.31", 2575, 6);
    event(&fx, &f, PROTO_HL7, HL7_EVENT_MESSAGE, 0, t0, m);
    assert_int_equal(fx.rec.n, 2);
    teardown(&fx);

    /* Switched off. */
    const char *set[] = {"hl7_external=0", "dicom_external=0", NULL};
    setup(&fx, "10.0.0.0/8", set);
    mkflow(&f, "203.0.113.5", 50000, "10.0.0.31", 2575, 6);
    event(&fx, &f, PROTO_HL7, HL7_EVENT_MESSAGE, 0, t0, m);
    event(&fx, &f, PROTO_DICOM, DICOM_EVENT_ASSOCIATE_RQ, 0, t0, &rq);
    assert_int_equal(fx.rec.n, 0);
    free(m);
    teardown(&fx);
}

/* ---- SMB ---- */

static struct smb2_event *
smb_ev(const char *share, const char *name)
{
    static struct smb2_event e;
    memset(&e, 0, sizeof(e));
    e.has_status = true;
    e.status = 0;
    snprintf(e.share, sizeof(e.share), "%s", share);
    snprintf(e.filename, sizeof(e.filename), "%s", name);
    return &e;
}

static void
test_smb_burst(void **state)
{
    (void)state;
    struct fixture fx;
    const char *set[] = {"smb_burst_files=6", "smb_ext_files=0", NULL};
    setup(&fx, NULL, set);
    struct flow f;
    mkflow(&f, "10.0.0.50", 50000, "10.0.0.2", 445, 6);
    uint64_t t0 = 100 * SEC;
    char name[64];
    /* Copying files onto the share: created, then written. Not a burst. */
    for (int i = 0; i < 20; i++) {
        snprintf(name, sizeof(name), "scans\\new%d.pdf", i);
        struct smb2_event *e = smb_ev("\\\\fs\\data", name);
        e->create_action = 2; /* FILE_CREATED */
        event(&fx, &f, PROTO_SMB2, SMB2_EV_CREATE, 1, t0, e);
        event(&fx, &f, PROTO_SMB2, SMB2_EV_WRITE, 1, t0, e);
        event(&fx, &f, PROTO_SMB2, SMB2_EV_WRITE, 1, t0, e);
    }
    assert_int_equal(fx.rec.n, 0);
    /* Two existing files overwritten (each many times), one renamed, two deleted; failures do
     * not count. */
    for (int k = 0; k < 3; k++) {
        event(&fx, &f, PROTO_SMB2, SMB2_EV_WRITE, 1, t0, smb_ev("\\\\fs\\data", "a.docx"));
        event(&fx, &f, PROTO_SMB2, SMB2_EV_WRITE, 1, t0, smb_ev("\\\\fs\\data", "B.docx"));
        event(&fx, &f, PROTO_SMB2, SMB2_EV_WRITE, 1, t0, smb_ev("\\\\fs\\data", "b.DOCX"));
    }
    struct smb2_event *e = smb_ev("\\\\fs\\data", "c.xlsx");
    snprintf(e->new_name, sizeof(e->new_name), "c.xlsx.bak");
    event(&fx, &f, PROTO_SMB2, SMB2_EV_RENAME, 1, t0, e);
    event(&fx, &f, PROTO_SMB2, SMB2_EV_DELETE, 1, t0, smb_ev("\\\\fs\\data", "d.pdf"));
    event(&fx, &f, PROTO_SMB2, SMB2_EV_DELETE, 1, t0, smb_ev("\\\\fs\\data", "e.pdf"));
    e = smb_ev("\\\\fs\\data", "f.pdf");
    e->status = 0xC0000022; /* STATUS_ACCESS_DENIED */
    event(&fx, &f, PROTO_SMB2, SMB2_EV_DELETE, 1, t0, e);
    assert_int_equal(fx.rec.n, 0);
    /* The same file on another share is another file: the sixth. */
    event(&fx, &f, PROTO_SMB2, SMB2_EV_DELETE, 1, t0 + SEC, smb_ev("\\\\fs\\other", "d.pdf"));
    assert_int_equal(fx.rec.n, 1);
    assert_int_equal(fx.rec.a[0].rule, RULE_SMB_RANSOM_BURST);
    json_t *j = evidence(&fx.rec, 0);
    assert_int_equal(ev_int(j, "count"), 6);
    assert_int_equal(ev_int(j, "threshold"), 6);
    assert_int_equal(ev_int(j, "window_s"), 60);
    assert_int_equal(ev_int(j, "written"), 2);
    assert_int_equal(ev_int(j, "renamed"), 1);
    assert_int_equal(ev_int(j, "deleted"), 3);
    assert_int_equal(ev_array_len(j, "files"), 4);
    assert_true(ev_array_has(j, "files", "d.pdf"));
    json_decref(j);
    event(&fx, &f, PROTO_SMB2, SMB2_EV_DELETE, 1, t0 + SEC, smb_ev("\\\\fs\\other", "g.pdf"));
    assert_int_equal(fx.rec.n, 1);
    teardown(&fx);
}

static void
test_smb_extension(void **state)
{
    (void)state;
    struct fixture fx;
    const char *set[] = {"smb_ext_files=5", "smb_burst_files=0", NULL};
    setup(&fx, NULL, set);
    struct flow f;
    mkflow(&f, "10.0.0.51", 50000, "10.0.0.2", 445, 6);
    uint64_t t0 = 100 * SEC;
    char name[64], to[64];
    /* Office saves: renames to several extensions, and renames that keep the extension. */
    const char *exts[] = {"docx", "xlsx", "pptx", "pdf"};
    for (int i = 0; i < 16; i++) {
        snprintf(name, sizeof(name), "~WRL%04d.tmp", i);
        snprintf(to, sizeof(to), "doc%d.%s", i, exts[i % 4]);
        struct smb2_event *e = smb_ev("\\\\fs\\data", name);
        snprintf(e->new_name, sizeof(e->new_name), "%s", to);
        event(&fx, &f, PROTO_SMB2, SMB2_EV_RENAME, 1, t0, e);
        e = smb_ev("\\\\fs\\data", "x.txt");
        snprintf(e->new_name, sizeof(e->new_name), "y.txt");
        event(&fx, &f, PROTO_SMB2, SMB2_EV_RENAME, 1, t0, e);
    }
    assert_int_equal(fx.rec.n, 0);
    teardown(&fx);

    setup(&fx, NULL, set);
    for (int i = 0; i < 5; i++) {
        snprintf(name, sizeof(name), "dir\\report%d.docx", i);
        snprintf(to, sizeof(to), "dir\\report%d.docx.LOCKED", i);
        struct smb2_event *e = smb_ev("\\\\fs\\data", name);
        snprintf(e->new_name, sizeof(e->new_name), "%s", to);
        event(&fx, &f, PROTO_SMB2, SMB2_EV_RENAME, 1, t0 + (uint64_t)i, e);
        assert_int_equal(fx.rec.n, i == 4);
    }
    assert_int_equal(fx.rec.a[0].rule, RULE_SMB_EXTENSION_CHANGE);
    json_t *j = evidence(&fx.rec, 0);
    assert_int_equal(ev_int(j, "count"), 5);
    assert_int_equal(ev_int(j, "renamed"), 5);
    assert_string_equal(ev_str(j, "extension"), "locked");
    assert_string_equal(ev_str(j, "how"), "rename");
    assert_true(ev_array_has(j, "files", "report4.docx -> report4.docx.LOCKED"));
    json_decref(j);
    teardown(&fx);

    /* Write new, delete old: creates with one uncommon extension and as many deletes. */
    setup(&fx, NULL, set);
    for (int i = 0; i < 5; i++) {
        snprintf(name, sizeof(name), "img%d.jpg.crypt", i);
        struct smb2_event *e = smb_ev("\\\\fs\\data", name);
        e->create_action = 2;
        event(&fx, &f, PROTO_SMB2, SMB2_EV_CREATE, 1, t0, e);
        snprintf(name, sizeof(name), "plain%d.jpg", i);
        e = smb_ev("\\\\fs\\data", name);
        e->create_action = 2; /* common extension: not counted */
        event(&fx, &f, PROTO_SMB2, SMB2_EV_CREATE, 1, t0, e);
    }
    assert_int_equal(fx.rec.n, 0);
    for (int i = 0; i < 5; i++) {
        snprintf(name, sizeof(name), "img%d.jpg", i);
        event(&fx, &f, PROTO_SMB2, SMB2_EV_DELETE, 1, t0 + SEC, smb_ev("\\\\fs\\data", name));
        assert_int_equal(fx.rec.n, i == 4);
    }
    j = evidence(&fx.rec, 0);
    assert_string_equal(ev_str(j, "extension"), "crypt");
    assert_string_equal(ev_str(j, "how"), "create_and_delete");
    assert_int_equal(ev_int(j, "created"), 5);
    assert_int_equal(ev_int(j, "deleted"), 5);
    json_decref(j);
    teardown(&fx);
}

static void
test_smb_note(void **state)
{
    (void)state;
    struct fixture fx;
    setup(&fx, NULL, NULL);
    struct flow f;
    mkflow(&f, "10.0.0.52", 50000, "10.0.0.2", 445, 6);
    uint64_t t0 = 100 * SEC;
    /* Ordinary names, and a note opened (not written) by a victim reading it. */
    const char *benign[] = {"readme.txt", "README.md", "how_to_install.txt", "restore.log"};
    for (size_t i = 0; i < 4; i++) {
        struct smb2_event *e = smb_ev("\\\\fs\\data", benign[i]);
        e->create_action = 2;
        event(&fx, &f, PROTO_SMB2, SMB2_EV_CREATE, 1, t0, e);
        event(&fx, &f, PROTO_SMB2, SMB2_EV_WRITE, 1, t0, e);
    }
    struct smb2_event *e = smb_ev("\\\\fs\\data", "HOW_TO_DECRYPT.txt");
    e->create_action = 1; /* FILE_OPENED */
    event(&fx, &f, PROTO_SMB2, SMB2_EV_CREATE, 1, t0, e);
    assert_int_equal(fx.rec.n, 0);

    const char *notes[] = {"dept\\README_TO_DECRYPT.html", "_readme.txt",
                           "RECOVER-a1b2c3-FILES.txt",     "!!!READ_ME_MEDUSA!!!.txt",
                           "@Please_Read_Me@.txt",         "Restore-My-Files.txt"};
    for (size_t i = 0; i < 6; i++) {
        e = smb_ev("\\\\fs\\data", notes[i]);
        e->create_action = 2;
        event(&fx, &f, PROTO_SMB2, SMB2_EV_CREATE, 1, t0, e);
        event(&fx, &f, PROTO_SMB2, SMB2_EV_WRITE, 1, t0, e); /* the same note: deduplicated */
        assert_int_equal(fx.rec.n, (int)i + 1);
    }
    /* The same note name in another folder of the same flow: deduplicated by the gate. */
    e = smb_ev("\\\\fs\\data", "other\\_README.TXT");
    event(&fx, &f, PROTO_SMB2, SMB2_EV_WRITE, 1, t0, e);
    assert_int_equal(fx.rec.n, 6);
    assert_int_equal(count_rule(&fx.rec, RULE_SMB_RANSOM_NOTE), 6);
    json_t *j = evidence(&fx.rec, 0);
    assert_string_equal(ev_str(j, "filename"), "README_TO_DECRYPT.html");
    assert_string_equal(ev_str(j, "pattern"), "*readme_to_decrypt*");
    assert_string_equal(ev_str(j, "share"), "\\\\fs\\data");
    json_decref(j);
    teardown(&fx);
}

static void
test_smb_admin(void **state)
{
    (void)state;
    struct fixture fx;
    setup(&fx, NULL, NULL);
    struct flow f;
    mkflow(&f, "10.0.0.53", 50000, "10.0.0.2", 445, 6);
    uint64_t t0 = 100 * SEC;
    const char *plain[] = {"\\\\srv\\IPC$", "\\\\srv\\Finance$", "\\\\srv\\print$",
                           "\\\\srv\\data"};
    for (size_t i = 0; i < 4; i++)
        event(&fx, &f, PROTO_SMB2, SMB2_EV_TREE_CONNECT, 1, t0, smb_ev(plain[i], ""));
    assert_int_equal(fx.rec.n, 0);
    event(&fx, &f, PROTO_SMB2, SMB2_EV_TREE_CONNECT, 1, t0, smb_ev("\\\\srv\\ADMIN$", ""));
    struct smb2_event *e = smb_ev("\\\\srv\\c$", "");
    e->status = 0xC0000022; /* refused: still an attempt on an admin share */
    event(&fx, &f, PROTO_SMB2, SMB2_EV_TREE_CONNECT, 1, t0, e);
    assert_int_equal(fx.rec.n, 2);
    assert_int_equal(count_rule(&fx.rec, RULE_SMB_ADMIN_SHARE), 2);
    json_t *j = evidence(&fx.rec, 1);
    assert_string_equal(ev_str(j, "share_name"), "c$");
    assert_string_equal(ev_str(j, "status"), "STATUS_ACCESS_DENIED");
    json_decref(j);

    /* PsExec: the service control pipe, and a service executable copied to ADMIN$. */
    e = smb_ev("\\\\srv\\IPC$", "svcctl");
    e->is_pipe = true;
    event(&fx, &f, PROTO_SMB2, SMB2_EV_CREATE, 1, t0, e);
    assert_int_equal(count_rule(&fx.rec, RULE_SMB_REMOTE_SERVICE), 1);
    e = smb_ev("\\\\srv\\ADMIN$", "PSEXESVC.exe");
    e->create_action = 2;
    event(&fx, &f, PROTO_SMB2, SMB2_EV_CREATE, 1, t0, e);
    event(&fx, &f, PROTO_SMB2, SMB2_EV_WRITE, 1, t0, e);
    assert_int_equal(count_rule(&fx.rec, RULE_SMB_REMOTE_SERVICE), 2);
    event(&fx, &f, PROTO_SMB2, SMB2_EV_WRITE, 1, t0, smb_ev("\\\\srv\\ADMIN$", "out.txt"));
    event(&fx, &f, PROTO_SMB2, SMB2_EV_WRITE, 1, t0, smb_ev("\\\\srv\\data", "tool.exe"));
    assert_int_equal(count_rule(&fx.rec, RULE_SMB_REMOTE_SERVICE), 2);
    j = evidence(&fx.rec, fx.rec.n - 1);
    assert_string_equal(ev_str(j, "filename"), "PSEXESVC.exe");
    json_decref(j);
    teardown(&fx);

    /* Switched off, for servers that manage servers. */
    const char *set[] = {"smb_admin_share=0", "smb_remote_service=0", NULL};
    setup(&fx, NULL, set);
    event(&fx, &f, PROTO_SMB2, SMB2_EV_TREE_CONNECT, 1, t0, smb_ev("\\\\srv\\ADMIN$", ""));
    e = smb_ev("\\\\srv\\IPC$", "svcctl");
    e->is_pipe = true;
    event(&fx, &f, PROTO_SMB2, SMB2_EV_CREATE, 1, t0, e);
    assert_int_equal(fx.rec.n, 0);
    teardown(&fx);
}

static void
test_smb_logon(void **state)
{
    (void)state;
    struct fixture fx;
    const char *set[] = {"smb_logon_failures=4", NULL};
    setup(&fx, NULL, set);
    struct flow f;
    mkflow(&f, "10.0.0.54", 50000, "10.0.0.2", 445, 6);
    uint64_t t0 = 100 * SEC;
    struct smb2_event *e = smb_ev("", "");
    e->has_ntlmssp = true;
    snprintf(e->domain, sizeof(e->domain), "HOSP");
    for (int i = 0; i < 10; i++) {
        snprintf(e->user, sizeof(e->user), "ok%d", i);
        e->status = 0; /* success */
        event(&fx, &f, PROTO_SMB2, SMB2_EV_SESSION_SETUP, 1, t0, e);
        e->status = 0xC0000022; /* not a logon failure */
        event(&fx, &f, PROTO_SMB2, SMB2_EV_SESSION_SETUP, 1, t0, e);
    }
    e->has_status = false; /* unanswered */
    event(&fx, &f, PROTO_SMB2, SMB2_EV_SESSION_SETUP, 0, t0, e);
    e->has_status = true;
    const uint32_t fails[] = {0xC000006D, 0xC000006A, 0xC0000064, 0xC0000234};
    for (int i = 0; i < 4; i++) {
        snprintf(e->user, sizeof(e->user), "user%d", i);
        e->status = fails[i];
        event(&fx, &f, PROTO_SMB2, SMB2_EV_SESSION_SETUP, 1, t0 + (uint64_t)i * SEC, e);
        assert_int_equal(fx.rec.n, i == 3);
    }
    assert_int_equal(fx.rec.a[0].rule, RULE_SMB_LOGON_FAILURES);
    json_t *j = evidence(&fx.rec, 0);
    assert_int_equal(ev_int(j, "count"), 4);
    assert_int_equal(ev_int(j, "window_s"), 60);
    assert_true(ev_array_has(j, "users", "HOSP\\user0"));
    assert_true(ev_array_has(j, "users", "HOSP\\user3"));
    json_decref(j);
    teardown(&fx);
}

/* ---- DNS ---- */

static struct dns_event *
dns_query(const char *name, uint16_t qtype)
{
    static struct dns_event d;
    memset(&d, 0, sizeof(d));
    d.has_question = true;
    d.qtype = qtype;
    snprintf(d.rrname, sizeof(d.rrname), "%s", name);
    d.query_name_len = (uint16_t)strlen(name);
    size_t longest = 0, run = 0;
    for (const char *p = name;; p++) {
        if (*p == '.' || !*p) {
            longest = run > longest ? run : longest;
            run = 0;
            if (!*p)
                break;
        } else {
            run++;
        }
    }
    d.longest_label = (uint8_t)longest;
    return &d;
}

static void
test_dns_tunnel(void **state)
{
    (void)state;
    struct fixture fx;
    const char *set[] = {"dns_tunnel_queries=3", "dns_txt_queries=4", NULL};
    setup(&fx, NULL, set);
    struct flow f;
    mkflow(&f, "10.0.0.60", 50000, "10.0.0.53", 53, 17);
    uint64_t t0 = 100 * SEC;
    /* Long but plain labels, and short random ones, do not count. */
    event(&fx, &f, PROTO_DNS, DNS_EVENT_QUERY, 0, t0,
          dns_query("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.example.com", 1));
    event(&fx, &f, PROTO_DNS, DNS_EVENT_QUERY, 0, t0,
          dns_query("abcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcd.example.com", 1));
    event(&fx, &f, PROTO_DNS, DNS_EVENT_QUERY, 0, t0, dns_query("x7f3kq9z.example.com", 1));
    /* Two tunnel queries (base32, then hex). */
    event(&fx, &f, PROTO_DNS, DNS_EVENT_QUERY, 0, t0,
          dns_query("mzxw6ytboi2dgnrxhe4tcmrtgq2tmnzyhezdcmjt.t.tunnel.example", 1));
    event(&fx, &f, PROTO_DNS, DNS_EVENT_QUERY, 0, t0,
          dns_query("4f6b1c09e2d7a83b5c0f9e1d2a7b3c8e4f6a0d9b.t.tunnel.example", 1));
    /* Three TXT queries, one under the threshold of four. */
    for (int i = 0; i < 3; i++)
        event(&fx, &f, PROTO_DNS, DNS_EVENT_QUERY, 0, t0, dns_query("a.b.c.d.txt.example", 16));
    /* Answers do not count. */
    event(&fx, &f, PROTO_DNS, DNS_EVENT_ANSWER, 1, t0,
          dns_query("4f6b1c09e2d7a83b5c0f9e1d2a7b3c8e4f6a0d9b.t.tunnel.example", 1));
    assert_int_equal(fx.rec.n, 0);
    event(&fx, &f, PROTO_DNS, DNS_EVENT_QUERY, 0, t0 + SEC,
          dns_query("UJZDEGXDNCF32EPF3DHODZDOCIS2JHTLGMXGEDN73U55.t.tunnel.example", 1));
    assert_int_equal(fx.rec.n, 1);
    assert_int_equal(fx.rec.a[0].rule, RULE_DNS_TUNNEL);
    assert_int_equal(fx.rec.a[0].src_side, FLOW_TOSERVER);
    json_t *j = evidence(&fx.rec, 0);
    assert_int_equal(ev_int(j, "long_label_queries"), 3);
    assert_int_equal(ev_int(j, "txt_queries"), 3);
    assert_int_equal(ev_int(j, "window_s"), 60);
    assert_string_equal(ev_str(j, "by"), "long_labels");
    assert_true(ev_array_has(j, "zones", "t.tunnel.example"));
    assert_true(ev_array_has(j, "zones", "d.txt.example"));
    json_decref(j);
    assert_null(strstr(fx.rec.a[0].evidence, "mzxw6"));
    teardown(&fx);

    /* TXT volume alone; NULL queries count too. */
    setup(&fx, NULL, set);
    for (int i = 0; i < 3; i++)
        event(&fx, &f, PROTO_DNS, DNS_EVENT_QUERY, 0, t0, dns_query("x.y.z.example", 16));
    assert_int_equal(fx.rec.n, 0);
    event(&fx, &f, PROTO_DNS, DNS_EVENT_QUERY, 0, t0, dns_query("x.y.z.example", 10));
    assert_int_equal(fx.rec.n, 1);
    j = evidence(&fx.rec, 0);
    assert_string_equal(ev_str(j, "by"), "txt_volume");
    json_decref(j);
    teardown(&fx);
}

static void
test_dns_nxdomain(void **state)
{
    (void)state;
    struct fixture fx;
    const char *set[] = {"dns_nxdomain=5", NULL};
    setup(&fx, NULL, set);
    struct flow f;
    mkflow(&f, "10.0.0.61", 50000, "10.0.0.53", 53, 17);
    uint64_t t0 = 100 * SEC;
    char name[64];
    struct dns_event *d;
    for (int i = 0; i < 4; i++) {
        snprintf(name, sizeof(name), "qx%dzkvr.com", i);
        d = dns_query(name, 1);
        d->rcode = 3;
        event(&fx, &f, PROTO_DNS, DNS_EVENT_ANSWER, 1, t0, d);
        snprintf(name, sizeof(name), "QX%dZKVR.com", i); /* the same name */
        d = dns_query(name, 1);
        d->rcode = 3;
        event(&fx, &f, PROTO_DNS, DNS_EVENT_ANSWER, 1, t0, d);
        d->rcode = 0; /* answered */
        snprintf(d->rrname, sizeof(d->rrname), "ok%d.example", i);
        event(&fx, &f, PROTO_DNS, DNS_EVENT_ANSWER, 1, t0, d);
        d->rcode = 2; /* SERVFAIL */
        event(&fx, &f, PROTO_DNS, DNS_EVENT_ANSWER, 1, t0, d);
    }
    assert_int_equal(fx.rec.n, 0);
    d = dns_query("lastdga.net", 1);
    d->rcode = 3;
    event(&fx, &f, PROTO_DNS, DNS_EVENT_ANSWER, 1, t0 + 30 * SEC, d);
    assert_int_equal(fx.rec.n, 1);
    assert_int_equal(fx.rec.a[0].rule, RULE_DNS_NXDOMAIN);
    assert_int_equal(fx.rec.a[0].src_side, FLOW_TOSERVER); /* the client that asked */
    json_t *j = evidence(&fx.rec, 0);
    assert_int_equal(ev_int(j, "count"), 5);
    assert_true(ev_array_has(j, "names", "lastdga.net"));
    json_decref(j);
    teardown(&fx);
}

/* ---- bounds and threads ---- */

static void
test_flood(void **state)
{
    (void)state;
    struct fixture fx;
    const char *set[] = {"scan_memcap=1M", NULL};
    setup(&fx, NULL, set);
    struct behave_stats st;
    behave_stats(fx.b, &st);
    uint64_t slots = st.table[BEHAVE_TABLE_SCAN].n_slots;
    assert_true(st.table[BEHAVE_TABLE_SCAN].mem_bytes <= 1 << 20);
    assert_true(slots > 100);

    /* A million sources, one flow each, within one window. */
    struct flow f;
    mkflow(&f, "10.0.0.1", 40000, "10.200.0.1", 80, 6);
    for (uint32_t i = 0; i < 1000000; i++) {
        f.key.addr[0].b[0] = 10;
        f.key.addr[0].b[1] = (uint8_t)(i >> 16);
        f.key.addr[0].b[2] = (uint8_t)(i >> 8);
        f.key.addr[0].b[3] = (uint8_t)i;
        behave_flow_new(fx.b, &fx.gate, &f, 10 * SEC + i);
    }
    behave_stats(fx.b, &st);
    const struct behave_table_stats *s = &st.table[BEHAVE_TABLE_SCAN];
    assert_int_equal(s->n_slots, slots);
    assert_true(s->mem_bytes <= 1 << 20);
    assert_true(s->n_tracked <= slots);
    assert_true(s->n_tracked >= slots * 9 / 10);
    /* Every source past the table's size took the place of one. */
    assert_int_equal(s->n_tracked + s->n_evicted + s->n_recycled, 1000000);
    assert_true(s->n_evicted > 0);
    assert_int_equal(st.n_evicted, s->n_evicted);
    assert_int_equal(fx.rec.n, 0);

    /* A real scan still fires through the flood's debris, and the idle are recycled. */
    for (int i = 0; i < 100; i++)
        flow_at(&fx, "10.99.99.99", "10.0.0.1", (uint16_t)(1 + i), 6, 200 * SEC);
    assert_int_equal(count_rule(&fx.rec, RULE_SCAN_PORTS), 1);
    behave_stats(fx.b, &st);
    assert_true(st.table[BEHAVE_TABLE_SCAN].n_recycled >= 1);
    assert_int_equal(st.n_fired[RULE_SCAN_PORTS], 1);
    teardown(&fx);
}

#define N_THREADS 4
#define N_SOURCES 64

struct worker {
    struct behave *b;
    struct alert_gate gate;
    struct rec rec;
    int id;
};

static void *
worker_run(void *arg)
{
    struct worker *w = arg;
    struct flow f;
    memset(&f, 0, sizeof(f));
    f.key.ip_version = 4;
    f.key.proto = 6;
    f.tcp_flags[FLOW_TOSERVER] = TCP_SYN;
    f.key.addr[1].b[0] = 10;
    f.key.addr[1].b[3] = 1;
    /* Every thread scans from the same sources, interleaved, plus noise of its own. */
    for (uint32_t i = 0; i < 50000; i++) {
        f.id = (uint64_t)w->id << 32 | i;
        f.key.addr[0].b[0] = 10;
        f.key.addr[0].b[1] = 1;
        f.key.addr[0].b[2] = 0;
        f.key.addr[0].b[3] = (uint8_t)(i % N_SOURCES);
        f.key.port[1] = (uint16_t)(1 + (i / N_SOURCES) * N_THREADS + (uint32_t)w->id);
        behave_flow_new(w->b, &w->gate, &f, 10 * SEC + i);
        f.key.addr[0].b[1] = (uint8_t)(2 + w->id);
        f.key.addr[0].b[2] = (uint8_t)((i % 5000) >> 8);
        f.key.addr[0].b[3] = (uint8_t)(i % 5000);
        f.key.port[1] = 443;
        behave_flow_new(w->b, &w->gate, &f, 10 * SEC + i);
    }
    return NULL;
}

static void
test_threads(void **state)
{
    (void)state;
    struct behave_config c;
    behave_config_defaults(&c);
    struct errbuf eb;
    /* Room for every source, so that none of the shared ones is evicted by the noise. */
    assert_int_equal(behave_config_set(&c, "scan_memcap=128M", &eb), 0);
    struct behave *b = behave_new(&c, NULL, &eb);
    assert_non_null(b);
    struct worker *w = calloc(N_THREADS, sizeof(*w));
    assert_non_null(w);
    pthread_t th[N_THREADS];
    struct alert_gate_config gc = {0, 0};
    for (int i = 0; i < N_THREADS; i++) {
        w[i].b = b;
        w[i].id = i;
        alert_gate_init(&w[i].gate, &gc, on_alert, &w[i].rec);
        assert_int_equal(pthread_create(&th[i], NULL, worker_run, &w[i]), 0);
    }
    int scans = 0, hosts = 0;
    for (int i = 0; i < N_THREADS; i++) {
        assert_int_equal(pthread_join(th[i], NULL), 0);
        scans += count_rule(&w[i].rec, RULE_SCAN_PORTS);
        hosts += count_rule(&w[i].rec, RULE_SCAN_HOSTS);
    }
    /* Each shared source crossed the threshold exactly once, whichever thread saw it. */
    assert_int_equal(scans, N_SOURCES);
    assert_int_equal(hosts, 0);
    struct behave_stats st;
    behave_stats(b, &st);
    assert_int_equal(st.n_fired[RULE_SCAN_PORTS], N_SOURCES);
    assert_true(st.table[BEHAVE_TABLE_SCAN].n_tracked <= st.table[BEHAVE_TABLE_SCAN].n_slots);
    free(w);
    behave_free(b);
}

/* Events the detectors do not read, malformed directions and NULLs are ignored. */
static void
test_ignored(void **state)
{
    (void)state;
    struct fixture fx;
    setup(&fx, NULL, NULL);
    struct flow f;
    mkflow(&f, "10.0.0.70", 50000, "10.0.0.2", 445, 6);
    struct smb2_event *e = smb_ev("\\\\srv\\ADMIN$", "");
    struct proto_event ev = {PROTO_SMB2, SMB2_EV_TREE_CONNECT, 7, 0, e};
    behave_event(fx.b, &fx.gate, &f, &ev);
    ev.dir = 1;
    ev.data = NULL;
    behave_event(fx.b, &fx.gate, &f, &ev);
    behave_event(fx.b, &fx.gate, &f, NULL);
    behave_event(NULL, &fx.gate, &f, &ev);
    behave_flow_new(NULL, &fx.gate, &f, 0);
    behave_flow_end(fx.b, &fx.gate, NULL, PROTO_RDP);
    ev.proto = PROTO_HTTP;
    ev.data = e;
    behave_event(fx.b, &fx.gate, &f, &ev);
    assert_int_equal(fx.rec.n, 0);
    /* Without a gate, crossings are still counted. */
    ev.proto = PROTO_SMB2;
    behave_event(fx.b, NULL, &f, &ev);
    struct behave_stats st;
    behave_stats(fx.b, &st);
    assert_int_equal(st.n_fired[RULE_SMB_ADMIN_SHARE], 1);
    teardown(&fx);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config),
        cmocka_unit_test(test_new_errors),
        cmocka_unit_test(test_scan_ports),
        cmocka_unit_test(test_scan_hosts),
        cmocka_unit_test(test_rdp),
        cmocka_unit_test(test_dicom_sweep),
        cmocka_unit_test(test_dicom_retrieve),
        cmocka_unit_test(test_dicom_ae_guessing),
        cmocka_unit_test(test_external),
        cmocka_unit_test(test_smb_burst),
        cmocka_unit_test(test_smb_extension),
        cmocka_unit_test(test_smb_note),
        cmocka_unit_test(test_smb_admin),
        cmocka_unit_test(test_smb_logon),
        cmocka_unit_test(test_dns_tunnel),
        cmocka_unit_test(test_dns_nxdomain),
        cmocka_unit_test(test_flood),
        cmocka_unit_test(test_threads),
        cmocka_unit_test(test_ignored),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
