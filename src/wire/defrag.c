// SPDX-License-Identifier: Apache-2.0
// IPv4 and IPv6 fragment reassembly. See defrag.h for the contract.
//
// Each datagram being put back together holds its payload bytes in one buffer indexed by
// fragment offset, and a sorted array of the byte ranges it has (disjoint, never touching, so a
// datagram in order is always one range). A new fragment is laid over the ranges: the bytes that
// fall in a hole are copied, the bytes that fall on held bytes are compared (first seen wins).
// The unfragmentable part (the IPv4 header, or the IPv6 header and the extension headers before
// the Fragment header) is copied from the offset-0 fragment.
//
// The datagram structs come from a pool of max_datagrams made at defrag_new(); payload buffers,
// range arrays and header copies are heap memory counted against max_bytes. Datagrams sit in a
// chained hash table and in a list ordered by arrival of their first fragment, so expiry looks
// only at the head of that list.
#include "wire/defrag.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "base/bytes.h"

#define IPV4_HDR_LEN 20
#define IPV6_HDR_LEN 40
#define FRAG_HDR_LEN 8
#define IP_MAX_LEN 65535 /* IPv4 total length; IPv6 payload length */

#define IPPROTO_FRAGMENT_ 44
#define IPPROTO_AH_ 51

/*
 * Distinct pieces one datagram may be held in. A 1500-byte MTU makes 45 fragments of the
 * largest datagram; more pieces than this only come from someone building holes on purpose,
 * and each costs a memmove on insertion.
 */
#define DEFRAG_RANGES_MAX 1024

/* The largest rebuilt datagram: an IPv6 header before a full 65535-byte payload. */
#define DEFRAG_OUT_MAX (IPV6_HDR_LEN + IP_MAX_LEN)

/* Hashed as bytes, so it has no implicit padding and is built from a zeroed value. */
struct frag_key {
    struct ipaddr src, dst;
    uint32_t id;
    uint16_t vlan[PACKET_MAX_VLAN];
    uint8_t ip_version;
    uint8_t proto; /* IPv4 only; 0 for IPv6 */
    uint8_t pad_[2];
};
_Static_assert(sizeof(struct frag_key) == 44, "struct frag_key must have no implicit padding");

struct frag_range {
    uint32_t start, end; /* [start, end) in payload offsets */
};

struct dgram {
    struct frag_key key;
    uint64_t hash;
    struct dgram *hnext;         /* borrowed: next in the hash chain */
    struct dgram *older, *newer; /* borrowed: age list; `newer` links the free list */
    uint64_t first_ts_us;
    uint8_t *data; /* owned: payload bytes at their fragment offsets */
    uint32_t data_cap;
    struct frag_range *ranges; /* owned: sorted, disjoint, never touching */
    uint32_t n_ranges, ranges_cap;
    uint8_t *hdr; /* owned: unfragmentable part, rewritten; NULL until offset 0 is seen */
    uint32_t hdr_len;
    uint32_t end; /* payload length, once has_last */
    bool has_last;
    uint32_t wire_len, n_fragments;
    uint64_t mem_len; /* bytes of data, ranges and hdr, as counted in defrag.mem_len */
};

struct defrag {
    struct defrag_config cfg;
    struct dgram **buckets; /* owned array; the datagrams belong to `pool` */
    uint64_t bucket_mask;
    struct dgram *pool;      /* owned: max_datagrams structs */
    struct dgram *free_list; /* borrowed from pool */
    struct dgram *oldest, *newest;
    uint64_t mem_len;
    uint8_t *out; /* owned: the last rebuilt datagram, DEFRAG_OUT_MAX bytes */
};

struct defrag *
defrag_new(const struct defrag_config *cfg)
{
    struct defrag *d = calloc(1, sizeof(*d));
    if (!d)
        return NULL;
    d->cfg = *cfg;

    uint64_t n_buckets = 16;
    while (n_buckets < cfg->max_datagrams)
        n_buckets *= 2;
    d->bucket_mask = n_buckets - 1;
    d->buckets = calloc(n_buckets, sizeof(struct dgram *));
    d->pool = calloc(cfg->max_datagrams ? cfg->max_datagrams : 1, sizeof(*d->pool));
    d->out = malloc(DEFRAG_OUT_MAX);
    if (!d->buckets || !d->pool || !d->out) {
        defrag_free(d);
        return NULL;
    }
    for (uint32_t i = cfg->max_datagrams; i-- > 0;) {
        d->pool[i].newer = d->free_list;
        d->free_list = &d->pool[i];
    }
    return d;
}

static void
dgram_release(struct dgram *g)
{
    free(g->data);
    free(g->ranges);
    free(g->hdr);
}

void
defrag_free(struct defrag *d)
{
    if (!d)
        return;
    for (struct dgram *g = d->oldest; g; g = g->newer)
        dgram_release(g);
    free(d->out);
    free(d->pool);
    free(d->buckets);
    free(d);
}

uint64_t
defrag_mem_len(const struct defrag *d)
{
    return d->mem_len;
}

/* Unlinks a datagram from the table and the age list, frees its bytes, returns it to the pool. */
static void
dgram_drop(struct defrag *d, struct dgram *g)
{
    struct dgram **pp = &d->buckets[g->hash & d->bucket_mask];
    while (*pp != g)
        pp = &(*pp)->hnext;
    *pp = g->hnext;

    if (g->older)
        g->older->newer = g->newer;
    else
        d->oldest = g->newer;
    if (g->newer)
        g->newer->older = g->older;
    else
        d->newest = g->older;

    d->mem_len -= g->mem_len;
    dgram_release(g);
    *g = (struct dgram){.newer = d->free_list};
    d->free_list = g;
}

void
defrag_expire(struct defrag *d, uint64_t now_us, struct decode_stats *stats)
{
    /* Packet time may step back a little; such datagrams are expired a little late. */
    while (d->oldest && now_us >= d->oldest->first_ts_us &&
           now_us - d->oldest->first_ts_us >= d->cfg.timeout_us) {
        stats->n_events[DECODE_EV_FRAG_TIMEOUT]++;
        dgram_drop(d, d->oldest);
    }
}

static struct dgram *
dgram_find(struct defrag *d, const struct frag_key *key, uint64_t hash)
{
    for (struct dgram *g = d->buckets[hash & d->bucket_mask]; g; g = g->hnext)
        if (g->hash == hash && memcmp(&g->key, key, sizeof(*key)) == 0)
            return g;
    return NULL;
}

/* NULL when all max_datagrams are in use. */
static struct dgram *
dgram_new(struct defrag *d, const struct frag_key *key, uint64_t hash, uint64_t ts_us)
{
    struct dgram *g = d->free_list;
    if (!g)
        return NULL;
    d->free_list = g->newer;
    *g = (struct dgram){.key = *key, .hash = hash, .first_ts_us = ts_us};

    struct dgram **bucket = &d->buckets[hash & d->bucket_mask];
    g->hnext = *bucket;
    *bucket = g;
    g->older = d->newest;
    if (d->newest)
        d->newest->newer = g;
    else
        d->oldest = g;
    d->newest = g;
    return g;
}

/* Counts `n` more bytes for g against the cap; false (and nothing counted) when over it. */
static bool
mem_take(struct defrag *d, struct dgram *g, uint64_t n)
{
    if (n > d->cfg.max_bytes || d->mem_len > d->cfg.max_bytes - n)
        return false;
    d->mem_len += n;
    g->mem_len += n;
    return true;
}

/* Makes g->data hold at least `len` bytes. */
static bool
data_reserve(struct defrag *d, struct dgram *g, uint32_t len)
{
    if (len <= g->data_cap)
        return true;
    /* Doubling keeps in-order arrival to a few reallocations; the cap on the payload bounds it. */
    uint32_t cap = g->data_cap * 2;
    if (cap < len)
        cap = len;
    if (cap < 1024)
        cap = 1024;
    if (cap > IP_MAX_LEN)
        cap = IP_MAX_LEN;
    if (cap < len || !mem_take(d, g, cap - g->data_cap)) {
        cap = len; /* the exact size may still fit */
        if (!mem_take(d, g, cap - g->data_cap))
            return false;
    }
    uint8_t *nd = realloc(g->data, cap);
    if (!nd) {
        d->mem_len -= cap - g->data_cap;
        g->mem_len -= cap - g->data_cap;
        return false;
    }
    g->data = nd;
    g->data_cap = cap;
    return true;
}

/* Makes room for one more range. */
static bool
ranges_reserve(struct defrag *d, struct dgram *g)
{
    if (g->n_ranges < g->ranges_cap)
        return true;
    if (g->ranges_cap >= DEFRAG_RANGES_MAX)
        return false;
    uint32_t cap = g->ranges_cap ? g->ranges_cap * 2 : 4;
    uint64_t grow = (uint64_t)(cap - g->ranges_cap) * sizeof(struct frag_range);
    if (!mem_take(d, g, grow))
        return false;
    struct frag_range *nr = realloc(g->ranges, cap * sizeof(*nr));
    if (!nr) {
        d->mem_len -= grow;
        g->mem_len -= grow;
        return false;
    }
    g->ranges = nr;
    g->ranges_cap = cap;
    return true;
}

/*
 * Lays bytes [start, end) over the datagram: holes are filled, held bytes kept. Returns the
 * number of new bytes; *differs is set when a held byte differs from the new one. The caller
 * has reserved data to `end` and one more range; end > start.
 */
static uint32_t
ranges_merge(struct dgram *g, uint32_t start, uint32_t end, const uint8_t *src, bool *differs)
{
    /* [lo, hi) are the ranges that overlap or touch [start, end); they become one. */
    uint32_t lo = 0;
    while (lo < g->n_ranges && g->ranges[lo].end < start)
        lo++;
    uint32_t hi = lo;
    uint32_t pos = start, added = 0;
    while (hi < g->n_ranges && g->ranges[hi].start <= end) {
        struct frag_range r = g->ranges[hi];
        if (pos < r.start) {
            memcpy(g->data + pos, src + (pos - start), r.start - pos);
            added += r.start - pos;
            pos = r.start;
        }
        uint32_t ov_end = r.end < end ? r.end : end;
        if (pos < ov_end) {
            if (memcmp(g->data + pos, src + (pos - start), ov_end - pos) != 0)
                *differs = true;
            pos = ov_end;
        }
        hi++;
    }
    if (pos < end) {
        memcpy(g->data + pos, src + (pos - start), end - pos);
        added += end - pos;
    }

    struct frag_range merged = {start, end};
    if (hi > lo) {
        if (g->ranges[lo].start < merged.start)
            merged.start = g->ranges[lo].start;
        if (g->ranges[hi - 1].end > merged.end)
            merged.end = g->ranges[hi - 1].end;
    }
    /* Replace ranges [lo, hi) by one: shift the tail by 1 - (hi - lo). */
    uint32_t n_tail = g->n_ranges - hi;
    memmove(&g->ranges[lo + 1], &g->ranges[hi], n_tail * sizeof(struct frag_range));
    g->ranges[lo] = merged;
    g->n_ranges = lo + 1 + n_tail;
    return added;
}

/*
 * Copies the unfragmentable part of an offset-0 fragment into g->hdr, rewritten for the whole
 * datagram except its lengths (and, for IPv4, the checksum). False when out of memory or the
 * headers do not walk (decode_packet() would not have marked such a packet).
 */
static bool
header_keep(struct defrag *d, struct dgram *g, const struct packet *p)
{
    if (p->frag_payload_off <= p->l3_off)
        return false;
    const uint8_t *ip = p->data + p->l3_off;
    uint32_t len = (uint32_t)(p->frag_payload_off - p->l3_off);
    uint32_t nh_off = 0;

    if (p->ip_version == 6) {
        /* Find the next-header byte that names the Fragment header, and drop that header. */
        if (len < IPV6_HDR_LEN + FRAG_HDR_LEN)
            return false;
        len -= FRAG_HDR_LEN;
        struct cursor c;
        cursor_init(&c, ip, len);
        cursor_skip(&c, IPV6_HDR_LEN);
        nh_off = 6;
        uint8_t nh = ip[6];
        while (cursor_left(&c) > 0) {
            const uint8_t *e = cursor_pos(&c);
            if (!cursor_need(&c, 2))
                return false;
            size_t elen = nh == IPPROTO_FRAGMENT_ ? FRAG_HDR_LEN
                          : nh == IPPROTO_AH_     ? ((size_t)e[1] + 2) * 4
                                                  : ((size_t)e[1] + 1) * 8;
            nh_off = (uint32_t)c.off;
            nh = e[0];
            if (!cursor_skip(&c, elen))
                return false;
        }
        if (nh != IPPROTO_FRAGMENT_)
            return false;
    } else if (len < IPV4_HDR_LEN) {
        return false;
    }

    if (!mem_take(d, g, len))
        return false;
    g->hdr = malloc(len);
    if (!g->hdr) {
        d->mem_len -= len;
        g->mem_len -= len;
        return false;
    }
    memcpy(g->hdr, ip, len);
    g->hdr_len = len;
    if (p->ip_version == 6) {
        g->hdr[nh_off] = p->frag_next_proto;
    } else {
        g->hdr[6] &= 0xc0; /* keep the reserved bit and DF; clear MF and the offset */
        g->hdr[7] = 0;
    }
    return true;
}

static uint16_t
ipv4_checksum(const uint8_t *h, size_t len)
{
    uint32_t sum = 0;
    for (size_t i = 0; i + 1 < len; i += 2)
        sum += load_be16(h + i);
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

/* Writes the whole datagram into d->out. False when it would pass the IP length limit. */
static bool
dgram_build(struct defrag *d, const struct dgram *g, struct defrag_result *out)
{
    uint32_t len = g->hdr_len + g->end;
    uint32_t ip_len = g->key.ip_version == 4 ? len : len - IPV6_HDR_LEN;
    if (ip_len > IP_MAX_LEN)
        return false;
    memcpy(d->out, g->hdr, g->hdr_len);
    memcpy(d->out + g->hdr_len, g->data, g->end);
    d->out[g->key.ip_version == 4 ? 2 : 4] = (uint8_t)(ip_len >> 8);
    d->out[g->key.ip_version == 4 ? 3 : 5] = (uint8_t)ip_len;
    if (g->key.ip_version == 4) {
        d->out[10] = 0;
        d->out[11] = 0;
        uint16_t sum = ipv4_checksum(d->out, g->hdr_len);
        d->out[10] = (uint8_t)(sum >> 8);
        d->out[11] = (uint8_t)sum;
    }
    out->data = d->out;
    out->len = len;
    out->wire_len = g->wire_len;
    out->n_fragments = g->n_fragments;
    return true;
}

/* Counts a dropped fragment; a datagram that it would have started goes back to the pool. */
static int
fragment_drop(struct defrag *d, struct dgram *g, struct decode_stats *stats, enum decode_event ev)
{
    stats->n_events[ev]++;
    if (g && g->n_fragments == 0)
        dgram_drop(d, g);
    return 0;
}

int
defrag_add(struct defrag *d, const struct packet *p, struct decode_stats *stats,
           struct defrag_result *out)
{
    defrag_expire(d, p->ts_us, stats);
    if (!p->is_fragment || (p->ip_version != 4 && p->ip_version != 6))
        return 0;

    uint32_t start = p->frag_off;
    uint32_t end = start + p->payload_len;
    /* The payload alone must fit the IP length field; the header is checked when complete. */
    if (end > (p->ip_version == 4 ? IP_MAX_LEN - IPV4_HDR_LEN : IP_MAX_LEN))
        return fragment_drop(d, NULL, stats, DECODE_EV_FRAG_TOO_LARGE);

    struct frag_key key;
    memset(&key, 0, sizeof(key));
    key.src = p->src;
    key.dst = p->dst;
    key.id = p->frag_id;
    memcpy(key.vlan, p->vlan, sizeof(key.vlan));
    key.ip_version = p->ip_version;
    key.proto = p->ip_version == 4 ? p->proto : 0;
    uint64_t hash = XXH3_64bits(&key, sizeof(key));

    uint32_t held_end = 0; /* end of the bytes held */
    struct dgram *g = dgram_find(d, &key, hash);
    if (g) {
        if (g->n_ranges)
            held_end = g->ranges[g->n_ranges - 1].end;
    } else {
        g = dgram_new(d, &key, hash, p->ts_us);
        if (!g)
            return fragment_drop(d, NULL, stats, DECODE_EV_FRAG_MEMCAP);
    }

    /* A fragment that disagrees on where the datagram ends: the first word stands. */
    if ((g->has_last && (end > g->end || (!p->frag_more && end != g->end))) ||
        (!g->has_last && !p->frag_more && held_end > end))
        return fragment_drop(d, g, stats, DECODE_EV_FRAG_OVERLAP);

    bool new_hdr = false;
    if (start == 0 && !g->hdr) {
        if (!header_keep(d, g, p))
            return fragment_drop(d, g, stats, DECODE_EV_FRAG_MEMCAP);
        new_hdr = true;
    }

    uint32_t added = 0;
    if (end > start) {
        if (!data_reserve(d, g, end) || !ranges_reserve(d, g))
            return fragment_drop(d, g, stats, DECODE_EV_FRAG_MEMCAP);
        bool differs = false;
        added = ranges_merge(g, start, end, p->payload, &differs);
        if (differs)
            stats->n_events[DECODE_EV_FRAG_OVERLAP]++;
    }
    if (!p->frag_more && !g->has_last) {
        g->has_last = true;
        g->end = end;
    } else if (added == 0 && !new_hdr) {
        return 0; /* a duplicate: nothing new */
    }
    g->n_fragments++;
    g->wire_len += p->wire_len;

    if (!g->has_last || !g->hdr || g->n_ranges != 1 || g->ranges[0].start != 0 ||
        g->ranges[0].end != g->end)
        return 0;
    bool ok = dgram_build(d, g, out);
    if (ok)
        out->ts_us = p->ts_us;
    else
        stats->n_events[DECODE_EV_FRAG_TOO_LARGE]++;
    dgram_drop(d, g);
    return ok ? 1 : 0;
}
