// SPDX-License-Identifier: Apache-2.0
// HTTP/1.x parser with FHIR REST recognised (see http.h for what it extracts and its limits).
//
// Each direction runs its own byte-at-a-time state machine; only the request-target is copied
// (into a capped scratch buffer) because the url and the FHIR analysis need it whole. Header
// values of interest are streamed straight into the transaction record; Content-Length and
// Transfer-Encoding are parsed on the fly. Line endings are LF with an optional CR (CRs inside
// lines are dropped), as most servers accept.
#include "proto/http.h"

#include <stdlib.h>
#include <string.h>

#include "base/error.h"

/* Per-direction parser states. */
enum {
    ST_START = 0,  /* before a request or status line; skips empty lines */
    ST_METHOD,     /* request: method token */
    ST_TARGET,     /* request: request-target */
    ST_RQ_VERSION, /* request: HTTP-version up to LF */
    ST_RS_VERSION, /* response: HTTP-version up to SP */
    ST_RS_STATUS,  /* response: three digits */
    ST_RS_REASON,  /* response: reason phrase up to LF */
    ST_HL_START,   /* start of a header (or trailer) line */
    ST_HL_NAME,    /* field name up to ':' */
    ST_HL_OWS,     /* whitespace before the value */
    ST_HL_VALUE,   /* field value up to LF */
    ST_HL_SKIP,    /* rest of a malformed or folded line */
    ST_BODY_CL,    /* body by Content-Length: `left` bytes to go */
    ST_BODY_CLOSE, /* response body until the connection closes */
    ST_CH_SIZE,    /* chunk-size hex digits */
    ST_CH_EXT,     /* chunk extensions up to LF */
    ST_CH_DATA,    /* chunk data: `left` bytes to go */
    ST_CH_DATA_END /* CRLF after chunk data */
};

/* Headers we keep. */
enum { H_NONE = 0, H_HOST, H_UA, H_CTYPE, H_CLEN, H_TE, H_REFERER };

#define HTTP_CL_MAX (UINT64_C(1) << 60) /* no real body is bigger; keeps the arithmetic safe */
#define HTTP_CHUNK_DIGITS_MAX 15        /* 15 hex digits stay under 2^60 */
#define HTTP_TOK_MAX 32                 /* header names and tokens we compare are shorter */
#define HTTP_SEGS_MAX 12                /* path segments analysed for FHIR; deeper is not FHIR */
#define HTTP_BASE_SEGS_MAX 3            /* /api/fhir/r4: the deepest common FHIR base */

struct http_dir {
    uint8_t st;
    uint8_t hdr;      /* H_*: the header whose value is being read */
    uint8_t tok_len;  /* bytes in tok (header name, version, TE token) */
    uint8_t n_digits; /* status or chunk-size digits seen */
    bool in_trailer;  /* header-line states are reading chunked trailers */
    bool has_cl, te_present, is_chunked;
    bool cl_digits, cl_space; /* Content-Length value being parsed */
    uint16_t n_headers;
    uint16_t val_len; /* bytes written into the kept header's field */
    uint16_t status;
    uint32_t line_len;
    uint64_t cl;     /* Content-Length of this message */
    uint64_t cl_cur; /* the value being parsed */
    uint64_t left;   /* body or chunk bytes to go; chunk size being parsed */
    char tok[HTTP_TOK_MAX];
};

struct http_state {
    struct http_dir d[2];
    struct http_txn *head, *tail; /* owned: requests waiting for their response, oldest first */
    struct http_txn *req;         /* borrowed from the FIFO: the request being read, or NULL */
    struct http_txn *resp;        /* the response's record: the FIFO head, or an owned orphan */
    char *target;                 /* owned scratch of HTTP_TARGET_MAX bytes, made on first use */
    uint32_t target_len;
    bool target_over;
    uint8_t n_pending;
    bool done; /* gave up, or the connection left HTTP (101, CONNECT): ignore the rest */
    /* Owned: the digests of the body being read in each direction, or NULL (not asked for, no
     * body, or the body can no longer pass whole). */
    struct filehash *body_hash[2];
};

/* R4 resource types most seen in hospital traffic; an exact, case-sensitive match. */
static const char *const fhir_types[] = {"Account",
                                         "ActivityDefinition",
                                         "AdverseEvent",
                                         "AllergyIntolerance",
                                         "Appointment",
                                         "AppointmentResponse",
                                         "AuditEvent",
                                         "Basic",
                                         "Binary",
                                         "BodyStructure",
                                         "Bundle",
                                         "CapabilityStatement",
                                         "CarePlan",
                                         "CareTeam",
                                         "ChargeItem",
                                         "Claim",
                                         "ClaimResponse",
                                         "ClinicalImpression",
                                         "CodeSystem",
                                         "Communication",
                                         "CommunicationRequest",
                                         "Composition",
                                         "ConceptMap",
                                         "Condition",
                                         "Consent",
                                         "Contract",
                                         "Coverage",
                                         "DetectedIssue",
                                         "Device",
                                         "DeviceMetric",
                                         "DeviceRequest",
                                         "DeviceUseStatement",
                                         "DiagnosticReport",
                                         "DocumentManifest",
                                         "DocumentReference",
                                         "Encounter",
                                         "Endpoint",
                                         "EpisodeOfCare",
                                         "ExplanationOfBenefit",
                                         "FamilyMemberHistory",
                                         "Flag",
                                         "Goal",
                                         "Group",
                                         "HealthcareService",
                                         "ImagingStudy",
                                         "Immunization",
                                         "ImmunizationRecommendation",
                                         "List",
                                         "Location",
                                         "Media",
                                         "Medication",
                                         "MedicationAdministration",
                                         "MedicationDispense",
                                         "MedicationRequest",
                                         "MedicationStatement",
                                         "MessageHeader",
                                         "NutritionOrder",
                                         "Observation",
                                         "OperationDefinition",
                                         "OperationOutcome",
                                         "Organization",
                                         "Parameters",
                                         "Patient",
                                         "Person",
                                         "Practitioner",
                                         "PractitionerRole",
                                         "Procedure",
                                         "Provenance",
                                         "Questionnaire",
                                         "QuestionnaireResponse",
                                         "RelatedPerson",
                                         "RiskAssessment",
                                         "Schedule",
                                         "SearchParameter",
                                         "ServiceRequest",
                                         "Slot",
                                         "Specimen",
                                         "StructureDefinition",
                                         "Subscription",
                                         "Substance",
                                         "Task",
                                         "ValueSet",
                                         "VisionPrescription"};

/* Path segments that make up the usual FHIR bases, compared without case. */
static const char *const fhir_bases[] = {
    "fhir", "basedstu2", "basedstu3",   "baser3",    "baser4",  "baser4b", "baser5",  "r2",
    "r3",   "r4",        "r4b",         "r5",        "stu3",    "dstu2",   "dstu3",   "api",
    "v4",   "v5",        "fhir-server", "hapi-fhir", "default", "fhir-r4", "fhir-api"};

static const char *const interaction_names[] = {
    [HTTP_FHIR_NONE] = NULL,
    [HTTP_FHIR_READ] = "read",
    [HTTP_FHIR_VREAD] = "vread",
    [HTTP_FHIR_UPDATE] = "update",
    [HTTP_FHIR_PATCH] = "patch",
    [HTTP_FHIR_DELETE] = "delete",
    [HTTP_FHIR_HISTORY] = "history",
    [HTTP_FHIR_CREATE] = "create",
    [HTTP_FHIR_SEARCH_TYPE] = "search-type",
    [HTTP_FHIR_SEARCH_SYSTEM] = "search-system",
    [HTTP_FHIR_SEARCH_COMPARTMENT] = "search-compartment",
    [HTTP_FHIR_CAPABILITIES] = "capabilities",
    [HTTP_FHIR_BATCH] = "batch/transaction",
    [HTTP_FHIR_OPERATION] = "operation",
    [HTTP_FHIR_UNKNOWN] = "unknown",
};

static const char *const anomaly_names[] = {"no_response",        "response_incomplete",
                                            "request_incomplete", "line_too_long",
                                            "too_many_headers",   "url_truncated",
                                            "bad_chunk",          "gap",
                                            "pending_overflow",   "no_request",
                                            "bad_header",         "bad_length",
                                            "field_truncated",    "bad_line"};

/* The shape of a FHIR path after its base. */
enum {
    SH_NONE = 0,
    SH_BASE,         /* [base] */
    SH_METADATA,     /* [base]/metadata */
    SH_SYS_OP,       /* [base]/$op */
    SH_SYS_HISTORY,  /* [base]/_history */
    SH_TYPE,         /* [base]/Type */
    SH_TYPE_SEARCH,  /* [base]/Type/_search */
    SH_TYPE_HISTORY, /* [base]/Type/_history */
    SH_TYPE_OP,      /* [base]/Type/$op */
    SH_INST,         /* [base]/Type/id */
    SH_INST_HISTORY, /* [base]/Type/id/_history */
    SH_INST_VREAD,   /* [base]/Type/id/_history/vid */
    SH_INST_OP,      /* [base]/Type/id/$op */
    SH_COMPARTMENT,  /* [base]/Type/id/Type2 */
    SH_OTHER         /* a resource type followed by something else */
};

static const char *const known_methods[] = {
    "GET",      "HEAD",      "POST",  "PUT",  "DELETE", "CONNECT", "OPTIONS", "TRACE",  "PATCH",
    "PROPFIND", "PROPPATCH", "MKCOL", "COPY", "MOVE",   "LOCK",    "UNLOCK",  "REPORT", "SEARCH"};

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

const char *
http_fhir_interaction_name(int interaction)
{
    if (interaction < 0 || (size_t)interaction >= N_OF(interaction_names))
        return NULL;
    return interaction_names[interaction];
}

static bool
is_tchar(uint8_t c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    return c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static uint8_t
lower(uint8_t c)
{
    return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c;
}

static bool
eq_nocase(const char *a, size_t a_len, const char *b)
{
    size_t b_len = strlen(b);
    if (a_len != b_len)
        return false;
    for (size_t i = 0; i < a_len; i++)
        if (lower((uint8_t)a[i]) != lower((uint8_t)b[i]))
            return false;
    return true;
}

static bool
eq_exact(const char *a, size_t a_len, const char *b)
{
    return strlen(b) == a_len && memcmp(a, b, a_len) == 0;
}

/* ---- Probe ---- */

static enum proto_probe
http_probe(const uint8_t *data, size_t len, int dir)
{
    if (dir == PROTO_TOCLIENT) {
        static const char want[] = "HTTP/1.";
        size_t n = len < sizeof(want) - 1 ? len : sizeof(want) - 1;
        if (memcmp(data, want, n) != 0)
            return PROTO_PROBE_NO;
        return n == sizeof(want) - 1 ? PROTO_PROBE_YES : PROTO_PROBE_NEED_MORE;
    }
    size_t i = 0;
    while (i < len && i <= HTTP_METHOD_MAX && is_tchar(data[i]))
        i++;
    if (i == len)
        return len > HTTP_METHOD_MAX ? PROTO_PROBE_NO : PROTO_PROBE_NEED_MORE;
    if (i == 0 || data[i] != ' ' || i >= HTTP_METHOD_MAX)
        return PROTO_PROBE_NO;
    for (size_t k = 0; k < N_OF(known_methods); k++)
        if (eq_exact((const char *)data, i, known_methods[k]))
            return PROTO_PROBE_YES;
    /* An unknown method: the request-target must follow, origin, absolute or asterisk form. */
    if (i + 1 >= len)
        return PROTO_PROBE_NEED_MORE;
    uint8_t t = data[i + 1];
    if (t == '/' || t == '*')
        return PROTO_PROBE_YES;
    if (i + 5 > len)
        return PROTO_PROBE_NEED_MORE;
    return eq_nocase((const char *)data + i + 1, 4, "http") ? PROTO_PROBE_YES : PROTO_PROBE_NO;
}

/* ---- Transactions ---- */

static void
field_put(struct http_txn *t, char *field, size_t cap, uint16_t *len, uint8_t c)
{
    if (*len + 1u < cap)
        field[(*len)++] = (char)c;
    else
        t->anomalies |= HTTP_ANOM_FIELD_TRUNCATED;
}

static bool
ctype_is_fhir(const char *ct)
{
    static const char *const fhir_ctypes[] = {"application/fhir+json", "application/fhir+xml",
                                              "application/json+fhir", "application/xml+fhir"};
    size_t n = strcspn(ct, "; \t");
    for (size_t k = 0; k < N_OF(fhir_ctypes); k++)
        if (eq_nocase(ct, n, fhir_ctypes[k]))
            return true;
    return false;
}

/* Decides FHIR-ness and the interaction once method, path and content types are all known. */
static void
fhir_finish(struct http_txn *t)
{
    bool ct_fhir = ctype_is_fhir(t->req_ctype) || ctype_is_fhir(t->resp_ctype);
    t->is_fhir = t->fhir_path || ct_fhir;
    if (!t->is_fhir)
        return;
    const char *m = t->method;
    bool get = strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0;
    bool post = strcmp(m, "POST") == 0;
    bool put = strcmp(m, "PUT") == 0;
    bool patch = strcmp(m, "PATCH") == 0;
    bool del = strcmp(m, "DELETE") == 0;
    int in = HTTP_FHIR_UNKNOWN;
    switch (t->fhir_shape) {
    case SH_BASE:
        in = post ? HTTP_FHIR_BATCH : get ? HTTP_FHIR_SEARCH_SYSTEM : HTTP_FHIR_UNKNOWN;
        break;
    case SH_METADATA:
        in = get ? HTTP_FHIR_CAPABILITIES : HTTP_FHIR_UNKNOWN;
        break;
    case SH_SYS_OP:
    case SH_TYPE_OP:
    case SH_INST_OP:
        in = HTTP_FHIR_OPERATION;
        break;
    case SH_SYS_HISTORY:
    case SH_TYPE_HISTORY:
    case SH_INST_HISTORY:
        in = get ? HTTP_FHIR_HISTORY : HTTP_FHIR_UNKNOWN;
        break;
    case SH_TYPE:
        /* PUT/PATCH/DELETE on a type are the conditional forms of those interactions. */
        in = get     ? HTTP_FHIR_SEARCH_TYPE
             : post  ? HTTP_FHIR_CREATE
             : put   ? HTTP_FHIR_UPDATE
             : patch ? HTTP_FHIR_PATCH
             : del   ? HTTP_FHIR_DELETE
                     : HTTP_FHIR_UNKNOWN;
        break;
    case SH_TYPE_SEARCH:
        in = (post || get) ? HTTP_FHIR_SEARCH_TYPE : HTTP_FHIR_UNKNOWN;
        break;
    case SH_INST:
        in = get     ? HTTP_FHIR_READ
             : put   ? HTTP_FHIR_UPDATE
             : patch ? HTTP_FHIR_PATCH
             : del   ? HTTP_FHIR_DELETE
                     : HTTP_FHIR_UNKNOWN;
        break;
    case SH_INST_VREAD:
        in = get ? HTTP_FHIR_VREAD : HTTP_FHIR_UNKNOWN;
        break;
    case SH_COMPARTMENT:
        in = get ? HTTP_FHIR_SEARCH_COMPARTMENT : HTTP_FHIR_UNKNOWN;
        break;
    default:
        break;
    }
    t->fhir_interaction = (uint8_t)in;
}

static void referer_sanitise(const struct proto_ctx *ctx, struct http_txn *t);

static void
txn_emit(const struct proto_ctx *ctx, struct http_txn *t, int dir, uint64_t ts_us)
{
    if (t->referer_raw) /* the flow ended inside the header */
        referer_sanitise(ctx, t);
    fhir_finish(t);
    struct proto_event ev = {
        .proto = PROTO_HTTP, .kind = HTTP_EVENT_TXN, .dir = dir, .ts_us = ts_us, .data = t};
    ctx->emit(ctx->user, &ev);
}

/* Takes the finished response's record out of the FIFO (or the orphan) and frees it. */
static void
resp_release(struct http_state *st)
{
    struct http_txn *t = st->resp;
    st->resp = NULL;
    if (!t)
        return;
    if (t == st->head) {
        st->head = t->next;
        if (!st->head)
            st->tail = NULL;
        st->n_pending--;
    }
    if (st->req == t)
        st->req = NULL;
    proto_free(t);
}

/* ---- Target analysis: url with query values dropped, FHIR shape, id pseudonymised ---- */

struct seg {
    uint32_t off, len;
};

struct urlw {
    char *out;
    size_t len, cap;
    bool over;
};

static void
urlw_put(struct urlw *u, const char *s, size_t n)
{
    if (u->over)
        return;
    if (n >= u->cap - u->len) {
        u->over = true;
        return;
    }
    memcpy(u->out + u->len, s, n);
    u->len += n;
    u->out[u->len] = '\0';
}

static bool
is_fhir_type(const char *s, size_t n, const char **name)
{
    for (size_t k = 0; k < N_OF(fhir_types); k++)
        if (eq_exact(s, n, fhir_types[k])) {
            *name = fhir_types[k];
            return true;
        }
    return false;
}

static bool
is_fhir_base(const char *s, size_t n)
{
    for (size_t k = 0; k < N_OF(fhir_bases); k++)
        if (eq_nocase(s, n, fhir_bases[k]))
            return true;
    return false;
}

static bool
is_generic_base(const char *s, size_t n)
{
    return eq_nocase(s, n, "api") || eq_nocase(s, n, "v4") || eq_nocase(s, n, "v5") ||
           eq_nocase(s, n, "default");
}

/* Finds the FHIR part of the path after its base and sets t->fhir_*. */
static void
fhir_path_analyse(const struct proto_ctx *ctx, struct http_txn *t, const char *p,
                  const struct seg *segs, size_t n)
{
    size_t known_base = 0; /* leading segments that are known base names */
    while (known_base < n && known_base < HTTP_BASE_SEGS_MAX &&
           is_fhir_base(p + segs[known_base].off, segs[known_base].len))
        known_base++;
    if (known_base > 0 && known_base == n) {
        t->fhir_base = true;
        t->fhir_shape = SH_BASE;
        /* "/fhir", "/baseR4" alone are FHIR; "/api" or "/v4" alone need a FHIR content type. */
        for (size_t k = 0; k < n; k++)
            if (!is_generic_base(p + segs[k].off, segs[k].len))
                t->fhir_path = true;
        return;
    }
    /* A resource type may follow any base of up to three segments; the generic words
     * (metadata, $op, _history) only a known one. */
    size_t i = 0;
    const char *type = NULL;
    for (; i < n && i <= HTTP_BASE_SEGS_MAX; i++)
        if (is_fhir_type(p + segs[i].off, segs[i].len, &type))
            break;
    if (!type) {
        if (known_base == 0)
            return;
        const char *s = p + segs[known_base].off;
        size_t len = segs[known_base].len;
        if (known_base + 1 != n)
            return;
        if (eq_exact(s, len, "metadata"))
            t->fhir_shape = SH_METADATA;
        else if (eq_exact(s, len, "_history"))
            t->fhir_shape = SH_SYS_HISTORY;
        else if (len > 1 && s[0] == '$') {
            t->fhir_shape = SH_SYS_OP;
            memcpy(t->fhir_op, s, len < HTTP_FHIR_OP_MAX ? len : HTTP_FHIR_OP_MAX - 1);
        } else
            return;
        t->fhir_path = true;
        return;
    }
    t->fhir_path = true;
    t->fhir_type = type;
    size_t rest = n - i;
    const char *s1 = rest > 1 ? p + segs[i + 1].off : NULL;
    size_t l1 = rest > 1 ? segs[i + 1].len : 0;
    if (rest == 1) {
        t->fhir_shape = SH_TYPE;
        return;
    }
    if (l1 == 0) {
        t->fhir_shape = rest == 2 ? SH_TYPE : SH_OTHER; /* trailing slash */
        return;
    }
    if (eq_exact(s1, l1, "_search")) {
        t->fhir_shape = rest == 2 ? SH_TYPE_SEARCH : SH_OTHER;
        return;
    }
    if (eq_exact(s1, l1, "_history")) {
        t->fhir_shape = rest == 2 ? SH_TYPE_HISTORY : SH_OTHER;
        return;
    }
    if (s1[0] == '$') {
        t->fhir_shape = rest == 2 ? SH_TYPE_OP : SH_OTHER;
        memcpy(t->fhir_op, s1, l1 < HTTP_FHIR_OP_MAX ? l1 : HTTP_FHIR_OP_MAX - 1);
        return;
    }
    /* s1 is the logical id. A Patient id identifies a patient: pseudonymise it. */
    if (strcmp(type, "Patient") == 0) {
        phi_pseudonymise(ctx->phi, PHI_ID, s1, l1, t->fhir_id);
    } else {
        size_t k = l1 < PHI_VALUE_MAX ? l1 : PHI_VALUE_MAX - 1;
        memcpy(t->fhir_id, s1, k);
        t->fhir_id[k] = '\0';
    }
    if (rest == 2) {
        t->fhir_shape = SH_INST;
        return;
    }
    const char *s2 = p + segs[i + 2].off;
    size_t l2 = segs[i + 2].len;
    const char *type2 = NULL;
    if (eq_exact(s2, l2, "_history"))
        t->fhir_shape = rest == 3 ? SH_INST_HISTORY : rest == 4 ? SH_INST_VREAD : SH_OTHER;
    else if (l2 > 1 && s2[0] == '$') {
        t->fhir_shape = rest == 3 ? SH_INST_OP : SH_OTHER;
        memcpy(t->fhir_op, s2, l2 < HTTP_FHIR_OP_MAX ? l2 : HTTP_FHIR_OP_MAX - 1);
    } else if (rest == 3 && is_fhir_type(s2, l2, &type2))
        t->fhir_shape = SH_COMPARTMENT;
    else
        t->fhir_shape = SH_OTHER;
}

/*
 * Writes the url p[0..len) to u without patient data: scheme and authority as they are, the
 * path with the segment after any "Patient" segment (at any depth, FHIR base recognised or not)
 * replaced by its pseudonym, and the query's parameter names with their values dropped. The
 * names also go to t->params when t is not NULL. Sets *path_start and *path_end.
 */
static void
url_sanitise(const struct proto_ctx *ctx, const char *p, size_t len, struct urlw *u,
             struct http_txn *t, size_t *path_start, size_t *path_end_out)
{
    size_t pos = 0;
    /* Absolute form: keep scheme and authority as they are, analyse the path after them. */
    if (len >= 7 && (eq_nocase(p, 7, "http://") || (len >= 8 && eq_nocase(p, 8, "https://")))) {
        size_t scheme = p[4] == ':' ? 7 : 8, host = scheme;
        pos = scheme;
        while (pos < len && p[pos] != '/' && p[pos] != '?' && p[pos] != '#') {
            if (p[pos] == '@') /* user:password@ is no business of the event's */
                host = pos + 1;
            pos++;
        }
        urlw_put(u, p, scheme);
        urlw_put(u, p + host, pos - host);
    }
    size_t path_end = pos;
    while (path_end < len && p[path_end] != '?' && p[path_end] != '#')
        path_end++;

    bool after_patient = false;
    for (size_t k = pos; k < path_end;) {
        size_t s = k;
        while (k < path_end && p[k] != '/')
            k++;
        size_t l = k - s;
        if (after_patient && l > 0 && p[s] != '_' && p[s] != '$') {
            char ps[PHI_VALUE_MAX];
            size_t pl = phi_pseudonymise(ctx->phi, PHI_ID, p + s, l, ps);
            urlw_put(u, ps, pl);
        } else {
            urlw_put(u, p + s, l);
        }
        after_patient = eq_exact(p + s, l, "Patient");
        if (k < path_end) {
            urlw_put(u, "/", 1);
            k++;
        }
    }

    /* The query: names kept, values dropped. */
    if (path_end < len && p[path_end] == '?') {
        urlw_put(u, "?", 1);
        size_t k = path_end + 1;
        size_t names_len = 0;
        bool first = true;
        while (k < len && p[k] != '#') {
            size_t ns = k;
            while (k < len && p[k] != '=' && p[k] != '&' && p[k] != '#')
                k++;
            size_t nl = k - ns;
            bool has_eq = k < len && p[k] == '=';
            while (k < len && p[k] != '&' && p[k] != '#')
                k++;
            if (k < len && p[k] == '&')
                k++;
            if (nl == 0)
                continue;
            if (!first)
                urlw_put(u, "&", 1);
            first = false;
            urlw_put(u, p + ns, nl);
            if (has_eq)
                urlw_put(u, "=", 1);
            if (t && t->n_params < HTTP_FHIR_PARAMS_MAX &&
                names_len + nl + 1 <= sizeof(t->params)) {
                memcpy(t->params + names_len, p + ns, nl);
                t->params[names_len + nl] = '\0';
                names_len += nl + 1;
                t->n_params++;
            }
        }
    }
    *path_start = pos;
    *path_end_out = path_end;
}

/* Replaces the Referer as received by its url_sanitise()d form. */
static void
referer_sanitise(const struct proto_ctx *ctx, struct http_txn *t)
{
    char tmp[sizeof(t->referer)];
    struct urlw u = {tmp, 0, sizeof(tmp), false};
    size_t a = 0, b = 0;
    tmp[0] = '\0';
    url_sanitise(ctx, t->referer, strnlen(t->referer, sizeof(t->referer)), &u, NULL, &a, &b);
    memcpy(t->referer, tmp, u.len + 1);
    t->referer_raw = false;
}

/* Analyses the request-target (scratch, len bytes) into t: url, FHIR fields, parameter names. */
static void
target_analyse(const struct proto_ctx *ctx, struct http_txn *t, const char *p, size_t len,
               bool truncated)
{
    struct urlw u = {t->url, 0, sizeof(t->url), false};
    t->url[0] = '\0';
    size_t pos = 0, path_end = 0;
    url_sanitise(ctx, p, len, &u, t, &pos, &path_end);

    struct seg segs[HTTP_SEGS_MAX];
    size_t n = 0;
    bool too_deep = false;
    if (pos < path_end && p[pos] == '/') {
        size_t s = pos + 1;
        for (size_t k = pos + 1; k <= path_end; k++) {
            if (k < path_end && p[k] != '/')
                continue;
            if (n == HTTP_SEGS_MAX) {
                too_deep = true;
                break;
            }
            segs[n].off = (uint32_t)s;
            segs[n].len = (uint32_t)(k - s);
            n++;
            s = k + 1;
        }
        /* "/fhir/" ends in an empty segment: ignore it for the analysis. */
        if (n > 0 && segs[n - 1].len == 0 && !too_deep)
            n--;
    }
    if (!too_deep)
        fhir_path_analyse(ctx, t, p, segs, n);

    if (u.over || truncated)
        t->anomalies |= HTTP_ANOM_URL_TRUNCATED;
}

/* ---- The state machines ---- */

static void
dir_reset(struct http_dir *d)
{
    memset(d, 0, sizeof(*d));
}

/* The record the direction writes into (may be NULL: the response took it already). */
static struct http_txn *
dir_txn(struct http_state *st, int dir)
{
    return dir == PROTO_TOSERVER ? st->req : st->resp;
}

static int
give_up(struct http_state *st, int dir, uint32_t anomaly, int code)
{
    struct http_txn *t = dir_txn(st, dir);
    if (!t)
        t = st->tail ? st->tail : st->resp;
    if (t)
        t->anomalies |= anomaly;
    st->done = true;
    return code;
}

static int
req_begin(struct http_state *st)
{
    if (st->n_pending >= HTTP_PENDING_MAX)
        return give_up(st, PROTO_TOSERVER, HTTP_ANOM_PENDING_OVERFLOW, IASO_E_LIMIT);
    if (!st->target) {
        st->target = proto_malloc(HTTP_TARGET_MAX);
        if (!st->target)
            return IASO_E_NOMEM;
    }
    struct http_txn *t = proto_calloc(1, sizeof(*t));
    if (!t)
        return IASO_E_NOMEM;
    t->has_request = true;
    if (st->tail)
        st->tail->next = t;
    else
        st->head = t;
    st->tail = t;
    st->n_pending++;
    st->req = t;
    st->target_len = 0;
    st->target_over = false;
    return 0;
}

static int
resp_begin(struct http_state *st, struct http_dir *d)
{
    if (st->head) {
        st->resp = st->head;
    } else {
        struct http_txn *t = proto_calloc(1, sizeof(*t));
        if (!t)
            return IASO_E_NOMEM;
        t->anomalies |= HTTP_ANOM_NO_REQUEST;
        /* No request to take the version from: use the response's. */
        memcpy(t->protocol, d->tok, d->tok_len < HTTP_PROTO_MAX ? d->tok_len : 0);
        st->resp = t;
    }
    st->resp->status = d->status;
    return 0;
}

/* ---- File digests of bodies ---- */

/* The body of direction dir cannot pass whole (gap, cut short): it gets no digest. */
static void
body_hash_drop(struct http_state *st, int dir)
{
    filehash_free(st->body_hash[dir]);
    st->body_hash[dir] = NULL;
}

/* A body starts in direction dir: hash it if digests are asked for and it has a record. A 206
 * response carries a piece of a file, whose digest would match no file: not hashed. */
static void
body_hash_begin(struct http_state *st, const struct proto_ctx *ctx, int dir)
{
    body_hash_drop(st, dir);
    if (ctx->file_hashes && dir_txn(st, dir) &&
        !(dir == PROTO_TOCLIENT && st->d[PROTO_TOCLIENT].status == 206))
        st->body_hash[dir] = filehash_new(ctx->file_hashes);
}

/* The message of direction dir ended whole: its body's digests go into its record. */
static void
body_hash_end(struct http_state *st, int dir)
{
    struct http_txn *t = dir_txn(st, dir);
    if (st->body_hash[dir] && t)
        filehash_final(st->body_hash[dir], dir == PROTO_TOSERVER ? &t->req_file : &t->resp_file);
    body_hash_drop(st, dir);
}

/* The message of direction dir ended. */
static void
msg_complete(struct http_state *st, const struct proto_ctx *ctx, int dir, uint64_t ts_us)
{
    struct http_dir *d = &st->d[dir];
    body_hash_end(st, dir);
    if (dir == PROTO_TOSERVER) {
        if (st->req)
            st->req->req_done = true;
        st->req = NULL;
        dir_reset(d);
        return;
    }
    struct http_txn *t = st->resp;
    uint16_t status = d->status;
    dir_reset(d);
    if (!t)
        return;
    if (status >= 100 && status < 200 && status != 101) {
        /* Interim response (100 Continue, 103 Early Hints): the final one follows. */
        t->status = 0;
        t->resp_ctype[0] = '\0';
        if (t == st->head)
            st->resp = NULL;
        else
            resp_release(st); /* an orphan: the final response makes a new one */
        return;
    }
    t->resp_done = true;
    if (t->has_request && !t->req_done)
        t->anomalies |= HTTP_ANOM_REQ_INCOMPLETE;
    bool tunnel = status == 101 || (strcmp(t->method, "CONNECT") == 0 && status / 100 == 2);
    txn_emit(ctx, t, dir, ts_us);
    resp_release(st);
    if (tunnel)
        st->done = true; /* what follows is another protocol */
}

/* Headers ended: pick the body framing (RFC 9112 section 6.3). */
static int
headers_done(struct http_state *st, const struct proto_ctx *ctx, int dir, uint64_t ts_us)
{
    struct http_dir *d = &st->d[dir];
    struct http_txn *t = dir_txn(st, dir);
    if (d->in_trailer) {
        msg_complete(st, ctx, dir, ts_us);
        return 0;
    }
    if (dir == PROTO_TOCLIENT) {
        bool head = t && strcmp(t->method, "HEAD") == 0;
        bool connect_ok = t && strcmp(t->method, "CONNECT") == 0 && d->status / 100 == 2;
        if (d->status < 200 || d->status == 204 || d->status == 304 || head || connect_ok) {
            msg_complete(st, ctx, dir, ts_us);
            return 0;
        }
    }
    if (d->te_present) {
        if (d->is_chunked) {
            if (t)
                t->chunked = true;
            d->st = ST_CH_SIZE;
            d->left = 0;
            d->n_digits = 0;
            d->line_len = 0;
            body_hash_begin(st, ctx, dir);
            return 0;
        }
        if (dir == PROTO_TOSERVER) /* a request body we cannot delimit */
            return give_up(st, dir, HTTP_ANOM_BAD_LENGTH, IASO_E_FORMAT);
        d->st = ST_BODY_CLOSE;
        body_hash_begin(st, ctx, dir);
        return 0;
    }
    if (d->has_cl) {
        if (d->cl == 0) {
            msg_complete(st, ctx, dir, ts_us);
            return 0;
        }
        d->left = d->cl;
        d->st = ST_BODY_CL;
        body_hash_begin(st, ctx, dir);
        return 0;
    }
    if (dir == PROTO_TOSERVER) {
        msg_complete(st, ctx, dir, ts_us);
        return 0;
    }
    d->st = ST_BODY_CLOSE;
    body_hash_begin(st, ctx, dir);
    return 0;
}

static void
hdr_identify(struct http_dir *d)
{
    const char *n = d->tok;
    size_t len = d->tok_len;
    d->hdr = H_NONE;
    if (d->in_trailer || len >= HTTP_TOK_MAX)
        return;
    if (eq_exact(n, len, "host"))
        d->hdr = H_HOST;
    else if (eq_exact(n, len, "user-agent"))
        d->hdr = H_UA;
    else if (eq_exact(n, len, "content-type"))
        d->hdr = H_CTYPE;
    else if (eq_exact(n, len, "content-length"))
        d->hdr = H_CLEN;
    else if (eq_exact(n, len, "transfer-encoding"))
        d->hdr = H_TE;
    else if (eq_exact(n, len, "referer"))
        d->hdr = H_REFERER;
    d->tok_len = 0;
    d->val_len = 0;
    d->cl_cur = 0;
    d->cl_digits = false;
    d->cl_space = false;
}

/* The field of t a kept header writes into, or NULL. Only the first such header counts. */
static char *
hdr_field(struct http_txn *t, int dir, uint8_t hdr, size_t *cap)
{
    if (!t)
        return NULL;
    char *f = NULL;
    if (hdr == H_HOST && dir == PROTO_TOSERVER) {
        f = t->hostname;
        *cap = sizeof(t->hostname);
    } else if (hdr == H_UA && dir == PROTO_TOSERVER) {
        f = t->user_agent;
        *cap = sizeof(t->user_agent);
    } else if (hdr == H_REFERER && dir == PROTO_TOSERVER) {
        f = t->referer;
        *cap = sizeof(t->referer);
    } else if (hdr == H_CTYPE) {
        f = dir == PROTO_TOSERVER ? t->req_ctype : t->resp_ctype;
        *cap = HTTP_CTYPE_MAX;
    }
    return f;
}

static void
hdr_value_byte(struct http_state *st, int dir, uint8_t c)
{
    struct http_dir *d = &st->d[dir];
    switch (d->hdr) {
    case H_CLEN:
        if (c >= '0' && c <= '9' && !d->cl_space) {
            d->cl_digits = true;
            d->cl_cur = d->cl_cur * 10 + (uint64_t)(c - '0');
            if (d->cl_cur >= HTTP_CL_MAX) { /* too big: rejected at the end of the value */
                d->cl_space = true;
                d->cl_digits = false;
            }
        } else if (c == ' ' || c == '\t') {
            d->cl_space = true;
        } else {
            d->cl_space = true;
            d->cl_digits = false;
        }
        return;
    case H_TE:
        if (c == ',') {
            d->tok_len = 0;
        } else if (c != ' ' && c != '\t' && d->tok_len < HTTP_TOK_MAX) {
            d->tok[d->tok_len++] = (char)lower(c);
        }
        return;
    case H_NONE:
        return;
    default:
        break;
    }
    struct http_txn *t = dir_txn(st, dir);
    size_t cap = 0;
    char *f = hdr_field(t, dir, d->hdr, &cap);
    if (f && (d->val_len > 0 || f[0] == '\0')) {
        field_put(t, f, cap, &d->val_len, c);
        if (d->hdr == H_REFERER)
            t->referer_raw = true; /* until referer_sanitise() */
    }
}

static int
hdr_value_end(struct http_state *st, const struct proto_ctx *ctx, int dir)
{
    struct http_dir *d = &st->d[dir];
    if (d->hdr == H_CLEN) {
        /* A bad or repeated-but-different Content-Length makes the framing unknowable (and is
         * the stuff of request smuggling): give up rather than guess. */
        if (!d->cl_digits || (d->has_cl && d->cl != d->cl_cur))
            return give_up(st, dir, HTTP_ANOM_BAD_LENGTH, IASO_E_FORMAT);
        d->has_cl = true;
        d->cl = d->cl_cur;
    } else if (d->hdr == H_TE) {
        d->te_present = true;
        d->is_chunked = eq_exact(d->tok, d->tok_len, "chunked");
    } else if (d->hdr != H_NONE) {
        struct http_txn *t = dir_txn(st, dir);
        size_t cap = 0;
        char *f = hdr_field(t, dir, d->hdr, &cap);
        if (f && d->val_len > 0) {
            while (d->val_len > 0 && (f[d->val_len - 1] == ' ' || f[d->val_len - 1] == '\t'))
                d->val_len--;
            f[d->val_len] = '\0';
        }
        if (t && t->referer_raw)
            referer_sanitise(ctx, t);
    }
    d->hdr = H_NONE;
    d->tok_len = 0;
    return 0;
}

/* Counts a byte of the current line against HTTP_LINE_MAX. */
static int
line_byte(struct http_state *st, int dir)
{
    struct http_dir *d = &st->d[dir];
    if (++d->line_len > HTTP_LINE_MAX)
        return give_up(st, dir, HTTP_ANOM_LINE_TOO_LONG, IASO_E_LIMIT);
    return 0;
}

/* One byte of a start line or header line. Returns 0 or a negative code. */
static int
step_byte(struct http_state *st, const struct proto_ctx *ctx, int dir, uint8_t c, uint64_t ts_us)
{
    struct http_dir *d = &st->d[dir];
    int rc = 0;
    if (d->st != ST_START && (rc = line_byte(st, dir)) < 0)
        return rc;
    if (c == '\n')
        d->line_len = 0;
    switch (d->st) {
    case ST_START:
        if (c == '\r' || c == '\n')
            return 0;
        if (dir == PROTO_TOSERVER) {
            if (!is_tchar(c))
                return give_up(st, dir, HTTP_ANOM_BAD_LINE, IASO_E_FORMAT);
            if ((rc = req_begin(st)) < 0)
                return rc;
            d->st = ST_METHOD;
        } else {
            d->st = ST_RS_VERSION;
        }
        d->line_len = 1;
        d->tok[0] = (char)c;
        d->tok_len = 1;
        return 0;
    case ST_METHOD:
        if (c == ' ') {
            if (st->req) /* NULL if a response already ended it */
                memcpy(st->req->method, d->tok, d->tok_len);
            d->tok_len = 0;
            d->st = ST_TARGET;
        } else if (is_tchar(c) && d->tok_len + 1 < HTTP_METHOD_MAX) {
            d->tok[d->tok_len++] = (char)c;
        } else {
            return give_up(st, dir, HTTP_ANOM_BAD_LINE, IASO_E_FORMAT);
        }
        return 0;
    case ST_TARGET:
        if (c == ' ' && st->target_len > 0) {
            d->st = ST_RQ_VERSION;
            if (st->req)
                target_analyse(ctx, st->req, st->target, st->target_len, st->target_over);
            /* The scratch may hold query values: do not leave them lying around. */
            memset(st->target, 0, st->target_len);
            st->target_len = 0;
        } else if (c <= ' ' || c == 0x7f) {
            return give_up(st, dir, HTTP_ANOM_BAD_LINE, IASO_E_FORMAT); /* incl. HTTP/0.9 */
        } else if (st->target_len < HTTP_TARGET_MAX) {
            st->target[st->target_len++] = (char)c;
        } else {
            st->target_over = true;
        }
        return 0;
    case ST_RQ_VERSION:
        if (c == '\r')
            return 0;
        if (c == '\n') {
            if (d->tok_len < 6 || memcmp(d->tok, "HTTP/", 5) != 0)
                return give_up(st, dir, HTTP_ANOM_BAD_LINE, IASO_E_FORMAT);
            if (st->req)
                memcpy(st->req->protocol, d->tok, d->tok_len);
            d->tok_len = 0;
            d->st = ST_HL_START;
        } else if (c > ' ' && c < 0x7f && d->tok_len + 1 < HTTP_PROTO_MAX) {
            d->tok[d->tok_len++] = (char)c;
        } else {
            return give_up(st, dir, HTTP_ANOM_BAD_LINE, IASO_E_FORMAT);
        }
        return 0;
    case ST_RS_VERSION:
        if (c == ' ') {
            if (d->tok_len < 6 || memcmp(d->tok, "HTTP/", 5) != 0)
                return give_up(st, dir, HTTP_ANOM_BAD_LINE, IASO_E_FORMAT);
            d->st = ST_RS_STATUS;
            d->n_digits = 0;
        } else if (c > ' ' && c < 0x7f && d->tok_len + 1 < HTTP_PROTO_MAX) {
            d->tok[d->tok_len++] = (char)c;
        } else {
            return give_up(st, dir, HTTP_ANOM_BAD_LINE, IASO_E_FORMAT);
        }
        return 0;
    case ST_RS_STATUS:
        if (c >= '0' && c <= '9' && d->n_digits < 3) {
            d->status = (uint16_t)(d->status * 10 + (c - '0'));
            d->n_digits++;
            return 0;
        }
        if (d->n_digits != 3 || d->status < 100 || (c != ' ' && c != '\r' && c != '\n'))
            return give_up(st, dir, HTTP_ANOM_BAD_LINE, IASO_E_FORMAT);
        if ((rc = resp_begin(st, d)) < 0)
            return rc;
        d->tok_len = 0;
        d->st = c == '\n' ? ST_HL_START : ST_RS_REASON;
        return 0;
    case ST_RS_REASON:
        if (c == '\n')
            d->st = ST_HL_START;
        return 0;
    case ST_HL_START:
        if (c == '\r')
            return 0;
        if (c == '\n')
            return headers_done(st, ctx, dir, ts_us);
        if (++d->n_headers > HTTP_HEADERS_MAX)
            return give_up(st, dir, HTTP_ANOM_TOO_MANY_HEADERS, IASO_E_LIMIT);
        if (c == ' ' || c == '\t' || c == ':') {
            /* A folded continuation (obsolete) or an empty name: skip the line. */
            struct http_txn *t = dir_txn(st, dir);
            if (t)
                t->anomalies |= HTTP_ANOM_BAD_HEADER;
            d->st = ST_HL_SKIP;
            return 0;
        }
        d->tok_len = 0;
        d->tok[d->tok_len++] = (char)lower(c);
        d->st = ST_HL_NAME;
        return 0;
    case ST_HL_NAME:
        if (c == ':') {
            hdr_identify(d);
            d->st = ST_HL_OWS;
        } else if (c == '\n') {
            struct http_txn *t = dir_txn(st, dir);
            if (t)
                t->anomalies |= HTTP_ANOM_BAD_HEADER;
            d->st = ST_HL_START;
        } else if (d->tok_len < HTTP_TOK_MAX) {
            d->tok[d->tok_len++] = (char)lower(c);
        }
        return 0;
    case ST_HL_OWS:
        if (c == ' ' || c == '\t' || c == '\r')
            return 0;
        d->st = ST_HL_VALUE;
        __attribute__((fallthrough)); /* the first byte of the value */
    case ST_HL_VALUE:
        if (c == '\r')
            return 0;
        if (c == '\n') {
            d->st = ST_HL_START;
            return hdr_value_end(st, ctx, dir);
        }
        hdr_value_byte(st, dir, c);
        return 0;
    case ST_HL_SKIP:
        if (c == '\n')
            d->st = ST_HL_START;
        return 0;
    case ST_CH_SIZE: {
        int v = (c >= '0' && c <= '9')   ? c - '0'
                : (c >= 'a' && c <= 'f') ? c - 'a' + 10
                : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                         : -1;
        if (v >= 0 && d->n_digits < HTTP_CHUNK_DIGITS_MAX) {
            d->left = d->left * 16 + (uint64_t)v;
            d->n_digits++;
            return 0;
        }
        if (d->n_digits == 0 || v >= 0)
            return give_up(st, dir, HTTP_ANOM_BAD_CHUNK, IASO_E_FORMAT);
        if (c == ';' || c == ' ' || c == '\t') {
            d->st = ST_CH_EXT;
            return 0;
        }
        if (c == '\r')
            return 0;
        if (c != '\n')
            return give_up(st, dir, HTTP_ANOM_BAD_CHUNK, IASO_E_FORMAT);
        __attribute__((fallthrough)); /* the size line ended */
    }
    case ST_CH_EXT:
        if (c != '\n')
            return 0;
        d->n_digits = 0;
        if (d->left == 0) {
            d->in_trailer = true;
            d->n_headers = 0;
            d->st = ST_HL_START;
        } else {
            d->st = ST_CH_DATA;
        }
        return 0;
    case ST_CH_DATA_END:
        if (c == '\r')
            return 0;
        if (c != '\n')
            return give_up(st, dir, HTTP_ANOM_BAD_CHUNK, IASO_E_FORMAT);
        d->st = ST_CH_SIZE;
        d->left = 0;
        return 0;
    default:
        return 0;
    }
}

/* n body bytes of direction dir went by: data, or NULL for bytes missing from the capture. */
static void
body_count(struct http_state *st, int dir, const uint8_t *data, uint64_t n)
{
    if (st->body_hash[dir]) {
        if (data)
            filehash_update(st->body_hash[dir], data, (size_t)n);
        else
            body_hash_drop(st, dir);
    }
    struct http_txn *t = dir_txn(st, dir);
    if (!t)
        return;
    if (dir == PROTO_TOSERVER)
        t->req_body_len += n;
    else
        t->resp_body_len += n;
}

static int
http_parse(void *state, const struct proto_ctx *ctx, int dir, const uint8_t *data, size_t len,
           uint64_t ts_us)
{
    struct http_state *st = state;
    if (dir != PROTO_TOSERVER && dir != PROTO_TOCLIENT)
        return IASO_E_INVAL;
    struct http_dir *d = &st->d[dir];
    size_t i = 0;
    while (i < len && !st->done) {
        size_t n = len - i;
        switch (d->st) {
        case ST_BODY_CLOSE:
            body_count(st, dir, data + i, n);
            i = len;
            break;
        case ST_BODY_CL:
        case ST_CH_DATA:
            if (n > d->left)
                n = (size_t)d->left;
            body_count(st, dir, data + i, n);
            d->left -= n;
            i += n;
            if (d->left == 0) {
                if (d->st == ST_CH_DATA)
                    d->st = ST_CH_DATA_END;
                else
                    msg_complete(st, ctx, dir, ts_us);
            }
            break;
        default: {
            int rc = step_byte(st, ctx, dir, data[i], ts_us);
            if (rc < 0)
                return rc;
            i++;
            break;
        }
        }
    }
    return 0;
}

static int
http_gap(void *state, const struct proto_ctx *ctx, int dir, size_t len)
{
    (void)ctx;
    struct http_state *st = state;
    if (st->done || (dir != PROTO_TOSERVER && dir != PROTO_TOCLIENT))
        return 0;
    struct http_dir *d = &st->d[dir];
    struct http_txn *t = dir_txn(st, dir);
    /* Inside a body of known extent (or one that runs to the close) the framing survives. */
    if (d->st == ST_BODY_CLOSE || ((d->st == ST_BODY_CL || d->st == ST_CH_DATA) && len < d->left)) {
        if (d->st != ST_BODY_CLOSE)
            d->left -= len;
        body_count(st, dir, NULL, len);
        if (t)
            t->anomalies |= HTTP_ANOM_GAP;
        return 0;
    }
    return give_up(st, dir, HTTP_ANOM_GAP, IASO_E_TRUNC);
}

static void
http_end(void *state, const struct proto_ctx *ctx, uint64_t ts_us)
{
    struct http_state *st = state;
    /* A response in progress: until-close bodies end here; anything else was cut short. */
    if (st->resp) {
        struct http_txn *t = st->resp;
        if (st->d[PROTO_TOCLIENT].st == ST_BODY_CLOSE && !st->done) {
            t->resp_done = true;
            body_hash_end(st, PROTO_TOCLIENT); /* the close delimits the body */
        } else {
            t->anomalies |= HTTP_ANOM_RESP_INCOMPLETE;
        }
        if (t->has_request && !t->req_done)
            t->anomalies |= HTTP_ANOM_REQ_INCOMPLETE;
        txn_emit(ctx, t, PROTO_TOCLIENT, ts_us);
        resp_release(st);
    }
    body_hash_drop(st, PROTO_TOSERVER);
    body_hash_drop(st, PROTO_TOCLIENT);
    while (st->head) {
        struct http_txn *t = st->head;
        t->anomalies |= HTTP_ANOM_NO_RESPONSE;
        if (!t->req_done)
            t->anomalies |= HTTP_ANOM_REQ_INCOMPLETE;
        txn_emit(ctx, t, PROTO_TOSERVER, ts_us);
        st->head = t->next;
        proto_free(t);
    }
    st->tail = NULL;
    st->req = NULL;
    st->n_pending = 0;
    if (st->target)
        explicit_bzero(st->target, HTTP_TARGET_MAX); /* may hold query values */
    proto_free(st->target);
    st->target = NULL;
}

static void
eve_str(struct jsonw *w, const char *key_quoted, size_t key_len, const char *s)
{
    if (s[0] == '\0')
        return;
    jsonw_key_quoted(w, key_quoted, key_len);
    jsonw_strn(w, s, strlen(s));
}

#define EVE_STR(w, key, s) eve_str((w), "\"" key "\":", sizeof(key) + 2, (s))

static void
http_eve(const struct proto_event *ev, struct jsonw *w)
{
    const struct http_txn *t = ev->data;
    EVE_STR(w, "hostname", t->hostname);
    EVE_STR(w, "url", t->url);
    EVE_STR(w, "http_user_agent", t->user_agent);
    EVE_STR(w, "http_refer", t->referer);
    EVE_STR(w, "http_content_type", t->resp_ctype);
    EVE_STR(w, "http_method", t->method);
    EVE_STR(w, "protocol", t->protocol);
    if (t->status) {
        jsonw_key(w, "status");
        jsonw_u64(w, t->status);
    }
    jsonw_key(w, "length");
    jsonw_u64(w, t->resp_body_len);
    jsonw_key(w, "request_body_length");
    jsonw_u64(w, t->req_body_len);
    EVE_STR(w, "http_request_content_type", t->req_ctype);
    jsonw_key(w, "chunked");
    jsonw_bool(w, t->chunked);
    if (t->resp_file.done) {
        jsonw_key(w, "file");
        jsonw_object_begin(w);
        filehash_eve(&t->resp_file, w);
        jsonw_object_end(w);
    }
    if (t->req_file.done) {
        jsonw_key(w, "request_file");
        jsonw_object_begin(w);
        filehash_eve(&t->req_file, w);
        jsonw_object_end(w);
    }
    if (t->is_fhir) {
        jsonw_key(w, "fhir");
        jsonw_object_begin(w);
        if (t->fhir_type) {
            jsonw_key(w, "resource_type");
            jsonw_str(w, t->fhir_type);
        }
        EVE_STR(w, "id", t->fhir_id);
        const char *in = http_fhir_interaction_name(t->fhir_interaction);
        if (in) {
            jsonw_key(w, "interaction");
            jsonw_str(w, in);
        }
        EVE_STR(w, "operation", t->fhir_op);
        if (t->n_params > 0) {
            jsonw_key(w, "params");
            jsonw_array_begin(w);
            size_t off = 0;
            for (unsigned k = 0; k < t->n_params && off < sizeof(t->params); k++) {
                size_t l = strnlen(t->params + off, sizeof(t->params) - off);
                jsonw_strn(w, t->params + off, l);
                off += l + 1;
            }
            jsonw_array_end(w);
        }
        jsonw_object_end(w);
    }
    if (t->anomalies) {
        jsonw_key(w, "anomalies");
        jsonw_array_begin(w);
        for (size_t k = 0; k < N_OF(anomaly_names); k++)
            if (t->anomalies & (1u << k))
                jsonw_str(w, anomaly_names[k]);
        jsonw_array_end(w);
    }
}

static const uint16_t http_ports[] = {80, 8080, 8000, 8042, 5000, 3000, 0};

const struct proto_parser http_parser = {
    .name = "http",
    .id = PROTO_HTTP,
    .tcp = true,
    .udp = false,
    .ports = http_ports,
    .probe = http_probe,
    .state_len = sizeof(struct http_state),
    .init = NULL,
    .parse = http_parse,
    .gap = http_gap,
    .end = http_end,
    .eve = http_eve,
};
