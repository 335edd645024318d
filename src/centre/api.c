// SPDX-License-Identifier: Apache-2.0
// The JSON API's common ground; see api.h.
#include "centre/api.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/parse.h"
#include "base/timefmt.h"

const char *const api_tlp_names[] = {"CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED", NULL};

int
api_tlp_parse(const char *s, enum tlp *out)
{
    for (size_t i = 0; s && api_tlp_names[i]; i++) {
        /* TLP 2.0 names; "TLP:AMBER" is accepted too */
        const char *v = strncmp(s, "TLP:", 4) == 0 ? s + 4 : s;
        if (strcmp(v, api_tlp_names[i]) == 0) {
            *out = (enum tlp)i;
            return 0;
        }
    }
    return IASO_E_INVAL;
}

void
api_send_json(struct api *a, int status, json_t *v)
{
    buf_reset(&a->resp->body);
    char *s = json_dumps(v, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_REAL_PRECISION(15));
    json_decref(v);
    if (!s) {
        http_resp_error(a->resp, 500, "internal", "out of memory");
        return;
    }
    a->resp->status = status;
    a->resp->content_type = "application/json";
    if (buf_append_str(&a->resp->body, s) != 0)
        http_resp_error(a->resp, 500, "internal", "response too large");
    free(s);
}

json_t *
api_object(const char *key, json_t *value, ...)
{
    json_t *o = json_object();
    va_list ap;
    va_start(ap, value);
    while (key) {
        json_object_set_new(o, key, value);
        key = va_arg(ap, const char *);
        if (key)
            value = va_arg(ap, json_t *);
    }
    va_end(ap);
    return o;
}

void
api_error(struct api *a, int status, const char *code, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    /* Messages about a field say "field 'NAME'" (and "item N" for arrays): that convention is
     * turned into members, so a form can put the message next to its input. */
    const char *f = status == 400 ? strstr(msg, "field '") : NULL;
    const char *fs = status == 400 ? strstr(msg, "fields '") : NULL;
    if (fs && (!f || fs < f))
        f = fs + 1; /* "fields 'a' and 'b'": the first one */
    const char *end = f ? strchr(f + 7, '\'') : NULL;
    json_t *jm = end ? json_string(msg) : NULL;
    json_t *jf = end ? json_stringn(f + 7, (size_t)(end - f - 7)) : NULL;
    if (!jm || !jf) { /* no field named, or a message cut inside a UTF-8 sequence */
        json_decref(jm);
        json_decref(jf);
        http_resp_error(a->resp, status, code, "%s", msg);
        return;
    }
    json_t *e = json_object();
    json_object_set_new(e, "status", json_integer(status));
    json_object_set_new(e, "code", json_string(code));
    json_object_set_new(e, "message", jm);
    json_object_set_new(e, "field", jf);
    const char *item = strstr(end, "item ");
    long long n = 0;
    if (item && item[5] >= '0' && item[5] <= '9') {
        for (const char *c = item + 5; *c >= '0' && *c <= '9' && n < 1000000; c++)
            n = n * 10 + (*c - '0');
        json_object_set_new(e, "item", json_integer(n));
    }
    json_t *out = json_object();
    json_object_set_new(out, "error", e);
    api_send_json(a, status, out);
}

void
api_store_error(struct api *a, int rc)
{
    log_msg(LOG_LEVEL_ERROR, "centre: %s %s: store: %s", a->req->method, a->req->path,
            a->eb.msg[0] ? a->eb.msg : iaso_strerror(rc));
    api_error(a, 500, "store", "the database could not complete the request; try again");
}

void
api_not_found(struct api *a, const char *what)
{
    api_error(a, 404, "not_found", "%s not found", what);
}

void
api_forbidden(struct api *a, const char *why)
{
    api_error(a, 403, "forbidden", "%s", why);
}

/* ---- times ---- */

static int
digits(const char *s, size_t n, int *out)
{
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

int
api_time_parse(const char *s, int64_t *out)
{
    int y, mo, d, h, mi, se;
    size_t len = strlen(s);
    if (len < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') || s[13] != ':' ||
        s[16] != ':')
        return IASO_E_INVAL;
    if (digits(s, 4, &y) || digits(s + 5, 2, &mo) || digits(s + 8, 2, &d) ||
        digits(s + 11, 2, &h) || digits(s + 14, 2, &mi) || digits(s + 17, 2, &se))
        return IASO_E_INVAL;
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] ||
        (mo == 2 && d == 29 && !leap) || h > 23 || mi > 59 || se > 60)
        return IASO_E_INVAL;
    const char *p = s + 19;
    if (*p == '.') {
        p++;
        const char *f = p;
        while (*p >= '0' && *p <= '9')
            p++;
        if (p == f || p - f > 9)
            return IASO_E_INVAL;
    }
    int64_t offset = 0;
    if ((*p == 'Z' || *p == 'z') && p[1] == '\0') {
        offset = 0;
    } else if ((*p == '+' || *p == '-') && strlen(p) == 6 && p[3] == ':') {
        int oh, om;
        if (digits(p + 1, 2, &oh) || digits(p + 4, 2, &om) || oh > 23 || om > 59)
            return IASO_E_INVAL;
        offset = (int64_t)oh * 3600 + (int64_t)om * 60;
        if (*p == '-')
            offset = -offset;
    } else {
        return IASO_E_INVAL;
    }
    if (se == 60)
        se = 59; /* a leap second is kept as the second before it */
    int64_t days = timefmt_days_from_civil(y, (unsigned)mo, (unsigned)d);
    int64_t t = days * 86400 + (int64_t)h * 3600 + (int64_t)mi * 60 + se - offset;
    if (t < 0)
        return IASO_E_INVAL;
    *out = t;
    return 0;
}

void
api_time_format(int64_t t, char out[21])
{
    if (timefmt_utc((uint64_t)(t < 0 ? 0 : t) * 1000000u, out, 21) == 0)
        out[0] = '\0';
}

json_t *
api_time_json(int64_t t)
{
    if (t <= 0)
        return json_null();
    char s[21];
    api_time_format(t, s);
    return json_string(s);
}

/* ---- bodies ---- */

static bool
in_choices(const char *const *choices, const char *s)
{
    for (size_t i = 0; choices && choices[i]; i++)
        if (strcmp(choices[i], s) == 0)
            return true;
    return false;
}

static int
field_check(const struct api_field *f, const json_t *v, char *msg, size_t msg_len)
{
    if (json_is_null(v)) {
        if (f->required) {
            snprintf(msg, msg_len, "field '%s' may not be null", f->name);
            return IASO_E_INVAL;
        }
        return 0;
    }
    switch (f->type) {
    case AF_STRING:
    case AF_ENUM:
    case AF_TIME: {
        if (!json_is_string(v)) {
            snprintf(msg, msg_len, "field '%s' must be a string", f->name);
            return IASO_E_INVAL;
        }
        const char *s = json_string_value(v);
        size_t len = json_string_length(v);
        if (strlen(s) != len) {
            snprintf(msg, msg_len, "field '%s' contains a NUL character", f->name);
            return IASO_E_INVAL;
        }
        if (f->type == AF_STRING && ((int64_t)len < f->min || (int64_t)len > f->max)) {
            snprintf(msg, msg_len, "field '%s' must be %lld to %lld bytes long (got %zu)", f->name,
                     (long long)f->min, (long long)f->max, len);
            return IASO_E_INVAL;
        }
        if (f->type == AF_ENUM && !in_choices(f->choices, s)) {
            int n = snprintf(msg, msg_len, "field '%s' must be one of:", f->name);
            for (size_t i = 0; f->choices[i] && n > 0 && (size_t)n < msg_len; i++)
                n += snprintf(msg + n, msg_len - (size_t)n, "%s %s", i ? "," : "", f->choices[i]);
            return IASO_E_INVAL;
        }
        int64_t t;
        if (f->type == AF_TIME && api_time_parse(s, &t) != 0) {
            snprintf(msg, msg_len,
                     "field '%s' must be a date and time like 2026-11-23T08:30:00Z (RFC 3339)",
                     f->name);
            return IASO_E_INVAL;
        }
        return 0;
    }
    case AF_INT: {
        if (!json_is_integer(v)) {
            snprintf(msg, msg_len, "field '%s' must be an integer", f->name);
            return IASO_E_INVAL;
        }
        json_int_t i = json_integer_value(v);
        if (i < f->min || i > f->max) {
            snprintf(msg, msg_len, "field '%s' must be between %lld and %lld", f->name,
                     (long long)f->min, (long long)f->max);
            return IASO_E_INVAL;
        }
        return 0;
    }
    case AF_NUMBER: {
        if (!json_is_number(v)) {
            snprintf(msg, msg_len, "field '%s' must be a number", f->name);
            return IASO_E_INVAL;
        }
        double d = json_number_value(v);
        if (!(d >= (double)f->min && d <= (double)f->max)) {
            snprintf(msg, msg_len, "field '%s' must be between %lld and %lld", f->name,
                     (long long)f->min, (long long)f->max);
            return IASO_E_INVAL;
        }
        return 0;
    }
    case AF_BOOL:
        if (!json_is_boolean(v)) {
            snprintf(msg, msg_len, "field '%s' must be true or false", f->name);
            return IASO_E_INVAL;
        }
        return 0;
    case AF_ENUM_SET:
    case AF_STRINGS: {
        if (!json_is_array(v) || json_array_size(v) > 64) {
            snprintf(msg, msg_len, "field '%s' must be an array of at most 64 strings", f->name);
            return IASO_E_INVAL;
        }
        size_t i;
        const json_t *e;
        json_array_foreach(v, i, e)
        {
            if (!json_is_string(e) || strlen(json_string_value(e)) != json_string_length(e)) {
                snprintf(msg, msg_len, "field '%s' item %zu must be a string", f->name, i);
                return IASO_E_INVAL;
            }
            const char *s = json_string_value(e);
            if (f->type == AF_ENUM_SET && !in_choices(f->choices, s)) {
                snprintf(msg, msg_len, "field '%s' item %zu ('%.40s') is not a known value",
                         f->name, i, s);
                return IASO_E_INVAL;
            }
            if (f->type == AF_STRINGS &&
                ((int64_t)json_string_length(e) > f->max || json_string_length(e) == 0)) {
                snprintf(msg, msg_len, "field '%s' item %zu must be 1 to %lld bytes", f->name, i,
                         (long long)f->max);
                return IASO_E_INVAL;
            }
            for (size_t j = 0; j < i && f->type == AF_ENUM_SET; j++) {
                if (strcmp(json_string_value(json_array_get(v, j)), s) == 0) {
                    snprintf(msg, msg_len, "field '%s' lists '%.40s' twice", f->name, s);
                    return IASO_E_INVAL;
                }
            }
        }
        return 0;
    }
    case AF_OBJECT: {
        if (!json_is_object(v)) {
            snprintf(msg, msg_len, "field '%s' must be an object", f->name);
            return IASO_E_INVAL;
        }
        return 0;
    }
    case AF_ARRAY:
        if (!json_is_array(v) || (int64_t)json_array_size(v) > f->max) {
            snprintf(msg, msg_len, "field '%s' must be an array of at most %lld items", f->name,
                     (long long)f->max);
            return IASO_E_INVAL;
        }
        return 0;
    }
    return IASO_E_INVAL;
}

int
api_fields_check(const json_t *obj, const struct api_field *fields, size_t n_fields, bool partial,
                 char *msg, size_t msg_len)
{
    if (!json_is_object(obj)) {
        snprintf(msg, msg_len, "the body must be a JSON object");
        return IASO_E_INVAL;
    }
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)obj, key, v)
    {
        const struct api_field *f = NULL;
        for (size_t i = 0; i < n_fields; i++) {
            if (strcmp(fields[i].name, key) == 0) {
                f = &fields[i];
                break;
            }
        }
        if (!f) {
            snprintf(msg, msg_len, "unknown field '%.64s'", key);
            return IASO_E_INVAL;
        }
        if (field_check(f, v, msg, msg_len) != 0)
            return IASO_E_INVAL;
    }
    for (size_t i = 0; i < n_fields && !partial; i++) {
        if (fields[i].required && !json_object_get(obj, fields[i].name)) {
            snprintf(msg, msg_len, "field '%s' is required", fields[i].name);
            return IASO_E_INVAL;
        }
    }
    return 0;
}

/* The body decoded as JSON, any value (415 or 400 answered otherwise, NULL returned). */
static json_t *
body_load(struct api *a)
{
    const char *ct = http_req_header(a->req, "Content-Type");
    if (!ct || strncmp(ct, "application/json", 16) != 0) {
        api_error(a, 415, "unsupported_media_type",
                  "send the body as JSON with Content-Type: application/json");
        return NULL;
    }
    json_error_t jerr;
    json_t *obj =
        json_loadb((const char *)a->req->body, a->req->body_len, JSON_REJECT_DUPLICATES, &jerr);
    if (!obj) {
        api_error(a, 400, "bad_json", "the body is not valid JSON: %s (line %d, column %d)",
                  jerr.text, jerr.line, jerr.column);
        return NULL;
    }
    return obj;
}

json_t *
api_body_object(struct api *a)
{
    json_t *obj = body_load(a);
    if (obj && !json_is_object(obj)) {
        json_decref(obj);
        api_error(a, 400, "bad_json", "the body must be a JSON object");
        return NULL;
    }
    return obj;
}

json_t *
api_body(struct api *a, const struct api_field *fields, size_t n_fields, bool partial)
{
    json_t *obj = body_load(a);
    if (!obj)
        return NULL;
    char msg[300];
    if (api_fields_check(obj, fields, n_fields, partial, msg, sizeof(msg)) != 0) {
        json_decref(obj);
        api_error(a, 400, "bad_field", "%s", msg);
        return NULL;
    }
    return obj;
}

void
api_bad_query(struct api *a, const char *name, const char *want)
{
    api_error(a, 400, "bad_query", "query parameter '%s' must be %s", name, want);
}

json_t *
api_names_json(const char *const *names)
{
    json_t *a = json_array();
    for (size_t i = 0; names && names[i]; i++)
        json_array_append_new(a, json_string(names[i]));
    return a;
}

json_t *
api_fields_json(const struct api_field *fields, size_t n_fields)
{
    static const char *const type_names[] = {
        [AF_STRING] = "string",   [AF_INT] = "integer",   [AF_BOOL] = "boolean",
        [AF_TIME] = "time",       [AF_ENUM] = "enum",     [AF_ENUM_SET] = "enum_set",
        [AF_STRINGS] = "strings", [AF_OBJECT] = "object", [AF_NUMBER] = "number",
        [AF_ARRAY] = "array",
    };
    json_t *out = json_array();
    for (size_t i = 0; i < n_fields; i++) {
        const struct api_field *f = &fields[i];
        json_t *o = json_object();
        json_object_set_new(o, "name", json_string(f->name));
        json_object_set_new(o, "type", json_string(type_names[f->type]));
        json_object_set_new(o, "required", json_boolean(f->required));
        bool bounded = f->type == AF_STRING || f->type == AF_INT || f->type == AF_NUMBER ||
                       f->type == AF_STRINGS || f->type == AF_ARRAY;
        if (bounded) {
            json_object_set_new(o, "min", json_integer(f->min));
            json_object_set_new(o, "max", json_integer(f->max));
        }
        if (f->choices)
            json_object_set_new(o, "choices", api_names_json(f->choices));
        json_array_append_new(out, o);
    }
    return out;
}

int
api_query_int(struct api *a, const char *name, int64_t def, int64_t min, int64_t max, int64_t *out)
{
    const char *s = http_req_query(a->req, name);
    if (!s) {
        *out = def;
        return 0;
    }
    if (parse_i64(s, strlen(s), min, max, out) != 0) {
        char want[80];
        snprintf(want, sizeof(want), "an integer from %lld to %lld", (long long)min,
                 (long long)max);
        api_bad_query(a, name, want);
        return -1;
    }
    return 0;
}

int
api_param_id(struct api *a, size_t i, int64_t *out)
{
    if (i >= a->req->n_params ||
        parse_i64(a->req->params[i], strlen(a->req->params[i]), 1, INT64_MAX, out) != 0) {
        api_not_found(a, "object");
        return -1;
    }
    return 0;
}

bool
api_is_role(const struct api *a, enum role r)
{
    return a->has_who && a->who.role == r;
}

bool
api_is_csirt_staff(const struct api *a)
{
    return a->has_who && a->who.org_is_csirt &&
           (a->who.role == ROLE_ANALYST || a->who.role == ROLE_ADMIN);
}

bool
api_is_centre_admin(const struct api *a)
{
    return a->has_who && a->who.org_is_operator && a->who.role == ROLE_ADMIN &&
           (a->who.scopes & SCOPE_ADMIN);
}

int
api_audit(struct api *a, const char *action, const char *object_type, int64_t object_id,
          json_t *detail)
{
    char *d = detail ? json_dumps(detail, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(detail);
    struct store_val p[] = {
        store_int(a->now),
        a->has_who ? store_int(a->who.user_id) : store_null(),
        a->has_who ? store_int(a->who.org_id) : store_null(),
        store_text(a->req ? a->req->peer : "cli"),
        store_text(action),
        store_text(object_type),
        object_id > 0 ? store_int(object_id) : store_null(),
        store_text(d ? d : "{}"),
    };
    int rc = store_exec(a->db,
                        "INSERT INTO audit (at, user_id, org_id, peer, action, object_type,"
                        " object_id, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        p, sizeof(p) / sizeof(p[0]), NULL, NULL, NULL, &a->eb);
    free(d);
    return rc;
}
