// SPDX-License-Identifier: Apache-2.0
// MISP indicators (see ioc.h). Shapes read:
//   {"Event": {...}}                          one event (a feed's event file, an export)
//   {"response": [{"Event": {...}}, ...]}     events from restSearch
//   {"response": {"Attribute": [...]}}        attributes from restSearch
//   {"Attribute": [...]}                      attributes
//   [{"Event": {...}} or an event or an attribute, ...]
// Every attribute is a record: those of Event.Attribute, of Event.Object[].Attribute and of the
// attribute collections. An element of a list that is none of the above is one invalid record.
//
// Only attributes flagged for detection load (to_ids true; absent means false, as in MISP);
// the others, and deleted attributes or attributes of deleted objects, are skipped. Types:
//   ip-src, ip-dst, ip-src|port, ip-dst|port   -> ip (the address part)
//   domain                                     -> domain and every name under it
//   hostname, hostname|port                    -> domain, the name alone
//   domain|ip                                  -> domain (with its subdomains) and ip: both
//   url                                        -> url
//   md5, sha1, sha256                          -> md5, sha1, sha256
//   filename|md5, filename|sha1, filename|sha256 -> the hash part
//   ja3-fingerprint-md5                        -> ja3
//   ja4-fingerprint                            -> ja4 (not in MISP's core describeTypes, but
//                                                 used by JA4 tooling that feeds MISP)
// Every other type is unsupported ("MISP type uri": a uri is a path without a host, "link" a
// reference to a report, neither something traffic can be matched against).
//
// Metadata: the attribute's uuid as id; the event creator's organisation (Orgc, else Org) as
// source, else the caller's; the attribute's comment as name, else the event's info; TLP from
// "tlp:..." tags, the attribute's own tags winning over the event's (the most restrictive of
// several). Validity stays open: MISP's first_seen/last_seen say when something was observed,
// not how long to alert on it, and MISP's expiry (decaying models) is computed by the server and
// not exported. Confidence is left unset: MISP expresses it only through taxonomies that differ
// from one community to the next.
#include "detect/ioc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

enum part { PART_WHOLE, PART_FIRST, PART_SECOND, PART_BOTH };

static const struct {
    const char *name;
    enum ioc_type type;
    int kind;
    enum part part;
} misp_types[] = {
    {"ip-src", IOC_IP, IOC_KIND_EXACT, PART_WHOLE},
    {"ip-dst", IOC_IP, IOC_KIND_EXACT, PART_WHOLE},
    {"ip-src|port", IOC_IP, IOC_KIND_EXACT, PART_FIRST},
    {"ip-dst|port", IOC_IP, IOC_KIND_EXACT, PART_FIRST},
    {"domain", IOC_DOMAIN, IOC_KIND_SUBDOMAINS, PART_WHOLE},
    {"hostname", IOC_DOMAIN, IOC_KIND_EXACT, PART_WHOLE},
    {"hostname|port", IOC_DOMAIN, IOC_KIND_EXACT, PART_FIRST},
    {"domain|ip", IOC_DOMAIN, IOC_KIND_SUBDOMAINS, PART_BOTH}, /* the second part is an ip */
    {"url", IOC_URL, IOC_KIND_EXACT, PART_WHOLE},
    {"md5", IOC_MD5, IOC_KIND_EXACT, PART_WHOLE},
    {"sha1", IOC_SHA1, IOC_KIND_EXACT, PART_WHOLE},
    {"sha256", IOC_SHA256, IOC_KIND_EXACT, PART_WHOLE},
    {"filename|md5", IOC_MD5, IOC_KIND_EXACT, PART_SECOND},
    {"filename|sha1", IOC_SHA1, IOC_KIND_EXACT, PART_SECOND},
    {"filename|sha256", IOC_SHA256, IOC_KIND_EXACT, PART_SECOND},
    {"ja3-fingerprint-md5", IOC_JA3, IOC_KIND_EXACT, PART_WHOLE},
    {"ja4-fingerprint", IOC_JA4, IOC_KIND_EXACT, PART_WHOLE},
};

/* What an event gives its attributes. */
struct event {
    const char *source; /* borrowed from the JSON or the caller */
    const char *info;
    int tlp; /* from the event's tags; -1 none */
};

struct load {
    struct ioc_store *s;
    struct ioc_load_report *r;
    const char *source; /* borrowed */
    int64_t now_us;
    uint64_t n_attr; /* attributes seen, to name those without a uuid */
};

/* A new record that is not loaded, with a problem naming it. */
static void
bad(struct load *x, const char *where, bool unsupported, const char *reason, const char *what)
{
    ioc_report_reason(x->r, unsupported, reason);
    ioc_report_problem(x->r, where, "%s", what);
}

/* MISP writes flags as true/false, 0/1 or "0"/"1" depending on version and endpoint. Returns 1,
 * 0 (also when absent or null) or -1 when it is something else. */
static int
flag(const json_t *v)
{
    if (!v || json_is_null(v) || json_is_false(v))
        return 0;
    if (json_is_true(v))
        return 1;
    if (json_is_integer(v) && (json_integer_value(v) == 0 || json_integer_value(v) == 1))
        return (int)json_integer_value(v);
    const char *s = json_string_value(v);
    if (s && (strcmp(s, "1") == 0 || strcmp(s, "true") == 0 || strcmp(s, "True") == 0))
        return 1;
    if (s &&
        (strcmp(s, "0") == 0 || strcmp(s, "false") == 0 || strcmp(s, "False") == 0 || s[0] == '\0'))
        return 0;
    return -1;
}

/* The most restrictive "tlp:..." tag of a Tag list; -1 when none. Malformed tags are not TLP. */
static int
tags_tlp(json_t *tags)
{
    int best = -1;
    size_t i;
    json_t *tag;
    json_array_foreach(tags, i, tag)
    {
        json_t *name = json_object_get(tag, "name");
        const char *s = json_string_value(name);
        if (!s || strncasecmp(s, "tlp:", 4) != 0)
            continue;
        int tlp = ioc_tlp_from_name(s, json_string_length(name));
        if (tlp > best)
            best = tlp;
    }
    return best;
}

/* An optional string member: false when present with another JSON type. */
static bool
opt_string(json_t *o, const char *key, const char **out)
{
    json_t *v = json_object_get(o, key);
    *out = json_string_value(v);
    return !v || json_is_null(v) || *out;
}

/* The organisation that made an event: Orgc (creator), else Org (owner). */
static const char *
event_org(json_t *ev)
{
    const char *name = json_string_value(json_object_get(json_object_get(ev, "Orgc"), "name"));
    if (!name || !name[0])
        name = json_string_value(json_object_get(json_object_get(ev, "Org"), "name"));
    return name && name[0] ? name : NULL;
}

/* Adds one value of an attribute; a value the store rejects makes the record invalid, counted
 * once however many of its values are rejected (*counted). Returns 0, or a negative code when
 * the store cannot grow. */
static int
add_value(struct load *x, const char *where, enum ioc_type t, int kind, const char *v, size_t len,
          const struct ioc_meta *m, bool *counted, struct errbuf *eb)
{
    struct errbuf aeb;
    int rc = ioc_store_add(x->s, t, kind, v, len, m, &aeb);
    if (rc == IASO_E_FORMAT) {
        int n = len > 80 ? 80 : (int)len;
        ioc_report_problem(x->r, where, "%s: '%.*s'", aeb.msg, n, v);
        if (*counted)
            return 0;
        *counted = true;
    } else if (rc < 0) {
        return err_set(eb, rc, "%s: %s", where, aeb.msg);
    }
    ioc_report_added(x->r, t, rc, m, x->now_us);
    return 0;
}

/* One attribute (a record). Returns 0, or a negative code when the store cannot grow. */
static int
load_attribute(struct load *x, json_t *a, const struct event *ev, bool in_deleted,
               struct errbuf *eb)
{
    x->r->n_records++;
    x->n_attr++;
    char where[64];
    snprintf(where, sizeof(where), "attribute #%llu", (unsigned long long)x->n_attr);
    if (!json_is_object(a)) {
        bad(x, where, false, "MISP: attribute is not a JSON object", "not a JSON object");
        return 0;
    }
    const char *uuid;
    if (!opt_string(a, "uuid", &uuid)) {
        bad(x, where, false, "MISP: uuid is not a string", "uuid is not a string");
        return 0;
    }
    if (uuid)
        snprintf(where, sizeof(where), "attribute %.50s", uuid);
    int deleted = flag(json_object_get(a, "deleted"));
    int to_ids = flag(json_object_get(a, "to_ids"));
    if (deleted < 0 || to_ids < 0) {
        bad(x, where, false, "MISP: flag is not a boolean", "to_ids or deleted is not a boolean");
        return 0;
    }
    if (deleted || in_deleted || !to_ids) {
        x->r->n_skipped++;
        return 0;
    }
    const char *type, *value, *comment;
    if (!opt_string(a, "type", &type) || !type) {
        bad(x, where, false, "MISP: attribute without a type", "no type string");
        return 0;
    }
    if (!opt_string(a, "value", &value) || !value) {
        bad(x, where, false, "MISP: attribute without a value", "no value string");
        return 0;
    }
    if (!opt_string(a, "comment", &comment)) {
        bad(x, where, false, "MISP: comment is not a string", "comment is not a string");
        return 0;
    }
    int k = -1;
    for (size_t i = 0; i < sizeof(misp_types) / sizeof(misp_types[0]) && k < 0; i++)
        if (strcmp(misp_types[i].name, type) == 0)
            k = (int)i;
    if (k < 0) {
        char reason[96];
        snprintf(reason, sizeof(reason), "MISP type %.40s", type);
        for (char *c = reason; *c; c++)
            if ((unsigned char)*c < 0x20 || *c == 0x7f)
                *c = '?';
        ioc_report_reason(x->r, true, reason);
        ioc_report_problem(x->r, where, "type '%.40s' is not one we can match", type);
        return 0;
    }
    struct ioc_meta m = {uuid, ev->source, ev->info, IOC_TLP_NONE, -1, 0, 0};
    if (comment && comment[0])
        m.name = comment;
    int tlp = tags_tlp(json_object_get(a, "Tag"));
    if (tlp < 0)
        tlp = ev->tlp;
    if (tlp >= 0)
        m.tlp = (enum ioc_tlp)tlp;
    /* The part the type names: the whole value, or one side of its last '|'. */
    enum part part = misp_types[k].part;
    const char *v = value, *bar = part == PART_WHOLE ? NULL : strrchr(value, '|');
    size_t len = strlen(value);
    if (part != PART_WHOLE && !bar) {
        bad(x, where, false, "MISP: composite value without '|'",
            "a composite type's value has no '|'");
        return 0;
    }
    if (part == PART_SECOND) {
        v = bar + 1;
        len -= (size_t)(v - value);
    } else if (bar) {
        len = (size_t)(bar - value);
    }
    bool counted = false;
    int rc = add_value(x, where, misp_types[k].type, misp_types[k].kind, v, len, &m, &counted, eb);
    if (rc == 0 && part == PART_BOTH)
        rc =
            add_value(x, where, IOC_IP, IOC_KIND_EXACT, bar + 1, strlen(bar + 1), &m, &counted, eb);
    return rc;
}

/* A list of attributes; anything but a list is one invalid record. */
static int
load_attributes(struct load *x, json_t *list, const struct event *ev, bool in_deleted,
                const char *where, struct errbuf *eb)
{
    if (!list || json_is_null(list))
        return 0;
    if (!json_is_array(list)) {
        x->r->n_records++;
        bad(x, where, false, "MISP: Attribute is not a list", "Attribute is not a list");
        return 0;
    }
    size_t i;
    json_t *a;
    json_array_foreach(list, i, a)
    {
        int rc = load_attribute(x, a, ev, in_deleted, eb);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* One event: its attributes and its objects' attributes. */
static int
load_event(struct load *x, json_t *e, struct errbuf *eb)
{
    const char *info = json_string_value(json_object_get(e, "info"));
    const char *org = event_org(e);
    struct event ev = {org ? org : x->source, info && info[0] ? info : NULL,
                       tags_tlp(json_object_get(e, "Tag"))};
    char where[64];
    const char *uuid = json_string_value(json_object_get(e, "uuid"));
    snprintf(where, sizeof(where), "event %.50s", uuid ? uuid : "without uuid");
    int rc = load_attributes(x, json_object_get(e, "Attribute"), &ev, false, where, eb);
    if (rc < 0)
        return rc;
    json_t *objects = json_object_get(e, "Object");
    if (!objects || json_is_null(objects))
        return 0;
    if (!json_is_array(objects)) {
        x->r->n_records++;
        bad(x, where, false, "MISP: Object is not a list", "Object is not a list");
        return 0;
    }
    size_t i;
    json_t *o;
    json_array_foreach(objects, i, o)
    {
        if (!json_is_object(o)) {
            x->r->n_records++;
            bad(x, where, false, "MISP: object is not a JSON object", "an Object is not an object");
            continue;
        }
        int deleted = flag(json_object_get(o, "deleted"));
        rc = load_attributes(x, json_object_get(o, "Attribute"), &ev, deleted != 0, where, eb);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* An attribute of a collection: restSearch gives each its event's info and creator inline. */
static int
load_loose_attribute(struct load *x, json_t *a, struct errbuf *eb)
{
    json_t *e = json_object_get(a, "Event");
    const char *info = json_string_value(json_object_get(e, "info"));
    const char *org = event_org(e);
    struct event ev = {org ? org : x->source, info && info[0] ? info : NULL, -1};
    return load_attribute(x, a, &ev, false, eb);
}

/* An element of a list: {"Event": ...}, an event, or an attribute. */
static int
load_element(struct load *x, json_t *el, struct errbuf *eb)
{
    json_t *e = json_object_get(el, "Event");
    if (json_is_object(e))
        return load_event(x, e, eb);
    if (json_is_object(el) && !e &&
        (json_object_get(el, "Attribute") || json_object_get(el, "Object")))
        return load_event(x, el, eb);
    if (json_is_object(el) && json_is_string(json_object_get(el, "type")) &&
        json_object_get(el, "value"))
        return load_loose_attribute(x, el, eb);
    x->r->n_records++;
    bad(x, "list", false, "MISP: not an event or attribute",
        "an element that is neither an event nor an attribute");
    return 0;
}

static int
load_misp(struct ioc_store *s, const char *data, size_t len, const char *source, int64_t now_us,
          struct ioc_load_report *r, struct errbuf *eb)
{
    r->format = IOC_FMT_MISP;
    struct load x = {s, r, source, now_us, 0};
    json_error_t jerr;
    if (len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0) { /* a UTF-8 byte order mark */
        data += 3;
        len -= 3;
    }
    json_t *root = json_loadb(data, len, 0, &jerr);
    if (!root)
        return err_set(eb, IASO_E_FORMAT, "not JSON: %s (line %d, column %d)", jerr.text, jerr.line,
                       jerr.column);
    int rc = 0;
    json_t *list = NULL;
    json_t *event = json_object_get(root, "Event");
    json_t *resp = json_object_get(root, "response");
    json_t *attrs = json_object_get(json_is_object(resp) ? resp : root, "Attribute");
    if (json_is_array(root)) {
        list = root;
    } else if (json_is_object(event)) {
        rc = load_event(&x, event, eb);
    } else if (json_is_array(resp)) {
        list = resp;
    } else if (json_is_array(attrs)) {
        size_t i;
        json_t *a;
        json_array_foreach(attrs, i, a)
        {
            if ((rc = load_loose_attribute(&x, a, eb)) < 0)
                break;
        }
    } else {
        rc = err_set(eb, IASO_E_FORMAT,
                     "not a MISP export: expected {\"Event\": {...}}, {\"response\": [...]}, "
                     "{\"Attribute\": [...]} or a list of events");
    }
    if (list) {
        size_t i;
        json_t *el;
        json_array_foreach(list, i, el)
        {
            if ((rc = load_element(&x, el, eb)) < 0)
                break;
        }
    }
    json_decref(root);
    return rc;
}

int
ioc_load_misp(struct ioc_store *s, const char *data, size_t len, const char *source, int64_t now_us,
              struct ioc_load_report *r, struct errbuf *eb)
{
    struct ioc_load_report local;
    if (!r)
        r = &local;
    memset(r, 0, sizeof(*r));
    return load_misp(s, data, len, source, now_us, r, eb);
}

int
ioc_load_misp_append(struct ioc_store *s, const char *data, size_t len, const char *source,
                     int64_t now_us, struct ioc_load_report *r, struct errbuf *eb)
{
    return load_misp(s, data, len, source, now_us, r, eb);
}
