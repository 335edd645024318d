// SPDX-License-Identifier: Apache-2.0
// DNS over UDP and TCP (RFC 1035, RFC 7766): one event per message, a query or an answer, with
// the header flags, the first question and the first resource records of the answer and
// authority sections, in the shape of Suricata's EVE dns v2 records.
//
// UDP: one message per parse() call. TCP: messages with a 2-byte length prefix on each
// direction's stream, resumable at any byte; a message split across calls is assembled in a heap
// buffer of at most 65535 bytes (the prefix bounds it) per direction, freed in end().
//
// The caller says which transport the flow uses (proto_ctx.udp): one message per UDP datagram,
// or length-prefixed messages on a TCP stream.
//
// Names are decompressed without recursion: at most DNS_NAME_JUMPS_MAX pointers per name, each
// pointing strictly before the labels that led to it (so no loop can form), labels of at most 63
// bytes and names of at most 255 wire bytes. A name that breaks a rule ends the walk of the
// message; the event still goes out, with an anomaly flag saying what was wrong.
//
// Per query the event also carries the query name length and its longest label, for tunnelling
// detection. Nothing in DNS is patient data; names are kept as they are.
#ifndef IASO_PROTO_DNS_H
#define IASO_PROTO_DNS_H

#include <stdbool.h>
#include <stdint.h>

#include "proto/proto.h"

#define DNS_NAME_WIRE_MAX 255  /* RFC 1035 2.3.4: longer names are malformed */
#define DNS_LABEL_MAX 63       /* RFC 1035 2.3.4; the two top bits mark pointers */
#define DNS_NAME_JUMPS_MAX 32  /* far more than real compression uses; bounds the walk */
#define DNS_NAME_TEXT_MAX 256  /* dotted text of a 255-byte wire name fits, with its NUL */
#define DNS_RDATA_TEXT_MAX 256 /* presentation text of one record's data; longer is cut */
#define DNS_SECTION_RRS_MAX 64 /* records walked per section; the rest only counted */
#define DNS_EVENT_RRS_MAX 8    /* records put in one event (answers, then authorities) */
#define DNS_TCP_MSG_MAX 65535  /* the 2-byte prefix bounds a TCP message; caps the buffer */

enum dns_event_kind {
    DNS_EVENT_QUERY = 1, /* a message with QR clear */
    DNS_EVENT_ANSWER,    /* a message with QR set */
};

/* What was wrong with a message (bits of dns_event.anomalies). */
enum dns_anomaly {
    DNS_ANOM_TRUNCATED = 1u << 0,    /* a record or name ran past the end of the message */
    DNS_ANOM_POINTER_LOOP = 1u << 1, /* a compression pointer did not point backwards */
    DNS_ANOM_NAME_TOO_LONG = 1u << 2,
    DNS_ANOM_BAD_LABEL = 1u << 3,      /* a label type other than length or pointer */
    DNS_ANOM_COUNT_MISMATCH = 1u << 4, /* the header counts more records than are present */
    DNS_ANOM_RRS_CAPPED = 1u << 5,     /* more than DNS_SECTION_RRS_MAX records in a section */
    DNS_ANOM_BAD_RDATA = 1u << 6,      /* record data that does not fit its type */
};

enum dns_section { DNS_SECTION_ANSWER = 1, DNS_SECTION_AUTHORITY };

struct dns_rr {
    uint8_t section; /* enum dns_section */
    uint16_t type;
    uint16_t rrclass;
    uint32_t ttl;
    uint16_t rdlength;
    uint16_t name_len;
    uint16_t rdata_len; /* 0: not decoded for this type (see rdlength) */
    char name[DNS_NAME_TEXT_MAX];
    char rdata[DNS_RDATA_TEXT_MAX]; /* A/AAAA address, names, "10 mx.example", TXT strings */
};

struct dns_event {
    bool is_tcp;
    uint16_t id;
    uint16_t flags; /* the 16 flag bits of the header, as sent */
    uint8_t opcode, rcode;
    bool qr, aa, tc, rd, ra;
    uint16_t qdcount, ancount, nscount, arcount; /* as the header says (may lie) */
    bool has_question;
    uint16_t qtype, qclass;
    uint16_t rrname_len;
    uint16_t query_name_len; /* length of the dotted query name, for tunnelling detection */
    uint8_t longest_label;   /* longest label of the query name */
    uint16_t n_answers, n_authorities; /* records walked in those sections */
    uint16_t n_rrs;
    uint32_t anomalies; /* enum dns_anomaly bits */
    char rrname[DNS_NAME_TEXT_MAX];
    struct dns_rr rrs[DNS_EVENT_RRS_MAX];
};

extern const struct proto_parser dns_parser;

/* "A", "AAAA", ... for a type number; NULL when it has no name here. */
const char *dns_rrtype_name(uint16_t type);

#endif
