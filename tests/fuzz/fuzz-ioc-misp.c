// SPDX-License-Identifier: Apache-2.0
// libFuzzer target for the MISP indicator loader: the input is the export (JSON): events, objects
// and attribute collections. The report must add up (records split into loaded, skipped,
// unsupported and invalid; reasons summing to their totals; values by type summing to n_loaded,
// each of them in the store) and a failure must be one of the codes the loader promises; breaking
// that traps.
#include <stdint.h>
#include <string.h>

#include "detect/ioc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The load time given to the loader, for n_expired: 2026-01-01. */
#define NOW_US 1767225600000000

/* What every load must promise; breaking it traps. */
static void
check(const struct ioc_store *s, const struct ioc_load_report *r, int rc)
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

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ioc_store *s = ioc_store_new();
    if (!s)
        return 0;
    struct ioc_load_report r;
    struct errbuf eb;
    int rc = ioc_load_misp(s, (const char *)data, size, "fuzz", NOW_US, &r, &eb);
    check(s, &r, rc);
    ioc_store_free(s);
    return 0;
}
