// SPDX-License-Identifier: Apache-2.0
// Diagnostics for operators, on stderr: levels and a rate limiter. This is not the detection
// output (EVE) nor the counters; the packet path logs only through a rate limiter.
#ifndef IASO_BASE_LOG_H
#define IASO_BASE_LOG_H

#include <stdbool.h>
#include <stdint.h>

enum log_level { LOG_LEVEL_ERROR, LOG_LEVEL_WARN, LOG_LEVEL_INFO, LOG_LEVEL_DEBUG };

void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* Parses "error", "warn", "info" or "debug". 0 or IASO_E_INVAL. */
int log_level_parse(const char *s, enum log_level *out);

void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__)

/* Lets `burst` messages through per `window_ms`, counts the rest. Not thread-safe: one each. */
struct ratelimit {
    uint64_t window_ms;
    uint32_t burst;
    uint64_t window_start_ms;
    uint32_t n_in_window;
    uint64_t n_suppressed;
};

void ratelimit_init(struct ratelimit *r, uint64_t window_ms, uint32_t burst);
bool ratelimit_allow(struct ratelimit *r, uint64_t now_ms);

#endif
