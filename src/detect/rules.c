// SPDX-License-Identifier: Apache-2.0
// The rule table; see rules.h.
#include "detect/rules.h"

const struct rule rules[RULE_COUNT] = {
#define IASO_RULE_ROW_(name, sid, sev, cat, sig, attack) {#name, sid, sev, cat, sig, attack},
    IASO_RULES(IASO_RULE_ROW_)
#undef IASO_RULE_ROW_
};
