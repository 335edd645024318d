// SPDX-License-Identifier: Apache-2.0
// RDP connection setup ([MS-RDPBCGR] 2.2.1.1 and 2.2.1.2): the client's X.224 Connection Request
// in TPKT, with its cookie ("Cookie: mstshash=USER") or routing token ("Cookie: msts=...") and the
// RDP Negotiation Request (the security protocols it offers), and the server's X.224 Connection
// Confirm with the Negotiation Response (the protocol chosen) or Failure (why it refused).
//
// After those two PDUs the connection is TLS/CredSSP (or, for standard RDP security, MCS with
// encrypted data): the parser ignores the rest of each direction quietly, without giving up.
//
// An X.224 header's length indicator is one byte, so a Connection Request or Confirm fits in
// RDP_PDU_MAX bytes; a TPKT that claims more (or less than a bare X.224 header) gives up. Each
// direction assembles its PDU in a heap buffer of that size, freed as soon as the PDU is read.
//
// The cookie's user name is a login name, not patient data: it is kept in clear.
#ifndef IASO_PROTO_RDP_H
#define IASO_PROTO_RDP_H

#include <stdbool.h>
#include <stdint.h>

#include "proto/proto.h"

#define RDP_PDU_MAX (4 + 1 + 254) /* TPKT header + X.224 length indicator + its largest value */
#define RDP_PDU_MIN (4 + 7)       /* TPKT header + the fixed X.224 CR/CC header */
#define RDP_TOKEN_MAX 128         /* cookie user name or routing token kept; longer is cut */

enum rdp_event_kind {
    RDP_EVENT_CONNECT_REQUEST = 1, /* client: X.224 CR */
    RDP_EVENT_CONNECT_CONFIRM,     /* server: X.224 CC, with or without a Negotiation Response */
    RDP_EVENT_NEGOTIATION_FAILURE, /* server: X.224 CC with a Negotiation Failure */
};

/* requestedProtocols / selectedProtocol bits ([MS-RDPBCGR] 2.2.1.1.1). */
#define RDP_PROTOCOL_SSL 0x01u
#define RDP_PROTOCOL_HYBRID 0x02u
#define RDP_PROTOCOL_RDSTLS 0x04u
#define RDP_PROTOCOL_HYBRID_EX 0x08u
#define RDP_PROTOCOL_RDSAAD 0x10u

struct rdp_event {
    bool has_cookie;        /* "Cookie: mstshash=" line */
    bool has_routing_token; /* "Cookie: msts=" line (load-balancer routing token) */
    bool token_cut;         /* the cookie or token was longer than RDP_TOKEN_MAX */
    bool bad_token;         /* a cookie line without its CR LF: the rest was not read */
    bool has_negotiation;   /* a Negotiation Request, Response or Failure was present */
    bool has_correlation;   /* client: an RDP Correlation Info followed the request */
    uint8_t neg_flags;
    uint32_t protocols;    /* request: requestedProtocols; confirm: selectedProtocol */
    uint32_t failure_code; /* negotiation failure */
    uint16_t token_len;
    char token[RDP_TOKEN_MAX]; /* the user name of the cookie, or the routing token */
};

extern const struct proto_parser rdp_parser;

#endif
