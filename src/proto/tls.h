// SPDX-License-Identifier: Apache-2.0
// TLS handshake parser: ClientHello (SNI, ALPN, versions, JA3, JA4), ServerHello (negotiated
// version and cipher suite, ALPN, JA3S) and the server's first certificate while the handshake
// is still in clear (TLS 1.2 and older).
//
// Each direction is read as TLS records; handshake messages are reassembled across records and
// across stream pieces. A direction stops being parsed once it becomes encrypted (its
// ChangeCipherSpec or an application_data record; both directions after a TLS 1.3 ServerHello),
// and the rest of the flow is ignored quietly (after a TLS 1.3 HelloRetryRequest the client's
// ChangeCipherSpec is only for middleboxes, and its second ClientHello is read too). Records that
// do not look like TLS make the parser give up on the flow.
//
// Fingerprints follow their published definitions: JA3/JA3S (Salesforce: decimal values,
// GREASE removed, MD5) and JA4 (FoxIO: "t13d1516h2_<sha256/12 of sorted ciphers>_<sha256/12 of
// sorted extensions without SNI and ALPN, '_', signature algorithms in order>").
//
// Events (struct proto_event.kind, data):
//   TLS_EVENT_CLIENT_HELLO  struct tls_client_hello
//   TLS_EVENT_SERVER_HELLO  struct tls_server_hello
//   TLS_EVENT_CERTIFICATE   struct tls_certificate
// Pointers in the event structs borrow the parser's buffers and are valid during emit() only.
//
// Limits: a handshake message is assembled up to TLS_MSG_MAX bytes, in a buffer grown as its
// bytes arrive and freed once it is parsed (at most one per direction; a longer ClientHello or
// ServerHello makes the parser give up; of a longer Certificate the first TLS_MSG_MAX bytes are
// kept, which hold the first certificate in practice); each list of a hello (ciphers,
// extensions, groups, ...) is fingerprinted over its first TLS_LIST_MAX values (the event says
// `truncated`).
#ifndef IASO_PROTO_TLS_H
#define IASO_PROTO_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/bytes.h"
#include "proto/proto.h"

/* The largest handshake message we assemble: a ClientHello with post-quantum key shares is
 * ~2 KiB, certificate chains a few KiB; 64 KiB holds all real ones and bounds the memory. */
#define TLS_MSG_MAX 65536
/* Values per list kept for fingerprints: real clients send at most ~70 cipher suites and ~25
 * extensions; an attacker can choose any fingerprint anyway, so a cap costs no accuracy. */
#define TLS_LIST_MAX 256
/* JA3 strings: up to 4 lists of TLS_LIST_MAX values of up to 6 characters, plus the version. */
#define TLS_JA3_MAX (4 * TLS_LIST_MAX * 6 + 16)
#define TLS_JA4_LEN 36
#define TLS_TIME_MAX 24 /* "YYYY-MM-DDTHH:MM:SS" and a NUL */
/* Certificate names and serials as text, cut to this length (RFC 5280 names are rarely longer
 * than 300 characters). */
#define TLS_NAME_MAX 512

enum tls_event_kind {
    TLS_EVENT_CLIENT_HELLO = 1,
    TLS_EVENT_SERVER_HELLO,
    TLS_EVENT_CERTIFICATE,
};

struct tls_client_hello {
    uint16_t legacy_version; /* the version field of the hello */
    uint16_t version;        /* highest non-GREASE supported_versions value, else legacy */
    struct bytes sni;        /* host_name of server_name; empty if none */
    struct bytes alpn;       /* ALPN protocol_name_list (validated), empty if none */
    uint32_t n_ciphers;      /* on the wire, GREASE included */
    uint32_t n_extensions;   /* on the wire, GREASE included */
    bool truncated;          /* a list had more than TLS_LIST_MAX values */
    const char *ja3;         /* the JA3 string, NUL-terminated */
    char ja3_hash[33];
    char ja4[TLS_JA4_LEN + 1];
};

struct tls_server_hello {
    uint16_t legacy_version;
    uint16_t version; /* supported_versions (TLS 1.3) or legacy */
    uint16_t cipher_suite;
    bool hello_retry;  /* a TLS 1.3 HelloRetryRequest */
    struct bytes alpn; /* the protocol chosen (TLS 1.2 and older: in clear), empty if none */
    const char *ja3s;  /* the JA3S string, NUL-terminated */
    char ja3s_hash[33];
};

struct tls_certificate {
    uint32_t n_certs;           /* certificates seen in the (possibly cut) chain */
    char subject[TLS_NAME_MAX]; /* RFC 4514 string of the first certificate */
    char issuer[TLS_NAME_MAX];
    char serial[TLS_NAME_MAX];     /* hex bytes, colon-separated, as Suricata writes it */
    char not_before[TLS_TIME_MAX]; /* "YYYY-MM-DDTHH:MM:SS" (UTC) */
    char not_after[TLS_TIME_MAX];
};

/* "TLS 1.2", "SSLv3", ... or NULL for values without a name. */
const char *tls_version_name(uint16_t v);
/* The IANA name of a common cipher suite, or NULL. */
const char *tls_cipher_name(uint16_t id);

extern const struct proto_parser tls_parser;

#endif
