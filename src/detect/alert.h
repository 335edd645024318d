// SPDX-License-Identifier: Apache-2.0
// Alerts as detectors raise them, and the gate they pass before they are written: one alert per
// flow, rule and subject (dedup), and at most a burst per source address and window (rate
// limit), so an attacker cannot flood the log. What passes goes to the output callback (the
// sensor writes it as an EVE "alert" event beside the protocol events).
//
// Thread safety: one struct alert_gate per worker. The rate limit is per worker: with N workers
// a source can get N times its burst through, which still bounds it.
#ifndef IASO_DETECT_ALERT_H
#define IASO_DETECT_ALERT_H

#include <stdbool.h>
#include <stdint.h>

#include "base/jsonw.h"
#include "detect/rules.h"
#include "wire/flow.h"

/* Writes the alert's evidence as members of the "evidence" object: counts, window, the values
 * that crossed the threshold. Called only for alerts that pass the gate. */
typedef void (*alert_evidence_fn)(struct jsonw *w, const void *arg);

struct alert {
    enum rule_id rule;
    const struct flow *flow; /* the flow it happened on */
    int src_side;            /* FLOW_TOSERVER: the flow's client is the alert's source (the
                                attacker or the one doing the thing), FLOW_TOCLIENT: the server */
    uint64_t ts_us;
    uint64_t subject;           /* what tells apart alerts of one rule on one flow (a hash of the
                                   indicator, the query name, ...); 0: one alert per flow and rule */
    const char *app_proto;      /* NULL: none */
    alert_evidence_fn evidence; /* NULL: no evidence */
    const void *evidence_arg;
    bool per_source; /* deduplicate per source address, rule and subject for the rate window,
                        rather than per flow: a host asking for a listed name in a hundred DNS
                        flows raises one alert a window, not a hundred */
};

typedef void (*alert_out_fn)(void *user, const struct alert *a);

struct alert_gate_config {
    uint32_t burst;     /* alerts per source within one window; 0: no rate limit */
    uint64_t window_us; /* the rate limit's window */
};

#define ALERT_SEEN_SLOTS 4096 /* dedup memory: the last alerts, direct-mapped */
#define ALERT_SOURCE_SLOTS 1024

struct alert_stats {
    uint64_t n_raised[RULE_COUNT]; /* written */
    uint64_t n_dedup;              /* dropped as a repeat on the same flow */
    uint64_t n_ratelimited;        /* dropped by the per-source rate limit */
};

struct alert_seen {
    uint64_t h;  /* hash of (flow id or source, rule, subject); 0 empty */
    uint64_t ts; /* when it was written, for the per-source ones */
};

struct alert_source {
    uint8_t addr[16];
    uint8_t ip_version;
    uint32_t n; /* alerts in the window */
    uint64_t window_start_us;
};

struct alert_gate {
    struct alert_gate_config cfg;
    alert_out_fn out;
    void *user;
    struct alert_seen seen[ALERT_SEEN_SLOTS];
    struct alert_source sources[ALERT_SOURCE_SLOTS];
    struct alert_stats stats;
};

void alert_gate_init(struct alert_gate *g, const struct alert_gate_config *cfg, alert_out_fn out,
                     void *user);

/* Passes the alert to the output unless it repeats one already written for the same flow (or,
 * with per_source, the same source within the window), rule and subject, or its source is over
 * its rate. Returns true when it was written. */
bool alert_raise(struct alert_gate *g, const struct alert *a);

/* The ATT&CK ids of a rule, one at a time: call with *pos = 0 until it returns false. */
bool rule_attack_next(const struct rule *r, const char **id, int *len, int *pos);

#endif
