// SPDX-License-Identifier: Apache-2.0
// Timestamps as EVE writes them, "2026-05-01T12:00:00.123456+0000", and as files and evidence
// write them to the second, "2026-05-01T12:00:00Z"; always UTC. One calendar for the project.
#ifndef IASO_BASE_TIMEFMT_H
#define IASO_BASE_TIMEFMT_H

#include <stddef.h>
#include <stdint.h>

#define TIMEFMT_EVE_LEN 31 /* without the NUL */

#define TIMEFMT_UTC_LEN 20 /* "2026-05-01T12:00:00Z", without the NUL */

/* Writes the timestamp and a NUL into out (at least 32 bytes); returns its length. */
size_t timefmt_eve(uint64_t ts_us, char *out, size_t out_len);

/* Writes "YYYY-MM-DDTHH:MM:SSZ" and a NUL into out (at least 21 bytes); times past the year 9999
 * are written as 9999-12-31T23:59:59Z. Returns its length (0 if out is too small). */
size_t timefmt_utc(uint64_t ts_us, char *out, size_t out_len);

/* Days since 1970-01-01 of a proleptic Gregorian date (month 1..12, day 1..31), for parsing. */
int64_t timefmt_days_from_civil(int64_t y, unsigned m, unsigned d);

#endif
