// SPDX-License-Identifier: Apache-2.0
// What every indicator load must promise, shared by the loaders' fuzz targets: the report adds
// up (records split into loaded, skipped, unsupported and invalid; reasons summing to their
// totals; values by type summing to n_loaded, each of them in the store) and a failure is one of
// the codes the loader promises. Breaking it traps.
#ifndef IASO_TESTS_FUZZ_IOC_CHECK_H
#define IASO_TESTS_FUZZ_IOC_CHECK_H

#include <stdint.h>
#include <string.h>

#include "detect/ioc.h"

/* The load time given to the loader, for n_expired: 2026-01-01. */
#define NOW_US 1767225600000000

/* What every load must promise; breaking it traps. */
static inline void
ioc_check(const struct ioc_store *s, const struct ioc_load_report *r, int rc)
{
    if (rc < 0 && rc != IASO_E_FORMAT && rc != IASO_E_NOMEM && rc != IASO_E_LIMIT)
        __builtin_trap();
    if (rc < 0)
        return;
    uint64_t not_loaded = r->n_skipped + r->n_unsupported + r->n_invalid;
    if (not_loaded > r->n_records || r->n_expired > r->n_loaded ||
        r->n_reasons > IOC_LOAD_REASONS_MAX || r->n_problems > IOC_LOAD_PROBLEMS_MAX)
        __builtin_trap();
    /* Every loaded record carried at least one value, added or already there. */
    if (r->n_loaded + r->n_duplicate < r->n_records - not_loaded)
        __builtin_trap();
    uint64_t by_reason = 0, by_type = 0;
    for (uint32_t i = 0; i < r->n_reasons; i++) {
        if (r->reasons[i].n == 0 ||
            memchr(r->reasons[i].reason, 0, sizeof(r->reasons[i].reason)) == NULL)
            __builtin_trap();
        by_reason += r->reasons[i].n;
    }
    if (r->n_reasons < IOC_LOAD_REASONS_MAX && by_reason != r->n_unsupported + r->n_invalid)
        __builtin_trap();
    for (int t = 0; t < IOC_TYPE_COUNT; t++)
        by_type += r->n_type[t];
    struct ioc_store_stats st;
    ioc_store_stats(s, &st);
    if (by_type != r->n_loaded || st.n_indicators != r->n_loaded)
        __builtin_trap();
    for (uint32_t i = 0; i < r->n_problems; i++)
        if (memchr(r->problems[i], 0, sizeof(r->problems[i])) == NULL)
            __builtin_trap();
}

#endif
