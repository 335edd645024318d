// SPDX-License-Identifier: Apache-2.0
// The packet pipeline; see sensor.h.
#include "sensor/sensor.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/buf.h"
#include "proto/dicom.h"
#include "proto/hl7.h"
#include "proto/http.h"
#include "sensor/app.h"
#include "sensor/capture.h"
#include "sensor/eve.h"
#include "sensor/inventory.h"
#include "sensor/ring.h"
#include "wire/defrag.h"

#define EVE_FLUSH_LEN ((size_t)64 * 1024) /* a worker writes its events out in batches this big */
#define TICK_US 1000000u /* flow timeouts are checked once per second of packet time */
#define PUBLISH_EVERY 64 /* packets per ring publish when reading files */
#define RELEASE_EVERY 64 /* records per ring release in a worker */

enum rec_kind { REC_PACKET = 1, REC_DATAGRAM, REC_TICK, REC_END };

/* A record in a worker's ring. Packet bytes follow it. */
struct rec {
    uint32_t rec_len; /* written by ring_commit */
    uint8_t kind;
    uint8_t n_vlan;
    uint16_t vlan[PACKET_MAX_VLAN];
    int32_t link;
    uint32_t caplen;
    uint32_t wire_len;
    uint64_t ts_us;
};

struct worker {
    int id;
    struct flow_table *flows;
    struct reasm reasm;
    struct app_layer app;
    struct inventory *inv;    /* owned; NULL when no inventory was asked for */
    struct detect_worker det; /* det.d NULL until detection is set up */
    uint8_t hash_mask;        /* file digests asked for with --file-hashes */
    bool hash_auto;           /* ... or those the indicators hold */
    struct buf eve;
    struct eve_cache eve_cache;
    struct eve_sink *sink; /* borrowed */
    struct ring ring;
    bool has_ring;
    pthread_t thread;
    bool has_thread;
    uint64_t n_packets;
    uint64_t n_no_flow;
    int err; /* first output error */
};

static volatile sig_atomic_t stop_requested;
static struct capture *volatile running_capture;
static struct detect *volatile running_detect;

void
sensor_reload(void)
{
    struct detect *d = running_detect;
    if (d)
        detect_request_reload(d);
}

void
sensor_stop(void)
{
    stop_requested = 1;
    struct capture *c = running_capture;
    if (c)
        capture_stop(c);
}

static void
worker_flush_eve(struct worker *w)
{
    if (w->eve.len == 0)
        return;
    int rc = eve_sink_write(w->sink, w->eve.ptr, w->eve.len);
    if (rc < 0 && !w->err)
        w->err = rc;
    buf_reset(&w->eve);
}

static void inventory_flow(struct inventory *inv, const struct flow *f,
                           const struct proto_parser *p);
static struct inv_addr flow_addr(const struct flow *f, int side);

static void
inv_str(struct inventory *inv, const struct inv_addr *a, enum inv_fact fact, const char *v,
        uint64_t ts)
{
    inventory_fact(inv, a, fact, v, strlen(v), ts);
}

/* An HL7 application as "application^facility" (the namespace ids), into out. */
static size_t
hl7_app(const struct hl7_hd *app, const struct hl7_hd *fac, char *out, size_t out_len)
{
    int n = snprintf(out, out_len, "%.*s^%.*s", (int)app->ns.len, app->ns.s, (int)fac->ns.len,
                     fac->ns.s);
    return n < 0 ? 0 : (size_t)n < out_len ? (size_t)n : out_len - 1;
}

/* What protocol events tell the inventory: AE titles, HL7 applications, device facts. */
static void
inventory_event(struct inventory *inv, struct flow *f, const struct proto_event *ev)
{
    struct inv_addr client = flow_addr(f, f->client), server = flow_addr(f, !f->client);
    /* The host that sent the bytes of the event, and the one they went to. */
    const struct inv_addr *from = ev->dir == FLOW_TOSERVER ? &client : &server;
    const struct inv_addr *to = ev->dir == FLOW_TOSERVER ? &server : &client;
    uint64_t ts = ev->ts_us;
    if (ev->proto == PROTO_DICOM) {
        if (ev->kind == DICOM_EVENT_ASSOCIATE_RQ) {
            /* The requester names its implementation. */
            const struct dicom_associate *a = ev->data;
            inventory_fact(inv, from, INV_FACT_IMPLEMENTATION_VERSION,
                           (const char *)a->implementation_version_name.ptr,
                           a->implementation_version_name.len, ts);
            inventory_fact(inv, from, INV_FACT_IMPLEMENTATION_CLASS_UID,
                           (const char *)a->implementation_class_uid.ptr,
                           a->implementation_class_uid.len, ts);
        } else if (ev->kind == DICOM_EVENT_ASSOCIATE_AC) {
            /* An accepted association: both sides' roles are certain now. */
            const struct dicom_associate *a = ev->data;
            inventory_role(inv, &client, INV_ROLE_DICOM_SCU, a->calling_ae, strlen(a->calling_ae),
                           ts);
            inventory_role(inv, &server, INV_ROLE_DICOM_SCP, a->called_ae, strlen(a->called_ae),
                           ts);
            inventory_fact(inv, &server, INV_FACT_IMPLEMENTATION_VERSION,
                           (const char *)a->implementation_version_name.ptr,
                           a->implementation_version_name.len, ts);
            inventory_fact(inv, &server, INV_FACT_IMPLEMENTATION_CLASS_UID,
                           (const char *)a->implementation_class_uid.ptr,
                           a->implementation_class_uid.len, ts);
        } else if (ev->kind == DICOM_EVENT_DIMSE) {
            const struct dicom_dimse *d = ev->data;
            /* A C-STORE-RQ carries the facts of the equipment that made the object; they are
             * put on the host that sent it. */
            if (d->command_field == 0x0001 && d->data_set_parsed) {
                inv_str(inv, from, INV_FACT_MODALITY, d->modality, ts);
                inv_str(inv, from, INV_FACT_MANUFACTURER, d->manufacturer, ts);
                inv_str(inv, from, INV_FACT_MODEL, d->model, ts);
                inv_str(inv, from, INV_FACT_STATION_NAME, d->station_name, ts);
                inv_str(inv, from, INV_FACT_SOFTWARE_VERSIONS, d->software_versions, ts);
                inv_str(inv, from, INV_FACT_SERIAL_NUMBER, d->device_serial_number, ts);
            }
        }
    } else if (ev->proto == PROTO_HL7 && ev->kind == HL7_EVENT_MESSAGE) {
        const struct hl7_message *m = ev->data;
        char app[2 * HL7_STR_MAX + 2];
        size_t n = hl7_app(&m->sending_application, &m->sending_facility, app, sizeof(app));
        if (n > 1)
            inventory_role(inv, from, INV_ROLE_HL7_SENDER, app, n, ts);
        n = hl7_app(&m->receiving_application, &m->receiving_facility, app, sizeof(app));
        if (n > 1 && !m->has_msa)
            inventory_role(inv, to, INV_ROLE_HL7_RECEIVER, app, n, ts);
    } else if (ev->proto == PROTO_HTTP && ev->kind == HTTP_EVENT_TXN) {
        const struct http_txn *t = ev->data;
        if (t->is_fhir)
            inventory_role(inv, &server, INV_ROLE_FHIR_SERVER, NULL, 0, ts);
    }
}

static void
on_flow_end(void *user, struct flow *f, enum flow_end_reason reason)
{
    struct worker *w = user;
    if (f->has_stream) {
        /* What the reassembler still holds goes to the parser before it ends. */
        reasm_stream_flush(&w->reasm, &f->stream, f, f->last_us);
        reasm_stream_release(&w->reasm, &f->stream);
        f->has_stream = 0;
    }
    const struct proto_parser *p = f->app ? app_flow_parser(f) : proto_parsers[f->app_proto];
    app_flow_end(&w->app, f, f->last_us);
    if (w->inv)
        inventory_flow(w->inv, f, p);
    if (w->det.d)
        detect_flow_end(&w->det, f, p ? p->id : PROTO_NONE);
    eve_flow_format(&w->eve, f, reason, p ? p->name : NULL);
    if (w->eve.len >= EVE_FLUSH_LEN)
        worker_flush_eve(w);
}

/* Endpoint `side` of a flow's key, as the inventory names hosts. */
static struct inv_addr
flow_addr(const struct flow *f, int side)
{
    struct inv_addr a;
    a.ip = f->key.addr[side];
    a.ip_version = f->key.ip_version;
    return a;
}

/* What a finished flow tells the inventory: who talked to whom, and the server's role. */
static void
inventory_flow(struct inventory *inv, const struct flow *f, const struct proto_parser *p)
{
    static const int server_role[PROTO_COUNT] = {
        [PROTO_NONE] = -1,
        [PROTO_DICOM] = -1,
        [PROTO_HL7] = -1,
        [PROTO_HTTP] = INV_ROLE_HTTP_SERVER,
        [PROTO_DNS] = INV_ROLE_DNS_SERVER,
        [PROTO_TLS] = INV_ROLE_TLS_SERVER,
        [PROTO_SMB2] = INV_ROLE_SMB_SERVER,
        [PROTO_RDP] = INV_ROLE_RDP_SERVER,
    };
    struct inv_addr c = flow_addr(f, f->client), s = flow_addr(f, !f->client);
    enum proto_id app = p ? p->id : PROTO_NONE;
    bool ports = f->key.proto == 6 || f->key.proto == 17;
    /* Only conversations where the server answered say something about the server. */
    if (!f->pkts[FLOW_TOCLIENT])
        return;
    inventory_conversation(inv, &c, &s, app, ports ? f->key.port[!f->client] : 0, f->start_us,
                           f->last_us);
    if (server_role[app] >= 0)
        inventory_role(inv, &s, (enum inv_role)server_role[app], NULL, 0, f->last_us);
}

static void
on_app_event(void *user, struct flow *f, const struct proto_event *ev)
{
    struct worker *w = user;
    const struct proto_parser *p = proto_parsers[ev->proto];
    if (w->inv)
        inventory_event(w->inv, f, ev);
    eve_app_format(&w->eve, f, p, ev, &w->eve_cache);
    if (w->det.d)
        detect_event(&w->det, f, ev);
    if (w->eve.len >= EVE_FLUSH_LEN)
        worker_flush_eve(w);
}

/* An alert that passed the worker's gate: written beside the protocol events. */
static void
on_alert(void *user, const struct alert *a)
{
    struct worker *w = user;
    int rc = eve_alert_format(&w->eve, a);
    if (rc < 0 && !w->err)
        w->err = rc;
    if (w->eve.len >= EVE_FLUSH_LEN)
        worker_flush_eve(w);
}

/* The ordered byte stream of each TCP direction, and its holes, go to the application layer. */
static void
on_stream_data(void *user, void *flow, int dir, const uint8_t *data, uint32_t len, uint64_t ts_us)
{
    struct worker *w = user;
    app_stream_data(&w->app, flow, dir, data, len, ts_us);
}

static void
on_stream_gap(void *user, void *flow, int dir, uint32_t len, uint64_t ts_us)
{
    struct worker *w = user;
    app_stream_gap(&w->app, flow, dir, len, ts_us);
}

static const struct reasm_ops stream_ops = {on_stream_data, on_stream_gap};

static void
worker_packet(struct worker *w, const struct packet *p)
{
    w->n_packets++;
    /* TCP or UDP whose header did not decode: no trustworthy ports, so no flow. */
    if ((p->proto == 6 || p->proto == 17) && !p->has_l4) {
        w->n_no_flow++;
        return;
    }
    int dir;
    struct flow *f = flow_table_packet(w->flows, p, &dir);
    if (!f) {
        w->n_no_flow++;
        return;
    }
    if (w->det.d && f->pkts[0] + f->pkts[1] == 1)
        detect_flow_new(&w->det, f, p->ts_us);
    if (w->inv && p->has_mac && f->pkts[dir] == 1) {
        /* The first packet of each direction tells the sender's MAC. */
        struct inv_addr a = {p->src, p->ip_version};
        inventory_mac(w->inv, &a, p->data + p->l2_off + 6, p->ts_us);
    }
    if (p->proto == 6) {
        if (!f->has_stream) {
            reasm_stream_init(&f->stream);
            f->has_stream = 1;
        }
        reasm_segment(&w->reasm, &f->stream, f, dir, p->tcp_flags, p->tcp_seq, p->tcp_ack,
                      p->payload, p->payload_len, p->ts_us);
        if (f->state == FLOW_STATE_CLOSED && f->app) {
            /* Both sides said FIN, or one RST: the conversation is over. Hand the parser what
             * is still held and free its state now rather than at the flow's timeout; the
             * protocol found stays on the flow for its event. */
            reasm_stream_flush(&w->reasm, &f->stream, f, p->ts_us);
            const struct proto_parser *ap = app_flow_parser(f);
            app_flow_end(&w->app, f, p->ts_us);
            f->app_proto = ap ? (uint8_t)ap->id : 0;
        }
    } else if (p->proto == 17 && p->payload_len > 0 && !p->snap_missing) {
        app_datagram(&w->app, f, dir, p->payload, p->payload_len, p->ts_us);
    }
}

/* Picks up a reloaded indicator store, and the file digests it calls for. */
static void
worker_sync(struct worker *w)
{
    if (!w->det.d)
        return;
    detect_worker_sync(&w->det);
    uint8_t m = w->hash_mask;
    if (w->hash_auto && w->det.ioc)
        m |= detect_file_hash_mask(w->det.ioc);
    app_layer_set_file_hashes(&w->app, m);
}

/* --file-hashes: "md5,sha1,sha256" or "none" into PROTO_HASH_* bits. */
static int
parse_file_hashes(const char *list, uint8_t *mask, struct errbuf *eb)
{
    *mask = 0;
    if (strcmp(list, "none") == 0)
        return 0;
    const char *p = list;
    while (*p) {
        size_t n = strcspn(p, ",");
        if (n == 3 && strncmp(p, "md5", 3) == 0)
            *mask |= PROTO_HASH_MD5;
        else if (n == 4 && strncmp(p, "sha1", 4) == 0)
            *mask |= PROTO_HASH_SHA1;
        else if (n == 6 && strncmp(p, "sha256", 6) == 0)
            *mask |= PROTO_HASH_SHA256;
        else
            return err_set(eb, IASO_E_USAGE,
                           "--file-hashes %s: expected md5, sha1 and sha256, comma-separated, "
                           "or none",
                           list);
        p += n;
        if (*p == ',')
            p++;
    }
    return 0;
}

static void *
worker_main(void *arg)
{
    struct worker *w = arg;
    struct decode_stats scratch; /* the capture thread already counted decode events */
    size_t n_since_release = 0;
    for (;;) {
        size_t len;
        const struct rec *r = ring_next(&w->ring, &len);
        if (r->kind == REC_END) {
            ring_consume(&w->ring, len);
            ring_release_space(&w->ring);
            break;
        }
        if (r->kind == REC_TICK) {
            flow_table_expire(w->flows, r->ts_us);
            worker_sync(w);
        } else {
            struct packet p;
            p.ts_us = r->ts_us;
            p.wire_len = r->wire_len;
            const uint8_t *data = (const uint8_t *)(r + 1);
            if (r->kind == REC_PACKET) {
                p.data = data;
                p.caplen = r->caplen;
                p.link = r->link;
                decode_packet(&p, &scratch);
            } else {
                p.n_vlan = r->n_vlan;
                memcpy(p.vlan, r->vlan, sizeof(p.vlan));
                decode_ip(&p, data, r->caplen, &scratch);
            }
            worker_packet(w, &p);
        }
        ring_consume(&w->ring, len);
        if (++n_since_release >= RELEASE_EVERY) {
            ring_release_space(&w->ring);
            n_since_release = 0;
        }
    }
    flow_table_flush(w->flows);
    worker_flush_eve(w);
    return NULL;
}

struct pipeline {
    const struct sensor_config *cfg;
    struct worker *workers; /* owned */
    int n_workers;
    bool threaded;
    struct defrag *defrag; /* owned */
    struct detect *detect; /* owned */
    struct decode_stats decode;
    uint64_t n_packets, n_bytes, n_no_ip, n_datagrams;
    uint64_t next_tick_us;
    uint64_t first_ts_us, last_ts_us;
    size_t n_unpublished;
    bool live;
};

static void
send_record(struct worker *w, const struct rec *hdr, const uint8_t *data, uint32_t len)
{
    size_t total = sizeof(*hdr) + len;
    uint8_t *dst = ring_reserve(&w->ring, total);
    memcpy(dst + sizeof(uint32_t), (const uint8_t *)hdr + sizeof(uint32_t),
           sizeof(*hdr) - sizeof(uint32_t));
    if (len)
        memcpy(dst + sizeof(*hdr), data, len);
    ring_commit(&w->ring, total);
}

static void
publish_all(struct pipeline *pl)
{
    for (int i = 1; i < pl->n_workers; i++)
        ring_publish(&pl->workers[i].ring);
    pl->n_unpublished = 0;
}

/* Flow timeouts, on packet time, for every worker at the same instants. */
static void
tick(struct pipeline *pl, uint64_t ts_us)
{
    if (ts_us < pl->next_tick_us)
        return;
    pl->next_tick_us = ts_us + TICK_US;
    worker_sync(&pl->workers[0]);
    defrag_expire(pl->defrag, ts_us, &pl->decode);
    flow_table_expire(pl->workers[0].flows, ts_us);
    struct rec r = {.kind = REC_TICK, .ts_us = ts_us};
    for (int i = 1; i < pl->n_workers; i++)
        send_record(&pl->workers[i], &r, NULL, 0);
}

/*
 * Flows are spread over 2N - 1 hash slots: worker 0, which is also the capture thread and does
 * the reading, decoding and queueing for everyone, owns one slot; every other worker owns two.
 * With two workers the capture thread thus parses a third of the flows and the other thread two
 * thirds, which balances the two cores; an even split left the capture thread the bottleneck.
 */
static int
worker_of_slot(uint64_t slot)
{
    return slot == 0 ? 0 : (int)((slot + 1) / 2);
}

/* The share of the caps (flows, stream and parser memory) that worker i gets, in slots. */
static uint64_t
worker_slots(int i)
{
    return i == 0 ? 1 : 2;
}

/* Hands a decoded packet (or reassembled datagram) to its worker. */
static void
dispatch(struct pipeline *pl, const struct packet *p, enum rec_kind kind)
{
    if (!pl->threaded) {
        worker_packet(&pl->workers[0], p);
        return;
    }
    int wi = 0;
    if (p->ip_version) {
        struct flow_key key;
        flow_key_from_packet(p, &key);
        wi = worker_of_slot(flow_key_hash(&key) % (uint64_t)(2 * pl->n_workers - 1));
    }
    if (wi == 0) {
        worker_packet(&pl->workers[0], p);
        return;
    }
    struct rec r = {.kind = (uint8_t)kind,
                    .n_vlan = p->n_vlan,
                    .link = p->link,
                    .caplen = p->caplen,
                    .wire_len = p->wire_len,
                    .ts_us = p->ts_us};
    memcpy(r.vlan, p->vlan, sizeof(r.vlan));
    uint32_t len = p->caplen;
    size_t max = ring_max_record(&pl->workers[wi].ring) - sizeof(r);
    if (len > max)
        len = r.caplen = (uint32_t)max;
    send_record(&pl->workers[wi], &r, p->data, len);
    if (pl->live || ++pl->n_unpublished >= PUBLISH_EVERY)
        publish_all(pl);
}

static void
handle_packet(struct pipeline *pl, const struct capture_packet *cp)
{
    struct packet p;
    p.ts_us = cp->ts_us;
    p.data = cp->data;
    p.caplen = cp->caplen;
    p.wire_len = cp->wire_len;
    p.link = cp->link;
    pl->n_packets++;
    pl->n_bytes += cp->wire_len;
    detect_poll(pl->detect);
    if (pl->first_ts_us == 0)
        pl->first_ts_us = cp->ts_us;
    if (cp->ts_us > pl->last_ts_us)
        pl->last_ts_us = cp->ts_us;
    tick(pl, cp->ts_us);
    decode_packet(&p, &pl->decode);
    if (p.ip_version == 0) {
        pl->n_no_ip++;
        /* Still a packet; worker 0, on this thread, counts it. It just has no flow. */
        pl->workers[0].n_packets++;
        return;
    }
    if (!p.is_fragment) {
        dispatch(pl, &p, REC_PACKET);
        return;
    }
    struct defrag_result res;
    if (defrag_add(pl->defrag, &p, &pl->decode, &res) != 1)
        return;
    pl->n_datagrams++;
    struct packet q;
    q.ts_us = res.ts_us;
    q.wire_len = res.wire_len;
    q.link = LINK_RAW;
    q.n_vlan = p.n_vlan;
    memcpy(q.vlan, p.vlan, sizeof(q.vlan));
    decode_ip(&q, res.data, res.len, &pl->decode);
    dispatch(pl, &q, REC_DATAGRAM);
}

static double
now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
sum_reasm(struct reasm_stats *acc, const struct reasm_stats *s)
{
    acc->n_segments += s->n_segments;
    acc->n_out_of_order += s->n_out_of_order;
    acc->n_retransmissions += s->n_retransmissions;
    acc->n_overlaps += s->n_overlaps;
    acc->n_overlap_diff += s->n_overlap_diff;
    acc->n_gaps += s->n_gaps;
    acc->gap_bytes += s->gap_bytes;
    acc->n_dir_cap += s->n_dir_cap;
    acc->n_memcap += s->n_memcap;
    acc->n_after_fin += s->n_after_fin;
    acc->bytes_delivered += s->bytes_delivered;
    acc->held_len += s->held_len;
    acc->held_len_max += s->held_len_max;
}

static void
sum_app(struct app_stats *acc, const struct app_stats *s)
{
    for (int i = 0; i < PROTO_COUNT; i++) {
        acc->proto[i].n_flows += s->proto[i].n_flows;
        acc->proto[i].n_events += s->proto[i].n_events;
        acc->proto[i].n_gave_up += s->proto[i].n_gave_up;
    }
    acc->n_unknown += s->n_unknown;
    acc->n_memcap += s->n_memcap;
}

static void
sum_flow(struct flow_stats *acc, const struct flow_stats *s)
{
    acc->n_created += s->n_created;
    acc->n_timed_out += s->n_timed_out;
    acc->n_evicted += s->n_evicted;
    acc->n_reused += s->n_reused;
    acc->n_shutdown += s->n_shutdown;
    acc->n_active += s->n_active;
    acc->n_active_max += s->n_active_max;
}

int
sensor_run(const struct sensor_config *cfg, struct sensor_stats *stats, sensor_progress_fn progress,
           void *progress_user, struct errbuf *eb)
{
    int rc = 0, trunc_rc = 0;
    struct errbuf trunc_eb = {""};
    struct capture *cap = NULL;
    struct eve_sink sink;
    bool sink_open = false;
    struct pipeline pl;
    memset(&pl, 0, sizeof(pl));
    memset(stats, 0, sizeof(*stats));
    pl.cfg = cfg;
    pl.n_workers = (int)cfg->workers;
    pl.threaded = pl.n_workers > 1;
    stop_requested = 0;
    double t0 = now_s();

    if (cfg->read.n > 0 && cfg->interface)
        return err_set(eb, IASO_E_USAGE, "give either --read or --interface, not both");
    if (cfg->read.n > 0) {
        rc = capture_open_files(cfg->read.items, cfg->read.n, &cap, eb);
    } else if (cfg->interface) {
        rc = capture_open_live(cfg->interface, (int)cfg->snaplen, cfg->buffer_size, &cap, eb);
        pl.live = true;
    } else {
        return err_set(eb, IASO_E_USAGE, "nothing to read: give --read FILE or --interface IF");
    }
    if (rc < 0)
        goto out;

    struct phi phi;
    rc = phi_load_key(&phi, cfg->site_key, eb);
    if (rc < 0)
        goto out;
    phi.clear = cfg->phi_clear;

    struct detect_config dcfg_det = {
        .indicators = cfg->indicators.items,
        .n_indicators = cfg->indicators.n,
        .home_net = cfg->home_net,
        .baseline_path = cfg->baseline_path,
        .learn = cfg->learn,
        .learn_us = (uint64_t)cfg->learn_period_ms * 1000,
        .thresholds = cfg->thresholds.items,
        .n_thresholds = cfg->thresholds.n,
        .gate = {(uint32_t)cfg->alert_burst, (uint64_t)cfg->alert_window_ms * 1000},
        .n_workers = pl.n_workers,
    };
    uint8_t hash_mask = 0;
    if (cfg->file_hashes && (rc = parse_file_hashes(cfg->file_hashes, &hash_mask, eb)) < 0)
        goto out;
    rc = detect_new(&dcfg_det, true, &pl.detect, eb);
    if (rc < 0)
        goto out;

    rc = eve_sink_open(&sink, cfg->eve_path, eb);
    if (rc < 0)
        goto out;
    sink_open = true;

    struct defrag_config dcfg = {(uint64_t)cfg->defrag_memcap, (uint32_t)cfg->defrag_max,
                                 (uint64_t)cfg->defrag_timeout_ms * 1000};
    pl.defrag = defrag_new(&dcfg);
    pl.workers = calloc((size_t)pl.n_workers, sizeof(*pl.workers));
    if (!pl.defrag || !pl.workers) {
        rc = err_set(eb, IASO_E_NOMEM, "out of memory");
        goto out;
    }
    /* Caps are for all workers together: each worker gets its share. */
    struct flow_config fcfg;
    int64_t flow_max = cfg->flow_max;
    int64_t by_mem = cfg->flow_memcap / (int64_t)(sizeof(struct flow) + 2 * sizeof(uint32_t));
    if (by_mem < flow_max)
        flow_max = by_mem;
    for (int i = 0; i < FLOW_TO_COUNT; i++)
        fcfg.timeout_us[i] = (uint64_t)cfg->timeout_ms[i] * 1000;
    uint64_t n_slots = (uint64_t)(2 * pl.n_workers - 1);
    for (int i = 0; i < pl.n_workers; i++) {
        struct worker *w = &pl.workers[i];
        /* Each worker's caps are its share of the totals, as it gets its share of the flows. */
        uint64_t share = worker_slots(i);
        uint64_t wmax = (uint64_t)flow_max * share / n_slots;
        fcfg.max_flows = (uint32_t)(wmax > 64 ? wmax : 64);
        struct reasm_config rcfg = {.max_dir_bytes = (uint32_t)cfg->stream_dir_max,
                                    .max_total_bytes =
                                        (uint64_t)cfg->stream_memcap * share / n_slots};
        w->id = i;
        w->sink = &sink;
        buf_init(&w->eve, 0);
        reasm_init(&w->reasm, &rcfg, &stream_ops, w);
        /* Without parsers the application layer gets no memory, so it parses nothing. */
        app_layer_init(&w->app, &phi,
                       cfg->no_parsers ? 0 : (uint64_t)cfg->app_memcap * share / n_slots,
                       on_app_event, w);
        if (cfg->inventory_path) {
            w->inv = inventory_new((uint32_t)cfg->inventory_max);
            if (!w->inv) {
                rc = err_set(eb, IASO_E_NOMEM, "out of memory for the inventory");
                goto out;
            }
        }
        detect_worker_init(&w->det, pl.detect, on_alert, w);
        w->hash_mask = hash_mask;
        w->hash_auto = cfg->file_hashes == NULL;
        worker_sync(w);
        w->flows = flow_table_new(&fcfg, on_flow_end, w);
        if (!w->flows) {
            rc = err_set(eb, IASO_E_NOMEM, "out of memory for the flow table");
            goto out;
        }
        if (i > 0) {
            if (ring_init(&w->ring, (size_t)cfg->queue_size) < 0) {
                rc = err_set(eb, IASO_E_NOMEM, "out of memory for the worker queues");
                goto out;
            }
            w->has_ring = true;
        }
    }
    if (pl.threaded) {
        for (int i = 1; i < pl.n_workers; i++) {
            struct worker *w = &pl.workers[i];
            int prc = pthread_create(&w->thread, NULL, worker_main, w);
            if (prc != 0) {
                rc = err_set(eb, -prc, "cannot start worker thread: %s", strerror(prc));
                goto out;
            }
            w->has_thread = true;
        }
    }

    stats->setup_s = now_s() - t0;
    running_capture = cap;
    running_detect = pl.detect;
    if (stop_requested)
        capture_stop(cap);
    double next_progress = t0 + 1.0;
    for (;;) {
        struct capture_packet cp;
        struct errbuf ceb = {""};
        int n = capture_next(cap, &cp, &ceb);
        if (n == 0)
            break;
        if (n < 0) {
            if (n == IASO_E_TRUNC) {
                /* Keep going with the other files; report the first cut at the end. */
                if (!trunc_rc) {
                    trunc_rc = n;
                    trunc_eb = ceb;
                }
                continue;
            }
            rc = err_set(eb, n, "%s", ceb.msg);
            break;
        }
        handle_packet(&pl, &cp);
        if (progress && (pl.n_packets & 0xffff) == 0) {
            double t = now_s();
            if (t >= next_progress) {
                next_progress = t + 1.0;
                struct capture_progress cpr;
                capture_progress(cap, &cpr);
                struct sensor_progress sp = {pl.n_packets, pl.n_bytes, cpr.bytes_read,
                                             cpr.bytes_total, t - t0};
                progress(progress_user, &sp);
            }
        }
    }
    running_capture = NULL;

    if (pl.live) {
        struct capture_live_stats ls;
        if (capture_live_stats(cap, &ls) == 0) {
            stats->is_live = true;
            stats->n_kernel_received = ls.n_received;
            stats->n_kernel_dropped = ls.n_dropped;
            stats->n_if_dropped = ls.n_if_dropped;
        }
    }

out:
    running_capture = NULL;
    running_detect = NULL;
    /* Stop the workers: each ends its flows and writes its events out. */
    if (pl.workers) {
        struct rec end = {.kind = REC_END};
        for (int i = 1; i < pl.n_workers; i++) {
            struct worker *w = &pl.workers[i];
            if (w->has_thread) {
                send_record(w, &end, NULL, 0);
                ring_publish(&w->ring);
            }
        }
        /* Worker 0 runs on this thread: end its flows while the others end theirs. */
        if (pl.workers[0].flows) {
            flow_table_flush(pl.workers[0].flows);
            worker_flush_eve(&pl.workers[0]);
        }
        for (int i = 1; i < pl.n_workers; i++)
            if (pl.workers[i].has_thread)
                pthread_join(pl.workers[i].thread, NULL);
        for (int i = 0; i < pl.n_workers; i++) {
            struct worker *w = &pl.workers[i];
            if (w->flows) {
                sum_flow(&stats->flow, flow_table_stats(w->flows));
                stats->flow_bytes_each = flow_table_bytes_each(w->flows);
                flow_table_free(w->flows);
            }
            sum_reasm(&stats->reasm, &w->reasm.stats);
            sum_app(&stats->app, &w->app.stats);
            stats->app_mem_max += w->app.mem.used_max;
            stats->app_mem_refused += w->app.mem.n_refused;
            reasm_release(&w->reasm);
            buf_release(&w->eve);
            if (w->has_ring) {
                stats->n_queue_waits += w->ring.n_producer_waits;
                ring_release(&w->ring);
            }
            stats->n_no_flow += w->n_no_flow;
            if (i < 64)
                stats->n_worker_packets[i] = w->n_packets;
            if (w->err && rc == 0)
                rc = w->err;
        }
        stats->n_workers = pl.n_workers;
        if (pl.detect) {
            const struct detect_worker *dws[64];
            int n = pl.n_workers < 64 ? pl.n_workers : 64;
            for (int i = 0; i < n; i++)
                dws[i] = &pl.workers[i].det;
            detect_stats(pl.detect, dws, n, &stats->detect);
        }
        /* One inventory from all workers' views, written once. */
        struct inventory *inv = pl.workers[0].inv;
        for (int i = 1; i < pl.n_workers && inv; i++)
            if (pl.workers[i].inv)
                inventory_merge(inv, pl.workers[i].inv);
        if (inv && rc == 0) {
            stats->n_inventory_hosts = inventory_n_hosts(inv);
            stats->n_inventory_dropped = inventory_n_dropped(inv);
            rc = inventory_write(inv, cfg->inventory_path, eb);
        }
        for (int i = 0; i < pl.n_workers; i++)
            inventory_free(pl.workers[i].inv);
        free(pl.workers);
    }
    if (pl.detect) {
        /* Saves the baseline. */
        struct errbuf deb = {""};
        int drc = detect_free(pl.detect, &deb);
        if (drc < 0 && rc == 0)
            rc = err_set(eb, drc, "%s", deb.msg);
    }
    if (pl.defrag)
        stats->defrag_mem_len = defrag_mem_len(pl.defrag);
    defrag_free(pl.defrag);
    stats->n_packets = pl.n_packets;
    stats->n_bytes = pl.n_bytes;
    stats->n_no_ip = pl.n_no_ip;
    stats->decode = pl.decode;
    for (int i = 0; i < DECODE_EV_COUNT; i++)
        stats->n_decode_events += pl.decode.n_events[i];
    stats->n_datagrams_reassembled = pl.n_datagrams;
    stats->first_ts_us = pl.first_ts_us;
    stats->last_ts_us = pl.last_ts_us;
    if (sink_open) {
        stats->n_eve_bytes = sink.n_bytes;
        struct errbuf seb = {""};
        int src = eve_sink_close(&sink, &seb);
        if (src < 0 && rc == 0)
            rc = err_set(eb, src, "%s", seb.msg);
        else if (rc < 0 && rc == src)
            err_set(eb, rc, "%s", seb.msg);
    }
    capture_close(cap);
    stats->wall_s = now_s() - t0;
    if (rc == 0 && trunc_rc) {
        rc = trunc_rc;
        *eb = trunc_eb;
    }
    return rc;
}
