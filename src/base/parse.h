// SPDX-License-Identifier: Apache-2.0
// Bounded number parsing: the whole input must be a number in [min, max], nothing trailing.
#ifndef IASO_BASE_PARSE_H
#define IASO_BASE_PARSE_H

#include <stddef.h>
#include <stdint.h>

/* Decimal integer with optional sign. 0, IASO_E_FORMAT or IASO_E_RANGE. */
int parse_i64(const char *s, size_t len, int64_t min, int64_t max, int64_t *out);
/* A size with an optional suffix: k/K/KiB (1024), m/M/MiB, g/G/GiB; plain number = bytes. */
int parse_size(const char *s, size_t len, int64_t min, int64_t max, int64_t *out);
/* A duration: "250ms", "30s", "5m", "2h", "1d"; a plain number is seconds. Result in ms. */
int parse_duration_ms(const char *s, size_t len, int64_t min, int64_t max, int64_t *out);

#endif
