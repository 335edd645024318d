// SPDX-License-Identifier: Apache-2.0
// The option table: defaults, parsing, bounds, errors, help.
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "base/opt.h"

struct cfg {
    struct opt_list read;
    const char *eve;
    bool stats;
    int64_t workers;
    int64_t memcap;
    int64_t timeout_ms;
};

static const struct opt_def defs[] = {
    {"read", 'r', OPT_LIST, "FILE", 0, 0, NULL, "Read a file.", offsetof(struct cfg, read)},
    {"eve", 'e', OPT_STRING, "PATH", 0, 0, "-", "Where events go.", offsetof(struct cfg, eve)},
    {"stats", 's', OPT_FLAG, NULL, 0, 0, NULL, "Print counters.", offsetof(struct cfg, stats)},
    {"workers", 'w', OPT_INT, "N", 1, 64, "1", "Worker threads.", offsetof(struct cfg, workers)},
    {"memcap", 0, OPT_SIZE, "SIZE", 1024, 1 << 30, "32M", "A cap.", offsetof(struct cfg, memcap)},
    {"timeout", 0, OPT_DURATION, "TIME", 1000, 3600000, "60s", "A timeout.",
     offsetof(struct cfg, timeout_ms)},
};
#define N_DEFS (sizeof(defs) / sizeof(defs[0]))

static int
parse(struct cfg *c, struct errbuf *eb, int argc, const char **argv, int *first_operand)
{
    assert_int_equal(opt_defaults(defs, N_DEFS, c, eb), 0);
    return opt_parse(defs, N_DEFS, c, argc, (char **)argv, 2, first_operand, eb);
}

static void
test_defaults_and_values(void **state)
{
    (void)state;
    struct cfg c;
    struct errbuf eb;
    int first;
    const char *argv[] = {"iaso",      "sensor",    "-r",   "a.pcap",   "--read=b.pcap",
                          "-s",        "--workers", "4",    "--memcap", "64K",
                          "--timeout", "5m",        "extra"};
    assert_int_equal(parse(&c, &eb, 13, argv, &first), 0);
    assert_int_equal(c.read.n, 2);
    assert_string_equal(c.read.items[0], "a.pcap");
    assert_string_equal(c.read.items[1], "b.pcap");
    assert_string_equal(c.eve, "-");
    assert_true(c.stats);
    assert_int_equal(c.workers, 4);
    assert_int_equal(c.memcap, 65536);
    assert_int_equal(c.timeout_ms, 300000);
    assert_int_equal(first, 12);
    assert_string_equal(argv[first], "extra");
    opt_release(defs, N_DEFS, &c);
    assert_null(c.read.items);

    const char *none[] = {"iaso", "sensor"};
    assert_int_equal(parse(&c, &eb, 2, none, &first), 0);
    assert_int_equal(c.memcap, 32 << 20);
    assert_int_equal(c.timeout_ms, 60000);
    assert_false(c.stats);
    assert_int_equal(first, 2);
}

static void
test_errors(void **state)
{
    (void)state;
    struct cfg c;
    struct errbuf eb;
    int first;
    const char *range[] = {"iaso", "sensor", "--workers", "65"};
    assert_int_equal(parse(&c, &eb, 4, range, &first), IASO_E_USAGE);
    assert_string_equal(eb.msg, "--workers 65: out of range (1 to 64)");
    const char *notnum[] = {"iaso", "sensor", "-w", "four"};
    assert_int_equal(parse(&c, &eb, 4, notnum, &first), IASO_E_USAGE);
    assert_string_equal(eb.msg, "--workers four: expected a whole number");
    const char *badsize[] = {"iaso", "sensor", "--memcap", "lots"};
    assert_int_equal(parse(&c, &eb, 4, badsize, &first), IASO_E_USAGE);
    assert_non_null(strstr(eb.msg, "a size such as"));
    const char *unknown[] = {"iaso", "sensor", "--frobnicate"};
    assert_int_equal(parse(&c, &eb, 3, unknown, &first), IASO_E_USAGE);
    assert_string_equal(eb.msg, "unknown option --frobnicate");
    const char *missing[] = {"iaso", "sensor", "--eve"};
    assert_int_equal(parse(&c, &eb, 3, missing, &first), IASO_E_USAGE);
    assert_string_equal(eb.msg, "option --eve needs a value");
    const char *unknown_short[] = {"iaso", "sensor", "-x"};
    assert_int_equal(parse(&c, &eb, 3, unknown_short, &first), IASO_E_USAGE);
    assert_string_equal(eb.msg, "unknown option -x");
    opt_release(defs, N_DEFS, &c);
}

static void
test_help(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 0);
    assert_int_equal(opt_help_text(defs, N_DEFS, &b), 0);
    const char *t = (const char *)b.ptr;
    assert_non_null(strstr(t, "  -w, --workers N"));
    assert_non_null(strstr(t, "Worker threads. (default: 1)"));
    assert_non_null(strstr(t, "      --memcap SIZE"));
    /* Every line fits in 80 columns. */
    for (const char *line = t; *line;) {
        const char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) : strlen(line);
        assert_true(len <= 80);
        line += len + (nl ? 1 : 0);
    }
    buf_reset(&b);
    assert_int_equal(opt_help_markdown(defs, N_DEFS, &b), 0);
    assert_non_null(strstr((const char *)b.ptr, "| `-w`, `--workers N` | integer | 1 | 1 – 64 |"));
    buf_release(&b);
}

static void
test_config_text(void **state)
{
    (void)state;
    struct cfg c;
    struct errbuf eb = {""};
    assert_int_equal(opt_defaults(defs, N_DEFS, &c, &eb), 0);
    char text[] = "# the sensor at site A\n"
                  "read = /tmp/a.pcap\r\n"
                  "  read=\"/tmp/b c.pcap\"  \n"
                  "\n"
                  "stats\n"
                  "workers = 4\n"
                  "memcap = 64M\n"
                  "timeout = 2m";
    assert_int_equal(opt_parse_text(defs, N_DEFS, &c, "site.conf", text, &eb), 0);
    assert_int_equal(c.read.n, 2);
    assert_string_equal(c.read.items[0], "/tmp/a.pcap");
    assert_string_equal(c.read.items[1], "/tmp/b c.pcap");
    assert_true(c.stats);
    assert_int_equal(c.workers, 4);
    assert_int_equal(c.memcap, 64 << 20);
    assert_int_equal(c.timeout_ms, 120000);
    assert_string_equal(c.eve, "-");
    /* The command line comes after and wins; lists add up. */
    const char *argv[] = {"iaso", "sensor", "-w", "2", "-r", "x.pcap"};
    int first;
    assert_int_equal(opt_parse(defs, N_DEFS, &c, 6, (char **)argv, 2, &first, &eb), 0);
    assert_int_equal(c.workers, 2);
    assert_int_equal(c.read.n, 3);
    opt_release(defs, N_DEFS, &c);

    char off[] = "stats = false\n";
    assert_int_equal(opt_defaults(defs, N_DEFS, &c, &eb), 0);
    assert_int_equal(opt_parse_text(defs, N_DEFS, &c, "f", off, &eb), 0);
    assert_false(c.stats);

    struct {
        const char *text, *msg;
    } bad[] = {
        {"\n\nnope = 1\n", "f: line 3: unknown option 'nope'"},
        {"workers = 99\n", "f: line 1: --workers 99: out of range (1 to 64)"},
        {"workers\n", "f: line 1: workers needs a value (workers = N)"},
        {"stats = maybe\n", "f: line 1: stats takes true or false"},
        {"memcap = lots\n", "f: line 1: --memcap lots: expected a size such as 4096, 64K or 2G"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char buf[128];
        snprintf(buf, sizeof(buf), "%s", bad[i].text);
        assert_int_equal(opt_defaults(defs, N_DEFS, &c, &eb), 0);
        assert_int_equal(opt_parse_text(defs, N_DEFS, &c, "f", buf, &eb), IASO_E_USAGE);
        assert_string_equal(eb.msg, bad[i].msg);
        opt_release(defs, N_DEFS, &c);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_and_values),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_help),
        cmocka_unit_test(test_config_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
