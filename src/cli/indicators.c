// SPDX-License-Identifier: Apache-2.0
// `iaso indicators check PATH...`: loads indicator files as the sensor would and says what they
// gave: the format found, indicators by type, and every record not loaded, counted by reason.
#include "cli/cli.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/timefmt.h"
#include "detect/ioc.h"

static const char *const usage =
    "usage: iaso indicators check [options] PATH...\n"
    "\n"
    "Loads each indicator file (CSV, STIX 2.1 bundle, MISP event or collection) or MISP\n"
    "feed directory the way `iaso sensor --indicators` does, and prints what it would load:\n"
    "the format found, indicators by type, duplicates, expired ones, and every record it\n"
    "cannot load, counted by reason (unsupported type or pattern, invalid value), with the\n"
    "first problems located by line or object id.\n"
    "\n"
    "options:\n"
    "  --format FMT   csv, stix or misp instead of telling by content\n"
    "  --source NAME  the source to record for indicators that do not name one\n"
    "  --list         also print every indicator loaded (type, value, TLP, validity, id)\n"
    "  --strict       exit 1 when any record was unsupported or invalid\n"
    "  -h, --help     show this help\n"
    "\n"
    "CSV columns (header required; names in any case and order): type, value, and optionally\n"
    "id, source, name, tlp, confidence, valid_from, valid_until. Types: ip (an address or a\n"
    "CIDR range), domain, domain-suffix (the domain and its subdomains), url, ja3, ja3s, ja4,\n"
    "md5, sha1, sha256, dicom-ae, hl7-app.\n"
    "\n"
    "Exit status: 0 when every file could be read; 1 when one could not (or, with --strict,\n"
    "when a record was not loaded); 2 on bad usage.\n";

static void
print_time(int64_t us, char *out, size_t len)
{
    if (us <= 0)
        snprintf(out, len, "-");
    else
        timefmt_utc((uint64_t)us, out, len);
}

struct list_ctx {
    const struct ioc_store *store;
};

static void
list_one(void *user, const struct ioc_hit *hit)
{
    const struct list_ctx *c = user;
    struct ioc_meta m;
    ioc_hit_meta(c->store, hit, &m);
    char from[32], until[32];
    print_time(m.valid_from_us, from, sizeof(from));
    print_time(m.valid_until_us, until, sizeof(until));
    const char *type = hit->type == IOC_DOMAIN && hit->kind == IOC_KIND_SUBDOMAINS
                           ? "domain-suffix"
                           : ioc_type_name(hit->type);
    printf("  %-13s %-40s %-12s %-20s %-20s %s\n", type, hit->value,
           *ioc_tlp_name(m.tlp) ? ioc_tlp_name(m.tlp) : "-", from, until, m.id ? m.id : "-");
}

static void
print_report(const char *path, const struct ioc_load_report *r)
{
    printf("%s: %s\n", path, ioc_format_name(r->format));
    printf("  records      %llu\n", (unsigned long long)r->n_records);
    printf("  loaded       %llu indicator values\n", (unsigned long long)r->n_loaded);
    for (int t = 0; t < IOC_TYPE_COUNT; t++)
        if (r->n_type[t])
            printf("    %-10s %llu\n", ioc_type_name((enum ioc_type)t),
                   (unsigned long long)r->n_type[t]);
    printf("  duplicates   %llu\n", (unsigned long long)r->n_duplicate);
    printf("  expired      %llu (loaded, but no longer valid now)\n",
           (unsigned long long)r->n_expired);
    printf("  skipped      %llu (not meant for detection)\n", (unsigned long long)r->n_skipped);
    printf("  unsupported  %llu\n", (unsigned long long)r->n_unsupported);
    printf("  invalid      %llu\n", (unsigned long long)r->n_invalid);
    for (uint32_t i = 0; i < r->n_reasons; i++)
        printf("    %-11s %6llu  %s\n", r->reasons[i].unsupported ? "unsupported" : "invalid",
               (unsigned long long)r->reasons[i].n, r->reasons[i].reason);
    if (r->n_problems)
        printf("  first problems:\n");
    for (uint32_t i = 0; i < r->n_problems; i++)
        printf("    %s\n", r->problems[i]);
}

static int
cmd_indicators_check(int argc, char **argv)
{
    enum { O_FORMAT = 1, O_SOURCE, O_LIST, O_STRICT };
    static const struct option longopts[] = {
        {"format", required_argument, NULL, O_FORMAT},
        {"source", required_argument, NULL, O_SOURCE},
        {"list", no_argument, NULL, O_LIST},
        {"strict", no_argument, NULL, O_STRICT},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    enum ioc_format fmt = IOC_FMT_AUTO;
    const char *source = NULL;
    bool list = false, strict = false;
    optind = 3;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case O_FORMAT:
            if (strcmp(optarg, "csv") == 0)
                fmt = IOC_FMT_CSV;
            else if (strcmp(optarg, "stix") == 0)
                fmt = IOC_FMT_STIX;
            else if (strcmp(optarg, "misp") == 0)
                fmt = IOC_FMT_MISP;
            else {
                fprintf(stderr, "iaso indicators check: --format %s: expected csv, stix or misp\n",
                        optarg);
                return 2;
            }
            break;
        case O_SOURCE:
            source = optarg;
            break;
        case O_LIST:
            list = true;
            break;
        case O_STRICT:
            strict = true;
            break;
        case 'h':
            fputs(usage, stdout);
            return 0;
        default:
            fprintf(stderr, "iaso indicators check: unknown option '%s'\n\n%s", argv[optind - 1],
                    usage);
            return 2;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "iaso indicators check: give at least one PATH\n\n%s", usage);
        return 2;
    }
    int status = 0;
    for (int i = optind; i < argc; i++) {
        struct ioc_store *s = ioc_store_new();
        if (!s) {
            fprintf(stderr, "iaso indicators check: out of memory\n");
            return 1;
        }
        struct ioc_load_report r;
        memset(&r, 0, sizeof(r));
        struct errbuf eb = {""};
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        int rc = ioc_load_path(s, argv[i], fmt, source, &r, &eb);
        ioc_store_seal(s);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        if (rc < 0) {
            fprintf(stderr, "iaso indicators check: %s: %s\n", argv[i], eb.msg);
            status = 1;
            ioc_store_free(s);
            continue;
        }
        print_report(argv[i], &r);
        struct ioc_store_stats st;
        ioc_store_stats(s, &st);
        printf("  load time    %.3f s; store %llu bytes (%llu per indicator)\n",
               (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9,
               (unsigned long long)st.mem_bytes,
               (unsigned long long)(st.n_indicators ? st.mem_bytes / st.n_indicators : 0));
        if (list) {
            struct list_ctx lc = {s};
            printf("  %-13s %-40s %-12s %-20s %-20s %s\n", "TYPE", "VALUE", "TLP", "VALID FROM",
                   "VALID UNTIL", "ID");
            ioc_store_each(s, list_one, &lc);
        }
        if (strict && (r.n_unsupported || r.n_invalid))
            status = 1;
        ioc_store_free(s);
    }
    return status;
}

int
cmd_indicators(int argc, char **argv)
{
    if (argc >= 3 && strcmp(argv[2], "check") == 0)
        return cmd_indicators_check(argc, argv);
    bool help = argc >= 3 && (strcmp(argv[2], "--help") == 0 || strcmp(argv[2], "-h") == 0);
    if (!help && argc >= 3)
        fprintf(stderr, "iaso indicators: unknown subcommand '%s'\n\n", argv[2]);
    fputs(usage, help ? stdout : stderr);
    return help ? 0 : 2;
}
