// SPDX-License-Identifier: Apache-2.0
// NIS2 incident reporting (Directive (EU) 2022/2555, Article 23(4)): the legal clock of a
// significant incident, the report stages and what each must say, and the printable export.
// Everything here is pure: facts and a time in, deadlines and documents out; no store, no clock
// reads, no I/O. incident.c reads the facts from the store and serves the endpoints.
//
// The clock, for an incident marked significant (nis2) with a time of awareness (aware_at):
//   - early warning:  aware_at + 24 h                                          (Art. 23(4)(a))
//   - notification:   aware_at + 72 h                                          (Art. 23(4)(b))
//   - intermediate:   on request of the CSIRT, by the due time of the request  (Art. 23(4)(c))
//   - final:          one month after the notification was submitted, or, while it has not
//                     been, one month after the notification's due time        (Art. 23(4)(d))
//   - progress:       when the incident is still ongoing at the final deadline (not closed, or
//                     closed only after it), a progress report is due at the final deadline
//                     instead, and the final report is then due one month after the incident
//                     was handled (closed); the CSIRT may also request one     (Art. 23(4)(e))
//
// "One month" (nis2_month_add): the same day of the next month at the same time of day, UTC;
// when the next month is shorter, its last day (31 January -> 28 or 29 February, 31 March ->
// 30 April; 31 December -> 31 January of the next year). Regulation 1182/71 would let a period
// in months run to the end of that day; we keep the time of day, which is never later, so a
// report on time by our clock is on time by the Regulation's.
//
// A stage's status at `now`: "sent" (sent on or before its due time, or with no due time),
// "sent_late", "late" (not sent and now > due_at), "due" (not sent, now <= due_at and at most
// NIS2_DUE_SOON_S before it, both ends included), "pending" (not sent, further off or no due
// time yet), "not_applicable" (the incident is not significant, or the stage does not apply).
#ifndef IASO_CENTRE_NIS2_H
#define IASO_CENTRE_NIS2_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "centre/api.h"

#define NIS2_EARLY_WARNING_S (INT64_C(24) * 3600)
#define NIS2_NOTIFICATION_S (INT64_C(72) * 3600)
#define NIS2_DUE_SOON_S (INT64_C(6) * 3600)         /* "due" within this much of the deadline */
#define NIS2_REQUEST_DEFAULT_S (INT64_C(72) * 3600) /* a CSIRT request without a due time */
#define NIS2_TEXT_MAX 10000                         /* bytes of one free-text answer in a report */

/* In the order of the directive; the index of the clock's arrays. */
enum nis2_stage {
    NIS2_EARLY_WARNING,
    NIS2_NOTIFICATION,
    NIS2_INTERMEDIATE,
    NIS2_FINAL,
    NIS2_PROGRESS,
    NIS2_STAGE_N,
};

enum nis2_status {
    NIS2_PENDING,
    NIS2_DUE,
    NIS2_LATE,
    NIS2_SENT,
    NIS2_SENT_LATE,
    NIS2_NOT_APPLICABLE,
};

/* Where a due time comes from; the clock's JSON gives it as "basis". */
enum nis2_basis {
    NIS2_BASIS_NONE,
    NIS2_BASIS_AWARE,             /* "aware_at": 24 h or 72 h after awareness */
    NIS2_BASIS_NOTIFICATION_SENT, /* "notification_submitted": a month after it was sent */
    NIS2_BASIS_NOTIFICATION_DUE,  /* "notification_due": not sent yet, a month after its due */
    NIS2_BASIS_REQUEST,           /* "request": the CSIRT's request sets it */
    NIS2_BASIS_ONGOING,           /* "ongoing_at_final_deadline": progress instead of final */
    NIS2_BASIS_CLOSED,            /* "incident_closed": final, a month after handling */
    NIS2_BASIS_AWAITING_CLOSURE,  /* "awaiting_closure": final, after progress, still open */
};

/* What the clock is computed from. Times are Unix seconds UTC; 0 means "none". */
struct nis2_facts {
    bool is_significant; /* the incident's nis2 flag */
    int64_t aware_at;
    int64_t closed_at; /* 0 while the incident is open */
    /* Early warning, notification, final: when the report was sent. Intermediate, progress
     * (repeatable): when the latest one was sent. */
    int64_t sent_at[NIS2_STAGE_N];
    /* Repeatable stages: the due time of the request the latest sending answered (0 when it
     * answered none). */
    int64_t sent_due_at[NIS2_STAGE_N];
    /* Repeatable stages: the earliest due time among requests not answered yet (0: none). */
    int64_t open_due_at[NIS2_STAGE_N];
};

struct nis2_stage_clock {
    int64_t due_at;  /* 0: no due time (not applicable, or not known yet) */
    int64_t sent_at; /* 0: not sent */
    enum nis2_status status;
    enum nis2_basis basis;
};

/* One month later by the rule above. Times before 1970 or after 9999 are returned unchanged. */
int64_t nis2_month_add(int64_t t);

/* Computes every stage's due time and status at `now`. Deterministic and total: any facts give
 * an answer (a sending before awareness is simply "sent"). */
void nis2_clock(const struct nis2_facts *f, int64_t now, struct nis2_stage_clock out[NIS2_STAGE_N]);

/*
 * The next deadline: the earliest due time among stages not sent (pending, due or late), ties
 * going to the earlier stage. The result depends on the facts only, not on `now`, so it can be
 * stored with the incident and filtered on in SQL. False when nothing is outstanding.
 */
bool nis2_next(const struct nis2_stage_clock clock[NIS2_STAGE_N], enum nis2_stage *stage,
               int64_t *due_at);

const char *nis2_stage_name(enum nis2_stage s);
/* "early_warning", "notification", "intermediate", "final", "progress". 0 or IASO_E_INVAL. */
int nis2_stage_parse(const char *s, enum nis2_stage *out);
const char *nis2_status_name(enum nis2_status s);
const char *nis2_basis_name(enum nis2_basis b);
/* Intermediate and progress reports may be sent more than once; the others once. */
bool nis2_stage_is_repeatable(enum nis2_stage s);
/* The point of Article 23(4) and the stage's title, "Article 23(4)(a)", "Early warning". */
const char *nis2_stage_article(enum nis2_stage s);
const char *nis2_stage_title(enum nis2_stage s);

/* The clock as a JSON array in stage order: [{"stage", "due_at", "sent_at", "status",
 * "basis"}, ...], times as RFC 3339 text or null. A new reference, NULL when out of memory. */
json_t *nis2_clock_json(const struct nis2_stage_clock clock[NIS2_STAGE_N]);

/*
 * The body of "report sent" for a stage (POST /incidents/{id}/nis2/{stage}), as a field table
 * for api_body / api_fields_check. The texts answer what Article 23(4) asks at that stage:
 *   early_warning: suspected_malicious, cross_border_possible (booleans, required), details;
 *   notification:  severity (low|medium|high|critical), impact, initial_assessment (required),
 *                  suspected_malicious, cross_border_possible (updates of the early warning),
 *                  indicators_note (the incident's indicators are attached as they are);
 *   intermediate:  status_update (required);
 *   final:         description, severity, impact, threat_type, root_cause, mitigation
 *                  (required), cross_border_impact;
 *   progress:      the final report's fields so far: description and mitigation required.
 */
const struct api_field *nis2_stage_fields(enum nis2_stage s, size_t *n_fields);

/*
 * The snapshot a sent report keeps (nis2_reports.content): {"stage", "due_at", "basis",
 * "incident": {...}, "report": {...}}. "due_at" and "basis" are the deadline the sending answers
 * (0 / NIS2_BASIS_NONE: none), so the record says forever whether it was on time. "incident"
 * holds the incident's fields the directive's stages need (kind, title, organisation, country,
 * region, status, TLP, times, classification, vector, care services disrupted, impact figures,
 * cross-border; the indicators from the notification on), picked from `incident` (the incident's
 * JSON) and never a restricted field; "report" the stage's answers from `answers` (only the
 * stage's fields). A new reference, NULL when out of memory or `incident` is not an object.
 */
json_t *nis2_snapshot(enum nis2_stage s, int64_t due_at, enum nis2_basis basis,
                      const json_t *incident, const json_t *answers);

/*
 * Writes a standalone printable HTML page for one report export (the JSON that
 * GET .../nis2/{stage}/export answers: {"stage", "draft", "tlp", "due_at", "sent_at",
 * "content": {"incident", "report"}, ...}): the TLP label at the top in its TLP 2.0 colours,
 * the directive's headings for the stage, the entity, the dates and the due time. Inline CSS
 * with print rules, no scripts, no external resources; every text from the export is
 * HTML-escaped. Any JSON is accepted (absent or mistyped members print as "not given").
 * Returns 0, or IASO_E_LIMIT / IASO_E_NOMEM from the buffer.
 */
int nis2_export_html(const json_t *export_doc, struct buf *out);

/* Appends `s` (len bytes) HTML-escaped: & < > " ' as character references, control bytes other
 * than tab and newline dropped. */
int nis2_html_escape(struct buf *out, const char *s, size_t len);

#endif
