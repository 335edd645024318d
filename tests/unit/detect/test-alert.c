// SPDX-License-Identifier: Apache-2.0
// The alert gate: one alert per flow, rule and subject; a burst per source and window; the rule
// table's ATT&CK ids.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "detect/alert.h"

static int n_out;

static void
out(void *user, const struct alert *a)
{
    (void)user;
    (void)a;
    n_out++;
}

static struct flow
make_flow(uint64_t id, uint8_t last_octet)
{
    struct flow f;
    memset(&f, 0, sizeof(f));
    f.id = id;
    f.key.ip_version = 4;
    f.key.addr[0].b[0] = 10;
    f.key.addr[0].b[3] = last_octet;
    f.key.addr[1].b[0] = 10;
    f.key.addr[1].b[3] = 200;
    f.client = 0;
    return f;
}

static void
test_dedup(void **state)
{
    (void)state;
    static struct alert_gate g;
    struct alert_gate_config cfg = {0, 0};
    alert_gate_init(&g, &cfg, out, NULL);
    n_out = 0;
    struct flow f1 = make_flow(1, 1), f2 = make_flow(2, 1);
    struct alert a = {RULE_SCAN_PORTS, &f1, FLOW_TOSERVER, 1000, 0, NULL, NULL, NULL, false};
    assert_true(alert_raise(&g, &a));
    assert_false(alert_raise(&g, &a)); /* same flow, rule, subject */
    a.subject = 7;
    assert_true(alert_raise(&g, &a)); /* another subject */
    a.rule = RULE_SCAN_HOSTS;
    assert_true(alert_raise(&g, &a)); /* another rule */
    a.flow = &f2;
    assert_true(alert_raise(&g, &a)); /* another flow */
    assert_int_equal(n_out, 4);
    assert_int_equal(g.stats.n_dedup, 1);
    assert_int_equal(g.stats.n_raised[RULE_SCAN_PORTS], 2);
    assert_int_equal(g.stats.n_raised[RULE_SCAN_HOSTS], 2);
}

/* Indicator alerts: one per source, rule and subject a window, whatever the flows. */
static void
test_dedup_per_source(void **state)
{
    (void)state;
    static struct alert_gate g;
    struct alert_gate_config cfg = {0, 60000000};
    alert_gate_init(&g, &cfg, out, NULL);
    n_out = 0;
    struct flow f[5];
    for (int i = 0; i < 5; i++)
        f[i] = make_flow((uint64_t)i + 1, 1); /* five flows of one client */
    struct flow other = make_flow(9, 2);
    for (int i = 0; i < 5; i++) {
        struct alert a = {
            RULE_IOC_DOMAIN, &f[i], FLOW_TOSERVER, 1000000, 42, NULL, NULL, NULL, true};
        alert_raise(&g, &a);
    }
    assert_int_equal(n_out, 1);
    assert_int_equal(g.stats.n_dedup, 4);
    struct alert b = {RULE_IOC_DOMAIN, &other, FLOW_TOSERVER, 1000000, 42, NULL, NULL, NULL, true};
    assert_true(alert_raise(&g, &b)); /* another source */
    struct alert c = {RULE_IOC_DOMAIN, &f[0], FLOW_TOSERVER, 1000000, 43, NULL, NULL, NULL, true};
    assert_true(alert_raise(&g, &c)); /* another indicator */
    struct alert d = {RULE_IOC_DOMAIN, &f[1], FLOW_TOSERVER, 61000001, 42, NULL, NULL, NULL, true};
    assert_true(alert_raise(&g, &d)); /* the next window */
}

static void
test_rate_limit(void **state)
{
    (void)state;
    static struct alert_gate g;
    struct alert_gate_config cfg = {3, 1000000};
    alert_gate_init(&g, &cfg, out, NULL);
    n_out = 0;
    struct flow f[10];
    for (int i = 0; i < 10; i++)
        f[i] = make_flow((uint64_t)i + 1, 1);
    struct flow other = make_flow(100, 2);
    for (int i = 0; i < 10; i++) {
        struct alert a = {RULE_SCAN_PORTS, &f[i], FLOW_TOSERVER, 1000, 0, NULL, NULL, NULL, false};
        alert_raise(&g, &a);
    }
    assert_int_equal(n_out, 3);
    assert_int_equal(g.stats.n_ratelimited, 7);
    /* another source has its own budget */
    struct alert b = {RULE_SCAN_PORTS, &other, FLOW_TOSERVER, 1000, 0, NULL, NULL, NULL, false};
    assert_true(alert_raise(&g, &b));
    /* the source is the server when src_side says so: 10.0.0.200 is fresh */
    struct alert c = {RULE_SCAN_HOSTS, &f[0], FLOW_TOCLIENT, 1000, 0, NULL, NULL, NULL, false};
    assert_true(alert_raise(&g, &c));
    /* a new window: the first source may alert again */
    struct alert d = {RULE_SCAN_HOSTS, &f[1], FLOW_TOSERVER, 2000001, 0, NULL, NULL, NULL, false};
    assert_true(alert_raise(&g, &d));
}

static void
test_rules(void **state)
{
    (void)state;
    const char *want[] = {"T1018", "T1046", "T0846"};
    const struct rule *r = &rules[RULE_SCAN_HOSTS];
    const char *id;
    int len, pos = 0, n = 0;
    while (rule_attack_next(r, &id, &len, &pos)) {
        assert_true(n < 3);
        assert_int_equal(len, (int)strlen(want[n]));
        assert_memory_equal(id, want[n], (size_t)len);
        n++;
    }
    assert_int_equal(n, 3);
    /* every rule: a sid in our range, unique, a severity, a signature, ATT&CK ids */
    for (int i = 0; i < RULE_COUNT; i++) {
        assert_true(rules[i].sid >= 9100000 && rules[i].sid < 9200000);
        assert_true(rules[i].severity >= 1 && rules[i].severity <= 3);
        assert_true(strncmp(rules[i].signature, "IASO ", 5) == 0);
        assert_true(rules[i].attack[0] == 'T');
        for (int j = 0; j < i; j++)
            assert_int_not_equal(rules[i].sid, rules[j].sid);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dedup),
        cmocka_unit_test(test_dedup_per_source),
        cmocka_unit_test(test_rate_limit),
        cmocka_unit_test(test_rules),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
