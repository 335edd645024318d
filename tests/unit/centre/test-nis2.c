// SPDX-License-Identifier: Apache-2.0
// The NIS2 clock (nis2.c): "one month" with its month-end clamping and leap years, the 24 h and
// 72 h deadlines, the "due" and "late" boundaries to the second, the final report's basis, the
// progress report of an ongoing incident, CSIRT requests, the next deadline, and the printable
// page's escaping. Times are written as RFC 3339 text and converted with T().
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/timefmt.h"
#include "centre/nis2.h"

#define HOUR INT64_C(3600)
#define DAY (24 * HOUR)

static int
num(const char *s, size_t n)
{
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        assert_true(s[i] >= '0' && s[i] <= '9');
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

/* "YYYY-MM-DDTHH:MM:SSZ" to Unix seconds (test input is always in this form). */
static int64_t
T(const char *s)
{
    assert_int_equal(strlen(s), 20);
    int64_t days =
        timefmt_days_from_civil(num(s, 4), (unsigned)num(s + 5, 2), (unsigned)num(s + 8, 2));
    return days * 86400 + (int64_t)num(s + 11, 2) * 3600 + (int64_t)num(s + 14, 2) * 60 +
           num(s + 17, 2);
}

static void
assert_time(int64_t t, const char *want)
{
    char s[TIMEFMT_UTC_LEN + 1];
    timefmt_utc((uint64_t)t * 1000000u, s, sizeof(s));
    assert_string_equal(s, want);
}

static void
test_month_add(void **state)
{
    (void)state;
    /* the same day and time of day next month */
    assert_time(nis2_month_add(T("2026-03-15T10:20:30Z")), "2026-04-15T10:20:30Z");
    /* clamped to the last day of a shorter month */
    assert_time(nis2_month_add(T("2026-01-31T23:59:59Z")), "2026-02-28T23:59:59Z");
    assert_time(nis2_month_add(T("2028-01-31T08:00:00Z")), "2028-02-29T08:00:00Z"); /* leap */
    assert_time(nis2_month_add(T("2028-01-29T08:00:00Z")), "2028-02-29T08:00:00Z");
    assert_time(nis2_month_add(T("2026-01-29T08:00:00Z")), "2026-02-28T08:00:00Z");
    assert_time(nis2_month_add(T("2100-01-31T00:00:00Z")), "2100-02-28T00:00:00Z"); /* no leap */
    assert_time(nis2_month_add(T("2000-01-31T00:00:00Z")), "2000-02-29T00:00:00Z"); /* leap */
    assert_time(nis2_month_add(T("2026-03-31T12:00:00Z")), "2026-04-30T12:00:00Z");
    assert_time(nis2_month_add(T("2026-08-31T12:00:00Z")), "2026-09-30T12:00:00Z");
    /* February into March: no clamping, the 28th stays the 28th */
    assert_time(nis2_month_add(T("2026-02-28T12:00:00Z")), "2026-03-28T12:00:00Z");
    assert_time(nis2_month_add(T("2028-02-29T12:00:00Z")), "2028-03-29T12:00:00Z");
    /* over the year's end */
    assert_time(nis2_month_add(T("2026-12-31T23:00:00Z")), "2027-01-31T23:00:00Z");
    assert_time(nis2_month_add(T("2026-11-30T00:00:00Z")), "2026-12-30T00:00:00Z");
    /* the epoch and out-of-range times */
    assert_time(nis2_month_add(0), "1970-02-01T00:00:00Z");
    assert_int_equal(nis2_month_add(-5), -5);
    assert_int_equal(nis2_month_add(INT64_MAX), INT64_MAX);
    int64_t last = T("9999-12-15T00:00:00Z");
    assert_int_equal(nis2_month_add(last), last); /* no year 10000 */
}

static struct nis2_facts
facts(const char *aware)
{
    struct nis2_facts f;
    memset(&f, 0, sizeof(f));
    f.is_significant = true;
    f.aware_at = T(aware);
    return f;
}

static void
test_first_deadlines(void **state)
{
    (void)state;
    struct nis2_facts f = facts("2026-11-23T08:00:00Z");
    struct nis2_stage_clock c[NIS2_STAGE_N];

    nis2_clock(&f, T("2026-11-23T09:00:00Z"), c);
    assert_time(c[NIS2_EARLY_WARNING].due_at, "2026-11-24T08:00:00Z");
    assert_int_equal(c[NIS2_EARLY_WARNING].status, NIS2_PENDING);
    assert_int_equal(c[NIS2_EARLY_WARNING].basis, NIS2_BASIS_AWARE);
    assert_time(c[NIS2_NOTIFICATION].due_at, "2026-11-26T08:00:00Z");
    assert_int_equal(c[NIS2_NOTIFICATION].status, NIS2_PENDING);
    /* nothing sent: the final report runs from the notification's due time */
    assert_time(c[NIS2_FINAL].due_at, "2026-12-26T08:00:00Z");
    assert_int_equal(c[NIS2_FINAL].basis, NIS2_BASIS_NOTIFICATION_DUE);
    assert_int_equal(c[NIS2_INTERMEDIATE].status, NIS2_NOT_APPLICABLE);
    /* open incident: a progress report is due at the final deadline if it is still open */
    assert_time(c[NIS2_PROGRESS].due_at, "2026-12-26T08:00:00Z");
    assert_int_equal(c[NIS2_PROGRESS].basis, NIS2_BASIS_ONGOING);

    /* "due" from 6 hours before the deadline, both ends included; "late" one second after */
    nis2_clock(&f, T("2026-11-24T01:59:59Z"), c);
    assert_int_equal(c[NIS2_EARLY_WARNING].status, NIS2_PENDING);
    nis2_clock(&f, T("2026-11-24T02:00:00Z"), c);
    assert_int_equal(c[NIS2_EARLY_WARNING].status, NIS2_DUE);
    nis2_clock(&f, T("2026-11-24T08:00:00Z"), c);
    assert_int_equal(c[NIS2_EARLY_WARNING].status, NIS2_DUE);
    nis2_clock(&f, T("2026-11-24T08:00:01Z"), c);
    assert_int_equal(c[NIS2_EARLY_WARNING].status, NIS2_LATE);
    assert_int_equal(c[NIS2_NOTIFICATION].status, NIS2_PENDING);

    /* sent on the second of the deadline is on time; a second later is late */
    f.sent_at[NIS2_EARLY_WARNING] = T("2026-11-24T08:00:00Z");
    f.sent_at[NIS2_NOTIFICATION] = T("2026-11-26T08:00:01Z");
    nis2_clock(&f, T("2026-11-27T00:00:00Z"), c);
    assert_int_equal(c[NIS2_EARLY_WARNING].status, NIS2_SENT);
    assert_time(c[NIS2_EARLY_WARNING].sent_at, "2026-11-24T08:00:00Z");
    assert_int_equal(c[NIS2_NOTIFICATION].status, NIS2_SENT_LATE);
}

static void
test_final_basis(void **state)
{
    (void)state;
    struct nis2_facts f = facts("2026-01-28T10:00:00Z");
    struct nis2_stage_clock c[NIS2_STAGE_N];
    /* notification due 2026-01-31T10:00Z, not sent: final a month after that, clamped */
    nis2_clock(&f, T("2026-01-29T00:00:00Z"), c);
    assert_time(c[NIS2_NOTIFICATION].due_at, "2026-01-31T10:00:00Z");
    assert_time(c[NIS2_FINAL].due_at, "2026-02-28T10:00:00Z");
    assert_int_equal(c[NIS2_FINAL].basis, NIS2_BASIS_NOTIFICATION_DUE);
    /* sent early: the final report runs from the submission */
    f.sent_at[NIS2_NOTIFICATION] = T("2026-01-30T17:45:00Z");
    nis2_clock(&f, T("2026-02-01T00:00:00Z"), c);
    assert_time(c[NIS2_FINAL].due_at, "2026-02-28T17:45:00Z"); /* Jan 30 -> Feb 28 */
    assert_int_equal(c[NIS2_FINAL].basis, NIS2_BASIS_NOTIFICATION_SENT);
    /* closed before the final deadline: no progress report, the final one as planned */
    f.closed_at = T("2026-02-10T00:00:00Z");
    nis2_clock(&f, T("2026-02-20T00:00:00Z"), c);
    assert_int_equal(c[NIS2_PROGRESS].status, NIS2_NOT_APPLICABLE);
    assert_int_equal(c[NIS2_FINAL].status, NIS2_PENDING);
    nis2_clock(&f, T("2026-02-28T17:45:01Z"), c);
    assert_int_equal(c[NIS2_FINAL].status, NIS2_LATE);
    f.sent_at[NIS2_FINAL] = T("2026-02-28T17:00:00Z");
    nis2_clock(&f, T("2026-03-05T00:00:00Z"), c);
    assert_int_equal(c[NIS2_FINAL].status, NIS2_SENT);
}

static void
test_progress(void **state)
{
    (void)state;
    struct nis2_facts f = facts("2026-03-01T00:00:00Z");
    struct nis2_stage_clock c[NIS2_STAGE_N];
    f.sent_at[NIS2_EARLY_WARNING] = T("2026-03-01T12:00:00Z");
    f.sent_at[NIS2_NOTIFICATION] = T("2026-03-03T00:00:00Z");
    /* still open at the final deadline (2026-04-03): progress due then */
    nis2_clock(&f, T("2026-04-03T00:00:01Z"), c);
    assert_time(c[NIS2_PROGRESS].due_at, "2026-04-03T00:00:00Z");
    assert_int_equal(c[NIS2_PROGRESS].status, NIS2_LATE);
    assert_int_equal(c[NIS2_FINAL].status, NIS2_LATE);
    /* the progress report sent: the final one waits for the incident's handling */
    f.sent_at[NIS2_PROGRESS] = T("2026-04-02T00:00:00Z");
    nis2_clock(&f, T("2026-04-10T00:00:00Z"), c);
    assert_int_equal(c[NIS2_PROGRESS].status, NIS2_SENT);
    assert_int_equal(c[NIS2_FINAL].due_at, 0);
    assert_int_equal(c[NIS2_FINAL].status, NIS2_PENDING);
    assert_int_equal(c[NIS2_FINAL].basis, NIS2_BASIS_AWAITING_CLOSURE);
    /* handled (closed) on May 31: final a month later, clamped to June 30 */
    f.closed_at = T("2026-05-31T09:00:00Z");
    nis2_clock(&f, T("2026-06-01T00:00:00Z"), c);
    assert_time(c[NIS2_FINAL].due_at, "2026-06-30T09:00:00Z");
    assert_int_equal(c[NIS2_FINAL].basis, NIS2_BASIS_CLOSED);
    enum nis2_stage next;
    int64_t due;
    assert_true(nis2_next(c, &next, &due));
    assert_int_equal(next, NIS2_FINAL);
    assert_time(due, "2026-06-30T09:00:00Z");
}

static void
test_requests(void **state)
{
    (void)state;
    struct nis2_facts f = facts("2026-05-01T00:00:00Z");
    struct nis2_stage_clock c[NIS2_STAGE_N];
    f.sent_at[NIS2_EARLY_WARNING] = T("2026-05-01T06:00:00Z");
    f.sent_at[NIS2_NOTIFICATION] = T("2026-05-02T06:00:00Z");
    /* the CSIRT asks for an intermediate report due on May 10 */
    f.open_due_at[NIS2_INTERMEDIATE] = T("2026-05-10T00:00:00Z");
    nis2_clock(&f, T("2026-05-09T20:00:00Z"), c);
    assert_int_equal(c[NIS2_INTERMEDIATE].status, NIS2_DUE);
    assert_int_equal(c[NIS2_INTERMEDIATE].basis, NIS2_BASIS_REQUEST);
    enum nis2_stage next;
    int64_t due;
    assert_true(nis2_next(c, &next, &due));
    assert_int_equal(next, NIS2_INTERMEDIATE);
    /* answered late */
    f.open_due_at[NIS2_INTERMEDIATE] = 0;
    f.sent_at[NIS2_INTERMEDIATE] = T("2026-05-10T00:00:01Z");
    f.sent_due_at[NIS2_INTERMEDIATE] = T("2026-05-10T00:00:00Z");
    nis2_clock(&f, T("2026-05-11T00:00:00Z"), c);
    assert_int_equal(c[NIS2_INTERMEDIATE].status, NIS2_SENT_LATE);
    /* the next deadline is the final report's (progress has the same time: the final wins) */
    assert_true(nis2_next(c, &next, &due));
    assert_int_equal(next, NIS2_FINAL);
    assert_time(due, "2026-06-02T06:00:00Z");
}

static void
test_not_significant(void **state)
{
    (void)state;
    struct nis2_facts f = facts("2026-05-01T00:00:00Z");
    struct nis2_stage_clock c[NIS2_STAGE_N];
    f.is_significant = false;
    f.sent_at[NIS2_EARLY_WARNING] = T("2026-05-01T06:00:00Z");
    nis2_clock(&f, T("2026-07-01T00:00:00Z"), c);
    assert_int_equal(c[NIS2_EARLY_WARNING].status, NIS2_SENT);
    for (size_t s = NIS2_NOTIFICATION; s < NIS2_STAGE_N; s++) {
        assert_int_equal(c[s].status, NIS2_NOT_APPLICABLE);
        assert_int_equal(c[s].due_at, 0);
    }
    enum nis2_stage next;
    int64_t due;
    assert_false(nis2_next(c, &next, &due));
    /* significant without a time of awareness: nothing can be computed */
    f.is_significant = true;
    f.aware_at = 0;
    nis2_clock(&f, T("2026-07-01T00:00:00Z"), c);
    assert_int_equal(c[NIS2_NOTIFICATION].status, NIS2_NOT_APPLICABLE);
    /* absurd inputs are not an overflow */
    f.aware_at = INT64_MAX;
    nis2_clock(&f, INT64_MIN, c);
    assert_int_equal(c[NIS2_NOTIFICATION].status, NIS2_NOT_APPLICABLE);
    f.aware_at = T("9999-12-31T23:00:00Z");
    f.sent_at[NIS2_EARLY_WARNING] = 0;
    nis2_clock(&f, INT64_MAX, c);
    assert_int_equal(c[NIS2_EARLY_WARNING].status, NIS2_LATE);
}

static void
test_names_and_json(void **state)
{
    (void)state;
    enum nis2_stage s;
    for (size_t i = 0; i < NIS2_STAGE_N; i++) {
        assert_int_equal(nis2_stage_parse(nis2_stage_name((enum nis2_stage)i), &s), 0);
        assert_int_equal(s, i);
        size_t n = 0;
        assert_non_null(nis2_stage_fields((enum nis2_stage)i, &n));
        assert_true(n > 0);
    }
    assert_int_not_equal(nis2_stage_parse("final ", &s), 0);
    assert_int_not_equal(nis2_stage_parse(NULL, &s), 0);
    assert_true(nis2_stage_is_repeatable(NIS2_INTERMEDIATE));
    assert_false(nis2_stage_is_repeatable(NIS2_FINAL));

    struct nis2_facts f = facts("2026-11-23T08:00:00Z");
    struct nis2_stage_clock c[NIS2_STAGE_N];
    nis2_clock(&f, T("2026-11-23T09:00:00Z"), c);
    json_t *j = nis2_clock_json(c);
    char *text = json_dumps(j, JSON_COMPACT);
    assert_string_equal(
        text, "[{\"stage\":\"early_warning\",\"due_at\":\"2026-11-24T08:00:00Z\",\"sent_at\":null,"
              "\"status\":\"pending\",\"basis\":\"aware_at\"},"
              "{\"stage\":\"notification\",\"due_at\":\"2026-11-26T08:00:00Z\",\"sent_at\":null,"
              "\"status\":\"pending\",\"basis\":\"aware_at\"},"
              "{\"stage\":\"intermediate\",\"due_at\":null,\"sent_at\":null,"
              "\"status\":\"not_applicable\",\"basis\":null},"
              "{\"stage\":\"final\",\"due_at\":\"2026-12-26T08:00:00Z\",\"sent_at\":null,"
              "\"status\":\"pending\",\"basis\":\"notification_due\"},"
              "{\"stage\":\"progress\",\"due_at\":\"2026-12-26T08:00:00Z\",\"sent_at\":null,"
              "\"status\":\"pending\",\"basis\":\"ongoing_at_final_deadline\"}]");
    free(text);
    json_decref(j);
}

static void
test_snapshot_and_html(void **state)
{
    (void)state;
    json_error_t err;
    json_t *inc = json_loads("{\"id\": 7, \"kind\": \"cyber\", \"title\": \"<script>x</script>\","
                             " \"org\": {\"id\": 2, \"name\": \"A & B's\"},"
                             " \"ransom_paid\": true, \"latitude\": 50.1,"
                             " \"care_services_disrupted\": [\"imaging\", \"laboratory\"],"
                             " \"indicators\": [{\"type\": \"ip\", \"value\": \"192.0.2.1\"}]}",
                             0, &err);
    json_t *answers = json_loads("{\"suspected_malicious\": true, \"cross_border_possible\": "
                                 "false, \"details\": \"line1\\nline2 \\\"q\\\"\","
                                 " \"not_a_field\": 1}",
                                 0, &err);
    assert_non_null(inc);
    assert_non_null(answers);
    json_t *snap = nis2_snapshot(NIS2_EARLY_WARNING, T("2026-11-24T08:00:00Z"), NIS2_BASIS_AWARE,
                                 inc, answers);
    assert_non_null(snap);
    json_t *si = json_object_get(snap, "incident");
    /* restricted fields never enter a snapshot; indicators only from the notification on */
    assert_null(json_object_get(si, "ransom_paid"));
    assert_null(json_object_get(si, "latitude"));
    assert_null(json_object_get(si, "indicators"));
    assert_null(json_object_get(json_object_get(snap, "report"), "not_a_field"));
    assert_string_equal(json_string_value(json_object_get(snap, "due_at")), "2026-11-24T08:00:00Z");
    assert_string_equal(json_string_value(json_object_get(snap, "basis")), "aware_at");
    json_t *snap2 = nis2_snapshot(NIS2_NOTIFICATION, 0, NIS2_BASIS_NONE, inc, answers);
    assert_non_null(json_object_get(json_object_get(snap2, "incident"), "indicators"));

    json_t *doc = json_object();
    json_object_set_new(doc, "stage", json_string("early_warning"));
    json_object_set_new(doc, "tlp", json_string("AMBER+STRICT"));
    json_object_set_new(doc, "draft", json_false());
    json_object_set_new(doc, "content", snap);
    struct buf out;
    buf_init(&out, 1 << 20);
    assert_int_equal(nis2_export_html(doc, &out), 0);
    const char *html = (const char *)out.ptr;
    assert_non_null(strstr(html, "<!DOCTYPE html>"));
    assert_non_null(strstr(html, "TLP:AMBER+STRICT"));
    assert_non_null(strstr(html, "tlp-amber"));
    assert_non_null(strstr(html, "Article 23(4)(a)"));
    assert_non_null(strstr(html, "&lt;script&gt;x&lt;/script&gt;"));
    assert_non_null(strstr(html, "A &amp; B&#39;s"));
    assert_non_null(strstr(html, "line1\nline2 &quot;q&quot;"));
    assert_null(strstr(html, "<script"));
    assert_non_null(strstr(html, "@media print"));
    /* an unknown TLP prints as RED, the safe side */
    json_object_set_new(doc, "tlp", json_string("PURPLE"));
    buf_reset(&out);
    assert_int_equal(nis2_export_html(doc, &out), 0);
    assert_non_null(strstr((const char *)out.ptr, "TLP:RED"));
    assert_null(strstr((const char *)out.ptr, "PURPLE"));
    /* any JSON at all is printable */
    json_t *junk = json_loads("[1, {\"a\": [[[]]]}]", 0, &err);
    buf_reset(&out);
    assert_int_equal(nis2_export_html(junk, &out), 0);
    json_decref(junk);
    /* the cap holds */
    struct buf small;
    buf_init(&small, 100);
    assert_int_equal(nis2_export_html(doc, &small), IASO_E_LIMIT);
    buf_release(&small);

    buf_reset(&out);
    assert_int_equal(nis2_html_escape(&out, "a\0b\x01<", 5), 0);
    assert_string_equal((const char *)out.ptr, "ab&lt;");
    buf_release(&out);
    json_decref(doc);
    json_decref(snap2);
    json_decref(answers);
    json_decref(inc);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_month_add),      cmocka_unit_test(test_first_deadlines),
        cmocka_unit_test(test_final_basis),    cmocka_unit_test(test_progress),
        cmocka_unit_test(test_requests),       cmocka_unit_test(test_not_significant),
        cmocka_unit_test(test_names_and_json), cmocka_unit_test(test_snapshot_and_html),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
