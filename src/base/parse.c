// SPDX-License-Identifier: Apache-2.0
// Bounded number parsing; see parse.h.
#include "base/parse.h"

#include <stdbool.h>
#include <string.h>

#include "base/error.h"

/* Parses the leading digits of s[0..len); returns how many bytes were used, or a negative code. */
static int
parse_digits(const char *s, size_t len, int64_t *out, size_t *used)
{
    size_t i = 0;
    bool neg = false;
    if (i < len && (s[i] == '-' || s[i] == '+')) {
        neg = s[i] == '-';
        i++;
    }
    size_t start = i;
    uint64_t v = 0;
    for (; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return IASO_E_RANGE;
        v = v * 10 + d;
    }
    if (i == start)
        return IASO_E_FORMAT;
    if (!neg && v > (uint64_t)INT64_MAX)
        return IASO_E_RANGE;
    if (neg && v > (uint64_t)INT64_MAX + 1)
        return IASO_E_RANGE;
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    *used = i;
    return 0;
}

static int
scaled(int64_t v, int64_t mult, int64_t min, int64_t max, int64_t *out)
{
    if (v != 0 && (v > INT64_MAX / mult || v < INT64_MIN / mult))
        return IASO_E_RANGE;
    v *= mult;
    if (v < min || v > max)
        return IASO_E_RANGE;
    *out = v;
    return 0;
}

int
parse_i64(const char *s, size_t len, int64_t min, int64_t max, int64_t *out)
{
    int64_t v;
    size_t used;
    int rc = parse_digits(s, len, &v, &used);
    if (rc < 0)
        return rc;
    if (used != len)
        return IASO_E_FORMAT;
    return scaled(v, 1, min, max, out);
}

struct suffix {
    const char *name;
    int64_t mult;
};

static int
parse_with_suffix(const char *s, size_t len, const struct suffix *tab, int64_t plain, int64_t min,
                  int64_t max, int64_t *out)
{
    int64_t v;
    size_t used;
    int rc = parse_digits(s, len, &v, &used);
    if (rc < 0)
        return rc;
    if (used == len)
        return scaled(v, plain, min, max, out);
    for (; tab->name; tab++) {
        size_t n = strlen(tab->name);
        if (len - used == n && memcmp(s + used, tab->name, n) == 0)
            return scaled(v, tab->mult, min, max, out);
    }
    return IASO_E_FORMAT;
}

int
parse_size(const char *s, size_t len, int64_t min, int64_t max, int64_t *out)
{
    static const struct suffix tab[] = {
        {"k", 1024},        {"K", 1024},       {"KiB", 1024},   {"KB", 1024},     {"m", 1 << 20},
        {"M", 1 << 20},     {"MiB", 1 << 20},  {"MB", 1 << 20}, {"g", 1LL << 30}, {"G", 1LL << 30},
        {"GiB", 1LL << 30}, {"GB", 1LL << 30}, {"B", 1},        {NULL, 0},
    };
    return parse_with_suffix(s, len, tab, 1, min, max, out);
}

int
parse_duration_ms(const char *s, size_t len, int64_t min, int64_t max, int64_t *out)
{
    static const struct suffix tab[] = {
        {"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}, {"d", 86400000}, {NULL, 0},
    };
    return parse_with_suffix(s, len, tab, 1000, min, max, out);
}
