// SPDX-License-Identifier: Apache-2.0
// Private to the incident registry, which incident.c (incidents, timeline, comments,
// attachments, shares) and incident-nis2.c (the NIS2 clock, reports, feedback, requests and
// exports) share: one incident as read through the visibility condition, what the caller may do
// with it, the NIS2 report records the clock is computed from, and the end of every write.
//
// Threads: like incident.h; every function works on the one request it is given.
#ifndef IASO_CENTRE_INCIDENT_INT_H
#define IASO_CENTRE_INCIDENT_INT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "centre/api.h"
#include "centre/incident.h"
#include "centre/nis2.h"

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* One incident row; the strings and JSON objects are owned (incident_release frees them). */
struct incident {
    int64_t id;
    int64_t org_id;
    int64_t org_csirt_id; /* 0: the organisation has no CSIRT */
    enum incident_kind kind;
    enum incident_status status;
    int64_t tlp;
    bool nis2;
    int64_t occurred_at; /* 0: unknown */
    int64_t aware_at;    /* 0: unknown */
    int64_t created_by;
    int64_t created_at;
    int64_t updated_at;
    int64_t closed_at; /* 0: open */
    int64_t version;
    enum nis2_stage nis2_next_stage;
    int64_t nis2_next_due_at; /* 0: nothing outstanding */
    bool is_shared_with_me;   /* shared with the caller's organisation */
    char *org_name;           /* owned, like the strings below */
    char *title;
    char *summary;
    char *country;
    char *region;
    json_t *detail;     /* owned: the kind's fields that are not restricted */
    json_t *restricted; /* owned: the restricted ones */
};

void incident_release(struct incident *inc);

/* What the caller may do with an incident it can see. */
struct access {
    bool sees_restricted;
    bool can_manage; /* update, status, attachments, shares, NIS2 reports sent */
    bool can_reopen; /* closed -> responding */
    bool can_comment;
    bool is_csirt; /* staff of the incident's CSIRT (case 2): feedback, requests */
};

/*
 * The incident named by the path's first capture, read through the visibility condition, and
 * what the caller may do with it: 0, or -1 with the answer given (404 when it is not there or
 * not visible, or a store error); on 0 the caller releases `inc`. incident_write_open reads it
 * inside a new write transaction, which stays open on success (the caller commits, or rolls
 * back with store_rollback) and is rolled back on failure.
 */
int incident_read_open(struct api *a, struct incident *inc, struct access *acc);
int incident_write_open(struct api *a, struct incident *inc, struct access *acc);

/* The right of writes that need access.can_manage: 0, or -1 with the 403 answered. */
int incident_manage_check(struct api *a, const struct access *acc);

/* The 409 for a write that lost against someone else's change of the incident. */
void incident_conflict(struct api *a);

/* The incident as the API shows it to a caller with access `acc`; `shares` (taken, may be
 * NULL) is the list of organisations it is shared with, shown to those who manage it. */
json_t *incident_json(const struct incident *inc, const struct access *acc, json_t *shares,
                      int64_t now);
/* {"id", "name"} of an organisation. */
json_t *incident_org_json(int64_t id, const char *name);
/* A stored TLP rank as its name; anything out of range as RED, the safe side. */
const char *incident_tlp_name(int64_t rank);

/*
 * The end of a write, inside its transaction: the timeline event `kind` with `body` (none when
 * `kind` is NULL), the audit line `action` with `detail`, the commit. Takes `body` and `detail`.
 * 0, or a store error with the transaction left for the caller's store_rollback (a commit that
 * fails has rolled back already).
 */
int incident_write_commit(struct api *a, int64_t incident_id, const char *kind, json_t *body,
                          const char *action, json_t *detail);

/* ---- NIS2 report records ---- */

struct report {
    int64_t id;
    enum nis2_stage stage;
    int64_t requested_at; /* 0 unless the CSIRT asked for it */
    int64_t due_at;       /* requests: the due time asked for */
    int64_t sent_at;      /* 0: not sent (an open request) */
    int64_t sent_by;
    int64_t feedback_at;
    char *sent_by_name; /* owned, "" when not sent */
    char *feedback;     /* owned, NULL when none */
    char *content;      /* owned JSON text, NULL unless loaded */
};

struct reports {
    struct report *r; /* owned: n of them */
    size_t n;
};

/* Every report record of an incident, oldest first (at most INCIDENT_NIS2_REPORTS_MAX); the
 * snapshots only `with_content`. 0 or a store error; release with incident_reports_release. */
int incident_reports_load(struct api *a, int64_t incident_id, bool with_content,
                          struct reports *rs);
void incident_reports_release(struct reports *rs);

/* The clock's facts: the incident's flag and times, and what its report records say (`rs` may
 * be NULL: none). */
void incident_facts(const struct incident *inc, const struct reports *rs, struct nis2_facts *f);

/* Rewrites the incident's next deadline after its report records changed, counting as a change
 * of the incident (updated_at, version). 0, IASO_E_EXIST when someone else changed it
 * meanwhile, or a store error. */
int incident_nis2_refresh(struct api *a, const struct incident *inc);

#endif
