// SPDX-License-Identifier: Apache-2.0
// The baseline: who talks to whom on this network. Hospital networks are stable (the same
// modalities send to the same PACS, the same HIS feeds the same LIS), so a pair of peers never
// seen before is worth a look. The sensor learns pairs of five kinds from protocol events:
//
//   dicom       CLIENT CALLING_AE SERVER CALLED_AE      an accepted association (A-ASSOCIATE-AC;
//                                                       rejected guesses are DICOM_AE_GUESSING's)
//   dicom-move  SERVER DESTINATION_AE                   a C-MOVE-RQ naming a move destination
//   hl7         SENDER SENDING_APP SENDING_FACILITY RECEIVER RECEIVING_APP RECEIVING_FACILITY
//                                                       a message in the direction it was sent
//                                                       (acknowledgements are not pairs)
//   rdp         CLIENT SERVER                           an X.224 Connection Request
//   smb         CLIENT SERVER SHARE                     a tree connect that did not fail (the
//                                                       share's last path component, upper case)
//
// CLIENT, SERVER, SENDER and RECEIVER are addresses; the rest are AE titles, HL7 namespace ids
// and share names, cut at BASELINE_FIELD_MAX bytes. Nothing else is kept: no patient data.
//
// Learning. While learning (--learn, or automatically for auto_learn_us of traffic time from the
// first event when the file did not exist yet) new pairs are recorded silently as "learned". A
// run with --learn stands in for the automatic period: the next run without it alerts.
// Afterwards a new pair is recorded as "pending" and raises its alert once per run (a pending
// pair loaded from the file alerts again, once, in the next run, until an operator accepts it).
// HL7 from a new sender raises BASE_HL7_NEW_PATIENT_UPDATE instead of BASE_HL7_NEW for patient
// updates and merges (ADT A08, A31, A34 ...), also when the pair was already pending.
//
// The file (docs/baseline.md) is text, one pair a line, tab-separated and sorted, written
// atomically. The operator's tool (`iaso sensor baseline accept|remove`) edits the same file while
// a sensor runs: every save first takes a lock (PATH.lock), re-reads the file if someone else
// wrote it since this process last read or wrote it, and merges what changed there (states the
// operator set, pairs added or removed by hand, notes, the learning line) before writing.
// Removals travel as "removed" lines (tombstones) that the sensor applies and then drops.
//
// Memory: at most pairs_max pairs (each ~100 bytes plus its strings, in a hash table of pointers
// at most half full); a new pair past the cap is counted as dropped, and outside learning still
// alerted (so flooding the baseline first cannot blind it), but not remembered.
//
// Thread safety: baseline_event() and baseline_stats() may be called from any number of threads
// at once (one mutex; the events that carry pairs are few next to the packets). baseline_save()
// may run beside them (one save at a time; it holds the mutex only to merge and to copy the
// pairs' counters, and formats and writes without it).
// The editing calls (baseline_set, baseline_remove, baseline_accept_pending) are for a baseline
// no other thread uses (the command-line tool).
#ifndef IASO_DETECT_BASELINE_H
#define IASO_DETECT_BASELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/error.h"
#include "detect/alert.h"
#include "proto/proto.h"
#include "wire/flow.h"

#define BASELINE_PAIRS_MAX_DEFAULT 100000 /* a large hospital has a few thousand pairs */
#define BASELINE_FIELD_MAX 255 /* bytes of a name kept: AE titles are 16, HL7 ids ~20-180 */
#define BASELINE_NOTE_MAX 255  /* bytes of an operator's note */
/* One line of the file: six fields of BASELINE_FIELD_MAX bytes each escaped to 4 bytes a byte
 * fit, with the counters and a note. A longer line is an error, which bounds the reader. */
#define BASELINE_LINE_MAX 8192
#define BASELINE_AUTO_LEARN_DEFAULT_US (7ull * 86400 * 1000000) /* a week of traffic */

/* Kinds, in the order the file lists them. */
enum baseline_kind {
    BASELINE_DICOM,
    BASELINE_DICOM_MOVE,
    BASELINE_HL7,
    BASELINE_RDP,
    BASELINE_SMB,
    BASELINE_KIND_COUNT
};

enum baseline_state {
    BASELINE_LEARNED,  /* recorded while learning */
    BASELINE_ACCEPTED, /* accepted by an operator (or added by hand) */
    BASELINE_PENDING,  /* seen after learning: alerted, waiting for review */
    BASELINE_REMOVED,  /* removed by an operator: a tombstone until a sensor has applied it */
};

enum baseline_learn {
    BASELINE_LEARN_AUTO,  /* not started: the sensor's first event starts its period */
    BASELINE_LEARN_UNTIL, /* learning until learn_until_us (traffic time) */
    BASELINE_LEARN_DONE,
};

struct baseline_config {
    bool learn;             /* --learn: record silently, never alert */
    uint64_t auto_learn_us; /* the file did not exist (or says "learning auto"): learn for this
                               much traffic time from the first event, then alert; 0: alert from
                               the start. The sensor's default is BASELINE_AUTO_LEARN_DEFAULT_US */
    uint32_t pairs_max;     /* 0: BASELINE_PAIRS_MAX_DEFAULT */
    bool keep_removed;      /* the command-line tool: keep and write "removed" lines (a sensor
                               applies them, then drops them) */
};

struct baseline;

/*
 * Loads PATH if it exists; a missing file (or a NULL path) gives an empty baseline in automatic
 * learning. NULL with a sentence in eb (naming the file and line) when the file cannot be read,
 * is malformed, or holds more than pairs_max pairs.
 */
struct baseline *baseline_open(const char *path, const struct baseline_config *c,
                               struct errbuf *eb);

/* The same from text in memory; `name` is used in error sentences. For the fuzz target. */
struct baseline *baseline_parse(const char *name, const char *text, size_t len,
                                const struct baseline_config *c, struct errbuf *eb);

void baseline_free(struct baseline *b); /* NULL is fine */

/*
 * Records the pair the event shows, if it shows one (see the kinds above); outside learning, a
 * pair not in the baseline (or still pending) raises its alert through g, once per pair and run.
 * f is the event's flow: its client side tells the direction.
 */
void baseline_event(struct baseline *b, struct alert_gate *g, const struct flow *f,
                    const struct proto_event *ev);

/*
 * Writes the baseline to path atomically (a temporary file in the same folder, fsync, rename;
 * mode 0640), sorted, after merging the changes someone else made to the file (see above). On a
 * malformed file the file is left as it is and the error says why. 0 or a negative code with a
 * sentence in eb.
 */
int baseline_save(struct baseline *b, const char *path, struct errbuf *eb);

/* Flags of baseline_format(). */
#define BASELINE_FORMAT_NO_HEADER 1u    /* only the pair lines */
#define BASELINE_FORMAT_PENDING_ONLY 2u /* only the pending pairs */

/* Appends the file's text (or a part, per flags) to out. 0 or IASO_E_NOMEM/IASO_E_LIMIT. */
int baseline_format(struct baseline *b, struct buf *out, unsigned flags);

struct baseline_stats {
    uint64_t n_pairs; /* held: every kind and state */
    uint64_t n_pairs_kind[BASELINE_KIND_COUNT];
    uint64_t n_pending;
    uint64_t n_removed; /* tombstones held (the command-line tool only) */
    uint64_t n_dropped; /* new pairs not kept: pairs_max reached */
    uint64_t n_alerts;  /* alerts handed to a gate (which may still drop them) */
    uint64_t n_merges;  /* saves that took in changes someone else made to the file */
    bool learning;      /* now: --learn, or the automatic period not over */
    enum baseline_learn learn;
    uint64_t learn_until_us; /* BASELINE_LEARN_UNTIL: when it ends */
    uint64_t mem_bytes;      /* the table, the pairs and their notes */
};
void baseline_stats(struct baseline *b, struct baseline_stats *st);

/*
 * Editing, for the command-line tool. `words` are a kind and its fields as the file writes them
 * (escapes and "-" for an empty value included), e.g. {"dicom", "10.1.0.5", "CT01", "10.1.0.9",
 * "PACS"}.
 *
 * baseline_set() gives the pair the state (adding it when absent) and, when note is not NULL,
 * the note ("" removes it). 1 when added, 0 when it was there; IASO_E_INVAL (a wrong kind, number
 * of fields, address or escape, with a sentence in eb) or IASO_E_LIMIT (pairs_max).
 * baseline_remove() removes it (with keep_removed: leaves a tombstone). 0, IASO_E_INVAL, or
 * IASO_E_NOTFOUND when it is not there.
 * baseline_accept_pending() accepts every pending pair and returns how many.
 */
int baseline_set(struct baseline *b, const char *const *words, size_t n_words,
                 enum baseline_state state, const char *note, struct errbuf *eb);
int baseline_remove(struct baseline *b, const char *const *words, size_t n_words,
                    struct errbuf *eb);
size_t baseline_accept_pending(struct baseline *b);

/* "dicom", "dicom-move", ...; "learned", "accepted", "pending", "removed". */
const char *baseline_kind_name(enum baseline_kind k);
const char *baseline_state_name(enum baseline_state s);
/* The kind's fields, for usage texts: "CLIENT CALLING_AE SERVER CALLED_AE". */
const char *baseline_kind_usage(enum baseline_kind k);

/* Whether an HL7 message type and trigger event is a patient update or merge (ADT A08, ...). */
bool baseline_hl7_is_patient_update(const char *type, size_t type_len, const char *event,
                                    size_t event_len);

#endif
