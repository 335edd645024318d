// SPDX-License-Identifier: Apache-2.0
// The flow table; see flow.h.
#include "wire/flow.h"

#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#define CHUNK_SHIFT 12 /* 4096 flows a chunk: the pool grows in ~700 KB steps */
#define CHUNK_LEN (1u << CHUNK_SHIFT)
#define FLOW_MOVE_US 1000000u /* a flow moves in its timeout list at most once a second */
#define FLOW_ID_MASK ((UINT64_C(1) << 51) - 1) /* exact in a JSON reader's double */

struct flow_list {
    uint32_t head, tail; /* slot index + 1; 0 = empty */
};

struct flow_table {
    struct flow_config cfg;
    flow_end_fn on_end;
    void *user;
    struct flow **chunks; /* owned; each CHUNK_LEN flows */
    uint32_t n_chunks;
    uint32_t n_slots_used; /* slots ever handed out, the high-water mark */
    uint32_t free_head;    /* free slots chained through hnext */
    uint32_t *buckets;     /* owned; slot index + 1 */
    uint32_t bucket_mask;
    struct flow_list lists[FLOW_TO_COUNT];
    struct flow_stats stats;
};

static const char *const end_names[] = {"timeout", "forced", "tcp_reuse", "shutdown"};
static const char *const state_names[] = {"new", "established", "closed"};
static const char *const tcp_state_names[] = {"none",        "syn_sent",  "syn_recv",
                                              "established", "fin_wait1", "closed"};

const char *
flow_end_reason_name(enum flow_end_reason r)
{
    return end_names[r];
}

const char *
flow_state_name(enum flow_state s)
{
    return state_names[s];
}

const char *
flow_tcp_state_name(enum flow_tcp_state s)
{
    return tcp_state_names[s];
}

static inline struct flow *
slot(const struct flow_table *t, uint32_t idx1)
{
    uint32_t i = idx1 - 1;
    return &t->chunks[i >> CHUNK_SHIFT][i & (CHUNK_LEN - 1)];
}

struct flow_table *
flow_table_new(const struct flow_config *cfg, flow_end_fn on_end, void *user)
{
    if (cfg->max_flows == 0 || cfg->max_flows > UINT32_MAX - CHUNK_LEN)
        return NULL;
    struct flow_table *t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    t->cfg = *cfg;
    t->on_end = on_end;
    t->user = user;
    /* Half as many buckets as flows, a power of two: chains stay short, buckets stay cheap. */
    uint32_t nb = 64;
    while (nb < cfg->max_flows / 2 && nb < (1u << 30))
        nb <<= 1;
    t->buckets = calloc(nb, sizeof(*t->buckets));
    t->n_chunks = (cfg->max_flows + CHUNK_LEN - 1) / CHUNK_LEN;
    /* An array of chunk pointers. */
    t->chunks = calloc(t->n_chunks, sizeof(struct flow *)); // NOLINT(bugprone-sizeof-expression)
    if (!t->buckets || !t->chunks) {
        flow_table_free(t);
        return NULL;
    }
    t->bucket_mask = nb - 1;
    return t;
}

void
flow_table_free(struct flow_table *t)
{
    if (!t)
        return;
    if (t->chunks) {
        for (uint32_t i = 0; i < t->n_chunks; i++)
            free(t->chunks[i]);
    }
    free(t->chunks);
    free(t->buckets);
    free(t);
}

int
flow_key_from_packet(const struct packet *p, struct flow_key *key)
{
    memset(key, 0, sizeof(*key));
    key->proto = p->proto;
    key->ip_version = p->ip_version;
    for (int i = 0; i < PACKET_MAX_VLAN; i++)
        key->vlan[i] = i < p->n_vlan ? p->vlan[i] : 0;
    uint16_t sport = p->sport, dport = p->dport;
    if (p->proto == 1 || p->proto == 58) {
        /* ICMP: one flow per address pair; the type lives in the packet, not the key. */
        sport = dport = 0;
    }
    int c = memcmp(p->src.b, p->dst.b, sizeof(p->src.b));
    int side = c < 0 || (c == 0 && sport <= dport) ? 0 : 1;
    key->addr[side] = p->src;
    key->addr[!side] = p->dst;
    key->port[side] = sport;
    key->port[!side] = dport;
    return side;
}

uint64_t
flow_key_hash(const struct flow_key *key)
{
    return XXH3_64bits(key, sizeof(*key));
}

static void
list_remove(struct flow_table *t, struct flow *f)
{
    struct flow_list *l = &t->lists[f->to_class];
    if (f->lprev)
        slot(t, f->lprev)->lnext = f->lnext;
    else
        l->head = f->lnext;
    if (f->lnext)
        slot(t, f->lnext)->lprev = f->lprev;
    else
        l->tail = f->lprev;
    f->lprev = f->lnext = 0;
}

static void
list_append(struct flow_table *t, struct flow *f, uint32_t idx1, uint8_t cls)
{
    struct flow_list *l = &t->lists[cls];
    f->to_class = cls;
    f->lnext = 0;
    f->lprev = l->tail;
    if (l->tail)
        slot(t, l->tail)->lnext = idx1;
    else
        l->head = idx1;
    l->tail = idx1;
}

/* Unlinks a flow from its bucket and list, tells the owner, and frees its slot. */
static void
flow_end(struct flow_table *t, uint32_t idx1, enum flow_end_reason reason)
{
    struct flow *f = slot(t, idx1);
    t->on_end(t->user, f, reason);
    uint32_t b = (uint32_t)flow_key_hash(&f->key) & t->bucket_mask;
    uint32_t *pp = &t->buckets[b];
    while (*pp && *pp != idx1)
        pp = &slot(t, *pp)->hnext;
    if (*pp)
        *pp = f->hnext;
    list_remove(t, f);
    f->hnext = t->free_head;
    t->free_head = idx1;
    t->stats.n_active--;
    switch (reason) {
    case FLOW_END_TIMEOUT:
        t->stats.n_timed_out++;
        break;
    case FLOW_END_FORCED:
        t->stats.n_evicted++;
        break;
    case FLOW_END_REUSE:
        t->stats.n_reused++;
        break;
    case FLOW_END_SHUTDOWN:
        t->stats.n_shutdown++;
        break;
    }
}

/* The flow idle the longest: the oldest of the list heads. */
static uint32_t
oldest_flow(const struct flow_table *t)
{
    uint32_t best = 0;
    uint64_t best_us = UINT64_MAX;
    for (int c = 0; c < FLOW_TO_COUNT; c++) {
        uint32_t h = t->lists[c].head;
        if (h && slot(t, h)->moved_us < best_us) {
            best = h;
            best_us = slot(t, h)->moved_us;
        }
    }
    return best;
}

static uint32_t
slot_alloc(struct flow_table *t)
{
    if (t->free_head) {
        uint32_t idx1 = t->free_head;
        t->free_head = slot(t, idx1)->hnext;
        return idx1;
    }
    if (t->n_slots_used < t->cfg.max_flows) {
        uint32_t i = t->n_slots_used;
        uint32_t c = i >> CHUNK_SHIFT;
        if (!t->chunks[c]) {
            t->chunks[c] = malloc(sizeof(struct flow) * CHUNK_LEN);
            if (!t->chunks[c])
                goto evict;
        }
        t->n_slots_used++;
        return i + 1;
    }
evict : {
    uint32_t victim = oldest_flow(t);
    if (!victim)
        return 0;
    flow_end(t, victim, FLOW_END_FORCED);
    uint32_t idx1 = t->free_head;
    t->free_head = slot(t, idx1)->hnext;
    return idx1;
}
}

static uint8_t
timeout_class(const struct flow *f)
{
    bool est = f->state != FLOW_STATE_NEW;
    if (f->key.proto == 6)
        return f->state == FLOW_STATE_CLOSED ? FLOW_TO_TCP_CLOSED
               : est                         ? FLOW_TO_TCP_ESTABLISHED
                                             : FLOW_TO_TCP_NEW;
    if (f->key.proto == 17)
        return est ? FLOW_TO_UDP_ESTABLISHED : FLOW_TO_UDP_NEW;
    return est ? FLOW_TO_OTHER_ESTABLISHED : FLOW_TO_OTHER_NEW;
}

/* TCP state from the flags of one packet in direction dir. */
static void
tcp_track(struct flow *f, int dir, uint8_t flags)
{
    f->tcp_flags[dir] |= flags;
    if (flags & TCP_RST) {
        f->tcp_state = FLOW_TCP_CLOSED;
        f->state = FLOW_STATE_CLOSED;
        return;
    }
    switch (f->tcp_state) {
    case FLOW_TCP_NONE:
        if ((flags & (TCP_SYN | TCP_ACK)) == TCP_SYN)
            f->tcp_state = FLOW_TCP_SYN_SENT;
        else if ((flags & (TCP_SYN | TCP_ACK)) == (TCP_SYN | TCP_ACK))
            f->tcp_state = FLOW_TCP_SYN_RECV;
        break;
    case FLOW_TCP_SYN_SENT:
        if (dir == FLOW_TOCLIENT && (flags & (TCP_SYN | TCP_ACK)) == (TCP_SYN | TCP_ACK))
            f->tcp_state = FLOW_TCP_SYN_RECV;
        break;
    case FLOW_TCP_SYN_RECV:
        if (dir == FLOW_TOSERVER && (flags & TCP_ACK) && !(flags & TCP_SYN))
            f->tcp_state = FLOW_TCP_ESTABLISHED;
        break;
    default:
        break;
    }
    /* A stream picked up midway is established once both sides have sent. */
    if (f->tcp_state < FLOW_TCP_ESTABLISHED && f->pkts[0] && f->pkts[1] &&
        !((f->tcp_flags[0] | f->tcp_flags[1]) & TCP_SYN))
        f->tcp_state = FLOW_TCP_ESTABLISHED;
    if (flags & TCP_FIN) {
        f->fin_mask |= (uint8_t)(1u << dir);
        f->tcp_state = f->fin_mask == 3 ? FLOW_TCP_CLOSED : FLOW_TCP_FIN_WAIT;
    }
    if (f->tcp_state == FLOW_TCP_CLOSED)
        f->state = FLOW_STATE_CLOSED;
    else if (f->tcp_state >= FLOW_TCP_ESTABLISHED)
        f->state = FLOW_STATE_ESTABLISHED;
}

struct flow *
flow_table_packet(struct flow_table *t, const struct packet *p, int *dir)
{
    if (p->ip_version == 0)
        return NULL;
    struct flow_key key;
    int side = flow_key_from_packet(p, &key);
    uint64_t h = flow_key_hash(&key);
    uint32_t b = (uint32_t)h & t->bucket_mask;
    uint32_t idx1 = t->buckets[b];
    struct flow *f = NULL;
    while (idx1) {
        f = slot(t, idx1);
        if (memcmp(&f->key, &key, sizeof(key)) == 0)
            break;
        idx1 = f->hnext;
    }
    bool is_syn = p->proto == 6 && p->has_l4 && (p->tcp_flags & (TCP_SYN | TCP_ACK)) == TCP_SYN;
    if (idx1 && is_syn && f->state == FLOW_STATE_CLOSED) {
        /* A new connection on the tuple of a closed one: end the old one first. */
        flow_end(t, idx1, FLOW_END_REUSE);
        idx1 = 0;
    }
    if (!idx1) {
        idx1 = slot_alloc(t);
        if (!idx1)
            return NULL;
        f = slot(t, idx1);
        memset(f, 0, sizeof(*f));
        f->key = key;
        /* The client is the sender of the first packet, unless that packet is a SYN-ACK. */
        bool synack = p->proto == 6 && p->has_l4 &&
                      (p->tcp_flags & (TCP_SYN | TCP_ACK)) == (TCP_SYN | TCP_ACK);
        f->client = (uint8_t)(synack ? !side : side);
        f->start_us = p->ts_us;
        f->moved_us = p->ts_us;
        f->id = (h ^ XXH3_64bits_withSeed(&p->ts_us, sizeof(p->ts_us), h)) & FLOW_ID_MASK;
        f->hnext = t->buckets[b];
        t->buckets[b] = idx1;
        list_append(t, f, idx1, timeout_class(f));
        t->stats.n_created++;
        if (++t->stats.n_active > t->stats.n_active_max)
            t->stats.n_active_max = t->stats.n_active;
    }
    int d = side == f->client ? FLOW_TOSERVER : FLOW_TOCLIENT;
    *dir = d;
    f->pkts[d]++;
    f->bytes[d] += p->wire_len;
    if (p->ts_us > f->last_us)
        f->last_us = p->ts_us;
    if (p->proto == 6) {
        if (p->has_l4)
            tcp_track(f, d, p->tcp_flags);
    } else if (f->state == FLOW_STATE_NEW && f->pkts[0] && f->pkts[1]) {
        f->state = FLOW_STATE_ESTABLISHED;
    }
    /* Move to the tail of its list when its class changed, or at most once a second of packet
     * time: moving touches the two neighbours, two cache misses, on every packet otherwise.
     * Lists stay sorted by moved_us; expiry looks at last_us before ending a flow. */
    uint8_t cls = timeout_class(f);
    if (cls != f->to_class || f->last_us - f->moved_us >= FLOW_MOVE_US) {
        list_remove(t, f);
        list_append(t, f, idx1, cls);
        f->moved_us = f->last_us;
    }
    return f;
}

void
flow_table_expire(struct flow_table *t, uint64_t now_us)
{
    for (int c = 0; c < FLOW_TO_COUNT; c++) {
        uint64_t to = t->cfg.timeout_us[c];
        while (t->lists[c].head) {
            uint32_t h = t->lists[c].head;
            struct flow *f = slot(t, h);
            if (f->moved_us + to > now_us)
                break;
            if (f->last_us + to > now_us) {
                /* Active since it was last moved: it goes to the tail, sorted again. */
                list_remove(t, f);
                list_append(t, f, h, (uint8_t)c);
                f->moved_us = f->last_us;
                continue;
            }
            flow_end(t, h, FLOW_END_TIMEOUT);
        }
    }
}

void
flow_table_flush(struct flow_table *t)
{
    uint32_t h;
    while ((h = oldest_flow(t)) != 0)
        flow_end(t, h, FLOW_END_SHUTDOWN);
}

const struct flow_stats *
flow_table_stats(const struct flow_table *t)
{
    return &t->stats;
}

size_t
flow_table_bytes_each(const struct flow_table *t)
{
    return sizeof(struct flow) + ((size_t)t->bucket_mask + 1) * sizeof(uint32_t) / t->cfg.max_flows;
}
