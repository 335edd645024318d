// SPDX-License-Identifier: Apache-2.0
// CSV indicator files (see ioc.h): a header row naming the columns, then one indicator a row.
//
//   type,value,id,source,name,tlp,confidence,valid_from,valid_until
//   ip,192.0.2.0/24,,abuse.ch,"botnet C2, 2026",green,80,2026-01-01,2026-07-01
//
// The format is RFC 4180: fields separated by commas, quoted with '"' when they hold a comma, a
// quote (doubled) or a line break; rows end with CRLF or LF. Beyond it: a UTF-8 byte order mark
// is skipped, lines starting with '#' are comments, blank lines are ignored, and spaces around
// a field (outside its quotes) are dropped.
//
// Columns, in any order, names in any case: "type" and "value" are required; "id", "source",
// "name" (or "description"), "tlp", "confidence" (0..100), "valid_from" and "valid_until" (RFC
// 3339 or Unix seconds) are optional; other columns are ignored, each reported once. Empty
// optional fields mean "not given"; a source field overrides the file's source.
//
// Types: the names of IOC_TYPES ("ip", "domain", "url", "ja3", "ja3s", "ja4", "md5", "sha1",
// "sha256", "dicom-ae", "hl7-app") and these aliases:
//   ipv4, ipv6, cidr, ip-src, ip-dst, ipv4-addr, ipv6-addr  -> ip
//   hostname, fqdn, domain-name                             -> domain, the name alone
//   domain-suffix                                           -> domain and every name under it
//   sha-1, sha-256                                          -> sha1, sha256
// "domain" is the name alone; a domain value written "*.example.org" or ".example.org" covers the
// subdomains whatever the type says (the store decides that).
//
// Speed: a file of ten million rows is the expected large case, so the parser works on the
// caller's bytes in place (fields are pointers into them; only a quoted field with doubled
// quotes and the NUL-terminated metadata strings are copied, into one scratch buffer allocated
// per load) and the row's type name is looked up only when it differs from the previous row's.
#include "detect/ioc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/parse.h"

#define CSV_COLS_MAX 64     /* columns in a header: far more than an indicator list has */
#define CSV_FIELD_MAX 65536 /* longest quoted field with doubled quotes; longer: a bad row */
#define CSV_META_MAX 1024   /* longest id, source or name kept; longer ones are cut */
#define CSV_MEMO_TEXT 40    /* longest field text remembered between rows */
#define CSV_TYPE_MEMOS 8    /* type names remembered: more than a file mixes */
#define CSV_ROW_MIN 16      /* bytes of a short row ("ip,192.0.2.1,x"), to bound a reservation */

enum csv_col {
    COL_TYPE,
    COL_VALUE,
    COL_ID,
    COL_SOURCE,
    COL_NAME,
    COL_TLP,
    COL_CONFIDENCE,
    COL_VALID_FROM,
    COL_VALID_UNTIL,
    COL_COUNT,
};

static const struct {
    const char *name;
    enum csv_col col;
} col_names[] = {
    {"type", COL_TYPE},
    {"value", COL_VALUE},
    {"id", COL_ID},
    {"source", COL_SOURCE},
    {"name", COL_NAME},
    {"description", COL_NAME},
    {"tlp", COL_TLP},
    {"confidence", COL_CONFIDENCE},
    {"valid_from", COL_VALID_FROM},
    {"valid_until", COL_VALID_UNTIL},
};

static const struct {
    const char *name;
    enum ioc_type type;
    int kind;
} type_aliases[] = {
    {"ipv4", IOC_IP, IOC_KIND_EXACT},
    {"ipv6", IOC_IP, IOC_KIND_EXACT},
    {"cidr", IOC_IP, IOC_KIND_EXACT},
    {"ip-src", IOC_IP, IOC_KIND_EXACT},
    {"ip-dst", IOC_IP, IOC_KIND_EXACT},
    {"ipv4-addr", IOC_IP, IOC_KIND_EXACT},
    {"ipv6-addr", IOC_IP, IOC_KIND_EXACT},
    {"hostname", IOC_DOMAIN, IOC_KIND_EXACT},
    {"fqdn", IOC_DOMAIN, IOC_KIND_EXACT},
    {"domain-name", IOC_DOMAIN, IOC_KIND_EXACT},
    {"domain-suffix", IOC_DOMAIN, IOC_KIND_SUBDOMAINS},
    {"sha-1", IOC_SHA1, IOC_KIND_EXACT},
    {"sha-256", IOC_SHA256, IOC_KIND_EXACT},
};

/* A field: borrowed from the input or from the scratch buffer. */
struct field {
    const char *p;
    size_t len;
};

struct csv {
    const char *p, *end; /* borrowed: the input still to read */
    uint64_t line;       /* line number of p, from 1 */
    char *scratch;       /* borrowed from the load: CSV_FIELD_MAX bytes for unescaped fields */
    size_t scratch_used; /* within the current row */
};

/* A field's text and what it meant: feeds repeat the same few type names, TLPs and dates row
 * after row, and looking them up again costs more than parsing the rest of the row. */
struct memo {
    char text[CSV_MEMO_TEXT];
    size_t len; /* 0: nothing remembered */
    int64_t value;
    int kind;
};

/* The state of one load. */
struct load {
    struct ioc_store *s;
    struct ioc_load_report *r;
    const char *source; /* borrowed */
    int64_t now_us;
    int col_of[COL_COUNT]; /* the column index of each known column, or -1 */
    int n_cols;
    char *meta;                        /* owned by the caller: 3 strings of CSV_META_MAX + 1 */
    struct memo types[CSV_TYPE_MEMOS]; /* value: the type, or -1 unsupported */
    unsigned next_type;                /* the memo to replace next */
    struct memo tlp, valid_from, valid_until;
};

static bool
is_space(char c)
{
    return c == ' ' || c == '\t';
}

/* Moves to the start of the next line (CRLF, LF or a lone CR), counting it. */
static void
skip_line(struct csv *c)
{
    const char *p = c->p;
    while (p < c->end && *p != '\n' && *p != '\r')
        p++;
    if (p < c->end && *p == '\r')
        p++;
    if (p < c->end && *p == '\n')
        p++;
    c->p = p;
    c->line++;
}

/* Skips blank lines and comment lines at the start of a row. */
static void
skip_blank(struct csv *c)
{
    while (c->p < c->end) {
        const char *q = c->p;
        if (*q != '#') {
            while (q < c->end && is_space(*q))
                q++;
            if (q < c->end && *q != '\n' && *q != '\r')
                return;
        }
        c->p = q;
        skip_line(c);
    }
}

/* A quoted field starting at the opening quote q: its text, unescaped into scratch when it has
 * doubled quotes. Returns the byte after the closing quote, or NULL (why says what) with c->p
 * on the line to skip. */
static const char *
quoted_field(struct csv *c, const char *q, struct field *f, const char **why)
{
    const char *start = q + 1, *p = start;
    bool doubled = false;
    uint64_t lines = 0;
    for (;;) {
        const char *quote = memchr(p, '"', (size_t)(c->end - p));
        if (!quote) {
            /* Read strictly, the field would take the rest of the file; one stray quote must not
             * cost every row after it, so the row ends with its line. */
            *why = "a quoted field is not closed";
            c->p = q;
            return NULL;
        }
        for (const char *n = p; (n = memchr(n, '\n', (size_t)(quote - n))) != NULL; n++)
            lines++;
        if (quote + 1 < c->end && quote[1] == '"') {
            doubled = true;
            p = quote + 2;
            continue;
        }
        p = quote;
        break;
    }
    c->line += lines;
    f->p = start;
    f->len = (size_t)(p - start);
    if (doubled) {
        if (f->len > CSV_FIELD_MAX - c->scratch_used) {
            *why = "a quoted field with doubled quotes is longer than 65536 bytes";
            c->p = p + 1;
            return NULL;
        }
        char *out = c->scratch + c->scratch_used;
        size_t n = 0;
        for (size_t i = 0; i < f->len; i++) {
            out[n++] = start[i];
            if (start[i] == '"')
                i++; /* the second of a pair */
        }
        f->p = out;
        f->len = n;
        c->scratch_used += n;
    }
    return p + 1;
}

/*
 * Reads one row into f[0..max) (fields past max are counted in *n but not kept; *extra says
 * whether any of them was non-empty). Returns 1, or -1 for a malformed row (why says what; the
 * rest of its line is skipped). The caller has skipped blank and comment lines.
 */
static int
csv_row(struct csv *c, struct field *f, int max, int *n, bool *extra, const char **why)
{
    const char *p = c->p, *end = c->end;
    int k = 0;
    *extra = false;
    c->scratch_used = 0;
    for (;;) {
        struct field fl;
        while (p < end && is_space(*p))
            p++;
        if (p < end && *p == '"') {
            p = quoted_field(c, p, &fl, why);
            if (!p) {
                if (c->p < end)
                    skip_line(c);
                return -1;
            }
            while (p < end && is_space(*p))
                p++;
            if (p < end && *p != ',' && *p != '\n' && *p != '\r') {
                *why = "text after the closing quote of a field";
                c->p = p;
                skip_line(c);
                return -1;
            }
        } else {
            fl.p = p;
            while (p < end && *p != ',' && *p != '\n' && *p != '\r')
                p++;
            fl.len = (size_t)(p - fl.p);
            while (fl.len && is_space(fl.p[fl.len - 1]))
                fl.len--;
        }
        if (k < max)
            f[k] = fl;
        else if (fl.len)
            *extra = true;
        k++;
        if (p < end && *p == ',') {
            p++;
            continue;
        }
        /* End of row: CRLF, LF, a lone CR, or the end of the input. */
        if (p < end && *p == '\r')
            p++;
        if (p < end && *p == '\n')
            p++;
        c->line++;
        break;
    }
    c->p = p;
    *n = k;
    return 1;
}

static struct field
col(const struct load *x, const struct field *f, int n, enum csv_col which)
{
    int i = x->col_of[which];
    struct field none = {"", 0};
    return i >= 0 && i < n ? f[i] : none;
}

/* A NUL-terminated copy of a metadata field into slot i of the meta buffer; NULL when empty. */
static const char *
meta_str(struct load *x, int i, struct field fl)
{
    if (fl.len == 0)
        return NULL;
    char *out = x->meta + (size_t)i * (CSV_META_MAX + 1);
    size_t n = fl.len < CSV_META_MAX ? fl.len : CSV_META_MAX;
    memcpy(out, fl.p, n);
    out[n] = '\0';
    return out;
}

static const struct memo *
memo_find(const struct memo *m, size_t n, struct field fl)
{
    for (size_t i = 0; i < n; i++)
        if (m[i].len == fl.len && m[i].len && memcmp(m[i].text, fl.p, fl.len) == 0)
            return &m[i];
    return NULL;
}

static void
memo_keep(struct memo *m, struct field fl, int64_t value, int kind)
{
    if (fl.len == 0 || fl.len > sizeof(m->text))
        return;
    memcpy(m->text, fl.p, fl.len);
    m->len = fl.len;
    m->value = value;
    m->kind = kind;
}

/* The type a row names. false: not a type we know. */
static bool
row_type(struct load *x, struct field fl, enum ioc_type *t, int *kind)
{
    const struct memo *m = memo_find(x->types, CSV_TYPE_MEMOS, fl);
    if (m) {
        *t = (enum ioc_type)m->value;
        *kind = m->kind;
        return m->value >= 0;
    }
    int found = ioc_type_from_name(fl.p, fl.len);
    int k = IOC_KIND_EXACT;
    for (size_t i = 0; found < 0 && i < sizeof(type_aliases) / sizeof(type_aliases[0]); i++) {
        if (strlen(type_aliases[i].name) == fl.len &&
            strncasecmp(type_aliases[i].name, fl.p, fl.len) == 0) {
            found = (int)type_aliases[i].type;
            k = type_aliases[i].kind;
        }
    }
    memo_keep(&x->types[x->next_type++ % CSV_TYPE_MEMOS], fl, found, k);
    *t = (enum ioc_type)found;
    *kind = k;
    return found >= 0;
}

/* An optional TLP field; false when given but unknown. */
static bool
tlp_field(struct load *x, struct field fl, enum ioc_tlp *out)
{
    *out = IOC_TLP_NONE;
    if (fl.len == 0)
        return true;
    const struct memo *m = memo_find(&x->tlp, 1, fl);
    int tlp = m ? (int)m->value : ioc_tlp_from_name(fl.p, fl.len);
    if (!m)
        memo_keep(&x->tlp, fl, tlp, 0);
    *out = (enum ioc_tlp)tlp;
    return tlp >= 0;
}

/* An optional time field; false when given but unreadable. */
static bool
time_field(struct memo *memo, struct field fl, int64_t *out)
{
    *out = 0;
    if (fl.len == 0)
        return true;
    const struct memo *m = memo_find(memo, 1, fl);
    if (m) {
        *out = m->value;
        return m->kind == 0;
    }
    int rc = ioc_parse_time(fl.p, fl.len, out);
    memo_keep(memo, fl, *out, rc);
    return rc == 0;
}

/* Counts a row as invalid or unsupported, with its line and what was wrong. */
static void row_bad(struct load *x, uint64_t line, bool unsupported, const char *reason,
                    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void
row_bad(struct load *x, uint64_t line, bool unsupported, const char *reason, const char *fmt, ...)
{
    char where[32], what[160];
    snprintf(where, sizeof(where), "line %llu", (unsigned long long)line);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    ioc_report_reason(x->r, unsupported, reason);
    ioc_report_problem(x->r, where, "%s", what);
}

/* How much of a field to quote in a problem. */
static int
shown(struct field fl)
{
    return fl.len > 80 ? 80 : (int)fl.len;
}

/* One data row. Returns 0, or a negative code when the store cannot grow (stops the load). */
static int
load_row(struct load *x, const struct field *f, int n, uint64_t line, struct errbuf *eb)
{
    struct field ft = col(x, f, n, COL_TYPE), fv = col(x, f, n, COL_VALUE);
    enum ioc_type t;
    int kind;
    if (ft.len == 0) {
        row_bad(x, line, false, "CSV: missing type", "no type for value '%.*s'", shown(fv), fv.p);
        return 0;
    }
    if (!row_type(x, ft, &t, &kind)) {
        char reason[64];
        int tn = ft.len > 32 ? 32 : (int)ft.len;
        snprintf(reason, sizeof(reason), "CSV type %.*s", tn, ft.p);
        for (char *c = reason; *c; c++)
            if ((unsigned char)*c < 0x20 || *c == 0x7f)
                *c = '?';
        row_bad(x, line, true, reason, "type '%.*s' is not one we can match", shown(ft), ft.p);
        return 0;
    }
    if (fv.len == 0) {
        row_bad(x, line, false, "CSV: missing value", "no value for type '%.*s'", shown(ft), ft.p);
        return 0;
    }
    struct ioc_meta m = {NULL, x->source, NULL, IOC_TLP_NONE, -1, 0, 0};
    struct field fl = col(x, f, n, COL_TLP);
    if (!tlp_field(x, fl, &m.tlp)) {
        row_bad(x, line, false, "CSV: unknown TLP", "unknown TLP '%.*s'", shown(fl), fl.p);
        return 0;
    }
    fl = col(x, f, n, COL_CONFIDENCE);
    if (fl.len) {
        int64_t conf;
        if (parse_i64(fl.p, fl.len, 0, 100, &conf) < 0) {
            row_bad(x, line, false, "CSV: confidence not 0..100", "confidence '%.*s' not 0..100",
                    shown(fl), fl.p);
            return 0;
        }
        m.confidence = (int)conf;
    }
    fl = col(x, f, n, COL_VALID_FROM);
    if (!time_field(&x->valid_from, fl, &m.valid_from_us)) {
        row_bad(x, line, false, "CSV: bad valid_from", "valid_from '%.*s' is not a time", shown(fl),
                fl.p);
        return 0;
    }
    fl = col(x, f, n, COL_VALID_UNTIL);
    if (!time_field(&x->valid_until, fl, &m.valid_until_us)) {
        row_bad(x, line, false, "CSV: bad valid_until", "valid_until '%.*s' is not a time",
                shown(fl), fl.p);
        return 0;
    }
    if (m.valid_until_us && m.valid_from_us && m.valid_until_us <= m.valid_from_us) {
        row_bad(x, line, false, "CSV: valid_until not after valid_from",
                "valid_until '%.*s' is not after valid_from", shown(fl), fl.p);
        return 0;
    }
    m.id = meta_str(x, 0, col(x, f, n, COL_ID));
    m.name = meta_str(x, 1, col(x, f, n, COL_NAME));
    const char *src = meta_str(x, 2, col(x, f, n, COL_SOURCE));
    if (src)
        m.source = src;
    struct errbuf aeb;
    int rc = ioc_store_add(x->s, t, kind, fv.p, fv.len, &m, &aeb);
    if (rc == IASO_E_FORMAT) {
        char where[32];
        snprintf(where, sizeof(where), "line %llu", (unsigned long long)line);
        ioc_report_problem(x->r, where, "%s: '%.*s'", aeb.msg, shown(fv), fv.p);
    } else if (rc < 0) {
        return err_set(eb, rc, "line %llu: %s", (unsigned long long)line, aeb.msg);
    }
    ioc_report_added(x->r, t, rc, &m, x->now_us);
    return 0;
}

/* Maps the header's columns. Returns 0 or IASO_E_FORMAT with eb set. */
static int
read_header(struct load *x, const struct field *f, int n, uint64_t line, struct errbuf *eb)
{
    for (int i = 0; i < COL_COUNT; i++)
        x->col_of[i] = -1;
    if (n > CSV_COLS_MAX)
        return err_set(eb, IASO_E_FORMAT, "line %llu: more than %d columns in the header",
                       (unsigned long long)line, CSV_COLS_MAX);
    x->n_cols = n;
    char where[32];
    snprintf(where, sizeof(where), "line %llu", (unsigned long long)line);
    for (int i = 0; i < n; i++) {
        int which = -1;
        for (size_t k = 0; k < sizeof(col_names) / sizeof(col_names[0]); k++)
            if (strlen(col_names[k].name) == f[i].len &&
                strncasecmp(col_names[k].name, f[i].p, f[i].len) == 0)
                which = (int)col_names[k].col;
        int fn = f[i].len > 40 ? 40 : (int)f[i].len;
        if (which < 0)
            ioc_report_problem(x->r, where, "column '%.*s' is not one we use; ignored", fn, f[i].p);
        else if (x->col_of[which] >= 0)
            ioc_report_problem(x->r, where, "column '%.*s' given twice; the first is used", fn,
                               f[i].p);
        else
            x->col_of[which] = i;
    }
    if (x->col_of[COL_TYPE] < 0 || x->col_of[COL_VALUE] < 0)
        return err_set(eb, IASO_E_FORMAT,
                       "line %llu: no CSV header: the first line must name the columns, among "
                       "them \"type\" and \"value\"",
                       (unsigned long long)line);
    return 0;
}

/*
 * Makes room in the store for the rows to come at once rather than doubling its table step by
 * step (each step moves every indicator). The rows are estimated by the line ends, but at most
 * one per CSV_ROW_MIN bytes, so a file of blank lines does not reserve a table for nothing; an
 * estimate too low only means the table grows as it would have. Failing is no error: the table
 * then grows row by row.
 */
static void
reserve(struct ioc_store *s, const char *p, size_t len)
{
    size_t n = 0;
    for (const char *end = p + len; (p = memchr(p, '\n', (size_t)(end - p))) != NULL; p++)
        n++;
    if (n > len / CSV_ROW_MIN)
        n = len / CSV_ROW_MIN;
    (void)ioc_store_reserve(s, n);
}

int
ioc_load_csv(struct ioc_store *s, const char *data, size_t len, const char *source, int64_t now_us,
             struct ioc_load_report *r, struct errbuf *eb)
{
    struct ioc_load_report local;
    if (!r)
        r = &local;
    memset(r, 0, sizeof(*r));
    r->format = IOC_FMT_CSV;
    int rc = 0;
    struct field f[CSV_COLS_MAX];
    int n;
    bool extra;
    const char *why = NULL;
    char *scratch = malloc(CSV_FIELD_MAX + 3 * (CSV_META_MAX + 1));
    if (!scratch)
        return err_set(eb, IASO_E_NOMEM, "no memory for the CSV reader");
    struct csv c = {data, data + len, 1, scratch, 0};
    struct load x = {.s = s, .r = r, .source = source, .now_us = now_us};
    x.meta = scratch + CSV_FIELD_MAX;
    if (len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0)
        c.p += 3;

    skip_blank(&c);
    if (c.p >= c.end) {
        rc = err_set(eb, IASO_E_FORMAT,
                     "no CSV header: the first line must name the columns, among them "
                     "\"type\" and \"value\"");
        goto out;
    }
    uint64_t line = c.line;
    if (csv_row(&c, f, CSV_COLS_MAX, &n, &extra, &why) < 0) {
        rc = err_set(eb, IASO_E_FORMAT, "line %llu: malformed CSV header: %s",
                     (unsigned long long)line, why);
        goto out;
    }
    if ((rc = read_header(&x, f, n, line, eb)) < 0)
        goto out;
    reserve(s, c.p, (size_t)(c.end - c.p));

    for (;;) {
        skip_blank(&c);
        if (c.p >= c.end)
            break;
        line = c.line;
        r->n_records++;
        if (csv_row(&c, f, x.n_cols, &n, &extra, &why) < 0) {
            char where[32];
            snprintf(where, sizeof(where), "line %llu", (unsigned long long)line);
            ioc_report_reason(r, false, "CSV: malformed row");
            ioc_report_problem(r, where, "%s", why);
            continue;
        }
        if (extra) {
            row_bad(&x, line, false, "CSV: more fields than the header",
                    "more fields than the header's %d columns", x.n_cols);
            continue;
        }
        if ((rc = load_row(&x, f, n, line, eb)) < 0)
            goto out;
    }
out:
    free(scratch);
    return rc;
}
