// SPDX-License-Identifier: Apache-2.0
// The indicator store's benchmark: load time, memory and lookups per second for N indicators of
// mixed types, from CSV text generated in memory (deterministic), with a side-by-side reference
// on the same keys: hashing each lookup's bytes once (XXH3), the floor any hash lookup pays.
//
//   iaso-bench-ioc N [N ...]        prints one table row per N
//   iaso-bench-ioc --csv N PATH     writes the N-indicator CSV to PATH (for the sensor benchmark)
//
// The mix: 40% IPv4 addresses, 5% IPv4 /24 ranges, 5% IPv6 /64 ranges, 25% domain names (a fifth
// of them with subdomains), 10% URLs, 10% SHA-256, 5% JA3.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <xxhash.h>

#include "base/buf.h"
#include "detect/ioc.h"

static double
now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t
rss_kib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    uint64_t v = 0;
    if (!f)
        return 0;
    while (fgets(line, sizeof(line), f))
        if (strncmp(line, "VmRSS:", 6) == 0)
            v = strtoull(line + 6, NULL, 10);
    fclose(f);
    return v;
}

static uint64_t
mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

/* Indicator i of the mix as "type,value". */
static int
row(uint64_t i, char *out, size_t len)
{
    uint64_t r = mix(i + 1);
    unsigned k = (unsigned)(i % 20);
    if (k < 8)
        return snprintf(out, len, "ip,%u.%u.%u.%u", (unsigned)(r >> 24) & 255,
                        (unsigned)(r >> 16) & 255, (unsigned)(r >> 8) & 255, (unsigned)r & 255);
    if (k < 9)
        return snprintf(out, len, "ip,%u.%u.%u.0/24", (unsigned)(r >> 24) & 255,
                        (unsigned)(r >> 16) & 255, (unsigned)(r >> 8) & 255);
    if (k < 10)
        return snprintf(out, len, "ip,2001:db8:%x:%x::/64", (unsigned)(r >> 16) & 0xffff,
                        (unsigned)r & 0xffff);
    if (k < 14)
        return snprintf(out, len, "domain,h%016llx.example.net", (unsigned long long)r);
    if (k < 15)
        return snprintf(out, len, "domain-suffix,s%016llx.example.org", (unsigned long long)r);
    if (k < 17)
        return snprintf(out, len, "url,http://u%016llx.example.com/gate.php",
                        (unsigned long long)r);
    if (k < 19)
        return snprintf(out, len, "sha256,%016llx%016llx%016llx%016llx", (unsigned long long)r,
                        (unsigned long long)mix(r), (unsigned long long)mix(r + 1),
                        (unsigned long long)mix(r + 2));
    return snprintf(out, len, "ja3,%016llx%016llx", (unsigned long long)r,
                    (unsigned long long)mix(r));
}

static int
make_csv(uint64_t n, struct buf *b)
{
    char line[160];
    buf_init(b, 0);
    if (buf_append_str(b, "type,value\n") < 0)
        return -1;
    for (uint64_t i = 0; i < n; i++) {
        int l = row(i, line, sizeof(line));
        line[l] = '\n';
        if (buf_append(b, line, (size_t)l + 1) < 0)
            return -1;
    }
    return 0;
}

/* One lookup key per query: half are indicators of the store, half are not. */
struct query {
    int type; /* 0 ip4, 1 domain, 2 sha256 */
    uint8_t addr[16];
    char s[80];
    size_t len;
};

static void
make_queries(uint64_t n_ind, struct query *q, size_t nq)
{
    for (size_t j = 0; j < nq; j++) {
        uint64_t i = mix(j) % n_ind;
        bool miss = j & 1;
        /* pick an indicator of a queryable type near i */
        unsigned k = (unsigned)(i % 20);
        if (k >= 8 && k < 10)
            i -= k - 7; /* an address instead */
        k = (unsigned)(i % 20);
        uint64_t r = mix(i + 1) ^ (miss ? 0x5a5a5a5a5a5a5a5aULL : 0);
        memset(&q[j], 0, sizeof(q[j]));
        if (k < 8) {
            q[j].type = 0;
            q[j].addr[0] = (uint8_t)(r >> 24);
            q[j].addr[1] = (uint8_t)(r >> 16);
            q[j].addr[2] = (uint8_t)(r >> 8);
            q[j].addr[3] = (uint8_t)r;
        } else if (k < 17) {
            q[j].type = 1;
            q[j].len = (size_t)snprintf(q[j].s, sizeof(q[j].s), "www.h%016llx.example.net",
                                        (unsigned long long)r);
            if (!miss) /* exact names are looked up as they are */
                memmove(q[j].s, q[j].s + 4, q[j].len -= 4);
        } else {
            q[j].type = 2;
            q[j].len =
                (size_t)snprintf(q[j].s, sizeof(q[j].s), "%016llx%016llx%016llx%016llx",
                                 (unsigned long long)r, (unsigned long long)mix(r),
                                 (unsigned long long)mix(r + 1), (unsigned long long)mix(r + 2));
        }
    }
}

static void
bench(uint64_t n)
{
    struct buf csv;
    if (make_csv(n, &csv) < 0) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    uint64_t rss0 = rss_kib();
    struct ioc_store *s = ioc_store_new();
    struct ioc_load_report r;
    memset(&r, 0, sizeof(r));
    struct errbuf eb = {""};
    double t0 = now_s();
    int rc = ioc_load_csv(s, (const char *)csv.ptr, csv.len, "bench", 0, &r, &eb);
    ioc_store_seal(s);
    double load_s = now_s() - t0;
    if (rc < 0) {
        fprintf(stderr, "load failed: %s\n", eb.msg);
        exit(1);
    }
    uint64_t rss1 = rss_kib();
    struct ioc_store_stats st;
    ioc_store_stats(s, &st);

    size_t nq = 4u << 20;
    struct query *q = calloc(nq, sizeof(*q));
    if (!q)
        exit(1);
    make_queries(n, q, nq);
    uint64_t hits = 0;
    t0 = now_s();
    for (size_t j = 0; j < nq; j++) {
        if (q[j].type == 0)
            hits += ioc_match_ip(s, 4, q[j].addr, 0, NULL);
        else if (q[j].type == 1)
            hits += ioc_match_domain(s, q[j].s, q[j].len, 0, NULL);
        else
            hits += ioc_match(s, IOC_SHA256, q[j].s, q[j].len, 0, NULL);
    }
    double look_s = now_s() - t0;
    /* The reference: one XXH3 over each query's bytes. */
    uint64_t sink = 0;
    t0 = now_s();
    for (size_t j = 0; j < nq; j++)
        sink ^= q[j].type == 0 ? XXH3_64bits(q[j].addr, 4) : XXH3_64bits(q[j].s, q[j].len);
    double hash_s = now_s() - t0;
    printf("| %9llu | %8.2f | %6.2f | %7.1f | %6.1f | %6.2f | %5.1f | %5.1f%% |\n",
           (unsigned long long)n, load_s, (double)n / load_s / 1e6,
           (double)st.mem_bytes / 1048576.0, (double)st.mem_bytes / (double)st.n_indicators,
           (double)(rss1 > rss0 ? rss1 - rss0 : 0) / 1024.0, (double)nq / look_s / 1e6,
           100.0 * (double)hits / (double)nq);
    printf("|           | reference: XXH3 of the same %zu keys: %.1f M/s, lookups cost %.1fx "
           "a bare hash (sink %llx) |\n",
           nq, (double)nq / hash_s / 1e6, look_s / hash_s, (unsigned long long)(sink & 0xf));
    if (r.n_loaded + r.n_duplicate != n)
        printf("warning: %llu loaded + %llu duplicates != %llu rows\n",
               (unsigned long long)r.n_loaded, (unsigned long long)r.n_duplicate,
               (unsigned long long)n);
    free(q);
    ioc_store_free(s);
    buf_release(&csv);
}

int
main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "--csv") == 0) {
        struct buf csv;
        if (make_csv(strtoull(argv[2], NULL, 10), &csv) < 0)
            return 1;
        FILE *f = fopen(argv[3], "w");
        if (!f || fwrite(csv.ptr, 1, csv.len, f) != csv.len || fclose(f) != 0) {
            perror(argv[3]);
            return 1;
        }
        buf_release(&csv);
        return 0;
    }
    if (argc < 2) {
        fprintf(stderr, "usage: iaso-bench-ioc N [N ...] | --csv N PATH\n");
        return 2;
    }
    printf(
        "| indicators | load s | M/s | store MiB | B/indicator | RSS MiB | lookups M/s | hits |\n");
    printf("|---|---|---|---|---|---|---|---|\n");
    for (int i = 1; i < argc; i++)
        bench(strtoull(argv[i], NULL, 10));
    return 0;
}
