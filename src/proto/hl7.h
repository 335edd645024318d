// SPDX-License-Identifier: Apache-2.0
// HL7 v2 parser: messages over MLLP (0x0B message 0x1C 0x0D) and HL7 sent without MLLP, with
// batches (FHS/BHS ... BTS/FTS).
//
// Each direction is followed on its own by a resumable byte-at-a-time state machine. Outside an
// MLLP frame, 0x0B always starts a frame (so garbage between frames is skipped and counted, and
// the parser resynchronises on the next start block); 0x1C ends it. Bytes that are not inside a
// frame are read as HL7 without MLLP: a segment starting "MSH" (or "FHS"/"BHS") with a plausible
// field separator opens a message, and each new MSH at a segment start ends the one before.
// Segments end with CR, LF or CRLF. Only the first HL7_SEG_KEEP bytes of a segment are kept for
// field extraction, so memory per direction is fixed whatever the message size; the message is
// never buffered whole. MSH-1 and MSH-2 (field separator and encoding characters) are honoured
// when splitting fields, components and repetitions.
//
// Events (struct hl7_message, struct hl7_batch):
//   HL7_EVENT_MESSAGE  one per HL7 message, emitted when it ends (end block, next MSH, batch
//                      trailer, gap or end of flow). MSA and ERR of acknowledgements are folded
//                      into it (ack_code, ack_control_id, has_err): an ACK is a message too.
//   HL7_EVENT_BATCH    one per batch (FHS or BHS header), after its messages: the header facts,
//                      the number of messages seen and the trailer's count.
//
// Patient data: PID-3 (ID component of each repetition), PID-2 (when PID-3 is empty), PID-5,
// PID-7, PID-11, PID-13, PID-14, PID-19 and MRG-1 are only ever stored as pseudonyms
// (phi_pseudonymise); no other PID/MRG/NK1/OBX value reaches an event.
//
// Limits, and what happens past them:
//   HL7_MSG_MAX       1 MiB per MLLP frame, or per message without MLLP: the message is flagged
//                     oversize and the rest of the frame is skipped to the next end block (without
//                     MLLP: segments are ignored until the next MSH/FHS/BHS).
//   HL7_SEG_KEEP      4 KiB kept of each segment; the rest is counted, not read (seg_truncated).
//   HL7_SEG_IDS_MAX   64 segment ids listed per message; the rest are counted (segments_more).
//   HL7_PATIENT_IDS_MAX 4 repetitions of PID-3 pseudonymised; fields past PID-19 are never split.
// Values written to events are cut to HL7_STR_MAX - 1 bytes. Lines without a valid segment id
// (free text cut by a stray LF) are counted in bad_segments and never listed: they may hold
// patient data. Fields are split on demand up to the highest one read (PID-19), never all.
#ifndef IASO_PROTO_HL7_H
#define IASO_PROTO_HL7_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/phi.h"
#include "proto/proto.h"

#define HL7_MSG_MAX (1u << 20) /* far above real ADT/ORU sizes; bounds a message's accounting */
#define HL7_SEG_KEEP 4096      /* MSH/PID/MRG/MSA fields we read sit well inside this */
#define HL7_SEG_IDS_MAX 64     /* more than a typical ORU lists; caps the event */
#define HL7_PATIENT_IDS_MAX 4  /* MRN, visit, national id... real PID-3 lists are short */
#define HL7_STR_MAX 96         /* application names, control ids: HL7 caps most at 20-227 */

enum hl7_event_kind { HL7_EVENT_MESSAGE = 1, HL7_EVENT_BATCH = 2 };

/* A value from the wire, cut to HL7_STR_MAX - 1 bytes. Not NUL-terminated. */
struct hl7_str {
    uint8_t len;
    char s[HL7_STR_MAX];
};

/* A hierarchic designator (MSH-3..6): namespace id (first component) and the full value. */
struct hl7_hd {
    struct hl7_str ns;
    struct hl7_str full;
};

struct hl7_message {
    bool is_mllp;
    bool in_batch;
    bool oversize;         /* over HL7_MSG_MAX: the rest was skipped */
    bool unterminated;     /* MLLP frame cut by a new start block, a gap or the end of flow */
    bool seg_truncated;    /* a segment was longer than HL7_SEG_KEEP */
    bool has_msa, has_err; /* acknowledgement segments */
    char field_sep;
    uint8_t enc_len;
    char enc[5]; /* MSH-2 as sent (up to 5 characters: v2.7 adds truncation) */
    struct hl7_hd sending_application, sending_facility;
    struct hl7_hd receiving_application, receiving_facility;
    struct hl7_str date_time, message_type, trigger_event, message_structure;
    struct hl7_str control_id, processing_id, version;
    struct hl7_str ack_code, ack_control_id;
    uint32_t n_segments;     /* segments with a valid id, MSH included */
    uint32_t n_bad_segments; /* lines without a valid segment id: counted, never listed */
    uint8_t n_ids;
    char ids[HL7_SEG_IDS_MAX][4]; /* NUL-terminated segment ids, in order */
    /* Pseudonyms (or opted-in clear values), NUL-terminated; empty when absent. */
    uint8_t n_patient_ids;
    char patient_ids[HL7_PATIENT_IDS_MAX][PHI_VALUE_MAX];
    char patient_name[PHI_VALUE_MAX];
    char birth_date[PHI_VALUE_MAX];
    char address[PHI_VALUE_MAX];
    char phone_home[PHI_VALUE_MAX];
    char phone_business[PHI_VALUE_MAX];
    char ssn[PHI_VALUE_MAX];
    char prior_patient_id[PHI_VALUE_MAX];
    uint64_t length;        /* bytes from "MSH" to the last segment terminator */
    uint64_t skipped_bytes; /* garbage skipped in this direction before this message */
};

struct hl7_batch {
    bool is_mllp;
    bool closed;    /* its trailer (BTS or FTS) was seen */
    bool has_count; /* the trailer carried a message count */
    char header[4]; /* "FHS" or "BHS" */
    struct hl7_hd sending_application, sending_facility;
    struct hl7_hd receiving_application, receiving_facility;
    struct hl7_str date_time, name, control_id, reference;
    uint32_t n_messages;
    uint32_t n_batches; /* BHS headers inside a file (FHS) */
    uint32_t trailer_count;
};

extern const struct proto_parser hl7_parser;

#endif
