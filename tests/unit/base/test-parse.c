// SPDX-License-Identifier: Apache-2.0
// Bounded number parsing and the error table.
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "base/error.h"
#include "base/parse.h"

#define S(x) x, strlen(x)

static void
test_i64(void **state)
{
    (void)state;
    int64_t v;
    assert_int_equal(parse_i64(S("42"), 0, 100, &v), 0);
    assert_int_equal(v, 42);
    assert_int_equal(parse_i64(S("-7"), -10, 10, &v), 0);
    assert_int_equal(v, -7);
    assert_int_equal(parse_i64(S("9223372036854775807"), INT64_MIN, INT64_MAX, &v), 0);
    assert_int_equal(v, INT64_MAX);
    assert_int_equal(parse_i64(S("-9223372036854775808"), INT64_MIN, INT64_MAX, &v), 0);
    assert_true(v == INT64_MIN);
    assert_int_equal(parse_i64(S("9223372036854775808"), INT64_MIN, INT64_MAX, &v), IASO_E_RANGE);
    assert_int_equal(parse_i64(S("99999999999999999999999"), 0, 10, &v), IASO_E_RANGE);
    assert_int_equal(parse_i64(S("101"), 0, 100, &v), IASO_E_RANGE);
    assert_int_equal(parse_i64(S("12x"), 0, 100, &v), IASO_E_FORMAT);
    assert_int_equal(parse_i64(S(""), 0, 100, &v), IASO_E_FORMAT);
    assert_int_equal(parse_i64(S("-"), -5, 100, &v), IASO_E_FORMAT);
    assert_int_equal(parse_i64(S(" 1"), 0, 100, &v), IASO_E_FORMAT);
    /* Length-bounded: the digits after len are not read. */
    assert_int_equal(parse_i64("123456", 2, 0, 100, &v), 0);
    assert_int_equal(v, 12);
}

static void
test_size_duration(void **state)
{
    (void)state;
    int64_t v;
    assert_int_equal(parse_size(S("64K"), 0, INT64_MAX, &v), 0);
    assert_int_equal(v, 65536);
    assert_int_equal(parse_size(S("2G"), 0, INT64_MAX, &v), 0);
    assert_int_equal(v, INT64_C(2) << 30);
    assert_int_equal(parse_size(S("3MiB"), 0, INT64_MAX, &v), 0);
    assert_int_equal(v, 3 << 20);
    assert_int_equal(parse_size(S("100"), 0, INT64_MAX, &v), 0);
    assert_int_equal(v, 100);
    assert_int_equal(parse_size(S("5X"), 0, INT64_MAX, &v), IASO_E_FORMAT);
    assert_int_equal(parse_size(S("9999999999G"), 0, INT64_MAX, &v), IASO_E_RANGE);
    assert_int_equal(parse_duration_ms(S("30"), 0, INT64_MAX, &v), 0);
    assert_int_equal(v, 30000);
    assert_int_equal(parse_duration_ms(S("250ms"), 0, INT64_MAX, &v), 0);
    assert_int_equal(v, 250);
    assert_int_equal(parse_duration_ms(S("5m"), 0, INT64_MAX, &v), 0);
    assert_int_equal(v, 300000);
    assert_int_equal(parse_duration_ms(S("2h"), 0, INT64_MAX, &v), 0);
    assert_int_equal(v, 7200000);
    assert_int_equal(parse_duration_ms(S("1d"), 0, 1000, &v), IASO_E_RANGE);
    assert_int_equal(parse_duration_ms(S("1w"), 0, INT64_MAX, &v), IASO_E_FORMAT);
}

static void
test_errors(void **state)
{
    (void)state;
    assert_string_equal(iaso_strerror(0), "success");
    assert_string_equal(iaso_strerror(IASO_E_AGAIN), "need more input");
    assert_string_equal(iaso_strerror(IASO_E_USAGE), "bad usage");
    assert_string_equal(iaso_errname(IASO_E_NOMEM), "IASO_E_NOMEM");
    assert_string_equal(iaso_strerror(-ENOENT), strerror(ENOENT));
    assert_string_equal(iaso_errname(-ENOENT), "ENOENT");
    assert_string_equal(iaso_strerror(12345), "unknown error");
    struct errbuf eb;
    assert_int_equal(err_set(&eb, IASO_E_FORMAT, "%s: bad %d", "x.pcap", 3), IASO_E_FORMAT);
    assert_string_equal(eb.msg, "x.pcap: bad 3");
    assert_int_equal(err_set(NULL, IASO_E_IO, "ignored"), IASO_E_IO);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_i64),
        cmocka_unit_test(test_size_duration),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
