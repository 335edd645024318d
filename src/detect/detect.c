// SPDX-License-Identifier: Apache-2.0
// Detection glue: indicators, baseline and behaviour behind one interface; see detect.h.
#include "detect/detect.h"

#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <xxhash.h>

#include "base/log.h"
#include "base/timefmt.h"
#include "proto/dicom.h"
#include "proto/dns.h"
#include "proto/filehash.h"
#include "proto/hl7.h"
#include "proto/http.h"
#include "proto/smb2.h"
#include "proto/tls.h"
#ifdef IASO_HAVE_BEHAVE
#include "detect/behave.h"
#endif
#ifdef IASO_HAVE_BASELINE
#include "detect/baseline.h"
#endif

#define BASELINE_SAVE_EVERY_S 60.0 /* the baseline is written this often while the sensor runs */

/* What a file looked like when it was last loaded, to notice a change. */
struct file_sig {
    int64_t mtime_ns;
    int64_t size;
    uint64_t ino;
};

struct detect {
    struct detect_config cfg;
    /* indicators, as the workers see them */
    _Atomic(struct ioc_store *) cur;
    struct ioc_store *old; /* swapped out, freed once every worker moved on */
    atomic_uint gen;       /* bumped at each swap */
    atomic_int n_synced;   /* workers on the current generation */
    /* reloading: the watcher thread builds `next`; lock guards the fields below it */
    atomic_int reload_asked; /* set by SIGHUP */
    atomic_int ready;        /* next is built and waits to be swapped in */
    pthread_t watcher;
    bool has_watcher;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool stopping;
    struct file_sig *sigs; /* per indicator path, as last loaded */
    double next_check_s;
    double next_save_s; /* of the baseline */
    struct ioc_store *next;
    double next_load_s;
    uint64_t n_reloads, n_reload_failures;
    double last_load_s;
#ifdef IASO_HAVE_BEHAVE
    struct behave *behave;
#endif
#ifdef IASO_HAVE_BASELINE
    struct baseline *baseline;
#endif
};

static double
mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
file_sig_of(const char *path, struct file_sig *sig)
{
    struct stat st;
    memset(sig, 0, sizeof(*sig));
    if (stat(path, &st) != 0)
        return;
    sig->mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
    sig->size = (int64_t)st.st_size;
    sig->ino = (uint64_t)st.st_ino;
    if (S_ISDIR(st.st_mode)) {
        /* A MISP feed: its manifest changes when the feed does. */
        char m[4096];
        snprintf(m, sizeof(m), "%s/manifest.json", path);
        if (stat(m, &st) == 0) {
            sig->mtime_ns ^= (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
            sig->size ^= (int64_t)st.st_size;
        }
    }
}

static void
print_report(const char *path, const struct ioc_load_report *r)
{
    fprintf(stderr,
            "iaso: indicators: %s (%s): %llu loaded from %llu records, %llu duplicates, "
            "%llu expired, %llu unsupported, %llu invalid, %llu skipped\n",
            path, ioc_format_name(r->format), (unsigned long long)r->n_loaded,
            (unsigned long long)r->n_records, (unsigned long long)r->n_duplicate,
            (unsigned long long)r->n_expired, (unsigned long long)r->n_unsupported,
            (unsigned long long)r->n_invalid, (unsigned long long)r->n_skipped);
    for (uint32_t i = 0; i < r->n_reasons; i++)
        fprintf(stderr, "iaso: indicators: %s: %llu %s: %s\n", path,
                (unsigned long long)r->reasons[i].n,
                r->reasons[i].unsupported ? "unsupported" : "invalid", r->reasons[i].reason);
}

/* Builds a store from every indicator file. */
static int
load_all(const struct detect_config *cfg, bool report, struct ioc_store **out,
         struct file_sig *sigs, struct errbuf *eb)
{
    struct ioc_store *s = ioc_store_new();
    if (!s)
        return err_set(eb, IASO_E_NOMEM, "out of memory for the indicators");
    for (size_t i = 0; i < cfg->n_indicators; i++) {
        struct ioc_load_report r;
        memset(&r, 0, sizeof(r));
        file_sig_of(cfg->indicators[i], &sigs[i]);
        struct errbuf leb = {""};
        int rc = ioc_load_path(s, cfg->indicators[i], IOC_FMT_AUTO, NULL, &r, &leb);
        if (rc < 0) {
            ioc_store_free(s);
            return err_set(eb, rc, "indicators: %s: %s", cfg->indicators[i], leb.msg);
        }
        if (report)
            print_report(cfg->indicators[i], &r);
    }
    ioc_store_seal(s);
    *out = s;
    return 0;
}

static void *watcher_main(void *arg);

#ifdef IASO_HAVE_BEHAVE
static int
behave_setup(struct detect *d, struct errbuf *eb)
{
    struct behave_config bc;
    behave_config_defaults(&bc);
    for (size_t i = 0; i < d->cfg.n_thresholds; i++) {
        int rc = behave_config_set(&bc, d->cfg.thresholds[i], eb);
        if (rc < 0)
            return rc;
    }
    d->behave = behave_new(&bc, d->cfg.home_net, eb);
    return d->behave ? 0 : IASO_E_USAGE;
}
#endif

int
detect_new(const struct detect_config *cfg, bool report, struct detect **out, struct errbuf *eb)
{
    int rc = IASO_E_NOMEM;
    *out = NULL;
    struct detect *d = calloc(1, sizeof(*d));
    if (!d)
        return err_set(eb, IASO_E_NOMEM, "out of memory");
    d->cfg = *cfg;
    d->sigs = calloc(cfg->n_indicators + 1, sizeof(*d->sigs));
    if (!d->sigs) {
        free(d);
        return err_set(eb, IASO_E_NOMEM, "out of memory");
    }
    struct ioc_store *s = NULL;
    if (cfg->n_indicators > 0) {
        double t0 = mono_s();
        if ((rc = load_all(cfg, report, &s, d->sigs, eb)) < 0)
            goto fail;
        d->last_load_s = mono_s() - t0;
    }
    atomic_init(&d->cur, s);
    atomic_init(&d->gen, 1);
    atomic_init(&d->n_synced, 0);
    atomic_init(&d->reload_asked, 0);
    atomic_init(&d->ready, 0);
    pthread_mutex_init(&d->lock, NULL);
    pthread_cond_init(&d->cond, NULL);
    d->next_check_s = mono_s() + 1.0;
#ifdef IASO_HAVE_BEHAVE
    if ((rc = behave_setup(d, eb)) < 0)
        goto fail;
#else
    if (cfg->n_thresholds > 0) {
        rc = err_set(eb, IASO_E_USAGE, "--threshold: no behaviour detectors are built in");
        goto fail;
    }
#endif
#ifdef IASO_HAVE_BASELINE
    if (cfg->baseline_path) {
        struct baseline_config bc = {.learn = cfg->learn, .auto_learn_us = cfg->learn_us};
        d->baseline = baseline_open(cfg->baseline_path, &bc, eb);
        if (!d->baseline) {
            rc = IASO_E_FORMAT;
            goto fail;
        }
    }
#else
    if (cfg->baseline_path) {
        rc = err_set(eb, IASO_E_USAGE, "--baseline: the baseline is not built in");
        goto fail;
    }
#endif
    d->next_save_s = mono_s() + BASELINE_SAVE_EVERY_S;
    if (cfg->n_indicators > 0 || cfg->baseline_path) {
        if (pthread_create(&d->watcher, NULL, watcher_main, d) != 0) {
            rc = err_set(eb, IASO_E_NOMEM, "cannot start the indicator watcher thread");
            goto fail;
        }
        d->has_watcher = true;
    }
    *out = d;
    return 0;
fail:
    ioc_store_free(s);
#ifdef IASO_HAVE_BASELINE
    baseline_free(d->baseline);
#endif
#ifdef IASO_HAVE_BEHAVE
    behave_free(d->behave);
#endif
    free(d->sigs);
    free(d);
    return rc;
}

int
detect_free(struct detect *d, struct errbuf *eb)
{
    int rc = 0;
    if (!d)
        return 0;
    if (d->has_watcher) {
        pthread_mutex_lock(&d->lock);
        d->stopping = true;
        pthread_cond_signal(&d->cond);
        pthread_mutex_unlock(&d->lock);
        pthread_join(d->watcher, NULL);
    }
    ioc_store_free(d->next);
#ifdef IASO_HAVE_BASELINE
    if (d->baseline) {
        rc = baseline_save(d->baseline, d->cfg.baseline_path, eb);
        baseline_free(d->baseline);
    }
#else
    (void)eb;
#endif
#ifdef IASO_HAVE_BEHAVE
    behave_free(d->behave);
#endif
    ioc_store_free(atomic_load(&d->cur));
    ioc_store_free(d->old);
    pthread_mutex_destroy(&d->lock);
    pthread_cond_destroy(&d->cond);
    free(d->sigs);
    free(d);
    return rc;
}

void
detect_worker_init(struct detect_worker *dw, struct detect *d, alert_out_fn out, void *user)
{
    memset(dw, 0, sizeof(*dw));
    dw->d = d;
    alert_gate_init(&dw->gate, &d->cfg.gate, out, user);
    dw->gen = 0;
    detect_worker_sync(dw);
}

void
detect_worker_sync(struct detect_worker *dw)
{
    struct detect *d = dw->d;
    unsigned g = atomic_load_explicit(&d->gen, memory_order_acquire);
    if (g == dw->gen)
        return;
    dw->ioc = atomic_load_explicit(&d->cur, memory_order_acquire);
    dw->gen = g;
    atomic_fetch_add_explicit(&d->n_synced, 1, memory_order_release);
}

/* ---- reloading ---- */

void
detect_request_reload(struct detect *d)
{
    if (d)
        atomic_store(&d->reload_asked, 1);
}

static bool
files_changed(struct detect *d)
{
    for (size_t i = 0; i < d->cfg.n_indicators; i++) {
        struct file_sig now;
        file_sig_of(d->cfg.indicators[i], &now);
        if (memcmp(&now, &d->sigs[i], sizeof(now)) != 0)
            return true;
    }
    return false;
}

/*
 * The watcher thread: once a second (or at once on SIGHUP) it checks the files; when one
 * changed or a reload was asked, it builds a new store and leaves it in d->next for the capture
 * thread to swap in, then waits for that before it looks again.
 */
static void *
watcher_main(void *arg)
{
    struct detect *d = arg;
    pthread_mutex_lock(&d->lock);
    while (!d->stopping) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += 200L * 1000 * 1000; /* SIGHUP is noticed within 0.2 s */
        if (until.tv_nsec >= 1000000000) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&d->cond, &d->lock, &until);
        if (d->stopping)
            break;
#ifdef IASO_HAVE_BASELINE
        if (d->baseline && mono_s() >= d->next_save_s) {
            /* The baseline reaches the file while the sensor runs, and the operator's edits
             * (accept, remove) reach the sensor. */
            d->next_save_s = mono_s() + BASELINE_SAVE_EVERY_S;
            pthread_mutex_unlock(&d->lock);
            struct errbuf beb = {""};
            if (baseline_save(d->baseline, d->cfg.baseline_path, &beb) < 0)
                log_warn("baseline not saved: %s", beb.msg);
            pthread_mutex_lock(&d->lock);
            continue;
        }
#endif
        if (d->cfg.n_indicators == 0 || atomic_load(&d->ready))
            continue; /* nothing to watch, or the last one is not swapped in yet */
        bool asked = atomic_exchange(&d->reload_asked, 0) != 0;
        double now = mono_s();
        if (!asked && now < d->next_check_s)
            continue;
        d->next_check_s = now + 1.0;
        if (!asked && !files_changed(d))
            continue;
        pthread_mutex_unlock(&d->lock);
        struct file_sig *sigs = calloc(d->cfg.n_indicators, sizeof(*sigs));
        struct ioc_store *next = NULL;
        struct errbuf eb = {""};
        double t0 = mono_s();
        int rc = sigs ? load_all(&d->cfg, false, &next, sigs, &eb)
                      : err_set(&eb, IASO_E_NOMEM, "out of memory");
        double took = mono_s() - t0;
        pthread_mutex_lock(&d->lock);
        if (sigs) /* the files as tried: a broken file is not retried until it changes */
            memcpy(d->sigs, sigs, d->cfg.n_indicators * sizeof(*sigs));
        free(sigs);
        if (rc < 0) {
            d->n_reload_failures++;
            log_warn("indicators not reloaded, the ones loaded before stay in use: %s", eb.msg);
            continue;
        }
        d->next = next;
        d->next_load_s = took;
        atomic_store_explicit(&d->ready, 1, memory_order_release);
    }
    pthread_mutex_unlock(&d->lock);
    return NULL;
}

void
detect_poll(struct detect *d)
{
    /* The store swapped out last time: freed once every worker has the new one. */
    if (d->old && atomic_load_explicit(&d->n_synced, memory_order_acquire) >= d->cfg.n_workers) {
        ioc_store_free(d->old);
        d->old = NULL;
    }
    if (!atomic_load_explicit(&d->ready, memory_order_acquire) || d->old)
        return;
    pthread_mutex_lock(&d->lock);
    d->old = atomic_load(&d->cur);
    atomic_store_explicit(&d->n_synced, 0, memory_order_relaxed);
    atomic_store_explicit(&d->cur, d->next, memory_order_release);
    atomic_fetch_add_explicit(&d->gen, 1, memory_order_release);
    d->next = NULL;
    d->n_reloads++;
    d->last_load_s = d->next_load_s;
    atomic_store_explicit(&d->ready, 0, memory_order_release);
    pthread_mutex_unlock(&d->lock);
    struct ioc_store_stats st;
    ioc_store_stats(atomic_load(&d->cur), &st);
    log_info("indicators reloaded: %llu in %.2f s", (unsigned long long)st.n_indicators,
             d->last_load_s);
}

/* ---- indicator matching ---- */

static void
json_time(struct jsonw *w, int64_t us)
{
    char s[TIMEFMT_UTC_LEN + 1];
    timefmt_utc(us > 0 ? (uint64_t)us : 0, s, sizeof(s));
    jsonw_str(w, s);
}

void
detect_ioc_evidence(struct jsonw *w, const void *arg)
{
    const struct detect_ioc_evidence *e = arg;
    struct ioc_meta m;
    ioc_hit_meta(e->store, &e->hit, &m);
    jsonw_key(w, "field");
    jsonw_str(w, e->field);
    jsonw_key(w, "indicator");
    jsonw_object_begin(w);
    jsonw_key(w, "type");
    jsonw_str(w, ioc_type_name(e->hit.type));
    jsonw_key(w, "value");
    jsonw_str(w, e->hit.value);
    if (e->hit.type == IOC_DOMAIN) {
        jsonw_key(w, "subdomains");
        jsonw_bool(w, e->hit.kind == IOC_KIND_SUBDOMAINS);
    }
    if (m.id) {
        jsonw_key(w, "id");
        jsonw_str(w, m.id);
    }
    if (m.source) {
        jsonw_key(w, "source");
        jsonw_str(w, m.source);
    }
    if (m.name) {
        jsonw_key(w, "name");
        jsonw_str(w, m.name);
    }
    if (m.tlp != IOC_TLP_NONE) {
        jsonw_key(w, "tlp");
        jsonw_str(w, ioc_tlp_name(m.tlp));
    }
    if (m.confidence >= 0) {
        jsonw_key(w, "confidence");
        jsonw_i64(w, m.confidence);
    }
    if (m.valid_from_us) {
        jsonw_key(w, "valid_from");
        json_time(w, m.valid_from_us);
    }
    if (m.valid_until_us) {
        jsonw_key(w, "valid_until");
        json_time(w, m.valid_until_us);
    }
    jsonw_object_end(w);
}

/* An indicator hit: one alert per flow, rule and indicator. */
static void
ioc_alert(struct detect_worker *dw, enum rule_id rule, const struct flow *f, int src_side,
          uint64_t ts_us, const char *app, const char *field, const struct ioc_hit *hit)
{
    struct detect_ioc_evidence e = {dw->ioc, *hit, field};
    struct alert a = {rule,
                      f,
                      src_side,
                      ts_us,
                      XXH3_64bits(hit->value, strlen(hit->value)) ^ hit->type,
                      app,
                      detect_ioc_evidence,
                      &e,
                      true};
    alert_raise(&dw->gate, &a);
}

void
detect_flow_new(struct detect_worker *dw, const struct flow *f, uint64_t ts_us)
{
    detect_worker_sync(dw);
    const struct ioc_store *s = dw->ioc;
    if (s) {
        struct ioc_hit hit;
        int cs = f->client, ss = !f->client;
        int v = f->key.ip_version;
        if (ioc_match_ip(s, v, f->key.addr[ss].b, (int64_t)ts_us, &hit))
            ioc_alert(dw, RULE_IOC_IP, f, FLOW_TOSERVER, ts_us, NULL, "dest_ip", &hit);
        else if (ioc_match_ip(s, v, f->key.addr[cs].b, (int64_t)ts_us, &hit))
            ioc_alert(dw, RULE_IOC_IP, f, FLOW_TOSERVER, ts_us, NULL, "src_ip", &hit);
    }
#ifdef IASO_HAVE_BEHAVE
    if (dw->d->behave)
        behave_flow_new(dw->d->behave, &dw->gate, f, ts_us);
#endif
}

void
detect_flow_end(struct detect_worker *dw, const struct flow *f, enum proto_id app)
{
#ifdef IASO_HAVE_BEHAVE
    if (dw->d->behave)
        behave_flow_end(dw->d->behave, &dw->gate, f, app);
#else
    (void)dw;
    (void)f;
    (void)app;
#endif
}

/* A file that passed whole: its digests against the hash indicators. */
static void
file_indicators(struct detect_worker *dw, const struct flow *f, const struct proto_event *ev,
                const struct filehash_digest *d, int src_side, const char *field)
{
    if (!d->done)
        return;
    static const struct {
        enum ioc_type type;
        size_t off;
    } kinds[] = {
        {IOC_SHA256, offsetof(struct filehash_digest, sha256)},
        {IOC_SHA1, offsetof(struct filehash_digest, sha1)},
        {IOC_MD5, offsetof(struct filehash_digest, md5)},
    };
    struct ioc_hit hit;
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        const char *hex = (const char *)d + kinds[i].off;
        if (hex[0] &&
            ioc_match(dw->ioc, kinds[i].type, hex, strlen(hex), (int64_t)ev->ts_us, &hit)) {
            ioc_alert(dw, RULE_IOC_FILE_HASH, f, src_side, ev->ts_us, proto_name(ev->proto), field,
                      &hit);
            return;
        }
    }
}

uint8_t
detect_file_hash_mask(const struct ioc_store *s)
{
    struct ioc_store_stats st;
    ioc_store_stats(s, &st);
    return (uint8_t)((st.n_type[IOC_MD5] ? PROTO_HASH_MD5 : 0) |
                     (st.n_type[IOC_SHA1] ? PROTO_HASH_SHA1 : 0) |
                     (st.n_type[IOC_SHA256] ? PROTO_HASH_SHA256 : 0));
}

/* The indicators an event names. */
static void
event_indicators(struct detect_worker *dw, const struct flow *f, const struct proto_event *ev)
{
    const struct ioc_store *s = dw->ioc;
    int64_t now = (int64_t)ev->ts_us;
    struct ioc_hit hit;
    const char *app = proto_name(ev->proto);
    switch (ev->proto) {
    case PROTO_DNS: {
        const struct dns_event *e = ev->data;
        if (ev->kind == DNS_EVENT_QUERY && e->has_question &&
            ioc_match_domain(s, e->rrname, e->rrname_len, now, &hit))
            ioc_alert(dw, RULE_IOC_DOMAIN, f, FLOW_TOSERVER, ev->ts_us, app, "dns.rrname", &hit);
        break;
    }
    case PROTO_TLS:
        if (ev->kind == TLS_EVENT_CLIENT_HELLO) {
            const struct tls_client_hello *h = ev->data;
            if (h->sni.len && ioc_match_domain(s, (const char *)h->sni.ptr, h->sni.len, now, &hit))
                ioc_alert(dw, RULE_IOC_DOMAIN, f, FLOW_TOSERVER, ev->ts_us, app, "tls.sni", &hit);
            if (ioc_match(s, IOC_JA3, h->ja3_hash, strlen(h->ja3_hash), now, &hit))
                ioc_alert(dw, RULE_IOC_JA3, f, FLOW_TOSERVER, ev->ts_us, app, "tls.ja3.hash", &hit);
            if (ioc_match(s, IOC_JA4, h->ja4, strlen(h->ja4), now, &hit))
                ioc_alert(dw, RULE_IOC_JA4, f, FLOW_TOSERVER, ev->ts_us, app, "tls.ja4", &hit);
        } else if (ev->kind == TLS_EVENT_SERVER_HELLO) {
            const struct tls_server_hello *h = ev->data;
            if (ioc_match(s, IOC_JA3S, h->ja3s_hash, strlen(h->ja3s_hash), now, &hit))
                ioc_alert(dw, RULE_IOC_JA3S, f, FLOW_TOCLIENT, ev->ts_us, app, "tls.ja3s.hash",
                          &hit);
        }
        break;
    case PROTO_HTTP: {
        const struct http_txn *t = ev->data;
        size_t hl = strlen(t->hostname);
        /* The host without its port, as a domain name. */
        const char *colon = memchr(t->hostname, ':', hl);
        size_t dl = colon && t->hostname[0] != '[' ? (size_t)(colon - t->hostname) : hl;
        if (dl && ioc_match_domain(s, t->hostname, dl, now, &hit))
            ioc_alert(dw, RULE_IOC_DOMAIN, f, FLOW_TOSERVER, ev->ts_us, app, "http.hostname", &hit);
        if (ioc_match_url(s, t->hostname, hl, t->url, strlen(t->url), now, &hit))
            ioc_alert(dw, RULE_IOC_URL, f, FLOW_TOSERVER, ev->ts_us, app, "http.url", &hit);
        /* A download: the server sent it; an upload: the client did. */
        file_indicators(dw, f, ev, &t->resp_file, FLOW_TOCLIENT, "http.file");
        file_indicators(dw, f, ev, &t->req_file, FLOW_TOSERVER, "http.request_file");
        break;
    }
    case PROTO_SMB2:
        if (ev->kind == SMB2_EV_CLOSE) {
            const struct smb2_event *e = ev->data;
            file_indicators(dw, f, ev, &e->file, e->file_written ? FLOW_TOSERVER : FLOW_TOCLIENT,
                            "smb2.file");
        }
        break;
    case PROTO_DICOM:
        if (ev->kind == DICOM_EVENT_ASSOCIATE_RQ) {
            const struct dicom_associate *a = ev->data;
            if (ioc_match(s, IOC_DICOM_AE, a->calling_ae, strlen(a->calling_ae), now, &hit))
                ioc_alert(dw, RULE_IOC_DICOM_AE, f, FLOW_TOSERVER, ev->ts_us, app,
                          "dicom.calling_ae", &hit);
            if (ioc_match(s, IOC_DICOM_AE, a->called_ae, strlen(a->called_ae), now, &hit))
                ioc_alert(dw, RULE_IOC_DICOM_AE, f, FLOW_TOSERVER, ev->ts_us, app,
                          "dicom.called_ae", &hit);
        }
        break;
    case PROTO_HL7:
        if (ev->kind == HL7_EVENT_MESSAGE && ioc_store_has(s, IOC_HL7_APP)) {
            const struct hl7_message *m = ev->data;
            char v[2 * HL7_STR_MAX + 2];
            const struct hl7_hd *sa = &m->sending_application, *sf = &m->sending_facility;
            int n = snprintf(v, sizeof(v), "%.*s^%.*s", (int)sa->ns.len, sa->ns.s, (int)sf->ns.len,
                             sf->ns.s);
            int src = ev->dir == FLOW_TOSERVER ? FLOW_TOSERVER : FLOW_TOCLIENT;
            if (n > 0 && sa->ns.len &&
                (ioc_match(s, IOC_HL7_APP, v, (size_t)n, now, &hit) ||
                 ioc_match(s, IOC_HL7_APP, sa->ns.s, sa->ns.len, now, &hit)))
                ioc_alert(dw, RULE_IOC_HL7_APP, f, src, ev->ts_us, app, "hl7.sending_application",
                          &hit);
        }
        break;
    default:
        break;
    }
}

void
detect_event(struct detect_worker *dw, const struct flow *f, const struct proto_event *ev)
{
    detect_worker_sync(dw);
    if (dw->ioc)
        event_indicators(dw, f, ev);
#ifdef IASO_HAVE_BASELINE
    if (dw->d->baseline)
        baseline_event(dw->d->baseline, &dw->gate, f, ev);
#endif
#ifdef IASO_HAVE_BEHAVE
    if (dw->d->behave)
        behave_event(dw->d->behave, &dw->gate, f, ev);
#endif
}

void
detect_stats(struct detect *d, const struct detect_worker *const *workers, int n,
             struct detect_stats *st)
{
    memset(st, 0, sizeof(*st));
    ioc_store_stats(atomic_load(&d->cur), &st->ioc);
    st->n_indicator_files = d->cfg.n_indicators;
    st->n_reloads = d->n_reloads;
    st->n_reload_failures = d->n_reload_failures;
    st->last_load_s = d->last_load_s;
    for (int i = 0; i < n; i++) {
        const struct alert_stats *a = &workers[i]->gate.stats;
        for (int r = 0; r < RULE_COUNT; r++)
            st->alerts.n_raised[r] += a->n_raised[r];
        st->alerts.n_dedup += a->n_dedup;
        st->alerts.n_ratelimited += a->n_ratelimited;
    }
#ifdef IASO_HAVE_BASELINE
    if (d->baseline) {
        struct baseline_stats bs;
        baseline_stats(d->baseline, &bs);
        st->n_baseline_pairs = bs.n_pairs;
        st->n_baseline_pending = bs.n_pending;
        st->baseline_learning = bs.learning;
    }
#endif
#ifdef IASO_HAVE_BEHAVE
    if (d->behave) {
        struct behave_stats bs;
        behave_stats(d->behave, &bs);
        st->n_behave_sources = bs.n_tracked;
        st->n_behave_evicted = bs.n_evicted;
    }
#endif
}
