// SPDX-License-Identifier: Apache-2.0
// The sensor's detection, in one place: the shared indicators (ioc.h), the baseline of who
// talks to whom (baseline.h) and the behaviour detectors (behave.h), fed by the pipeline's flows
// and protocol events, raising alerts through each worker's gate (alert.h).
//
// Threads. struct detect is shared by all workers; struct detect_worker is one worker's view.
// The indicator store is read-only once built. A watcher thread checks the files once a second
// and on SIGHUP; when one changed it builds a new store while packets keep flowing, then the
// capture thread swaps it in: each worker picks up the new store at its next flow or event (or
// tick), and the old store is freed once every worker has moved on. Nothing is dropped and no lock
// is taken on the packet path; a reload that fails keeps the store in use and says why.
#ifndef IASO_DETECT_DETECT_H
#define IASO_DETECT_DETECT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/error.h"
#include "detect/alert.h"
#include "detect/ioc.h"
#include "proto/proto.h"
#include "wire/flow.h"

struct detect_config {
    const char *const *indicators; /* files or MISP feed directories */
    size_t n_indicators;
    const char *home_net;      /* NULL: the default private ranges */
    const char *baseline_path; /* NULL: no baseline */
    bool learn;
    uint64_t learn_us;             /* automatic learning period when no baseline exists yet */
    const char *const *thresholds; /* "name=value" */
    size_t n_thresholds;
    struct alert_gate_config gate;
    int n_workers;
};

/* Counters of detection, for --stats. */
struct detect_stats {
    struct ioc_store_stats ioc;
    uint64_t n_indicator_files;
    uint64_t n_reloads, n_reload_failures;
    double last_load_s;        /* seconds the last (re)load took */
    struct alert_stats alerts; /* summed over workers */
    uint64_t n_baseline_pairs, n_baseline_pending;
    bool baseline_learning;
    uint64_t n_behave_sources, n_behave_evicted;
};

struct detect;

/* Loads the indicators (reporting what each file gave on standard error when `report` is set),
 * opens the baseline, sets up the detectors. A negative code with a sentence in eb on failure:
 * IASO_E_USAGE for a bad threshold or network list, others for files that cannot be used. */
int detect_new(const struct detect_config *cfg, bool report, struct detect **out,
               struct errbuf *eb);
/* Saves the baseline (if any) and frees everything; workers must be gone. */
int detect_free(struct detect *d, struct errbuf *eb);

struct detect_worker {
    struct detect *d;
    struct alert_gate gate;
    const struct ioc_store *ioc; /* the store this worker matches against now */
    unsigned gen;                /* the store generation it has */
};

void detect_worker_init(struct detect_worker *dw, struct detect *d, alert_out_fn out, void *user);
/* Picks up a new indicator store if one was swapped in; called at every tick as well. */
void detect_worker_sync(struct detect_worker *dw);

/* The first packet of a flow. */
void detect_flow_new(struct detect_worker *dw, const struct flow *f, uint64_t ts_us);
/* A protocol event on a flow. */
void detect_event(struct detect_worker *dw, const struct flow *f, const struct proto_event *ev);
/* A flow ended; app is the protocol found on it. */
void detect_flow_end(struct detect_worker *dw, const struct flow *f, enum proto_id app);

/* The file digests (PROTO_HASH_* bits) worth computing for a store: those it has indicators of. */
uint8_t detect_file_hash_mask(const struct ioc_store *s);

/* Asks for the indicators to be reloaded (async-signal-safe). */
void detect_request_reload(struct detect *d);
/* Called by the capture thread for every packet (it costs a load and a branch): swaps in a store
 * the watcher thread finished building, and frees the one no worker uses any more. */
void detect_poll(struct detect *d);

/* Statistics; alert counters are summed from the workers given. */
void detect_stats(struct detect *d, const struct detect_worker *const *workers, int n,
                  struct detect_stats *st);

/* Writes the evidence of an indicator alert (for the EVE writer's tests). */
struct detect_ioc_evidence {
    const struct ioc_store *store;
    struct ioc_hit hit;
    const char *field; /* where the value was seen: "dest_ip", "dns.rrname", "tls.sni", ... */
};
void detect_ioc_evidence(struct jsonw *w, const void *arg);

#endif
