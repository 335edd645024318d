// SPDX-License-Identifier: Apache-2.0
// The sensor's packet pipeline: capture -> decode -> defragment -> flow -> TCP reassembly ->
// (protocol parsers, later) -> EVE output, on one thread or on a capture thread feeding worker
// threads.
//
// With one worker everything runs on the calling thread. With N workers the calling thread
// reads, decodes and defragments, then hands each packet to the worker its flow hashes to
// (symmetric: both directions meet in one worker): worker 0 is the calling thread itself, the
// others are threads fed through rings. So N workers keep N cores busy, not N + 1; worker 0
// takes a smaller share of the flows since it also does the reading. Flow timeouts
// run on packet time, driven by the capture thread for every worker at once, so the output is the
// same whatever the number of workers, apart from the order of the lines.
#ifndef IASO_SENSOR_SENSOR_H
#define IASO_SENSOR_SENSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "base/opt.h"
#include "detect/detect.h"
#include "sensor/app.h"
#include "wire/decode.h"
#include "wire/flow.h"
#include "wire/reasm.h"

/* The sensor's configuration. Every field is declared in sensor_options (config.c). */
struct sensor_config {
    const char *config_path;
    struct opt_list read;
    const char *interface;
    const char *eve_path;
    bool stats;
    bool progress;
    bool no_progress;
    int64_t workers;
    int64_t flow_max;
    int64_t flow_memcap;
    int64_t timeout_ms[FLOW_TO_COUNT];
    int64_t stream_dir_max;
    int64_t stream_memcap;
    int64_t defrag_memcap;
    int64_t defrag_max;
    int64_t defrag_timeout_ms;
    int64_t snaplen;
    int64_t buffer_size;
    int64_t queue_size;
    bool no_parsers;
    int64_t app_memcap;
    const char *inventory_path;
    int64_t inventory_max;
    struct opt_list indicators;
    const char *file_hashes;
    const char *home_net;
    const char *baseline_path;
    bool learn;
    int64_t learn_period_ms;
    struct opt_list thresholds;
    bool list_thresholds;
    int64_t alert_burst;
    int64_t alert_window_ms;
    const char *site_key;
    bool phi_clear;
    const char *log_level;
    bool help;
    bool help_markdown;
};

extern const struct opt_def sensor_options[];
extern const size_t sensor_n_options;

/* Counters of a run, summed over workers. */
struct sensor_stats {
    uint64_t n_packets;
    uint64_t n_bytes;   /* wire bytes */
    uint64_t n_no_ip;   /* packets without an IP layer (ARP, LLDP, ...) */
    uint64_t n_no_flow; /* IP packets not put in a flow (malformed transport header) */
    struct decode_stats decode;
    uint64_t n_decode_events;
    struct flow_stats flow; /* n_active_max summed over workers */
    size_t flow_bytes_each;
    struct reasm_stats reasm; /* held_len_max summed over workers */
    struct app_stats app;
    uint64_t app_mem_max;     /* most parser memory held, summed over workers */
    uint64_t app_mem_refused; /* parser allocations refused by --app-memcap */
    uint64_t defrag_mem_len;
    uint64_t n_datagrams_reassembled;
    uint64_t n_queue_waits; /* times the capture thread waited for a full worker queue */
    uint64_t n_eve_bytes;
    uint64_t n_inventory_hosts, n_inventory_dropped;
    struct detect_stats detect;
    uint64_t first_ts_us, last_ts_us;
    double wall_s;
    double setup_s; /* of wall_s: before the first packet (opening, loading indicators) */
    /* live capture */
    bool is_live;
    uint64_t n_kernel_received, n_kernel_dropped, n_if_dropped;
    /* per worker packets, for the benchmark */
    uint64_t n_worker_packets[64];
    int n_workers;
};

struct sensor_progress {
    uint64_t n_packets;
    uint64_t n_bytes;
    uint64_t file_bytes_read;
    uint64_t file_bytes_total;
    double wall_s;
};

typedef void (*sensor_progress_fn)(void *user, const struct sensor_progress *p);

/*
 * Runs the sensor until the input ends or sensor_stop() is called. Returns 0, or a negative code
 * with a sentence in eb. A capture file that ends early is reported through eb with
 * IASO_E_TRUNC after everything before the cut (and every other file) was processed.
 */
int sensor_run(const struct sensor_config *cfg, struct sensor_stats *stats,
               sensor_progress_fn progress, void *progress_user, struct errbuf *eb);

/* Asks a running sensor to stop; async-signal-safe. */
void sensor_stop(void);

/* Asks a running sensor to reload its indicators; async-signal-safe. */
void sensor_reload(void);

#endif
