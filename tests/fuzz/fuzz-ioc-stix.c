// SPDX-License-Identifier: Apache-2.0
// libFuzzer target for the STIX 2.1 indicator loader: the input is the bundle (JSON), which reaches
// the pattern parser with whatever patterns it holds. The report must add up (records split into
// loaded, skipped, unsupported and invalid; reasons summing to their totals; values by type summing
// to n_loaded, each of them in the store) and a failure must be one of the codes the loader
// promises; breaking that traps.
#include <stdint.h>
#include <string.h>

#include "ioc-check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ioc_store *s = ioc_store_new();
    if (!s)
        return 0;
    struct ioc_load_report r;
    struct errbuf eb;
    int rc = ioc_load_stix(s, (const char *)data, size, "fuzz", NOW_US, &r, &eb);
    ioc_check(s, &r, rc);
    ioc_store_free(s);
    return 0;
}
