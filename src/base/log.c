// SPDX-License-Identifier: Apache-2.0
// Diagnostics on stderr; see log.h.
#include "base/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/error.h"

static enum log_level current_level = LOG_LEVEL_WARN;

static const char *const level_names[] = {"error", "warn", "info", "debug"};

void
log_set_level(enum log_level level)
{
    current_level = level;
}

enum log_level
log_get_level(void)
{
    return current_level;
}

int
log_level_parse(const char *s, enum log_level *out)
{
    for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
        if (strcmp(s, level_names[i]) == 0) {
            *out = (enum log_level)i;
            return 0;
        }
    }
    return IASO_E_INVAL;
}

void
log_msg(enum log_level level, const char *fmt, ...)
{
    if (level > current_level)
        return;
    /* One fprintf per message so lines from several threads do not interleave. */
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    fprintf(stderr, "iaso: %s: %s\n", level_names[level], line);
}

void
ratelimit_init(struct ratelimit *r, uint64_t window_ms, uint32_t burst)
{
    r->window_ms = window_ms;
    r->burst = burst;
    r->window_start_ms = 0;
    r->n_in_window = 0;
    r->n_suppressed = 0;
}

bool
ratelimit_allow(struct ratelimit *r, uint64_t now_ms)
{
    if (now_ms - r->window_start_ms >= r->window_ms || now_ms < r->window_start_ms) {
        r->window_start_ms = now_ms;
        r->n_in_window = 0;
    }
    if (r->n_in_window < r->burst) {
        r->n_in_window++;
        return true;
    }
    r->n_suppressed++;
    return false;
}
