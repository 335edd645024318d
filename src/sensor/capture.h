// SPDX-License-Identifier: Apache-2.0
// Packet sources, behind one interface: capture files (pcap and pcapng, several read as one
// stream in timestamp order) and live interfaces (libpcap). Each source is a const ops table
// over libpcap, so the pipeline does not care where packets come from.
//
// Thread safety: a capture belongs to the thread that reads it; capture_stop() alone may be
// called from another thread or a signal handler.
#ifndef IASO_SENSOR_CAPTURE_H
#define IASO_SENSOR_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

struct capture_packet {
    uint64_t ts_us;
    const uint8_t *data; /* borrowed: valid until the next capture_next() */
    uint32_t caplen;
    uint32_t wire_len;
    int link; /* enum link_type (a libpcap linktype) */
};

struct capture_progress {
    uint64_t bytes_read;  /* file bytes read so far, all files */
    uint64_t bytes_total; /* file sizes, all files; 0 for live capture */
};

struct capture_live_stats {
    uint64_t n_received; /* packets the kernel handed over */
    uint64_t n_dropped;  /* packets the kernel dropped: ring full */
    uint64_t n_if_dropped;
};

struct capture;

/*
 * Opens capture files to be read as one stream, merged by timestamp. Fails, naming the file, if
 * one is missing, unreadable, or not a pcap or pcapng file.
 */
int capture_open_files(const char *const *paths, size_t n_paths, struct capture **out,
                       struct errbuf *eb);

/* Opens a live interface. Fails with a message saying what to do when the interface does not
 * exist or the capture needs privileges. */
int capture_open_live(const char *ifname, int snaplen, int64_t buffer_len, struct capture **out,
                      struct errbuf *eb);

/*
 * The next packet. Returns 1 with *pkt filled, 0 at the end of the input (or after
 * capture_stop()), or a negative code with a message in eb when a file stops early: a truncated
 * or corrupt file says which file, how many packets were read from it and at what byte offset.
 * After such an error the other files, if any, go on: call again until it returns 0.
 */
int capture_next(struct capture *c, struct capture_packet *pkt, struct errbuf *eb);

/* Asks a live capture (or a long file read) to end soon. Async-signal-safe. */
void capture_stop(struct capture *c);

void capture_progress(const struct capture *c, struct capture_progress *out);
/* Live captures only: 0, or IASO_E_UNSUPPORTED for files. */
int capture_live_stats(struct capture *c, struct capture_live_stats *out);

void capture_close(struct capture *c); /* NULL is fine */

#endif
