// SPDX-License-Identifier: Apache-2.0
// EVE JSON output: one event per line, Suricata's field names where they exist, so SIEMs that
// read Suricata's eve.json read ours unchanged.
//
// Workers format events into their own buffers (eve_flow_format) and hand whole lines to the
// shared sink (eve_sink_write), which takes a lock once per batch, not per event.
#ifndef IASO_SENSOR_EVE_H
#define IASO_SENSOR_EVE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/error.h"
#include "detect/alert.h"
#include "proto/proto.h"
#include "wire/flow.h"

struct eve_sink {
    int fd;
    int owns_fd;
    pthread_mutex_t lock;
    uint64_t n_bytes;
    int err; /* first write error, sticky */
    char path[256];
};

/* "-" is standard output; any other path is created (mode 0640) or appended to. */
int eve_sink_open(struct eve_sink *s, const char *path, struct errbuf *eb);
/* Writes whole lines, all or nothing per call as far as the kernel allows; thread-safe. */
int eve_sink_write(struct eve_sink *s, const void *data, size_t len);
int eve_sink_close(struct eve_sink *s, struct errbuf *eb);

/* Appends the flow event of a flow that ended, with its newline. app_proto is the protocol
 * found on it, or NULL. */
int eve_flow_format(struct buf *out, const struct flow *f, enum flow_end_reason reason,
                    const char *app_proto);

/* The formatted endpoints of the flow that had the last event, kept by each worker. */
struct eve_cache {
    const struct flow *flow; /* borrowed, only compared; NULL when empty */
    uint64_t flow_id;
    const struct proto_parser *parser;
    size_t len;
    char text[384]; /* "vlan" .. "app_proto" members; two IPv6 addresses fit with room */
};

/* Appends a protocol event of a flow: the common fields, then "<parser name>":{...}. */
int eve_app_format(struct buf *out, const struct flow *f, const struct proto_parser *p,
                   const struct proto_event *ev, struct eve_cache *cache);

/* Appends an alert event: the flow's endpoints with the alert's source as src, Suricata's
 * "alert" object (signature_id, signature, category, severity, metadata with the ATT&CK ids),
 * and the evidence. */
int eve_alert_format(struct buf *out, const struct alert *a);

#endif
