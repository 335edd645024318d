// SPDX-License-Identifier: Apache-2.0
// Network sets: parsing lists of IPv4 and IPv6 prefixes, the errors for bad ones, membership.
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "detect/netset.h"

/* An address from its text; the ip_version goes to *v. */
static struct ipaddr
addr(const char *text, uint8_t *v)
{
    struct ipaddr a;
    memset(&a, 0, sizeof(a));
    if (inet_pton(AF_INET, text, a.b) == 1) {
        *v = 4;
    } else {
        assert_int_equal(inet_pton(AF_INET6, text, a.b), 1);
        *v = 6;
    }
    return a;
}

static bool
has(const struct netset *s, const char *text)
{
    uint8_t v;
    struct ipaddr a = addr(text, &v);
    return netset_contains(s, &a, v);
}

static void
test_default(void **state)
{
    (void)state;
    struct netset s;
    netset_init(&s);
    assert_int_equal(netset_parse(&s, NETSET_DEFAULT, NULL), 0);
    assert_int_equal(s.n, 8);
    assert_true(has(&s, "10.0.0.1"));
    assert_true(has(&s, "10.255.255.255"));
    assert_true(has(&s, "172.16.0.1"));
    assert_true(has(&s, "172.31.255.254"));
    assert_false(has(&s, "172.32.0.1"));
    assert_false(has(&s, "172.15.255.255"));
    assert_true(has(&s, "192.168.1.1"));
    assert_false(has(&s, "192.169.0.1"));
    assert_true(has(&s, "169.254.3.4"));
    assert_true(has(&s, "127.0.0.1"));
    assert_false(has(&s, "8.8.8.8"));
    assert_false(has(&s, "11.0.0.1"));
    assert_true(has(&s, "fd12:3456::1"));
    assert_true(has(&s, "fc00::1"));
    assert_false(has(&s, "fe00::1"));
    assert_true(has(&s, "fe80::1"));
    assert_true(has(&s, "febf::1"));
    assert_false(has(&s, "fec0::1"));
    assert_true(has(&s, "::1"));
    assert_false(has(&s, "2001:db8::1"));
    /* IPv4-mapped IPv6 addresses are tested against the IPv4 prefixes. */
    assert_true(has(&s, "::ffff:10.1.2.3"));
    assert_false(has(&s, "::ffff:8.8.8.8"));
}

static void
test_list(void **state)
{
    (void)state;
    struct netset s;
    struct errbuf eb;
    netset_init(&s);
    assert_int_equal(netset_parse(&s, " 10.1.0.0/16 ,192.0.2.7,2001:db8:abcd::/48,0.0.0.0/0", &eb),
                     0);
    assert_int_equal(s.n, 4);
    assert_int_equal(s.prefix[1].len, 32);
    assert_int_equal(s.prefix[2].ip_version, 6);
    assert_int_equal(s.prefix[2].len, 48);
    assert_true(has(&s, "192.0.2.7"));
    assert_true(has(&s, "2001:db8:abcd:1::5"));
    assert_false(has(&s, "2001:db8:abce::5"));
    /* 0.0.0.0/0 holds every IPv4 address, and no IPv6 one. */
    assert_true(has(&s, "8.8.8.8"));
    assert_false(has(&s, "2001:db9::1"));
    /* Duplicates are not stored twice; lists add to the set. */
    assert_int_equal(netset_parse(&s, "10.1.0.0/16", &eb), 0);
    assert_int_equal(s.n, 4);
    assert_int_equal(netset_parse(&s, "::/0", &eb), 0);
    assert_true(has(&s, "2001:db9::1"));

    /* Prefix lengths that are not byte-aligned. */
    netset_init(&s);
    assert_int_equal(netset_parse(&s, "10.0.0.0/9,2001:db8::/33", &eb), 0);
    assert_true(has(&s, "10.127.0.1"));
    assert_false(has(&s, "10.128.0.1"));
    assert_true(has(&s, "2001:db8:7fff::1"));
    assert_false(has(&s, "2001:db8:8000::1"));
}

static void
test_errors(void **state)
{
    (void)state;
    struct netset s;
    struct errbuf eb;
    netset_init(&s);
    assert_int_equal(netset_parse(&s, "", &eb), IASO_E_FORMAT);
    assert_non_null(strstr(eb.msg, "is empty"));
    assert_int_equal(netset_parse(&s, "   ", &eb), IASO_E_FORMAT);
    assert_int_equal(netset_parse(&s, "10.0.0.0/8,,192.168.0.0/16", &eb), IASO_E_FORMAT);
    assert_non_null(strstr(eb.msg, "empty item"));
    assert_int_equal(netset_parse(&s, "10.0.0.0/8,", &eb), IASO_E_FORMAT);
    assert_int_equal(netset_parse(&s, "10.0.0.300/8", &eb), IASO_E_FORMAT);
    assert_string_equal(eb.msg, "network '10.0.0.300/8': '10.0.0.300' is not an IPv4 or IPv6 "
                                "address (write 10.0.0.0/8 or fd00::/8)");
    assert_int_equal(netset_parse(&s, "hospital.local", &eb), IASO_E_FORMAT);
    assert_int_equal(netset_parse(&s, "10.0.0.0/33", &eb), IASO_E_FORMAT);
    assert_string_equal(eb.msg,
                        "network '10.0.0.0/33': the prefix length must be a number from 0 to 32");
    assert_int_equal(netset_parse(&s, "fd00::/129", &eb), IASO_E_FORMAT);
    assert_int_equal(netset_parse(&s, "10.0.0.0/", &eb), IASO_E_FORMAT);
    assert_int_equal(netset_parse(&s, "10.0.0.0/-1", &eb), IASO_E_FORMAT);
    assert_int_equal(netset_parse(&s, "10.0.0.0/+8", &eb), IASO_E_FORMAT);
    assert_int_equal(netset_parse(&s, "10.0.0.0/8x", &eb), IASO_E_FORMAT);
    assert_int_equal(netset_parse(&s, "10.1.2.3/8", &eb), IASO_E_FORMAT);
    assert_string_equal(eb.msg, "network '10.1.2.3/8': bits are set past the prefix length (did "
                                "you mean 10.0.0.0/8?)");
    assert_int_equal(netset_parse(&s, "fd00::1/8", &eb), IASO_E_FORMAT);
    assert_non_null(strstr(eb.msg, "fd00::/8"));
    /* Longer than any address. */
    char longer[200];
    memset(longer, '1', sizeof(longer) - 1);
    longer[sizeof(longer) - 1] = '\0';
    assert_int_equal(netset_parse(&s, longer, &eb), IASO_E_FORMAT);
    /* An error stops at the bad item; the ones before it stay (10.0.0.0/8 came before the
     * empty items above). */
    assert_int_equal(s.n, 1);
    assert_int_equal(netset_parse(&s, "192.0.2.0/24,bad", &eb), IASO_E_FORMAT);
    assert_int_equal(s.n, 2);
    /* A NULL errbuf is fine. */
    assert_int_equal(netset_parse(&s, "bad", NULL), IASO_E_FORMAT);
}

static void
test_limit(void **state)
{
    (void)state;
    struct netset s;
    struct errbuf eb;
    netset_init(&s);
    char text[32];
    for (int i = 0; i < NETSET_MAX; i++) {
        int n = snprintf(text, sizeof(text), "10.%d.%d.0/24", i / 256, i % 256);
        assert_int_equal(netset_add(&s, text, (size_t)n, &eb), 0);
    }
    assert_int_equal(s.n, NETSET_MAX);
    assert_int_equal(netset_add(&s, "10.200.0.0/24", 13, &eb), IASO_E_LIMIT);
    assert_non_null(strstr(eb.msg, "merge them"));
    /* A duplicate is still fine when full. */
    assert_int_equal(netset_add(&s, "10.0.5.0/24", 11, &eb), 0);
    assert_true(has(&s, "10.0.127.9"));
    assert_false(has(&s, "10.0.128.9"));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default),
        cmocka_unit_test(test_list),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
