// SPDX-License-Identifier: Apache-2.0
// Behaviour detectors: per-source windows and counters over flows and protocol events, in
// bounded shared tables with striped locks (see behave.h for what each detector counts).
#include "detect/behave.h"

#include <assert.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <xxhash.h>

#include "base/jsonw.h"
#include "base/parse.h"
#include "detect/netset.h"
#include "proto/dicom.h"
#include "proto/dns.h"
#include "proto/hl7.h"
#include "proto/rdp.h"
#include "proto/smb2.h"

/* ---- parameters ---- */

static const struct behave_param params[] = {
#define IASO_BEHAVE_PARAM_(name, type, def, min, max, unit, help)                                  \
    {#name, BEHAVE_##type, def, min, max, unit, help},
    IASO_BEHAVE_PARAMS(IASO_BEHAVE_PARAM_)
#undef IASO_BEHAVE_PARAM_
};
#define N_PARAMS (sizeof(params) / sizeof(params[0]))

static const size_t param_offsets[] = {
#define IASO_BEHAVE_OFFSET_(name, type, def, min, max, unit, help)                                 \
    offsetof(struct behave_config, name),
    IASO_BEHAVE_PARAMS(IASO_BEHAVE_OFFSET_)
#undef IASO_BEHAVE_OFFSET_
};

size_t
behave_param_count(void)
{
    return N_PARAMS;
}

const struct behave_param *
behave_param_at(size_t i)
{
    return i < N_PARAMS ? &params[i] : NULL;
}

const char *
behave_param_name(size_t i)
{
    return i < N_PARAMS ? params[i].name : NULL;
}

/* "3.5" -> 3500: digits, then optionally '.' and up to three digits. */
static int
parse_decimal_milli(const char *s, size_t len, int64_t min, int64_t max, int64_t *out)
{
    int64_t whole = 0, frac = 0;
    size_t i = 0, n_whole = 0, n_frac = 0;
    for (; i < len && s[i] >= '0' && s[i] <= '9'; i++, n_whole++) {
        if (whole > INT64_MAX / 10000)
            return IASO_E_RANGE;
        whole = whole * 10 + (s[i] - '0');
    }
    if (i < len && s[i] == '.') {
        for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++, n_frac++) {
            if (n_frac == 3)
                return IASO_E_FORMAT; /* more precision than is kept */
            frac = frac * 10 + (s[i] - '0');
        }
    }
    if (i != len || n_whole + n_frac == 0)
        return IASO_E_FORMAT;
    for (size_t k = n_frac; k < 3; k++)
        frac *= 10;
    int64_t v = whole * 1000 + frac;
    if (v < min || v > max)
        return IASO_E_RANGE;
    *out = v;
    return 0;
}

static int
parse_bool(const char *s, size_t len, int64_t *out)
{
    static const char *const yes[] = {"1", "true", "yes", "on"};
    static const char *const no[] = {"0", "false", "no", "off"};
    for (size_t i = 0; i < 4; i++) {
        if (strlen(yes[i]) == len && strncasecmp(s, yes[i], len) == 0) {
            *out = 1;
            return 0;
        }
        if (strlen(no[i]) == len && strncasecmp(s, no[i], len) == 0) {
            *out = 0;
            return 0;
        }
    }
    return IASO_E_FORMAT;
}

static int
param_parse(const struct behave_param *p, const char *s, size_t len, int64_t *out)
{
    switch (p->type) {
    case BEHAVE_COUNT:
        return parse_i64(s, len, p->min, p->max, out);
    case BEHAVE_DURATION:
        return parse_duration_ms(s, len, p->min, p->max, out);
    case BEHAVE_SIZE:
        return parse_size(s, len, p->min, p->max, out);
    case BEHAVE_DECIMAL:
        return parse_decimal_milli(s, len, p->min, p->max, out);
    case BEHAVE_BOOL:
        return parse_bool(s, len, out);
    }
    return IASO_E_INVAL;
}

struct unit_suffix {
    int64_t div;
    const char *suffix;
};
static const struct unit_suffix ms_units[] = {
    {86400000, "d"}, {3600000, "h"}, {60000, "m"}, {1000, "s"}, {1, "ms"}};
static const struct unit_suffix byte_units[] = {{1 << 30, "G"}, {1 << 20, "M"}, {1 << 10, "K"}};

/* A duration or size bound as a person would type it: 86400000 ms -> "1d", 65536 -> "64K". */
static void
format_bound(enum behave_param_type type, int64_t v, char *out, size_t out_len)
{
    const struct unit_suffix *u = type == BEHAVE_DURATION ? ms_units : byte_units;
    size_t n = type == BEHAVE_DURATION ? sizeof(ms_units) / sizeof(ms_units[0])
                                       : sizeof(byte_units) / sizeof(byte_units[0]);
    for (size_t i = 0; i < n; i++) {
        if (v != 0 && v % u[i].div == 0) {
            snprintf(out, out_len, "%lld%s", (long long)(v / u[i].div), u[i].suffix);
            return;
        }
    }
    snprintf(out, out_len, "%lld", (long long)v);
}

/* What a parameter takes, as the end of an error sentence. */
static void
param_expect(const struct behave_param *p, char *out, size_t out_len)
{
    char lo[32], hi[32];
    switch (p->type) {
    case BEHAVE_COUNT:
        snprintf(out, out_len, "a whole number from %lld to %lld", (long long)p->min,
                 (long long)p->max);
        return;
    case BEHAVE_DURATION:
        format_bound(p->type, p->min, lo, sizeof(lo));
        format_bound(p->type, p->max, hi, sizeof(hi));
        snprintf(out, out_len, "a duration such as 30s, 5m or 2h, from %s to %s", lo, hi);
        return;
    case BEHAVE_SIZE:
        format_bound(p->type, p->min, lo, sizeof(lo));
        format_bound(p->type, p->max, hi, sizeof(hi));
        snprintf(out, out_len, "a size such as 64K or 32M, from %s to %s", lo, hi);
        return;
    case BEHAVE_DECIMAL:
        snprintf(out, out_len,
                 "a number such as 3.5 (up to three decimals), from %lld.%03lld to "
                 "%lld.%03lld",
                 (long long)(p->min / 1000), (long long)(p->min % 1000), (long long)(p->max / 1000),
                 (long long)(p->max % 1000));
        return;
    case BEHAVE_BOOL:
        snprintf(out, out_len, "1 (on) or 0 (off)");
        return;
    }
    snprintf(out, out_len, "a value");
}

void
behave_config_defaults(struct behave_config *c)
{
    memset(c, 0, sizeof(*c));
    for (size_t i = 0; i < N_PARAMS; i++) {
        int64_t v = 0;
        int rc = param_parse(&params[i], params[i].def, strlen(params[i].def), &v);
        assert(rc == 0); /* the table's own defaults parse */
        (void)rc;
        memcpy((char *)c + param_offsets[i], &v, sizeof(v));
    }
}

int
behave_config_set(struct behave_config *c, const char *name_eq_value, struct errbuf *eb)
{
    const char *eq = strchr(name_eq_value, '=');
    if (!eq)
        return err_set(eb, IASO_E_USAGE,
                       "threshold '%s': expected name=value, e.g. scan_ports=200 "
                       "(`iaso sensor --thresholds` lists the names)",
                       name_eq_value);
    size_t name_len = (size_t)(eq - name_eq_value);
    const char *value = eq + 1;
    for (size_t i = 0; i < N_PARAMS; i++) {
        const struct behave_param *p = &params[i];
        if (strlen(p->name) != name_len || memcmp(p->name, name_eq_value, name_len) != 0)
            continue;
        int64_t v = 0;
        if (param_parse(p, value, strlen(value), &v) != 0) {
            char expect[160];
            param_expect(p, expect, sizeof(expect));
            return err_set(eb, IASO_E_USAGE, "threshold '%s': %s takes %s", name_eq_value, p->name,
                           expect);
        }
        memcpy((char *)c + param_offsets[i], &v, sizeof(v));
        return 0;
    }
    return err_set(eb, IASO_E_USAGE,
                   "threshold '%s': no parameter is called '%.*s' (the names are listed in "
                   "--help)",
                   name_eq_value, (int)(name_len < 64 ? name_len : 64), name_eq_value);
}

/* ---- tables ---- */

#define TAB_WAYS 8      /* entries per bucket: a new source may replace any of them */
#define TAB_STRIPES 256 /* locks per table: contention stays low with tens of workers */

struct stripe {
    _Alignas(64) pthread_mutex_t lock; /* one cache line each: no false sharing */
};

/* The head of every entry: its key, a source (and for RDP the server too). */
struct ent {
    struct ipaddr addr;
    struct ipaddr peer; /* RDP: the server; zero elsewhere */
    uint8_t ip_version;
};

/* What a lookup reads of a bucket before it touches an entry, in one or two cache lines rather
 * than eight entries: a tag of each way's key hash (0: empty) and when it was last touched. */
struct bucket {
    uint32_t tag[TAB_WAYS];
    uint64_t last_us[TAB_WAYS];
};

struct tab {
    size_t stride;      /* bytes per entry, a multiple of 8 */
    uint32_t n_buckets; /* of TAB_WAYS entries */
    uint64_t idle_us;   /* the longest window of the table: an entry idle longer holds nothing */
    unsigned char *mem; /* owned: n_buckets * TAB_WAYS * stride bytes */
    struct bucket *buckets; /* owned: n_buckets */
    struct stripe *stripes; /* owned: TAB_STRIPES */
    _Atomic uint64_t n_tracked, n_evicted, n_recycled;
};

static const char *const table_names[BEHAVE_TABLE_COUNT] = {"scan", "dicom", "smb", "rdp", "dns"};

const char *
behave_table_name(enum behave_table t)
{
    return (unsigned)t < BEHAVE_TABLE_COUNT ? table_names[t] : "?";
}

/* Rings of the last few distinct values, for evidence. */
#define RECENT_N 4
#define RECENT_LEN 64 /* bytes kept of a value, with its NUL: names are cut to 63 */
struct recent {
    uint8_t n, next;
    char v[RECENT_N][RECENT_LEN];
};

/* A tumbling window of one detector for one source. */
struct win {
    uint64_t start_us;
    uint32_t n;    /* what the detector counts */
    uint8_t open;  /* start_us is meaningful */
    uint8_t fired; /* it alerted in this window */
};

/* The per-family entries; the exact sets of distinct keys follow each struct. */
#define SCAN_PORTS_KEPT 8
#define SCAN_HOSTS_KEPT 4
struct scan_ent {
    struct ent h;
    struct win ports, hosts;
    uint8_t n_last_ports, next_port, n_last_hosts, next_host;
    uint16_t last_ports[SCAN_PORTS_KEPT];
    struct {
        struct ipaddr addr;
        uint8_t ip_version;
    } last_hosts[SCAN_HOSTS_KEPT];
    /* uint32_t port_set[cap_ports], host_set[cap_hosts] */
};

struct dicom_ent {
    struct ent h;
    struct win find, retr, rej; /* rej.n: distinct AE pairs */
    uint32_t n_move, n_get;
    uint64_t n_instances;
    struct recent find_shapes, retr_dests, rej_pairs;
    /* uint32_t rej_set[cap_rejects] */
};

#define SMB_EXT_SLOTS 4 /* extensions followed at once: ransomware uses one */
#define SMB_EXT_LEN 16
#define SMB_BLOOM_BITS 1024
struct smb_ext {
    char ext[SMB_EXT_LEN]; /* lower case, without the dot; "" unused */
    uint32_t n_renamed, n_created;
};
struct smb_ent {
    struct ent h;
    struct win burst; /* n: distinct files */
    uint32_t n_writes, n_renames, n_deletes;
    uint64_t created[SMB_BLOOM_BITS / 64]; /* files this client created in the burst window */
    struct recent burst_files;
    struct win ext;
    uint32_t ext_deletes;
    struct smb_ext exts[SMB_EXT_SLOTS];
    struct recent ext_names;
    struct win logon;
    uint32_t last_status;
    struct recent logon_users;
    /* uint32_t file_set[cap_files] */
};

struct rdp_ent {
    struct ent h;
    struct win w; /* n: attempts */
    uint32_t n_short;
    struct recent users;
};

struct dns_ent {
    struct ent h;
    struct win tun; /* n unused: two counters */
    uint32_t n_long, n_txt;
    struct recent zones;
    struct win nx; /* n: distinct names */
    struct recent nx_names;
    /* uint32_t nx_set[cap_nx] */
};

struct behave {
    struct behave_config cfg;
    struct netset home;
    uint64_t seed;     /* keys every hash, so no one can aim at a bucket */
    uint64_t instance; /* tells this set of detectors from an earlier one at the same address */
    uint32_t cap_ports, cap_hosts, cap_rejects, cap_files, cap_nx; /* exact set sizes */
    struct tab tab[BEHAVE_TABLE_COUNT];
    _Atomic uint64_t n_fired[RULE_COUNT];
};

/* Room for n distinct keys with linear probing at most 2/3 full, and always one empty slot so a
 * probe ends. */
static uint32_t
set_cap(int64_t threshold)
{
    return threshold > 0 ? (uint32_t)(threshold + threshold / 2 + 1) : 0;
}

/* Adds a nonzero, well-mixed key; true when it was not there. The caller never adds more than
 * the threshold, so the set never fills. */
static bool
set_add(uint32_t *set, uint32_t cap, uint32_t key)
{
    uint32_t i = (uint32_t)(((uint64_t)key * cap) >> 32);
    for (;;) {
        if (set[i] == key)
            return false;
        if (set[i] == 0) {
            set[i] = key;
            return true;
        }
        if (++i == cap)
            i = 0;
    }
}

/* A bijection on 32 bits (MurmurHash3's finaliser): spreads small keys such as port numbers
 * without collisions; 0 stays 0. */
static uint32_t
mix32(uint32_t h)
{
    h ^= h >> 16;
    h *= 0x85ebca6bu;
    h ^= h >> 13;
    h *= 0xc2b2ae35u;
    h ^= h >> 16;
    return h;
}

static uint32_t
hash32(const struct behave *b, const void *data, size_t len)
{
    uint64_t h = XXH3_64bits_withSeed(data, len, b->seed);
    uint32_t v = (uint32_t)(h ^ (h >> 32));
    return v ? v : 1;
}

/* The hash of a name in lower case (SMB and DNS names are case-insensitive). */
static uint32_t
hash32_lower(const struct behave *b, const char *s, size_t len)
{
    char low[2 * SMB2_NAME_MAX + 2];
    if (len > sizeof(low))
        len = sizeof(low);
    for (size_t i = 0; i < len; i++)
        low[i] = (s[i] >= 'A' && s[i] <= 'Z') ? (char)(s[i] + 32) : s[i];
    return hash32(b, low, len);
}

static int
tab_init(struct tab *t, size_t entry_len, int64_t memcap, uint64_t idle_us, const char *name,
         struct errbuf *eb)
{
    t->stride = (entry_len + 7) & ~(size_t)7;
    t->idle_us = idle_us;
    uint64_t locks = TAB_STRIPES * sizeof(struct stripe);
    uint64_t bucket = (uint64_t)t->stride * TAB_WAYS + sizeof(struct bucket);
    uint64_t n = (uint64_t)memcap > locks ? ((uint64_t)memcap - locks) / bucket : 0;
    if (n == 0)
        return err_set(eb, IASO_E_USAGE,
                       "%s_memcap %lld bytes does not hold one bucket of %d entries of %zu bytes "
                       "at the configured thresholds: raise %s_memcap or lower the thresholds",
                       name, (long long)memcap, TAB_WAYS, t->stride, name);
    if (n > UINT32_MAX)
        n = UINT32_MAX;
    t->n_buckets = (uint32_t)n;
    t->mem = calloc(n * TAB_WAYS, t->stride);
    t->buckets = calloc(n, sizeof(struct bucket));
    t->stripes = aligned_alloc(64, TAB_STRIPES * sizeof(struct stripe));
    if (!t->mem || !t->buckets || !t->stripes) {
        free(t->mem);
        free(t->buckets);
        free(t->stripes);
        t->mem = NULL;
        t->buckets = NULL;
        t->stripes = NULL;
        return err_set(eb, IASO_E_NOMEM, "%s_memcap: cannot allocate %lld bytes", name,
                       (long long)memcap);
    }
    for (int i = 0; i < TAB_STRIPES; i++)
        pthread_mutex_init(&t->stripes[i].lock, NULL);
    atomic_init(&t->n_tracked, 0);
    atomic_init(&t->n_evicted, 0);
    atomic_init(&t->n_recycled, 0);
    return 0;
}

static void
tab_release(struct tab *t)
{
    if (t->stripes)
        for (int i = 0; i < TAB_STRIPES; i++)
            pthread_mutex_destroy(&t->stripes[i].lock);
    free(t->stripes);
    free(t->buckets);
    free(t->mem);
}

/* The locks tab_get() took: one or two stripes. */
struct tab_lock {
    pthread_mutex_t *m[2]; /* m[1] NULL when both buckets are under one stripe */
};

static void
tab_unlock(struct tab_lock *lk)
{
    if (lk->m[1])
        pthread_mutex_unlock(lk->m[1]);
    pthread_mutex_unlock(lk->m[0]);
}

/* A way of bucket bi holding key, or -1. */
static int
bucket_find(const struct tab *t, uint32_t bi, uint32_t tag, const struct ent *key)
{
    const struct bucket *bk = &t->buckets[bi];
    for (int i = 0; i < TAB_WAYS; i++) {
        if (bk->tag[i] != tag)
            continue;
        const struct ent *e =
            (const struct ent *)(const void *)(t->mem +
                                               ((size_t)bi * TAB_WAYS + (size_t)i) * t->stride);
        if (e->ip_version == key->ip_version &&
            memcmp(e->addr.b, key->addr.b, sizeof(key->addr.b)) == 0 &&
            memcmp(e->peer.b, key->peer.b, sizeof(key->peer.b)) == 0)
            return i;
    }
    return -1;
}

/*
 * Finds the entry of (addr, peer), or makes one. A key may live in either of two buckets (two
 * choices keep the table usable to ~90% full where one bucket per key starts evicting at ~60%);
 * a new one takes an empty way of the emptier bucket, else the way of the two idle the longest.
 * Returns the entry, zeroed past its key when new, with its locks held: the caller calls
 * tab_unlock(lk).
 */
static void *
tab_get(const struct behave *b, struct tab *t, const struct ipaddr *addr, const struct ipaddr *peer,
        uint8_t ip_version, uint64_t ts_us, struct tab_lock *lk)
{
    struct ent key;
    memset(&key, 0, sizeof(key));
    key.addr = *addr;
    if (peer)
        key.peer = *peer;
    key.ip_version = ip_version;
    uint64_t h = XXH3_64bits_withSeed(&key, sizeof(key), b->seed);
    uint64_t h2 = h * 0x9e3779b97f4a7c15u;
    uint32_t bi[2] = {(uint32_t)(((h >> 32) * (uint64_t)t->n_buckets) >> 32),
                      (uint32_t)(((h2 >> 32) * (uint64_t)t->n_buckets) >> 32)};
    uint32_t tag = (uint32_t)h | 1; /* never 0, which marks an empty way */

    /* Stripes in index order, so two threads never wait on each other's. */
    uint32_t s0 = bi[0] % TAB_STRIPES, s1 = bi[1] % TAB_STRIPES;
    lk->m[0] = &t->stripes[s0 < s1 ? s0 : s1].lock;
    lk->m[1] = s0 == s1 ? NULL : &t->stripes[s0 < s1 ? s1 : s0].lock;
    pthread_mutex_lock(lk->m[0]);
    if (lk->m[1])
        pthread_mutex_lock(lk->m[1]);

    int n_try = bi[0] == bi[1] ? 1 : 2;
    for (int k = 0; k < n_try; k++) {
        int i = bucket_find(t, bi[k], tag, &key);
        if (i >= 0) {
            struct bucket *bk = &t->buckets[bi[k]];
            if (ts_us > bk->last_us[i])
                bk->last_us[i] = ts_us;
            return t->mem + ((size_t)bi[k] * TAB_WAYS + (size_t)i) * t->stride;
        }
    }

    int vb = -1, vi = -1, most_empty = 0;
    for (int k = 0; k < n_try; k++) {
        const struct bucket *bk = &t->buckets[bi[k]];
        int n_empty = 0, first_empty = -1;
        for (int i = 0; i < TAB_WAYS; i++)
            if (!bk->tag[i] && n_empty++ == 0)
                first_empty = i;
        if (n_empty > most_empty) {
            most_empty = n_empty;
            vb = k;
            vi = first_empty;
        }
    }
    if (vb < 0) {
        for (int k = 0; k < n_try; k++)
            for (int i = 0; i < TAB_WAYS; i++)
                if (vb < 0 || t->buckets[bi[k]].last_us[i] < t->buckets[bi[vb]].last_us[vi]) {
                    vb = k;
                    vi = i;
                }
    }
    struct bucket *bk = &t->buckets[bi[vb]];
    uint64_t idle_since = bk->last_us[vi];
    if (!bk->tag[vi])
        atomic_fetch_add_explicit(&t->n_tracked, 1, memory_order_relaxed);
    else if (ts_us >= idle_since && ts_us - idle_since > t->idle_us)
        atomic_fetch_add_explicit(&t->n_recycled, 1, memory_order_relaxed);
    else
        atomic_fetch_add_explicit(&t->n_evicted, 1, memory_order_relaxed);
    unsigned char *e = t->mem + ((size_t)bi[vb] * TAB_WAYS + (size_t)vi) * t->stride;
    memset(e, 0, t->stride);
    memcpy(e, &key, sizeof(key));
    bk->tag[vi] = tag;
    bk->last_us[vi] = ts_us;
    return e;
}

/* Opens a new window when none is open or the open one has ended at ts_us; true when it did
 * (the caller clears what it keeps per window). An event older than the window's start counts
 * in it. */
static bool
win_roll(struct win *w, uint64_t ts_us, int64_t window_ms)
{
    uint64_t window_us = (uint64_t)window_ms * 1000;
    if (w->open && (ts_us < w->start_us || ts_us - w->start_us < window_us))
        return false;
    memset(w, 0, sizeof(*w));
    w->open = 1;
    w->start_us = ts_us;
    return true;
}

/* Cuts at a UTF-8 character boundary so a cut value stays valid text. */
static size_t
utf8_cut(const char *s, size_t len, size_t max)
{
    if (len <= max)
        return len;
    while (max > 0 && ((unsigned char)s[max] & 0xc0) == 0x80)
        max--;
    return max;
}

static void
recent_add(struct recent *r, const char *s, size_t len)
{
    len = utf8_cut(s, len, RECENT_LEN - 1);
    if (len == 0)
        return; /* a name not known: nothing to show */
    for (int i = 0; i < r->n; i++)
        if (strlen(r->v[i]) == len && memcmp(r->v[i], s, len) == 0)
            return;
    memcpy(r->v[r->next], s, len);
    r->v[r->next][len] = '\0';
    r->next = (uint8_t)((r->next + 1) % RECENT_N);
    if (r->n < RECENT_N)
        r->n++;
}

static void
recent_add_str(struct recent *r, const char *s)
{
    recent_add(r, s, strlen(s));
}

/* ---- evidence ---- */

#define EVID_NUMS 8
#define EVID_STRS 6

/* A copy of what an alert's evidence says, taken under the entry's lock and written after it is
 * released. Keys are string literals. */
struct evid {
    uint32_t n_nums, n_strs;
    struct {
        const char *key;
        uint64_t v;
    } num[EVID_NUMS];
    struct {
        const char *key;
        char s[RECENT_LEN];
    } str[EVID_STRS];
    const char *list_key; /* NULL: no list */
    struct recent list;
    const char *ports_key; /* NULL: no port list */
    uint32_t n_ports;
    uint16_t ports[SCAN_PORTS_KEPT];
};

static void
evid_init(struct evid *e)
{
    memset(e, 0, sizeof(*e));
}

static void
evid_num(struct evid *e, const char *key, uint64_t v)
{
    assert(e->n_nums < EVID_NUMS);
    if (e->n_nums == EVID_NUMS)
        return;
    e->num[e->n_nums].key = key;
    e->num[e->n_nums].v = v;
    e->n_nums++;
}

static void
evid_strn(struct evid *e, const char *key, const char *s, size_t len)
{
    assert(e->n_strs < EVID_STRS);
    if (e->n_strs == EVID_STRS)
        return;
    len = utf8_cut(s, len, RECENT_LEN - 1);
    e->str[e->n_strs].key = key;
    memcpy(e->str[e->n_strs].s, s, len);
    e->str[e->n_strs].s[len] = '\0';
    e->n_strs++;
}

static void
evid_str(struct evid *e, const char *key, const char *s)
{
    evid_strn(e, key, s, strlen(s));
}

static void
evid_list(struct evid *e, const char *key, const struct recent *r)
{
    e->list_key = key;
    e->list = *r;
}

/* The usual three: the count that crossed, its threshold, the window. */
static void
evid_window(struct evid *e, uint64_t count, int64_t threshold, int64_t window_ms)
{
    evid_num(e, "count", count);
    evid_num(e, "threshold", (uint64_t)threshold);
    evid_num(e, "window_s", (uint64_t)window_ms / 1000);
}

static void
evid_write(struct jsonw *w, const void *arg)
{
    const struct evid *e = arg;
    for (uint32_t i = 0; i < e->n_nums; i++) {
        jsonw_key_str(w, e->num[i].key);
        jsonw_u64(w, e->num[i].v);
    }
    for (uint32_t i = 0; i < e->n_strs; i++) {
        jsonw_key_str(w, e->str[i].key);
        jsonw_str(w, e->str[i].s);
    }
    if (e->list_key) {
        jsonw_key_str(w, e->list_key);
        jsonw_array_begin(w);
        const struct recent *r = &e->list;
        int first = r->n < RECENT_N ? 0 : r->next; /* oldest first */
        for (int i = 0; i < r->n; i++)
            jsonw_str(w, r->v[(first + i) % RECENT_N]);
        jsonw_array_end(w);
    }
    if (e->ports_key) {
        jsonw_key_str(w, e->ports_key);
        jsonw_array_begin(w);
        for (uint32_t i = 0; i < e->n_ports; i++)
            jsonw_u64(w, e->ports[i]);
        jsonw_array_end(w);
    }
}

/* An alert to raise once the entry's lock is released. */
struct pending {
    bool fire;
    enum rule_id rule;
    int src_side;
    uint64_t subject;
    struct evid ev;
};

static void
fire(struct behave *b, struct alert_gate *g, const struct flow *f, uint64_t ts_us,
     const char *app_proto, const struct pending *p)
{
    if (!p->fire)
        return;
    atomic_fetch_add_explicit(&b->n_fired[p->rule], 1, memory_order_relaxed);
    if (!g)
        return;
    struct alert a;
    memset(&a, 0, sizeof(a));
    a.rule = p->rule;
    a.flow = f;
    a.src_side = p->src_side;
    a.ts_us = ts_us;
    a.subject = p->subject;
    a.app_proto = app_proto;
    a.evidence = evid_write;
    a.evidence_arg = &p->ev;
    alert_raise(g, &a);
}

/* ---- addresses ---- */

/* The address of the flow's client (side FLOW_TOSERVER, as alert.src_side says it) or server. */
static const struct ipaddr *
side_addr(const struct flow *f, int side)
{
    return side == FLOW_TOSERVER ? &f->key.addr[f->client] : &f->key.addr[!f->client];
}

static bool
is_multicast(const struct ipaddr *a, uint8_t ip_version)
{
    if (ip_version == 4)
        return (a->b[0] & 0xf0) == 0xe0 ||
               (a->b[0] == 255 && a->b[1] == 255 && a->b[2] == 255 && a->b[3] == 255);
    return a->b[0] == 0xff;
}

static bool
is_home(const struct behave *b, const struct ipaddr *a, uint8_t ip_version)
{
    return netset_contains(&b->home, a, ip_version);
}

/* ---- scans and RDP connection attempts (new flows) ---- */

static uint32_t *
scan_port_set(const struct behave *b, struct scan_ent *e)
{
    (void)b;
    return (uint32_t *)(void *)(e + 1);
}

static uint32_t *
scan_host_set(const struct behave *b, struct scan_ent *e)
{
    return scan_port_set(b, e) + b->cap_ports;
}

/*
 * A front filter for the scan counts, one per thread (no lock, 128 KiB, in cache): the
 * (source, destination, port, protocol) tuples this thread counted lately, with the period of
 * scan_window they were counted in. Ordinary traffic opens flow after flow between the same hosts
 * and ports, and none of those can change a count, so they stop here instead of taking a lock and
 * several cache misses in the shared table (measured: 12% of the packet pipeline's time on the
 * benchmark capture without it). A tuple seen again in a later period is counted again. The cost:
 * a source whose window in the shared table rolled over inside one such period does not count a
 * tuple it repeats across the roll, which can only lower a count, never raise it.
 */
#define SCAN_FILTER_SLOTS 16384
static _Thread_local uint64_t scan_filter[SCAN_FILTER_SLOTS];

static bool
scan_seen_lately(const struct behave *b, const struct flow *f, uint64_t ts_us)
{
    struct {
        uint8_t src[16], dst[16];
        uint16_t dport;
        uint8_t proto, ip_version;
        uint32_t pad;
        uint64_t instance;
    } k;
    memset(&k, 0, sizeof(k));
    memcpy(k.src, side_addr(f, FLOW_TOSERVER)->b, 16);
    memcpy(k.dst, side_addr(f, FLOW_TOCLIENT)->b, 16);
    k.dport = f->key.port[!f->client];
    k.proto = f->key.proto;
    k.ip_version = f->key.ip_version;
    k.instance = b->instance;
    uint64_t period = b->cfg.scan_window > 0 ? ts_us / ((uint64_t)b->cfg.scan_window * 1000) : 0;
    uint64_t h = XXH3_64bits_withSeed(&k, sizeof(k), b->seed);
    /* The slot from the low bits; the tag is the rest of the hash and the period. */
    uint64_t tag = ((h >> 14) ^ (period * 0x9e3779b97f4a7c15ull)) | 1;
    uint64_t *slot = &scan_filter[h & (SCAN_FILTER_SLOTS - 1)];
    if (*slot == tag)
        return true;
    *slot = tag;
    return false;
}

static void
scan_count(struct behave *b, struct alert_gate *g, const struct flow *f, uint64_t ts_us)
{
    const struct behave_config *c = &b->cfg;
    uint8_t v = f->key.ip_version;
    const struct ipaddr *dst = side_addr(f, FLOW_TOCLIENT);
    if (is_multicast(dst, v))
        return;
    bool count_port = c->scan_ports > 0 && (f->key.proto == 6 || f->key.proto == 17);
    bool count_host = c->scan_hosts > 0 && (!c->scan_hosts_home_only || is_home(b, dst, v));
    if (!count_port && !count_host)
        return;
    uint16_t dport = f->key.port[!f->client];

    struct pending pp, ph;
    pp.fire = ph.fire = false;
    struct tab_lock lock;
    struct scan_ent *e =
        tab_get(b, &b->tab[BEHAVE_TABLE_SCAN], side_addr(f, FLOW_TOSERVER), NULL, v, ts_us, &lock);
    if (count_port) {
        uint32_t *set = scan_port_set(b, e);
        if (win_roll(&e->ports, ts_us, c->scan_window)) {
            memset(set, 0, b->cap_ports * sizeof(*set));
            e->n_last_ports = e->next_port = 0;
        }
        if (!e->ports.fired && set_add(set, b->cap_ports, mix32((uint32_t)dport + 1))) {
            e->last_ports[e->next_port] = dport;
            e->next_port = (uint8_t)((e->next_port + 1) % SCAN_PORTS_KEPT);
            if (e->n_last_ports < SCAN_PORTS_KEPT)
                e->n_last_ports++;
            if (++e->ports.n >= c->scan_ports) {
                e->ports.fired = 1;
                pp.fire = true;
                pp.rule = RULE_SCAN_PORTS;
                pp.src_side = FLOW_TOSERVER;
                pp.subject = e->ports.start_us;
                evid_init(&pp.ev);
                evid_window(&pp.ev, e->ports.n, c->scan_ports, c->scan_window);
                pp.ev.ports_key = "ports";
                int first = e->n_last_ports < SCAN_PORTS_KEPT ? 0 : e->next_port;
                for (int i = 0; i < e->n_last_ports; i++)
                    pp.ev.ports[pp.ev.n_ports++] = e->last_ports[(first + i) % SCAN_PORTS_KEPT];
            }
        }
    }
    if (count_host) {
        uint32_t *set = scan_host_set(b, e);
        if (win_roll(&e->hosts, ts_us, c->scan_window)) {
            memset(set, 0, b->cap_hosts * sizeof(*set));
            e->n_last_hosts = e->next_host = 0;
        }
        if (!e->hosts.fired && set_add(set, b->cap_hosts, hash32(b, dst->b, sizeof(dst->b)))) {
            e->last_hosts[e->next_host].addr = *dst;
            e->last_hosts[e->next_host].ip_version = v;
            e->next_host = (uint8_t)((e->next_host + 1) % SCAN_HOSTS_KEPT);
            if (e->n_last_hosts < SCAN_HOSTS_KEPT)
                e->n_last_hosts++;
            if (++e->hosts.n >= c->scan_hosts) {
                e->hosts.fired = 1;
                ph.fire = true;
                ph.rule = RULE_SCAN_HOSTS;
                ph.src_side = FLOW_TOSERVER;
                ph.subject = e->hosts.start_us;
                evid_init(&ph.ev);
                evid_window(&ph.ev, e->hosts.n, c->scan_hosts, c->scan_window);
                ph.ev.list_key = "hosts";
                int first = e->n_last_hosts < SCAN_HOSTS_KEPT ? 0 : e->next_host;
                for (int i = 0; i < e->n_last_hosts; i++) {
                    char text[64];
                    const struct ipaddr *a = &e->last_hosts[(first + i) % SCAN_HOSTS_KEPT].addr;
                    int n =
                        ipaddr_format(a, e->last_hosts[(first + i) % SCAN_HOSTS_KEPT].ip_version,
                                      text, sizeof(text));
                    if (n > 0)
                        recent_add(&ph.ev.list, text, (size_t)n);
                }
            }
        }
    }
    tab_unlock(&lock);
    fire(b, g, f, ts_us, NULL, &pp);
    fire(b, g, f, ts_us, NULL, &ph);
}

/* Counts for one source/server pair: a connection attempt, a connection that ended short, a
 * user name seen (user_len > 0), any of them. */
static void
rdp_count(struct behave *b, struct alert_gate *g, const struct flow *f, uint64_t ts_us,
          bool attempt, bool is_short, const char *user, size_t user_len)
{
    const struct behave_config *c = &b->cfg;
    if (c->rdp_attempts == 0 && c->rdp_short == 0)
        return;
    struct pending p;
    p.fire = false;
    struct tab_lock lock;
    struct rdp_ent *e = tab_get(b, &b->tab[BEHAVE_TABLE_RDP], side_addr(f, FLOW_TOSERVER),
                                side_addr(f, FLOW_TOCLIENT), f->key.ip_version, ts_us, &lock);
    if (win_roll(&e->w, ts_us, c->rdp_window)) {
        e->n_short = 0;
        memset(&e->users, 0, sizeof(e->users));
    }
    if (attempt)
        e->w.n++;
    if (is_short)
        e->n_short++;
    if (user_len)
        recent_add(&e->users, user, user_len);
    if (!e->w.fired && ((c->rdp_attempts && e->w.n >= c->rdp_attempts) ||
                        (c->rdp_short && e->n_short >= c->rdp_short))) {
        e->w.fired = 1;
        p.fire = true;
        p.rule = RULE_RDP_BRUTE_FORCE;
        p.src_side = FLOW_TOSERVER;
        p.subject = e->w.start_us;
        evid_init(&p.ev);
        evid_num(&p.ev, "attempts", e->w.n);
        evid_num(&p.ev, "short", e->n_short);
        evid_num(&p.ev, "attempts_threshold", (uint64_t)c->rdp_attempts);
        evid_num(&p.ev, "short_threshold", (uint64_t)c->rdp_short);
        evid_num(&p.ev, "short_bytes", (uint64_t)c->rdp_short_bytes);
        evid_num(&p.ev, "window_s", (uint64_t)c->rdp_window / 1000);
        evid_list(&p.ev, "users", &e->users);
    }
    tab_unlock(&lock);
    fire(b, g, f, ts_us, proto_name(PROTO_RDP), &p);
}

#define RDP_PORT 3389

void
behave_flow_new(struct behave *b, struct alert_gate *g, const struct flow *f, uint64_t ts_us)
{
    if (!b || !f)
        return;
    uint8_t proto = f->key.proto;
    uint16_t sport = f->key.port[f->client], dport = f->key.port[!f->client];
    bool count;
    if (proto == 6)
        count = (f->tcp_flags[FLOW_TOSERVER] & (TCP_SYN | TCP_ACK)) == TCP_SYN;
    else if (proto == 17)
        count = !(sport < 1024 && dport >= 1024);
    else
        count = proto == 1 || proto == 58;
    if (!count)
        return;
    if (proto == 6 && dport == RDP_PORT)
        rdp_count(b, g, f, ts_us, true, false, NULL, 0);
    if ((b->cfg.scan_ports > 0 || b->cfg.scan_hosts > 0) && !scan_seen_lately(b, f, ts_us))
        scan_count(b, g, f, ts_us);
}

void
behave_flow_end(struct behave *b, struct alert_gate *g, const struct flow *f, enum proto_id app)
{
    if (!b || !f)
        return;
    bool rdp = app == PROTO_RDP || (f->key.proto == 6 && f->key.port[!f->client] == RDP_PORT);
    if (!rdp)
        return;
    uint64_t total = f->bytes[0] + f->bytes[1];
    if (total < (uint64_t)b->cfg.rdp_short_bytes)
        rdp_count(b, g, f, f->last_us, false, true, NULL, 0);
}

static void
rdp_event(struct behave *b, struct alert_gate *g, const struct flow *f,
          const struct proto_event *ev)
{
    if (ev->kind != RDP_EVENT_CONNECT_REQUEST)
        return;
    const struct rdp_event *r = ev->data;
    /* Flows to 3389 that began with a SYN were counted when they started. */
    bool counted = f->key.proto == 6 && f->key.port[!f->client] == RDP_PORT &&
                   (f->tcp_flags[FLOW_TOSERVER] & TCP_SYN);
    size_t user_len = r->has_cookie ? r->token_len : 0;
    if (user_len > sizeof(r->token))
        user_len = sizeof(r->token);
    if (counted && !user_len)
        return;
    rdp_count(b, g, f, ev->ts_us, !counted, false, r->token, user_len);
}

/* ---- DICOM and HL7 ---- */

/* The rule's alert when an endpoint of f is outside the home networks. Its source is the client,
 * the side that opened the connection: a modality sending images out, or an outside host
 * reaching in; the evidence says which side is outside. */
static bool
external_side(const struct behave *b, const struct flow *f, int *side, const char **which)
{
    uint8_t v = f->key.ip_version;
    bool ext_client = !is_home(b, side_addr(f, FLOW_TOSERVER), v);
    bool ext_server = !is_home(b, side_addr(f, FLOW_TOCLIENT), v);
    if (!ext_client && !ext_server)
        return false;
    *side = FLOW_TOSERVER;
    *which = ext_client && ext_server ? "both" : ext_client ? "client" : "server";
    return true;
}

static void
dicom_external(struct behave *b, struct alert_gate *g, const struct flow *f, uint64_t ts_us,
               const char *calling, const char *called)
{
    struct pending p;
    p.fire = false;
    const char *which;
    if (!b->cfg.dicom_external || !external_side(b, f, &p.src_side, &which))
        return;
    p.fire = true;
    p.rule = RULE_DICOM_EXTERNAL;
    p.subject = 0;
    evid_init(&p.ev);
    evid_str(&p.ev, "external", which);
    evid_str(&p.ev, "calling_ae", calling);
    evid_str(&p.ev, "called_ae", called);
    fire(b, g, f, ts_us, proto_name(PROTO_DICOM), &p);
}

static bool
str_eq_ci(const char *a, const char *b)
{
    return strcasecmp(a, b) == 0;
}

static const char *const dicom_match_names[] = {
    [DICOM_MATCH_UNIVERSAL] = "universal", [DICOM_MATCH_WILDCARD] = "wildcard",
    [DICOM_MATCH_RANGE] = "range",         [DICOM_MATCH_LIST] = "list",
    [DICOM_MATCH_EXACT] = "exact",         [DICOM_MATCH_SEQUENCE] = "sequence",
};

/* A broad C-FIND: patient or study level, no top-level key matched exactly or by list. Its
 * shape for evidence: the level and the keys that match on something, without their values:
 * "STUDY PatientName:wildcard StudyDate:range". */
static bool
dicom_find_broad(const struct dicom_dimse *m, char *shape, size_t shape_len)
{
    if (!str_eq_ci(m->query_level, "PATIENT") && !str_eq_ci(m->query_level, "STUDY"))
        return false;
    size_t n = (size_t)snprintf(shape, shape_len, "%s", m->query_level);
    uint32_t n_keys = m->n_keys < DICOM_KEYS_MAX ? m->n_keys : DICOM_KEYS_MAX;
    for (uint32_t i = 0; i < n_keys; i++) {
        const struct dicom_key *k = &m->keys[i];
        if (k->parent_tag)
            continue;
        if (k->match == DICOM_MATCH_EXACT || k->match == DICOM_MATCH_LIST)
            return false;
        if (k->match == DICOM_MATCH_UNIVERSAL || k->match == DICOM_MATCH_SEQUENCE ||
            (unsigned)k->match >= sizeof(dicom_match_names) / sizeof(dicom_match_names[0]))
            continue;
        if (n + 1 >= shape_len)
            continue;
        int w;
        if (k->keyword)
            w = snprintf(shape + n, shape_len - n, " %s:%s", k->keyword,
                         dicom_match_names[k->match]);
        else
            w = snprintf(shape + n, shape_len - n, " (%04x,%04x):%s", k->tag >> 16, k->tag & 0xffff,
                         dicom_match_names[k->match]);
        if (w > 0)
            n = n + (size_t)w < shape_len ? n + (size_t)w : shape_len - 1;
    }
    return true;
}

#define DICOM_C_GET_RQ 0x0010
#define DICOM_C_FIND_RQ 0x0020
#define DICOM_C_MOVE_RQ 0x0021
#define DICOM_C_GET_RSP 0x8010
#define DICOM_C_MOVE_RSP 0x8021

static uint32_t *
dicom_rej_set(struct dicom_ent *e)
{
    return (uint32_t *)(void *)(e + 1);
}

static void
dicom_retrieve_check(const struct behave_config *c, struct dicom_ent *e, struct pending *p,
                     int side)
{
    if (e->retr.fired)
        return;
    bool by_requests = c->dicom_retrieve_requests && e->retr.n >= c->dicom_retrieve_requests;
    bool by_instances =
        c->dicom_retrieve_instances && e->n_instances >= (uint64_t)c->dicom_retrieve_instances;
    if (!by_requests && !by_instances)
        return;
    e->retr.fired = 1;
    p->fire = true;
    p->rule = RULE_DICOM_BULK_RETRIEVE;
    p->src_side = side;
    p->subject = e->retr.start_us;
    evid_init(&p->ev);
    evid_num(&p->ev, "requests", e->retr.n);
    evid_num(&p->ev, "c_move", e->n_move);
    evid_num(&p->ev, "c_get", e->n_get);
    evid_num(&p->ev, "instances", e->n_instances);
    evid_num(&p->ev, "requests_threshold", (uint64_t)c->dicom_retrieve_requests);
    evid_num(&p->ev, "instances_threshold", (uint64_t)c->dicom_retrieve_instances);
    evid_num(&p->ev, "window_s", (uint64_t)c->dicom_retrieve_window / 1000);
    evid_list(&p->ev, "move_destinations", &e->retr_dests);
}

static void
dicom_dimse(struct behave *b, struct alert_gate *g, const struct flow *f,
            const struct proto_event *ev)
{
    const struct behave_config *c = &b->cfg;
    const struct dicom_dimse *m = ev->data;
    if (!(m->has & DICOM_HAS_COMMAND_FIELD))
        return;
    uint16_t cmd = m->command_field;
    char shape[RECENT_LEN];
    int side; /* the requester */
    if (cmd == DICOM_C_FIND_RQ) {
        if (!c->dicom_find_queries || !dicom_find_broad(m, shape, sizeof(shape)))
            return;
        side = ev->dir;
    } else if (cmd == DICOM_C_MOVE_RQ || cmd == DICOM_C_GET_RQ) {
        if (!c->dicom_retrieve_requests && !c->dicom_retrieve_instances)
            return;
        side = ev->dir;
    } else if (cmd == DICOM_C_MOVE_RSP || cmd == DICOM_C_GET_RSP) {
        /* Only final responses: pending ones carry running totals. */
        if (!c->dicom_retrieve_instances || !(m->has & DICOM_HAS_COMPLETED) ||
            !(m->has & DICOM_HAS_STATUS) || m->status == 0xff00 || m->status == 0xff01 ||
            m->n_completed == 0)
            return;
        side = 1 - ev->dir;
    } else {
        return;
    }

    struct pending p;
    p.fire = false;
    struct tab_lock lock;
    struct dicom_ent *e = tab_get(b, &b->tab[BEHAVE_TABLE_DICOM], side_addr(f, side), NULL,
                                  f->key.ip_version, ev->ts_us, &lock);
    if (cmd == DICOM_C_FIND_RQ) {
        if (win_roll(&e->find, ev->ts_us, c->dicom_find_window))
            memset(&e->find_shapes, 0, sizeof(e->find_shapes));
        recent_add_str(&e->find_shapes, shape);
        if (++e->find.n >= c->dicom_find_queries && !e->find.fired) {
            e->find.fired = 1;
            p.fire = true;
            p.rule = RULE_DICOM_QUERY_SWEEP;
            p.src_side = side;
            p.subject = e->find.start_us;
            evid_init(&p.ev);
            evid_window(&p.ev, e->find.n, c->dicom_find_queries, c->dicom_find_window);
            evid_list(&p.ev, "queries", &e->find_shapes);
        }
    } else {
        if (win_roll(&e->retr, ev->ts_us, c->dicom_retrieve_window)) {
            e->n_move = e->n_get = 0;
            e->n_instances = 0;
            memset(&e->retr_dests, 0, sizeof(e->retr_dests));
        }
        if (cmd == DICOM_C_MOVE_RQ) {
            e->retr.n++;
            e->n_move++;
            recent_add_str(&e->retr_dests, m->move_destination);
        } else if (cmd == DICOM_C_GET_RQ) {
            e->retr.n++;
            e->n_get++;
        } else {
            e->n_instances += m->n_completed;
        }
        dicom_retrieve_check(c, e, &p, side);
    }
    tab_unlock(&lock);
    fire(b, g, f, ev->ts_us, proto_name(PROTO_DICOM), &p);
}

/* A rejected association, from the summary that follows the A-ASSOCIATE-RJ: the client that
 * asked is counted, by distinct AE title pair. */
static void
dicom_reject(struct behave *b, struct alert_gate *g, const struct flow *f,
             const struct proto_event *ev, const struct dicom_association *a)
{
    const struct behave_config *c = &b->cfg;
    if (!c->dicom_rejects)
        return;
    int side = 1 - ev->dir; /* the receiver of the reject */
    char pair[2 * DICOM_AE_MAX + 4];
    int n = snprintf(pair, sizeof(pair), "%s->%s", a->calling_ae[0] ? a->calling_ae : "?",
                     a->called_ae[0] ? a->called_ae : "?");
    size_t len = n > 0 ? (size_t)n : 0;
    if (len >= sizeof(pair))
        len = sizeof(pair) - 1;
    uint32_t key = hash32(b, pair, len);

    struct pending p;
    p.fire = false;
    struct tab_lock lock;
    struct dicom_ent *e = tab_get(b, &b->tab[BEHAVE_TABLE_DICOM], side_addr(f, side), NULL,
                                  f->key.ip_version, ev->ts_us, &lock);
    uint32_t *set = dicom_rej_set(e);
    if (win_roll(&e->rej, ev->ts_us, c->dicom_reject_window)) {
        memset(set, 0, b->cap_rejects * sizeof(*set));
        memset(&e->rej_pairs, 0, sizeof(e->rej_pairs));
    }
    if (!e->rej.fired && set_add(set, b->cap_rejects, key)) {
        recent_add(&e->rej_pairs, pair, len);
        if (++e->rej.n >= c->dicom_rejects) {
            e->rej.fired = 1;
            p.fire = true;
            p.rule = RULE_DICOM_AE_GUESSING;
            p.src_side = side;
            p.subject = e->rej.start_us;
            evid_init(&p.ev);
            evid_window(&p.ev, e->rej.n, c->dicom_rejects, c->dicom_reject_window);
            evid_list(&p.ev, "ae_pairs", &e->rej_pairs);
        }
    }
    tab_unlock(&lock);
    fire(b, g, f, ev->ts_us, proto_name(PROTO_DICOM), &p);
}

static void
dicom_event(struct behave *b, struct alert_gate *g, const struct flow *f,
            const struct proto_event *ev)
{
    switch (ev->kind) {
    case DICOM_EVENT_ASSOCIATE_RQ: {
        const struct dicom_associate *a = ev->data;
        dicom_external(b, g, f, ev->ts_us, a->calling_ae, a->called_ae);
        break;
    }
    case DICOM_EVENT_ASSOCIATION: {
        /* Also catches associations whose request was not seen; the gate drops the repeat. */
        const struct dicom_association *a = ev->data;
        dicom_external(b, g, f, ev->ts_us, a->calling_ae, a->called_ae);
        if (a->end && strcmp(a->end, "reject") == 0)
            dicom_reject(b, g, f, ev, a);
        break;
    }
    case DICOM_EVENT_DIMSE:
        dicom_dimse(b, g, f, ev);
        break;
    default:
        break;
    }
}

static void
hl7_event(struct behave *b, struct alert_gate *g, const struct flow *f,
          const struct proto_event *ev)
{
    if (ev->kind != HL7_EVENT_MESSAGE || !b->cfg.hl7_external)
        return;
    const struct hl7_message *m = ev->data;
    struct pending p;
    const char *which;
    if (!external_side(b, f, &p.src_side, &which))
        return;
    p.fire = true;
    p.rule = RULE_HL7_EXTERNAL;
    p.subject = 0;
    evid_init(&p.ev);
    evid_str(&p.ev, "external", which);
    evid_strn(&p.ev, "sending_application", m->sending_application.full.s,
              m->sending_application.full.len);
    evid_strn(&p.ev, "sending_facility", m->sending_facility.full.s, m->sending_facility.full.len);
    evid_strn(&p.ev, "receiving_application", m->receiving_application.full.s,
              m->receiving_application.full.len);
    evid_strn(&p.ev, "receiving_facility", m->receiving_facility.full.s,
              m->receiving_facility.full.len);
    char type[2 * HL7_STR_MAX + 2];
    int n =
        snprintf(type, sizeof(type), "%.*s%s%.*s", (int)m->message_type.len, m->message_type.s,
                 m->trigger_event.len ? "^" : "", (int)m->trigger_event.len, m->trigger_event.s);
    evid_strn(&p.ev, "message_type", type, n > 0 ? (size_t)n : 0);
    fire(b, g, f, ev->ts_us, proto_name(PROTO_HL7), &p);
}

/* ---- SMB ---- */

/*
 * Ransom note names, lower case, '*' for any run of characters, matched against the whole base
 * name. From the names public ransomware families give their notes (as catalogued by ID
 * Ransomware and vendors' write-ups): CryptoWall, Locky, Cerber, WannaCry, Ryuk, STOP/Djvu,
 * LockBit 2.0, BlackCat/ALPHV, Hive, Clop, Akira, Makop, Medusa, and the generic wordings many
 * others use. Plain "readme.txt" (Conti, Black Basta, Royal) is left out: too common.
 */
static const char *const ransom_notes[] = {
    "*readme_to_decrypt*", "*how_to_decrypt*",    "*how_to_recover*",
    "*how_to_restore*",    "*how_to_back_files*", "*decrypt_instructions*",
    "*help_decrypt*",      "*help_instructions*", "*decrypt my files*",
    "*decrypt_my_files*",  "*restore_files*",     "*restore-my-files*",
    "*recover_files*",     "recover-*-files.txt", "!!!read_me*",
    "_readme.txt",         "@please_read_me@*",   "ryukreadme*",
    "clopreadme*",         "akira_readme*",       "*your_files_are_encrypted*",
    "readme-warning.txt",
};

/* Extensions files are commonly created with in bulk; a burst of creates with any other one,
 * while as many files are deleted, is an extension change. */
static const char *const common_exts[] = {
    "tmp", "temp", "log",     "txt",        "doc",  "docx", "xls", "xlsx", "ppt",  "pptx",
    "pdf", "rtf",  "jpg",     "jpeg",       "png",  "gif",  "bmp", "tif",  "tiff", "dcm",
    "xml", "json", "csv",     "htm",        "html", "zip",  "bak", "dat",  "ini",  "lnk",
    "db",  "part", "partial", "crdownload", "msg",  "eml",  "mp4", "wav",
};

/* Executables that PsExec and its kin copy to ADMIN$ before starting them as a service. */
static const char *const exec_exts[] = {"exe", "dll", "sys", "bat", "cmd", "ps1",
                                        "vbs", "scr", "msi", "com", "hta"};

/* Logon failure statuses of SESSION_SETUP ([MS-ERREF] 2.3.1). */
static bool
smb_logon_failure(uint32_t status)
{
    switch (status) {
    case 0xC000006Du: /* STATUS_LOGON_FAILURE */
    case 0xC000006Au: /* STATUS_WRONG_PASSWORD */
    case 0xC0000064u: /* STATUS_NO_SUCH_USER */
    case 0xC000006Eu: /* STATUS_ACCOUNT_RESTRICTION */
    case 0xC000006Fu: /* STATUS_INVALID_LOGON_HOURS */
    case 0xC0000070u: /* STATUS_INVALID_WORKSTATION */
    case 0xC0000071u: /* STATUS_PASSWORD_EXPIRED */
    case 0xC0000072u: /* STATUS_ACCOUNT_DISABLED */
    case 0xC0000193u: /* STATUS_ACCOUNT_EXPIRED */
    case 0xC0000224u: /* STATUS_PASSWORD_MUST_CHANGE */
    case 0xC0000234u: /* STATUS_ACCOUNT_LOCKED_OUT */
    case 0xC000015Bu: /* STATUS_LOGON_TYPE_NOT_GRANTED */
        return true;
    default:
        return false;
    }
}

/* The last component of a path ("dir\\a.docx" -> "a.docx"), either slash. */
static const char *
base_name(const char *path)
{
    const char *s = path;
    for (const char *p = path; *p; p++)
        if (*p == '\\' || *p == '/')
            s = p + 1;
    return s;
}

/* The extension of a base name in lower case, without its dot; false when it has none or one
 * longer than SMB_EXT_LEN - 1. */
static bool
ext_of(const char *base, char *out)
{
    const char *dot = strrchr(base, '.');
    if (!dot || dot == base || !dot[1])
        return false;
    size_t len = strlen(dot + 1);
    if (len >= SMB_EXT_LEN)
        return false;
    for (size_t i = 0; i <= len; i++) {
        char ch = dot[1 + i];
        out[i] = (ch >= 'A' && ch <= 'Z') ? (char)(ch + 32) : ch;
    }
    return true;
}

static bool
in_list(const char *s, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(s, list[i]) == 0)
            return true;
    return false;
}

/* Whether s (len bytes, lower case) matches pattern pat where '*' matches any run: the classic
 * backtracking walk that only ever returns to the last star, so no recursion and O(len * |pat|). */
static bool
glob_match(const char *pat, const char *s, size_t len)
{
    size_t plen = strlen(pat), p = 0, i = 0, star_p = SIZE_MAX, star_i = 0;
    while (i < len) {
        if (p < plen && pat[p] == '*') {
            star_p = p++;
            star_i = i;
        } else if (p < plen && pat[p] == s[i]) {
            p++;
            i++;
        } else if (star_p != SIZE_MAX) {
            p = star_p + 1;
            i = ++star_i;
        } else {
            return false;
        }
    }
    while (p < plen && pat[p] == '*')
        p++;
    return p == plen;
}

/* The ransom note pattern a file's base name matches, or NULL. */
static const char *
ransom_note_match(const char *base)
{
    char low[SMB2_NAME_MAX];
    size_t len = strlen(base);
    if (len >= sizeof(low))
        len = sizeof(low) - 1;
    for (size_t i = 0; i < len; i++)
        low[i] = (base[i] >= 'A' && base[i] <= 'Z') ? (char)(base[i] + 32) : base[i];
    for (size_t i = 0; i < sizeof(ransom_notes) / sizeof(ransom_notes[0]); i++)
        if (glob_match(ransom_notes[i], low, len))
            return ransom_notes[i];
    return NULL;
}

/* ADMIN$ or a drive share (C$, D$, ...): the last component of "\\\\server\\C$". */
static bool
smb_admin_share(const char *share, bool *is_admin_dollar)
{
    const char *s = base_name(share);
    *is_admin_dollar = str_eq_ci(s, "ADMIN$");
    bool drive = strlen(s) == 2 && s[1] == '$' &&
                 ((s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z'));
    return *is_admin_dollar || drive;
}

static uint32_t *
smb_file_set(struct smb_ent *e)
{
    return (uint32_t *)(void *)(e + 1);
}

/* The distinct-file key of a file event: its share and name, or its file id when the name is
 * not known. 0: neither. */
static uint32_t
smb_file_key(const struct behave *b, const struct smb2_event *e)
{
    if (e->filename[0]) {
        char path[2 * SMB2_NAME_MAX + 2];
        int n = snprintf(path, sizeof(path), "%s\\%s", e->share, e->filename);
        size_t len = n > 0 ? (size_t)n : 0;
        return hash32_lower(b, path, len < sizeof(path) ? len : sizeof(path) - 1);
    }
    if (e->has_fid)
        return hash32(b, e->fid, sizeof(e->fid));
    return 0;
}

static bool
bloom_has(const uint64_t *bits, uint32_t key)
{
    uint32_t a = key % SMB_BLOOM_BITS, c = (key >> 10) % SMB_BLOOM_BITS;
    return (bits[a / 64] >> (a % 64) & 1) && (bits[c / 64] >> (c % 64) & 1);
}

static void
bloom_add(uint64_t *bits, uint32_t key)
{
    uint32_t a = key % SMB_BLOOM_BITS, c = (key >> 10) % SMB_BLOOM_BITS;
    bits[a / 64] |= (uint64_t)1 << (a % 64);
    bits[c / 64] |= (uint64_t)1 << (c % 64);
}

enum smb_op { SMB_OP_WRITE, SMB_OP_RENAME, SMB_OP_DELETE, SMB_OP_CREATED };

/* The slot of an extension, taking the one with the fewest counts when all are in use. */
static struct smb_ext *
smb_ext_slot(struct smb_ent *e, const char *ext)
{
    struct smb_ext *low = NULL;
    for (int i = 0; i < SMB_EXT_SLOTS; i++) {
        struct smb_ext *x = &e->exts[i];
        if (strcmp(x->ext, ext) == 0)
            return x;
        if (!low || !x->ext[0] ||
            (low->ext[0] && x->n_renamed + x->n_created < low->n_renamed + low->n_created))
            low = x;
    }
    memset(low, 0, sizeof(*low));
    memcpy(low->ext, ext, strlen(ext) + 1);
    return low;
}

/* Fires SMB_EXTENSION_CHANGE if an extension has crossed, by renames or by creates with as many
 * deletes. */
static void
smb_ext_check(const struct behave_config *c, struct smb_ent *e, struct pending *p)
{
    if (e->ext.fired)
        return;
    for (int i = 0; i < SMB_EXT_SLOTS; i++) {
        const struct smb_ext *x = &e->exts[i];
        if (!x->ext[0])
            continue;
        bool renamed = x->n_renamed >= c->smb_ext_files;
        bool created = x->n_created >= c->smb_ext_files && e->ext_deletes >= c->smb_ext_files;
        if (!renamed && !created)
            continue;
        e->ext.fired = 1;
        p->fire = true;
        p->rule = RULE_SMB_EXTENSION_CHANGE;
        p->src_side = FLOW_TOSERVER;
        p->subject = e->ext.start_us;
        evid_init(&p->ev);
        evid_num(&p->ev, "count", renamed ? x->n_renamed : x->n_created);
        evid_num(&p->ev, "threshold", (uint64_t)c->smb_ext_files);
        evid_num(&p->ev, "window_s", (uint64_t)c->smb_window / 1000);
        evid_num(&p->ev, "renamed", x->n_renamed);
        evid_num(&p->ev, "created", x->n_created);
        evid_num(&p->ev, "deleted", e->ext_deletes);
        evid_str(&p->ev, "extension", x->ext);
        evid_str(&p->ev, "how", renamed ? "rename" : "create_and_delete");
        evid_list(&p->ev, "files", &e->ext_names);
        return;
    }
}

/* Counts one file operation of an SMB client: the burst (distinct files renamed, deleted or
 * written unless it created them) and the extension change. */
static void
smb_file_op(struct behave *b, struct alert_gate *g, const struct flow *f, uint64_t ts_us,
            const struct smb2_event *se, enum smb_op op)
{
    const struct behave_config *c = &b->cfg;
    uint32_t key = smb_file_key(b, se);
    const char *base = base_name(se->filename);
    char ext_old[SMB_EXT_LEN], ext_new[SMB_EXT_LEN];
    bool ext_track = false; /* this op counts towards an extension */
    if (c->smb_ext_files) {
        if (op == SMB_OP_RENAME)
            ext_track = ext_of(base_name(se->new_name), ext_new) &&
                        (!ext_of(base, ext_old) || strcmp(ext_old, ext_new) != 0);
        else if (op == SMB_OP_CREATED)
            ext_track =
                ext_of(base, ext_new) &&
                !in_list(ext_new, common_exts, sizeof(common_exts) / sizeof(common_exts[0]));
    }
    bool burst = c->smb_burst_files && key && op != SMB_OP_CREATED;
    bool bloom = c->smb_burst_files && key && op == SMB_OP_CREATED;
    bool ext_del = c->smb_ext_files && op == SMB_OP_DELETE;
    if (!burst && !bloom && !ext_track && !ext_del)
        return;

    struct pending pb, px;
    pb.fire = px.fire = false;
    struct tab_lock lock;
    struct smb_ent *e = tab_get(b, &b->tab[BEHAVE_TABLE_SMB], side_addr(f, FLOW_TOSERVER), NULL,
                                f->key.ip_version, ts_us, &lock);
    if (burst || bloom) {
        uint32_t *set = smb_file_set(e);
        if (win_roll(&e->burst, ts_us, c->smb_window)) {
            memset(set, 0, b->cap_files * sizeof(*set));
            memset(e->created, 0, sizeof(e->created));
            e->n_writes = e->n_renames = e->n_deletes = 0;
            memset(&e->burst_files, 0, sizeof(e->burst_files));
        }
        if (bloom)
            bloom_add(e->created, key);
        bool counts =
            burst && !e->burst.fired && !(op == SMB_OP_WRITE && bloom_has(e->created, key));
        if (counts && set_add(set, b->cap_files, key)) {
            e->n_writes += op == SMB_OP_WRITE;
            e->n_renames += op == SMB_OP_RENAME;
            e->n_deletes += op == SMB_OP_DELETE;
            recent_add_str(&e->burst_files, base);
            if (++e->burst.n >= c->smb_burst_files) {
                e->burst.fired = 1;
                pb.fire = true;
                pb.rule = RULE_SMB_RANSOM_BURST;
                pb.src_side = FLOW_TOSERVER;
                pb.subject = e->burst.start_us;
                evid_init(&pb.ev);
                evid_window(&pb.ev, e->burst.n, c->smb_burst_files, c->smb_window);
                evid_num(&pb.ev, "written", e->n_writes);
                evid_num(&pb.ev, "renamed", e->n_renames);
                evid_num(&pb.ev, "deleted", e->n_deletes);
                evid_str(&pb.ev, "share", base_name(se->share));
                evid_list(&pb.ev, "files", &e->burst_files);
            }
        }
    }
    if (ext_track || ext_del) {
        if (win_roll(&e->ext, ts_us, c->smb_window)) {
            memset(e->exts, 0, sizeof(e->exts));
            e->ext_deletes = 0;
            memset(&e->ext_names, 0, sizeof(e->ext_names));
        }
        if (ext_del)
            e->ext_deletes++;
        if (ext_track) {
            struct smb_ext *x = smb_ext_slot(e, ext_new);
            if (op == SMB_OP_RENAME) {
                x->n_renamed++;
                char text[2 * RECENT_LEN];
                int n = snprintf(text, sizeof(text), "%s -> %s", base, base_name(se->new_name));
                if (n > 0)
                    recent_add(&e->ext_names, text,
                               (size_t)n < sizeof(text) ? (size_t)n : sizeof(text) - 1);
            } else {
                x->n_created++;
                recent_add_str(&e->ext_names, base);
            }
        }
        smb_ext_check(c, e, &px);
    }
    tab_unlock(&lock);
    fire(b, g, f, ts_us, proto_name(PROTO_SMB2), &pb);
    fire(b, g, f, ts_us, proto_name(PROTO_SMB2), &px);
}

static void
smb_logon(struct behave *b, struct alert_gate *g, const struct flow *f, uint64_t ts_us,
          const struct smb2_event *se)
{
    const struct behave_config *c = &b->cfg;
    struct pending p;
    p.fire = false;
    struct tab_lock lock;
    struct smb_ent *e = tab_get(b, &b->tab[BEHAVE_TABLE_SMB], side_addr(f, FLOW_TOSERVER), NULL,
                                f->key.ip_version, ts_us, &lock);
    if (win_roll(&e->logon, ts_us, c->smb_logon_window))
        memset(&e->logon_users, 0, sizeof(e->logon_users));
    e->last_status = se->status;
    if (se->has_ntlmssp && (se->user[0] || se->domain[0])) {
        char who[2 * SMB2_AUTH_NAME_MAX + 2];
        int n =
            snprintf(who, sizeof(who), "%s%s%s", se->domain, se->domain[0] ? "\\" : "", se->user);
        if (n > 0)
            recent_add(&e->logon_users, who, (size_t)n < sizeof(who) ? (size_t)n : sizeof(who) - 1);
    }
    if (++e->logon.n >= c->smb_logon_failures && !e->logon.fired) {
        e->logon.fired = 1;
        p.fire = true;
        p.rule = RULE_SMB_LOGON_FAILURES;
        p.src_side = FLOW_TOSERVER;
        p.subject = e->logon.start_us;
        evid_init(&p.ev);
        evid_window(&p.ev, e->logon.n, c->smb_logon_failures, c->smb_logon_window);
        const char *name = smb2_status_name(e->last_status);
        char hex[16];
        snprintf(hex, sizeof(hex), "0x%08X", e->last_status);
        evid_str(&p.ev, "last_status", name ? name : hex);
        evid_list(&p.ev, "users", &e->logon_users);
    }
    tab_unlock(&lock);
    fire(b, g, f, ts_us, proto_name(PROTO_SMB2), &p);
}

/* An alert of its own, once per flow and subject (no per-source state). */
static void
smb_once(struct behave *b, struct alert_gate *g, const struct flow *f, uint64_t ts_us,
         enum rule_id rule, const struct smb2_event *se, const char *key1, const char *val1,
         const char *key2, const char *val2)
{
    struct pending p;
    p.fire = true;
    p.rule = rule;
    p.src_side = FLOW_TOSERVER;
    p.subject = hash32_lower(b, val1, strlen(val1));
    evid_init(&p.ev);
    evid_str(&p.ev, "share", se->share);
    evid_str(&p.ev, key1, val1);
    if (key2)
        evid_str(&p.ev, key2, val2);
    if (se->has_status) {
        const char *name = smb2_status_name(se->status);
        char hex[16];
        snprintf(hex, sizeof(hex), "0x%08X", se->status);
        evid_str(&p.ev, "status", name ? name : hex);
    }
    fire(b, g, f, ts_us, proto_name(PROTO_SMB2), &p);
}

#define SMB_FILE_SUPERSEDED 0
#define SMB_FILE_CREATED 2
#define SMB_FILE_OVERWRITTEN 3
#define SMB_DISPOSITION_OPEN 1

/* A file written, or created to be written: ransom notes and executables on ADMIN$. */
static void
smb_file_written(struct behave *b, struct alert_gate *g, const struct flow *f, uint64_t ts_us,
                 const struct smb2_event *se, const char *name)
{
    const char *base = base_name(name);
    if (!base[0])
        return;
    if (b->cfg.smb_ransom_note) {
        const char *pat = ransom_note_match(base);
        if (pat)
            smb_once(b, g, f, ts_us, RULE_SMB_RANSOM_NOTE, se, "filename", base, "pattern", pat);
    }
    bool admin_dollar;
    char ext[SMB_EXT_LEN];
    if (b->cfg.smb_remote_service && smb_admin_share(se->share, &admin_dollar) && admin_dollar &&
        ext_of(base, ext) && in_list(ext, exec_exts, sizeof(exec_exts) / sizeof(exec_exts[0])))
        smb_once(b, g, f, ts_us, RULE_SMB_REMOTE_SERVICE, se, "filename", base, NULL, NULL);
}

static void
smb_event(struct behave *b, struct alert_gate *g, const struct flow *f,
          const struct proto_event *ev)
{
    const struct behave_config *c = &b->cfg;
    const struct smb2_event *se = ev->data;
    uint64_t ts = ev->ts_us;
    bool ok = !se->has_status || se->status == 0; /* done, or the answer was not seen */
    switch (ev->kind) {
    case SMB2_EV_SESSION_SETUP:
        if (c->smb_logon_failures && se->has_status && smb_logon_failure(se->status))
            smb_logon(b, g, f, ts, se);
        break;
    case SMB2_EV_TREE_CONNECT: {
        bool admin_dollar;
        if (c->smb_admin_share && smb_admin_share(se->share, &admin_dollar))
            smb_once(b, g, f, ts, RULE_SMB_ADMIN_SHARE, se, "share_name", base_name(se->share),
                     NULL, NULL);
        break;
    }
    case SMB2_EV_CREATE: {
        if (c->smb_remote_service && se->is_pipe && str_eq_ci(base_name(se->filename), "svcctl"))
            smb_once(b, g, f, ts, RULE_SMB_REMOTE_SERVICE, se, "pipe", "svcctl", NULL, NULL);
        if (!ok || se->is_pipe)
            break;
        /* create_action is only known from a successful response; without one, the disposition
         * says what was asked. */
        bool answered = se->has_status;
        bool created = answered && se->create_action == SMB_FILE_CREATED;
        bool writes = answered ? (se->create_action == SMB_FILE_SUPERSEDED || created ||
                                  se->create_action == SMB_FILE_OVERWRITTEN)
                               : se->disposition != SMB_DISPOSITION_OPEN;
        if (writes)
            smb_file_written(b, g, f, ts, se, se->filename);
        if (created)
            smb_file_op(b, g, f, ts, se, SMB_OP_CREATED);
        break;
    }
    case SMB2_EV_WRITE:
        if (!ok)
            break;
        smb_file_written(b, g, f, ts, se, se->filename);
        smb_file_op(b, g, f, ts, se, SMB_OP_WRITE);
        break;
    case SMB2_EV_RENAME:
        if (!ok)
            break;
        smb_file_written(b, g, f, ts, se, se->new_name);
        smb_file_op(b, g, f, ts, se, SMB_OP_RENAME);
        break;
    case SMB2_EV_DELETE:
        if (ok)
            smb_file_op(b, g, f, ts, se, SMB_OP_DELETE);
        break;
    default:
        break;
    }
}

/* ---- DNS ---- */

/* round(1000 * c * log2(c)) for c = 0..255: Shannon entropy in integers. */
static const uint32_t clog2c_milli[256] = {
    0,       0,       2000,    4755,    8000,    11610,   15510,   19651,   24000,   28529,
    33219,   38054,   43020,   48106,   53303,   58603,   64000,   69487,   75059,   80711,
    86439,   92239,   98107,   104042,  110039,  116096,  122211,  128382,  134606,  140881,
    147207,  153580,  160000,  166465,  172974,  179525,  186117,  192750,  199421,  206131,
    212877,  219660,  226477,  233329,  240215,  247133,  254084,  261066,  268078,  275121,
    282193,  289294,  296423,  303580,  310764,  317975,  325212,  332475,  339763,  347076,
    354413,  361775,  369160,  376569,  384000,  391454,  398930,  406428,  413947,  421488,
    429050,  436632,  444235,  451857,  459500,  467161,  474842,  482543,  490261,  497999,
    505754,  513528,  521319,  529128,  536955,  544798,  552659,  560536,  568430,  576340,
    584267,  592209,  600168,  608142,  616131,  624136,  632156,  640192,  648242,  656306,
    664386,  672479,  680587,  688710,  696846,  704996,  713160,  721337,  729528,  737732,
    745950,  754180,  762424,  770680,  778949,  787231,  795526,  803833,  812152,  820483,
    828827,  837182,  845550,  853929,  862320,  870723,  879137,  887563,  896000,  904448,
    912908,  921378,  929860,  938353,  946856,  955370,  963895,  972430,  980976,  989533,
    998100,  1006677, 1015264, 1023862, 1032469, 1041087, 1049714, 1058352, 1066999, 1075656,
    1084323, 1092999, 1101685, 1110380, 1119085, 1127799, 1136523, 1145255, 1153997, 1162748,
    1171508, 1180278, 1189056, 1197843, 1206639, 1215443, 1224257, 1233079, 1241909, 1250749,
    1259596, 1268453, 1277318, 1286191, 1295072, 1303962, 1312860, 1321766, 1330681, 1339603,
    1348534, 1357472, 1366419, 1375373, 1384335, 1393306, 1402284, 1411269, 1420263, 1429264,
    1438273, 1447289, 1456313, 1465344, 1474383, 1483429, 1492483, 1501544, 1510613, 1519688,
    1528771, 1537861, 1546959, 1556063, 1565175, 1574293, 1583419, 1592552, 1601691, 1610838,
    1619992, 1629152, 1638319, 1647493, 1656674, 1665861, 1675056, 1684257, 1693464, 1702678,
    1711899, 1721126, 1730360, 1739601, 1748848, 1758101, 1767360, 1776627, 1785899, 1795178,
    1804463, 1813754, 1823052, 1832355, 1841665, 1850981, 1860304, 1869632, 1878967, 1888307,
    1897654, 1907006, 1916365, 1925729, 1935100, 1944476, 1953859, 1963247, 1972641, 1982040,
    1991446, 2000857, 2010275, 2019697, 2029126, 2038560,
};

/* Shannon entropy of s in thousandths of a bit per character, letters folded to lower case
 * (DNS 0x20 randomisation must not raise it). len at most 255. */
static uint32_t
entropy_milli(const char *s, size_t len)
{
    if (len == 0 || len > 255)
        return 0;
    uint8_t count[256];
    memset(count, 0, sizeof(count));
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch >= 'A' && ch <= 'Z')
            ch = (unsigned char)(ch + 32);
        count[ch]++;
    }
    /* H = log2(n) - sum(c log2 c) / n = (n log2 n - sum(c log2 c)) / n */
    uint64_t sum = 0;
    for (int i = 0; i < 256; i++)
        sum += clog2c_milli[count[i]];
    uint64_t total = clog2c_milli[len];
    return total > sum ? (uint32_t)((total - sum) / len) : 0;
}

/* The first label of name at least min_len long with entropy at least min_entropy; *zone
 * receives what follows it. */
static bool
dns_long_label(const char *name, size_t min_len, uint32_t min_entropy, const char **zone)
{
    const char *p = name;
    for (;;) {
        const char *dot = strchr(p, '.');
        size_t len = dot ? (size_t)(dot - p) : strlen(p);
        if (len >= min_len && entropy_milli(p, len) >= min_entropy) {
            *zone = dot ? dot + 1 : "";
            return true;
        }
        if (!dot)
            return false;
        p = dot + 1;
    }
}

/* The last three labels of a name: "a.b.t.example.com" -> "t.example.com". */
static const char *
last_labels(const char *name)
{
    const char *p = name + strlen(name);
    int dots = 0;
    while (p > name) {
        if (p[-1] == '.' && ++dots == 3)
            break;
        p--;
    }
    return p;
}

#define DNS_TYPE_NULL 10
#define DNS_TYPE_TXT 16
#define DNS_RCODE_NXDOMAIN 3

static uint32_t *
dns_nx_set(struct dns_ent *e)
{
    return (uint32_t *)(void *)(e + 1);
}

static void
dns_tunnel(struct behave *b, struct alert_gate *g, const struct flow *f, uint64_t ts_us, int side,
           bool is_long, const char *zone)
{
    const struct behave_config *c = &b->cfg;
    struct pending p;
    p.fire = false;
    struct tab_lock lock;
    struct dns_ent *e = tab_get(b, &b->tab[BEHAVE_TABLE_DNS], side_addr(f, side), NULL,
                                f->key.ip_version, ts_us, &lock);
    if (win_roll(&e->tun, ts_us, c->dns_tunnel_window)) {
        e->n_long = e->n_txt = 0;
        memset(&e->zones, 0, sizeof(e->zones));
    }
    if (is_long)
        e->n_long++;
    else
        e->n_txt++;
    recent_add_str(&e->zones, zone[0] ? zone : ".");
    bool by_long = c->dns_tunnel_queries && e->n_long >= c->dns_tunnel_queries;
    bool by_txt = c->dns_txt_queries && e->n_txt >= c->dns_txt_queries;
    if (!e->tun.fired && (by_long || by_txt)) {
        e->tun.fired = 1;
        p.fire = true;
        p.rule = RULE_DNS_TUNNEL;
        p.src_side = side;
        p.subject = e->tun.start_us;
        evid_init(&p.ev);
        evid_num(&p.ev, "long_label_queries", e->n_long);
        evid_num(&p.ev, "txt_queries", e->n_txt);
        evid_num(&p.ev, "long_label_threshold", (uint64_t)c->dns_tunnel_queries);
        evid_num(&p.ev, "txt_threshold", (uint64_t)c->dns_txt_queries);
        evid_num(&p.ev, "label_len", (uint64_t)c->dns_label_len);
        evid_num(&p.ev, "window_s", (uint64_t)c->dns_tunnel_window / 1000);
        evid_str(&p.ev, "by", by_long ? "long_labels" : "txt_volume");
        evid_list(&p.ev, "zones", &e->zones);
    }
    tab_unlock(&lock);
    fire(b, g, f, ts_us, proto_name(PROTO_DNS), &p);
}

static void
dns_nxdomain(struct behave *b, struct alert_gate *g, const struct flow *f, uint64_t ts_us, int side,
             const char *name)
{
    const struct behave_config *c = &b->cfg;
    size_t len = strlen(name);
    while (len > 1 && name[len - 1] == '.')
        len--;
    uint32_t key = hash32_lower(b, name, len);
    struct pending p;
    p.fire = false;
    struct tab_lock lock;
    struct dns_ent *e = tab_get(b, &b->tab[BEHAVE_TABLE_DNS], side_addr(f, side), NULL,
                                f->key.ip_version, ts_us, &lock);
    uint32_t *set = dns_nx_set(e);
    if (win_roll(&e->nx, ts_us, c->dns_nxdomain_window)) {
        memset(set, 0, b->cap_nx * sizeof(*set));
        memset(&e->nx_names, 0, sizeof(e->nx_names));
    }
    if (!e->nx.fired && set_add(set, b->cap_nx, key)) {
        recent_add(&e->nx_names, name, len);
        if (++e->nx.n >= c->dns_nxdomain) {
            e->nx.fired = 1;
            p.fire = true;
            p.rule = RULE_DNS_NXDOMAIN;
            p.src_side = side;
            p.subject = e->nx.start_us;
            evid_init(&p.ev);
            evid_window(&p.ev, e->nx.n, c->dns_nxdomain, c->dns_nxdomain_window);
            evid_list(&p.ev, "names", &e->nx_names);
        }
    }
    tab_unlock(&lock);
    fire(b, g, f, ts_us, proto_name(PROTO_DNS), &p);
}

static void
dns_event(struct behave *b, struct alert_gate *g, const struct flow *f,
          const struct proto_event *ev)
{
    const struct behave_config *c = &b->cfg;
    const struct dns_event *d = ev->data;
    if (!d->has_question)
        return;
    if (ev->kind == DNS_EVENT_QUERY) {
        const char *zone = NULL;
        bool is_long = c->dns_tunnel_queries && d->longest_label >= c->dns_label_len &&
                       dns_long_label(d->rrname, (size_t)c->dns_label_len,
                                      (uint32_t)c->dns_label_entropy, &zone);
        bool is_txt = c->dns_txt_queries && (d->qtype == DNS_TYPE_TXT || d->qtype == DNS_TYPE_NULL);
        if (is_long)
            dns_tunnel(b, g, f, ev->ts_us, ev->dir, true, zone);
        else if (is_txt)
            dns_tunnel(b, g, f, ev->ts_us, ev->dir, false, last_labels(d->rrname));
    } else if (ev->kind == DNS_EVENT_ANSWER) {
        if (c->dns_nxdomain && d->rcode == DNS_RCODE_NXDOMAIN)
            dns_nxdomain(b, g, f, ev->ts_us, 1 - ev->dir, d->rrname);
    }
}

/* ---- entry points ---- */

void
behave_event(struct behave *b, struct alert_gate *g, const struct flow *f,
             const struct proto_event *ev)
{
    if (!b || !f || !ev || !ev->data || (ev->dir != 0 && ev->dir != 1))
        return;
    switch (ev->proto) {
    case PROTO_DICOM:
        dicom_event(b, g, f, ev);
        break;
    case PROTO_HL7:
        hl7_event(b, g, f, ev);
        break;
    case PROTO_SMB2:
        smb_event(b, g, f, ev);
        break;
    case PROTO_RDP:
        rdp_event(b, g, f, ev);
        break;
    case PROTO_DNS:
        dns_event(b, g, f, ev);
        break;
    default:
        break;
    }
}

static int64_t
max3(int64_t a, int64_t b, int64_t c)
{
    int64_t m = a > b ? a : b;
    return m > c ? m : c;
}

struct behave *
behave_new(const struct behave_config *c, const char *home_net, struct errbuf *eb)
{
    struct behave *b = calloc(1, sizeof(*b));
    if (!b) {
        err_set(eb, IASO_E_NOMEM, "behaviour detectors: out of memory");
        return NULL;
    }
    b->cfg = *c;
    netset_init(&b->home);
    int rc = netset_parse(&b->home, home_net ? home_net : NETSET_DEFAULT, eb);
    if (rc < 0) {
        char msg[sizeof(eb->msg)];
        if (eb) {
            memcpy(msg, eb->msg, sizeof(msg));
            err_set(eb, rc, "home networks: %s", msg);
        }
        free(b);
        return NULL;
    }
    static _Atomic uint64_t n_instances;
    b->instance = atomic_fetch_add(&n_instances, 1) + 1;
    b->seed = (uint64_t)c->hash_seed;
    if (!b->seed && getrandom(&b->seed, sizeof(b->seed), GRND_NONBLOCK) != (ssize_t)sizeof(b->seed))
        b->seed = (uint64_t)(uintptr_t)b ^ 0x9e3779b97f4a7c15u; /* early boot: still unguessable
                                                                   enough, and never fixed */
    for (int i = 0; i < RULE_COUNT; i++)
        atomic_init(&b->n_fired[i], 0);

    b->cap_ports = set_cap(c->scan_ports);
    b->cap_hosts = set_cap(c->scan_hosts);
    b->cap_rejects = set_cap(c->dicom_rejects);
    b->cap_files = set_cap(c->smb_burst_files);
    b->cap_nx = set_cap(c->dns_nxdomain);
    const struct {
        size_t len;
        int64_t memcap;
        int64_t idle_ms;
    } t[BEHAVE_TABLE_COUNT] = {
        [BEHAVE_TABLE_SCAN] = {sizeof(struct scan_ent) + 4 * ((size_t)b->cap_ports + b->cap_hosts),
                               c->scan_memcap, c->scan_window},
        [BEHAVE_TABLE_DICOM] = {sizeof(struct dicom_ent) + 4 * (size_t)b->cap_rejects,
                                c->dicom_memcap,
                                max3(c->dicom_find_window, c->dicom_retrieve_window,
                                     c->dicom_reject_window)},
        [BEHAVE_TABLE_SMB] = {sizeof(struct smb_ent) + 4 * (size_t)b->cap_files, c->smb_memcap,
                              c->smb_window > c->smb_logon_window ? c->smb_window
                                                                  : c->smb_logon_window},
        [BEHAVE_TABLE_RDP] = {sizeof(struct rdp_ent), c->rdp_memcap, c->rdp_window},
        [BEHAVE_TABLE_DNS] = {sizeof(struct dns_ent) + 4 * (size_t)b->cap_nx, c->dns_memcap,
                              c->dns_tunnel_window > c->dns_nxdomain_window
                                  ? c->dns_tunnel_window
                                  : c->dns_nxdomain_window},
    };
    for (int i = 0; i < BEHAVE_TABLE_COUNT; i++) {
        rc = tab_init(&b->tab[i], t[i].len, t[i].memcap, (uint64_t)t[i].idle_ms * 1000,
                      table_names[i], eb);
        if (rc < 0) {
            behave_free(b);
            return NULL;
        }
    }
    return b;
}

void
behave_free(struct behave *b)
{
    if (!b)
        return;
    for (int i = 0; i < BEHAVE_TABLE_COUNT; i++)
        tab_release(&b->tab[i]);
    free(b);
}

void
behave_stats(const struct behave *b, struct behave_stats *st)
{
    memset(st, 0, sizeof(*st));
    if (!b)
        return;
    for (int i = 0; i < BEHAVE_TABLE_COUNT; i++) {
        const struct tab *t = &b->tab[i];
        struct behave_table_stats *s = &st->table[i];
        s->n_slots = (uint64_t)t->n_buckets * TAB_WAYS;
        s->entry_bytes = t->stride;
        s->mem_bytes = s->n_slots * t->stride + (uint64_t)t->n_buckets * sizeof(struct bucket) +
                       TAB_STRIPES * sizeof(struct stripe);
        s->n_tracked = atomic_load_explicit(&t->n_tracked, memory_order_relaxed);
        s->n_evicted = atomic_load_explicit(&t->n_evicted, memory_order_relaxed);
        s->n_recycled = atomic_load_explicit(&t->n_recycled, memory_order_relaxed);
        st->n_tracked += s->n_tracked;
        st->mem_bytes += s->mem_bytes;
        st->n_evicted += s->n_evicted;
    }
    for (int i = 0; i < RULE_COUNT; i++)
        st->n_fired[i] = atomic_load_explicit(&b->n_fired[i], memory_order_relaxed);
}
