// SPDX-License-Identifier: Apache-2.0
// Packet sources over libpcap; see capture.h.
#include "sensor/capture.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct capture_ops {
    int (*next)(struct capture *c, struct capture_packet *pkt, struct errbuf *eb);
    void (*close)(struct capture *c);
};

/* One file of a merged read, with its next packet held until it is the oldest. */
struct capture_file {
    const char *path; /* borrowed from the caller's argv */
    pcap_t *pcap;     /* owned; NULL once the file has ended */
    struct pcap_pkthdr *hdr;
    const uint8_t *data;
    bool has_head; /* hdr/data hold a packet not yet returned */
    uint64_t n_packets;
    uint64_t size;
    uint64_t ts_us;
};

struct capture {
    const struct capture_ops *ops;
    volatile sig_atomic_t stop;
    /* files */
    struct capture_file *files; /* owned */
    size_t n_files;
    int current; /* the file whose packet was last returned, or -1 */
    /* live */
    pcap_t *live; /* owned */
    int live_link;
};

static uint64_t
ts_of(const struct pcap_pkthdr *h)
{
    return (uint64_t)h->ts.tv_sec * 1000000u + (uint64_t)h->ts.tv_usec;
}

/* Reads the file's next packet into its head. 1 ok, 0 end, < 0 error (the file is closed). */
static int
file_advance(struct capture_file *f, struct errbuf *eb)
{
    f->has_head = false;
    if (!f->pcap)
        return 0;
    int rc = pcap_next_ex(f->pcap, &f->hdr, &f->data);
    if (rc == 1) {
        f->has_head = true;
        f->ts_us = ts_of(f->hdr);
        return 1;
    }
    int ret = 0;
    if (rc == PCAP_ERROR) {
        /* Where reading stopped; asked only now, since ftell costs a system call or two. */
        long pos = ftell(pcap_file(f->pcap));
        ret = err_set(eb, IASO_E_TRUNC,
                      "%s: capture ends early after packet %llu (byte offset %ld of %llu): %s",
                      f->path, (unsigned long long)f->n_packets, pos, (unsigned long long)f->size,
                      pcap_geterr(f->pcap));
    }
    pcap_close(f->pcap);
    f->pcap = NULL;
    return ret;
}

static int
files_next(struct capture *c, struct capture_packet *pkt, struct errbuf *eb)
{
    /* Refill the file we returned from last time: its data pointer was only valid till now. */
    if (c->current >= 0) {
        int cur = c->current;
        c->current = -1;
        int rc = file_advance(&c->files[cur], eb);
        if (rc < 0)
            return rc;
    }
    if (c->stop)
        return 0;
    /* A linear scan: a handful of files at most, and it keeps equal timestamps in file order. */
    int best = -1;
    for (size_t i = 0; i < c->n_files; i++) {
        struct capture_file *f = &c->files[i];
        if (f->has_head && (best < 0 || f->ts_us < c->files[best].ts_us))
            best = (int)i;
    }
    if (best < 0)
        return 0;
    struct capture_file *f = &c->files[best];
    pkt->ts_us = f->ts_us;
    pkt->data = f->data;
    pkt->caplen = f->hdr->caplen;
    pkt->wire_len = f->hdr->len;
    pkt->link = pcap_datalink(f->pcap);
    f->n_packets++;
    c->current = best;
    return 1;
}

static void
files_close(struct capture *c)
{
    for (size_t i = 0; i < c->n_files; i++)
        if (c->files[i].pcap)
            pcap_close(c->files[i].pcap);
    free(c->files);
}

static const struct capture_ops file_ops = {files_next, files_close};

/* Explains why a file could not be opened as a capture, with what its first bytes are. */
static int
explain_open_failure(const char *path, const char *pcap_msg, struct errbuf *eb)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        int e = errno;
        return err_set(eb, -e, "%s: %s", path, strerror(e));
    }
    unsigned char magic[4];
    size_t n = fread(magic, 1, sizeof(magic), fp);
    fclose(fp);
    if (n < 4)
        return err_set(eb, IASO_E_FORMAT, "%s: too short to be a capture file (%zu bytes)", path,
                       n);
    unsigned long m = (unsigned long)magic[0] << 24 | (unsigned long)magic[1] << 16 |
                      (unsigned long)magic[2] << 8 | magic[3];
    if (m == 0xa1b2c3d4 || m == 0xd4c3b2a1 || m == 0xa1b23c4d || m == 0x4d3cb2a1 || m == 0x0a0d0d0a)
        return err_set(eb, IASO_E_FORMAT, "%s: unreadable capture file: %s", path, pcap_msg);
    return err_set(eb, IASO_E_FORMAT,
                   "%s: not a pcap or pcapng file (starts with 0x%08lx; 0xa1b2c3d4 or 0x0a0d0d0a "
                   "expected)",
                   path, m);
}

int
capture_open_files(const char *const *paths, size_t n_paths, struct capture **out,
                   struct errbuf *eb)
{
    int rc = 0;
    struct capture *c = calloc(1, sizeof(*c));
    if (!c)
        return err_set(eb, IASO_E_NOMEM, "out of memory");
    c->ops = &file_ops;
    c->current = -1;
    c->files = calloc(n_paths ? n_paths : 1, sizeof(*c->files));
    if (!c->files) {
        rc = err_set(eb, IASO_E_NOMEM, "out of memory");
        goto out;
    }
    c->n_files = n_paths;
    for (size_t i = 0; i < n_paths; i++) {
        struct capture_file *f = &c->files[i];
        f->path = paths[i];
        struct stat st;
        if (stat(paths[i], &st) != 0) {
            int e = errno;
            rc = err_set(eb, -e, "%s: %s", paths[i], strerror(e));
            goto out;
        }
        if (S_ISDIR(st.st_mode)) {
            rc = err_set(eb, IASO_E_INVAL, "%s: is a directory, not a capture file", paths[i]);
            goto out;
        }
        f->size = (uint64_t)st.st_size;
        char perr[PCAP_ERRBUF_SIZE] = "";
        f->pcap =
            pcap_open_offline_with_tstamp_precision(paths[i], PCAP_TSTAMP_PRECISION_MICRO, perr);
        if (!f->pcap) {
            rc = explain_open_failure(paths[i], perr, eb);
            goto out;
        }
    }
    /* Prime every file with its first packet. A file that is empty or broken from the start is
     * reported now, before anything is read. */
    for (size_t i = 0; i < n_paths; i++) {
        rc = file_advance(&c->files[i], eb);
        if (rc < 0)
            goto out;
    }
    rc = 0;
    *out = c;
    c = NULL;
out:
    capture_close(c);
    return rc;
}

static int
live_next(struct capture *c, struct capture_packet *pkt, struct errbuf *eb)
{
    for (;;) {
        if (c->stop)
            return 0;
        struct pcap_pkthdr *hdr;
        const uint8_t *data;
        int rc = pcap_next_ex(c->live, &hdr, &data);
        if (rc == 1) {
            pkt->ts_us = ts_of(hdr);
            pkt->data = data;
            pkt->caplen = hdr->caplen;
            pkt->wire_len = hdr->len;
            pkt->link = c->live_link;
            return 1;
        }
        if (rc == 0)
            continue; /* the read timeout: look at the stop flag again */
        if (rc == PCAP_ERROR_BREAK)
            return 0;
        return err_set(eb, IASO_E_CAPTURE, "capture failed: %s", pcap_geterr(c->live));
    }
}

static void
live_close(struct capture *c)
{
    if (c->live)
        pcap_close(c->live);
}

static const struct capture_ops live_ops = {live_next, live_close};

int
capture_open_live(const char *ifname, int snaplen, int64_t buffer_len, struct capture **out,
                  struct errbuf *eb)
{
    char perr[PCAP_ERRBUF_SIZE] = "";
    int rc = 0;
    struct capture *c = calloc(1, sizeof(*c));
    if (!c)
        return err_set(eb, IASO_E_NOMEM, "out of memory");
    c->ops = &live_ops;
    c->current = -1;
    c->live = pcap_create(ifname, perr);
    if (!c->live) {
        rc = err_set(eb, IASO_E_CAPTURE, "%s: %s", ifname, perr);
        goto out;
    }
    pcap_set_snaplen(c->live, snaplen);
    pcap_set_promisc(c->live, 1);
    pcap_set_timeout(c->live, 100); /* ms: how often a quiet capture looks at the stop flag */
    if (buffer_len > 0 && buffer_len <= INT32_MAX)
        pcap_set_buffer_size(c->live, (int)buffer_len);
    int arc = pcap_activate(c->live);
    if (arc == PCAP_ERROR_NO_SUCH_DEVICE) {
        rc = err_set(eb, IASO_E_NOTFOUND, "%s: no such interface (list them with `ip link`): %s",
                     ifname, pcap_geterr(c->live));
        goto out;
    }
    if (arc == PCAP_ERROR_PERM_DENIED || arc == PCAP_ERROR_PROMISC_PERM_DENIED) {
        rc = err_set(eb, IASO_E_PERM,
                     "%s: capturing needs privileges: run as root or grant the binary "
                     "cap_net_raw,cap_net_admin (setcap): %s",
                     ifname, pcap_geterr(c->live));
        goto out;
    }
    if (arc == PCAP_ERROR_IFACE_NOT_UP) {
        rc = err_set(eb, IASO_E_CAPTURE, "%s: interface is down (ip link set %s up)", ifname,
                     ifname);
        goto out;
    }
    if (arc < 0) {
        rc = err_set(eb, IASO_E_CAPTURE, "%s: cannot capture: %s", ifname, pcap_geterr(c->live));
        goto out;
    }
    c->live_link = pcap_datalink(c->live);
    *out = c;
    c = NULL;
out:
    capture_close(c);
    return rc;
}

int
capture_next(struct capture *c, struct capture_packet *pkt, struct errbuf *eb)
{
    return c->ops->next(c, pkt, eb);
}

void
capture_stop(struct capture *c)
{
    c->stop = 1;
    if (c->live)
        pcap_breakloop(c->live);
}

void
capture_progress(const struct capture *c, struct capture_progress *out)
{
    out->bytes_read = out->bytes_total = 0;
    for (size_t i = 0; i < c->n_files; i++) {
        const struct capture_file *f = &c->files[i];
        out->bytes_total += f->size;
        if (f->pcap) {
            long pos = ftell(pcap_file(f->pcap));
            out->bytes_read += pos > 0 ? (uint64_t)pos : 0;
        } else {
            out->bytes_read += f->size;
        }
    }
}

int
capture_live_stats(struct capture *c, struct capture_live_stats *out)
{
    if (!c->live)
        return IASO_E_UNSUPPORTED;
    struct pcap_stat ps;
    if (pcap_stats(c->live, &ps) != 0)
        return IASO_E_CAPTURE;
    out->n_received = ps.ps_recv;
    out->n_dropped = ps.ps_drop;
    out->n_if_dropped = ps.ps_ifdrop;
    return 0;
}

void
capture_close(struct capture *c)
{
    if (!c)
        return;
    if (c->ops)
        c->ops->close(c);
    free(c);
}
