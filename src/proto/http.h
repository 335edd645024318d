// SPDX-License-Identifier: Apache-2.0
// HTTP/1.x parser with FHIR REST recognised.
//
// Both directions are followed by an explicit, resumable, byte-at-a-time state machine: request
// and status lines, headers (only Host, User-Agent, Content-Type, Content-Length and
// Transfer-Encoding are kept), bodies by Content-Length, the chunked coding (extensions and
// trailers skipped), bodyless responses (HEAD, 1xx, 204, 304) and responses that run until the
// connection closes. No message is buffered whole: bodies are counted, never stored. Requests
// wait in a capped FIFO (keep-alive, pipelining) and are matched to responses in order; one
// transaction event is emitted per request/response pair when the response ends, or at end() /
// give-up with what there is.
//
// Patient data: query strings and bodies never reach an event. The url (and the Referer, as
// http_refer) keeps scheme, host and path and the names of its query parameters with their
// values dropped ("/a?name=&birthdate="); user:password@ in an absolute url is dropped. A FHIR
// request (path after an optional base such as /fhir or /baseR4 starting with a resource type,
// or a FHIR content type) gets a "fhir" object: resource_type, interaction, operation, the
// resource id, and the query parameter names only. A Patient id is a patient identifier: it is
// pseudonymised (PHI_ID) in fhir.id, and in any url the segment after a "Patient" segment is
// replaced by its pseudonym, FHIR base recognised or not. Other path segments stay as sent.
//
// File digests (when ctx->file_hashes asks, see filehash.h): the body of a response, and of a
// request (uploads by POST/PUT), is hashed as it streams by, after de-chunking and before any
// Content-Encoding is undone: a gzip'd body is hashed as the gzip bytes on the wire, not the file
// they decompress to. The digests go into the transaction (resp_file, req_file; EVE "file" and
// "request_file") only when the body passed whole: all Content-Length bytes seen, a chunked body
// ended by its last chunk, or a body without a length ended by the connection closing. A gap in
// the body, a flow that ends or a parser that gives up inside it, an empty body, or a request
// body still running when its response ended: no digest. Nor does a 206 response (a piece of a
// file: a range request).
//
// Memory per flow: the state (under 256 bytes), one HTTP_TARGET_MAX scratch buffer (zeroed after
// each request line and before it is freed), and one struct http_txn (about 3.2 KiB) per pending
// request, so at most about 105 KiB with HTTP_PENDING_MAX requests pipelined; with digests
// asked for, one struct filehash per direction at most (the body being read), under 1 KiB each.
//
// Limits, and what happens past them:
//   HTTP_LINE_MAX      8 KiB per request/status/header/chunk-size line: anomaly, give up.
//   HTTP_HEADERS_MAX   100 header (or trailer) lines per message: anomaly, give up.
//   HTTP_PENDING_MAX   32 requests waiting for their response: anomaly, give up.
//   HTTP_TARGET_MAX    4 KiB of request-target analysed; the rest is dropped (anomaly).
// Giving up emits every pending transaction (at end()) with its anomalies.
#ifndef IASO_PROTO_HTTP_H
#define IASO_PROTO_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/filehash.h"
#include "proto/phi.h"
#include "proto/proto.h"

#define HTTP_LINE_MAX 8192      /* longest line Apache/nginx accept by default; caps scanning */
#define HTTP_HEADERS_MAX 100    /* the common server limit (Apache LimitRequestFields) */
#define HTTP_PENDING_MAX 32     /* deeper pipelining than any browser or client library uses */
#define HTTP_TARGET_MAX 4096    /* enough for real FHIR search URLs; caps the scratch buffer */
#define HTTP_URL_MAX 1024       /* the url written to the event, after query values are dropped */
#define HTTP_REFERER_MAX 512    /* Referer, sanitised like url */
#define HTTP_FIELD_MAX 256      /* hostname, user agent */
#define HTTP_CTYPE_MAX 96       /* content types: "application/fhir+json; charset=utf-8" fits */
#define HTTP_METHOD_MAX 24      /* longest registered method is 17 bytes (VERSION-CONTROL...) */
#define HTTP_PROTO_MAX 16       /* "HTTP/1.1" */
#define HTTP_FHIR_PARAMS_MAX 24 /* names kept per request; FHIR searches rarely use more */
#define HTTP_FHIR_NAMES_LEN 384 /* bytes for those names, NUL-separated */
#define HTTP_FHIR_OP_MAX 64     /* "$everything", "$validate", ... */

enum http_event_kind { HTTP_EVENT_TXN = 1 };

/* Anomaly bits of a transaction (event "anomalies": [names]). */
enum http_anomaly {
    HTTP_ANOM_NO_RESPONSE = 1u << 0,      /* flow ended before any response */
    HTTP_ANOM_RESP_INCOMPLETE = 1u << 1,  /* flow ended inside the response */
    HTTP_ANOM_REQ_INCOMPLETE = 1u << 2,   /* the response ended before the request did */
    HTTP_ANOM_LINE_TOO_LONG = 1u << 3,    /* a line over HTTP_LINE_MAX */
    HTTP_ANOM_TOO_MANY_HEADERS = 1u << 4, /* over HTTP_HEADERS_MAX */
    HTTP_ANOM_URL_TRUNCATED = 1u << 5,    /* target over HTTP_TARGET_MAX or url over max */
    HTTP_ANOM_BAD_CHUNK = 1u << 6,        /* malformed chunk size or framing */
    HTTP_ANOM_GAP = 1u << 7,              /* bytes missing from the capture */
    HTTP_ANOM_PENDING_OVERFLOW = 1u << 8, /* over HTTP_PENDING_MAX pipelined requests */
    HTTP_ANOM_NO_REQUEST = 1u << 9,       /* a response with no request seen */
    HTTP_ANOM_BAD_HEADER = 1u << 10,      /* header line without a colon, folded line */
    HTTP_ANOM_BAD_LENGTH = 1u << 11,      /* unparsable or conflicting Content-Length */
    HTTP_ANOM_FIELD_TRUNCATED = 1u << 12, /* host/user agent/content type cut to its max */
    HTTP_ANOM_BAD_LINE = 1u << 13,        /* malformed request or status line: gave up */
};

/* FHIR interactions (http.fhir.interaction). */
enum http_fhir_interaction {
    HTTP_FHIR_NONE = 0,
    HTTP_FHIR_READ,
    HTTP_FHIR_VREAD,
    HTTP_FHIR_UPDATE,
    HTTP_FHIR_PATCH,
    HTTP_FHIR_DELETE,
    HTTP_FHIR_HISTORY,
    HTTP_FHIR_CREATE,
    HTTP_FHIR_SEARCH_TYPE,
    HTTP_FHIR_SEARCH_SYSTEM,
    HTTP_FHIR_SEARCH_COMPARTMENT,
    HTTP_FHIR_CAPABILITIES,
    HTTP_FHIR_BATCH,
    HTTP_FHIR_OPERATION,
    HTTP_FHIR_UNKNOWN,
};

/*
 * One request/response pair: the data of an HTTP_EVENT_TXN event. Holds no clear patient data:
 * url has its query values dropped and a Patient id pseudonymised; fhir_id likewise.
 */
struct http_txn {
    struct http_txn *next; /* owned by the parser's pending FIFO */
    char method[HTTP_METHOD_MAX];
    char protocol[HTTP_PROTO_MAX];
    char hostname[HTTP_FIELD_MAX];
    char user_agent[HTTP_FIELD_MAX];
    char req_ctype[HTTP_CTYPE_MAX];
    char resp_ctype[HTTP_CTYPE_MAX];
    char url[HTTP_URL_MAX];
    char referer[HTTP_REFERER_MAX]; /* sanitised like url once its header line ends */
    bool referer_raw;               /* private: referer still as received */
    uint16_t status;                /* 0: no final response */
    bool has_request, req_done, resp_done, chunked;
    uint32_t anomalies; /* enum http_anomaly bits */
    uint64_t req_body_len, resp_body_len;
    /* FHIR, from the target at the end of the request line; is_fhir decided at emit time. */
    bool fhir_path; /* a resource type, /metadata, $op or _history found after a base */
    bool fhir_base; /* the path is a known FHIR base with nothing after it */
    bool is_fhir;   /* set before emit: fhir_path, fhir_base + FHIR ctype, or FHIR ctype */
    uint8_t fhir_interaction; /* enum http_fhir_interaction, set before emit */
    const char *fhir_type;    /* static string from the resource table, or NULL */
    uint8_t fhir_shape;       /* private: the path's shape after the base */
    char fhir_id[PHI_VALUE_MAX];
    char fhir_op[HTTP_FHIR_OP_MAX];
    uint8_t n_params;
    char params[HTTP_FHIR_NAMES_LEN]; /* n_params NUL-terminated names, back to back */
    /* Digests of the bodies that passed whole; .done false otherwise or when not asked for. */
    struct filehash_digest req_file, resp_file;
};

extern const struct proto_parser http_parser;

/* Exposed for tests: the name of an interaction ("read", "search-type", ...), or NULL. */
const char *http_fhir_interaction_name(int interaction);

#endif
