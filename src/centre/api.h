// SPDX-License-Identifier: Apache-2.0
// The JSON API's common ground: the centre's shared state, the per-request context every handler
// gets, JSON bodies decoded against a field table (unknown fields, wrong types and bad values are
// 400s that name the field), access checks, and the audit log.
//
// A handler is `void fn(struct api *a)`. The route table (routes.c) wraps each in one function
// that resolves the principal, takes a store connection, and puts it back afterwards, so handlers
// never do either themselves.
#ifndef IASO_CENTRE_API_H
#define IASO_CENTRE_API_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "centre/auth.h"
#include "centre/http.h"
#include "centre/store.h"

/* The centre's state, shared by every request. */
struct centre {
    struct store *store;
    struct auth_limiter *limiter;
    struct http_server *http;
    bool secure_cookies; /* served over TLS: cookies get Secure */
};

struct api {
    struct centre *c;
    struct http_req *req;
    struct http_resp *resp;
    struct store_conn *db;
    struct principal who; /* valid when has_who */
    bool has_who;
    int64_t now;
    struct errbuf eb;
};

/* Access requirements a route declares; checked before the handler runs. */
enum {
    API_PUBLIC = 0,      /* no login needed */
    API_READ = 1u << 0,  /* a logged-in user; tokens need the read scope */
    API_WRITE = 1u << 1, /* tokens need the write scope; sessions need the CSRF header */
    API_ADMIN = 1u << 2, /* tokens need the admin scope; the role must be admin */
};

typedef void (*api_handler_fn)(struct api *a);

/* One API route: the method and pattern as in http.h, the handler, the access it needs
 * (API_PUBLIC or a mix of API_READ, API_WRITE, API_ADMIN), and a name for metrics. Each domain
 * module exports a table; routes.c joins them. */
struct api_route {
    const char *method;
    const char *pattern;
    api_handler_fn fn;
    unsigned access;
    const char *name;
};

/* ---- responses ---- */

/* Sends `v` as the JSON body with `status`, taking the reference. */
void api_send_json(struct api *a, int status, json_t *v);
/* {"k1": v1, "k2": v2, ...}: a new object from key-value pairs, the list ending with a NULL key,
 * in the order given. Takes the values; a NULL value (a failed constructor) leaves its key out.
 * NULL when out of memory. */
json_t *api_object(const char *key, json_t *value, ...) __attribute__((sentinel));
/* The common errors, each a JSON error body (see http_resp_error). */
void api_error(struct api *a, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* A store failure: logs the sentence, answers 500 without details. */
void api_store_error(struct api *a, int rc);
void api_not_found(struct api *a, const char *what);
void api_forbidden(struct api *a, const char *why);

/* ---- request bodies ---- */

enum api_field_type {
    AF_STRING, /* text; min/max are lengths in bytes */
    AF_INT,    /* integer; min/max bounds */
    AF_BOOL,
    AF_TIME,     /* RFC 3339 UTC text ("2026-11-23T10:00:00Z"); stored as Unix seconds */
    AF_ENUM,     /* text, one of `choices` (NULL-terminated) */
    AF_ENUM_SET, /* array of unique texts from `choices` */
    AF_STRINGS,  /* array of texts, each at most max bytes; at most 64 items */
    AF_OBJECT,   /* any JSON object (checked by the caller); at most max bytes serialised */
    AF_NUMBER,   /* real number within min/max */
    AF_ARRAY,    /* any JSON array of at most max items (items checked by the caller) */
};

struct api_field {
    const char *name;
    enum api_field_type type;
    bool required;
    int64_t min, max;
    const char *const *choices;
};

/*
 * Decodes the request body as one JSON object and checks it against `fields`: every member must
 * be a field in the table (unknown -> 400 unknown_field), of its type and within its bounds;
 * required fields must be present (unless `partial`, for PATCH). null is accepted for optional
 * fields and means "clear". On failure answers 400 (or 415 when the body is not JSON) naming the
 * field, and returns NULL. On success returns the object (a new reference).
 */
json_t *api_body(struct api *a, const struct api_field *fields, size_t n_fields, bool partial);

/* The body as one JSON object, for bodies checked by the caller: 415 when it is not sent as
 * JSON, 400 when it is not valid JSON or not an object; those answered, returns NULL. Else the
 * object (a new reference). */
json_t *api_body_object(struct api *a);

/* Same checks on an already decoded object, writing a sentence into `msg`; for nested objects
 * and the fuzz target. Returns 0 or IASO_E_INVAL. */
int api_fields_check(const json_t *obj, const struct api_field *fields, size_t n_fields,
                     bool partial, char *msg, size_t msg_len);

/* A field table as JSON, for clients that build forms from it: [{name, type, required, min?,
 * max?, choices?}], with type one of string, integer, number, boolean, time, enum, enum_set,
 * strings, object, array; min and max are lengths for strings and bounds for numbers. */
json_t *api_fields_json(const struct api_field *fields, size_t n_fields);
/* A NULL-terminated list of names as a JSON array. */
json_t *api_names_json(const char *const *names);

/* RFC 3339 to Unix seconds: "YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM)". IASO_E_INVAL when
 * malformed or out of 1970..9999. */
int api_time_parse(const char *s, int64_t *out);
/* Unix seconds to "YYYY-MM-DDTHH:MM:SSZ" (21 bytes with NUL). */
void api_time_format(int64_t t, char out[21]);
/* json string of a time, or json null for 0/negative (unset). */
json_t *api_time_json(int64_t t);

/* Answers 400 bad_query: "query parameter 'NAME' must be WANT". */
void api_bad_query(struct api *a, const char *name, const char *want);
/* Query parameters: integer with bounds and default; 400 answered on a bad value (returns -1). */
int api_query_int(struct api *a, const char *name, int64_t def, int64_t min, int64_t max,
                  int64_t *out);
/* The path capture `i` as an id (positive integer); 404 answered when it is not one. */
int api_param_id(struct api *a, size_t i, int64_t *out);

/* ---- access ---- */

bool api_is_role(const struct api *a, enum role r);
/* An analyst or admin of a CSIRT: sees what its constituency reports. */
bool api_is_csirt_staff(const struct api *a);
/* An admin of the organisation that runs the centre: manages every organisation. */
bool api_is_centre_admin(const struct api *a);

/* ---- audit ---- */

/*
 * Appends one line to the audit log, inside the caller's transaction when there is one:
 * who (the principal), when (a->now), from where (the peer), what (`action` like
 * "incident.create", the object type and id, `detail` a JSON object or NULL; taken, also on
 * failure).
 */
int api_audit(struct api *a, const char *action, const char *object_type, int64_t object_id,
              json_t *detail);

/* ---- TLP ---- */

enum tlp {
    TLP_CLEAR,
    TLP_GREEN,
    TLP_AMBER,
    TLP_AMBER_STRICT,
    TLP_RED,
};
extern const char *const api_tlp_names[]; /* "CLEAR", ..., "RED", NULL */
int api_tlp_parse(const char *s, enum tlp *out);

#endif
