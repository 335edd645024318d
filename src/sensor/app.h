// SPDX-License-Identifier: Apache-2.0
// The application layer of the sensor: finds which protocol a flow speaks, by its grammar
// (each parser's probe) rather than by its port alone, and feeds the chosen parser the flow's
// ordered stream bytes (TCP) or datagrams (UDP). Parser events go to the caller's callback with
// the flow they belong to.
//
// Per flow it keeps a small record: the parser chosen (or that none fits), up to 64 bytes per
// direction while the probes cannot tell yet, and the parser's state. All of it, and everything
// the parsers allocate (proto_malloc), is counted against one memory cap: a flow whose record does
// not fit is left without application parsing, a parser refused memory gives up on its flow, and
// both are counted.
//
// Thread safety: one struct app_layer per worker.
#ifndef IASO_SENSOR_APP_H
#define IASO_SENSOR_APP_H

#include <stdint.h>

#include "proto/proto.h"
#include "wire/flow.h"

#define APP_PROBE_MAX 64 /* bytes a probe may ask for before the flow is declared unknown */

struct app_proto_stats {
    uint64_t n_flows;   /* flows found speaking it */
    uint64_t n_events;  /* events its parser emitted */
    uint64_t n_gave_up; /* flows its parser gave up on (malformed, limits, unsupported gap) */
};

struct app_stats {
    struct app_proto_stats proto[PROTO_COUNT];
    uint64_t n_unknown; /* flows with payload that no parser claimed */
    uint64_t n_memcap;  /* flows left without parsing because of the memory cap */
};

typedef void (*app_emit_fn)(void *user, struct flow *f, const struct proto_event *ev);

struct app_layer {
    struct proto_ctx ctx; /* ctx.user is this struct */
    app_emit_fn emit;
    void *user;
    struct flow *cur; /* the flow being parsed, for the emit callback */
    uint64_t memcap;
    struct proto_mem mem; /* parser records and parser heap, all counted against memcap */
    struct app_stats stats;
};

/* memcap 0 turns the application layer off: no flow is parsed. */
void app_layer_init(struct app_layer *a, const struct phi *phi, uint64_t memcap, app_emit_fn emit,
                    void *user);

/* The digests of whole files (HTTP bodies, SMB2 files) the parsers put in their events:
 * PROTO_HASH_* bits (proto.h), 0 for none, which app_layer_init() sets. Files that start after
 * the call follow the new mask; call it from the thread that owns the struct. */
void app_layer_set_file_hashes(struct app_layer *a, uint8_t mask);

/* Ordered stream bytes of a TCP flow (from the reassembler). */
void app_stream_data(struct app_layer *a, struct flow *f, int dir, const uint8_t *data,
                     uint32_t len, uint64_t ts_us);
/* A hole in the stream of direction dir. */
void app_stream_gap(struct app_layer *a, struct flow *f, int dir, uint32_t len, uint64_t ts_us);
/* One UDP datagram's payload. */
void app_datagram(struct app_layer *a, struct flow *f, int dir, const uint8_t *data, uint32_t len,
                  uint64_t ts_us);
/* The flow ends, or its TCP connection closed: the parser emits what it held, its record is
 * freed, and the flow gets no more application parsing. */
void app_flow_end(struct app_layer *a, struct flow *f, uint64_t ts_us);

/* The protocol found on the flow, or NULL. */
const struct proto_parser *app_flow_parser(const struct flow *f);

#endif
