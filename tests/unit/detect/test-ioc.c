// SPDX-License-Identifier: Apache-2.0
// The indicator store: normalisation, every lookup kind, validity windows, duplicates, and a
// store large enough to grow its table many times.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "detect/ioc.h"

static int
add(struct ioc_store *s, enum ioc_type t, int kind, const char *v)
{
    return ioc_store_add(s, t, kind, v, strlen(v), NULL, NULL);
}

static bool
ip4(const struct ioc_store *s, const char *a, struct ioc_hit *hit)
{
    uint8_t b[16] = {0};
    assert_int_equal(inet_pton(AF_INET, a, b), 1);
    return ioc_match_ip(s, 4, b, 0, hit);
}

static bool
ip6(const struct ioc_store *s, const char *a, struct ioc_hit *hit)
{
    uint8_t b[16];
    assert_int_equal(inet_pton(AF_INET6, a, b), 1);
    return ioc_match_ip(s, 6, b, 0, hit);
}

static void
test_ip_and_cidr(void **state)
{
    (void)state;
    struct ioc_store *s = ioc_store_new();
    struct ioc_hit hit;
    assert_int_equal(add(s, IOC_IP, 0, "203.0.113.7"), 1);
    assert_int_equal(add(s, IOC_IP, 0, "198.51.100.77/24"), 1);  /* host bits cleared */
    assert_int_equal(add(s, IOC_IP, 0, " 198.51.100.0/24 "), 0); /* the same range */
    assert_int_equal(add(s, IOC_IP, 0, "2001:db8:1::/48"), 1);
    assert_int_equal(add(s, IOC_IP, 0, "2001:db8:ffff::1"), 1);
    assert_int_equal(add(s, IOC_IP, 0, "10.0.0.0/33"), IASO_E_FORMAT);
    assert_int_equal(add(s, IOC_IP, 0, "10.0.0"), IASO_E_FORMAT);
    assert_int_equal(add(s, IOC_IP, 0, "10.0.0.1/"), IASO_E_FORMAT);
    assert_int_equal(add(s, IOC_IP, 0, "example.org"), IASO_E_FORMAT);

    assert_true(ip4(s, "203.0.113.7", &hit));
    assert_string_equal(hit.value, "203.0.113.7");
    assert_int_equal(hit.prefix, 32);
    assert_false(ip4(s, "203.0.113.8", NULL));
    assert_true(ip4(s, "198.51.100.200", &hit));
    assert_string_equal(hit.value, "198.51.100.0/24");
    assert_int_equal(hit.prefix, 24);
    assert_false(ip4(s, "198.51.101.1", NULL));
    assert_true(ip6(s, "2001:db8:1:abcd::5", &hit));
    assert_string_equal(hit.value, "2001:db8:1::/48");
    assert_true(ip6(s, "2001:db8:ffff::1", &hit));
    assert_false(ip6(s, "2001:db8:2::1", NULL));
    /* an IPv4 address does not match the IPv6 table, nor the other way round */
    assert_false(ip6(s, "::ffff:203.0.113.7", NULL));
    assert_true(ioc_match(s, IOC_IP, "198.51.100.9", 12, 0, NULL));

    struct ioc_store_stats st;
    ioc_store_stats(s, &st);
    assert_int_equal(st.n_indicators, 4);
    assert_int_equal(st.n_type[IOC_IP], 4);
    assert_int_equal(st.n_duplicates, 1);
    ioc_store_free(s);
}

static void
test_domains(void **state)
{
    (void)state;
    struct ioc_store *s = ioc_store_new();
    struct ioc_hit hit;
    assert_int_equal(add(s, IOC_DOMAIN, IOC_KIND_EXACT, "Evil.Example.ORG."), 1);
    assert_int_equal(add(s, IOC_DOMAIN, IOC_KIND_SUBDOMAINS, "bad.test"), 1);
    assert_int_equal(add(s, IOC_DOMAIN, IOC_KIND_EXACT, "*.wild.test"), 1);
    assert_int_equal(add(s, IOC_DOMAIN, IOC_KIND_EXACT, "a..b"), IASO_E_FORMAT);
    assert_int_equal(add(s, IOC_DOMAIN, IOC_KIND_EXACT, "a b.test"), IASO_E_FORMAT);
    assert_int_equal(add(s, IOC_DOMAIN, IOC_KIND_EXACT, ""), IASO_E_FORMAT);

    assert_true(ioc_match_domain(s, "evil.example.org", 16, 0, &hit));
    assert_int_equal(hit.kind, IOC_KIND_EXACT);
    assert_true(ioc_match_domain(s, "EVIL.example.org.", 17, 0, NULL));
    assert_false(ioc_match_domain(s, "x.evil.example.org", 18, 0, NULL)); /* exact only */
    assert_false(ioc_match_domain(s, "example.org", 11, 0, NULL));
    assert_true(ioc_match_domain(s, "bad.test", 8, 0, NULL));
    assert_true(ioc_match_domain(s, "a.b.c.bad.test", 14, 0, &hit));
    assert_string_equal(hit.value, "bad.test");
    assert_int_equal(hit.kind, IOC_KIND_SUBDOMAINS);
    assert_false(ioc_match_domain(s, "notbad.test", 11, 0, NULL));
    assert_true(ioc_match_domain(s, "x.wild.test", 11, 0, NULL));
    assert_true(ioc_match_domain(s, "wild.test", 9, 0, NULL));
    ioc_store_free(s);
}

static void
test_urls(void **state)
{
    (void)state;
    struct ioc_store *s = ioc_store_new();
    struct ioc_hit hit;
    assert_int_equal(add(s, IOC_URL, 0, "HTTP://Evil.Example:80/drop/payload.exe#x"), 1);
    assert_int_equal(add(s, IOC_URL, 0, "http://c2.test:8080/gate.php?id=1"), 1);
    assert_int_equal(add(s, IOC_URL, 0, "https://tls.test/x"), 1);
    assert_int_equal(add(s, IOC_URL, 0, "evil.example/drop/payload.exe"), 0); /* same, no scheme */
    assert_int_equal(add(s, IOC_URL, 0, "http:///nohost"), IASO_E_FORMAT);

    assert_true(ioc_match_url(s, "evil.example", 12, "/drop/payload.exe", 17, 0, &hit));
    assert_string_equal(hit.value, "evil.example/drop/payload.exe");
    assert_true(ioc_match_url(s, "EVIL.example:80", 15, "/drop/payload.exe?v=2", 21, 0, NULL));
    assert_false(ioc_match_url(s, "evil.example", 12, "/drop/other.exe", 15, 0, NULL));
    assert_true(ioc_match_url(s, "c2.test:8080", 12, "/gate.php?id=1", 14, 0, NULL));
    assert_false(ioc_match_url(s, "c2.test:8080", 12, "/gate.php?id=2", 14, 0, NULL));
    assert_false(ioc_match_url(s, "c2.test", 7, "/gate.php?id=1", 14, 0, NULL));
    /* absolute-form request target (a proxy request) */
    assert_true(ioc_match_url(s, "proxy", 5, "http://evil.example/drop/payload.exe", 36, 0, NULL));
    assert_true(ioc_match_url(s, "tls.test", 8, "/x", 2, 0, NULL));
    ioc_store_free(s);
}

static void
test_strings(void **state)
{
    (void)state;
    struct ioc_store *s = ioc_store_new();
    const char *ja3 = "E7D705A3286E19EA42F587B344EE6865";
    assert_int_equal(add(s, IOC_JA3, 0, ja3), 1);
    assert_true(ioc_match(s, IOC_JA3, "e7d705a3286e19ea42f587b344ee6865", 32, 0, NULL));
    assert_false(ioc_match(s, IOC_JA3S, "e7d705a3286e19ea42f587b344ee6865", 32, 0, NULL));
    assert_int_equal(add(s, IOC_JA3, 0, "e7d705a3"), IASO_E_FORMAT);
    assert_int_equal(add(s, IOC_MD5, 0, "zzd705a3286e19ea42f587b344ee6865"), IASO_E_FORMAT);
    assert_int_equal(
        add(s, IOC_SHA256, 0, "9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08"),
        1);
    assert_true(ioc_match(s, IOC_SHA256,
                          "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", 64, 0,
                          NULL));
    assert_int_equal(add(s, IOC_SHA1, 0, "a94a8fe5ccb19ba61c4c0873d391e987982fbbd3"), 1);
    assert_int_equal(add(s, IOC_JA4, 0, "t13d1516h2_8daaf6152771_b186095e22b6"), 1);
    assert_true(ioc_match(s, IOC_JA4, "T13D1516H2_8daaf6152771_b186095e22b6", 36, 0, NULL));
    assert_int_equal(add(s, IOC_JA4, 0, "t13d-bad"), IASO_E_FORMAT);
    assert_int_equal(add(s, IOC_DICOM_AE, 0, "  ROGUE_SCU "), 1);
    assert_true(ioc_match(s, IOC_DICOM_AE, "ROGUE_SCU", 9, 0, NULL));
    assert_false(ioc_match(s, IOC_DICOM_AE, "rogue_scu", 9, 0, NULL)); /* AE titles are exact */
    assert_int_equal(add(s, IOC_DICOM_AE, 0, "THIS_AE_IS_TOO_LONG"), IASO_E_FORMAT);
    assert_int_equal(add(s, IOC_HL7_APP, 0, "EVILAPP^EVILFAC"), 1);
    assert_true(ioc_match(s, IOC_HL7_APP, "EVILAPP^EVILFAC", 15, 0, NULL));
    assert_false(ioc_match(s, IOC_HL7_APP, "EVILAPP", 7, 0, NULL));
    assert_int_equal(add(s, IOC_HL7_APP, 0, "A|B"), IASO_E_FORMAT);
    ioc_store_free(s);
}

static void
test_validity_and_meta(void **state)
{
    (void)state;
    struct ioc_store *s = ioc_store_new();
    struct ioc_meta m = {"indicator--1", "csirt-a", "C2 server", IOC_TLP_AMBER, 80,
                         1000000,        2000000};
    assert_int_equal(ioc_store_add(s, IOC_IP, 0, "192.0.2.1", 9, &m, NULL), 1);
    uint8_t a[16] = {192, 0, 2, 1};
    assert_false(ioc_match_ip(s, 4, a, 999999, NULL));  /* not yet valid */
    assert_true(ioc_match_ip(s, 4, a, 1000000, NULL));  /* from is inclusive */
    assert_false(ioc_match_ip(s, 4, a, 2000000, NULL)); /* until is exclusive */
    assert_true(ioc_match_ip(s, 4, a, 0, NULL));        /* no time: no check */

    /* A duplicate that lasts longer replaces the metadata; a shorter one does not. */
    struct ioc_meta shorter = m;
    shorter.id = "indicator--2";
    shorter.valid_until_us = 1500000;
    assert_int_equal(ioc_store_add(s, IOC_IP, 0, "192.0.2.1", 9, &shorter, NULL), 0);
    struct ioc_hit hit;
    assert_true(ioc_match_ip(s, 4, a, 1200000, &hit));
    struct ioc_meta got;
    ioc_hit_meta(s, &hit, &got);
    assert_string_equal(got.id, "indicator--1");
    struct ioc_meta open = m;
    open.id = "indicator--3";
    open.valid_until_us = 0;
    assert_int_equal(ioc_store_add(s, IOC_IP, 0, "192.0.2.1", 9, &open, NULL), 0);
    assert_true(ioc_match_ip(s, 4, a, 5000000, &hit));
    ioc_hit_meta(s, &hit, &got);
    assert_string_equal(got.id, "indicator--3");
    assert_string_equal(got.source, "csirt-a");
    assert_string_equal(got.name, "C2 server");
    assert_int_equal(got.tlp, IOC_TLP_AMBER);
    assert_int_equal(got.confidence, 80);

    /* A narrower range that has expired gives way to a wider one still valid. */
    struct ioc_meta old = m;
    old.valid_until_us = 10;
    assert_int_equal(ioc_store_add(s, IOC_IP, 0, "10.1.2.3", 8, &old, NULL), 1);
    assert_int_equal(ioc_store_add(s, IOC_IP, 0, "10.1.0.0/16", 11, NULL, NULL), 1);
    uint8_t b[16] = {10, 1, 2, 3};
    assert_true(ioc_match_ip(s, 4, b, 100, &hit));
    assert_int_equal(hit.prefix, 16);
    ioc_store_free(s);
}

static void
test_names(void **state)
{
    (void)state;
    assert_int_equal(ioc_type_from_name("DOMAIN", 6), IOC_DOMAIN);
    assert_int_equal(ioc_type_from_name("dicom-ae", 8), IOC_DICOM_AE);
    assert_int_equal(ioc_type_from_name("nope", 4), -1);
    assert_string_equal(ioc_type_name(IOC_HL7_APP), "hl7-app");
    assert_int_equal(ioc_tlp_from_name("TLP:AMBER+STRICT", 16), IOC_TLP_AMBER_STRICT);
    assert_int_equal(ioc_tlp_from_name("white", 5), IOC_TLP_CLEAR);
    assert_int_equal(ioc_tlp_from_name("amber", 5), IOC_TLP_AMBER);
    assert_int_equal(ioc_tlp_from_name("purple", 6), -1);
    assert_string_equal(ioc_tlp_name(IOC_TLP_RED), "red");
}

/* Many indicators: the table grows many times and every one is still found, none extra. */
static void
test_many(void **state)
{
    (void)state;
    struct ioc_store *s = ioc_store_new();
    char v[64];
    for (int i = 0; i < 200000; i++) {
        snprintf(v, sizeof(v), "10.%d.%d.%d", i >> 16, (i >> 8) & 255, i & 255);
        assert_int_equal(add(s, IOC_IP, 0, v), 1);
        snprintf(v, sizeof(v), "host%d.example.net", i);
        assert_int_equal(add(s, IOC_DOMAIN, 0, v), 1);
    }
    for (int i = 0; i < 200000; i += 7) {
        uint8_t a[16] = {10, (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i};
        assert_true(ioc_match_ip(s, 4, a, 0, NULL));
        snprintf(v, sizeof(v), "host%d.example.net", i);
        assert_true(ioc_match_domain(s, v, strlen(v), 0, NULL));
    }
    uint8_t a[16] = {10, 200, 0, 1};
    assert_false(ioc_match_ip(s, 4, a, 0, NULL));
    assert_false(ioc_match_domain(s, "host200000.example.net", 22, 0, NULL));
    /* Sealed (the filter in front of the table filled): the same answers. */
    ioc_store_seal(s);
    for (int i = 0; i < 200000; i += 7) {
        uint8_t b[16] = {10, (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i};
        assert_true(ioc_match_ip(s, 4, b, 0, NULL));
        snprintf(v, sizeof(v), "host%d.example.net", i);
        assert_true(ioc_match_domain(s, v, strlen(v), 0, NULL));
    }
    int false_hits = 0;
    for (int i = 0; i < 100000; i++) {
        snprintf(v, sizeof(v), "other%d.example.net", i);
        false_hits += ioc_match_domain(s, v, strlen(v), 0, NULL);
    }
    assert_int_equal(false_hits, 0);
    /* Adding after sealing: the new one matches at once. */
    assert_int_equal(add(s, IOC_DOMAIN, 0, "late.example.net"), 1);
    assert_true(ioc_match_domain(s, "late.example.net", 16, 0, NULL));
    ioc_store_seal(s);
    assert_true(ioc_match_domain(s, "late.example.net", 16, 0, NULL));
    struct ioc_store_stats st;
    ioc_store_stats(s, &st);
    assert_int_equal(st.n_indicators, 400001);
    /* one metadata record shared by all, and a small footprint per indicator */
    assert_int_equal(st.n_meta, 1);
    assert_true(st.mem_bytes / st.n_indicators < 80);
    ioc_store_free(s);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ip_and_cidr),
        cmocka_unit_test(test_domains),
        cmocka_unit_test(test_urls),
        cmocka_unit_test(test_strings),
        cmocka_unit_test(test_validity_and_meta),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_many),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
