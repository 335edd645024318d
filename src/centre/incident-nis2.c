// SPDX-License-Identifier: Apache-2.0
// The incident registry's NIS2 endpoints: the clock of an incident and its report records, "report
// sent", the CSIRT's feedback and requests, and the export of a stage's report (JSON or a
// printable page). The clock and the documents themselves are nis2.c's; this file reads the facts
// (the incident through incident-int.h, its report records) and serves them, with the rules of
// incident.h: every path reads the incident through the visibility condition first (404), then
// checks the caller's right (403), the body (400/415) and the incident's state (409).
//
// A report record (nis2_reports) is a stage sent (sent_at, with the snapshot it sent as
// `content`), or a CSIRT's request for an intermediate or progress report (requested_at, due_at)
// that the next sending of that stage fills. Every change of the records rewrites the incident's
// next deadline (incident_nis2_refresh), so a change made meanwhile by someone else is a 409.
#include "centre/incident.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "centre/incident-int.h"
#include "centre/nis2.h"

/* The stage named by the path's second capture; 404 answered and -1 returned when it is none. */
static int
stage_param(struct api *a, enum nis2_stage *s)
{
    const char *name = a->req->n_params > 1 ? a->req->params[1] : "";
    if (nis2_stage_parse(name, s) != 0) {
        api_error(a, 404, "not_found",
                  "NIS2 stage '%.40s' not found; the stages are early_warning, notification, "
                  "intermediate, final, progress",
                  name);
        return -1;
    }
    return 0;
}

/* {"id", "name"} of who sent report `r`; null when it was not sent, or `r` is NULL. */
static json_t *
sent_by_json(const struct report *r)
{
    if (!r || r->sent_at <= 0)
        return json_null();
    return api_object("id", json_integer(r->sent_by), "name", json_string(r->sent_by_name), NULL);
}

/* The CSIRT's feedback on report `r`; null when there is none, or `r` is NULL. */
static json_t *
feedback_json(const struct report *r)
{
    return r && r->feedback ? json_string(r->feedback) : json_null();
}

static json_t *
report_json(const struct report *r)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(r->id));
    json_object_set_new(o, "stage", json_string(nis2_stage_name(r->stage)));
    json_object_set_new(o, "requested_at", api_time_json(r->requested_at));
    json_object_set_new(o, "due_at", r->requested_at > 0 ? api_time_json(r->due_at) : json_null());
    json_object_set_new(o, "sent_at", api_time_json(r->sent_at));
    json_object_set_new(o, "sent_by", sent_by_json(r));
    json_object_set_new(o, "feedback", feedback_json(r));
    json_object_set_new(o, "feedback_at", api_time_json(r->feedback_at));
    return o;
}

/* The latest sent report of a stage, NULL when none was sent. */
static struct report *
report_latest(const struct reports *rs, enum nis2_stage s)
{
    struct report *best = NULL;
    for (size_t i = 0; i < rs->n; i++) {
        struct report *r = &rs->r[i];
        if (r->stage == s && r->sent_at > 0 &&
            (!best || r->sent_at > best->sent_at ||
             (r->sent_at == best->sent_at && r->id > best->id)))
            best = r;
    }
    return best;
}

static void
reports_full(struct api *a)
{
    api_error(a, 409, "conflict", "the incident has %d NIS2 report records, the most it may have",
              INCIDENT_NIS2_REPORTS_MAX);
}

static void
not_significant(struct api *a)
{
    api_error(a, 409, "conflict",
              "the incident is not marked as significant under NIS2; set \"nis2\": true (with "
              "aware_at) first");
}

static const char csirt_denied[] =
    "only the analysts and admins of the incident's CSIRT may do this";

/* ---- GET /incidents/{id}/nis2: the clock and the report records ---- */

static void
nis2_get(struct api *a)
{
    struct incident inc;
    struct access acc;
    struct reports rs = {0};
    if (incident_read_open(a, &inc, &acc) != 0)
        return;
    int rc = incident_reports_load(a, inc.id, false, &rs);
    if (rc != 0) {
        api_store_error(a, rc);
        goto out;
    }
    struct nis2_facts f;
    struct nis2_stage_clock clock[NIS2_STAGE_N];
    incident_facts(&inc, &rs, &f);
    nis2_clock(&f, a->now, clock);
    json_t *stages = nis2_clock_json(clock);
    for (size_t s = 0; s < NIS2_STAGE_N; s++) {
        const struct report *r = report_latest(&rs, (enum nis2_stage)s);
        json_object_set_new(json_array_get(stages, s), "feedback", feedback_json(r));
    }
    json_t *list = json_array();
    for (size_t i = 0; i < rs.n; i++)
        json_array_append_new(list, report_json(&rs.r[i]));
    json_t *o = json_object();
    json_object_set_new(o, "incident_id", json_integer(inc.id));
    json_object_set_new(o, "nis2", json_boolean(inc.nis2));
    json_object_set_new(o, "aware_at", api_time_json(inc.aware_at));
    json_object_set_new(o, "closed_at", api_time_json(f.closed_at));
    json_object_set_new(o, "stages", stages);
    json_object_set_new(o, "reports", list);
    api_send_json(a, 200, o);
out:
    incident_reports_release(&rs);
    incident_release(&inc);
}

/* ---- GET /incidents/{id}/nis2/{stage}/export ---- */

/* Deletes restricted members of a snapshot's incident (none should be there: nis2_snapshot
 * never copies them; this keeps an old or hand-made record from leaking one). */
static void
snapshot_strip(json_t *content)
{
    json_t *inc = json_object_get(content, "incident");
    const char *key;
    json_t *v;
    void *tmp;
    json_object_foreach_safe(inc, tmp, key, v)
    {
        if (incident_field_is_restricted(key))
            json_object_del(inc, key);
    }
}

/* The incident's fields as anyone may see them: what a report snapshot is made from. */
static json_t *
incident_public_json(const struct incident *inc, int64_t now)
{
    struct access none = {0};
    return incident_json(inc, &none, NULL, now);
}

/*
 * The export of a stage's report: report `report_id`, or the latest sent when 0, or a draft made
 * from the incident as it is now when none was sent. Sets *out; IASO_E_NOTFOUND when
 * `report_id` is not a sent report of this incident and stage.
 */
static int
export_build(struct api *a, const struct incident *inc, const struct access *acc, enum nis2_stage s,
             int64_t report_id, json_t **out)
{
    struct reports rs = {0};
    struct nis2_facts f;
    struct nis2_stage_clock clock[NIS2_STAGE_N];
    int rc = incident_reports_load(a, inc->id, true, &rs);
    if (rc != 0)
        return rc;
    incident_facts(inc, &rs, &f);
    nis2_clock(&f, a->now, clock);
    const struct report *r = NULL;
    for (size_t i = 0; report_id > 0 && i < rs.n; i++)
        if (rs.r[i].id == report_id && rs.r[i].stage == s && rs.r[i].sent_at > 0)
            r = &rs.r[i];
    if (report_id > 0 && !r) {
        incident_reports_release(&rs);
        return IASO_E_NOTFOUND;
    }
    if (!r)
        r = report_latest(&rs, s);

    /* A draft stands where the clock stands now; a sent report against the deadline it
     * answered, as its snapshot recorded it. */
    int64_t due = clock[s].due_at;
    enum nis2_status status = clock[s].status;
    enum nis2_basis basis = clock[s].basis;
    json_t *content = NULL;
    if (r) {
        content = json_loads(r->content ? r->content : "{}", 0, NULL);
        if (!json_is_object(content)) {
            json_decref(content);
            content = json_object();
        }
        const char *due_text = json_string_value(json_object_get(content, "due_at"));
        if (!due_text || api_time_parse(due_text, &due) != 0)
            due = 0;
        basis = NIS2_BASIS_NONE;
        for (int b = NIS2_BASIS_AWARE; b <= NIS2_BASIS_AWAITING_CLOSURE; b++) {
            const char *name = json_string_value(json_object_get(content, "basis"));
            if (name && strcmp(name, nis2_basis_name((enum nis2_basis)b)) == 0)
                basis = (enum nis2_basis)b;
        }
        status = due > 0 && r->sent_at > due ? NIS2_SENT_LATE : NIS2_SENT;
    } else {
        json_t *pub = incident_public_json(inc, a->now);
        json_t *empty = json_object();
        content = nis2_snapshot(s, due, basis, pub, empty);
        json_decref(pub);
        json_decref(empty);
    }
    if (!acc->sees_restricted)
        snapshot_strip(content);
    const char *basis_name = nis2_basis_name(basis);
    json_t *o = json_object();
    json_object_set_new(o, "stage", json_string(nis2_stage_name(s)));
    json_object_set_new(o, "title", json_string(nis2_stage_title(s)));
    json_object_set_new(o, "article", json_string(nis2_stage_article(s)));
    json_object_set_new(o, "draft", json_boolean(r == NULL));
    json_object_set_new(o, "incident_id", json_integer(inc->id));
    json_object_set_new(o, "report_id", r ? json_integer(r->id) : json_null());
    json_object_set_new(o, "tlp", json_string(incident_tlp_name(inc->tlp)));
    json_object_set_new(o, "entity", incident_org_json(inc->org_id, inc->org_name));
    json_object_set_new(o, "status", json_string(nis2_status_name(status)));
    json_object_set_new(o, "basis", basis_name ? json_string(basis_name) : json_null());
    json_object_set_new(o, "due_at", api_time_json(due));
    json_object_set_new(o, "requested_at", api_time_json(r ? r->requested_at : 0));
    json_object_set_new(o, "sent_at", api_time_json(r ? r->sent_at : 0));
    json_object_set_new(o, "sent_by", sent_by_json(r));
    json_object_set_new(o, "feedback", feedback_json(r));
    json_object_set_new(o, "feedback_at", api_time_json(r ? r->feedback_at : 0));
    json_object_set_new(o, "content", content);
    incident_reports_release(&rs);
    *out = o;
    return 0;
}

/* ?format=json|html&report_id= */
static void
nis2_export(struct api *a)
{
    struct incident inc;
    struct access acc;
    enum nis2_stage s;
    json_t *doc = NULL;
    int64_t report_id;
    if (incident_read_open(a, &inc, &acc) != 0)
        return;
    if (stage_param(a, &s) != 0)
        goto out;
    const char *format = http_req_query(a->req, "format");
    bool is_html = format && strcmp(format, "html") == 0;
    if (format && !is_html && strcmp(format, "json") != 0) {
        api_bad_query(a, "format", "json or html");
        goto out;
    }
    if (api_query_int(a, "report_id", 0, 1, INT64_MAX, &report_id) != 0)
        goto out;
    int rc = export_build(a, &inc, &acc, s, report_id, &doc);
    if (rc == IASO_E_NOTFOUND) {
        api_not_found(a, "report");
        goto out;
    }
    if (rc != 0) {
        api_store_error(a, rc);
        goto out;
    }
    if (!is_html) {
        api_send_json(a, 200, doc);
        doc = NULL;
        goto out;
    }
    buf_reset(&a->resp->body);
    rc = nis2_export_html(doc, &a->resp->body);
    if (rc != 0) {
        api_store_error(a, rc);
        goto out;
    }
    char disposition[96];
    snprintf(disposition, sizeof(disposition), "inline; filename=\"incident-%lld-%s.html\"",
             (long long)inc.id, nis2_stage_name(s));
    a->resp->status = 200;
    a->resp->content_type = "text/html; charset=utf-8";
    http_resp_header(a->resp, "Content-Security-Policy",
                     "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; "
                     "form-action 'none'; frame-ancestors 'none'");
    http_resp_header(a->resp, "X-Content-Type-Options", "nosniff");
    http_resp_header(a->resp, "Content-Disposition", disposition);
    http_resp_header(a->resp, "Cache-Control", "private, no-store");
out:
    json_decref(doc);
    incident_release(&inc);
}

/* ---- POST /incidents/{id}/nis2/{stage}: records that the stage's report was sent, now ---- */

/* The deadline a sending answers: the request it fills, the stage's deadline, or, for a report
 * of a repeatable stage nobody asked for, none (a progress report of an ongoing incident
 * answers the final deadline). */
static void
sending_due(enum nis2_stage s, const struct report *req, const struct nis2_stage_clock *c,
            int64_t *due, enum nis2_basis *basis)
{
    *due = 0;
    *basis = NIS2_BASIS_NONE;
    if (req) {
        *due = req->due_at;
        *basis = NIS2_BASIS_REQUEST;
    } else if (!nis2_stage_is_repeatable(s) ||
               (s == NIS2_PROGRESS && c->basis == NIS2_BASIS_ONGOING)) {
        *due = c->due_at;
        *basis = c->basis;
    }
}

static void
nis2_send(struct api *a)
{
    struct incident inc;
    struct access acc;
    struct reports rs = {0};
    json_t *body = NULL, *pub = NULL, *snap = NULL, *doc = NULL;
    char *content = NULL;
    enum nis2_stage s;
    if (incident_write_open(a, &inc, &acc) != 0)
        return;
    int rc;
    if (stage_param(a, &s) != 0)
        goto out;
    if (incident_manage_check(a, &acc) != 0)
        goto out;
    if (!inc.nis2) {
        not_significant(a);
        goto out;
    }
    size_t n_fields = 0;
    const struct api_field *fields = nis2_stage_fields(s, &n_fields);
    body = api_body(a, fields, n_fields, false);
    if (!body)
        goto out;
    rc = incident_reports_load(a, inc.id, false, &rs);
    if (rc != 0) {
        api_store_error(a, rc);
        goto out;
    }
    const struct report *prev = report_latest(&rs, s);
    if (prev && !nis2_stage_is_repeatable(s)) {
        char at[21];
        api_time_format(prev->sent_at, at);
        api_error(a, 409, "conflict",
                  "the %s was sent already (at %s); each stage is sent once, except "
                  "intermediate and progress reports",
                  nis2_stage_title(s), at);
        goto out;
    }
    if (rs.n >= INCIDENT_NIS2_REPORTS_MAX) {
        reports_full(a);
        goto out;
    }
    /* A repeatable report answers the open request due first, if any. */
    const struct report *req = NULL;
    for (size_t i = 0; nis2_stage_is_repeatable(s) && i < rs.n; i++) {
        const struct report *r = &rs.r[i];
        if (r->stage == s && r->sent_at == 0 && r->requested_at > 0 &&
            (!req || r->due_at < req->due_at))
            req = r;
    }
    /* The deadline it answers, by the clock as it stood before this sending. */
    struct nis2_facts f;
    struct nis2_stage_clock clock[NIS2_STAGE_N];
    int64_t due;
    enum nis2_basis basis;
    incident_facts(&inc, &rs, &f);
    nis2_clock(&f, a->now, clock);
    sending_due(s, req, &clock[s], &due, &basis);
    bool is_late = due > 0 && a->now > due;

    pub = incident_public_json(&inc, a->now);
    snap = nis2_snapshot(s, due, basis, pub, body);
    content = snap ? json_dumps(snap, JSON_COMPACT) : NULL;
    if (!content) {
        api_store_error(a, IASO_E_NOMEM);
        goto out;
    }
    int64_t report_id = 0, n = 0;
    if (req) {
        report_id = req->id;
        struct store_val p[] = {store_int(a->now), store_int(a->who.user_id), store_text(content),
                                store_int(req->id)};
        rc = store_exec(a->db,
                        "UPDATE nis2_reports SET sent_at = ?, sent_by = ?, content = ?"
                        " WHERE id = ? AND sent_at IS NULL",
                        p, N_OF(p), NULL, NULL, &n, &a->eb);
        if (rc == 0 && n == 0)
            rc = IASO_E_EXIST;
    } else {
        struct store_val p[] = {store_int(inc.id), store_text(nis2_stage_name(s)),
                                store_int(a->now), store_int(a->who.user_id), store_text(content)};
        rc = store_query_int(a->db,
                             "INSERT INTO nis2_reports (incident_id, stage, sent_at, sent_by,"
                             " content) VALUES (?, ?, ?, ?, ?) RETURNING id",
                             p, N_OF(p), &report_id, &a->eb);
    }
    if (rc == 0)
        rc = incident_nis2_refresh(a, &inc);
    if (rc == IASO_E_EXIST) {
        /* the unique index on single stages, or a concurrent change of the incident */
        incident_conflict(a);
        goto out;
    }
    if (rc == 0)
        rc = incident_write_commit(a, inc.id, "nis2_sent",
                                   api_object("stage", json_string(nis2_stage_name(s)), "report_id",
                                              json_integer(report_id), "late",
                                              json_boolean(is_late), NULL),
                                   "incident.nis2_sent",
                                   api_object("stage", json_string(nis2_stage_name(s)), "report_id",
                                              json_integer(report_id), NULL));
    if (rc == 0)
        rc = export_build(a, &inc, &acc, s, report_id, &doc);
    if (rc != 0) {
        api_store_error(a, rc);
        goto out;
    }
    api_send_json(a, 201, doc);
    doc = NULL;
out:
    store_rollback(a->db);
    free(content);
    json_decref(doc);
    json_decref(snap);
    json_decref(pub);
    json_decref(body);
    incident_reports_release(&rs);
    incident_release(&inc);
}

/* ---- POST /incidents/{id}/nis2/{stage}/feedback: the CSIRT's answer to the latest report ---- */

static const struct api_field feedback_fields[] = {
    {"feedback", AF_STRING, true, 1, NIS2_TEXT_MAX, NULL},
};

static void
nis2_feedback(struct api *a)
{
    struct incident inc;
    struct access acc;
    struct reports rs = {0};
    json_t *body = NULL;
    enum nis2_stage s;
    if (incident_write_open(a, &inc, &acc) != 0)
        return;
    int rc;
    if (stage_param(a, &s) != 0)
        goto out;
    if (!acc.is_csirt) {
        api_forbidden(a, csirt_denied);
        goto out;
    }
    body = api_body(a, feedback_fields, N_OF(feedback_fields), false);
    if (!body)
        goto out;
    rc = incident_reports_load(a, inc.id, false, &rs);
    if (rc != 0) {
        api_store_error(a, rc);
        goto out;
    }
    struct report *r = report_latest(&rs, s);
    if (!r) {
        api_error(a, 409, "conflict", "no %s has been sent yet to give feedback on",
                  nis2_stage_title(s));
        goto out;
    }
    const char *text = json_string_value(json_object_get(body, "feedback"));
    struct store_val p[] = {store_text(text), store_int(a->now), store_int(a->who.user_id),
                            store_int(r->id)};
    rc = store_exec(a->db,
                    "UPDATE nis2_reports SET feedback = ?, feedback_at = ?, feedback_by = ?"
                    " WHERE id = ?",
                    p, N_OF(p), NULL, NULL, NULL, &a->eb);
    if (rc == 0)
        rc = incident_write_commit(a, inc.id, "nis2_feedback",
                                   api_object("stage", json_string(nis2_stage_name(s)), "report_id",
                                              json_integer(r->id), NULL),
                                   "incident.nis2_feedback",
                                   api_object("stage", json_string(nis2_stage_name(s)), "report_id",
                                              json_integer(r->id), NULL));
    if (rc != 0) {
        api_store_error(a, rc);
        goto out;
    }
    char *copy = strdup(text);
    if (copy) {
        free(r->feedback);
        r->feedback = copy;
        r->feedback_at = a->now;
    }
    api_send_json(a, 200, report_json(r));
out:
    store_rollback(a->db);
    json_decref(body);
    incident_reports_release(&rs);
    incident_release(&inc);
}

/* ---- POST /incidents/{id}/nis2/requests: the CSIRT asks for an intermediate or progress
 * report ---- */

static const char *const request_stages[] = {"intermediate", "progress", NULL};

static const struct api_field request_fields[] = {
    {"stage", AF_ENUM, true, 0, 0, request_stages},
    {"due_at", AF_TIME, false, 0, 0, NULL},
};

static void
nis2_request(struct api *a)
{
    struct incident inc;
    struct access acc;
    json_t *body = NULL;
    if (incident_write_open(a, &inc, &acc) != 0)
        return;
    int rc;
    if (!acc.is_csirt) {
        api_forbidden(a, csirt_denied);
        goto out;
    }
    body = api_body(a, request_fields, N_OF(request_fields), false);
    if (!body)
        goto out;
    if (!inc.nis2) {
        not_significant(a);
        goto out;
    }
    enum nis2_stage s = NIS2_INTERMEDIATE;
    nis2_stage_parse(json_string_value(json_object_get(body, "stage")), &s);
    int64_t due = a->now + NIS2_REQUEST_DEFAULT_S;
    const char *due_text = json_string_value(json_object_get(body, "due_at"));
    if (due_text && api_time_parse(due_text, &due) == 0 && due <= a->now) {
        api_error(a, 400, "bad_field", "field 'due_at' must lie in the future");
        goto out;
    }
    int64_t n = 0, report_id = 0;
    struct store_val pc[] = {store_int(inc.id)};
    rc = store_query_int(a->db, "SELECT COUNT(*) FROM nis2_reports WHERE incident_id = ?", pc, 1,
                         &n, &a->eb);
    if (rc != 0) {
        api_store_error(a, rc);
        goto out;
    }
    if (n >= INCIDENT_NIS2_REPORTS_MAX) {
        reports_full(a);
        goto out;
    }
    struct store_val p[] = {store_int(inc.id), store_text(nis2_stage_name(s)), store_int(a->now),
                            store_int(due)};
    rc = store_query_int(a->db,
                         "INSERT INTO nis2_reports (incident_id, stage, requested_at, due_at)"
                         " VALUES (?, ?, ?, ?) RETURNING id",
                         p, N_OF(p), &report_id, &a->eb);
    if (rc == 0)
        rc = incident_nis2_refresh(a, &inc);
    if (rc == IASO_E_EXIST) {
        incident_conflict(a);
        goto out;
    }
    if (rc == 0)
        rc = incident_write_commit(
            a, inc.id, "nis2_request",
            api_object("stage", json_string(nis2_stage_name(s)), "report_id",
                       json_integer(report_id), "due_at", api_time_json(due), NULL),
            "incident.nis2_request",
            api_object("stage", json_string(nis2_stage_name(s)), "report_id",
                       json_integer(report_id), "due_at", api_time_json(due), NULL));
    if (rc != 0) {
        api_store_error(a, rc);
        goto out;
    }
    struct report r = {.id = report_id, .stage = s, .requested_at = a->now, .due_at = due};
    api_send_json(a, 201, report_json(&r));
out:
    store_rollback(a->db);
    json_decref(body);
    incident_release(&inc);
}

/* ---- routes ---- */

/* Joined after incident_routes. Literal segments before captures where both could match:
 * /nis2/requests before /nis2/{stage}. */
const struct api_route incident_nis2_routes[] = {
    {"GET", "/api/v1/incidents/{id}/nis2", nis2_get, API_READ, "incident_nis2"},
    {"POST", "/api/v1/incidents/{id}/nis2/requests", nis2_request, API_WRITE,
     "incident_nis2_requests"},
    {"POST", "/api/v1/incidents/{id}/nis2/{stage}", nis2_send, API_WRITE, "incident_nis2_report"},
    {"POST", "/api/v1/incidents/{id}/nis2/{stage}/feedback", nis2_feedback, API_WRITE,
     "incident_nis2_feedback"},
    {"GET", "/api/v1/incidents/{id}/nis2/{stage}/export", nis2_export, API_READ,
     "incident_nis2_export"},
};
const size_t incident_nis2_routes_n =
    sizeof(incident_nis2_routes) / sizeof(incident_nis2_routes[0]);
