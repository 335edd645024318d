// SPDX-License-Identifier: Apache-2.0
// Behaviour detectors: rules that fire on how much a host does in a window of packet time, or on
// what it touches, rather than on a single indicator. They read new and ended flows and the
// protocol events of the parsers, keep a little state per source host, and raise alerts through
// the calling worker's gate (alert.h) with evidence: the counts, the window, the threshold and
// the last few values that crossed it.
//
//   DICOM_QUERY_SWEEP     broad C-FIND-RQs from one host: PATIENT or STUDY level and no key
//                         matched exactly or by UID list (only universal, wildcard and range keys).
//   DICOM_BULK_RETRIEVE   C-MOVE-RQs and C-GET-RQs from one host, or the instances their final
//                         responses say were sent (NumberOfCompletedSuboperations).
//   DICOM_AE_GUESSING     rejected associations (A-ASSOCIATE-RJ) of one client host, counted by
//                         distinct calling/called AE title pair, so a modality retrying one wrong
//                         title is a misconfiguration, not guessing. Counted from the association
//                         summary the parser emits right after the reject, which names the titles.
//   DICOM_EXTERNAL        a DICOM association with an endpoint outside the home networks, and
//   HL7_EXTERNAL          the same for HL7 messages: one alert per flow, the client (the side
//                         that connected) as its source; the evidence says which side is out.
//   SMB_RANSOM_BURST      distinct files one client renamed, deleted or wrote. Writes to files
//                         the client created itself in the window do not count (a memory of 1024
//                         bits), so copying a folder onto a share is not a burst; overwriting,
//                         renaming and deleting are.
//   SMB_RANSOM_NOTE       a file created or written whose name matches a known ransom note name
//                         (a short list of the names public ransomware families use).
//   SMB_EXTENSION_CHANGE  renames to one new extension from a different one (a.docx ->
//                         a.docx.locked), or files created with one uncommon extension while as
//                         many files are deleted (write-new-then-delete ransomware).
//   SMB_ADMIN_SHARE       a tree connect to ADMIN$ or a drive share (C$, D$, ...); IPC$ is not.
//   SMB_REMOTE_SERVICE    the svcctl pipe opened, or an executable created or written on ADMIN$
//                         (PsExec and its kin). Servers that administer servers trigger this and
//                         SMB_ADMIN_SHARE too: the roles of hosts cannot be known from traffic,
//                         so both have a switch (smb_admin_share, smb_remote_service).
//   SMB_LOGON_FAILURES    session setups of one client refused with a logon failure status.
//   RDP_BRUTE_FORCE       RDP connection attempts from one source to one server (TCP SYNs to
//                         3389, X.224 Connection Requests on other ports), or connections that
//                         ended short (fewer than rdp_short_bytes both ways: a refused login; the
//                         outcome itself is inside TLS).
//   SCAN_PORTS            distinct destination ports one source opened flows to (any hosts).
//   SCAN_HOSTS            distinct destination hosts one source opened flows to; by default only
//                         hosts inside the home networks (browsing the web touches many outside).
//   DNS_TUNNEL            queries of one client with a long label of high Shannon entropy, or
//                         TXT/NULL queries, over their thresholds.
//   DNS_NXDOMAIN          distinct names answered NXDOMAIN to one client (domain generation).
//
// Scans are counted on new flows: TCP only when its first packet is a bare SYN (a stream picked
// up midway says nothing of who started it), UDP unless the first packet came from a well-known
// port to an ephemeral one (most likely an answer whose question was missed), ICMP always.
// Multicast and broadcast destinations are not hosts.
//
// Windows are tumbling, one per detector and source: a window opens with the first event
// counted and ends window seconds later; the next event after that opens a new one. A detector
// fires once per window and source, the moment its count reaches the threshold (a threshold
// of 0 turns it off); the alert's subject is the window's start, so one flow can alert again in a
// later window. Packet time is trusted: an event older than its window's start (threads run a
// little apart) counts in the current window.
//
// Memory: one table per family (scan, dicom, smb, rdp, dns), each a fixed array allocated by
// behave_new() and never grown: its memcap divided by the size of one entry, which depends on
// the distinct-count thresholds (an exact set of 1.5 x threshold 32-bit hashes per counter, so
// firing is exact). A keyed hash of the address gives each source two candidate buckets of 8
// entries; a new source takes an empty entry of the emptier one, else the one of the 16 idle
// the longest, which counts as an eviction if a window of it was still open (else it was only
// recycled). Two choices keep a table usable to about 90% of its entries. Nothing is allocated
// after behave_new().
//
// Patient data: none is copied into evidence. DICOM evidence names query levels, key keywords
// and how they matched, AE titles and move destinations, never key values; HL7 evidence names
// applications, facilities and message types. File names (SMB) and query names (DNS) are kept,
// cut to 63 bytes, as the parsers keep them.
//
// Thread safety: one struct behave is shared by all workers. Each table has 256 mutexes, each
// guarding the buckets whose index is equal modulo 256; a call holds the one or two of a
// source's buckets (taken in index order) for one entry, and releases them before raising an
// alert (the evidence is copied out first). Counters are atomic. The configuration and home
// networks are read-only after behave_new().
#ifndef IASO_DETECT_BEHAVE_H
#define IASO_DETECT_BEHAVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "detect/alert.h"
#include "detect/rules.h"
#include "proto/proto.h"
#include "wire/flow.h"

/* The parameters: X(name, type, default as typed, min, max, unit, help). Values are int64_t
 * fields of struct behave_config named like the parameter; durations are in milliseconds,
 * sizes in bytes, decimals in thousandths, switches 0 or 1. */
#define IASO_BEHAVE_PARAMS(X)                                                                      \
    X(dicom_find_queries, COUNT, "50", 0, 100000, "queries",                                       \
      "Broad C-FIND queries (patient or study level, no exact key) from one host that make a "     \
      "DICOM_QUERY_SWEEP; 0 turns it off.")                                                        \
    X(dicom_find_window, DURATION, "60s", 1000, 86400000, "duration",                              \
      "Window of DICOM_QUERY_SWEEP.")                                                              \
    X(dicom_retrieve_requests, COUNT, "100", 0, 100000, "requests",                                \
      "C-MOVE and C-GET requests from one host that make a DICOM_BULK_RETRIEVE; 0: not counted.")  \
    X(dicom_retrieve_instances, COUNT, "20000", 0, 100000000, "instances",                         \
      "Instances retrieved (completed sub-operations of C-MOVE and C-GET) by one host that make "  \
      "a DICOM_BULK_RETRIEVE; 0: not counted.")                                                    \
    X(dicom_retrieve_window, DURATION, "5m", 1000, 86400000, "duration",                           \
      "Window of DICOM_BULK_RETRIEVE.")                                                            \
    X(dicom_rejects, COUNT, "10", 0, 10000, "AE pairs",                                            \
      "Rejected associations of one client host, by distinct calling/called AE title pair, that "  \
      "make a DICOM_AE_GUESSING; 0 turns it off.")                                                 \
    X(dicom_reject_window, DURATION, "5m", 1000, 86400000, "duration",                             \
      "Window of DICOM_AE_GUESSING.")                                                              \
    X(dicom_external, BOOL, "1", 0, 1, "switch",                                                   \
      "Alert on DICOM associations with an endpoint outside the home networks (DICOM_EXTERNAL).")  \
    X(hl7_external, BOOL, "1", 0, 1, "switch",                                                     \
      "Alert on HL7 messages with an endpoint outside the home networks (HL7_EXTERNAL).")          \
    X(smb_burst_files, COUNT, "100", 0, 10000, "files",                                            \
      "Distinct files one SMB client renamed, deleted or overwrote that make a "                   \
      "SMB_RANSOM_BURST; 0 turns it off.")                                                         \
    X(smb_ext_files, COUNT, "20", 0, 100000, "files",                                              \
      "Files renamed to one new extension, or created with one uncommon extension while as many "  \
      "are deleted, that make a SMB_EXTENSION_CHANGE; 0 turns it off.")                            \
    X(smb_window, DURATION, "60s", 1000, 86400000, "duration",                                     \
      "Window of SMB_RANSOM_BURST and SMB_EXTENSION_CHANGE.")                                      \
    X(smb_ransom_note, BOOL, "1", 0, 1, "switch",                                                  \
      "Alert on files written with a known ransom note name (SMB_RANSOM_NOTE).")                   \
    X(smb_admin_share, BOOL, "1", 0, 1, "switch",                                                  \
      "Alert on tree connects to ADMIN$ and drive shares (SMB_ADMIN_SHARE).")                      \
    X(smb_remote_service, BOOL, "1", 0, 1, "switch",                                               \
      "Alert on the svcctl pipe and executables written to ADMIN$ (SMB_REMOTE_SERVICE).")          \
    X(smb_logon_failures, COUNT, "10", 0, 100000, "failures",                                      \
      "Failed SMB session setups of one client that make a SMB_LOGON_FAILURES; 0 turns it off.")   \
    X(smb_logon_window, DURATION, "60s", 1000, 86400000, "duration",                               \
      "Window of SMB_LOGON_FAILURES.")                                                             \
    X(rdp_attempts, COUNT, "20", 0, 100000, "connections",                                         \
      "RDP connection attempts from one source to one server that make a RDP_BRUTE_FORCE; 0: "     \
      "not counted.")                                                                              \
    X(rdp_short, COUNT, "10", 0, 100000, "connections",                                            \
      "RDP connections from one source to one server that ended short that make a "                \
      "RDP_BRUTE_FORCE; 0: not counted.")                                                          \
    X(rdp_short_bytes, SIZE, "20K", 0, 1073741824, "bytes",                                        \
      "An RDP connection with fewer bytes than this, both ways, ended short.")                     \
    X(rdp_window, DURATION, "5m", 1000, 86400000, "duration", "Window of RDP_BRUTE_FORCE.")        \
    X(scan_ports, COUNT, "100", 0, 65536, "ports",                                                 \
      "Distinct destination ports one source opened flows to that make a SCAN_PORTS; 0 turns it "  \
      "off.")                                                                                      \
    X(scan_hosts, COUNT, "100", 0, 10000, "hosts",                                                 \
      "Distinct destination hosts one source opened flows to that make a SCAN_HOSTS; 0 turns it "  \
      "off.")                                                                                      \
    X(scan_hosts_home_only, BOOL, "1", 0, 1, "switch",                                             \
      "SCAN_HOSTS counts only destinations inside the home networks; 0 counts all.")               \
    X(scan_window, DURATION, "60s", 1000, 86400000, "duration",                                    \
      "Window of SCAN_PORTS and SCAN_HOSTS.")                                                      \
    X(dns_tunnel_queries, COUNT, "30", 0, 100000, "queries",                                       \
      "Queries of one client with a long high-entropy label that make a DNS_TUNNEL; 0: not "       \
      "counted.")                                                                                  \
    X(dns_label_len, COUNT, "40", 1, 63, "characters",                                             \
      "A label this long or longer is long (DNS_TUNNEL).")                                         \
    X(dns_label_entropy, DECIMAL, "3.5", 0, 6000, "bits/char",                                     \
      "Shannon entropy of a long label from which it is high (DNS_TUNNEL): 40 random hex "         \
      "characters give about 3.8, base32 4.3, long words 3.6 to 4, repeats and padding under 2.")  \
    X(dns_txt_queries, COUNT, "100", 0, 100000, "queries",                                         \
      "TXT and NULL queries of one client that make a DNS_TUNNEL; 0: not counted.")                \
    X(dns_tunnel_window, DURATION, "60s", 1000, 86400000, "duration", "Window of DNS_TUNNEL.")     \
    X(dns_nxdomain, COUNT, "50", 0, 10000, "names",                                                \
      "Distinct names answered NXDOMAIN to one client that make a DNS_NXDOMAIN; 0 turns it off.")  \
    X(dns_nxdomain_window, DURATION, "60s", 1000, 86400000, "duration", "Window of DNS_NXDOMAIN.") \
    X(scan_memcap, SIZE, "32M", 65536, 68719476736, "bytes",                                       \
      "Memory for the sources the scan detectors track.")                                          \
    X(dicom_memcap, SIZE, "4M", 65536, 68719476736, "bytes",                                       \
      "Memory for the hosts the DICOM detectors track.")                                           \
    X(smb_memcap, SIZE, "16M", 65536, 68719476736, "bytes",                                        \
      "Memory for the clients the SMB detectors track.")                                           \
    X(rdp_memcap, SIZE, "4M", 65536, 68719476736, "bytes",                                         \
      "Memory for the source/server pairs the RDP detector tracks.")                               \
    X(dns_memcap, SIZE, "16M", 65536, 68719476736, "bytes",                                        \
      "Memory for the clients the DNS detectors track.")                                           \
    X(hash_seed, COUNT, "0", 0, INT64_MAX, "key",                                                  \
      "Key of the tables' hashes; 0 draws a random one at start. A fixed key makes runs "          \
      "reproducible (tests), and lets whoever knows it aim sources at one bucket.")

enum behave_param_type {
    BEHAVE_COUNT,    /* a whole number */
    BEHAVE_DURATION, /* "250ms", "30s", "5m", "2h", "1d"; plain: seconds. Stored in ms */
    BEHAVE_SIZE,     /* "64K", "32M", "1G"; plain: bytes */
    BEHAVE_DECIMAL,  /* "3.5", up to three decimals. Stored in thousandths */
    BEHAVE_BOOL,     /* 0 or 1 */
};

/* Thresholds and limits. Fill with behave_config_defaults(), then behave_config_set(). */
struct behave_config {
#define IASO_BEHAVE_FIELD_(name, type, def, min, max, unit, help) int64_t name;
    IASO_BEHAVE_PARAMS(IASO_BEHAVE_FIELD_)
#undef IASO_BEHAVE_FIELD_
};

void behave_config_defaults(struct behave_config *c);

/*
 * Sets one parameter from "name=value", as given to --threshold. IASO_E_USAGE, with a sentence
 * in eb naming the parameter and what is wrong, for a missing '=', an unknown name, or a value
 * that does not parse or is out of the parameter's bounds; c is unchanged then.
 */
int behave_config_set(struct behave_config *c, const char *name_eq_value, struct errbuf *eb);

/* The parameter table, for --help and the docs: i from 0 to behave_param_count() - 1. */
struct behave_param {
    const char *name;
    enum behave_param_type type;
    const char *def; /* the default as typed: "60s", "32M", "3.5" */
    int64_t min, max;
    const char *unit; /* what is counted ("queries"), or "duration", "bytes", "switch" */
    const char *help; /* one sentence or two */
};
size_t behave_param_count(void);
const struct behave_param *behave_param_at(size_t i); /* NULL past the end */
const char *behave_param_name(size_t i);              /* NULL past the end */

struct behave;

/*
 * Builds the detectors: copies the configuration, parses the home networks (a comma-separated
 * list of CIDR prefixes as netset_parse() takes; NULL for NETSET_DEFAULT) and allocates every
 * table. Returns NULL with a sentence in eb on a bad network list, a memcap too small for one
 * bucket of entries at the configured thresholds, or no memory.
 */
struct behave *behave_new(const struct behave_config *c, const char *home_net, struct errbuf *eb);
void behave_free(struct behave *b); /* NULL is fine */

/* The first packet of a flow (f's counters include it), at packet time ts_us: scans, RDP
 * connection attempts. g is the calling worker's gate; with NULL, crossings are only counted
 * (behave_stats), in all three calls. */
void behave_flow_new(struct behave *b, struct alert_gate *g, const struct flow *f, uint64_t ts_us);

/* A flow ended; app is the protocol the parsers found on it (PROTO_NONE: none). Its last packet
 * time is the time of the call: short RDP connections. */
void behave_flow_end(struct behave *b, struct alert_gate *g, const struct flow *f,
                     enum proto_id app);

/* One protocol event of flow f, as the parsers emit it (proto.h). */
void behave_event(struct behave *b, struct alert_gate *g, const struct flow *f,
                  const struct proto_event *ev);

/* The tables, for behave_stats. */
enum behave_table {
    BEHAVE_TABLE_SCAN,
    BEHAVE_TABLE_DICOM,
    BEHAVE_TABLE_SMB,
    BEHAVE_TABLE_RDP,
    BEHAVE_TABLE_DNS,
    BEHAVE_TABLE_COUNT
};
const char *behave_table_name(enum behave_table t); /* "scan", "dicom", ... */

struct behave_table_stats {
    uint64_t n_slots;     /* entries the table holds (its cap) */
    uint64_t entry_bytes; /* bytes of one entry */
    uint64_t mem_bytes;   /* bytes allocated: the entries, the bucket index and the locks */
    uint64_t n_tracked;   /* entries in use (some may hold only closed windows) */
    uint64_t n_evicted;   /* entries replaced while a window of theirs was open: state lost */
    uint64_t n_recycled;  /* entries replaced after all their windows had closed */
};

struct behave_stats {
    struct behave_table_stats table[BEHAVE_TABLE_COUNT];
    uint64_t n_tracked, mem_bytes, n_evicted; /* sums over the tables */
    uint64_t n_fired[RULE_COUNT]; /* thresholds crossed (before the gate's dedup and rate limit) */
};

/* A snapshot; safe to call while workers run. */
void behave_stats(const struct behave *b, struct behave_stats *st);

#endif
