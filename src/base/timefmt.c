// SPDX-License-Identifier: Apache-2.0
// EVE timestamps; see timefmt.h.
#include "base/timefmt.h"

#include <stdio.h>
#include <time.h>

size_t
timefmt_eve(uint64_t ts_us, char *out, size_t out_len)
{
    time_t secs = (time_t)(ts_us / 1000000);
    struct tm tm;
    if (!gmtime_r(&secs, &tm) || out_len < TIMEFMT_EVE_LEN + 1) {
        if (out_len)
            out[0] = 0;
        return 0;
    }
    int n = snprintf(out, out_len, "%04d-%02d-%02dT%02d:%02d:%02d.%06u+0000", tm.tm_year + 1900,
                     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                     (unsigned)(ts_us % 1000000));
    return n < 0 ? 0 : (size_t)n;
}
