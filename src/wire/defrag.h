// SPDX-License-Identifier: Apache-2.0
// IPv4 and IPv6 fragment reassembly.
//
// Fragments are held per datagram, keyed on (VLAN ids, source, destination, IP id, and the
// protocol for IPv4), until the datagram is whole, its timeout passes, or the memory cap is hit.
// Overlaps are resolved first-seen-wins (the bytes that arrived first are kept); an overlap whose
// bytes differ is counted as DECODE_EV_FRAG_OVERLAP. A datagram that would exceed 65535 bytes is
// dropped (DECODE_EV_FRAG_TOO_LARGE). Memory is bounded by defrag_config.max_bytes and
// max_datagrams; a fragment that does not fit is dropped and counted (DECODE_EV_FRAG_MEMCAP).
//
// Thread safety: one struct defrag per thread.
#ifndef IASO_WIRE_DEFRAG_H
#define IASO_WIRE_DEFRAG_H

#include <stddef.h>
#include <stdint.h>

#include "wire/decode.h"

struct defrag_config {
    uint64_t max_bytes;     /* fragment bytes held at once, all datagrams together */
    uint32_t max_datagrams; /* datagrams being reassembled at once */
    uint64_t timeout_us;    /* an incomplete datagram is dropped this long after its first
                               fragment (packet time) */
};

/* A datagram put back together. `data` is owned by the defrag context and stays valid until the
 * next call of any defrag function on it. */
struct defrag_result {
    const uint8_t *data; /* the IP header (rebuilt: no fragment fields) and the whole payload */
    uint32_t len;
    uint32_t wire_len;    /* sum of the fragments' wire lengths */
    uint32_t n_fragments; /* fragments it was made of, duplicates not counted */
    uint64_t ts_us;       /* time of the fragment that completed it */
};

struct defrag;

/* NULL on allocation failure. */
struct defrag *defrag_new(const struct defrag_config *cfg);
void defrag_free(struct defrag *d); /* NULL is fine */

/*
 * Takes one decoded fragment (p->is_fragment set by decode_packet). Returns 1 and fills *out when
 * this fragment completed its datagram; 0 when it is held (or dropped, counted in stats).
 * Also expires datagrams whose timeout has passed at p->ts_us.
 */
int defrag_add(struct defrag *d, const struct packet *p, struct decode_stats *stats,
               struct defrag_result *out);

/* Drops incomplete datagrams older than the timeout at now_us (DECODE_EV_FRAG_TIMEOUT). */
void defrag_expire(struct defrag *d, uint64_t now_us, struct decode_stats *stats);

/* Bytes currently held, for the stats. */
uint64_t defrag_mem_len(const struct defrag *d);

#endif
