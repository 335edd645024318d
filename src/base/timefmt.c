// SPDX-License-Identifier: Apache-2.0
// EVE timestamps; see timefmt.h.
#include "base/timefmt.h"

#include <string.h>

/* Writes v as exactly `width` decimal digits. */
static char *
digits(char *p, unsigned v, int width)
{
    for (int i = width - 1; i >= 0; i--) {
        p[i] = (char)('0' + v % 10);
        v /= 10;
    }
    return p + width;
}

/*
 * Gregorian date of a day count since 1970-01-01, by counting 400-year eras (146097 days each)
 * from 0000-03-01, so that the leap day falls at the end of each counted year. Formatting goes
 * per event on the output path, and this is several times cheaper than gmtime_r + snprintf.
 */
static void
civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468; /* days from 0000-03-01 to 1970-01-01 */
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);                          /* [0, 146096] */
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* [0, 399] */
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);               /* [0, 365] */
    unsigned mp = (5 * doy + 2) / 153;                                    /* March = 0 */
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

size_t
timefmt_eve(uint64_t ts_us, char *out, size_t out_len)
{
    if (out_len < TIMEFMT_EVE_LEN + 1) {
        if (out_len)
            out[0] = 0;
        return 0;
    }
    uint64_t secs = ts_us / 1000000;
    unsigned sod = (unsigned)(secs % 86400);
    int64_t y;
    unsigned m, d;
    civil_from_days((int64_t)(secs / 86400), &y, &m, &d);
    if (y > 9999) {
        out[0] = 0;
        return 0;
    }
    char *p = digits(out, (unsigned)y, 4);
    *p++ = '-';
    p = digits(p, m, 2);
    *p++ = '-';
    p = digits(p, d, 2);
    *p++ = 'T';
    p = digits(p, sod / 3600, 2);
    *p++ = ':';
    p = digits(p, sod / 60 % 60, 2);
    *p++ = ':';
    p = digits(p, sod % 60, 2);
    *p++ = '.';
    p = digits(p, (unsigned)(ts_us % 1000000), 6);
    memcpy(p, "+0000", 6);
    return TIMEFMT_EVE_LEN;
}

size_t
timefmt_utc(uint64_t ts_us, char *out, size_t out_len)
{
    if (out_len < TIMEFMT_UTC_LEN + 1) {
        if (out_len)
            out[0] = 0;
        return 0;
    }
    uint64_t secs = ts_us / 1000000;
    if (secs > 253402300799ull) /* 9999-12-31T23:59:59Z */
        secs = 253402300799ull;
    unsigned sod = (unsigned)(secs % 86400);
    int64_t y;
    unsigned m, d;
    civil_from_days((int64_t)(secs / 86400), &y, &m, &d);
    char *p = digits(out, (unsigned)y, 4);
    *p++ = '-';
    p = digits(p, m, 2);
    *p++ = '-';
    p = digits(p, d, 2);
    *p++ = 'T';
    p = digits(p, sod / 3600, 2);
    *p++ = ':';
    p = digits(p, sod / 60 % 60, 2);
    *p++ = ':';
    p = digits(p, sod % 60, 2);
    *p++ = 'Z';
    *p = '\0';
    return TIMEFMT_UTC_LEN;
}

/* The inverse of civil_from_days, with the same eras from 0000-03-01. */
int64_t
timefmt_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}
