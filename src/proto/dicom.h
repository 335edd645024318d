// SPDX-License-Identifier: Apache-2.0
// DICOM upper layer (PS3.8) and DIMSE (PS3.7) parser: association negotiation, release and
// abort, every DIMSE command message with its main fields, the device facts and (pseudonymised)
// patient identifiers of stored objects, the keys of C-FIND/C-MOVE/C-GET queries, and a summary
// per association.
//
// Each direction is read as upper-layer PDUs: a 6-byte header state machine, then the body.
// Non-P-DATA PDUs are assembled (at most DICOM_PDU_MAX bytes) and decoded whole. P-DATA-TF is
// streamed: presentation data value (PDV) headers are read as they come, command fragments are
// assembled into a command set (at most DICOM_COMMAND_MAX bytes, always implicit VR little
// endian), and data-set fragments go through a streaming element reader that keeps only the
// values it wants (at most DICOM_VALUE_MAX bytes each) and counts the rest (pixel data is never
// buffered). The transfer syntax of a data set comes from the presentation context accepted in
// the A-ASSOCIATE-AC (implicit VR LE, explicit VR LE, explicit VR BE; deflated and unknown ones
// are only counted). Sequences, items and undefined lengths are walked with an explicit stack of
// at most DICOM_DEPTH_MAX levels (no recursion); encapsulated pixel data fragments are skipped.
//
// A command with a data set is emitted when its data set ends (its last fragment), so the event
// carries what the data set told: for C-STORE-RQ the leading elements up to SoftwareVersions
// (0018,1020) are read, then the rest is only counted; for C-FIND/C-MOVE/C-GET-RQ every
// top-level element of the identifier is a query key. Responses' data sets (C-FIND matches, ...)
// are counted, never read: they are patient data. Query keys inside the items of a top-level
// sequence (the worklist's ScheduledProcedureStepSequence) are listed as "Sequence.Keyword";
// deeper ones are not.
//
// Patient data: PatientName, PatientID, PatientBirthDate of stored objects and exact patient
// keys of queries are pseudonymised with ctx->phi. Query keys the parser does not know are
// treated as patient data too (their exact values are pseudonymised as PHI_OTHER).
//
// Events (struct proto_event.kind, data):
//   DICOM_EVENT_ASSOCIATE_RQ   struct dicom_associate   (A-ASSOCIATE-RQ)
//   DICOM_EVENT_ASSOCIATE_AC   struct dicom_associate   (A-ASSOCIATE-AC)
//   DICOM_EVENT_ASSOCIATE_RJ   struct dicom_reject
//   DICOM_EVENT_RELEASE        struct dicom_release     (A-RELEASE-RQ and -RP)
//   DICOM_EVENT_ABORT          struct dicom_abort
//   DICOM_EVENT_DIMSE          struct dicom_dimse       (one per command message)
//   DICOM_EVENT_ASSOCIATION    struct dicom_association (at release, abort, reject, flow end or
//                                                       give-up)
// Pointers in the event structs borrow the parser's buffers and are valid during emit() only.
//
// Give-ups (parse() returns a negative code, which the caller counts): an unknown PDU type, a
// non-P-DATA PDU longer than DICOM_PDU_MAX, items that overrun their PDU, more than
// DICOM_CONTEXTS_MAX presentation contexts or DICOM_ITEMS_MAX items, a PDV that overruns its PDU,
// a command set longer than DICOM_COMMAND_MAX or malformed, sequences nested deeper than
// DICOM_DEPTH_MAX, and gaps in the stream except inside a data-set fragment (those bytes are
// counted, and the rest of that data set is no longer read).
//
// Memory: state_len is a pointer and a flag; the first parse() allocates ~28 KiB per flow (per
// direction a pending DIMSE message with its query keys and a data-set reader; the context
// table), plus buffers as large as the largest non-P-DATA PDU (at most DICOM_PDU_MAX) and
// command set (at most DICOM_COMMAND_MAX) seen. Data sets are never buffered. end() frees it.
#ifndef IASO_PROTO_DICOM_H
#define IASO_PROTO_DICOM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/bytes.h"
#include "proto/phi.h"
#include "proto/proto.h"

/* A-ASSOCIATE-RQ/AC with 128 contexts of ~20 transfer syntaxes each is ~ 60 KiB; release,
 * reject and abort PDUs are 10 bytes. Longer non-P-DATA PDUs are not DICOM. */
#define DICOM_PDU_MAX 65536
/* Presentation context IDs are odd numbers 1..255 (PS3.8 9.3.2.2): at most 128 contexts. */
#define DICOM_CONTEXTS_MAX 128
/* Items and sub-items in one association PDU: 128 contexts plus application context and user
 * information with their sub-items (SOP class extended negotiation may repeat per context). */
#define DICOM_ITEMS_MAX 512
/* Command sets are ~100-300 bytes (group 0000 only); 64 KiB bounds the assembly buffer. */
#define DICOM_COMMAND_MAX 65536
/* Values kept per element: AE 16, UI 64, LO 64, PN up to 3 x 64 characters; longer values are
 * cut (a cut patient name gives another pseudonym than the whole one). */
#define DICOM_VALUE_MAX 128
/* Query keys listed per query: real identifiers have 5-30 keys. */
#define DICOM_KEYS_MAX 48
/* Undefined-length sequences and items we are inside (each nested sequence counts 2): 32 nested
 * sequences, more than the deepest structured-report trees; the counter costs no memory. */
#define DICOM_DEPTH_MAX 64
#define DICOM_UID_MAX 65 /* 64 characters (PS3.5 9.1) and a NUL */
#define DICOM_AE_MAX 17  /* 16 characters and a NUL */

enum dicom_event_kind {
    DICOM_EVENT_ASSOCIATE_RQ = 1,
    DICOM_EVENT_ASSOCIATE_AC,
    DICOM_EVENT_ASSOCIATE_RJ,
    DICOM_EVENT_RELEASE,
    DICOM_EVENT_ABORT,
    DICOM_EVENT_DIMSE,
    DICOM_EVENT_ASSOCIATION,
};

enum dicom_pdu_type {
    DICOM_PDU_ASSOCIATE_RQ = 0x01,
    DICOM_PDU_ASSOCIATE_AC = 0x02,
    DICOM_PDU_ASSOCIATE_RJ = 0x03,
    DICOM_PDU_P_DATA = 0x04,
    DICOM_PDU_RELEASE_RQ = 0x05,
    DICOM_PDU_RELEASE_RP = 0x06,
    DICOM_PDU_ABORT = 0x07,
};

/* One presentation context of an A-ASSOCIATE-RQ (abstract syntax, proposed transfer syntaxes)
 * or -AC (result, accepted transfer syntax). */
struct dicom_pctx {
    uint8_t id;
    uint8_t result;                 /* AC: 0 acceptance, 1 user rejection, 2 no reason,
                                       3 abstract syntax not supported, 4 transfer syntaxes
                                       not supported */
    struct bytes abstract_syntax;   /* RQ: the UID, padding removed */
    struct bytes transfer_syntaxes; /* the raw 0x40 sub-items (validated); iterate with
                                       dicom_pctx_ts() */
    uint32_t n_transfer_syntaxes;
};

/* A-ASSOCIATE-RQ and -AC. */
struct dicom_associate {
    uint8_t pdu_type; /* DICOM_PDU_ASSOCIATE_RQ or _AC */
    uint16_t protocol_version;
    char calling_ae[DICOM_AE_MAX]; /* spaces trimmed */
    char called_ae[DICOM_AE_MAX];
    /* AC: the calling and called AE titles of the request it accepts (the AC's own fields are
     * echoes that receivers must not check, and some senders fill them with anything); for a
     * capture that starts at the AC, the AC's own. NULL in an RQ. */
    const char *request_calling_ae;
    const char *request_called_ae;
    struct bytes application_context;
    uint32_t n_contexts;
    const struct dicom_pctx *contexts; /* borrowed */
    bool has_max_pdu;
    uint32_t max_pdu; /* 0: no limit */
    struct bytes implementation_class_uid;
    struct bytes implementation_version_name;
    uint8_t user_identity_type; /* RQ: 1 username, 2 +passcode, 3 Kerberos, 4 SAML, 5 JWT;
                                   0 none. The identity itself is never put in the event. */
    uint32_t n_role_selections;
    uint32_t n_extended_negotiations;
};

/* The i-th transfer syntax of a context (0 <= i < n_transfer_syntaxes). */
struct bytes dicom_pctx_ts(const struct dicom_pctx *pc, uint32_t i);

struct dicom_reject {
    uint8_t result; /* 1 permanent, 2 transient */
    uint8_t source; /* 1 service user, 2 service provider (ACSE), 3 (presentation) */
    uint8_t reason;
};

struct dicom_release {
    uint8_t pdu_type; /* DICOM_PDU_RELEASE_RQ or _RP */
};

struct dicom_abort {
    uint8_t source; /* 0 service user, 2 service provider */
    uint8_t reason;
};

enum dicom_match {
    DICOM_MATCH_UNIVERSAL = 0, /* empty or "*": return this attribute */
    DICOM_MATCH_WILDCARD,      /* contains '*' or '?' */
    DICOM_MATCH_RANGE,         /* date/time range "a-b" */
    DICOM_MATCH_LIST,          /* UID list "a\b" */
    DICOM_MATCH_EXACT,
    DICOM_MATCH_SEQUENCE, /* a sequence key (its items are not listed) */
};

struct dicom_key {
    uint32_t tag;               /* group << 16 | element */
    const char *keyword;        /* "PatientName", ...; NULL for tags without a name here */
    uint32_t parent_tag;        /* the top-level sequence whose item holds the key, or 0 */
    const char *parent_keyword; /* its keyword, or NULL */
    enum dicom_match match;
    bool is_patient;           /* the value, if any, is a pseudonym */
    char value[PHI_VALUE_MAX]; /* non-patient keys: the value; patient keys: the pseudonym of an
                                  exact value; empty otherwise */
};

/* Bits of dicom_dimse.has */
enum {
    DICOM_HAS_MESSAGE_ID = 1u << 0,
    DICOM_HAS_RESPONDED_TO = 1u << 1,
    DICOM_HAS_PRIORITY = 1u << 2,
    DICOM_HAS_STATUS = 1u << 3,
    DICOM_HAS_DATA_SET_TYPE = 1u << 4,
    DICOM_HAS_REMAINING = 1u << 5,
    DICOM_HAS_COMPLETED = 1u << 6,
    DICOM_HAS_FAILED = 1u << 7,
    DICOM_HAS_WARNING = 1u << 8,
    DICOM_HAS_COMMAND_FIELD = 1u << 9,
};

/* One DIMSE message: its command set and what its data set told. */
struct dicom_dimse {
    uint8_t pc_id;
    uint32_t has; /* DICOM_HAS_* */
    uint16_t command_field;
    uint16_t message_id;
    uint16_t responded_to; /* MessageIDBeingRespondedTo */
    uint16_t priority;     /* 0 medium, 1 high, 2 low */
    uint16_t status;
    uint16_t data_set_type; /* 0x0101: no data set */
    uint16_t n_remaining, n_completed, n_failed, n_warning;
    char affected_sop_class[DICOM_UID_MAX];
    char move_destination[DICOM_AE_MAX];
    char error_comment[DICOM_VALUE_MAX];

    /* The data set, if any. */
    bool has_data_set;
    bool data_set_complete; /* its last fragment was seen */
    bool data_set_parsed;   /* its transfer syntax was known and it was read */
    uint64_t data_set_len;  /* bytes */

    /* C-STORE-RQ: device facts (clear) and patient identifiers (pseudonyms); empty if absent. */
    char sop_class[DICOM_UID_MAX];
    char modality[DICOM_VALUE_MAX];
    char manufacturer[DICOM_VALUE_MAX];
    char model[DICOM_VALUE_MAX];
    char station_name[DICOM_VALUE_MAX];
    char software_versions[DICOM_VALUE_MAX];
    char device_serial_number[DICOM_VALUE_MAX];
    char patient_name[PHI_VALUE_MAX];
    char patient_id[PHI_VALUE_MAX];
    char patient_birth_date[PHI_VALUE_MAX];

    /* C-FIND/C-MOVE/C-GET-RQ: the identifier. */
    char query_level[DICOM_VALUE_MAX];
    uint32_t n_keys;
    bool keys_truncated; /* more than DICOM_KEYS_MAX keys */
    struct dicom_key keys[DICOM_KEYS_MAX];
};

/* Per association, emitted once it ends. */
struct dicom_association {
    char calling_ae[DICOM_AE_MAX];
    char called_ae[DICOM_AE_MAX];
    const char *end; /* "release", "abort", "reject", "flow_end" or "parse_error" (the parser
                        gave up on the flow) */
    bool accepted;
    uint32_t n_echo, n_store, n_find, n_move, n_get, n_other; /* requests */
    uint32_t n_failures;                                      /* responses with a failure status */
    uint64_t store_bytes;                                     /* data-set bytes of C-STORE-RQs */
    uint64_t pdata_bytes[2]; /* P-DATA-TF PDU bytes, by direction */
};

/* Names: a UID's keyword ("CTImageStorage", ...) or NULL; a command field's name ("C-STORE-RQ")
 * or NULL; a status code's category ("success", "pending", "cancel", "warning", "failure"). */
const char *dicom_uid_name(const char *uid, size_t len);
const char *dicom_command_name(uint16_t command_field);
const char *dicom_status_category(uint16_t status);

extern const struct proto_parser dicom_parser;

#endif
