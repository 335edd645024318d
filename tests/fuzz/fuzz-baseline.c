// SPDX-License-Identifier: Apache-2.0
// libFuzzer target for the baseline file (detect/baseline.c) and the command-line pair words.
//
// Input: a baseline file, parsed with tombstones kept. When it parses, its canonical text must
// parse again and give the same bytes (the save-load-save promise), with no line longer than
// BASELINE_LINE_MAX; breaking a promise traps. An input that does not start with "format" is
// also read as words, one a line (KIND FIELDS..., as `iaso sensor baseline accept` takes them),
// added to an empty baseline, removed, added again, and checked the same way.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "detect/baseline.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct baseline_config config = {
    .auto_learn_us = 3600000000ull, .pairs_max = 1000, .keep_removed = true};

/* Canonical text of b, which must read back to the same text. */
static void
check_round_trip(struct baseline *b)
{
    struct buf t1, t2;
    buf_init(&t1, 0);
    buf_init(&t2, 0);
    if (baseline_format(b, &t1, 0) != 0)
        __builtin_trap();
    size_t line = 0;
    for (size_t i = 0; i < t1.len; i++) {
        if (t1.ptr[i] == '\n') {
            if (i - line > BASELINE_LINE_MAX)
                __builtin_trap();
            line = i + 1;
        }
    }
    struct errbuf eb = {""};
    struct baseline *again =
        baseline_parse("canonical", (const char *)t1.ptr, t1.len, &config, &eb);
    if (!again)
        __builtin_trap();
    if (baseline_format(again, &t2, 0) != 0 || t1.len != t2.len ||
        memcmp(t1.ptr, t2.ptr, t1.len) != 0)
        __builtin_trap();
    struct baseline_stats s1, s2;
    baseline_stats(b, &s1);
    baseline_stats(again, &s2);
    if (s1.n_pairs != s2.n_pairs || s1.n_pending != s2.n_pending || s1.learn != s2.learn)
        __builtin_trap();
    baseline_free(again);
    buf_release(&t1);
    buf_release(&t2);
}

static void
words(const uint8_t *data, size_t size)
{
    char *copy = malloc(size + 1);
    if (!copy)
        return;
    memcpy(copy, data, size);
    copy[size] = '\0';
    const char *w[8];
    size_t n = 0;
    for (char *p = copy; n < 8;) {
        w[n++] = p;
        char *nl = memchr(p, '\n', (size_t)(copy + size - p));
        if (!nl)
            break;
        *nl = '\0';
        p = nl + 1;
    }
    struct baseline *b = baseline_open(NULL, &config, NULL);
    if (b) {
        struct errbuf eb = {""};
        int rc = baseline_set(b, w, n, BASELINE_ACCEPTED, "fuzz\tnote", &eb);
        if (rc == 1) {
            if (baseline_remove(b, w, n, &eb) != 0)
                __builtin_trap();
            if (baseline_set(b, w, n, BASELINE_PENDING, NULL, &eb) != 0)
                __builtin_trap();
        }
        check_round_trip(b);
        baseline_free(b);
    }
    free(copy);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct errbuf eb = {""};
    struct baseline *b = baseline_parse("fuzz", (const char *)data, size, &config, &eb);
    if (b) {
        check_round_trip(b);
        baseline_free(b);
    } else if (eb.msg[0] == '\0') {
        __builtin_trap(); /* every refusal says why */
    }
    if (size < 6 || memcmp(data, "format", 6) != 0)
        words(data, size);
    return 0;
}
