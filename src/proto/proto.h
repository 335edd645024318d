// SPDX-License-Identifier: Apache-2.0
// The application-protocol parsers and the one table that registers them.
//
// A parser is pure: bytes in, events out. It does no I/O, keeps no globals, reads no clock and
// logs nothing; it is fed the reassembled, in-order byte stream of each direction of a TCP flow
// (or each UDP datagram), in pieces of any size down to one byte, and must give the same events
// whatever the split. Every count and length an attacker controls is capped (each parser's
// header names its limits and why). A parser that meets bytes it cannot follow gives up on that
// flow (returns a negative code, counted by the caller) rather than guess.
//
// Events are typed structs of the parser's own (see dicom.h, hl7.h, ...), handed to ctx->emit
// for the duration of the call. The caller turns them into EVE JSON with the parser's eve()
// function and feeds them to the inventory and, later, the detectors.
//
// Patient data: every patient identifier a parser meets (names, IDs, birth dates, addresses, ...)
// is passed through ctx->phi (phi.h) before it is put in an event, so no event carries one in
// clear unless the operator opted in.
#ifndef IASO_PROTO_PROTO_H
#define IASO_PROTO_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/jsonw.h"
#include "proto/phi.h"

enum proto_id {
    PROTO_NONE = 0,
    PROTO_DICOM,
    PROTO_HL7,
    PROTO_HTTP,
    PROTO_DNS,
    PROTO_TLS,
    PROTO_SMB2,
    PROTO_RDP,
    PROTO_COUNT
};

/* Directions, as in wire/flow.h: 0 client to server, 1 server to client. */
#define PROTO_TOSERVER 0
#define PROTO_TOCLIENT 1

/* What probe() says of the first bytes of a direction. */
enum proto_probe {
    PROTO_PROBE_NO = 0,   /* not this protocol */
    PROTO_PROBE_YES,      /* this protocol, by its grammar */
    PROTO_PROBE_NEED_MORE /* cannot tell yet: call again with more bytes (up to 64) */
};

/* One event. `data` points to the parser's own struct for `kind`, valid during emit() only. */
struct proto_event {
    enum proto_id proto;
    int kind; /* parser-specific enum */
    int dir;  /* direction of the bytes that completed the event */
    uint64_t ts_us;
    const void *data;
};

/* Digests of whole files (HTTP bodies, SMB2 files) for ctx->file_hashes; see filehash.h. */
#define PROTO_HASH_MD5 1u
#define PROTO_HASH_SHA1 2u
#define PROTO_HASH_SHA256 4u

struct proto_ctx {
    void (*emit)(void *user, const struct proto_event *ev);
    void *user;
    const struct phi *phi; /* never NULL */
    bool udp;              /* the bytes of this call are one UDP datagram (else TCP stream) */
    /* PROTO_HASH_* bits: the digests of whole files to put in events; 0 (the default) computes
     * none and allocates nothing for them. A file is hashed as it streams by, with a few digest
     * contexts per flow at most (http.h, smb2.h), counted against the memory cap (filehash.h). */
    uint8_t file_hashes;
};

struct proto_parser {
    const char *name; /* EVE event_type and JSON key: "dicom", "hl7", ... */
    enum proto_id id;
    bool tcp, udp;         /* transports it runs over */
    const uint16_t *ports; /* ports that make a probe worth trying first; 0-terminated */

    /*
     * Looks at the first bytes the client (dir 0) or server (dir 1) sent. Pure and cheap: the
     * caller tries parsers in turn on flows whose protocol is not known yet.
     */
    enum proto_probe (*probe)(const uint8_t *data, size_t len, int dir);

    size_t state_len;          /* per-flow state, allocated and zeroed by the caller */
    void (*init)(void *state); /* may be NULL when zeroed memory is a valid state */

    /*
     * Parses the next bytes of direction dir (TCP: stream bytes in order; UDP: one whole
     * datagram). Returns 0, or a negative code when the parser gives up on the flow; after that
     * it is only called for end().
     */
    int (*parse)(void *state, const struct proto_ctx *ctx, int dir, const uint8_t *data, size_t len,
                 uint64_t ts_us);

    /* len bytes of direction dir were never captured. 0 if the parser can resynchronise (or
     * does not care), negative to give up. NULL: gaps make the caller give up for the parser. */
    int (*gap)(void *state, const struct proto_ctx *ctx, int dir, size_t len);

    /* The flow ended: emit what was pending (per-association totals, ...), free what the state
     * owns. Called once, also after parse() gave up. */
    void (*end)(void *state, const struct proto_ctx *ctx, uint64_t ts_us);

    /* Writes the event's fields as members of the object under the parser's name, e.g.
     * "command":"C-FIND","sop_class":"..." (the caller writes "dicom":{ and }). */
    void (*eve)(const struct proto_event *ev, struct jsonw *w);
};

/*
 * Heap memory of parser state, counted against a cap so a flood of connections cannot take all
 * memory. Parsers allocate with proto_malloc/calloc/realloc/free only; each block carries its
 * size, so proto_free needs none. The caller points the calling thread at its accountant with
 * proto_mem_use() before calling into parsers; past the cap an allocation fails (NULL), which a
 * parser treats like any allocation failure: it gives up on the flow, and the refusal is
 * counted. Without an accountant (unit tests, fuzzing) allocation is not capped.
 */
struct proto_mem {
    uint64_t used;     /* bytes held now, block headers included */
    uint64_t used_max; /* the most ever held */
    uint64_t cap;      /* 0: no cap */
    uint64_t n_refused;
};

/* Sets the calling thread's accountant (NULL for none). */
void proto_mem_use(struct proto_mem *m);
void *proto_malloc(size_t len);
void *proto_calloc(size_t n, size_t len);
void *proto_realloc(void *ptr, size_t len);
void proto_free(void *ptr); /* NULL is fine */

/* The registry, indexed by enum proto_id; NULL where a parser is not built in. */
extern const struct proto_parser *const proto_parsers[PROTO_COUNT];

const struct proto_parser *proto_by_name(const char *name);

/* The protocol's name ("dicom", ...; "other" for PROTO_NONE), whether or not it is built in. */
const char *proto_name(enum proto_id id);

#endif
