// SPDX-License-Identifier: Apache-2.0
// The indicator store; see ioc.h.
#include "detect/ioc.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>

#include <xxhash.h>

#define CONF_NONE 255
#define NONE UINT32_MAX      /* no string */
#define KEY_HDR 4            /* type, kind or prefix, value length (2 bytes) */
#define VALUE_MAX 4096       /* longest value kept (URLs) */
#define ARENA_MAX UINT32_MAX /* offsets are 32-bit */

/* One indicator: the hash of its key, where the key is, and its metadata. 0 hash: empty. */
struct slot {
    uint64_t h;
    uint32_t off;  /* key record in keys: type, kind, len (LE), value bytes */
    uint32_t meta; /* index into metas */
};

struct meta_rec {
    uint32_t id, source, name; /* offsets into strs, or NONE */
    uint8_t tlp;
    uint8_t confidence; /* 0..100; CONF_NONE: not given */
    int64_t valid_from_us, valid_until_us;
};

struct bytes_arena {
    uint8_t *p;
    size_t len, cap;
};

struct ioc_store {
    struct slot *slots;
    size_t mask; /* capacity - 1; capacity a power of two */
    size_t n;    /* used slots */
    /* A blocked Bloom filter in front of the table: one 64-bit word per lookup, three bits of
     * it per key, 8 bits per slot. Most lookups miss (traffic is rarely on a list), and the
     * filter, an eighth of the table's size, answers them from cache instead of a trip to
     * memory per probe. */
    uint64_t *bloom;
    size_t bloom_mask;
    bool bloom_ok; /* the filter holds every key (ioc_store_seal); else lookups skip it */
    struct bytes_arena keys;
    struct bytes_arena strs;
    struct meta_rec *metas;
    size_t n_metas, cap_metas;
    uint32_t last_source; /* the last source string stored, reused when it repeats */
    /* prefix lengths present, per family, longest first */
    uint8_t lens4[33], lens6[129];
    uint8_t n_lens4, n_lens6;
    bool has_subdomains;
    uint64_t n_type[IOC_TYPE_COUNT];
    uint64_t n_duplicates;
};

static const char *const type_names[IOC_TYPE_COUNT] = {
#define IOC_TYPE_NAME_(name, str) str,
    IOC_TYPES(IOC_TYPE_NAME_)
#undef IOC_TYPE_NAME_
};

const char *
ioc_type_name(enum ioc_type t)
{
    return (unsigned)t < IOC_TYPE_COUNT ? type_names[t] : "?";
}

int
ioc_type_from_name(const char *s, size_t len)
{
    for (int i = 0; i < IOC_TYPE_COUNT; i++)
        if (strlen(type_names[i]) == len && strncasecmp(type_names[i], s, len) == 0)
            return i;
    return -1;
}

static const char *const tlp_names[] = {"", "clear", "green", "amber", "amber+strict", "red"};

const char *
ioc_tlp_name(enum ioc_tlp t)
{
    return (unsigned)t <= IOC_TLP_RED ? tlp_names[t] : "";
}

int
ioc_tlp_from_name(const char *s, size_t len)
{
    if (len >= 4 && strncasecmp(s, "tlp:", 4) == 0) {
        s += 4;
        len -= 4;
    }
    if (len == 5 && strncasecmp(s, "white", 5) == 0)
        return IOC_TLP_CLEAR;
    for (int i = IOC_TLP_CLEAR; i <= IOC_TLP_RED; i++)
        if (strlen(tlp_names[i]) == len && strncasecmp(tlp_names[i], s, len) == 0)
            return i;
    return -1;
}

/* ---- arenas ---- */

static int
arena_append(struct bytes_arena *a, const void *data, size_t len, uint32_t *off)
{
    if (len > ARENA_MAX - a->len)
        return IASO_E_LIMIT;
    if (a->len + len > a->cap) {
        size_t cap = a->cap ? a->cap : 4096;
        while (cap < a->len + len)
            cap *= 2;
        if (cap > (size_t)ARENA_MAX + 1)
            cap = (size_t)ARENA_MAX + 1;
        uint8_t *p = realloc(a->p, cap);
        if (!p)
            return IASO_E_NOMEM;
        a->p = p;
        a->cap = cap;
    }
    *off = (uint32_t)a->len;
    memcpy(a->p + a->len, data, len);
    a->len += len;
    return 0;
}

/* A NUL-terminated copy of s in strs, or NONE for NULL. */
static int
str_put(struct ioc_store *s, const char *str, uint32_t *off)
{
    if (!str) {
        *off = NONE;
        return 0;
    }
    return arena_append(&s->strs, str, strlen(str) + 1, off);
}

static const char *
str_at(const struct ioc_store *s, uint32_t off)
{
    return off == NONE ? NULL : (const char *)s->strs.p + off;
}

/* ---- life ---- */

#define HUGE_LEN ((size_t)2 << 20)

/*
 * Zeroed memory for the table and the filter. Big ones are mapped and marked for transparent
 * huge pages: lookups land anywhere in them, and with 4 KiB pages nearly every one also missed
 * the TLB (measured: load and lookups twice as fast with huge pages at 10 million indicators).
 */
static void *
big_alloc(size_t len)
{
    if (len < HUGE_LEN)
        return calloc(1, len);
    size_t map_len = (len + HUGE_LEN - 1) & ~(HUGE_LEN - 1);
    void *p = mmap(NULL, map_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
#ifdef MADV_HUGEPAGE
    madvise(p, map_len, MADV_HUGEPAGE);
#endif
    return p;
}

static void
big_free(void *p, size_t len)
{
    if (!p)
        return;
    if (len < HUGE_LEN) {
        free(p);
        return;
    }
    munmap(p, (len + HUGE_LEN - 1) & ~(HUGE_LEN - 1));
}

static size_t
bloom_words(size_t slots)
{
    return slots / 8 ? slots / 8 : 1;
}

static uint64_t
bloom_bits(uint64_t h)
{
    return (1ull << ((h >> 40) & 63)) | (1ull << ((h >> 46) & 63)) | (1ull << ((h >> 52) & 63));
}

static void
bloom_add(uint64_t *bloom, size_t bmask, uint64_t h)
{
    bloom[(h >> 16) & bmask] |= bloom_bits(h);
}

static bool
bloom_maybe(const struct ioc_store *s, uint64_t h)
{
    uint64_t m = bloom_bits(h);
    return (s->bloom[(h >> 16) & s->bloom_mask] & m) == m;
}

struct ioc_store *
ioc_store_new(void)
{
    struct ioc_store *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->slots = big_alloc(1024 * sizeof(*s->slots));
    s->bloom = big_alloc(bloom_words(1024) * sizeof(uint64_t));
    if (!s->slots || !s->bloom) {
        big_free(s->slots, 1024 * sizeof(*s->slots));
        big_free(s->bloom, bloom_words(1024) * sizeof(uint64_t));
        free(s);
        return NULL;
    }
    s->mask = 1023;
    s->bloom_mask = bloom_words(1024) - 1;
    s->bloom_ok = true; /* empty */
    s->last_source = NONE;
    return s;
}

void
ioc_store_free(struct ioc_store *s)
{
    if (!s)
        return;
    big_free(s->slots, (s->mask + 1) * sizeof(*s->slots));
    big_free(s->bloom, (s->bloom_mask + 1) * sizeof(uint64_t));
    free(s->keys.p);
    free(s->strs.p);
    free(s->metas);
    free(s);
}

/* ---- keys ---- */

/* A key as built for lookup and insertion: header and value, contiguous. */
struct key {
    uint8_t b[KEY_HDR + VALUE_MAX];
    size_t len;
};

static void
key_make(struct key *k, enum ioc_type t, int kind, const void *v, size_t len)
{
    k->b[0] = (uint8_t)t;
    k->b[1] = (uint8_t)kind;
    k->b[2] = (uint8_t)(len & 0xff);
    k->b[3] = (uint8_t)(len >> 8);
    memcpy(k->b + KEY_HDR, v, len);
    k->len = KEY_HDR + len;
}

static size_t
key_len_at(const struct ioc_store *s, uint32_t off)
{
    const uint8_t *p = s->keys.p + off;
    return KEY_HDR + ((size_t)p[2] | (size_t)p[3] << 8);
}

/* The slot holding key k (hash h), or the empty slot where it would go. */
static struct slot *
probe(const struct ioc_store *s, const struct key *k, uint64_t h)
{
    size_t i = h & s->mask;
    for (;;) {
        struct slot *sl = &s->slots[i];
        if (sl->h == 0)
            return sl;
        if (sl->h == h && key_len_at(s, sl->off) == k->len &&
            memcmp(s->keys.p + sl->off, k->b, k->len) == 0)
            return sl;
        i = (i + 1) & s->mask;
    }
}

static uint64_t
key_hash(const struct key *k)
{
    uint64_t h = XXH3_64bits(k->b, k->len);
    return h ? h : 1;
}

/* Moves the table (and its filter) to cap slots, a power of two. */
static int
resize(struct ioc_store *s, size_t cap)
{
    struct slot *ns = big_alloc(cap * sizeof(*ns));
    size_t nb = bloom_words(cap);
    uint64_t *bl = big_alloc(nb * sizeof(*bl));
    if (!ns || !bl) {
        big_free(ns, cap * sizeof(*ns));
        big_free(bl, nb * sizeof(*bl));
        return IASO_E_NOMEM;
    }
    for (size_t i = 0; i <= s->mask; i++) {
        struct slot *o = &s->slots[i];
        if (o->h == 0)
            continue;
        size_t j = o->h & (cap - 1);
        while (ns[j].h)
            j = (j + 1) & (cap - 1);
        ns[j] = *o;
    }
    big_free(s->slots, (s->mask + 1) * sizeof(*s->slots));
    big_free(s->bloom, (s->bloom_mask + 1) * sizeof(uint64_t));
    s->slots = ns;
    s->mask = cap - 1;
    s->bloom = bl;
    s->bloom_mask = nb - 1;
    s->bloom_ok = false;
    return 0;
}

void
ioc_store_seal(struct ioc_store *s)
{
    if (s->bloom_ok)
        return;
    memset(s->bloom, 0, (s->bloom_mask + 1) * sizeof(uint64_t));
    for (size_t i = 0; i <= s->mask; i++)
        if (s->slots[i].h)
            bloom_add(s->bloom, s->bloom_mask, s->slots[i].h);
    s->bloom_ok = true;
}

static int
grow(struct ioc_store *s)
{
    return resize(s, (s->mask + 1) * 2);
}

int
ioc_store_reserve(struct ioc_store *s, size_t n)
{
    size_t want = s->n + n, cap = s->mask + 1;
    while (want * 4 > cap * 3)
        cap *= 2;
    if (cap == s->mask + 1)
        return 0;
    return resize(s, cap);
}

/* ---- normalisation ---- */

static bool
is_hex(const char *v, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        char c = v[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
            return false;
    }
    return true;
}

static void
lower(char *out, const char *v, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        char c = v[i];
        out[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
    }
}

static void
trim(const char **v, size_t *len)
{
    while (*len && (**v == ' ' || **v == '\t')) {
        (*v)++;
        (*len)--;
    }
    while (*len && ((*v)[*len - 1] == ' ' || (*v)[*len - 1] == '\t'))
        (*len)--;
}

/* An address, or address/prefix, into 4 or 16 network-order bytes with host bits cleared. */
static int
parse_ip(const char *v, size_t len, uint8_t addr[16], int *family_len, int *prefix)
{
    char tmp[64];
    if (len == 0 || len >= sizeof(tmp))
        return IASO_E_FORMAT;
    memcpy(tmp, v, len);
    tmp[len] = '\0';
    char *slash = strchr(tmp, '/');
    long pfx = -1;
    if (slash) {
        *slash = '\0';
        char *end;
        if (slash[1] < '0' || slash[1] > '9')
            return IASO_E_FORMAT;
        pfx = strtol(slash + 1, &end, 10);
        if (*end != '\0')
            return IASO_E_FORMAT;
    }
    if (inet_pton(AF_INET, tmp, addr) == 1) {
        *family_len = 4;
        if (pfx > 32)
            return IASO_E_FORMAT;
        *prefix = pfx < 0 ? 32 : (int)pfx;
    } else if (inet_pton(AF_INET6, tmp, addr) == 1) {
        *family_len = 16;
        if (pfx > 128)
            return IASO_E_FORMAT;
        *prefix = pfx < 0 ? 128 : (int)pfx;
    } else {
        return IASO_E_FORMAT;
    }
    return 0;
}

static void
mask_addr(uint8_t *a, int n_bytes, int prefix)
{
    for (int i = 0; i < n_bytes; i++) {
        int bits = prefix - i * 8;
        if (bits >= 8)
            continue;
        a[i] &= bits <= 0 ? 0 : (uint8_t)(0xff << (8 - bits));
    }
}

/* A domain name to lower case without a trailing dot; false when it is not a plausible name. */
static bool
norm_domain(const char *v, size_t len, char *out, size_t *out_len)
{
    if (len && v[len - 1] == '.')
        len--;
    if (len == 0 || len > 253)
        return false;
    char prev = '.';
    for (size_t i = 0; i < len; i++) {
        char c = v[i];
        if (c == '.' && prev == '.')
            return false; /* empty label */
        if ((unsigned char)c <= ' ' || c == 0x7f || c == '/' || c == '\\' || c == '@' || c == ':')
            return false;
        prev = c;
    }
    lower(out, v, len);
    *out_len = len;
    return true;
}

/* host[:port] with the host in lower case and a port equal to default_port dropped. */
static size_t
norm_host(const char *h, size_t len, int default_port, char *out, size_t cap)
{
    size_t n = len < cap ? len : cap;
    lower(out, h, n);
    /* The port follows the last ':' unless the host is a bracketed IPv6 literal without one. */
    const char *colon = NULL;
    for (size_t i = n; i-- > 0;) {
        if (out[i] == ':') {
            colon = out + i;
            break;
        }
        if (out[i] == ']')
            break;
    }
    if (colon && default_port > 0) {
        char port[8];
        snprintf(port, sizeof(port), "%d", default_port);
        size_t plen = (size_t)(out + n - colon - 1);
        if (plen == strlen(port) && memcmp(colon + 1, port, plen) == 0)
            n = (size_t)(colon - out);
    }
    if (n && out[n - 1] == '.')
        n--;
    return n;
}

/* "scheme://user@Host:port/path?query#frag" to "host[:port]/path?query". */
static bool
norm_url(const char *v, size_t len, char *out, size_t *out_len)
{
    int default_port = 80;
    const char *sep = NULL;
    for (size_t i = 0; i + 2 < len && i < 16; i++)
        if (v[i] == ':' && v[i + 1] == '/' && v[i + 2] == '/') {
            sep = v + i;
            break;
        }
    if (sep) {
        size_t slen = (size_t)(sep - v);
        if (slen == 5 && strncasecmp(v, "https", 5) == 0)
            default_port = 443;
        else if (!(slen == 4 && strncasecmp(v, "http", 4) == 0))
            default_port = -1;
        len -= (size_t)(sep + 3 - v);
        v = sep + 3;
    }
    size_t hend = 0;
    while (hend < len && v[hend] != '/' && v[hend] != '?' && v[hend] != '#')
        hend++;
    const char *host = v;
    size_t hlen = hend;
    for (size_t i = 0; i < hend; i++)
        if (v[i] == '@') {
            host = v + i + 1;
            hlen = hend - i - 1;
        }
    if (hlen == 0 || hlen > 255)
        return false;
    for (size_t i = 0; i < hlen; i++)
        if ((unsigned char)host[i] <= ' ')
            return false;
    size_t n = norm_host(host, hlen, default_port, out, VALUE_MAX);
    const char *path = v + hend;
    size_t plen = len - hend;
    for (size_t i = 0; i < plen; i++)
        if (path[i] == '#') {
            plen = i;
            break;
        }
    if (plen == 0 || path[0] != '/') {
        if (n + 1 > VALUE_MAX)
            return false;
        out[n++] = '/';
    }
    if (n + plen > VALUE_MAX)
        return false;
    memcpy(out + n, path, plen);
    *out_len = n + plen;
    return true;
}

/*
 * The normalised form of a value (the key's value bytes, kind and for IP the prefix in kind).
 * Shared by add and lookup so both meet in one form.
 */
static int
normalise(enum ioc_type t, int *kind, const char *v, size_t len, struct key *k, struct errbuf *eb)
{
    char tmp[VALUE_MAX];
    size_t n = 0;
    memset(k->b, 0, KEY_HDR); /* a key even on the error paths */
    k->len = KEY_HDR;
    trim(&v, &len);
    switch (t) {
    case IOC_IP: {
        uint8_t a[16];
        int flen, prefix;
        if (parse_ip(v, len, a, &flen, &prefix) < 0)
            return err_set(eb, IASO_E_FORMAT, "not an IP address or CIDR range");
        mask_addr(a, flen, prefix);
        *kind = prefix;
        key_make(k, t, prefix, a, (size_t)flen);
        return 0;
    }
    case IOC_DOMAIN:
        if (len >= 2 && v[0] == '*' && v[1] == '.') {
            v += 2;
            len -= 2;
            *kind = IOC_KIND_SUBDOMAINS;
        } else if (len >= 1 && v[0] == '.') {
            v++;
            len--;
            *kind = IOC_KIND_SUBDOMAINS;
        }
        if (!norm_domain(v, len, tmp, &n))
            return err_set(eb, IASO_E_FORMAT, "not a domain name");
        break;
    case IOC_URL:
        if (!norm_url(v, len, tmp, &n))
            return err_set(eb, IASO_E_FORMAT, "not a URL");
        break;
    case IOC_JA3:
    case IOC_JA3S:
    case IOC_MD5:
    case IOC_SHA1:
    case IOC_SHA256: {
        size_t want = t == IOC_SHA1 ? 40 : t == IOC_SHA256 ? 64 : 32;
        if (len != want || !is_hex(v, len))
            return err_set(eb, IASO_E_FORMAT, "not %zu hexadecimal digits", want);
        lower(tmp, v, len);
        n = len;
        break;
    }
    case IOC_JA4:
        if (len == 0 || len > 128)
            return err_set(eb, IASO_E_FORMAT, "not a JA4 fingerprint");
        for (size_t i = 0; i < len; i++) {
            char c = v[i];
            if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                  c == '_'))
                return err_set(eb, IASO_E_FORMAT, "not a JA4 fingerprint");
        }
        lower(tmp, v, len);
        n = len;
        break;
    case IOC_DICOM_AE:
        if (len == 0 || len > 16)
            return err_set(eb, IASO_E_FORMAT, "an AE title is 1 to 16 characters");
        for (size_t i = 0; i < len; i++)
            if ((unsigned char)v[i] < ' ' || v[i] == '\\' || v[i] == 0x7f)
                return err_set(eb, IASO_E_FORMAT, "an AE title has no control characters");
        memcpy(tmp, v, len);
        n = len;
        break;
    case IOC_HL7_APP:
        if (len == 0 || len > 255)
            return err_set(eb, IASO_E_FORMAT, "an HL7 application is 1 to 255 characters");
        for (size_t i = 0; i < len; i++)
            if ((unsigned char)v[i] < ' ' || v[i] == '|')
                return err_set(eb, IASO_E_FORMAT, "not an HL7 application name");
        memcpy(tmp, v, len);
        n = len;
        break;
    default:
        return err_set(eb, IASO_E_INVAL, "unknown indicator type");
    }
    if (t != IOC_DOMAIN)
        *kind = IOC_KIND_EXACT;
    key_make(k, t, *kind, tmp, n);
    return 0;
}

/* ---- adding ---- */

static bool
str_eq(const struct ioc_store *s, uint32_t off, const char *str)
{
    const char *have = str_at(s, off);
    if (!have || !str)
        return have == str;
    return strcmp(have, str) == 0;
}

/* The index of a metadata record equal to m: the last one if it matches, else a new one. */
static int
meta_put(struct ioc_store *s, const struct ioc_meta *m, uint32_t *idx)
{
    uint8_t conf = (uint8_t)(m->confidence < 0     ? CONF_NONE
                             : m->confidence > 100 ? 100
                                                   : m->confidence);
    if (s->n_metas) {
        const struct meta_rec *last = &s->metas[s->n_metas - 1];
        if (last->tlp == m->tlp && last->confidence == conf &&
            last->valid_from_us == m->valid_from_us && last->valid_until_us == m->valid_until_us &&
            str_eq(s, last->id, m->id) && str_eq(s, last->source, m->source) &&
            str_eq(s, last->name, m->name)) {
            *idx = (uint32_t)(s->n_metas - 1);
            return 0;
        }
    }
    if (s->n_metas >= INT32_MAX)
        return IASO_E_LIMIT;
    if (s->n_metas == s->cap_metas) {
        size_t cap = s->cap_metas ? s->cap_metas * 2 : 256;
        struct meta_rec *p = realloc(s->metas, cap * sizeof(*p));
        if (!p)
            return IASO_E_NOMEM;
        s->metas = p;
        s->cap_metas = cap;
    }
    struct meta_rec r = {
        NONE, NONE, NONE, (uint8_t)m->tlp, conf, m->valid_from_us, m->valid_until_us};
    int rc = 0;
    if (m->source && str_eq(s, s->last_source, m->source)) {
        r.source = s->last_source;
    } else if ((rc = str_put(s, m->source, &r.source)) == 0) {
        if (r.source != NONE)
            s->last_source = r.source;
    }
    if (rc == 0)
        rc = str_put(s, m->id, &r.id);
    if (rc == 0)
        rc = str_put(s, m->name, &r.name);
    if (rc < 0)
        return rc;
    s->metas[s->n_metas] = r;
    *idx = (uint32_t)s->n_metas++;
    return 0;
}

/* Sorted insert of a prefix length into a family's list, longest first. */
static void
add_len(uint8_t *lens, uint8_t *n, int prefix)
{
    for (int i = 0; i < *n; i++)
        if (lens[i] == prefix)
            return;
    int i = *n;
    while (i > 0 && lens[i - 1] < prefix) {
        lens[i] = lens[i - 1];
        i--;
    }
    lens[i] = (uint8_t)prefix;
    (*n)++;
}

/* Which of two validity windows lasts longer (0 is open-ended). */
static bool
lasts_longer(int64_t a_until, int64_t b_until)
{
    if (b_until == 0)
        return false;
    return a_until == 0 || a_until > b_until;
}

int
ioc_store_add(struct ioc_store *s, enum ioc_type t, int kind, const char *value, size_t len,
              const struct ioc_meta *m, struct errbuf *eb)
{
    static struct ioc_meta none = {NULL, NULL, NULL, IOC_TLP_NONE, -1, 0, 0};
    if (!m)
        m = &none;
    if ((unsigned)t >= IOC_TYPE_COUNT)
        return err_set(eb, IASO_E_INVAL, "unknown indicator type");
    if (t == IOC_DOMAIN && kind != IOC_KIND_SUBDOMAINS)
        kind = IOC_KIND_EXACT;
    struct key k;
    int rc = normalise(t, &kind, value, len, &k, eb);
    if (rc < 0)
        return rc;
    uint64_t h = key_hash(&k);
    struct slot *sl = probe(s, &k, h);
    uint32_t mi;
    if (sl->h != 0) {
        s->n_duplicates++;
        if (lasts_longer(m->valid_until_us, s->metas[sl->meta].valid_until_us)) {
            if ((rc = meta_put(s, m, &mi)) < 0)
                return err_set(eb, rc, "%s", iaso_strerror(rc));
            sl->meta = mi;
        }
        return 0;
    }
    if ((s->n + 1) * 4 > (s->mask + 1) * 3) {
        if ((rc = grow(s)) < 0)
            return err_set(eb, rc, "no memory for the indicator table");
        sl = probe(s, &k, h);
    }
    uint32_t off;
    if ((rc = meta_put(s, m, &mi)) < 0 || (rc = arena_append(&s->keys, k.b, k.len, &off)) < 0)
        return err_set(eb, rc, "the indicator store cannot grow: %s", iaso_strerror(rc));
    sl->h = h;
    sl->off = off;
    sl->meta = mi;
    s->bloom_ok = false; /* filled in one pass at ioc_store_seal: one memory trip less per add */
    s->n++;
    s->n_type[t]++;
    if (t == IOC_IP) {
        if (k.len == KEY_HDR + 4)
            add_len(s->lens4, &s->n_lens4, kind);
        else
            add_len(s->lens6, &s->n_lens6, kind);
    }
    if (t == IOC_DOMAIN && kind == IOC_KIND_SUBDOMAINS)
        s->has_subdomains = true;
    return 1;
}

/* ---- matching ---- */

static bool
valid_at(const struct meta_rec *r, int64_t now_us)
{
    if (now_us == 0)
        return true;
    if (r->valid_from_us && now_us < r->valid_from_us)
        return false;
    return !(r->valid_until_us && now_us >= r->valid_until_us);
}

static void
hit_value(const struct ioc_store *s, const struct slot *sl, struct ioc_hit *hit)
{
    const uint8_t *p = s->keys.p + sl->off;
    size_t len = key_len_at(s, sl->off) - KEY_HDR;
    hit->type = (enum ioc_type)p[0];
    hit->kind = p[1];
    hit->prefix = 0;
    hit->meta = sl->meta;
    if (hit->type == IOC_IP) {
        char a[INET6_ADDRSTRLEN];
        hit->prefix = p[1];
        hit->kind = IOC_KIND_EXACT;
        inet_ntop(len == 4 ? AF_INET : AF_INET6, p + KEY_HDR, a, sizeof(a));
        if ((len == 4 && p[1] == 32) || (len == 16 && p[1] == 128))
            snprintf(hit->value, sizeof(hit->value), "%s", a);
        else
            snprintf(hit->value, sizeof(hit->value), "%s/%u", a, p[1]);
        return;
    }
    size_t n = len < sizeof(hit->value) - 1 ? len : sizeof(hit->value) - 1;
    memcpy(hit->value, p + KEY_HDR, n);
    hit->value[n] = '\0';
}

/* Looks key k up; a hit counts only if valid at now_us. */
static bool
lookup(const struct ioc_store *s, const struct key *k, int64_t now_us, struct ioc_hit *hit)
{
    uint64_t h = key_hash(k);
    if (s->bloom_ok && !bloom_maybe(s, h))
        return false;
    const struct slot *sl = probe(s, k, h);
    if (sl->h == 0 || !valid_at(&s->metas[sl->meta], now_us))
        return false;
    if (hit)
        hit_value(s, sl, hit);
    return true;
}

bool
ioc_match_ip(const struct ioc_store *s, int ip_version, const uint8_t addr[16], int64_t now_us,
             struct ioc_hit *hit)
{
    if (!s || s->n_type[IOC_IP] == 0)
        return false;
    const uint8_t *lens = ip_version == 4 ? s->lens4 : s->lens6;
    int n_lens = ip_version == 4 ? s->n_lens4 : s->n_lens6;
    int flen = ip_version == 4 ? 4 : 16;
    struct key k;
    k.b[0] = IOC_IP;
    k.b[2] = (uint8_t)flen;
    k.b[3] = 0;
    k.len = KEY_HDR + (size_t)flen;
    for (int i = 0; i < n_lens; i++) {
        k.b[1] = lens[i];
        memcpy(k.b + KEY_HDR, addr, (size_t)flen);
        mask_addr(k.b + KEY_HDR, flen, lens[i]);
        if (lookup(s, &k, now_us, hit))
            return true;
    }
    return false;
}

bool
ioc_match_domain(const struct ioc_store *s, const char *name, size_t len, int64_t now_us,
                 struct ioc_hit *hit)
{
    if (!s || s->n_type[IOC_DOMAIN] == 0)
        return false;
    char tmp[256];
    size_t n;
    if (len > 254 || !norm_domain(name, len, tmp, &n))
        return false;
    struct key k;
    key_make(&k, IOC_DOMAIN, IOC_KIND_EXACT, tmp, n);
    if (lookup(s, &k, now_us, hit))
        return true;
    if (!s->has_subdomains)
        return false;
    for (size_t i = 0; i < n;) {
        key_make(&k, IOC_DOMAIN, IOC_KIND_SUBDOMAINS, tmp + i, n - i);
        if (lookup(s, &k, now_us, hit))
            return true;
        const char *dot = memchr(tmp + i, '.', n - i);
        if (!dot)
            break;
        i = (size_t)(dot - tmp) + 1;
    }
    return false;
}

bool
ioc_match_url(const struct ioc_store *s, const char *host, size_t host_len, const char *target,
              size_t target_len, int64_t now_us, struct ioc_hit *hit)
{
    if (!s || s->n_type[IOC_URL] == 0)
        return false;
    char tmp[VALUE_MAX];
    size_t n;
    struct key k;
    if (target_len >= 7 && (strncasecmp(target, "http://", 7) == 0 ||
                            (target_len >= 8 && strncasecmp(target, "https://", 8) == 0))) {
        /* absolute form: the target names the host */
        if (!norm_url(target, target_len, tmp, &n))
            return false;
    } else {
        if (host_len == 0 || host_len > 255)
            return false;
        n = norm_host(host, host_len, 80, tmp, 256);
        if (target_len == 0 || target[0] != '/')
            tmp[n++] = '/';
        size_t t = target_len;
        for (size_t i = 0; i < target_len; i++)
            if (target[i] == '#') {
                t = i;
                break;
            }
        if (n + t > VALUE_MAX)
            return false;
        memcpy(tmp + n, target, t);
        n += t;
    }
    key_make(&k, IOC_URL, IOC_KIND_EXACT, tmp, n);
    if (lookup(s, &k, now_us, hit))
        return true;
    /* The URL without its query matches an indicator that names none. */
    const char *q = memchr(tmp, '?', n);
    if (q) {
        key_make(&k, IOC_URL, IOC_KIND_EXACT, tmp, (size_t)(q - tmp));
        return lookup(s, &k, now_us, hit);
    }
    return false;
}

bool
ioc_match(const struct ioc_store *s, enum ioc_type t, const char *value, size_t len, int64_t now_us,
          struct ioc_hit *hit)
{
    if (!s || (unsigned)t >= IOC_TYPE_COUNT || s->n_type[t] == 0)
        return false;
    if (t == IOC_IP) {
        uint8_t a[16];
        int flen, prefix;
        if (parse_ip(value, len, a, &flen, &prefix) < 0)
            return false;
        return ioc_match_ip(s, flen == 4 ? 4 : 6, a, now_us, hit);
    }
    if (t == IOC_DOMAIN)
        return ioc_match_domain(s, value, len, now_us, hit);
    if (t == IOC_URL)
        return ioc_match_url(s, NULL, 0, value, len, now_us, hit);
    struct key k;
    int kind = IOC_KIND_EXACT;
    if (normalise(t, &kind, value, len, &k, NULL) < 0)
        return false;
    return lookup(s, &k, now_us, hit);
}

bool
ioc_store_has(const struct ioc_store *s, enum ioc_type t)
{
    return s && (unsigned)t < IOC_TYPE_COUNT && s->n_type[t] > 0;
}

void
ioc_hit_meta(const struct ioc_store *s, const struct ioc_hit *hit, struct ioc_meta *m)
{
    const struct meta_rec *r = &s->metas[hit->meta];
    m->id = str_at(s, r->id);
    m->source = str_at(s, r->source);
    m->name = str_at(s, r->name);
    m->tlp = (enum ioc_tlp)r->tlp;
    m->confidence = r->confidence == CONF_NONE ? -1 : (int)r->confidence;
    m->valid_from_us = r->valid_from_us;
    m->valid_until_us = r->valid_until_us;
}

void
ioc_store_each(const struct ioc_store *s, ioc_each_fn fn, void *user)
{
    for (size_t off = 0; off < s->keys.len;) {
        struct key k;
        size_t len = key_len_at(s, (uint32_t)off);
        memcpy(k.b, s->keys.p + off, len);
        k.len = len;
        const struct slot *sl = probe(s, &k, key_hash(&k));
        struct ioc_hit hit;
        hit_value(s, sl, &hit);
        fn(user, &hit);
        off += len;
    }
}

void
ioc_store_stats(const struct ioc_store *s, struct ioc_store_stats *st)
{
    memset(st, 0, sizeof(*st));
    if (!s)
        return;
    st->n_indicators = s->n;
    memcpy(st->n_type, s->n_type, sizeof(st->n_type));
    st->n_duplicates = s->n_duplicates;
    st->n_meta = s->n_metas;
    st->mem_bytes = sizeof(*s) + (s->mask + 1) * sizeof(struct slot) +
                    (s->bloom_mask + 1) * sizeof(uint64_t) + s->keys.cap + s->strs.cap +
                    s->cap_metas * sizeof(struct meta_rec);
}
