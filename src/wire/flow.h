// SPDX-License-Identifier: Apache-2.0
// The flow table: one entry per bidirectional conversation, keyed on the 5-tuple and the VLAN
// ids, with idle timeouts that depend on the protocol and TCP state, and hard caps.
//
// Entries live in one pool of at most max_flows slots, allocated in chunks as the table grows
// and never freed until the table is. A flow sits in exactly one timeout list (by class: TCP new,
// established, closed; UDP new, established; other new, established). Packets arrive in time
// order, so moving a flow to the tail of its list (at most once a second of packet time, to spare
// the neighbours' cache lines) keeps every list sorted and expiry only looks at list heads: a
// head idle past its timeout ends, a head active since it last moved goes back to the tail.
// When the pool is full the flow idle the longest (the oldest of the list heads, to within a
// second) is evicted to make room, and counted.
//
// Every flow that ends (timeout, eviction, TCP port reuse, shutdown) goes to the end callback
// first; the callback may read it but not keep it.
//
// Thread safety: one table per worker thread; flows are hashed to workers with flow_hash().
#ifndef IASO_WIRE_FLOW_H
#define IASO_WIRE_FLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire/decode.h"
#include "wire/reasm.h"

/* The key, normalised so both directions of a conversation give the same bytes: endpoint 0 is
 * the lower of (address, port). */
struct flow_key {
    struct ipaddr addr[2];
    uint16_t port[2];
    uint16_t vlan[PACKET_MAX_VLAN];
    uint8_t proto;
    uint8_t ip_version;
    uint8_t pad_[2]; /* zero: the key is hashed and compared as bytes */
};

enum flow_timeout_class {
    FLOW_TO_TCP_NEW,
    FLOW_TO_TCP_ESTABLISHED,
    FLOW_TO_TCP_CLOSED,
    FLOW_TO_UDP_NEW,
    FLOW_TO_UDP_ESTABLISHED,
    FLOW_TO_OTHER_NEW,
    FLOW_TO_OTHER_ESTABLISHED,
    FLOW_TO_COUNT
};

enum flow_state { FLOW_STATE_NEW, FLOW_STATE_ESTABLISHED, FLOW_STATE_CLOSED };

/* Why a flow ended. Names as EVE's flow.reason. */
enum flow_end_reason {
    FLOW_END_TIMEOUT,  /* idle past its timeout */
    FLOW_END_FORCED,   /* evicted: the table was full */
    FLOW_END_REUSE,    /* a new TCP connection reused the tuple of a closed one */
    FLOW_END_SHUTDOWN, /* end of input or the sensor stopped */
};

const char *flow_end_reason_name(enum flow_end_reason r);
const char *flow_state_name(enum flow_state s);

/* TCP states as EVE's tcp.state. */
enum flow_tcp_state {
    FLOW_TCP_NONE,
    FLOW_TCP_SYN_SENT,
    FLOW_TCP_SYN_RECV,
    FLOW_TCP_ESTABLISHED,
    FLOW_TCP_FIN_WAIT,
    FLOW_TCP_CLOSED,
};
const char *flow_tcp_state_name(enum flow_tcp_state s);

/* Directions: 0 is from the client (the side that spoke first, or sent the SYN) to the server. */
#define FLOW_TOSERVER 0
#define FLOW_TOCLIENT 1

struct flow {
    struct flow_key key;
    uint8_t client;        /* which key endpoint (0/1) is the client */
    uint8_t state;         /* enum flow_state */
    uint8_t tcp_state;     /* enum flow_tcp_state */
    uint8_t to_class;      /* enum flow_timeout_class: the list it is in */
    uint8_t tcp_flags[2];  /* TCP flags seen, per direction */
    uint8_t fin_mask;      /* bit d: FIN seen from direction d */
    uint8_t has_stream;    /* stream is initialised */
    uint8_t app_done;      /* the application layer is finished with this flow */
    uint8_t app_proto;     /* the protocol it found (enum proto_id), once app_done */
    uint32_t hnext;        /* hash chain: slot index + 1, 0 ends */
    uint32_t lprev, lnext; /* timeout list: slot index + 1, 0 ends */
    uint64_t id;           /* flow_id: stable whatever the number of workers */
    uint64_t start_us, last_us;
    uint64_t moved_us;          /* last_us when it last moved in its timeout list */
    uint64_t pkts[2], bytes[2]; /* per direction */
    struct reasm_stream stream; /* TCP only */
    void *app;                  /* borrowed by protocol parsers (later); NULL for now */
};

struct flow_config {
    uint32_t max_flows;
    uint64_t timeout_us[FLOW_TO_COUNT];
};

struct flow_stats {
    uint64_t n_created;
    uint64_t n_timed_out;
    uint64_t n_evicted;
    uint64_t n_reused;
    uint64_t n_shutdown;
    uint64_t n_active;
    uint64_t n_active_max;
};

typedef void (*flow_end_fn)(void *user, struct flow *f, enum flow_end_reason reason);

struct flow_table;

/* NULL on allocation failure or max_flows == 0. */
struct flow_table *flow_table_new(const struct flow_config *cfg, flow_end_fn on_end, void *user);
/* Frees the table without calling the end callback: call flow_table_flush() first to end the
 * flows properly. NULL is fine. */
void flow_table_free(struct flow_table *t);

/* Fills a normalised key from a decoded packet; returns the key endpoint (0/1) the packet came
 * from. */
int flow_key_from_packet(const struct packet *p, struct flow_key *key);

/* The hash of a normalised key: the same for both directions. */
uint64_t flow_key_hash(const struct flow_key *key);

/*
 * Finds or creates the flow of a decoded packet that has an IP layer, counts the packet in it,
 * tracks TCP state, and moves the flow in its timeout list. *dir receives the packet's direction.
 * Returns NULL only when p has no IP layer.
 */
struct flow *flow_table_packet(struct flow_table *t, const struct packet *p, int *dir);

/* Ends every flow idle past its timeout at now_us. */
void flow_table_expire(struct flow_table *t, uint64_t now_us);

/* Ends every flow (reason shutdown), oldest first. */
void flow_table_flush(struct flow_table *t);

const struct flow_stats *flow_table_stats(const struct flow_table *t);

/* Memory one flow costs: the entry and its share of the hash buckets, in bytes. */
size_t flow_table_bytes_each(const struct flow_table *t);

#endif
