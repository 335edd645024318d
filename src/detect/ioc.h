// SPDX-License-Identifier: Apache-2.0
// The indicator store: shared threat indicators (addresses and ranges, domain names, URLs, TLS
// fingerprints, file hashes, DICOM AE titles, HL7 applications), each with where it came from,
// its TLP, confidence and validity window, matched in constant time per lookup.
//
// Layout. Every indicator is one 16-byte slot in one open-addressing hash table (linear probing,
// load at most 3/4), keyed by (type, kind, normalised value): the value's bytes live in one
// append-only byte arena, the slot holds their hash, offset and the index of the indicator's
// metadata. Metadata (id, source, name, TLP, confidence, validity) is kept once per record and
// shared by every value that record carried (a STIX indicator whose pattern names three
// addresses, a CSV file without ids); consecutive adds with equal metadata reuse one record.
//
// Lookups:
//   - an address probes once per prefix length present in the store for its family (a store of
//     single addresses and /24s probes twice), longest first, so it is bounded by 33 (IPv4) or
//     129 (IPv6) probes whatever the store's size;
//   - a domain name probes the name, then each parent ("a.b.example.org", "b.example.org", ...)
//     for entries that cover subdomains: bounded by the number of labels;
//   - every other type probes once.
//
// Values are normalised on the way in and on lookup: addresses and CIDRs to network order with
// host bits cleared, domain names to lower case without a trailing dot, hashes and JA3 to lower
// case hex (their length checked), URLs to "host[:port]/path?query" with the scheme and a
// default port dropped and the host in lower case. AE titles and HL7 applications are kept as
// given, leading and trailing spaces removed.
//
// Thread safety: building (ioc_store_add, ioc_store_seal) is single-threaded; a finished store
// is read-only and may be matched from any number of threads at once. Reloading builds a new store
// and swaps it.
#ifndef IASO_DETECT_IOC_H
#define IASO_DETECT_IOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

/* X(NAME, name in files and EVE) */
#define IOC_TYPES(X)                                                                               \
    X(IP, "ip")         /* IPv4 or IPv6 address or CIDR range */                                   \
    X(DOMAIN, "domain") /* a domain name (see IOC_KIND_SUBDOMAINS) */                              \
    X(URL, "url")                                                                                  \
    X(JA3, "ja3")   /* TLS client fingerprint, 32 hex digits */                                    \
    X(JA3S, "ja3s") /* TLS server fingerprint, 32 hex digits */                                    \
    X(JA4, "ja4")   /* e.g. t13d1516h2_8daaf6152771_b186095e22b6 */                                \
    X(MD5, "md5")   /* file hashes, hex */                                                         \
    X(SHA1, "sha1")                                                                                \
    X(SHA256, "sha256")                                                                            \
    X(DICOM_AE, "dicom-ae") /* a DICOM AE title, calling or called */                              \
    X(HL7_APP, "hl7-app")   /* an HL7 sending application: "APP" or "APP^FACILITY" */

enum ioc_type {
#define IOC_TYPE_ENUM_(name, str) IOC_##name,
    IOC_TYPES(IOC_TYPE_ENUM_)
#undef IOC_TYPE_ENUM_
        IOC_TYPE_COUNT
};

/* "ip", "domain", ... */
const char *ioc_type_name(enum ioc_type t);
/* The type named s (len bytes, case-insensitive), or -1. */
int ioc_type_from_name(const char *s, size_t len);

/* Domain entries: the name alone, or the name and every name under it. */
#define IOC_KIND_EXACT 0
#define IOC_KIND_SUBDOMAINS 1

/* Traffic Light Protocol 2.0. */
enum ioc_tlp {
    IOC_TLP_NONE = 0, /* not given */
    IOC_TLP_CLEAR,
    IOC_TLP_GREEN,
    IOC_TLP_AMBER,
    IOC_TLP_AMBER_STRICT,
    IOC_TLP_RED,
};
/* "clear", "green", "amber", "amber+strict", "red"; "" for none. */
const char *ioc_tlp_name(enum ioc_tlp t);
/* Accepts the names above in any case, with or without a "tlp:" prefix, and "white" (TLP 1.0's
 * name for clear). -1 when unknown. */
int ioc_tlp_from_name(const char *s, size_t len);

/* What is known of an indicator. Strings may be NULL (not given). Times are Unix microseconds;
 * 0 means open-ended. */
struct ioc_meta {
    const char *id;     /* the record's id: STIX indicator id, MISP attribute uuid, CSV id */
    const char *source; /* who shared it: file name, feed, organisation */
    const char *name;   /* a human description, e.g. STIX "name" or MISP comment */
    enum ioc_tlp tlp;
    int confidence; /* 0..100; -1 not given */
    int64_t valid_from_us;
    int64_t valid_until_us;
};

struct ioc_store;

struct ioc_store *ioc_store_new(void);
void ioc_store_free(struct ioc_store *s);

/*
 * Adds one indicator: value (len bytes, not NUL-terminated) of type t, with kind
 * IOC_KIND_EXACT or, for domains, IOC_KIND_SUBDOMAINS (a value written "*.example.org" or
 * ".example.org" is taken as "example.org" with IOC_KIND_SUBDOMAINS whatever kind says).
 * Returns:
 *   1  added;
 *   0  a duplicate of an indicator already in the store: the one kept is the one valid longest
 *      (open-ended beats any date), the other is counted;
 *   IASO_E_FORMAT  the value is not a valid value of its type (eb says why);
 *   IASO_E_NOMEM / IASO_E_LIMIT  the store cannot grow (4 GiB of values, 2^31 indicators).
 * The metadata's strings are copied.
 */
int ioc_store_add(struct ioc_store *s, enum ioc_type t, int kind, const char *value, size_t len,
                  const struct ioc_meta *m, struct errbuf *eb);

/* Makes room for n more indicators at once, so a bulk load does not grow the table step by step
 * (each step moves every slot). 0, or IASO_E_NOMEM (the store is unchanged). */
int ioc_store_reserve(struct ioc_store *s, size_t n);

/* Finishes a store after loading: fills the filter that lets lookups of values not in the store
 * (nearly all of them) end without a trip to memory. A store that is not sealed matches the same,
 * only slower; adding to a sealed store unseals it. */
void ioc_store_seal(struct ioc_store *s);

/* A match: which indicator, and the value that matched as stored (e.g. the CIDR or the parent
 * domain), for the alert. */
struct ioc_hit {
    enum ioc_type type;
    uint32_t meta;   /* index of its metadata, for ioc_hit_meta */
    uint8_t prefix;  /* IP: the prefix length that matched */
    uint8_t kind;    /* IOC_KIND_* */
    char value[256]; /* the matched value as stored (NUL-terminated; long URLs cut) */
};

/*
 * Lookups. now_us is the time to check validity against (packet time); 0 skips the check.
 * Each returns true and fills hit (when not NULL) if an indicator that is valid at now_us
 * matches.
 */
bool ioc_match_ip(const struct ioc_store *s, int ip_version, const uint8_t addr[16], int64_t now_us,
                  struct ioc_hit *hit);
bool ioc_match_domain(const struct ioc_store *s, const char *name, size_t len, int64_t now_us,
                      struct ioc_hit *hit);
/* A URL from traffic: host (with :port when not the default) and the request target. */
bool ioc_match_url(const struct ioc_store *s, const char *host, size_t host_len, const char *target,
                   size_t target_len, int64_t now_us, struct ioc_hit *hit);
/* Every other type (JA3, JA3S, JA4, hashes, AE titles, HL7 applications). */
bool ioc_match(const struct ioc_store *s, enum ioc_type t, const char *value, size_t len,
               int64_t now_us, struct ioc_hit *hit);

/* Whether the store holds any indicator of type t: lets a caller skip building a lookup key. */
bool ioc_store_has(const struct ioc_store *s, enum ioc_type t);

/* The metadata of a hit; its strings live as long as the store. */
void ioc_hit_meta(const struct ioc_store *s, const struct ioc_hit *hit, struct ioc_meta *m);

/* Calls fn for every indicator, in the order they were added. */
typedef void (*ioc_each_fn)(void *user, const struct ioc_hit *hit);
void ioc_store_each(const struct ioc_store *s, ioc_each_fn fn, void *user);

struct ioc_store_stats {
    uint64_t n_indicators; /* values in the store */
    uint64_t n_type[IOC_TYPE_COUNT];
    uint64_t n_duplicates; /* adds that named a value already there */
    uint64_t n_meta;       /* metadata records */
    uint64_t mem_bytes;    /* everything the store holds */
};

void ioc_store_stats(const struct ioc_store *s, struct ioc_store_stats *st);

/* ---- Loading from files (ioc-load.c, ioc-csv.c, ioc-stix.c, ioc-misp.c) ---- */

enum ioc_format { IOC_FMT_AUTO = 0, IOC_FMT_CSV, IOC_FMT_STIX, IOC_FMT_MISP };
const char *ioc_format_name(enum ioc_format f); /* "csv", "stix", "misp" */

/* What a load did. Nothing is dropped silently: every record that was not loaded is counted
 * under one of the reasons, and the first problems are described. */
#define IOC_LOAD_PROBLEMS_MAX 20
#define IOC_LOAD_REASONS_MAX 32
struct ioc_load_report {
    enum ioc_format format;
    uint64_t n_records;     /* CSV rows, STIX objects, MISP attributes, unusable feed files;
                               each is loaded, skipped, unsupported or invalid */
    uint64_t n_loaded;      /* indicator values added */
    uint64_t n_duplicate;   /* values already in the store */
    uint64_t n_expired;     /* loaded, but their validity had ended at load time */
    uint64_t n_unsupported; /* records of a type or pattern we cannot match */
    uint64_t n_invalid;     /* records that are malformed (bad value, missing field) */
    uint64_t n_skipped;     /* records not meant for detection (MISP to_ids false, STIX objects
                               that are not indicators, revoked indicators) */
    uint64_t n_type[IOC_TYPE_COUNT]; /* values loaded, by type */
    /* Unsupported and invalid records counted by reason ("MISP type email-src", "STIX
     * pattern: MATCHES operator", ...), the first IOC_LOAD_REASONS_MAX distinct reasons. */
    uint32_t n_reasons;
    struct {
        char reason[96];
        uint64_t n;
        bool unsupported; /* else invalid */
    } reasons[IOC_LOAD_REASONS_MAX];
    /* The first problems, each with where it was: "line 12", "indicator--4f3c...",
     * "attribute 5c9f...". */
    uint32_t n_problems;
    char problems[IOC_LOAD_PROBLEMS_MAX][192];
};

/*
 * Loads a file or, for MISP feeds, a directory (manifest.json and one <uuid>.json per event).
 * fmt IOC_FMT_AUTO tells the format by content: a JSON object with "type":"bundle" is STIX 2.1, a
 * JSON object with "Event", "response" or a list of events/attributes is MISP, a directory is a
 * MISP feed, anything else is CSV. source names the indicators' source when records do not (NULL:
 * the file's name). Returns 0 when the input could be read as a whole (even if some records were
 * not loaded: see the report), or a negative code (unreadable file, not JSON where JSON was
 * expected, no CSV header) with a sentence in eb.
 */
int ioc_load_path(struct ioc_store *s, const char *path, enum ioc_format fmt, const char *source,
                  struct ioc_load_report *r, struct errbuf *eb);

/* The same from memory, one format each; used by ioc_load_path and the fuzz targets. now_us is
 * the load time, for n_expired (0: do not count). */
int ioc_load_csv(struct ioc_store *s, const char *data, size_t len, const char *source,
                 int64_t now_us, struct ioc_load_report *r, struct errbuf *eb);
int ioc_load_stix(struct ioc_store *s, const char *data, size_t len, const char *source,
                  int64_t now_us, struct ioc_load_report *r, struct errbuf *eb);
int ioc_load_misp(struct ioc_store *s, const char *data, size_t len, const char *source,
                  int64_t now_us, struct ioc_load_report *r, struct errbuf *eb);
/* ioc_load_misp adding to r instead of clearing it first: one event file of a feed directory.
 * When the input is not a MISP export (IASO_E_FORMAT) nothing was counted. */
int ioc_load_misp_append(struct ioc_store *s, const char *data, size_t len, const char *source,
                         int64_t now_us, struct ioc_load_report *r, struct errbuf *eb);

/* Helpers for loaders. ioc_report_reason counts one record that was not loaded as unsupported
 * or invalid (n_unsupported or n_invalid, and under its reason); ioc_report_problem keeps the
 * first problems' descriptions ("where: what") and counts nothing. */
void ioc_report_reason(struct ioc_load_report *r, bool unsupported, const char *reason);
void ioc_report_problem(struct ioc_load_report *r, const char *where, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Counts one value passed to ioc_store_add by its return code (1 loaded, 0 duplicate, IASO_E_FORMAT
 * invalid) and whether it had already expired at now_us. */
void ioc_report_added(struct ioc_load_report *r, enum ioc_type t, int rc, const struct ioc_meta *m,
                      int64_t now_us);

/* Parses an RFC 3339 / ISO 8601 timestamp ("2026-11-23T14:41:11Z", fractions and offsets
 * allowed, a bare date too) or Unix seconds, into Unix microseconds. */
int ioc_parse_time(const char *s, size_t len, int64_t *out_us);

#endif
