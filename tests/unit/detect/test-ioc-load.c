// SPDX-License-Identifier: Apache-2.0
// The indicator loaders: CSV (quoting, line ends, header variants, every kind of bad row with its
// line, type aliases, TLP, times, expiry), STIX patterns (each supported form, each unsupported
// construct and syntax error counted under its reason) and metadata, MISP shapes and flags, a
// MISP feed directory, format detection by ioc_load_path, and the real STIX and MISP files in
// tests/detect-fixtures/ with exact counts.
//
// The fixtures folder is argv[1] when given, else found from this file's path (meson runs tests
// in the build directory, where the compiler was run).
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "detect/ioc.h"

#define S(x) x, strlen(x)

static char fixtures[4096];

/* ---- helpers ---- */

/* What every report must satisfy: records split into loaded, skipped, unsupported and invalid;
 * reasons that sum to the unsupported and invalid totals; values by type that sum to n_loaded. */
static void
check_report(const struct ioc_load_report *r)
{
    assert_true(r->n_skipped + r->n_unsupported + r->n_invalid <= r->n_records);
    uint64_t unsup = 0, inval = 0, typed = 0;
    for (uint32_t i = 0; i < r->n_reasons; i++) {
        assert_true(r->reasons[i].n > 0);
        if (r->reasons[i].unsupported)
            unsup += r->reasons[i].n;
        else
            inval += r->reasons[i].n;
    }
    if (r->n_reasons < IOC_LOAD_REASONS_MAX) {
        assert_int_equal(unsup, r->n_unsupported);
        assert_int_equal(inval, r->n_invalid);
    }
    for (int t = 0; t < IOC_TYPE_COUNT; t++)
        typed += r->n_type[t];
    assert_int_equal(typed, r->n_loaded);
    assert_true(r->n_expired <= r->n_loaded);
    assert_true(r->n_problems <= IOC_LOAD_PROBLEMS_MAX);
}

/* The count under a reason (0 when absent), checking its kind. */
static uint64_t
reason_n(const struct ioc_load_report *r, const char *reason, bool unsupported)
{
    for (uint32_t i = 0; i < r->n_reasons; i++)
        if (strcmp(r->reasons[i].reason, reason) == 0) {
            assert_int_equal(r->reasons[i].unsupported, unsupported);
            return r->reasons[i].n;
        }
    return 0;
}

static bool
has_problem(const struct ioc_load_report *r, const char *text)
{
    for (uint32_t i = 0; i < r->n_problems; i++)
        if (strstr(r->problems[i], text))
            return true;
    return false;
}

/* What a load reported, when IOC_TEST_VERBOSE is set. */
static void
dump_report(const struct ioc_load_report *r)
{
    if (!getenv("IOC_TEST_VERBOSE"))
        return;
    for (uint32_t i = 0; i < r->n_reasons; i++)
        print_message("reason %s: %llu\n", r->reasons[i].reason,
                      (unsigned long long)r->reasons[i].n);
    for (uint32_t i = 0; i < r->n_problems; i++)
        print_message("problem %s\n", r->problems[i]);
}

static bool
match_ip(const struct ioc_store *s, const char *a, int64_t now_us, struct ioc_hit *hit)
{
    uint8_t b[16] = {0};
    if (inet_pton(AF_INET, a, b) == 1)
        return ioc_match_ip(s, 4, b, now_us, hit);
    assert_int_equal(inet_pton(AF_INET6, a, b), 1);
    return ioc_match_ip(s, 6, b, now_us, hit);
}

static bool
match_domain(const struct ioc_store *s, const char *d)
{
    return ioc_match_domain(s, d, strlen(d), 0, NULL);
}

static void
hit_meta(const struct ioc_store *s, const struct ioc_hit *hit, struct ioc_meta *m)
{
    ioc_hit_meta(s, hit, m);
}

static int
csv(struct ioc_store *s, const char *text, int64_t now_us, struct ioc_load_report *r)
{
    struct errbuf eb = {{0}};
    int rc = ioc_load_csv(s, text, strlen(text), "feeds.csv", now_us, r, &eb);
    check_report(r);
    return rc;
}

static int
stix(struct ioc_store *s, const char *text, struct ioc_load_report *r)
{
    struct errbuf eb = {{0}};
    int rc = ioc_load_stix(s, text, strlen(text), "bundle.json", 0, r, &eb);
    if (rc == 0)
        check_report(r);
    return rc;
}

static int
misp(struct ioc_store *s, const char *text, struct ioc_load_report *r)
{
    struct errbuf eb = {{0}};
    int rc = ioc_load_misp(s, text, strlen(text), "misp.json", 0, r, &eb);
    if (rc == 0)
        check_report(r);
    return rc;
}

static int
load_fixture(struct ioc_store *s, const char *name, struct ioc_load_report *r)
{
    char path[4200];
    snprintf(path, sizeof(path), "%s/%s", fixtures, name);
    struct errbuf eb = {{0}};
    int rc = ioc_load_path(s, path, IOC_FMT_AUTO, NULL, r, &eb);
    if (rc != 0)
        print_message("%s: %s\n", path, eb.msg);
    assert_int_equal(rc, 0);
    check_report(r);
    return rc;
}

static void
write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
    assert_int_equal(fclose(f), 0);
}

/* ---- time and report helpers ---- */

static void
test_parse_time(void **state)
{
    (void)state;
    int64_t t;
    assert_int_equal(ioc_parse_time(S("2026-11-23T14:41:11Z"), &t), 0);
    assert_true(t == 1795444871000000);
    assert_int_equal(ioc_parse_time(S("2026-11-23t14:41:11z"), &t), 0);
    assert_true(t == 1795444871000000);
    assert_int_equal(ioc_parse_time(S("2026-11-23 14:41:11"), &t), 0);
    assert_true(t == 1795444871000000);
    assert_int_equal(ioc_parse_time(S("2026-11-23T16:41:11+02:00"), &t), 0);
    assert_true(t == 1795444871000000);
    assert_int_equal(ioc_parse_time(S("2026-11-23T09:41:11-0500"), &t), 0);
    assert_true(t == 1795444871000000);
    assert_int_equal(ioc_parse_time(S("2026-11-23T14:41Z"), &t), 0);
    assert_true(t == 1795444860000000);
    assert_int_equal(ioc_parse_time(S("2026-11-23T14:41:11.123456Z"), &t), 0);
    assert_true(t == 1795444871123456);
    assert_int_equal(ioc_parse_time(S("2026-11-23T14:41:11.1Z"), &t), 0);
    assert_true(t == 1795444871100000);
    assert_int_equal(ioc_parse_time(S("2026-11-23T14:41:11.123456789Z"), &t), 0);
    assert_true(t == 1795444871123456);
    assert_int_equal(ioc_parse_time(S(" 2026-11-23 "), &t), 0);
    assert_true(t == 1795392000000000);
    assert_int_equal(ioc_parse_time(S("2024-02-29"), &t), 0);
    assert_true(t == 1709164800000000);
    assert_int_equal(ioc_parse_time(S("1970-01-01T00:00:00Z"), &t), 0);
    assert_true(t == 0);
    assert_int_equal(ioc_parse_time(S("1795444871"), &t), 0);
    assert_true(t == 1795444871000000);
    assert_int_equal(ioc_parse_time(S("1795444871.5"), &t), 0);
    assert_true(t == 1795444871500000);
    /* A length-bounded read: what follows len is not looked at. */
    assert_int_equal(ioc_parse_time("2026-11-23T14:41:11Zjunk", 20, &t), 0);
    assert_true(t == 1795444871000000);

    assert_int_equal(ioc_parse_time(S("2023-02-29"), &t), IASO_E_RANGE);
    assert_int_equal(ioc_parse_time(S("2026-13-01"), &t), IASO_E_RANGE);
    assert_int_equal(ioc_parse_time(S("2026-11-23T24:00:00Z"), &t), IASO_E_RANGE);
    assert_int_equal(ioc_parse_time(S("2026-11-23T14:41:11+25:00"), &t), IASO_E_RANGE);
    assert_int_equal(ioc_parse_time(S("99999999999999"), &t), IASO_E_RANGE);
    assert_int_equal(ioc_parse_time(S(""), &t), IASO_E_FORMAT);
    assert_int_equal(ioc_parse_time(S("yesterday"), &t), IASO_E_FORMAT);
    assert_int_equal(ioc_parse_time(S("2026-11-23T14"), &t), IASO_E_FORMAT);
    assert_int_equal(ioc_parse_time(S("2026-11-23T14:41:11Zjunk"), &t), IASO_E_FORMAT);
    assert_int_equal(ioc_parse_time(S("26-11-23"), &t), IASO_E_FORMAT);
    assert_int_equal(ioc_parse_time(S("2026-11-23T14:41:11."), &t), IASO_E_FORMAT);
    assert_int_equal(ioc_parse_time(S("1795444871."), &t), IASO_E_FORMAT);
    assert_int_equal(ioc_parse_time(S("-5"), &t), IASO_E_FORMAT);
}

static void
test_report_helpers(void **state)
{
    (void)state;
    struct ioc_load_report r;
    memset(&r, 0, sizeof(r));
    ioc_report_reason(&r, true, "CSV type email");
    ioc_report_reason(&r, true, "CSV type email");
    ioc_report_reason(&r, false, "CSV type email"); /* same text, other kind: its own entry */
    assert_int_equal(r.n_reasons, 2);
    assert_int_equal(r.n_unsupported, 2);
    assert_int_equal(r.n_invalid, 1);
    assert_int_equal(r.reasons[0].n, 2);
    /* A reason longer than its slot is cut, and the cut one meets itself again. */
    char longr[300];
    memset(longr, 'x', sizeof(longr) - 1);
    longr[sizeof(longr) - 1] = '\0';
    ioc_report_reason(&r, false, longr);
    ioc_report_reason(&r, false, longr);
    assert_int_equal(r.n_reasons, 3);
    assert_int_equal(r.reasons[2].n, 2);
    assert_int_equal(strlen(r.reasons[2].reason), sizeof(r.reasons[2].reason) - 1);
    /* Past IOC_LOAD_REASONS_MAX distinct reasons, the totals still count. */
    for (int i = 0; i < 40; i++) {
        char reason[32];
        snprintf(reason, sizeof(reason), "reason %d", i);
        ioc_report_reason(&r, true, reason);
    }
    assert_int_equal(r.n_reasons, IOC_LOAD_REASONS_MAX);
    assert_int_equal(r.n_unsupported, 42);

    for (int i = 0; i < 30; i++)
        ioc_report_problem(&r, "line 7", "bad \x1b[31mvalue\n %d", i);
    assert_int_equal(r.n_problems, IOC_LOAD_PROBLEMS_MAX);
    assert_string_equal(r.problems[0], "line 7: bad ?[31mvalue? 0");

    struct ioc_meta m = {NULL, NULL, NULL, IOC_TLP_NONE, -1, 0, 1000};
    memset(&r, 0, sizeof(r));
    ioc_report_added(&r, IOC_IP, 1, &m, 2000);
    ioc_report_added(&r, IOC_IP, 1, &m, 500);
    ioc_report_added(&r, IOC_IP, 1, &m, 0);
    ioc_report_added(&r, IOC_URL, 0, &m, 2000);
    ioc_report_added(&r, IOC_MD5, IASO_E_FORMAT, &m, 2000);
    assert_int_equal(r.n_loaded, 3);
    assert_int_equal(r.n_type[IOC_IP], 3);
    assert_int_equal(r.n_expired, 1);
    assert_int_equal(r.n_duplicate, 1);
    assert_int_equal(r.n_invalid, 1);
    assert_int_equal(reason_n(&r, "invalid md5 value", false), 1);

    assert_string_equal(ioc_format_name(IOC_FMT_CSV), "csv");
    assert_string_equal(ioc_format_name(IOC_FMT_STIX), "stix");
    assert_string_equal(ioc_format_name(IOC_FMT_MISP), "misp");
}

/* ---- CSV ---- */

#define MD5 "44d88612fea8a8f36de82e1278abb02f"
#define SHA1 "3395856ce81f2b7382dee72602f798b642f14140"
#define SHA256 "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f"
#define JA3 "e7d705a3286e19ea42f587b344ee6865"
#define JA3S "ae4edc6faf64d08308082ad26be60767"

static void
test_csv_good(void **state)
{
    (void)state;
    /* Header in another order and case, a BOM, CRLF, comments and blank lines, an unknown
     * column, quoting with commas, doubled quotes and a line break, every type and alias. */
    static const char text[] =
        "\xef\xbb\xbf# exported 2026-11-23\r\n"                                       /* 1 */
        "Value,TYPE,Name,tlp,Confidence,valid_from,valid_until,id,Source,comment\r\n" /* 2 */
        "\r\n"                                                                        /* 3 */
        "192.0.2.1,ip,\"C2, seen twice\",green,80,2026-01-01T00:00:00Z,,ind-1,,x\r\n" /* 4 */
        "198.51.100.0/24,cidr,,,,,,,,\r\n"                                            /* 5 */
        "2001:db8::/48,ipv6,,TLP:RED,,,,,,\r\n"                                       /* 6 */
        "\"evil.example\",domain,\"say \"\"hi\"\"\",amber+strict,,,,,,\r\n"           /* 7 */
        "bad.example,domain-suffix,,,,,,,,\r\n"                                       /* 8 */
        "*.star.example,domain,,,,,,,,\r\n"                                           /* 9 */
        "www.host.example,hostname,\"line one\nline two\",white,,,,,other-feed,\r\n"  /* 10-11 */
        "# a comment between rows\n"                                                  /* 12 */
        "http://evil.example/path?q=1,url,,,,,,,,\r\n"                                /* 13 */
        MD5 ",md5\r\n"                                                                /* 14 */
        SHA1 ",sha-1\r\n"                                                             /* 15 */
        SHA256 ",SHA256\r\n"                                                          /* 16 */
        JA3 ",ja3\r\n"                                                                /* 17 */
        JA3S ",ja3s\r\n"                                                              /* 18 */
        "t13d1516h2_8daaf6152771_b186095e22b6,ja4\r\n"                                /* 19 */
        "EVIL_AE,dicom-ae\r\n"                                                        /* 20 */
        "EVILAPP^EVILFAC,hl7-app\r\n"                                                 /* 21 */
        "   10.9.9.9   ,  ip-src  \n"                                                 /* 22 */
        "\t  \n"                                                                      /* 23 */
        "bogus,ip\n"                                                                  /* 24 */
        "10.9.9.10,IPv4-Addr";                                                        /* 25 */
    struct ioc_store *s = ioc_store_new();
    struct ioc_load_report r;
    assert_int_equal(csv(s, text, 0, &r), 0);
    dump_report(&r);
    assert_int_equal(r.format, IOC_FMT_CSV);
    assert_int_equal(r.n_records, 19);
    assert_int_equal(r.n_loaded, 18);
    assert_int_equal(r.n_invalid, 1);
    assert_int_equal(r.n_unsupported + r.n_skipped + r.n_duplicate + r.n_expired, 0);
    assert_int_equal(r.n_type[IOC_IP], 5);
    assert_int_equal(r.n_type[IOC_DOMAIN], 4);
    assert_int_equal(r.n_type[IOC_URL], 1);
    assert_int_equal(r.n_type[IOC_JA4], 1);
    assert_int_equal(r.n_type[IOC_HL7_APP], 1);
    /* The unknown column is reported once; the bad value with its line, past the quoted line
     * break. */
    assert_true(has_problem(&r, "line 2: column 'comment' is not one we use; ignored"));
    assert_true(has_problem(&r, "line 24: not an IP address or CIDR range: 'bogus'"));
    assert_int_equal(reason_n(&r, "invalid ip value", false), 1);
    assert_int_equal(r.n_problems, 2);

    struct ioc_hit hit;
    struct ioc_meta m;
    assert_true(match_ip(s, "192.0.2.1", 0, &hit));
    hit_meta(s, &hit, &m);
    assert_string_equal(m.name, "C2, seen twice");
    assert_string_equal(m.id, "ind-1");
    assert_string_equal(m.source, "feeds.csv");
    assert_int_equal(m.tlp, IOC_TLP_GREEN);
    assert_int_equal(m.confidence, 80);
    assert_true(m.valid_from_us == 1767225600000000);
    assert_true(m.valid_until_us == 0);
    assert_true(match_ip(s, "198.51.100.77", 0, &hit));
    assert_int_equal(hit.prefix, 24);
    hit_meta(s, &hit, &m);
    assert_null(m.name);
    assert_null(m.id);
    assert_int_equal(m.tlp, IOC_TLP_NONE);
    assert_int_equal(m.confidence, -1);
    assert_true(match_ip(s, "2001:db8::1", 0, &hit));
    hit_meta(s, &hit, &m);
    assert_int_equal(m.tlp, IOC_TLP_RED);
    assert_true(match_ip(s, "10.9.9.9", 0, NULL));
    assert_true(match_ip(s, "10.9.9.10", 0, NULL));

    /* domain is the name alone; domain-suffix and "*." cover the names under it. */
    assert_true(ioc_match_domain(s, S("evil.example"), 0, &hit));
    hit_meta(s, &hit, &m);
    assert_string_equal(m.name, "say \"hi\"");
    assert_int_equal(m.tlp, IOC_TLP_AMBER_STRICT);
    assert_false(match_domain(s, "www.evil.example"));
    assert_true(match_domain(s, "bad.example"));
    assert_true(match_domain(s, "deep.x.bad.example"));
    assert_true(match_domain(s, "a.star.example"));
    assert_true(ioc_match_domain(s, S("www.host.example"), 0, &hit));
    assert_false(match_domain(s, "a.www.host.example"));
    hit_meta(s, &hit, &m);
    assert_string_equal(m.name, "line one\nline two");
    assert_string_equal(m.source, "other-feed");
    assert_int_equal(m.tlp, IOC_TLP_CLEAR);

    assert_true(ioc_match_url(s, S("evil.example"), S("/path?q=1"), 0, NULL));
    assert_true(ioc_match(s, IOC_MD5, S(MD5), 0, NULL));
    assert_true(ioc_match(s, IOC_SHA1, S(SHA1), 0, NULL));
    assert_true(ioc_match(s, IOC_SHA256, S(SHA256), 0, NULL));
    assert_true(ioc_match(s, IOC_JA3, S(JA3), 0, NULL));
    assert_true(ioc_match(s, IOC_JA3S, S(JA3S), 0, NULL));
    assert_true(ioc_match(s, IOC_JA4, S("t13d1516h2_8daaf6152771_b186095e22b6"), 0, NULL));
    assert_true(ioc_match(s, IOC_DICOM_AE, S("EVIL_AE"), 0, NULL));
    assert_true(ioc_match(s, IOC_HL7_APP, S("EVILAPP^EVILFAC"), 0, NULL));
    ioc_store_free(s);
}

static void
test_csv_bad_rows(void **state)
{
    (void)state;
    static const char text[] = "type,value,tlp,confidence,valid_from,valid_until,extra\n" /* 1 */
                               "ip,192.0.2.1,,,,,\n"                                      /* 2 ok */
                               "email,a@b.example,,,,,\n"                                 /* 3 */
                               ",192.0.2.2,,,,,\n"                                        /* 4 */
                               "ip,,,,,,\n"                                               /* 5 */
                               "ip,192.0.2.3,purple,,,,\n"                                /* 6 */
                               "ip,192.0.2.4,,101,,,\n"                                   /* 7 */
                               "ip,192.0.2.5,,,yesterday,,\n"                             /* 8 */
                               "ip,192.0.2.6,,,2026-02-01,2026-01-01,\n"                  /* 9 */
                               "ip,192.0.2.7,,,,,,surplus\n"                              /* 10 */
                               "ip,\"192.0.2.8\"x,,,,,\n"                                 /* 11 */
                               "ip,999.1.1.1,,,,,\n"                                      /* 12 */
                               "ip,192.0.2.9,,,,,,\n"           /* 13 ok */
                               "ip,192.0.2.10,,,,not-a-time,\n" /* 14 */
                               "ip,\"192.0.2.11\n"              /* 15 */
                               "ip,192.0.2.12\n";               /* 16 ok */
    struct ioc_store *s = ioc_store_new();
    struct ioc_load_report r;
    assert_int_equal(csv(s, text, 0, &r), 0);
    dump_report(&r);
    /* Row 15 opens a quote that never closes: the row ends with its line. */
    assert_int_equal(r.n_records, 15);
    assert_int_equal(r.n_loaded, 3);
    assert_int_equal(r.n_unsupported, 1);
    assert_int_equal(r.n_invalid, 11);
    assert_int_equal(reason_n(&r, "CSV type email", true), 1);
    assert_int_equal(reason_n(&r, "CSV: missing type", false), 1);
    assert_int_equal(reason_n(&r, "CSV: missing value", false), 1);
    assert_int_equal(reason_n(&r, "CSV: unknown TLP", false), 1);
    assert_int_equal(reason_n(&r, "CSV: confidence not 0..100", false), 1);
    assert_int_equal(reason_n(&r, "CSV: bad valid_from", false), 1);
    assert_int_equal(reason_n(&r, "CSV: bad valid_until", false), 1);
    assert_int_equal(reason_n(&r, "CSV: valid_until not after valid_from", false), 1);
    assert_int_equal(reason_n(&r, "CSV: more fields than the header", false), 1);
    assert_int_equal(reason_n(&r, "CSV: malformed row", false), 2);
    assert_int_equal(reason_n(&r, "invalid ip value", false), 1);
    assert_true(has_problem(&r, "line 1: column 'extra' is not one we use; ignored"));
    assert_true(has_problem(&r, "line 3: type 'email' is not one we can match"));
    assert_true(has_problem(&r, "line 4: no type for value '192.0.2.2'"));
    assert_true(has_problem(&r, "line 5: no value for type 'ip'"));
    assert_true(has_problem(&r, "line 6: unknown TLP 'purple'"));
    assert_true(has_problem(&r, "line 7: confidence '101' not 0..100"));
    assert_true(has_problem(&r, "line 8: valid_from 'yesterday' is not a time"));
    assert_true(has_problem(&r, "line 9: valid_until '2026-01-01' is not after valid_from"));
    assert_true(has_problem(&r, "line 10: more fields than the header's 7 columns"));
    assert_true(has_problem(&r, "line 11: text after the closing quote of a field"));
    assert_true(has_problem(&r, "line 12: not an IP address or CIDR range: '999.1.1.1'"));
    assert_true(has_problem(&r, "line 14: valid_until 'not-a-time' is not a time"));
    assert_true(has_problem(&r, "line 15: a quoted field is not closed"));
    assert_true(match_ip(s, "192.0.2.1", 0, NULL));
    assert_true(match_ip(s, "192.0.2.9", 0, NULL));
    assert_true(match_ip(s, "192.0.2.12", 0, NULL));
    ioc_store_free(s);
}

static void
test_csv_header(void **state)
{
    (void)state;
    struct ioc_store *s = ioc_store_new();
    struct ioc_load_report r;
    struct errbuf eb = {{0}};
    assert_int_equal(ioc_load_csv(s, S(""), NULL, 0, &r, &eb), IASO_E_FORMAT);
    assert_non_null(strstr(eb.msg, "no CSV header"));
    assert_int_equal(ioc_load_csv(s, S("# only comments\n\n  \n"), NULL, 0, &r, &eb),
                     IASO_E_FORMAT);
    /* Data where the header should be. */
    assert_int_equal(ioc_load_csv(s, S("ip,192.0.2.1\n"), NULL, 0, &r, &eb), IASO_E_FORMAT);
    assert_string_equal(eb.msg, "line 1: no CSV header: the first line must name the columns, "
                                "among them \"type\" and \"value\"");
    assert_int_equal(ioc_load_csv(s, S("type,name\nip,x\n"), NULL, 0, &r, &eb), IASO_E_FORMAT);
    assert_int_equal(ioc_load_csv(s, S("\"type,value\n"), NULL, 0, &r, &eb), IASO_E_FORMAT);
    assert_non_null(strstr(eb.msg, "malformed CSV header"));
    /* A header alone is an empty list; a repeated column is reported and the first used. */
    assert_int_equal(csv(s, "type,value,Type\n", 0, &r), 0);
    assert_int_equal(r.n_records, 0);
    assert_true(has_problem(&r, "line 1: column 'Type' given twice; the first is used"));
    assert_int_equal(csv(s, "\"type\" , \"value\" ,description\nip,192.0.2.1,hello", 0, &r), 0);
    assert_int_equal(r.n_loaded, 1);
    struct ioc_hit hit;
    struct ioc_meta m;
    assert_true(match_ip(s, "192.0.2.1", 0, &hit));
    hit_meta(s, &hit, &m);
    assert_string_equal(m.name, "hello");

    /* Old Mac line ends; a comment line ends at its CR too. */
    assert_int_equal(csv(s, "type,value\r# note\rip,192.0.2.2\rdomain,a.example\r", 0, &r), 0);
    assert_int_equal(r.n_records, 2);
    assert_int_equal(r.n_loaded, 2);

    /* A quoted field with doubled quotes longer than we unescape: that row only. */
    size_t big = 70000;
    char *text = malloc(big + 64);
    assert_non_null(text);
    int n = snprintf(text, 64, "type,value\nurl,\"http://x.example/\"\"");
    memset(text + n, 'a', big);
    snprintf(text + n + big, 64, "\"\nip,192.0.2.3\n");
    assert_int_equal(csv(s, text, 0, &r), 0);
    free(text);
    assert_int_equal(r.n_records, 2);
    assert_int_equal(r.n_loaded, 1);
    assert_int_equal(reason_n(&r, "CSV: malformed row", false), 1);
    assert_true(has_problem(&r, "line 2: a quoted field with doubled quotes is longer than"));
    assert_true(match_ip(s, "192.0.2.3", 0, NULL));
    ioc_store_free(s);
}

static void
test_csv_expiry_duplicates(void **state)
{
    (void)state;
    static const char text[] = "type,value,valid_from,valid_until\n"
                               "ip,192.0.2.1,2020-01-01,2020-02-01\n"
                               "ip,192.0.2.2,,2999-01-01T00:00:00Z\n"
                               "ip,192.0.2.3,1577836800,\n"
                               "ip,192.0.2.3,,\n"
                               "IP,192.0.2.3/32,,\n";
    int64_t now = 1704067200000000; /* 2024-01-01 */
    struct ioc_store *s = ioc_store_new();
    struct ioc_load_report r;
    assert_int_equal(csv(s, text, now, &r), 0);
    assert_int_equal(r.n_records, 5);
    assert_int_equal(r.n_loaded, 3);
    assert_int_equal(r.n_duplicate, 2);
    assert_int_equal(r.n_expired, 1);
    assert_false(match_ip(s, "192.0.2.1", now, NULL));
    assert_true(match_ip(s, "192.0.2.1", 1579046400000000, NULL)); /* 2020-01-15 */
    assert_true(match_ip(s, "192.0.2.2", now, NULL));
    /* Of duplicates the one valid longest is kept; when both are open-ended, the first. */
    struct ioc_hit hit;
    struct ioc_meta m;
    assert_true(match_ip(s, "192.0.2.3", now, &hit));
    hit_meta(s, &hit, &m);
    assert_true(m.valid_from_us == 1577836800000000);
    ioc_store_free(s);
}

/* ---- STIX ---- */

/* A bundle of one indicator with the pattern, loaded into s. */
static int
stix_pattern(struct ioc_store *s, const char *pattern, const char *pattern_type,
             struct ioc_load_report *r)
{
    json_t *b = json_pack("{s:s, s:s, s:[{s:s, s:s, s:s, s:s, s:s, s:s}]}", "type", "bundle", "id",
                          "bundle--1", "objects", "type", "indicator", "id",
                          "indicator--00000000-0000-4000-8000-000000000001", "pattern", pattern,
                          "pattern_type", pattern_type, "valid_from", "2020-01-01T00:00:00Z",
                          "spec_version", "2.1");
    assert_non_null(b);
    char *text = json_dumps(b, 0);
    int rc = stix(s, text, r);
    free(text);
    json_decref(b);
    return rc;
}

static void
test_stix_patterns(void **state)
{
    (void)state;
    static const struct {
        const char *pattern;
        const char *reason; /* why the indicator does not load; NULL: it does */
        int n_loaded;       /* values loaded, when it does */
        bool unsupported;
    } cases[] = {
        /* Each supported comparison. */
        {"[ipv4-addr:value = '198.51.100.1']", NULL, 1, false},
        {"[ipv6-addr:value = '2001:db8::/32']", NULL, 1, false},
        {"[domain-name:value = 'evil.example']", NULL, 1, false},
        {"[domain-name:value LIKE '%.suffix.example']", NULL, 1, false},
        {"[domain-name:value LIKE 'exact.example']", NULL, 1, false},
        {"[url:value = 'http://evil.example/a\\'b']", NULL, 1, false},
        {"[file:hashes.'SHA-256' = '" SHA256 "']", NULL, 1, false},
        {"[file:hashes.SHA256 = '" SHA256 "']", NULL, 1, false},
        {"[file:hashes.MD5 = '" MD5 "']", NULL, 1, false},
        {"[file:hashes.'SHA-1' = '" SHA1 "']", NULL, 1, false},
        {"[file:hashes.sha1 = '" SHA1 "']", NULL, 1, false},
        {"[network-traffic:dst_ref.value = '203.0.113.5']", NULL, 1, false},
        {"[network-traffic:src_ref.value = 'c2.example']", NULL, 1, false},
        /* Disjunctions, sets, parentheses, whitespace. */
        {"[ipv4-addr:value IN ('192.0.2.1', '192.0.2.2','192.0.2.3')]", NULL, 3, false},
        {"[ipv4-addr:value = '192.0.2.4'] OR [domain-name:value = 'x.example']", NULL, 2, false},
        {"([ipv4-addr:value = '192.0.2.5'] OR ([domain-name:value = 'y.example']))", NULL, 2,
         false},
        {"[(ipv4-addr:value = '192.0.2.6' OR ipv4-addr:value = '192.0.2.7')]", NULL, 2, false},
        {"  [ ipv4-addr:value='192.0.2.8' or ipv4-addr:value = '192.0.2.9' ]\n", NULL, 2, false},
        /* What we cannot match: the whole indicator, under the first construct named. */
        {"[ipv4-addr:value = '192.0.2.1' AND domain-name:value = 'a.example']", "STIX pattern: AND",
         0, true},
        {"[ipv4-addr:value = '192.0.2.1'] AND [domain-name:value = 'a.example']",
         "STIX pattern: AND", 0, true},
        {"[ipv4-addr:value = '192.0.2.1'] FOLLOWEDBY [domain-name:value = 'a.example']",
         "STIX pattern: FOLLOWEDBY", 0, true},
        {"[ipv4-addr:value = '192.0.2.1'] WITHIN 300 SECONDS", "STIX pattern: WITHIN qualifier", 0,
         true},
        {"[ipv4-addr:value = '192.0.2.1'] REPEATS 5 TIMES", "STIX pattern: REPEATS qualifier", 0,
         true},
        {"[ipv4-addr:value = '192.0.2.1'] START t'2016-06-01T00:00:00Z' STOP "
         "t'2016-07-01T00:00:00Z'",
         "STIX pattern: START/STOP qualifier", 0, true},
        {"[ipv4-addr:value != '192.0.2.1']", "STIX pattern: != operator", 0, true},
        {"[ipv4-addr:value > '192.0.2.1']", "STIX pattern: > operator", 0, true},
        {"[ipv4-addr:value NOT = '192.0.2.1']", "STIX pattern: NOT", 0, true},
        {"[ipv4-addr:value ISSUBSET '198.51.100.0/24']", "STIX pattern: ISSUBSET operator", 0,
         true},
        {"[domain-name:value MATCHES '^evil']", "STIX pattern: MATCHES operator", 0, true},
        {"[domain-name:value LIKE 'evil%']", "STIX pattern: LIKE operator", 0, true},
        {"[EXISTS ipv4-addr:value]", "STIX pattern: EXISTS", 0, true},
        {"[email-addr:value = 'a@b.example']", "STIX pattern: email-addr:value", 0, true},
        {"[file:hashes.'SHA-512' = 'ab']", "STIX pattern: file:hashes.'SHA-512'", 0, true},
        {"[x509-certificate:hashes.'SHA-1' = '" SHA1 "']",
         "STIX pattern: x509-certificate:hashes.'SHA-1'", 0, true},
        {"[x-tls:ja3 = '" JA3 "']", "STIX pattern: x-tls:ja3", 0, true},
        {"[ipv4-addr:value = 5]",
         "STIX pattern: a value that is not a string for "
         "ipv4-addr:value",
         0, true},
        {"[ipv4-addr:value = '192.0.2.1'] OR [email-message:body_multipart[*].body_raw_ref.name "
         "= 'x']",
         "STIX pattern: email-message:body_multipart[*].body_raw_ref.name", 0, true},
        /* Not the grammar: invalid. */
        {"[ipv4-addr:value = '192.0.2.1'", "STIX pattern: syntax error", 0, false},
        {"ipv4-addr:value = '192.0.2.1'", "STIX pattern: syntax error", 0, false},
        {"[ipv4-addr:value = ]", "STIX pattern: syntax error", 0, false},
        {"[ipv4-addr:value = '192.0.2.1' OR]", "STIX pattern: syntax error", 0, false},
        {"[]", "STIX pattern: syntax error", 0, false},
        {"", "STIX pattern: syntax error", 0, false},
        {"[ipv4-addr:value = '192.0.2.1]", "STIX pattern: syntax error", 0, false},
        {"[ipv4-addr:value = 'a\\q']", "STIX pattern: syntax error", 0, false},
        {"[ipv4-addr:value IN ()]", "STIX pattern: syntax error", 0, false},
        {"[ipv4-addr:value = '192.0.2.1'] WITHIN SECONDS", "STIX pattern: syntax error", 0, false},
        {"[ipv4-addr:value = '192.0.2.1']]", "STIX pattern: syntax error", 0, false},
        {"[[ipv4-addr:value = '192.0.2.1']]", "STIX pattern: syntax error", 0, false},
        {"[ipv4-addr:value = '192.0.2.1' OR ]", "STIX pattern: syntax error", 0, false},
        {"[ipv4-addr:value = '192.0.2.1'] [ipv4-addr:value = '192.0.2.2']",
         "STIX pattern: syntax error", 0, false},
        {"[ipv4-addr: = '192.0.2.1']", "STIX pattern: syntax error", 0, false},
        /* Valid grammar, a value the store rejects. */
        {"[ipv4-addr:value = '192.0.2.300']", "invalid ip value", 0, false},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct ioc_store *s = ioc_store_new();
        struct ioc_load_report r;
        if (getenv("IOC_TEST_VERBOSE"))
            print_message("pattern %s\n", cases[i].pattern);
        assert_int_equal(stix_pattern(s, cases[i].pattern, "stix", &r), 0);
        assert_int_equal(r.n_records, 1);
        dump_report(&r);
        if (!cases[i].reason) {
            assert_int_equal(r.n_loaded, cases[i].n_loaded);
            assert_int_equal(r.n_unsupported + r.n_invalid, 0);
        } else {
            assert_int_equal(r.n_loaded, 0);
            assert_int_equal(reason_n(&r, cases[i].reason, cases[i].unsupported), 1);
            assert_int_equal(r.n_unsupported + r.n_invalid, 1);
            assert_true(has_problem(&r, "indicator--00000000-0000-4000-8000-000000000001: "));
        }
        ioc_store_free(s);
    }

    /* What the values became. */
    struct ioc_store *s = ioc_store_new();
    struct ioc_load_report r;
    assert_int_equal(
        stix_pattern(s,
                     "[domain-name:value LIKE '%.suffix.example' OR domain-name:value = "
                     "'exact.example'] OR [network-traffic:src_ref.value = 'c2.example' OR "
                     "network-traffic:dst_ref.value = '203.0.113.0/24'] OR [url:value = "
                     "'http://evil.example/a\\'b'] OR [file:hashes.'SHA-1' = '" SHA1 "']",
                     "stix", &r),
        0);
    assert_int_equal(r.n_loaded, 6);
    assert_true(match_domain(s, "a.suffix.example"));
    assert_true(match_domain(s, "exact.example"));
    assert_false(match_domain(s, "a.exact.example"));
    assert_true(match_domain(s, "c2.example"));
    assert_true(match_ip(s, "203.0.113.9", 0, NULL));
    assert_true(ioc_match_url(s, S("evil.example"), S("/a'b"), 0, NULL));
    assert_true(ioc_match(s, IOC_SHA1, S(SHA1), 0, NULL));
    ioc_store_free(s);

    /* A pattern of another language. */
    s = ioc_store_new();
    assert_int_equal(stix_pattern(s, "title: x\ndetection: {}", "sigma", &r), 0);
    assert_int_equal(reason_n(&r, "STIX pattern_type sigma", true), 1);
    ioc_store_free(s);

    /* Deeper than we follow: unsupported, whatever the rest. */
    char deep[41];
    memset(deep, '(', 40);
    deep[40] = '\0';
    s = ioc_store_new();
    assert_int_equal(stix_pattern(s, deep, "stix", &r), 0);
    assert_int_equal(reason_n(&r, "STIX pattern: nested more than 32 deep", true), 1);
    ioc_store_free(s);

    /* A pattern partly invalid: the record counts invalid once, its good value loads. */
    s = ioc_store_new();
    assert_int_equal(stix_pattern(s,
                                  "[domain-name:value = 'bad name' OR domain-name:value = "
                                  "'also bad' OR ipv4-addr:value = '192.0.2.1']",
                                  "stix", &r),
                     0);
    assert_int_equal(r.n_records, 1);
    assert_int_equal(r.n_invalid, 1);
    assert_int_equal(r.n_loaded, 1);
    assert_int_equal(r.n_problems, 2);
    ioc_store_free(s);
}

static const char stix_meta_bundle[] =
    "{\"type\": \"bundle\", \"id\": \"bundle--1\", \"objects\": ["
    " {\"type\": \"identity\", \"id\": \"identity--1\", \"name\": \"Health CERT\"},"
    " {\"type\": \"marking-definition\", \"id\": \"marking-definition--a\","
    "  \"definition_type\": \"tlp\", \"definition\": {\"tlp\": \"amber\"}},"
    " {\"type\": \"marking-definition\", \"id\": \"marking-definition--b\", \"extensions\": {"
    "  \"extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d\": {"
    "   \"extension_type\": \"property-extension\", \"tlp_2_0\": \"amber+strict\"}}},"
    " {\"type\": \"marking-definition\", \"id\": \"marking-definition--c\","
    "  \"definition_type\": \"statement\", \"definition\": {\"statement\": \"(c) us\"}},"
    /* 4: TLP 1.0 green by its standard id, an identity in the bundle, every field */
    " {\"type\": \"indicator\", \"id\": \"indicator--1\", \"name\": \"C2 one\","
    "  \"pattern\": \"[ipv4-addr:value = '192.0.2.1']\", \"pattern_type\": \"stix\","
    "  \"valid_from\": \"2026-01-01T00:00:00Z\", \"valid_until\": \"2999-01-01T00:00:00Z\","
    "  \"confidence\": 75, \"created_by_ref\": \"identity--1\","
    "  \"object_marking_refs\": [\"marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da\","
    "   \"marking-definition--c\"]},"
    /* 5: the most restrictive of TLP 2.0 red (standard id) and a bundle's amber */
    " {\"type\": \"indicator\", \"id\": \"indicator--2\", \"pattern\": \"[ipv4-addr:value = "
    "'192.0.2.2']\", \"object_marking_refs\": [\"marking-definition--a\","
    "  \"marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1\"],"
    "  \"created_by_ref\": \"identity--not-here\"},"
    /* 6: TLP 2.0 through the extension; expired */
    " {\"type\": \"indicator\", \"id\": \"indicator--3\", \"pattern\": \"[ipv4-addr:value = "
    "'192.0.2.3']\", \"object_marking_refs\": [\"marking-definition--b\"],"
    "  \"valid_from\": \"2020-01-01T00:00:00Z\", \"valid_until\": \"2021-01-01T00:00:00Z\"},"
    /* 7: revoked */
    " {\"type\": \"indicator\", \"id\": \"indicator--4\", \"revoked\": true,"
    "  \"pattern\": \"[ipv4-addr:value = '192.0.2.4']\"},"
    /* 8..16: malformed */
    " {\"type\": \"indicator\", \"id\": \"indicator--5\", \"confidence\": 200,"
    "  \"pattern\": \"[ipv4-addr:value = '192.0.2.5']\"},"
    " {\"type\": \"indicator\", \"id\": \"indicator--6\", \"confidence\": \"high\","
    "  \"pattern\": \"[ipv4-addr:value = '192.0.2.6']\"},"
    " {\"type\": \"indicator\", \"id\": \"indicator--7\", \"valid_from\": \"yesterday\","
    "  \"pattern\": \"[ipv4-addr:value = '192.0.2.7']\"},"
    " {\"type\": \"indicator\", \"id\": \"indicator--8\", \"name\": 5,"
    "  \"pattern\": \"[ipv4-addr:value = '192.0.2.8']\"},"
    " {\"type\": \"indicator\", \"id\": \"indicator--9\", \"object_marking_refs\": \"x\","
    "  \"pattern\": \"[ipv4-addr:value = '192.0.2.9']\"},"
    " {\"type\": \"indicator\", \"id\": \"indicator--10\"},"
    " {\"type\": \"indicator\", \"id\": \"indicator--11\", \"revoked\": \"yes\","
    "  \"pattern\": \"[ipv4-addr:value = '192.0.2.11']\"},"
    " {\"type\": \"indicator\", \"id\": 12, \"pattern\": \"[ipv4-addr:value = '192.0.2.12']\"},"
    " {\"type\": \"indicator\", \"id\": \"indicator--13\", \"valid_from\": \"2026-01-01\","
    "  \"valid_until\": \"2025-01-01\", \"pattern\": \"[ipv4-addr:value = '192.0.2.13']\"},"
    /* 17, 18: not objects of any kind */
    " 5, {\"id\": \"no-type\"},"
    /* 19: another kind of object */
    " {\"type\": \"malware\", \"id\": \"malware--1\", \"name\": \"x\"}"
    "]}";

static void
test_stix_metadata(void **state)
{
    (void)state;
    struct ioc_store *s = ioc_store_new();
    struct ioc_load_report r;
    struct errbuf eb;
    int64_t now = 1704067200000000; /* 2024-01-01 */
    assert_int_equal(ioc_load_stix(s, S(stix_meta_bundle), "bundle.json", now, &r, &eb), 0);
    check_report(&r);
    dump_report(&r);
    assert_int_equal(r.n_records, 20);
    assert_int_equal(r.n_loaded, 3);
    assert_int_equal(r.n_expired, 1);
    assert_int_equal(r.n_skipped, 6); /* identity, 3 marking definitions, revoked, malware */
    ioc_store_free(s);
}

static void
test_stix_metadata_values(void **state)
{
    (void)state;
    struct ioc_store *s = ioc_store_new();
    struct ioc_load_report r;
    struct errbuf eb;
    assert_int_equal(ioc_load_stix(s, S(stix_meta_bundle), "bundle.json", 0, &r, &eb), 0);
    struct ioc_hit hit;
    struct ioc_meta m;
    assert_true(match_ip(s, "192.0.2.1", 0, &hit));
    hit_meta(s, &hit, &m);
    assert_string_equal(m.id, "indicator--1");
    assert_string_equal(m.name, "C2 one");
    assert_string_equal(m.source, "Health CERT");
    assert_int_equal(m.tlp, IOC_TLP_GREEN);
    assert_int_equal(m.confidence, 75);
    assert_true(m.valid_from_us == 1767225600000000);
    assert_true(m.valid_until_us == 32472144000000000);
    assert_true(match_ip(s, "192.0.2.2", 0, &hit));
    hit_meta(s, &hit, &m);
    assert_string_equal(m.source, "bundle.json"); /* the identity is not in the bundle */
    assert_null(m.name);
    assert_int_equal(m.tlp, IOC_TLP_RED);
    assert_int_equal(m.confidence, -1);
    assert_true(match_ip(s, "192.0.2.3", 0, &hit));
    hit_meta(s, &hit, &m);
    assert_int_equal(m.tlp, IOC_TLP_AMBER_STRICT);
    assert_false(match_ip(s, "192.0.2.3", 1704067200000000, NULL));
    assert_false(match_ip(s, "192.0.2.4", 0, NULL));
    for (int i = 5; i <= 13; i++) {
        char a[32];
        snprintf(a, sizeof(a), "192.0.2.%d", i);
        assert_false(match_ip(s, a, 0, NULL));
    }
    ioc_store_free(s);
}

static void
test_stix_shapes(void **state)
{
    (void)state;
    struct ioc_store *s = ioc_store_new();
    struct ioc_load_report r;
    struct errbuf eb;
    /* One indicator alone, not in a bundle; with an id it names the problems. */
    assert_int_equal(stix(s,
                          "{\"type\": \"indicator\", \"id\": \"indicator--x\", \"pattern\": "
                          "\"[domain-name:value = 'one.example']\"}",
                          &r),
                     0);
    assert_int_equal(r.n_records, 1);
    assert_int_equal(r.n_loaded, 1);
    assert_int_equal(stix(s, "{\"type\": \"malware\", \"id\": \"malware--1\"}", &r), 0);
    assert_int_equal(r.n_records, 1);
    assert_int_equal(r.n_skipped, 1);
    assert_int_equal(stix(s, "{\"type\": \"bundle\", \"id\": \"bundle--1\"}", &r), 0);
    assert_int_equal(r.n_records, 0);

    assert_int_equal(ioc_load_stix(s, S("not json"), NULL, 0, &r, &eb), IASO_E_FORMAT);
    assert_non_null(strstr(eb.msg, "not JSON"));
    assert_int_equal(ioc_load_stix(s, S("[1, 2]"), NULL, 0, &r, &eb), IASO_E_FORMAT);
    assert_non_null(strstr(eb.msg, "not STIX"));
    assert_int_equal(ioc_load_stix(s, S("{\"objects\": []}"), NULL, 0, &r, &eb), IASO_E_FORMAT);
    assert_int_equal(
        ioc_load_stix(s, S("{\"type\": \"bundle\", \"objects\": 5}"), NULL, 0, &r, &eb),
        IASO_E_FORMAT);
    assert_non_null(strstr(eb.msg, "\"objects\" is not a list"));
    ioc_store_free(s);
}

static void
test_stix_malformed_reasons(void **state)
{
    (void)state;
    struct ioc_store *s = ioc_store_new();
    struct ioc_load_report r;
    struct errbuf eb;
    assert_int_equal(ioc_load_stix(s, S(stix_meta_bundle), "bundle.json", 0, &r, &eb), 0);
    assert_int_equal(r.n_unsupported, 0);
    assert_int_equal(r.n_invalid, 11);
    assert_int_equal(reason_n(&r, "STIX: confidence not 0..100", false), 2);
    assert_int_equal(reason_n(&r, "STIX: bad valid_from", false), 1);
    assert_int_equal(reason_n(&r, "STIX: name is not a string", false), 1);
    assert_int_equal(reason_n(&r, "STIX: bad object_marking_refs", false), 1);
    assert_int_equal(reason_n(&r, "STIX: missing pattern", false), 1);
    assert_int_equal(reason_n(&r, "STIX: revoked is not a boolean", false), 1);
    assert_int_equal(reason_n(&r, "STIX: id is not a string", false), 1);
    assert_int_equal(reason_n(&r, "STIX: valid_until not after valid_from", false), 1);
    assert_int_equal(reason_n(&r, "STIX: object is not a JSON object", false), 1);
    assert_int_equal(reason_n(&r, "STIX: object without a type", false), 1);
    assert_true(has_problem(&r, "indicator--5: confidence is not an integer 0..100"));
    assert_true(has_problem(&r, "indicator--10: no pattern string"));
    assert_true(has_problem(&r, "object 15: id is not a string"));
    assert_true(has_problem(&r, "object 17: not a JSON object"));
    ioc_store_free(s);
}

static void
test_stix_fixtures(void **state)
{
    (void)state;
    struct ioc_store *s = ioc_store_new();
    struct ioc_load_report r;

    /* APT1: 12 indicators among 76 objects; the two certificate patterns (issuer AND serial)
     * cannot be matched. */
    load_fixture(s, "stix21/apt1.json", &r);
    dump_report(&r);
    assert_int_equal(r.format, IOC_FMT_STIX);
    assert_int_equal(r.n_records, 76);
    assert_int_equal(r.n_skipped, 64);
    assert_int_equal(r.n_loaded, 10);
    assert_int_equal(r.n_type[IOC_IP], 4);
    assert_int_equal(r.n_type[IOC_DOMAIN], 3);
    assert_int_equal(r.n_type[IOC_MD5], 3);
    assert_int_equal(r.n_duplicate + r.n_invalid, 0);
    assert_int_equal(r.n_unsupported, 2);
    assert_int_equal(reason_n(&r, "STIX pattern: x509-certificate:issuer", true), 2);
    struct ioc_hit hit;
    struct ioc_meta m;
    assert_true(match_ip(s, "223.167.1.1", 0, &hit)); /* in 223.166.0.0/15 */
    assert_int_equal(hit.prefix, 15);
    hit_meta(s, &hit, &m);
    assert_string_equal(m.id, "indicator--031778a4-057f-48e6-9db9-c8d72b81ccd5");
    assert_string_equal(m.name, "HTRAN Hop Point Accessor");
    assert_string_equal(m.source, "apt1.json");
    assert_true(m.valid_from_us == 1431681136432678);
    assert_true(match_domain(s, "hugesoft.org"));
    assert_true(ioc_match(s, IOC_MD5, S("001dd76872d80801692ff942308c64e6"), 0, NULL));
    ioc_store_free(s);

    /* Poison Ivy: 25 indicators among 155 objects; addresses repeat across indicators
     * (duplicates), two patterns name a file, one has a "domain" with a space in it. */
    s = ioc_store_new();
    load_fixture(s, "stix21/poisonivy.json", &r);
    dump_report(&r);
    assert_int_equal(r.n_records, 155);
    assert_int_equal(r.n_skipped, 130);
    assert_int_equal(r.n_loaded, 42);
    assert_int_equal(r.n_type[IOC_IP], 18);
    assert_int_equal(r.n_type[IOC_DOMAIN], 24);
    assert_int_equal(r.n_duplicate, 22);
    assert_int_equal(r.n_unsupported, 2);
    assert_int_equal(reason_n(&r, "STIX pattern: file:name", true), 2);
    assert_int_equal(r.n_invalid, 1);
    assert_int_equal(reason_n(&r, "invalid domain value", false), 1);
    assert_true(has_problem(&r, "indicator--4e4c4ad7-4909-456a-b6fa-e24a6f682a40: not a domain "
                                "name: 'domain autuo.xicp.net'"));
    assert_true(match_ip(s, "60.10.1.115", 0, NULL)); /* the other value of that indicator */
    ioc_store_free(s);

    /* The small examples. */
    s = ioc_store_new();
    load_fixture(s, "stix21/indicator-for-c2-ip-address.json", &r);
    assert_int_equal(r.n_records, 1);
    assert_int_equal(r.n_loaded, 1);
    assert_true(match_ip(s, "10.0.0.0", 0, &hit));
    hit_meta(s, &hit, &m);
    assert_string_equal(m.name, "IP Address for known C2 channel");
    assert_true(m.valid_from_us == 1399539600000000);
    load_fixture(s, "stix21/indicators-for-C2-with-COA.json", &r);
    assert_int_equal(r.n_records, 8);
    assert_int_equal(r.n_skipped, 6);
    assert_int_equal(r.n_loaded, 1); /* 10.0.0.0 again: a duplicate */
    assert_int_equal(r.n_duplicate, 1);
    assert_int_equal(r.n_type[IOC_SHA256], 1);
    assert_true(ioc_match(s, IOC_SHA256,
                          S("ef537f25c895bfa782526529a9b63d97aa631564d5d789c2b765448c8635fb6c"), 0,
                          &hit));
    hit_meta(s, &hit, &m);
    assert_string_equal(m.source, "The MITRE Corporation - DHS Support Team");
    load_fixture(s, "stix21/malicious-email-indicator-with-attachment.json", &r);
    assert_int_equal(r.n_records, 6);
    assert_int_equal(r.n_skipped, 4);
    assert_int_equal(reason_n(&r, "STIX pattern: email-message:subject", true), 1);
    assert_int_equal(
        reason_n(&r, "STIX pattern: email-message:body_multipart[*].body_raw_ref.name", true), 1);
    load_fixture(s, "stix21/interop-objectmarking-test.json", &r); /* one campaign, no bundle */
    assert_int_equal(r.n_records, 1);
    assert_int_equal(r.n_skipped, 1);
    load_fixture(s, "stix21/infrastructure.json", &r);
    assert_int_equal(r.n_records, 10);
    assert_int_equal(r.n_skipped, 10);

    /* MISP's own STIX export of the two event collections: domain|ip became an AND. */
    load_fixture(s, "misp/test_events_collection_stix21.json", &r);
    dump_report(&r);
    assert_int_equal(r.n_records, 20);
    assert_int_equal(r.n_skipped, 17);
    assert_int_equal(r.n_loaded, 1);
    assert_int_equal(reason_n(&r, "STIX pattern: AND", true), 1);
    assert_int_equal(reason_n(&r, "STIX pattern: file:name", true), 1);
    assert_true(ioc_match_domain(s, S("circl.lu"), 0, &hit));
    hit_meta(s, &hit, &m);
    assert_string_equal(m.source, "MISP-Project");
    ioc_store_free(s);
}

/* ---- MISP ---- */

static const char misp_event[] =
    "{\"Event\": {\"uuid\": \"ev-1\", \"info\": \"Ransomware wave\","
    " \"Orgc\": {\"name\": \"Health ISAC\"}, \"Org\": {\"name\": \"Local\"},"
    " \"Tag\": [{\"name\": \"tlp:amber\"}, {\"name\": \"type:OSINT\"}],"
    " \"Attribute\": ["
    "  {\"uuid\": \"a1\", \"type\": \"ip-dst\", \"value\": \"192.0.2.1\", \"to_ids\": true,"
    "   \"comment\": \"C2\", \"Tag\": [{\"name\": \"tlp:green\"}]},"
    "  {\"uuid\": \"a2\", \"type\": \"ip-src|port\", \"value\": \"2001:db8::1|443\","
    "   \"to_ids\": \"1\"},"
    "  {\"uuid\": \"a3\", \"type\": \"domain\", \"value\": \"evil.example\", \"to_ids\": 1},"
    "  {\"uuid\": \"a4\", \"type\": \"hostname\", \"value\": \"www.host.example\","
    "   \"to_ids\": true},"
    "  {\"uuid\": \"a5\", \"type\": \"domain|ip\", \"value\": \"pair.example|198.51.100.7\","
    "   \"to_ids\": true},"
    "  {\"uuid\": \"a6\", \"type\": \"url\", \"value\": \"https://evil.example/login\","
    "   \"to_ids\": true},"
    "  {\"uuid\": \"a7\", \"type\": \"filename|sha256\", \"value\": \"a|b.exe|" SHA256 "\","
    "   \"to_ids\": true},"
    "  {\"uuid\": \"a8\", \"type\": \"ja3-fingerprint-md5\", \"value\": \"" JA3 "\","
    "   \"to_ids\": true},"
    "  {\"uuid\": \"a9\", \"type\": \"md5\", \"value\": \"" MD5 "\", \"to_ids\": false},"
    "  {\"uuid\": \"a10\", \"type\": \"md5\", \"value\": \"" MD5 "\"},"
    "  {\"uuid\": \"a11\", \"type\": \"sha1\", \"value\": \"" SHA1 "\", \"to_ids\": true,"
    "   \"deleted\": true},"
    "  {\"uuid\": \"a12\", \"type\": \"email-src\", \"value\": \"a@b.example\", \"to_ids\": true},"
    "  {\"uuid\": \"a13\", \"type\": \"uri\", \"value\": \"/admin.php\", \"to_ids\": true},"
    "  {\"uuid\": \"a14\", \"type\": \"ip-dst\", \"value\": \"not-an-ip\", \"to_ids\": true},"
    "  {\"uuid\": \"a15\", \"type\": \"ip-dst|port\", \"value\": \"192.0.2.9\", \"to_ids\": true},"
    "  {\"uuid\": \"a16\", \"type\": \"ip-dst\", \"value\": \"192.0.2.16\", \"to_ids\": \"maybe\"},"
    "  {\"uuid\": \"a17\", \"value\": \"192.0.2.17\", \"to_ids\": true},"
    "  {\"uuid\": \"a18\", \"type\": \"ip-dst\", \"value\": 5, \"to_ids\": true},"
    "  {\"uuid\": \"a19\", \"type\": \"ip-dst\", \"value\": \"192.0.2.19\", \"to_ids\": true,"
    "   \"comment\": 7},"
    "  \"junk\","
    "  {\"uuid\": \"a21\", \"type\": \"domain|ip\", \"value\": \"bad name|bad ip\","
    "   \"to_ids\": true}"
    " ],"
    " \"Object\": ["
    "  {\"name\": \"file\", \"Attribute\": ["
    "   {\"uuid\": \"o1\", \"type\": \"sha1\", \"value\": \"" SHA1 "\", \"to_ids\": true},"
    "   {\"uuid\": \"o2\", \"type\": \"filename\", \"value\": \"x.exe\", \"to_ids\": true}]},"
    "  {\"name\": \"ja4\", \"deleted\": true, \"Attribute\": ["
    "   {\"uuid\": \"o3\", \"type\": \"ja4-fingerprint\","
    "    \"value\": \"t13d1516h2_8daaf6152771_b186095e22b6\", \"to_ids\": true}]},"
    "  {\"name\": \"ja4\", \"Attribute\": ["
    "   {\"uuid\": \"o4\", \"type\": \"ja4-fingerprint\","
    "    \"value\": \"t13d1516h2_8daaf6152771_aaaaaaaaaaaa\", \"to_ids\": true}]},"
    "  7"
    " ]"
    "}}";

static void
test_misp_event(void **state)
{
    (void)state;
    struct ioc_store *s = ioc_store_new();
    struct ioc_load_report r;
    assert_int_equal(misp(s, misp_event, &r), 0);
    dump_report(&r);
    assert_int_equal(r.format, IOC_FMT_MISP);
    /* 21 attributes, 4 in objects, and one object that is not an object. */
    assert_int_equal(r.n_records, 26);
    assert_int_equal(r.n_skipped, 4); /* to_ids false, to_ids absent, deleted, deleted object */
    assert_int_equal(r.n_unsupported, 3);
    assert_int_equal(reason_n(&r, "MISP type email-src", true), 1);
    assert_int_equal(reason_n(&r, "MISP type uri", true), 1);
    assert_int_equal(reason_n(&r, "MISP type filename", true), 1);
    assert_int_equal(r.n_invalid, 9);
    assert_int_equal(reason_n(&r, "invalid ip value", false), 1);
    assert_int_equal(reason_n(&r, "invalid domain value", false), 1); /* a21: counted once */
    assert_int_equal(reason_n(&r, "MISP: composite value without '|'", false), 1);
    assert_int_equal(reason_n(&r, "MISP: flag is not a boolean", false), 1);
    assert_int_equal(reason_n(&r, "MISP: attribute without a type", false), 1);
    assert_int_equal(reason_n(&r, "MISP: attribute without a value", false), 1);
    assert_int_equal(reason_n(&r, "MISP: comment is not a string", false), 1);
    assert_int_equal(reason_n(&r, "MISP: attribute is not a JSON object", false), 1);
    assert_int_equal(reason_n(&r, "MISP: object is not a JSON object", false), 1);
    /* a1..a8 (a5 twice) and o1, o4 */
    assert_int_equal(r.n_loaded, 11);
    assert_int_equal(r.n_type[IOC_IP], 3);
    assert_int_equal(r.n_type[IOC_DOMAIN], 3);
    assert_int_equal(r.n_type[IOC_JA4], 1);
    assert_true(has_problem(&r, "attribute a14: not an IP address or CIDR range: 'not-an-ip'"));
    assert_true(has_problem(&r, "attribute a12: type 'email-src' is not one we can match"));

    struct ioc_hit hit;
    struct ioc_meta m;
    assert_true(match_ip(s, "192.0.2.1", 0, &hit));
    hit_meta(s, &hit, &m);
    assert_string_equal(m.id, "a1");
    assert_string_equal(m.source, "Health ISAC");
    assert_string_equal(m.name, "C2");
    assert_int_equal(m.tlp, IOC_TLP_GREEN); /* the attribute's tag wins */
    assert_true(m.valid_from_us == 0 && m.valid_until_us == 0);
    assert_true(match_ip(s, "2001:db8::1", 0, &hit));
    hit_meta(s, &hit, &m);
    assert_string_equal(m.name, "Ransomware wave");
    assert_int_equal(m.tlp, IOC_TLP_AMBER);
    assert_true(match_domain(s, "evil.example"));
    assert_true(match_domain(s, "a.b.evil.example")); /* MISP domain: with subdomains */
    assert_true(match_domain(s, "www.host.example"));
    assert_false(match_domain(s, "a.www.host.example")); /* hostname: the name alone */
    assert_true(match_domain(s, "x.pair.example"));
    assert_true(match_ip(s, "198.51.100.7", 0, NULL));
    assert_true(ioc_match_url(s, S("evil.example"), S("/login"), 0, NULL));
    assert_true(ioc_match(s, IOC_SHA256, S(SHA256), 0, NULL));
    assert_true(ioc_match(s, IOC_JA3, S(JA3), 0, NULL));
    assert_true(ioc_match(s, IOC_SHA1, S(SHA1), 0, NULL)); /* from the file object */
    assert_false(ioc_match(s, IOC_MD5, S(MD5), 0, NULL));
    assert_false(ioc_match(s, IOC_JA4, S("t13d1516h2_8daaf6152771_b186095e22b6"), 0, NULL));
    assert_true(ioc_match(s, IOC_JA4, S("t13d1516h2_8daaf6152771_aaaaaaaaaaaa"), 0, NULL));
    assert_false(match_ip(s, "192.0.2.16", 0, NULL));
    ioc_store_free(s);
}

static void
test_misp_shapes(void **state)
{
    (void)state;
    static const char attr[] = "{\"uuid\": \"u1\", \"type\": \"ip-dst\", \"value\": "
                               "\"192.0.2.1\", \"to_ids\": true, \"Event\": {\"info\": \"Inline\","
                               " \"Orgc\": {\"name\": \"Org C\"}}}";
    char text[1024];
    struct ioc_store *s = ioc_store_new();
    struct ioc_load_report r;
    struct errbuf eb;
    struct ioc_hit hit;
    struct ioc_meta m;

    snprintf(text, sizeof(text), "{\"Attribute\": [%s]}", attr);
    assert_int_equal(misp(s, text, &r), 0);
    assert_int_equal(r.n_records, 1);
    assert_int_equal(r.n_loaded, 1);
    assert_true(match_ip(s, "192.0.2.1", 0, &hit));
    hit_meta(s, &hit, &m);
    assert_string_equal(m.name, "Inline");
    assert_string_equal(m.source, "Org C");

    snprintf(text, sizeof(text), "{\"response\": {\"Attribute\": [%s, %s]}}", attr, attr);
    assert_int_equal(misp(s, text, &r), 0);
    assert_int_equal(r.n_records, 2);
    assert_int_equal(r.n_duplicate, 2);

    /* A bare list mixing the shapes, and an element that is none of them. */
    snprintf(text, sizeof(text),
             "[{\"Event\": {\"Attribute\": [{\"type\": \"domain\", \"value\": \"a.example\","
             " \"to_ids\": true}]}}, {\"info\": \"bare\", \"Attribute\": [{\"type\": "
             "\"hostname\", \"value\": \"b.example\", \"to_ids\": true}]}, %s, 42]",
             "{\"type\": \"url\", \"value\": \"http://c.example/\", \"to_ids\": true}");
    assert_int_equal(misp(s, text, &r), 0);
    dump_report(&r);
    assert_int_equal(r.n_records, 4);
    assert_int_equal(r.n_loaded, 3);
    assert_int_equal(reason_n(&r, "MISP: not an event or attribute", false), 1);
    assert_true(ioc_match_domain(s, S("b.example"), 0, &hit));
    hit_meta(s, &hit, &m);
    assert_string_equal(m.name, "bare");
    assert_string_equal(m.source, "misp.json");
    assert_null(m.id);

    /* Event members of the wrong kind are records, invalid. */
    assert_int_equal(misp(s, "{\"Event\": {\"Attribute\": 5, \"Object\": {}}}", &r), 0);
    assert_int_equal(r.n_records, 2);
    assert_int_equal(reason_n(&r, "MISP: Attribute is not a list", false), 1);
    assert_int_equal(reason_n(&r, "MISP: Object is not a list", false), 1);
    assert_int_equal(misp(s, "{\"response\": []}", &r), 0);
    assert_int_equal(r.n_records, 0);

    assert_int_equal(ioc_load_misp(s, S("{\"Event\": "), NULL, 0, &r, &eb), IASO_E_FORMAT);
    assert_non_null(strstr(eb.msg, "not JSON"));
    assert_int_equal(ioc_load_misp(s, S("{\"Event\": 5}"), NULL, 0, &r, &eb), IASO_E_FORMAT);
    assert_non_null(strstr(eb.msg, "not a MISP export"));
    assert_int_equal(ioc_load_misp(s, S("{\"response\": {\"x\": 1}}"), NULL, 0, &r, &eb),
                     IASO_E_FORMAT);
    assert_int_equal(ioc_load_misp(s, S("{\"type\": \"bundle\"}"), NULL, 0, &r, &eb),
                     IASO_E_FORMAT);
    ioc_store_free(s);
}

static void
test_misp_fixtures(void **state)
{
    (void)state;
    struct ioc_store *s = ioc_store_new();
    struct ioc_load_report r;
    struct ioc_hit hit;
    struct ioc_meta m;
    /* An AS attribute without to_ids, and a domain for detection. */
    load_fixture(s, "misp/test_events_collection_1.json", &r);
    assert_int_equal(r.format, IOC_FMT_MISP);
    assert_int_equal(r.n_records, 2);
    assert_int_equal(r.n_skipped, 1);
    assert_int_equal(r.n_loaded, 1);
    assert_true(ioc_match_domain(s, S("www.circl.lu"), 0, &hit));
    hit_meta(s, &hit, &m);
    assert_string_equal(m.id, "4bb235a7-7d25-4aef-802f-2c6b45c5eceb");
    assert_string_equal(m.source, "MISP-Project");
    assert_string_equal(m.name, "Domain test attribute");
    /* domain|ip (both values; the domain already there) and a filename we cannot match. */
    load_fixture(s, "misp/test_events_collection_2.json", &r);
    assert_int_equal(r.n_records, 2);
    assert_int_equal(r.n_loaded, 1);
    assert_int_equal(r.n_duplicate, 1);
    assert_int_equal(r.n_type[IOC_IP], 1);
    assert_int_equal(reason_n(&r, "MISP type filename", true), 1);
    assert_true(match_ip(s, "149.13.33.14", 0, NULL));
    ioc_store_free(s);

    /* The same as attribute collections: the caller's source (the file name). */
    s = ioc_store_new();
    load_fixture(s, "misp/test_attributes_collection_1.json", &r);
    assert_int_equal(r.n_records, 2);
    assert_int_equal(r.n_skipped, 1);
    assert_int_equal(r.n_loaded, 1);
    assert_true(ioc_match_domain(s, S("circl.lu"), 0, &hit));
    hit_meta(s, &hit, &m);
    assert_string_equal(m.source, "test_attributes_collection_1.json");
    load_fixture(s, "misp/test_attributes_collection_2.json", &r);
    assert_int_equal(r.n_records, 2);
    assert_int_equal(r.n_loaded, 1);
    assert_int_equal(r.n_duplicate, 1);
    assert_int_equal(r.n_unsupported, 1);
    ioc_store_free(s);
}

/* ---- files ---- */

static void
test_feed_directory(void **state)
{
    (void)state;
    char dir[] = "/tmp/iaso-feed-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof(path), "%s/manifest.json", dir);
    write_file(path, "{\"5c2f0b7e-0001-4000-8000-000000000001\": {\"info\": \"one\"},"
                     " \"5c2f0b7e-0002-4000-8000-000000000002\": {\"info\": \"missing\"},"
                     " \"5c2f0b7e-0003-4000-8000-000000000003\": {\"info\": \"broken\"},"
                     " \"../../etc/passwd\": {}}");
    snprintf(path, sizeof(path), "%s/5c2f0b7e-0001-4000-8000-000000000001.json", dir);
    write_file(path, "{\"Event\": {\"info\": \"one\", \"Orgc\": {\"name\": \"CERT\"},"
                     " \"Attribute\": [{\"uuid\": \"x1\", \"type\": \"ip-dst\","
                     " \"value\": \"192.0.2.1\", \"to_ids\": true},"
                     " {\"uuid\": \"x2\", \"type\": \"ip-dst\", \"value\": \"192.0.2.2\","
                     " \"to_ids\": false}]}}");
    snprintf(path, sizeof(path), "%s/5c2f0b7e-0003-4000-8000-000000000003.json", dir);
    write_file(path, "{\"Event\": [");

    struct ioc_store *s = ioc_store_new();
    struct ioc_load_report r;
    struct errbuf eb = {{0}};
    assert_int_equal(ioc_load_path(s, dir, IOC_FMT_AUTO, NULL, &r, &eb), 0);
    check_report(&r);
    dump_report(&r);
    assert_int_equal(r.format, IOC_FMT_MISP);
    assert_int_equal(r.n_records, 5);
    assert_int_equal(r.n_loaded, 1);
    assert_int_equal(r.n_skipped, 1);
    assert_int_equal(r.n_invalid, 3);
    assert_int_equal(reason_n(&r, "MISP feed: missing event file", false), 1);
    assert_int_equal(reason_n(&r, "MISP feed: unreadable event file", false), 1);
    assert_int_equal(reason_n(&r, "MISP feed: bad event uuid", false), 1);
    assert_true(has_problem(&r, "5c2f0b7e-0002-4000-8000-000000000002: "));
    struct ioc_hit hit;
    struct ioc_meta m;
    assert_true(match_ip(s, "192.0.2.1", 0, &hit));
    hit_meta(s, &hit, &m);
    assert_string_equal(m.source, "CERT");

    /* Only MISP can be a directory; a directory without a manifest is not a feed. */
    assert_int_equal(ioc_load_path(s, dir, IOC_FMT_CSV, NULL, &r, &eb), IASO_E_FORMAT);
    snprintf(path, sizeof(path), "%s/manifest.json", dir);
    assert_int_equal(unlink(path), 0);
    assert_true(ioc_load_path(s, dir, IOC_FMT_MISP, NULL, &r, &eb) < 0);
    assert_non_null(strstr(eb.msg, "not a MISP feed directory"));

    snprintf(path, sizeof(path), "%s/5c2f0b7e-0001-4000-8000-000000000001.json", dir);
    assert_int_equal(unlink(path), 0);
    snprintf(path, sizeof(path), "%s/5c2f0b7e-0003-4000-8000-000000000003.json", dir);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(rmdir(dir), 0);
    ioc_store_free(s);
}

static void
test_load_path_detect(void **state)
{
    (void)state;
    char dir[] = "/tmp/iaso-load-XXXXXX";
    assert_non_null(mkdtemp(dir));
    static const struct {
        const char *name, *text;
        enum ioc_format fmt;
    } files[] = {
        {"list.csv", "type,value\nip,192.0.2.1\n", IOC_FMT_CSV},
        /* "type" after the objects, "type" keys deeper down must not decide */
        {"b.json",
         "\xef\xbb\xbf {\"id\": \"bundle--1\", \"objects\": [{\"type\": \"indicator\", "
         "\"pattern\": \"[ipv4-addr:value = '192.0.2.2']\"}], \"type\": \"bundle\"}",
         IOC_FMT_STIX},
        {"e.json",
         "\n{\"Event\": {\"type\": \"x\", \"Attribute\": [{\"type\": \"ip-dst\", \"value\": "
         "\"192.0.2.3\", \"to_ids\": true}]}}",
         IOC_FMT_MISP},
        {"l.json", "[{\"Event\": {}}]", IOC_FMT_MISP},
        {"r.json", "{\"response\": {\"Attribute\": []}}", IOC_FMT_MISP},
        {"x.json", "{\"a\": {\"type\": \"bundle\"}, \"b\": \"\\\"type\\\"\"}", IOC_FMT_AUTO},
    };
    struct ioc_store *s = ioc_store_new();
    struct ioc_load_report r;
    struct errbuf eb = {{0}};
    char path[256];
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, files[i].name);
        write_file(path, files[i].text);
        int rc = ioc_load_path(s, path, IOC_FMT_AUTO, NULL, &r, &eb);
        if (files[i].fmt == IOC_FMT_AUTO) {
            assert_int_equal(rc, IASO_E_FORMAT);
            assert_non_null(strstr(eb.msg, "neither a STIX bundle"));
            assert_non_null(strstr(eb.msg, path));
        } else {
            assert_int_equal(rc, 0);
            assert_int_equal(r.format, files[i].fmt);
        }
        assert_int_equal(unlink(path), 0);
    }
    struct ioc_hit hit;
    struct ioc_meta m;
    assert_true(match_ip(s, "192.0.2.1", 0, &hit));
    hit_meta(s, &hit, &m);
    assert_string_equal(m.source, "list.csv");
    assert_true(match_ip(s, "192.0.2.2", 0, NULL));
    assert_true(match_ip(s, "192.0.2.3", 0, NULL));

    /* A format forced, a source given, errors with the path in them. */
    snprintf(path, sizeof(path), "%s/forced.txt", dir);
    write_file(path, "type,value\nip,192.0.2.4\n");
    assert_int_equal(ioc_load_path(s, path, IOC_FMT_CSV, "my feed", &r, &eb), 0);
    assert_true(match_ip(s, "192.0.2.4", 0, &hit));
    hit_meta(s, &hit, &m);
    assert_string_equal(m.source, "my feed");
    assert_int_equal(ioc_load_path(s, path, IOC_FMT_STIX, NULL, &r, &eb), IASO_E_FORMAT);
    assert_non_null(strstr(eb.msg, "forced.txt: not JSON"));
    assert_int_equal(unlink(path), 0);
    assert_int_equal(ioc_load_path(s, path, IOC_FMT_AUTO, NULL, &r, &eb), -ENOENT);
    assert_non_null(strstr(eb.msg, "forced.txt"));
    assert_int_equal(rmdir(dir), 0);
    ioc_store_free(s);
}

int
main(int argc, char **argv)
{
    if (argc > 1) {
        snprintf(fixtures, sizeof(fixtures), "%s", argv[1]);
    } else {
        /* __FILE__ is as the compiler was given it, relative to where it ran. */
        const char *f = __FILE__;
        const char *slash = strrchr(f, '/');
        int n = slash ? (int)(slash - f) : 1;
        snprintf(fixtures, sizeof(fixtures), "%.*s/../../detect-fixtures", n, slash ? f : ".");
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_time),
        cmocka_unit_test(test_report_helpers),
        cmocka_unit_test(test_csv_good),
        cmocka_unit_test(test_csv_bad_rows),
        cmocka_unit_test(test_csv_header),
        cmocka_unit_test(test_csv_expiry_duplicates),
        cmocka_unit_test(test_stix_patterns),
        cmocka_unit_test(test_stix_metadata),
        cmocka_unit_test(test_stix_metadata_values),
        cmocka_unit_test(test_stix_shapes),
        cmocka_unit_test(test_stix_malformed_reasons),
        cmocka_unit_test(test_stix_fixtures),
        cmocka_unit_test(test_misp_event),
        cmocka_unit_test(test_misp_shapes),
        cmocka_unit_test(test_misp_fixtures),
        cmocka_unit_test(test_feed_directory),
        cmocka_unit_test(test_load_path_detect),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
