// SPDX-License-Identifier: Apache-2.0
// EVE JSON output; see eve.h.
#include "sensor/eve.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/jsonw.h"
#include "base/timefmt.h"

int
eve_sink_open(struct eve_sink *s, const char *path, struct errbuf *eb)
{
    memset(s, 0, sizeof(*s));
    snprintf(s->path, sizeof(s->path), "%s", path);
    if (strcmp(path, "-") == 0) {
        s->fd = STDOUT_FILENO;
    } else {
        s->fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
        if (s->fd < 0) {
            int e = errno;
            return err_set(eb, -e, "%s: cannot open for writing: %s", path, strerror(e));
        }
        s->owns_fd = 1;
    }
    pthread_mutex_init(&s->lock, NULL);
    return 0;
}

int
eve_sink_write(struct eve_sink *s, const void *data, size_t len)
{
    const uint8_t *p = data;
    pthread_mutex_lock(&s->lock);
    while (len > 0 && !s->err) {
        ssize_t n = write(s->fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            s->err = -errno;
            break;
        }
        p += n;
        len -= (size_t)n;
        s->n_bytes += (uint64_t)n;
    }
    int rc = s->err;
    pthread_mutex_unlock(&s->lock);
    return rc;
}

int
eve_sink_close(struct eve_sink *s, struct errbuf *eb)
{
    int rc = s->err;
    if (s->owns_fd && close(s->fd) != 0 && rc == 0)
        rc = -errno;
    pthread_mutex_destroy(&s->lock);
    if (rc < 0)
        return err_set(eb, rc, "%s: writing events failed: %s", s->path, strerror(-rc));
    return 0;
}

static const char *
ip_proto_name(uint8_t proto, char *tmp, size_t tmp_len)
{
    switch (proto) {
    case 6:
        return "TCP";
    case 17:
        return "UDP";
    case 1:
        return "ICMP";
    case 58:
        return "IPv6-ICMP";
    default:
        snprintf(tmp, tmp_len, "%u", proto);
        return tmp;
    }
}

static void
tcp_flags_hex(struct jsonw *w, const char *key, uint8_t flags)
{
    static const char xd[] = "0123456789abcdef";
    char hex[3] = {xd[flags >> 4], xd[flags & 15], 0};
    jsonw_key_str(w, key);
    jsonw_str(w, hex);
}

/* The per-flow part of every event's header: VLANs, endpoints (the client as src, or the server
 * when swap is set), transport. */
static void
eve_endpoints_of(struct jsonw *w, const struct flow *f, bool swap)
{
    char addr[64], tmp[8];
    int cs = f->client, ss = !f->client; /* key endpoints of client and server */
    if (swap) {
        cs = !f->client;
        ss = f->client;
    }
    if (f->key.vlan[0]) {
        jsonw_key(w, "vlan");
        jsonw_array_begin(w);
        for (int i = 0; i < PACKET_MAX_VLAN && f->key.vlan[i]; i++)
            jsonw_u64(w, f->key.vlan[i]);
        jsonw_array_end(w);
    }
    bool ports = f->key.proto == 6 || f->key.proto == 17 || f->key.proto == 132;
    ipaddr_format(&f->key.addr[cs], f->key.ip_version, addr, sizeof(addr));
    jsonw_key(w, "src_ip");
    jsonw_str(w, addr);
    if (ports) {
        jsonw_key(w, "src_port");
        jsonw_u64(w, f->key.port[cs]);
    }
    ipaddr_format(&f->key.addr[ss], f->key.ip_version, addr, sizeof(addr));
    jsonw_key(w, "dest_ip");
    jsonw_str(w, addr);
    if (ports) {
        jsonw_key(w, "dest_port");
        jsonw_u64(w, f->key.port[ss]);
    }
    jsonw_key(w, "proto");
    jsonw_str(w, ip_proto_name(f->key.proto, tmp, sizeof(tmp)));
}

static void
eve_endpoints(struct jsonw *w, const struct flow *f)
{
    eve_endpoints_of(w, f, false);
}

/* The fields every event of a flow starts with: time, flow id, type. */
static void
eve_intro(struct jsonw *w, uint64_t ts_us, const struct flow *f, const char *event_type)
{
    char ts[TIMEFMT_EVE_LEN + 1];
    timefmt_eve(ts_us, ts, sizeof(ts));
    jsonw_key(w, "timestamp");
    jsonw_str(w, ts);
    jsonw_key(w, "flow_id");
    jsonw_u64(w, f->id);
    jsonw_key(w, "event_type");
    jsonw_str(w, event_type);
}

static int
finish(struct jsonw *w, struct buf *out)
{
    int rc = jsonw_end(w);
    if (rc == 0)
        rc = buf_append_char(out, '\n');
    return rc;
}

int
eve_app_format(struct buf *out, const struct flow *f, const struct proto_parser *p,
               const struct proto_event *ev, struct eve_cache *cache)
{
    struct jsonw w;
    if (cache->flow != f || cache->flow_id != f->id || cache->parser != p) {
        /* Events come in runs from one flow (a message and its answer, the commands of an
         * association): its endpoints are formatted once per run, not once per event. */
        struct buf tmp = {(uint8_t *)cache->text, 0, sizeof(cache->text), sizeof(cache->text) - 1};
        struct jsonw cw;
        jsonw_begin(&cw, &tmp);
        jsonw_object_begin(&cw);
        eve_endpoints(&cw, f);
        jsonw_key(&cw, "app_proto");
        jsonw_str(&cw, p->name);
        jsonw_object_end(&cw);
        cache->len = 0;
        cache->flow = NULL;
        if (jsonw_end(&cw) == 0 && tmp.len >= 2) {
            /* Keep the members without the braces. */
            memmove(cache->text, cache->text + 1, tmp.len - 2);
            cache->len = tmp.len - 2;
            cache->flow = f;
            cache->flow_id = f->id;
            cache->parser = p;
        }
    }
    jsonw_begin(&w, out);
    jsonw_object_begin(&w);
    eve_intro(&w, ev->ts_us, f, p->name);
    if (cache->flow == f) {
        jsonw_raw_members(&w, cache->text, cache->len);
    } else {
        eve_endpoints(&w, f);
        jsonw_key(&w, "app_proto");
        jsonw_str(&w, p->name);
    }
    jsonw_key_str(&w, p->name);
    jsonw_object_begin(&w);
    p->eve(ev, &w);
    jsonw_object_end(&w);
    jsonw_object_end(&w);
    return finish(&w, out);
}

int
eve_flow_format(struct buf *out, const struct flow *f, enum flow_end_reason reason,
                const char *app_proto)
{
    char ts[TIMEFMT_EVE_LEN + 1];
    struct jsonw w;
    jsonw_begin(&w, out);
    jsonw_object_begin(&w);
    eve_intro(&w, f->start_us, f, "flow");
    eve_endpoints(&w, f);
    if (app_proto) {
        jsonw_key(&w, "app_proto");
        jsonw_str(&w, app_proto);
    }
    timefmt_eve(f->start_us, ts, sizeof(ts));
    jsonw_key(&w, "flow");
    jsonw_object_begin(&w);
    jsonw_key(&w, "pkts_toserver");
    jsonw_u64(&w, f->pkts[FLOW_TOSERVER]);
    jsonw_key(&w, "pkts_toclient");
    jsonw_u64(&w, f->pkts[FLOW_TOCLIENT]);
    jsonw_key(&w, "bytes_toserver");
    jsonw_u64(&w, f->bytes[FLOW_TOSERVER]);
    jsonw_key(&w, "bytes_toclient");
    jsonw_u64(&w, f->bytes[FLOW_TOCLIENT]);
    jsonw_key(&w, "start");
    jsonw_str(&w, ts);
    timefmt_eve(f->last_us, ts, sizeof(ts));
    jsonw_key(&w, "end");
    jsonw_str(&w, ts);
    jsonw_key(&w, "age");
    jsonw_u64(&w, f->last_us / 1000000 - f->start_us / 1000000);
    jsonw_key(&w, "state");
    jsonw_str(&w, flow_state_name((enum flow_state)f->state));
    jsonw_key(&w, "reason");
    jsonw_str(&w, flow_end_reason_name(reason));
    jsonw_object_end(&w);

    if (f->key.proto == 6) {
        uint8_t all = f->tcp_flags[0] | f->tcp_flags[1];
        jsonw_key(&w, "tcp");
        jsonw_object_begin(&w);
        tcp_flags_hex(&w, "tcp_flags", all);
        tcp_flags_hex(&w, "tcp_flags_ts", f->tcp_flags[FLOW_TOSERVER]);
        tcp_flags_hex(&w, "tcp_flags_tc", f->tcp_flags[FLOW_TOCLIENT]);
        static const struct {
            uint8_t bit;
            const char *name;
        } names[] = {{TCP_SYN, "syn"}, {TCP_FIN, "fin"}, {TCP_RST, "rst"}, {TCP_PSH, "psh"},
                     {TCP_ACK, "ack"}, {TCP_URG, "urg"}, {TCP_ECE, "ecn"}, {TCP_CWR, "cwr"}};
        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
            if (all & names[i].bit) {
                jsonw_key_str(&w, names[i].name);
                jsonw_bool(&w, true);
            }
        }
        jsonw_key(&w, "state");
        jsonw_str(&w, flow_tcp_state_name((enum flow_tcp_state)f->tcp_state));
        jsonw_object_end(&w);
    }
    jsonw_object_end(&w);
    return finish(&w, out);
}

int
eve_alert_format(struct buf *out, const struct alert *a)
{
    const struct rule *r = &rules[a->rule];
    const struct flow *f = a->flow;
    struct jsonw w;
    jsonw_begin(&w, out);
    jsonw_object_begin(&w);
    eve_intro(&w, a->ts_us, f, "alert");
    eve_endpoints_of(&w, f, a->src_side != FLOW_TOSERVER);
    if (a->app_proto) {
        jsonw_key(&w, "app_proto");
        jsonw_str(&w, a->app_proto);
    }
    jsonw_key(&w, "direction");
    jsonw_str(&w, a->src_side == FLOW_TOSERVER ? "to_server" : "to_client");
    jsonw_key(&w, "alert");
    jsonw_object_begin(&w);
    jsonw_key(&w, "action");
    jsonw_str(&w, "allowed");
    jsonw_key(&w, "gid");
    jsonw_u64(&w, 1);
    jsonw_key(&w, "signature_id");
    jsonw_u64(&w, r->sid);
    jsonw_key(&w, "rev");
    jsonw_u64(&w, 1);
    jsonw_key(&w, "signature");
    jsonw_str(&w, r->signature);
    jsonw_key(&w, "category");
    jsonw_str(&w, r->category);
    jsonw_key(&w, "severity");
    jsonw_u64(&w, r->severity);
    jsonw_key(&w, "metadata");
    jsonw_object_begin(&w);
    jsonw_key(&w, "mitre_technique_id");
    jsonw_array_begin(&w);
    const char *id;
    int len, pos = 0;
    while (rule_attack_next(r, &id, &len, &pos))
        jsonw_strn(&w, id, (size_t)len);
    jsonw_array_end(&w);
    jsonw_key(&w, "iaso_rule");
    jsonw_array_begin(&w);
    jsonw_str(&w, r->name);
    jsonw_array_end(&w);
    jsonw_object_end(&w);
    jsonw_object_end(&w);
    if (a->evidence) {
        jsonw_key(&w, "evidence");
        jsonw_object_begin(&w);
        a->evidence(&w, a->evidence_arg);
        jsonw_object_end(&w);
    }
    jsonw_object_end(&w);
    return finish(&w, out);
}
