// SPDX-License-Identifier: Apache-2.0
// NIS2 reporting: the clock, the stages' questions, the report snapshot and the printable page;
// see nis2.h. Pure code over base and jansson only, so the unit test links it alone.
#include "centre/nis2.h"

#include <stdio.h>
#include <string.h>

#include "base/error.h"
#include "base/timefmt.h"

/* 9999-12-31T23:59:59Z: the last time RFC 3339 text (and api_time_parse) can carry. */
#define NIS2_TIME_MAX INT64_C(253402300799)

static const char *const stage_names[NIS2_STAGE_N] = {
    [NIS2_EARLY_WARNING] = "early_warning", [NIS2_NOTIFICATION] = "notification",
    [NIS2_INTERMEDIATE] = "intermediate",   [NIS2_FINAL] = "final",
    [NIS2_PROGRESS] = "progress",
};

static const char *const stage_articles[NIS2_STAGE_N] = {
    [NIS2_EARLY_WARNING] = "Article 23(4)(a)", [NIS2_NOTIFICATION] = "Article 23(4)(b)",
    [NIS2_INTERMEDIATE] = "Article 23(4)(c)",  [NIS2_FINAL] = "Article 23(4)(d)",
    [NIS2_PROGRESS] = "Article 23(4)(e)",
};

static const char *const stage_titles[NIS2_STAGE_N] = {
    [NIS2_EARLY_WARNING] = "Early warning",      [NIS2_NOTIFICATION] = "Incident notification",
    [NIS2_INTERMEDIATE] = "Intermediate report", [NIS2_FINAL] = "Final report",
    [NIS2_PROGRESS] = "Progress report",
};

static const char *const status_names[] = {
    [NIS2_PENDING] = "pending",     [NIS2_DUE] = "due",
    [NIS2_LATE] = "late",           [NIS2_SENT] = "sent",
    [NIS2_SENT_LATE] = "sent_late", [NIS2_NOT_APPLICABLE] = "not_applicable",
};

static const char *const basis_names[] = {
    [NIS2_BASIS_NONE] = NULL,
    [NIS2_BASIS_AWARE] = "aware_at",
    [NIS2_BASIS_NOTIFICATION_SENT] = "notification_submitted",
    [NIS2_BASIS_NOTIFICATION_DUE] = "notification_due",
    [NIS2_BASIS_REQUEST] = "request",
    [NIS2_BASIS_ONGOING] = "ongoing_at_final_deadline",
    [NIS2_BASIS_CLOSED] = "incident_closed",
    [NIS2_BASIS_AWAITING_CLOSURE] = "awaiting_closure",
};

const char *
nis2_stage_name(enum nis2_stage s)
{
    return (unsigned)s < NIS2_STAGE_N ? stage_names[s] : "?";
}

int
nis2_stage_parse(const char *s, enum nis2_stage *out)
{
    for (size_t i = 0; s && i < NIS2_STAGE_N; i++) {
        if (strcmp(s, stage_names[i]) == 0) {
            *out = (enum nis2_stage)i;
            return 0;
        }
    }
    return IASO_E_INVAL;
}

const char *
nis2_status_name(enum nis2_status s)
{
    return (unsigned)s <= NIS2_NOT_APPLICABLE ? status_names[s] : "?";
}

const char *
nis2_basis_name(enum nis2_basis b)
{
    return (unsigned)b <= NIS2_BASIS_AWAITING_CLOSURE ? basis_names[b] : NULL;
}

bool
nis2_stage_is_repeatable(enum nis2_stage s)
{
    return s == NIS2_INTERMEDIATE || s == NIS2_PROGRESS;
}

const char *
nis2_stage_article(enum nis2_stage s)
{
    return (unsigned)s < NIS2_STAGE_N ? stage_articles[s] : "?";
}

const char *
nis2_stage_title(enum nis2_stage s)
{
    return (unsigned)s < NIS2_STAGE_N ? stage_titles[s] : "?";
}

/* ---- the calendar ---- */

/* Days since 1970-01-01 to a proleptic Gregorian date (H. Hinnant's civil_from_days). */
static void
civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static unsigned
days_in_month(int64_t y, unsigned m)
{
    static const unsigned mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : mdays[m - 1];
}

int64_t
nis2_month_add(int64_t t)
{
    if (t < 0 || t > NIS2_TIME_MAX)
        return t;
    int64_t y;
    unsigned m, d;
    civil_from_days(t / 86400, &y, &m, &d);
    if (m == 12) {
        m = 1;
        y++;
    } else {
        m++;
    }
    if (y > 9999)
        return t;
    unsigned last = days_in_month(y, m);
    if (d > last)
        d = last;
    return timefmt_days_from_civil(y, m, d) * 86400 + t % 86400;
}

/* ---- the clock ---- */

static enum nis2_status
status_at(int64_t due_at, int64_t sent_at, int64_t now)
{
    if (sent_at > 0)
        return due_at > 0 && sent_at > due_at ? NIS2_SENT_LATE : NIS2_SENT;
    if (due_at <= 0)
        return NIS2_PENDING;
    if (now > due_at)
        return NIS2_LATE;
    /* due_at is at most NIS2_TIME_MAX here, so the subtraction cannot overflow */
    if (now >= due_at - NIS2_DUE_SOON_S)
        return NIS2_DUE;
    return NIS2_PENDING;
}

static int64_t
positive_time(int64_t t)
{
    return t > 0 && t <= NIS2_TIME_MAX ? t : 0;
}

static void
stage_set(struct nis2_stage_clock *c, int64_t due_at, int64_t sent_at, enum nis2_basis basis,
          int64_t now)
{
    c->due_at = due_at;
    c->sent_at = sent_at;
    c->basis = basis;
    c->status = status_at(due_at, sent_at, now);
}

/* A repeatable stage with an unanswered request shows the request; else its latest sending. */
static bool
repeatable_set(struct nis2_stage_clock *c, const struct nis2_facts *f, enum nis2_stage s,
               int64_t now)
{
    int64_t open_due = positive_time(f->open_due_at[s]);
    int64_t sent = positive_time(f->sent_at[s]);
    int64_t sent_due = positive_time(f->sent_due_at[s]);
    if (open_due) {
        stage_set(c, open_due, 0, NIS2_BASIS_REQUEST, now);
        return true;
    }
    if (sent) {
        stage_set(c, sent_due, sent, sent_due ? NIS2_BASIS_REQUEST : NIS2_BASIS_NONE, now);
        return true;
    }
    return false;
}

void
nis2_clock(const struct nis2_facts *f, int64_t now, struct nis2_stage_clock out[NIS2_STAGE_N])
{
    for (size_t s = 0; s < NIS2_STAGE_N; s++) {
        int64_t sent = positive_time(f->sent_at[s]);
        out[s] = (struct nis2_stage_clock){
            .sent_at = sent,
            .status = sent ? NIS2_SENT : NIS2_NOT_APPLICABLE,
            .basis = NIS2_BASIS_NONE,
        };
    }
    int64_t aware = positive_time(f->aware_at);
    if (!f->is_significant || !aware) {
        /* Not a significant incident: nothing is due, but what was sent stays on record. */
        for (size_t s = 0; s < NIS2_STAGE_N; s++) {
            if (nis2_stage_is_repeatable((enum nis2_stage)s) && !positive_time(f->sent_at[s]))
                continue;
            if (nis2_stage_is_repeatable((enum nis2_stage)s) && positive_time(f->sent_due_at[s]))
                stage_set(&out[s], f->sent_due_at[s], out[s].sent_at, NIS2_BASIS_REQUEST, now);
        }
        return;
    }

    stage_set(&out[NIS2_EARLY_WARNING], aware + NIS2_EARLY_WARNING_S,
              out[NIS2_EARLY_WARNING].sent_at, NIS2_BASIS_AWARE, now);
    stage_set(&out[NIS2_NOTIFICATION], aware + NIS2_NOTIFICATION_S, out[NIS2_NOTIFICATION].sent_at,
              NIS2_BASIS_AWARE, now);

    int64_t notified = out[NIS2_NOTIFICATION].sent_at;
    enum nis2_basis final_basis =
        notified ? NIS2_BASIS_NOTIFICATION_SENT : NIS2_BASIS_NOTIFICATION_DUE;
    int64_t final_due = nis2_month_add(notified ? notified : out[NIS2_NOTIFICATION].due_at);
    int64_t closed = positive_time(f->closed_at);
    bool is_ongoing = !closed || closed > final_due;
    int64_t final_sent = out[NIS2_FINAL].sent_at;

    if (!repeatable_set(&out[NIS2_INTERMEDIATE], f, NIS2_INTERMEDIATE, now))
        out[NIS2_INTERMEDIATE].status = NIS2_NOT_APPLICABLE;

    /* Progress: requested, sent, or due at the final deadline while the incident goes on. */
    struct nis2_stage_clock *pr = &out[NIS2_PROGRESS];
    int64_t progress_sent = pr->sent_at;
    if (positive_time(f->open_due_at[NIS2_PROGRESS])) {
        repeatable_set(pr, f, NIS2_PROGRESS, now);
    } else if (progress_sent) {
        int64_t sent_due = positive_time(f->sent_due_at[NIS2_PROGRESS]);
        if (sent_due)
            stage_set(pr, sent_due, progress_sent, NIS2_BASIS_REQUEST, now);
        else if (is_ongoing)
            stage_set(pr, final_due, progress_sent, NIS2_BASIS_ONGOING, now);
        else
            stage_set(pr, 0, progress_sent, NIS2_BASIS_NONE, now);
    } else if (is_ongoing && !final_sent) {
        stage_set(pr, final_due, 0, NIS2_BASIS_ONGOING, now);
    } else {
        pr->status = NIS2_NOT_APPLICABLE;
    }

    /* Final: a month after the notification; after a progress report on an ongoing incident,
     * a month after the incident was handled (closed). */
    if (is_ongoing && progress_sent) {
        if (closed)
            stage_set(&out[NIS2_FINAL], nis2_month_add(closed), final_sent, NIS2_BASIS_CLOSED, now);
        else
            stage_set(&out[NIS2_FINAL], 0, final_sent, NIS2_BASIS_AWAITING_CLOSURE, now);
    } else {
        stage_set(&out[NIS2_FINAL], final_due, final_sent, final_basis, now);
    }
}

bool
nis2_next(const struct nis2_stage_clock clock[NIS2_STAGE_N], enum nis2_stage *stage,
          int64_t *due_at)
{
    bool found = false;
    for (size_t s = 0; s < NIS2_STAGE_N; s++) {
        const struct nis2_stage_clock *c = &clock[s];
        bool is_open = c->status == NIS2_PENDING || c->status == NIS2_DUE || c->status == NIS2_LATE;
        if (!is_open || c->due_at <= 0)
            continue;
        if (!found || c->due_at < *due_at) {
            *stage = (enum nis2_stage)s;
            *due_at = c->due_at;
            found = true;
        }
    }
    return found;
}

static json_t *
time_json(int64_t t)
{
    if (t <= 0)
        return json_null();
    char s[TIMEFMT_UTC_LEN + 1];
    timefmt_utc((uint64_t)t * 1000000u, s, sizeof(s));
    return json_string(s);
}

json_t *
nis2_clock_json(const struct nis2_stage_clock clock[NIS2_STAGE_N])
{
    json_t *arr = json_array();
    for (size_t s = 0; arr && s < NIS2_STAGE_N; s++) {
        const struct nis2_stage_clock *c = &clock[s];
        const char *basis = nis2_basis_name(c->basis);
        json_t *o = json_object();
        json_object_set_new(o, "stage", json_string(stage_names[s]));
        json_object_set_new(o, "due_at", time_json(c->due_at));
        json_object_set_new(o, "sent_at", time_json(c->sent_at));
        json_object_set_new(o, "status", json_string(nis2_status_name(c->status)));
        json_object_set_new(o, "basis", basis ? json_string(basis) : json_null());
        if (json_array_append_new(arr, o) != 0) {
            json_decref(arr);
            return NULL;
        }
    }
    return arr;
}

/* ---- what each stage must say ---- */

static const char *const severities[] = {"low", "medium", "high", "critical", NULL};

static const struct api_field early_warning_fields[] = {
    {"suspected_malicious", AF_BOOL, true, 0, 0, NULL},
    {"cross_border_possible", AF_BOOL, true, 0, 0, NULL},
    {"details", AF_STRING, false, 0, NIS2_TEXT_MAX, NULL},
};

static const struct api_field notification_fields[] = {
    {"suspected_malicious", AF_BOOL, false, 0, 0, NULL},
    {"cross_border_possible", AF_BOOL, false, 0, 0, NULL},
    {"severity", AF_ENUM, true, 0, 0, severities},
    {"impact", AF_STRING, true, 1, NIS2_TEXT_MAX, NULL},
    {"initial_assessment", AF_STRING, true, 1, NIS2_TEXT_MAX, NULL},
    {"indicators_note", AF_STRING, false, 0, NIS2_TEXT_MAX, NULL},
};

static const struct api_field intermediate_fields[] = {
    {"status_update", AF_STRING, true, 1, NIS2_TEXT_MAX, NULL},
};

static const struct api_field final_fields[] = {
    {"description", AF_STRING, true, 1, NIS2_TEXT_MAX, NULL},
    {"severity", AF_ENUM, true, 0, 0, severities},
    {"impact", AF_STRING, true, 1, NIS2_TEXT_MAX, NULL},
    {"threat_type", AF_STRING, true, 1, NIS2_TEXT_MAX, NULL},
    {"root_cause", AF_STRING, true, 1, NIS2_TEXT_MAX, NULL},
    {"mitigation", AF_STRING, true, 1, NIS2_TEXT_MAX, NULL},
    {"cross_border_impact", AF_STRING, false, 0, NIS2_TEXT_MAX, NULL},
};

static const struct api_field progress_fields[] = {
    {"description", AF_STRING, true, 1, NIS2_TEXT_MAX, NULL},
    {"severity", AF_ENUM, false, 0, 0, severities},
    {"impact", AF_STRING, false, 0, NIS2_TEXT_MAX, NULL},
    {"threat_type", AF_STRING, false, 0, NIS2_TEXT_MAX, NULL},
    {"root_cause", AF_STRING, false, 0, NIS2_TEXT_MAX, NULL},
    {"mitigation", AF_STRING, true, 1, NIS2_TEXT_MAX, NULL},
    {"cross_border_impact", AF_STRING, false, 0, NIS2_TEXT_MAX, NULL},
};

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

const struct api_field *
nis2_stage_fields(enum nis2_stage s, size_t *n_fields)
{
    switch (s) {
    case NIS2_EARLY_WARNING:
        *n_fields = N_OF(early_warning_fields);
        return early_warning_fields;
    case NIS2_NOTIFICATION:
        *n_fields = N_OF(notification_fields);
        return notification_fields;
    case NIS2_INTERMEDIATE:
        *n_fields = N_OF(intermediate_fields);
        return intermediate_fields;
    case NIS2_FINAL:
        *n_fields = N_OF(final_fields);
        return final_fields;
    case NIS2_PROGRESS:
        *n_fields = N_OF(progress_fields);
        return progress_fields;
    case NIS2_STAGE_N:
        break;
    }
    *n_fields = 0;
    return NULL;
}

/* The headings of the printed report: each answer's question, as the directive puts it. */
struct question {
    const char *field;
    const char *heading;
};

static const struct question early_warning_questions[] = {
    {"suspected_malicious",
     "Is the incident suspected of being caused by unlawful or malicious acts?"},
    {"cross_border_possible", "Could the incident have a cross-border impact?"},
    {"details", "Further details"},
};

static const struct question notification_questions[] = {
    {"suspected_malicious", "Update of the early warning: suspected unlawful or malicious act"},
    {"cross_border_possible", "Update of the early warning: possible cross-border impact"},
    {"severity", "Initial assessment: severity"},
    {"impact", "Initial assessment: impact"},
    {"initial_assessment", "Initial assessment of the incident"},
    {"indicators_note", "Notes on the indicators of compromise"},
};

static const struct question intermediate_questions[] = {
    {"status_update", "Relevant status updates"},
};

static const struct question final_questions[] = {
    {"description", "Detailed description of the incident, including its severity and impact"},
    {"severity", "Severity"},
    {"impact", "Impact"},
    {"threat_type", "Type of threat"},
    {"root_cause", "Root cause that is likely to have triggered the incident"},
    {"mitigation", "Applied and ongoing mitigation measures"},
    {"cross_border_impact", "Cross-border impact of the incident"},
};

static const struct question *
stage_questions(enum nis2_stage s, size_t *n)
{
    switch (s) {
    case NIS2_EARLY_WARNING:
        *n = N_OF(early_warning_questions);
        return early_warning_questions;
    case NIS2_NOTIFICATION:
        *n = N_OF(notification_questions);
        return notification_questions;
    case NIS2_INTERMEDIATE:
        *n = N_OF(intermediate_questions);
        return intermediate_questions;
    case NIS2_FINAL:
    case NIS2_PROGRESS:
        *n = N_OF(final_questions);
        return final_questions;
    case NIS2_STAGE_N:
        break;
    }
    *n = 0;
    return NULL;
}

/* ---- the snapshot ---- */

/* The incident's fields a report carries, in print order, with their labels: who and what
 * first, then the details. Restricted fields (ransom, coordinates) are in neither list, so no
 * snapshot ever holds them. The indicators of compromise join from the notification on. */
struct incident_item {
    const char *key;
    const char *label;
};

static const struct incident_item identity_items[] = {
    {"id", "Incident number"},
    {"kind", "Kind"},
    {"title", "Title"},
    {"org", "Entity"},
    {"country", "Country"},
    {"region", "Region"},
    {"status", "Status"},
    {"tlp", "TLP"},
    {"nis2", "Significant incident (NIS2)"},
    {"occurred_at", "Occurred"},
    {"aware_at", "Became aware"},
};

static const struct incident_item detail_items[] = {
    {"classification", "Classification (ENISA RSIT)"},
    {"attack_vector", "Attack vector"},
    {"threat_actor", "Threat actor"},
    {"systems_affected", "Systems affected"},
    {"care_services_disrupted", "Care services disrupted"},
    {"downtime_hours", "Downtime (hours)"},
    {"patients_affected", "Patients affected"},
    {"procedures_cancelled", "Procedures cancelled"},
    {"ambulance_diversion_hours", "Ambulance diversion (hours)"},
    {"records_exposed", "Records exposed"},
    {"cross_border", "Cross-border impact"},
    {"cross_border_countries", "Countries affected across borders"},
    {"attack_type", "Attack type (WHO SSA)"},
    {"perpetrator_type", "Perpetrator"},
    {"weapon", "Weapon"},
    {"victims", "Victims"},
    {"health_resources_affected", "Health resources affected"},
    {"place_name", "Place"},
    {"certainty", "Certainty"},
};

static void
copy_items(json_t *dst, const json_t *src, const struct incident_item *items, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        json_t *v = json_object_get(src, items[i].key);
        if (v)
            json_object_set_new(dst, items[i].key, json_deep_copy(v));
    }
}

json_t *
nis2_snapshot(enum nis2_stage s, int64_t due_at, enum nis2_basis basis, const json_t *incident,
              const json_t *answers)
{
    if (!json_is_object(incident) || (unsigned)s >= NIS2_STAGE_N)
        return NULL;
    json_t *inc = json_object();
    json_t *rep = json_object();
    json_t *doc = json_object();
    if (!inc || !rep || !doc) {
        json_decref(inc);
        json_decref(rep);
        json_decref(doc);
        return NULL;
    }
    copy_items(inc, incident, identity_items, N_OF(identity_items));
    copy_items(inc, incident, detail_items, N_OF(detail_items));
    json_t *iocs = json_object_get(incident, "indicators");
    if (s != NIS2_EARLY_WARNING && iocs)
        json_object_set_new(inc, "indicators", json_deep_copy(iocs));
    size_t n = 0;
    const struct api_field *fields = nis2_stage_fields(s, &n);
    for (size_t i = 0; json_is_object(answers) && i < n; i++) {
        json_t *v = json_object_get(answers, fields[i].name);
        if (v && !json_is_null(v))
            json_object_set_new(rep, fields[i].name, json_deep_copy(v));
    }
    const char *basis_name = nis2_basis_name(basis);
    json_object_set_new(doc, "stage", json_string(stage_names[s]));
    json_object_set_new(doc, "due_at", time_json(due_at));
    json_object_set_new(doc, "basis", basis_name ? json_string(basis_name) : json_null());
    json_object_set_new(doc, "incident", inc);
    json_object_set_new(doc, "report", rep);
    return doc;
}

/* ---- the printable page ---- */

int
nis2_html_escape(struct buf *out, const char *s, size_t len)
{
    int rc = 0;
    size_t run = 0; /* bytes copied as they are, flushed before each replacement */
    for (size_t i = 0; i < len && rc == 0; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *rep = NULL;
        switch (c) {
        case '&':
            rep = "&amp;";
            break;
        case '<':
            rep = "&lt;";
            break;
        case '>':
            rep = "&gt;";
            break;
        case '"':
            rep = "&quot;";
            break;
        case '\'':
            rep = "&#39;";
            break;
        default:
            if ((c < 0x20 && c != '\t' && c != '\n') || c == 0x7f)
                rep = "";
            break;
        }
        if (!rep) {
            run++;
            continue;
        }
        rc = buf_append(out, s + i - run, run);
        run = 0;
        if (rc == 0)
            rc = buf_append_str(out, rep);
    }
    if (rc == 0 && run)
        rc = buf_append(out, s + len - run, run);
    return rc;
}

static int
esc(struct buf *out, const char *s)
{
    return nis2_html_escape(out, s, strlen(s));
}

static int
none(struct buf *out)
{
    return buf_append_str(out, "<span class=\"none\">not given</span>");
}

/* A scalar as text; containers as an ellipsis (the callers open at most two levels). */
static int
html_scalar(struct buf *out, const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_STRING:
        return nis2_html_escape(out, json_string_value(v), json_string_length(v));
    case JSON_INTEGER:
        return buf_printf(out, "%lld", (long long)json_integer_value(v));
    case JSON_REAL:
        return buf_printf(out, "%.15g", json_real_value(v));
    case JSON_TRUE:
        return buf_append_str(out, "yes");
    case JSON_FALSE:
        return buf_append_str(out, "no");
    case JSON_NULL:
        return none(out);
    case JSON_OBJECT:
    case JSON_ARRAY:
        break;
    }
    return buf_append_str(out, "&hellip;");
}

typedef int (*html_print_fn)(struct buf *out, const json_t *v);

/* A container's items, each printed by `item`: "a, b" for an array, "k: v; k: v" for an
 * object. */
static int
html_items(struct buf *out, const json_t *v, html_print_fn item)
{
    int rc = 0;
    if (json_is_array(v)) {
        size_t i;
        const json_t *e;
        json_array_foreach(v, i, e)
        {
            if (rc == 0 && i)
                rc = buf_append_str(out, ", ");
            if (rc == 0)
                rc = item(out, e);
        }
        return rc;
    }
    const char *k;
    const json_t *e;
    bool first = true;
    json_object_foreach((json_t *)v, k, e)
    {
        if (rc == 0 && !first)
            rc = buf_append_str(out, "; ");
        first = false;
        if (rc == 0)
            rc = esc(out, k);
        if (rc == 0)
            rc = buf_append_str(out, ": ");
        if (rc == 0)
            rc = item(out, e);
    }
    return rc;
}

/* One level of a container; deeper values print as an ellipsis. */
static int
html_flat(struct buf *out, const json_t *v)
{
    if (json_is_array(v) || json_is_object(v))
        return html_items(out, v, html_scalar);
    return html_scalar(out, v);
}

/* Any value, opening containers two levels deep: {"patients": {"killed": 1}} prints as
 * "patients: killed: 1". Empty texts and containers print as "not given". */
static int
html_value(struct buf *out, const json_t *v)
{
    if (!v || json_is_null(v) || (json_is_array(v) && json_array_size(v) == 0) ||
        (json_is_object(v) && json_object_size(v) == 0) ||
        (json_is_string(v) && json_string_length(v) == 0))
        return none(out);
    /* an organisation {"id", "name"} prints as its name */
    const json_t *name = json_object_get(v, "name");
    if (json_is_object(v) && json_is_string(name) && json_object_size(v) <= 2)
        return html_scalar(out, name);
    if (json_is_array(v) || json_is_object(v))
        return html_items(out, v, html_flat);
    return html_scalar(out, v);
}

static int
row(struct buf *out, const char *label, const json_t *v)
{
    int rc = buf_append_str(out, "<tr><th>");
    if (rc == 0)
        rc = esc(out, label);
    if (rc == 0)
        rc = buf_append_str(out, "</th><td class=\"text\">");
    if (rc == 0)
        rc = html_value(out, v);
    if (rc == 0)
        rc = buf_append_str(out, "</td></tr>\n");
    return rc;
}

/* TLP 2.0: the label in its colour on black. An unknown label prints as RED, the safe side. */
static const char *
tlp_class(const char *tlp, const char **label)
{
    static const char *const names[] = {"CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED"};
    static const char *const classes[] = {"clear", "green", "amber", "amber", "red"};
    for (size_t i = 0; tlp && i < N_OF(names); i++) {
        if (strcmp(tlp, names[i]) == 0) {
            *label = names[i];
            return classes[i];
        }
    }
    *label = "RED";
    return "red";
}

static const char html_style[] =
    "body{font:11pt/1.45 system-ui,-apple-system,\"Segoe UI\",Roboto,sans-serif;color:#111;"
    "max-width:52em;margin:2em auto;padding:0 1em}\n"
    ".tlp{display:inline-block;background:#000;font-weight:bold;padding:.2em .6em;"
    "letter-spacing:.05em;margin:0}\n"
    ".tlp-red{color:#FF2B2B}.tlp-amber{color:#FFC000}.tlp-green{color:#33FF00}"
    ".tlp-clear{color:#FFFFFF}\n"
    "h1{font-size:1.5em;margin:.6em 0 .1em}h2{font-size:1.1em;border-bottom:1px solid #999;"
    "margin-top:1.6em}\n"
    ".article{color:#444;margin:0 0 1em}\n"
    "table{border-collapse:collapse;width:100%}th,td{text-align:left;vertical-align:top;"
    "padding:.25em .5em;border-bottom:1px solid #ddd}th{width:16em;font-weight:600}\n"
    ".text{white-space:pre-wrap;overflow-wrap:anywhere}.none{color:#777;font-style:italic}\n"
    ".draft{border:2px dashed #b00;color:#b00;padding:.4em .8em;font-weight:bold}\n"
    ".late{color:#b00;font-weight:bold}\n"
    "footer{margin-top:2em;font-size:.85em;color:#555}\n"
    "@media print{body{margin:0;max-width:none;font-size:10pt}"
    ".tlp{-webkit-print-color-adjust:exact;print-color-adjust:exact}"
    "h2{break-after:avoid}tr{break-inside:avoid}@page{margin:18mm}}\n";

static int
html_tlp(struct buf *out, const char *tlp)
{
    const char *label;
    const char *cls = tlp_class(tlp, &label);
    return buf_printf(out, "<p class=\"tlp tlp-%s\">TLP:%s</p>\n", cls, label);
}

static int
html_indicators(struct buf *out, const json_t *list)
{
    int rc = buf_append_str(out, "<table>\n<tr><th>Type</th><th>Value</th><th>Comment</th></tr>\n");
    size_t i;
    const json_t *e;
    json_array_foreach(list, i, e)
    {
        static const char *const cols[] = {"type", "value", "comment"};
        if (rc == 0)
            rc = buf_append_str(out, "<tr>");
        for (size_t k = 0; k < N_OF(cols) && rc == 0; k++) {
            rc = buf_append_str(out, "<td class=\"text\">");
            if (rc == 0)
                rc = html_scalar(out, json_object_get(e, cols[k]) ? json_object_get(e, cols[k])
                                                                  : json_null());
            if (rc == 0)
                rc = buf_append_str(out, "</td>");
        }
        if (rc == 0)
            rc = buf_append_str(out, "</tr>\n");
    }
    if (rc == 0)
        rc = buf_append_str(out, "</table>\n");
    return rc;
}

int
nis2_export_html(const json_t *export_doc, struct buf *out)
{
    const json_t *content = json_object_get(export_doc, "content");
    const json_t *inc = json_object_get(content, "incident");
    const json_t *rep = json_object_get(content, "report");
    const char *tlp = json_string_value(json_object_get(export_doc, "tlp"));
    enum nis2_stage stage = NIS2_EARLY_WARNING;
    bool is_known =
        nis2_stage_parse(json_string_value(json_object_get(export_doc, "stage")), &stage) == 0;
    const char *title = is_known ? stage_titles[stage] : "Report";
    const json_t *id = json_object_get(inc, "id");
    int rc = buf_append_str(out, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
                                 "<meta charset=\"utf-8\">\n"
                                 "<meta name=\"viewport\" content=\"width=device-width, "
                                 "initial-scale=1\">\n<title>NIS2 ");
    if (rc == 0)
        rc = esc(out, title);
    if (rc == 0 && json_is_integer(id))
        rc = buf_printf(out, " &ndash; incident %lld", (long long)json_integer_value(id));
    if (rc == 0)
        rc = buf_append_str(out, "</title>\n<style>\n");
    if (rc == 0)
        rc = buf_append_str(out, html_style);
    if (rc == 0)
        rc = buf_append_str(out, "</style>\n</head>\n<body>\n<header>\n");
    if (rc == 0)
        rc = html_tlp(out, tlp);
    if (rc == 0)
        rc = buf_append_str(out, "<h1>NIS2 ");
    if (rc == 0)
        rc = esc(out, title);
    if (rc == 0)
        rc = buf_printf(out, "</h1>\n<p class=\"article\">Directive (EU) 2022/2555, %s</p>\n",
                        is_known ? stage_articles[stage] : "Article 23(4)");
    if (rc == 0)
        rc = buf_append_str(out, "</header>\n");
    if (rc == 0 && json_is_true(json_object_get(export_doc, "draft")))
        rc = buf_append_str(out, "<p class=\"draft\">DRAFT &ndash; not sent. This page shows "
                                 "the incident as it is recorded now.</p>\n");

    if (rc == 0)
        rc = buf_append_str(out, "<h2>Entity and incident</h2>\n<table>\n");
    for (size_t i = 0; rc == 0 && i < N_OF(identity_items); i++)
        rc = row(out, identity_items[i].label, json_object_get(inc, identity_items[i].key));
    if (rc == 0)
        rc = buf_append_str(out, "</table>\n<h2>Dates</h2>\n<table>\n");
    static const struct question dates[] = {
        {"due_at", "Due"},           {"sent_at", "Sent"},
        {"sent_by", "Sent by"},      {"requested_at", "Requested by the CSIRT"},
        {"basis", "Deadline basis"}, {"status", "Status"},
    };
    for (size_t i = 0; rc == 0 && i < N_OF(dates); i++) {
        const json_t *v = json_object_get(export_doc, dates[i].field);
        if (v && !json_is_null(v))
            rc = row(out, dates[i].heading, v);
        else if (strcmp(dates[i].field, "sent_at") == 0)
            rc = buf_append_str(out, "<tr><th>Sent</th><td><span class=\"none\">not sent"
                                     "</span></td></tr>\n");
    }
    if (rc == 0)
        rc = buf_append_str(out, "</table>\n");

    size_t n_q = 0;
    const struct question *qs = is_known ? stage_questions(stage, &n_q) : NULL;
    if (rc == 0)
        rc = buf_printf(out, "<h2>%s</h2>\n<table>\n",
                        is_known && stage == NIS2_INTERMEDIATE ? "Status"
                                                               : "What the directive asks");
    for (size_t i = 0; rc == 0 && i < n_q; i++)
        rc = row(out, qs[i].heading, json_object_get(rep, qs[i].field));
    if (rc == 0)
        rc = buf_append_str(out, "</table>\n");

    const json_t *iocs = json_object_get(inc, "indicators");
    if (rc == 0 && json_is_array(iocs) && json_array_size(iocs) > 0) {
        rc = buf_append_str(out, "<h2>Indicators of compromise</h2>\n");
        if (rc == 0)
            rc = html_indicators(out, iocs);
    }

    bool has_details = false;
    for (size_t i = 0; i < N_OF(detail_items); i++)
        has_details |= json_object_get(inc, detail_items[i].key) != NULL;
    if (rc == 0 && has_details) {
        rc = buf_append_str(out, "<h2>Incident details</h2>\n<table>\n");
        for (size_t i = 0; rc == 0 && i < N_OF(detail_items); i++) {
            const json_t *v = json_object_get(inc, detail_items[i].key);
            if (v)
                rc = row(out, detail_items[i].label, v);
        }
        if (rc == 0)
            rc = buf_append_str(out, "</table>\n");
    }

    const json_t *fb = json_object_get(export_doc, "feedback");
    if (rc == 0 && json_is_string(fb)) {
        rc = buf_append_str(out, "<h2>Feedback from the CSIRT</h2>\n<table>\n");
        if (rc == 0)
            rc = row(out, "Feedback", fb);
        if (rc == 0 && json_object_get(export_doc, "feedback_at"))
            rc = row(out, "Given", json_object_get(export_doc, "feedback_at"));
        if (rc == 0)
            rc = buf_append_str(out, "</table>\n");
    }

    if (rc == 0)
        rc = buf_append_str(out, "<footer>\n");
    if (rc == 0)
        rc = html_tlp(out, tlp);
    if (rc == 0)
        rc = buf_append_str(out, "<p>Reported under Article 23 of Directive (EU) 2022/2555 "
                                 "(NIS2). Times are UTC.</p>\n</footer>\n</body>\n</html>\n");
    return rc;
}
