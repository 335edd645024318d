// SPDX-License-Identifier: Apache-2.0
// The incident registry: cyber incidents and violence against health care in one table, with
// one timeline, one status life cycle, comments, attachments, shares with other organisations
// and the NIS2 reports (the clock and documents are in nis2.h; the endpoints are served here,
// by incident.c and incident-nis2.c, because every one of them starts by asking whether the
// caller may see the incident).
//
// Who sees an incident (principal P: user U, organisation O, role R; incident I: organisation
// I.org, TLP T, reporter I.created_by; a CSIRT's constituency is the organisations whose
// csirt_id is the CSIRT's id). P may read I when any of:
//   1. I.org = O and (T < RED or I.created_by = U or R is admin or reporter);
//   2. O is a CSIRT, R is analyst or admin, and I.org is in O's constituency (every TLP);
//   3. I is shared with O (incident_shares) and T <= AMBER;
//   4. O is a CSIRT, I.org is in its constituency, any other role, and T <= AMBER;
//   5. T <= GREEN (any logged-in user: the centre's community).
// One SQL condition (incident_visibility_sql) says exactly this, and every read path (list, get,
// timeline, attachments, NIS2 clock and exports) puts it in its WHERE clause, so an incident a
// caller may not see is never read, and answers 404 as if it did not exist. Restricted fields
// (ransom_*, latitude, longitude) go only to case 1 with R admin or reporter, and to case 2;
// everybody else gets them omitted (absent, not null) from every output.
//
// Who writes: create: reporter, admin, analyst (for their own organisation). Update, status,
// attachments, shares, NIS2 "report sent": the reporting organisation's reporters and admins,
// and its CSIRT's staff (case 2). Reopening a closed incident: the CSIRT's staff or the
// organisation's admins. Comments: whoever reads it, except viewers (helpers: when it is shared
// with them). NIS2 feedback and report requests: the CSIRT's staff. A write on an incident the
// caller may read but not change is 403; every write is one transaction with its timeline event
// and its audit line, and a 4xx writes nothing.
//
// Threads: the route handlers run on any server thread; the tables here are constant.
#ifndef IASO_CENTRE_INCIDENT_H
#define IASO_CENTRE_INCIDENT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "centre/api.h"
#include "centre/auth.h"
#include "centre/store.h"

enum incident_kind {
    INCIDENT_CYBER,
    INCIDENT_VIOLENCE,
};

/* The life cycle: reported -> triaged -> responding -> recovering -> closed, one step forward at
 * a time, any open status -> closed, closed -> responding (reopen). */
enum incident_status {
    INCIDENT_REPORTED,
    INCIDENT_TRIAGED,
    INCIDENT_RESPONDING,
    INCIDENT_RECOVERING,
    INCIDENT_CLOSED,
};

/* Limits, each a cap on something a client controls. */
#define INCIDENT_TITLE_MAX 200
#define INCIDENT_SUMMARY_MAX 10000
#define INCIDENT_COMMENT_MAX 20000
#define INCIDENT_INDICATORS_MAX 500         /* per incident; more belong in an indicator feed */
#define INCIDENT_SHARES_MAX 64              /* organisations one incident is shared with */
#define INCIDENT_ATTACHMENTS_MAX 100        /* per incident */
#define INCIDENT_ATTACHMENT_MAX (32u << 20) /* bytes of one file; the body cap is usually lower */
#define INCIDENT_NIS2_REPORTS_MAX 100       /* report records (sent or requested) per incident */
#define INCIDENT_COUNT_MAX INT64_C(1000000000000) /* patients, records, ...: 10^12 */
#define INCIDENT_FUTURE_SLACK_S 300 /* clocks differ: times up to 5 minutes ahead pass */
#define INCIDENT_PAGE_DEFAULT 50
#define INCIDENT_PAGE_MAX 500

/* Parameters the visibility condition binds. */
#define INCIDENT_VIS_N 6

/*
 * The visibility condition for the principal `who`, as a fixed SQL text over an `incidents`
 * row aliased `i`, to be ANDed into a WHERE clause; fills `params` with the INCIDENT_VIS_N
 * values its `?` take, in order. The text is a constant: only the parameters depend on who asks.
 */
const char *incident_visibility_sql(const struct principal *who,
                                    struct store_val params[INCIDENT_VIS_N]);

const char *incident_kind_name(enum incident_kind k);
int incident_kind_parse(const char *s, enum incident_kind *out);
const char *incident_status_name(enum incident_status s);
int incident_status_parse(const char *s, enum incident_status *out);

/* True for a field only the reporting organisation's reporters and admins and its CSIRT's staff
 * may see (ransom_demanded, ransom_amount, ransom_currency, ransom_paid, latitude, longitude). */
bool incident_field_is_restricted(const char *name);

/*
 * Checks an incident body (POST when !partial, PATCH when partial) of kind `kind` field by field:
 * the common and kind-specific field tables (a field of the other kind or an unknown one is an
 * error), nested objects (classification, victims, indicators), and value syntax (countries,
 * currency, indicator values by type, classification type within its class). Read-only fields
 * (status, id, ...) are refused with a sentence saying where they are changed. Does not look at
 * the combination of fields: see incident_state_check. Writes a sentence naming the field into
 * `msg` and returns IASO_E_INVAL, or returns 0. Pure; the fuzz target drives it.
 */
int incident_fields_check(const json_t *body, enum incident_kind kind, bool partial, char *msg,
                          size_t msg_len);

/*
 * Checks an incident's fields together (`state`: the flat object an incident would have after
 * the write, times as RFC 3339 text): aware_at present when nis2 is true, aware_at and
 * occurred_at at most INCIDENT_FUTURE_SLACK_S ahead of `now`, aware_at not before occurred_at,
 * latitude and longitude both or neither. 0, or IASO_E_INVAL with a sentence in `msg`.
 */
int incident_state_check(const json_t *state, int64_t now, char *msg, size_t msg_len);

/* The routes: /api/v1/incidents... (see docs/api-incidents.md); incident_nis2_routes are
 * /api/v1/incidents/{id}/nis2... (incident-nis2.c), joined after incident_routes. */
extern const struct api_route incident_routes[];
extern const size_t incident_routes_n;
extern const struct api_route incident_nis2_routes[];
extern const size_t incident_nis2_routes_n;

#endif
