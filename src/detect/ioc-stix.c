// SPDX-License-Identifier: Apache-2.0
// STIX 2.1 indicators (see ioc.h): a bundle ({"type":"bundle","objects":[...]}) or one object.
//
// Every object is a record; objects that are not indicators, and revoked indicators, are
// skipped. An indicator whose pattern_type is "stix" (or absent, as in STIX 2.0) has its
// pattern parsed by a small parser of the STIX patterning grammar, the whole of its syntax:
// observation expressions in brackets joined by AND, OR and FOLLOWEDBY, parentheses, the
// WITHIN / REPEATS / START..STOP qualifiers, and inside brackets comparisons joined by AND and
// OR, each "object-type:path <operator> <literal>" with =, !=, <, <=, >, >=, IN (set), LIKE,
// MATCHES, ISSUBSET, ISSUPERSET, NOT and EXISTS. A pattern that does not follow the grammar is
// invalid.
//
// What loads. A sensor matches one value at a time, so we load an indicator only when its
// pattern is a disjunction: every comparison "=" (or IN, or the LIKE below) on a path we can
// match, joined by OR only, inside brackets or between them. Then each value alone is the
// indicator and all its values load. Anything else makes the whole indicator unsupported, under
// a reason naming the first construct that stopped it:
//   - AND, inside brackets or between them: each value alone would match where the pattern does
//     not (a domain AND the address it resolves to is not either of them), so loading the values
//     would raise false alarms ("STIX pattern: AND");
//   - FOLLOWEDBY and the qualifiers ("STIX pattern: FOLLOWEDBY", "... WITHIN qualifier", ...);
//   - NOT, EXISTS, and every operator but =, IN and LIKE ("STIX pattern: MATCHES operator");
//   - a path we cannot match ("STIX pattern: email-addr:value"), or a literal that is not a
//     string where a value is compared;
//   - another pattern_type ("STIX pattern_type sigma");
//   - our limits: nesting deeper than 32, more than 65536 values, a pattern over 16 MiB.
// Paths we match:
//   ipv4-addr:value, ipv6-addr:value                 -> ip (an address or a CIDR range)
//   network-traffic:dst_ref.value, src_ref.value     -> ip, or domain when not an address
//   domain-name:value                                -> domain, the name alone; with
//                                                       LIKE '%.example.org' the names under it
//                                                       (and, as our suffix entries do, the
//                                                       name itself)
//   url:value                                        -> url
//   file:hashes.MD5 / SHA-1 / SHA-256                -> md5, sha1, sha256 (the key quoted or not,
//                                                       in any case, with or without the '-')
// There is no standard STIX object for JA3/JA4 fingerprints, and the custom ones in use differ,
// so those are unsupported like any other path.
//
// Metadata: id, name, valid_from, valid_until, confidence; the TLP from object_marking_refs (the
// standard TLP 1.0 and 2.0 marking-definition ids, and marking-definition objects of the bundle
// with definition_type "tlp", a TLP 2.0 extension or a "TLP:..." name; the most restrictive of
// several wins); the source from the identity created_by_ref names when the bundle has it, else
// the caller's source. A field of the wrong JSON type, an unreadable time or a value the store
// rejects makes the indicator invalid.
#include "detect/ioc.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#define STIX_DEPTH_MAX 32                   /* nested brackets and parentheses in one pattern */
#define STIX_VALUES_MAX 65536               /* values one pattern may carry */
#define STIX_REASON_MAX 96                  /* as long as a report's reason */
#define STIX_PATTERN_MAX ((size_t)16 << 20) /* longest pattern: 65536 values of 256 bytes */

/* ---- the pattern lexer ---- */

enum tok {
    T_END,
    T_ERROR,
    T_LBRACK,
    T_RBRACK,
    T_LPAREN,
    T_RPAREN,
    T_COMMA,
    T_OP,      /* = != <> < <= > >= */
    T_STRING,  /* 'text' (escapes still in) */
    T_LITERAL, /* a number, true, false, b'...', h'...' */
    T_TIME,    /* t'...' */
    T_WORD,    /* a keyword */
    T_PATH,    /* object-type:property.path */
};

struct lexer {
    const char *p, *end; /* borrowed: the pattern still to read */
    enum tok t;          /* the current token */
    const char *tp;      /* its text */
    size_t tlen;
};

static bool
is_ident(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
}

/* A quoted string at p (p at the opening quote): the end, past the closing quote, or NULL. */
static const char *
lex_quoted(const char *p, const char *end)
{
    for (p++; p < end; p++) {
        if (*p == '\\') {
            if (p + 1 >= end || (p[1] != '\\' && p[1] != '\''))
                return NULL; /* STIX strings know only \\ and \' */
            p++;
        } else if (*p == '\'') {
            return p + 1;
        }
    }
    return NULL;
}

/* An object path after its object type and ':' (p at the first property). */
static const char *
lex_path(const char *p, const char *end)
{
    const char *start = p;
    while (p < end && is_ident(*p))
        p++;
    if (p == start)
        return NULL;
    for (;;) {
        if (p + 1 < end && *p == '.' && p[1] == '\'') {
            p = lex_quoted(p + 1, end);
            if (!p)
                return NULL;
        } else if (p + 1 < end && *p == '.' && is_ident(p[1])) {
            for (p++; p < end && is_ident(*p);)
                p++;
        } else if (p < end && *p == '[') {
            p++;
            if (p < end && *p == '*') {
                p++;
            } else {
                const char *d = p;
                while (p < end && *p >= '0' && *p <= '9')
                    p++;
                if (p == d)
                    return NULL;
            }
            if (p >= end || *p != ']')
                return NULL;
            p++;
        } else {
            return p;
        }
    }
}

static enum tok
lex_next(struct lexer *lx)
{
    const char *p = lx->p, *end = lx->end;
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
        p++;
    lx->tp = p;
    enum tok t = T_ERROR;
    if (p >= end) {
        t = T_END;
    } else if (*p == '[' || *p == ']' || *p == '(' || *p == ')' || *p == ',') {
        t = *p == '['   ? T_LBRACK
            : *p == ']' ? T_RBRACK
            : *p == '(' ? T_LPAREN
            : *p == ')' ? T_RPAREN
                        : T_COMMA;
        p++;
    } else if (*p == '=') {
        t = T_OP;
        p++;
    } else if (*p == '!' || *p == '<' || *p == '>') {
        t = T_OP;
        if (p + 1 < end && (p[1] == '=' || (*p == '<' && p[1] == '>')))
            p += 2;
        else if (*p != '!')
            p++;
        else
            t = T_ERROR;
    } else if (*p == '\'') {
        p = lex_quoted(p, end);
        t = p ? T_STRING : T_ERROR;
    } else if ((*p == 'b' || *p == 'h' || *p == 't') && p + 1 < end && p[1] == '\'') {
        t = *p == 't' ? T_TIME : T_LITERAL;
        p = lex_quoted(p + 1, end);
        if (!p)
            t = T_ERROR;
    } else if ((*p >= '0' && *p <= '9') || *p == '-' || *p == '+') {
        const char *d = ++p;
        while (p < end && ((*p >= '0' && *p <= '9') || *p == '.'))
            p++;
        t = (p > d || (d[-1] >= '0' && d[-1] <= '9')) ? T_LITERAL : T_ERROR;
    } else if (is_ident(*p)) {
        while (p < end && is_ident(*p))
            p++;
        if (p < end && *p == ':') {
            p = lex_path(p + 1, end);
            t = p ? T_PATH : T_ERROR;
        } else {
            size_t n = (size_t)(p - lx->tp);
            bool is_bool = (n == 4 && strncasecmp(lx->tp, "true", 4) == 0) ||
                           (n == 5 && strncasecmp(lx->tp, "false", 5) == 0);
            t = is_bool ? T_LITERAL : T_WORD;
        }
    }
    if (t == T_ERROR || !p)
        p = lx->tp;
    lx->p = p;
    lx->t = t;
    lx->tlen = (size_t)(p - lx->tp);
    return t;
}

static bool
tok_is(const struct lexer *lx, const char *word)
{
    return lx->t == T_WORD && strlen(word) == lx->tlen && strncasecmp(lx->tp, word, lx->tlen) == 0;
}

/* ---- the pattern parser ---- */

/* One value of a pattern: the unescaped text in the load's value buffer. */
struct pat_value {
    uint8_t type;
    uint8_t kind;
    uint32_t off, len;
};

enum ctx { CTX_OBS_PAREN, CTX_BRACKET, CTX_CMP_PAREN };

struct pattern {
    struct lexer lx;
    uint8_t stack[STIX_DEPTH_MAX];
    int depth;
    char unsupported[STIX_REASON_MAX]; /* the first construct we cannot match; "" if none */
    const char *error;                 /* a syntax error, or NULL */
    size_t error_off;
    const char *start;
    /* Values: owned by the load, reused from one indicator to the next. */
    struct pat_value *values;
    size_t n_values, cap_values;
    char *text; /* unescaped values; as large as the pattern */
    size_t text_len;
    bool no_memory;
};

static void
pat_unsupported(struct pattern *pp, const char *what, const char *p, size_t len)
{
    if (pp->unsupported[0])
        return;
    int n = len > 60 ? 60 : (int)len;
    snprintf(pp->unsupported, sizeof(pp->unsupported), "STIX pattern: %s%.*s", what, n, p);
}

static bool
pat_error(struct pattern *pp, const char *what)
{
    if (!pp->error) {
        pp->error = what;
        pp->error_off = (size_t)(pp->lx.tp - pp->start);
    }
    return false;
}

/* The current token is an operator we cannot match: "STIX pattern: MATCHES operator". */
static void
pat_operator(struct pattern *pp)
{
    char op[24];
    int n = pp->lx.tlen > 12 ? 12 : (int)pp->lx.tlen;
    snprintf(op, sizeof(op), "%.*s operator", n, pp->lx.tp);
    pat_unsupported(pp, op, "", 0);
}

/* What a path matches: type and kind, or false. */
static bool
path_type(const char *p, size_t len, enum ioc_type *t, int *kind, bool *ref)
{
    static const struct {
        const char *path;
        enum ioc_type type;
    } paths[] = {
        {"ipv4-addr:value", IOC_IP},
        {"ipv6-addr:value", IOC_IP},
        {"domain-name:value", IOC_DOMAIN},
        {"url:value", IOC_URL},
        {"network-traffic:dst_ref.value", IOC_IP},
        {"network-traffic:src_ref.value", IOC_IP},
    };
    *kind = IOC_KIND_EXACT;
    *ref = false;
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        if (strlen(paths[i].path) == len && strncasecmp(paths[i].path, p, len) == 0) {
            *t = paths[i].type;
            *ref = i >= 4;
            return true;
        }
    }
    static const char hashes[] = "file:hashes.";
    size_t hl = sizeof(hashes) - 1;
    if (len <= hl || strncasecmp(p, hashes, hl) != 0)
        return false;
    /* The hash algorithm: quoted or not, any case, '-' ignored ("SHA-256" = "sha256"). */
    char alg[16];
    size_t n = 0;
    for (size_t i = hl; i < len; i++) {
        char c = p[i];
        if (c == '\'' || c == '-')
            continue;
        if (n + 1 >= sizeof(alg))
            return false;
        alg[n++] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    }
    alg[n] = '\0';
    if (strcmp(alg, "md5") == 0)
        *t = IOC_MD5;
    else if (strcmp(alg, "sha1") == 0)
        *t = IOC_SHA1;
    else if (strcmp(alg, "sha256") == 0)
        *t = IOC_SHA256;
    else
        return false;
    return true;
}

/* Is s (len bytes, NUL-terminated by the caller or not) an address or a CIDR range? */
static bool
looks_like_ip(const char *s, size_t len)
{
    char tmp[64];
    if (len == 0 || len >= sizeof(tmp))
        return false;
    memcpy(tmp, s, len);
    tmp[len] = '\0';
    char *slash = strchr(tmp, '/');
    if (slash)
        *slash = '\0';
    uint8_t a[16];
    return inet_pton(AF_INET, tmp, a) == 1 || inet_pton(AF_INET6, tmp, a) == 1;
}

/* Keeps the string token's value (unescaped) for the path's type. */
static void
pat_add(struct pattern *pp, enum ioc_type t, int kind, bool ref, const char *q, size_t qlen)
{
    if (pp->unsupported[0] || pp->error || pp->no_memory)
        return; /* the indicator will not load: keep nothing */
    if (pp->n_values >= STIX_VALUES_MAX) {
        pat_unsupported(pp, "more than 65536 values", "", 0);
        return;
    }
    if (pp->n_values == pp->cap_values) {
        size_t cap = pp->cap_values ? pp->cap_values * 2 : 64;
        struct pat_value *v = realloc(pp->values, cap * sizeof(*v));
        if (!v) {
            pp->no_memory = true;
            return;
        }
        pp->values = v;
        pp->cap_values = cap;
    }
    /* Unescape between the quotes; the text buffer is as long as the pattern, and a value is
     * never longer than its token. */
    char *out = pp->text + pp->text_len;
    size_t n = 0;
    for (size_t i = 1; i + 1 < qlen; i++) {
        if (q[i] == '\\')
            i++;
        out[n++] = q[i];
    }
    if (ref && !looks_like_ip(out, n))
        t = IOC_DOMAIN;
    struct pat_value *v = &pp->values[pp->n_values++];
    v->type = (uint8_t)t;
    v->kind = (uint8_t)kind;
    v->off = (uint32_t)pp->text_len;
    v->len = (uint32_t)n;
    pp->text_len += n;
}

/* LIKE on domain-name:value: '%.example.org' is a suffix match, a string without wildcards an
 * exact one; anything else we cannot match. */
static void
pat_like(struct pattern *pp, enum ioc_type t, bool supported, const char *q, size_t qlen)
{
    if (!supported)
        return;
    const char *s = q + 1;
    size_t n = qlen - 2;
    int kind = IOC_KIND_EXACT;
    if (t == IOC_DOMAIN && n > 2 && s[0] == '%' && s[1] == '.') {
        kind = IOC_KIND_SUBDOMAINS;
        s += 2;
        n -= 2;
    }
    if (t != IOC_DOMAIN || memchr(s, '%', n) || memchr(s, '_', n) || memchr(s, '\\', n)) {
        pat_unsupported(pp, "LIKE operator", "", 0);
        return;
    }
    /* pat_add unescapes between quotes: hand it the suffix with one byte either side. */
    pat_add(pp, t, kind, false, s - 1, n + 2);
}

/* The literal a comparison compares with, the lexer at it: a string keeps its value, another
 * literal makes the indicator unsupported. Returns false when it is not a literal. */
static bool
pat_literal(struct pattern *pp, bool supported, enum ioc_type t, int kind, bool ref,
            const char *path, size_t path_len)
{
    const struct lexer *lx = &pp->lx;
    if (lx->t == T_STRING) {
        if (supported)
            pat_add(pp, t, kind, ref, lx->tp, lx->tlen);
        return true;
    }
    if (lx->t == T_LITERAL || lx->t == T_TIME) {
        if (supported)
            pat_unsupported(pp, "a value that is not a string for ", path, path_len);
        return true;
    }
    return false;
}

/* One comparison, the lexer at its path. Returns false on a syntax error. */
static bool
pat_comparison(struct pattern *pp)
{
    struct lexer *lx = &pp->lx;
    const char *path = lx->tp;
    size_t path_len = lx->tlen;
    enum ioc_type t = IOC_IP;
    int kind;
    bool ref;
    bool supported = path_type(path, path_len, &t, &kind, &ref);
    if (!supported)
        pat_unsupported(pp, "", path, path_len);
    lex_next(lx);
    if (tok_is(lx, "NOT")) {
        pat_unsupported(pp, "NOT", "", 0);
        supported = false;
        lex_next(lx);
    }
    if (lx->t == T_OP) {
        bool eq = lx->tlen == 1 && lx->tp[0] == '=';
        if (!eq) {
            pat_operator(pp);
            supported = false;
        }
        lex_next(lx);
        return pat_literal(pp, supported, t, kind, ref, path, path_len) ||
               pat_error(pp, "expected a value after the operator");
    }
    if (tok_is(lx, "IN")) {
        if (lex_next(lx) != T_LPAREN)
            return pat_error(pp, "expected '(' after IN");
        for (;;) {
            lex_next(lx);
            if (!pat_literal(pp, supported, t, kind, ref, path, path_len))
                return pat_error(pp, "expected a value in the set");
            lex_next(lx);
            if (lx->t == T_RPAREN)
                return true;
            if (lx->t != T_COMMA)
                return pat_error(pp, "expected ',' or ')' in the set");
        }
    }
    if (tok_is(lx, "LIKE")) {
        if (lex_next(lx) != T_STRING)
            return pat_error(pp, "expected a string after LIKE");
        pat_like(pp, t, supported, lx->tp, lx->tlen);
        return true;
    }
    if (tok_is(lx, "MATCHES") || tok_is(lx, "ISSUBSET") || tok_is(lx, "ISSUPERSET")) {
        pat_operator(pp);
        if (lex_next(lx) != T_STRING)
            return pat_error(pp, "expected a string after the operator");
        return true;
    }
    return pat_error(pp, "expected an operator after the object path");
}

/* A qualifier after an observation, the lexer at its keyword. */
static bool
pat_qualifier(struct pattern *pp)
{
    struct lexer *lx = &pp->lx;
    if (tok_is(lx, "WITHIN")) {
        pat_unsupported(pp, "WITHIN qualifier", "", 0);
        if (lex_next(lx) != T_LITERAL)
            return pat_error(pp, "expected a number after WITHIN");
        lex_next(lx);
        return tok_is(lx, "SECONDS") || pat_error(pp, "expected SECONDS");
    }
    if (tok_is(lx, "REPEATS")) {
        pat_unsupported(pp, "REPEATS qualifier", "", 0);
        if (lex_next(lx) != T_LITERAL)
            return pat_error(pp, "expected a number after REPEATS");
        lex_next(lx);
        return tok_is(lx, "TIMES") || pat_error(pp, "expected TIMES");
    }
    /* START t'...' STOP t'...' */
    pat_unsupported(pp, "START/STOP qualifier", "", 0);
    if (lex_next(lx) != T_TIME)
        return pat_error(pp, "expected a timestamp t'...' after START");
    lex_next(lx);
    if (!tok_is(lx, "STOP"))
        return pat_error(pp, "expected STOP");
    if (lex_next(lx) != T_TIME)
        return pat_error(pp, "expected a timestamp t'...' after STOP");
    return true;
}

/*
 * Parses a whole pattern with an explicit stack (no recursion on input): expecting an operand
 * or an operator, inside brackets (comparisons) or outside (observations). Returns false on a
 * syntax error (pp->error says which); pp->unsupported names the first construct we cannot
 * match; otherwise pp->values are the pattern's values.
 */
static bool
pat_parse(struct pattern *pp, const char *s, size_t len)
{
    struct lexer *lx = &pp->lx;
    lx->p = s;
    lx->end = s + len;
    pp->start = s;
    pp->depth = 0;
    pp->unsupported[0] = '\0';
    pp->error = NULL;
    pp->n_values = 0;
    pp->text_len = 0;
    pp->no_memory = false;
    bool want_operand = true;
    for (;;) {
        lex_next(lx);
        if (lx->t == T_ERROR)
            return pat_error(pp, "unreadable token");
        bool in_cmp = pp->depth > 0 && pp->stack[pp->depth - 1] != CTX_OBS_PAREN;
        if (want_operand) {
            if (lx->t == T_LBRACK || lx->t == T_LPAREN) {
                if (lx->t == T_LBRACK && in_cmp)
                    return pat_error(pp, "'[' inside an observation");
                if (pp->depth >= STIX_DEPTH_MAX) {
                    /* Our limit, not the grammar's: what follows goes unread. */
                    pat_unsupported(pp, "nested more than 32 deep", "", 0);
                    return true;
                }
                pp->stack[pp->depth++] = lx->t == T_LBRACK ? CTX_BRACKET
                                         : in_cmp          ? CTX_CMP_PAREN
                                                           : CTX_OBS_PAREN;
                continue;
            }
            if (in_cmp && lx->t == T_PATH) {
                if (!pat_comparison(pp))
                    return false;
            } else if (in_cmp && tok_is(lx, "EXISTS")) {
                pat_unsupported(pp, "EXISTS", "", 0);
                if (lex_next(lx) != T_PATH)
                    return pat_error(pp, "expected an object path after EXISTS");
            } else {
                return pat_error(pp, in_cmp ? "expected a comparison" : "expected '[' or '('");
            }
            want_operand = false;
            continue;
        }
        if (tok_is(lx, "OR")) {
            want_operand = true;
        } else if (tok_is(lx, "AND")) {
            pat_unsupported(pp, "AND", "", 0);
            want_operand = true;
        } else if (!in_cmp && tok_is(lx, "FOLLOWEDBY")) {
            pat_unsupported(pp, "FOLLOWEDBY", "", 0);
            want_operand = true;
        } else if (!in_cmp &&
                   (tok_is(lx, "WITHIN") || tok_is(lx, "REPEATS") || tok_is(lx, "START"))) {
            if (!pat_qualifier(pp))
                return false;
        } else if (lx->t == T_RPAREN || lx->t == T_RBRACK) {
            enum ctx want = lx->t == T_RBRACK ? CTX_BRACKET
                            : in_cmp          ? CTX_CMP_PAREN
                                              : CTX_OBS_PAREN;
            if (pp->depth == 0 || pp->stack[pp->depth - 1] != want)
                return pat_error(pp, "unbalanced bracket or parenthesis");
            pp->depth--;
        } else if (lx->t == T_END) {
            if (pp->depth != 0)
                return pat_error(pp, "unclosed bracket or parenthesis");
            return true;
        } else {
            return pat_error(pp, "expected AND, OR, FOLLOWEDBY or a closing bracket");
        }
    }
}

/* ---- metadata ---- */

/* The standard TLP marking definitions: the TLP 1.0 ones the STIX 2.1 specification defines,
 * and the TLP 2.0 ones OASIS published with fixed ids. */
static const struct {
    const char *id;
    enum ioc_tlp tlp;
} tlp_ids[] = {
    {"marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9", IOC_TLP_CLEAR},
    {"marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da", IOC_TLP_GREEN},
    {"marking-definition--f88d31f6-486f-44da-b317-01333bde0b82", IOC_TLP_AMBER},
    {"marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed", IOC_TLP_RED},
    {"marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487", IOC_TLP_CLEAR},
    {"marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb", IOC_TLP_GREEN},
    {"marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421", IOC_TLP_AMBER},
    {"marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003", IOC_TLP_AMBER_STRICT},
    {"marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1", IOC_TLP_RED},
};

static int
tlp_of_string(json_t *v)
{
    return json_is_string(v) ? ioc_tlp_from_name(json_string_value(v), json_string_length(v)) : -1;
}

/* The TLP a marking-definition object of the bundle states, or -1. */
static int
tlp_of_marking(json_t *md)
{
    const char *dt = json_string_value(json_object_get(md, "definition_type"));
    if (dt && strcmp(dt, "tlp") == 0) {
        int tlp = tlp_of_string(json_object_get(json_object_get(md, "definition"), "tlp"));
        if (tlp >= 0)
            return tlp;
    }
    const char *key;
    json_t *ext;
    json_object_foreach(json_object_get(md, "extensions"), key, ext)
    {
        int tlp = tlp_of_string(json_object_get(ext, "tlp_2_0"));
        if (tlp >= 0)
            return tlp;
    }
    return tlp_of_string(json_object_get(md, "name"));
}

/* The most restrictive TLP of a list of marking refs; false when the list is malformed. */
static bool
tlp_of_refs(json_t *refs, json_t *index, enum ioc_tlp *out)
{
    *out = IOC_TLP_NONE;
    if (!refs)
        return true;
    if (!json_is_array(refs))
        return false;
    size_t i;
    json_t *ref;
    json_array_foreach(refs, i, ref)
    {
        const char *id = json_string_value(ref);
        if (!id)
            return false;
        int tlp = -1;
        for (size_t k = 0; k < sizeof(tlp_ids) / sizeof(tlp_ids[0]) && tlp < 0; k++)
            if (strcmp(tlp_ids[k].id, id) == 0)
                tlp = (int)tlp_ids[k].tlp;
        if (tlp < 0) {
            json_t *md = json_object_get(index, id);
            const char *type = json_string_value(json_object_get(md, "type"));
            if (type && strcmp(type, "marking-definition") == 0)
                tlp = tlp_of_marking(md);
        }
        if (tlp > (int)*out)
            *out = (enum ioc_tlp)tlp;
    }
    return true;
}

/* ---- loading ---- */

struct load {
    struct ioc_store *s;
    struct ioc_load_report *r;
    const char *source; /* borrowed */
    int64_t now_us;
    json_t *index; /* owned: id -> identity or marking-definition object of the bundle */
    struct pattern pp;
    size_t text_cap;
};

/* Counts an indicator as unsupported or invalid, with a problem naming it. */
static void
bad(struct load *x, const char *where, bool unsupported, const char *reason, const char *what)
{
    ioc_report_reason(x->r, unsupported, reason);
    ioc_report_problem(x->r, where, "%s", what);
}

/* An optional string member: false when present with another JSON type. */
static bool
opt_string(const json_t *o, const char *key, const char **out)
{
    const json_t *v = json_object_get(o, key);
    *out = json_string_value(v);
    return !v || json_is_null(v) || *out;
}

/* An optional time member; false when present but not a readable time. */
static bool
opt_time(const json_t *o, const char *key, int64_t *out)
{
    *out = 0;
    const json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v))
        return true;
    return json_is_string(v) &&
           ioc_parse_time(json_string_value(v), json_string_length(v), out) == 0;
}

/* One indicator object. Returns 0, or a negative code when the store cannot grow. */
static int
load_indicator(struct load *x, const json_t *o, size_t index, struct errbuf *eb)
{
    char where_buf[48];
    const char *id;
    if (!opt_string(o, "id", &id)) {
        snprintf(where_buf, sizeof(where_buf), "object %zu", index);
        bad(x, where_buf, false, "STIX: id is not a string", "id is not a string");
        return 0;
    }
    if (!id)
        snprintf(where_buf, sizeof(where_buf), "object %zu", index);
    const char *where = id ? id : where_buf;

    const json_t *revoked = json_object_get(o, "revoked");
    if (revoked && !json_is_boolean(revoked)) {
        bad(x, where, false, "STIX: revoked is not a boolean", "revoked is not true or false");
        return 0;
    }
    if (json_is_true(revoked)) {
        x->r->n_skipped++;
        return 0;
    }
    const char *ptype;
    if (!opt_string(o, "pattern_type", &ptype)) {
        bad(x, where, false, "STIX: pattern_type is not a string", "pattern_type is not a string");
        return 0;
    }
    if (ptype && strcmp(ptype, "stix") != 0) {
        char reason[STIX_REASON_MAX];
        snprintf(reason, sizeof(reason), "STIX pattern_type %.40s", ptype);
        for (char *c = reason; *c; c++)
            if ((unsigned char)*c < 0x20 || *c == 0x7f)
                *c = '?';
        bad(x, where, true, reason, "a pattern we cannot read (not STIX patterning)");
        return 0;
    }
    const json_t *pattern = json_object_get(o, "pattern");
    if (!json_is_string(pattern)) {
        bad(x, where, false, "STIX: missing pattern", "no pattern string");
        return 0;
    }
    struct ioc_meta m = {id, x->source, NULL, IOC_TLP_NONE, -1, 0, 0};
    if (!opt_string(o, "name", &m.name)) {
        bad(x, where, false, "STIX: name is not a string", "name is not a string");
        return 0;
    }
    if (!opt_time(o, "valid_from", &m.valid_from_us)) {
        bad(x, where, false, "STIX: bad valid_from", "valid_from is not an RFC 3339 time");
        return 0;
    }
    if (!opt_time(o, "valid_until", &m.valid_until_us)) {
        bad(x, where, false, "STIX: bad valid_until", "valid_until is not an RFC 3339 time");
        return 0;
    }
    if (m.valid_until_us && m.valid_from_us && m.valid_until_us <= m.valid_from_us) {
        bad(x, where, false, "STIX: valid_until not after valid_from",
            "valid_until is not after valid_from");
        return 0;
    }
    const json_t *conf = json_object_get(o, "confidence");
    if (conf && !json_is_null(conf)) {
        json_int_t c = json_integer_value(conf);
        if (!json_is_integer(conf) || c < 0 || c > 100) {
            bad(x, where, false, "STIX: confidence not 0..100",
                "confidence is not an integer 0..100");
            return 0;
        }
        m.confidence = (int)c;
    }
    if (!tlp_of_refs(json_object_get(o, "object_marking_refs"), x->index, &m.tlp)) {
        bad(x, where, false, "STIX: bad object_marking_refs",
            "object_marking_refs is not a list of ids");
        return 0;
    }
    const char *creator = json_string_value(json_object_get(o, "created_by_ref"));
    if (creator) {
        const json_t *ident = json_object_get(x->index, creator);
        const char *name = json_string_value(json_object_get(ident, "name"));
        const char *type = json_string_value(json_object_get(ident, "type"));
        if (name && type && strcmp(type, "identity") == 0)
            m.source = name;
    }

    /* The pattern's values go to a buffer as long as the pattern. */
    size_t plen = json_string_length(pattern);
    if (plen > STIX_PATTERN_MAX) {
        bad(x, where, true, "STIX pattern: longer than 16 MiB", "a pattern longer than we read");
        return 0;
    }
    if (plen + 1 > x->text_cap) {
        char *t = realloc(x->pp.text, plen + 1);
        if (!t)
            return err_set(eb, IASO_E_NOMEM, "%s: no memory for its pattern", where);
        x->pp.text = t;
        x->text_cap = plen + 1;
    }
    struct pattern *pp = &x->pp;
    if (!pat_parse(pp, json_string_value(pattern), plen)) {
        ioc_report_reason(x->r, false, "STIX pattern: syntax error");
        ioc_report_problem(x->r, where, "pattern syntax error at offset %zu: %s", pp->error_off,
                           pp->error);
        return 0;
    }
    if (pp->no_memory)
        return err_set(eb, IASO_E_NOMEM, "%s: no memory for its pattern", where);
    if (pp->unsupported[0]) {
        static const char prefix[] = "STIX pattern: ";
        ioc_report_reason(x->r, true, pp->unsupported);
        ioc_report_problem(x->r, where, "cannot match %s in %.100s",
                           pp->unsupported + sizeof(prefix) - 1, json_string_value(pattern));
        return 0;
    }
    bool counted_invalid = false;
    for (size_t i = 0; i < pp->n_values; i++) {
        const struct pat_value *v = &pp->values[i];
        const char *text = pp->text + v->off;
        struct errbuf aeb;
        int rc = ioc_store_add(x->s, (enum ioc_type)v->type, v->kind, text, v->len, &m, &aeb);
        if (rc == IASO_E_FORMAT) {
            int n = v->len > 80 ? 80 : (int)v->len;
            ioc_report_problem(x->r, where, "%s: '%.*s'", aeb.msg, n, text);
            if (counted_invalid)
                continue; /* the record counts once */
            counted_invalid = true;
        } else if (rc < 0) {
            return err_set(eb, rc, "%s: %s", where, aeb.msg);
        }
        ioc_report_added(x->r, (enum ioc_type)v->type, rc, &m, x->now_us);
    }
    return 0;
}

int
ioc_load_stix(struct ioc_store *s, const char *data, size_t len, const char *source, int64_t now_us,
              struct ioc_load_report *r, struct errbuf *eb)
{
    struct ioc_load_report local;
    if (!r)
        r = &local;
    memset(r, 0, sizeof(*r));
    r->format = IOC_FMT_STIX;
    int rc = 0;
    struct load x = {.s = s, .r = r, .source = source, .now_us = now_us};
    json_error_t jerr;
    if (len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0) { /* a UTF-8 byte order mark */
        data += 3;
        len -= 3;
    }
    json_t *root = json_loadb(data, len, 0, &jerr);
    if (!root)
        return err_set(eb, IASO_E_FORMAT, "not JSON: %s (line %d, column %d)", jerr.text, jerr.line,
                       jerr.column);
    const char *type = json_string_value(json_object_get(root, "type"));
    if (!json_is_object(root) || !type) {
        rc = err_set(eb, IASO_E_FORMAT,
                     "not STIX: expected a bundle or an object with a \"type\" member");
        goto out;
    }
    /* A bundle's objects, or the one object given alone. */
    json_t *objects = root;
    bool one = strcmp(type, "bundle") != 0;
    if (!one) {
        objects = json_object_get(root, "objects");
        if (objects && !json_is_array(objects)) {
            rc = err_set(eb, IASO_E_FORMAT, "not a STIX bundle: \"objects\" is not a list");
            goto out;
        }
    }
    size_t n = one ? 1 : json_array_size(objects);
    x.index = json_object();
    if (!x.index) {
        rc = err_set(eb, IASO_E_NOMEM, "no memory for the bundle's index");
        goto out;
    }
    for (size_t i = 0; i < n && !one; i++) {
        json_t *o = json_array_get(objects, i);
        const char *id = json_string_value(json_object_get(o, "id"));
        const char *t = json_string_value(json_object_get(o, "type"));
        if (id && t && (strcmp(t, "identity") == 0 || strcmp(t, "marking-definition") == 0) &&
            json_object_set(x.index, id, o) != 0) {
            rc = err_set(eb, IASO_E_NOMEM, "no memory for the bundle's index");
            goto out;
        }
    }
    for (size_t i = 0; i < n; i++) {
        const json_t *o = one ? root : json_array_get(objects, i);
        r->n_records++;
        char where[48];
        snprintf(where, sizeof(where), "object %zu", i);
        if (!json_is_object(o)) {
            bad(&x, where, false, "STIX: object is not a JSON object", "not a JSON object");
            continue;
        }
        const char *t = json_string_value(json_object_get(o, "type"));
        if (!t) {
            bad(&x, where, false, "STIX: object without a type", "no \"type\" string");
            continue;
        }
        if (strcmp(t, "indicator") != 0) {
            r->n_skipped++;
            continue;
        }
        if ((rc = load_indicator(&x, o, i, eb)) < 0)
            goto out;
    }
out:
    free(x.pp.values);
    free(x.pp.text);
    json_decref(x.index);
    json_decref(root);
    return rc;
}
