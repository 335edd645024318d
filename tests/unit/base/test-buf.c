// SPDX-License-Identifier: Apache-2.0
// The growable buffer, the arena, the cursor, the JSON writer and EVE timestamps.
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/arena.h"
#include "base/buf.h"
#include "base/bytes.h"
#include "base/error.h"
#include "base/jsonw.h"
#include "base/log.h"
#include "base/timefmt.h"

static void
test_buf_cap(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 10);
    assert_int_equal(buf_append_str(&b, "hello"), 0);
    assert_int_equal(buf_printf(&b, "%d", 1234), 0);
    assert_string_equal((char *)b.ptr, "hello1234");
    /* Past the cap: refused whole, buffer unchanged. */
    assert_int_equal(buf_append_str(&b, "xy"), IASO_E_LIMIT);
    assert_int_equal(b.len, 9);
    assert_int_equal(buf_append_char(&b, '!'), 0);
    assert_int_equal(buf_printf(&b, "more"), IASO_E_LIMIT);
    buf_consume(&b, 5);
    assert_string_equal((char *)b.ptr, "1234!");
    buf_release(&b);

    /* A long printf goes through the slow path. */
    buf_init(&b, 0);
    char big[1000];
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = 0;
    assert_int_equal(buf_printf(&b, "<%s>", big), 0);
    assert_int_equal(b.len, 1001);
    assert_int_equal(b.ptr[1000], '>');
    buf_release(&b);
}

static void
test_arena(void **state)
{
    (void)state;
    struct arena a;
    arena_init(&a, 256, 1024);
    char *s = arena_strndup(&a, "patient-free text", 7);
    assert_string_equal(s, "patient");
    void *p1 = arena_alloc(&a, 100);
    assert_non_null(p1);
    assert_int_equal((uintptr_t)p1 % 16, 0);
    void *big = arena_alloc(&a, 600); /* a one-off block bigger than the default */
    assert_non_null(big);
    memset(big, 1, 600);
    assert_null(arena_alloc(&a, 600)); /* the cap */
    arena_reset(&a);
    assert_int_equal(a.used_len, 0);
    assert_non_null(arena_alloc(&a, 200));
    arena_release(&a);
    arena_release(&a); /* twice is harmless */
}

static void
test_cursor(void **state)
{
    (void)state;
    /* 0x0800 (EtherType IPv4), then 0xc0a80001, then one byte short of a be32 */
    const uint8_t data[] = {0x08, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xaa, 0xbb, 0xcc};
    struct cursor c;
    cursor_init(&c, data, sizeof(data));
    assert_int_equal(cursor_be16(&c), 0x0800);
    assert_int_equal(cursor_be32(&c), 0xc0a80001);
    assert_int_equal(cursor_left(&c), 3);
    assert_int_equal(cursor_be32(&c), 0); /* does not fit */
    assert_true(c.err);
    assert_int_equal(cursor_u8(&c), 0); /* sticky */
    assert_int_equal(cursor_left(&c), 0);

    cursor_init(&c, data, sizeof(data));
    assert_int_equal(cursor_le16(&c), 0x0008);
    struct bytes b = cursor_take(&c, 4);
    assert_int_equal(b.len, 4);
    assert_true(bytes_eq(b, bytes_make(data + 2, 4)));
    assert_true(cursor_skip(&c, 3));
    assert_false(cursor_skip(&c, 1));
    uint8_t out[2] = {9, 9};
    assert_false(cursor_copy(&c, out, 2));
    assert_int_equal(out[0], 0);
}

static void
test_jsonw(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 0);
    struct jsonw w;
    jsonw_begin(&w, &b);
    jsonw_object_begin(&w);
    jsonw_key(&w, "a");
    jsonw_u64(&w, 18446744073709551615u);
    jsonw_key(&w, "b");
    jsonw_array_begin(&w);
    jsonw_i64(&w, -5);
    jsonw_i64(&w, INT64_MIN);
    jsonw_bool(&w, true);
    jsonw_null(&w);
    jsonw_object_begin(&w);
    jsonw_object_end(&w);
    jsonw_array_end(&w);
    jsonw_key(&w, "s");
    /* quote, backslash, newline, a control byte, valid UTF-8 (é), a lone continuation byte,
       a truncated 3-byte sequence, an encoded surrogate */
    jsonw_strn(&w, "q\"b\\n\n\x01\xc3\xa9\x80\xe2\x82\xed\xa0\x80", 15);
    jsonw_object_end(&w);
    assert_int_equal(jsonw_end(&w), 0);
    assert_string_equal((char *)b.ptr,
                        "{\"a\":18446744073709551615,\"b\":[-5,-9223372036854775808,true,null,{}],"
                        "\"s\":\"q\\\"b\\\\n\\n\\u0001\xc3\xa9\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
                        "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"}");

    /* Raw members take their place among the others, commas and all. */
    buf_reset(&b);
    jsonw_begin(&w, &b);
    jsonw_object_begin(&w);
    jsonw_raw_members(&w, "\"x\":1,\"y\":2", 11);
    jsonw_key(&w, "z");
    jsonw_u64(&w, 3);
    jsonw_raw_members(&w, "\"q\":[]", 6);
    jsonw_raw_members(&w, "", 0);
    jsonw_object_end(&w);
    assert_int_equal(jsonw_end(&w), 0);
    assert_string_equal((char *)b.ptr, "{\"x\":1,\"y\":2,\"z\":3,\"q\":[]}");

    /* An error (cap) rolls the buffer back to where the value began. */
    struct buf small;
    buf_init(&small, 12);
    buf_append_str(&small, "x");
    jsonw_begin(&w, &small);
    jsonw_object_begin(&w);
    jsonw_key(&w, "long-key");
    jsonw_str(&w, "long value");
    jsonw_object_end(&w);
    assert_int_equal(jsonw_end(&w), IASO_E_LIMIT);
    assert_string_equal((char *)small.ptr, "x");
    /* Unbalanced nesting is an error too. */
    jsonw_begin(&w, &small);
    jsonw_array_begin(&w);
    assert_int_equal(jsonw_end(&w), IASO_E_INVAL);
    buf_release(&small);
    buf_release(&b);
}

static void
test_timefmt(void **state)
{
    (void)state;
    char out[40];
    /* 2026-05-01T12:00:00.123456Z */
    assert_int_equal(timefmt_eve(UINT64_C(1777636800123456), out, sizeof(out)), 31);
    assert_string_equal(out, "2026-05-01T12:00:00.123456+0000");
    assert_int_equal(timefmt_eve(0, out, sizeof(out)), 31);
    assert_string_equal(out, "1970-01-01T00:00:00.000000+0000");
    assert_int_equal(timefmt_eve(0, out, 10), 0);
    /* Agrees with gmtime_r over leap days, century years and a spread of instants. */
    uint64_t t = 951782400; /* 2000-02-29T00:00:00 */
    for (int i = 0; i < 20000; i++) {
        time_t secs = (time_t)t;
        struct tm tm;
        gmtime_r(&secs, &tm);
        char want[64];
        snprintf(want, sizeof(want), "%04d-%02d-%02dT%02d:%02d:%02d.%06u+0000", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                 (unsigned)(i % 1000000));
        timefmt_eve(t * 1000000 + (uint64_t)(i % 1000000), out, sizeof(out));
        assert_string_equal(out, want);
        t += 86400 * 7 + 3607; /* about 380 years in all */
    }
}

static void
test_ratelimit(void **state)
{
    (void)state;
    struct ratelimit r;
    ratelimit_init(&r, 1000, 3);
    int allowed = 0;
    for (int i = 0; i < 10; i++)
        allowed += ratelimit_allow(&r, 5000);
    assert_int_equal(allowed, 3);
    assert_int_equal(r.n_suppressed, 7);
    assert_true(ratelimit_allow(&r, 6000)); /* a new window */
    enum log_level l;
    assert_int_equal(log_level_parse("debug", &l), 0);
    assert_int_equal(l, LOG_LEVEL_DEBUG);
    assert_int_equal(log_level_parse("loud", &l), IASO_E_INVAL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buf_cap), cmocka_unit_test(test_arena),
        cmocka_unit_test(test_cursor),  cmocka_unit_test(test_jsonw),
        cmocka_unit_test(test_timefmt), cmocka_unit_test(test_ratelimit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
