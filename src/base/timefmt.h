// SPDX-License-Identifier: Apache-2.0
// Timestamps as EVE writes them: "2026-05-01T12:00:00.123456+0000", always UTC.
#ifndef IASO_BASE_TIMEFMT_H
#define IASO_BASE_TIMEFMT_H

#include <stddef.h>
#include <stdint.h>

#define TIMEFMT_EVE_LEN 31 /* without the NUL */

/* Writes the timestamp and a NUL into out (at least 32 bytes); returns its length. */
size_t timefmt_eve(uint64_t ts_us, char *out, size_t out_len);

#endif
