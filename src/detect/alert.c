// SPDX-License-Identifier: Apache-2.0
// The gate alerts pass before they are written; see alert.h.
#include "detect/alert.h"

#include <string.h>

#include <xxhash.h>

void
alert_gate_init(struct alert_gate *g, const struct alert_gate_config *cfg, alert_out_fn out,
                void *user)
{
    memset(g, 0, sizeof(*g));
    g->cfg = *cfg;
    g->out = out;
    g->user = user;
}

/* The address of the alert's source. */
static const uint8_t *
source_addr(const struct alert *a)
{
    const struct flow *f = a->flow;
    int side = a->src_side == FLOW_TOSERVER ? f->client : !f->client;
    return f->key.addr[side].b;
}

/* A repeat of an alert written for the same flow (or source, within the window), rule and
 * subject? Remembers this one. The memory is direct-mapped: a later alert that lands in the same
 * slot pushes the older out, so a repeat long after can be written again, which the rate limit
 * still bounds. */
static bool
seen_before(struct alert_gate *g, const struct alert *a)
{
    uint64_t in[5] = {0, 0, (uint64_t)a->rule, a->subject, a->per_source};
    if (a->per_source && a->flow)
        memcpy(in, source_addr(a), 16);
    else
        in[0] = a->flow ? a->flow->id : 0;
    uint64_t h = XXH3_64bits(in, sizeof(in)) | 1; /* never 0, which marks an empty slot */
    struct alert_seen *slot = &g->seen[h % ALERT_SEEN_SLOTS];
    if (slot->h == h &&
        (!a->per_source || (a->ts_us >= slot->ts && a->ts_us - slot->ts < g->cfg.window_us)))
        return true;
    slot->h = h;
    slot->ts = a->ts_us;
    return false;
}

/* Over its rate? Sources share slots by hash; one that takes a slot from another starts a
 * fresh window, which can only let more through, never fewer. */
static bool
over_rate(struct alert_gate *g, const struct alert *a)
{
    if (g->cfg.burst == 0 || !a->flow)
        return false;
    const struct flow *f = a->flow;
    const uint8_t *addr = source_addr(a);
    uint64_t h = XXH3_64bits(addr, 16) ^ f->key.ip_version;
    struct alert_source *s = &g->sources[h % ALERT_SOURCE_SLOTS];
    if (s->ip_version != f->key.ip_version || memcmp(s->addr, addr, 16) != 0 ||
        a->ts_us >= s->window_start_us + g->cfg.window_us || a->ts_us < s->window_start_us) {
        memcpy(s->addr, addr, 16);
        s->ip_version = f->key.ip_version;
        s->window_start_us = a->ts_us;
        s->n = 0;
    }
    if (s->n >= g->cfg.burst)
        return true;
    s->n++;
    return false;
}

bool
alert_raise(struct alert_gate *g, const struct alert *a)
{
    if (seen_before(g, a)) {
        g->stats.n_dedup++;
        return false;
    }
    if (over_rate(g, a)) {
        g->stats.n_ratelimited++;
        return false;
    }
    g->stats.n_raised[a->rule]++;
    if (g->out)
        g->out(g->user, a);
    return true;
}

bool
rule_attack_next(const struct rule *r, const char **id, int *len, int *pos)
{
    const char *s = r->attack + *pos;
    if (*s == '\0')
        return false;
    const char *e = strchr(s, ',');
    int n = e ? (int)(e - s) : (int)strlen(s);
    *id = s;
    *len = n;
    *pos += n + (e ? 1 : 0);
    return true;
}
