// SPDX-License-Identifier: Apache-2.0
// TCP stream reassembly, per direction: turns the segments of one direction of a TCP connection
// into the ordered byte stream that protocol parsers read.
//
// In-order data is handed to the data callback straight from the packet, without a copy.
// Segments that arrive ahead of the next expected byte are copied and held, sorted, until the
// hole before them fills. Retransmissions of bytes already delivered are counted and dropped.
// Overlaps are resolved first-seen-wins: bytes already delivered or held are never replaced; an
// overlap whose bytes differ from the held ones is counted (n_overlap_diff), since it is how
// evasion and broken stacks look. A hole the capture never fills becomes a gap: reported to the
// gap callback with its length, and the stream goes on after it. A hole is declared a gap when
//   - the other side acknowledges bytes past it (the capture lost them, the receiver did not),
//   - holding a new segment would pass max_dir_bytes or max_dir_segs for the direction, or
//     max_total_bytes for the reassembler: the holes and held data in front of the new segment
//     are then delivered as gap + data, and the new segment straight after them (held data past
//     it stays held). Nothing is dropped silently: every byte is delivered or counted as a gap,
//     a retransmission, or data after FIN or RST.
//   - the stream is flushed (flow end).
// SYN sets the initial sequence number (a retransmitted SYN with a new one, before any data,
// replaces it); a stream picked up midway starts at the first segment seen. Data after a FIN's
// sequence number, or after a RST in the same direction, is ignored and counted.
// Sequence numbers are compared modulo 2^32.
//
// Thread safety: one struct reasm per thread; streams belong to the thread of their flow.
#ifndef IASO_WIRE_REASM_H
#define IASO_WIRE_REASM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct reasm_config {
    uint32_t max_dir_bytes;   /* out-of-order bytes held per direction of one stream */
    uint64_t max_total_bytes; /* out-of-order bytes held by all streams of this reassembler */
    uint32_t max_dir_segs;    /* out-of-order segments held per direction; bounds the sorted-list
                                 walk per segment; 0 means REASM_DIR_SEGS_DEFAULT, at most 65535 */
};

/* A window of lost packets in flight is far fewer segments than this; tiny segments meant to
 * make each insertion walk a long list hit it first. */
#define REASM_DIR_SEGS_DEFAULT 1024

struct reasm_stats {
    uint64_t n_segments;        /* segments with payload seen */
    uint64_t n_out_of_order;    /* segments held because a hole came before them */
    uint64_t n_retransmissions; /* segments entirely made of bytes already delivered or held */
    uint64_t n_overlaps;        /* segments partly overlapping delivered or held bytes */
    uint64_t n_overlap_diff;    /* overlaps whose bytes differ from the first-seen ones */
    uint64_t n_gaps;            /* holes declared gaps */
    uint64_t gap_bytes;         /* bytes in those holes */
    uint64_t n_dir_cap;         /* times a direction's cap forced a gap */
    uint64_t n_memcap;          /* times the total cap forced a gap or a drop */
    uint64_t n_after_fin;       /* segments with data past the FIN, ignored */
    uint64_t n_after_rst;       /* segments with data after a RST in their direction, ignored */
    uint64_t bytes_delivered;   /* bytes handed to the data callback */
    uint64_t held_len;          /* bytes held now, all streams */
    uint64_t held_len_max;      /* most ever held at once */
};

/* `flow` is the caller's, passed back unchanged; dir 0 is client to server, 1 the reverse. */
struct reasm_ops {
    void (*data)(void *user, void *flow, int dir, const uint8_t *data, uint32_t len,
                 uint64_t ts_us);
    void (*gap)(void *user, void *flow, int dir, uint32_t len, uint64_t ts_us);
};

struct reasm_seg; /* private */

struct reasm_dir {
    struct reasm_seg *segs; /* owned: held out-of-order segments, sorted by seq */
    uint32_t next_seq;      /* sequence number of the next byte to deliver */
    uint32_t fin_seq;       /* sequence number of the FIN, when has_fin */
    uint32_t held_len;      /* bytes held in segs */
    uint16_t n_segs;        /* segments in segs */
    uint8_t flags;          /* private REASM_DIR_* bits */
};

struct reasm_stream {
    struct reasm_dir dir[2];
};

struct reasm {
    struct reasm_config cfg;
    struct reasm_ops ops;
    void *user;
    struct reasm_stats stats;
};

void reasm_init(struct reasm *r, const struct reasm_config *cfg, const struct reasm_ops *ops,
                void *user);
/* All streams must have been released first. */
void reasm_release(struct reasm *r);

void reasm_stream_init(struct reasm_stream *s);

/*
 * One TCP segment of direction dir: its TCP flags (TCP_SYN, TCP_FIN, TCP_RST, TCP_ACK from
 * wire/decode.h; the others are ignored), sequence and acknowledgement numbers (ack is read only
 * with TCP_ACK) and payload (borrowed for the call). Calls the callbacks for whatever becomes
 * deliverable, in order: first the other direction's data that this ACK declares a gap before,
 * then this direction's. Callbacks must not call back into the reassembler for the same stream.
 */
void reasm_segment(struct reasm *r, struct reasm_stream *s, void *flow, int dir, uint8_t flags,
                   uint32_t seq, uint32_t ack, const uint8_t *payload, uint32_t len,
                   uint64_t ts_us);

/* Delivers everything still held in both directions, holes as gaps (flow end). */
void reasm_stream_flush(struct reasm *r, struct reasm_stream *s, void *flow, uint64_t ts_us);

/* Frees what the stream holds without delivering it. */
void reasm_stream_release(struct reasm *r, struct reasm_stream *s);

#endif
