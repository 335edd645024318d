// SPDX-License-Identifier: Apache-2.0
// The option table; see opt.h.
#include "base/opt.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/parse.h"

#define OPT_MAX 128 /* options in one table; far more than a command should have */

static int
set_value(const struct opt_def *d, void *cfg, const char *val, struct errbuf *eb)
{
    char *field = (char *)cfg + d->offset;
    int64_t v = 0;
    int rc = 0;
    size_t len = val ? strlen(val) : 0;
    switch (d->type) {
    case OPT_FLAG:
        *(bool *)field = true;
        return 0;
    case OPT_INT:
        rc = parse_i64(val, len, d->min, d->max, &v);
        break;
    case OPT_SIZE:
        rc = parse_size(val, len, d->min, d->max, &v);
        break;
    case OPT_DURATION:
        rc = parse_duration_ms(val, len, d->min, d->max, &v);
        break;
    case OPT_STRING:
        *(const char **)field = val;
        return 0;
    case OPT_LIST: {
        struct opt_list *l = (struct opt_list *)field;
        const char **items = realloc(l->items, (l->n + 1) * sizeof(*items));
        if (!items)
            return err_set(eb, IASO_E_NOMEM, "--%s: out of memory", d->name);
        items[l->n++] = val;
        l->items = items;
        return 0;
    }
    }
    if (rc == IASO_E_RANGE)
        return err_set(eb, IASO_E_USAGE, "--%s %s: out of range (%lld to %lld)", d->name, val,
                       (long long)d->min, (long long)d->max);
    if (rc < 0) {
        const char *what = d->type == OPT_SIZE       ? "a size such as 4096, 64K or 2G"
                           : d->type == OPT_DURATION ? "a duration such as 30s, 5m or 250ms"
                                                     : "a whole number";
        return err_set(eb, IASO_E_USAGE, "--%s %s: expected %s", d->name, val, what);
    }
    *(int64_t *)field = v;
    return 0;
}

int
opt_defaults(const struct opt_def *defs, size_t n_defs, void *cfg, struct errbuf *eb)
{
    for (size_t i = 0; i < n_defs; i++) {
        const struct opt_def *d = &defs[i];
        char *field = (char *)cfg + d->offset;
        switch (d->type) {
        case OPT_FLAG:
            *(bool *)field = false;
            break;
        case OPT_STRING:
            *(const char **)field = d->def;
            break;
        case OPT_LIST:
            memset(field, 0, sizeof(struct opt_list));
            break;
        default:
            *(int64_t *)field = 0;
            if (d->def) {
                int rc = set_value(d, cfg, d->def, eb);
                if (rc < 0)
                    return rc;
            }
        }
    }
    return 0;
}

int
opt_parse(const struct opt_def *defs, size_t n_defs, void *cfg, int argc, char **argv, int first,
          int *first_operand, struct errbuf *eb)
{
    if (n_defs > OPT_MAX)
        return err_set(eb, IASO_E_INVAL, "option table too large");
    struct option longopts[OPT_MAX + 1];
    char shortopts[2 * OPT_MAX + 2];
    size_t ns = 0;
    shortopts[ns++] = ':'; /* report a missing argument apart from an unknown option */
    for (size_t i = 0; i < n_defs; i++) {
        int has_arg = defs[i].type == OPT_FLAG ? no_argument : required_argument;
        longopts[i].name = defs[i].name;
        longopts[i].has_arg = has_arg;
        longopts[i].flag = NULL;
        longopts[i].val = 256 + (int)i;
        if (defs[i].short_name) {
            shortopts[ns++] = (char)defs[i].short_name;
            if (has_arg == required_argument)
                shortopts[ns++] = ':';
        }
    }
    shortopts[ns] = 0;
    memset(&longopts[n_defs], 0, sizeof(longopts[0]));

    /* getopt keeps global state; reset it so several parses in one process work. */
    optind = 0;
    opterr = 0;
    int sub_argc = argc - first + 1;
    char **sub_argv = argv + first - 1;
    for (;;) {
        int longidx = -1;
        int c = getopt_long(sub_argc, sub_argv, shortopts, longopts, &longidx);
        if (c == -1)
            break;
        if (c == '?') {
            if (optopt)
                return err_set(eb, IASO_E_USAGE, "unknown option -%c", optopt);
            return err_set(eb, IASO_E_USAGE, "unknown option %s", sub_argv[optind - 1]);
        }
        if (c == ':')
            return err_set(eb, IASO_E_USAGE, "option %s needs a value", sub_argv[optind - 1]);
        const struct opt_def *d = NULL;
        if (c >= 256) {
            d = &defs[c - 256];
        } else {
            for (size_t i = 0; i < n_defs; i++)
                if (defs[i].short_name == c)
                    d = &defs[i];
        }
        if (!d)
            return err_set(eb, IASO_E_USAGE, "unknown option");
        int rc = set_value(d, cfg, optarg, eb);
        if (rc < 0)
            return rc;
    }
    *first_operand = first - 1 + optind;
    return 0;
}

/* Trims spaces and tabs at both ends of [*p, *e). */
static void
trim_span(char **p, char **e)
{
    while (*p < *e && (**p == ' ' || **p == '\t'))
        (*p)++;
    while (*e > *p && ((*e)[-1] == ' ' || (*e)[-1] == '\t' || (*e)[-1] == '\r'))
        (*e)--;
}

int
opt_parse_text(const struct opt_def *defs, size_t n_defs, void *cfg, const char *name, char *text,
               struct errbuf *eb)
{
    unsigned line_no = 0;
    for (char *line = text; line && *line;) {
        char *nl = strchr(line, '\n');
        char *end = nl ? nl : line + strlen(line);
        char *next = nl ? nl + 1 : NULL;
        line_no++;
        char *p = line;
        trim_span(&p, &end);
        line = next;
        if (p == end || *p == '#')
            continue;
        char *eq = memchr(p, '=', (size_t)(end - p));
        char *key_end = eq ? eq : end;
        char *val = eq ? eq + 1 : end;
        char *val_end = end;
        char *key = p;
        trim_span(&key, &key_end);
        trim_span(&val, &val_end);
        if (val_end - val >= 2 && *val == '"' && val_end[-1] == '"') {
            val++;
            val_end--;
        }
        *key_end = '\0';
        *val_end = '\0';
        const struct opt_def *d = NULL;
        for (size_t i = 0; i < n_defs && !d; i++)
            if (strcmp(defs[i].name, key) == 0)
                d = &defs[i];
        if (!d)
            return err_set(eb, IASO_E_USAGE, "%s: line %u: unknown option '%s'", name, line_no,
                           key);
        if (d->type == OPT_FLAG) {
            if (!eq || strcmp(val, "true") == 0 || strcmp(val, "yes") == 0 || strcmp(val, "1") == 0)
                *(bool *)((char *)cfg + d->offset) = true;
            else if (!(strcmp(val, "false") == 0 || strcmp(val, "no") == 0 ||
                       strcmp(val, "0") == 0))
                return err_set(eb, IASO_E_USAGE, "%s: line %u: %s takes true or false", name,
                               line_no, key);
            continue;
        }
        if (!eq || *val == '\0')
            return err_set(eb, IASO_E_USAGE, "%s: line %u: %s needs a value (%s = %s)", name,
                           line_no, key, key, d->arg_name ? d->arg_name : "VALUE");
        struct errbuf veb = {""};
        int rc = set_value(d, cfg, val, &veb);
        if (rc < 0)
            return err_set(eb, rc, "%s: line %u: %s", name, line_no, veb.msg);
    }
    return 0;
}

void
opt_release(const struct opt_def *defs, size_t n_defs, void *cfg)
{
    for (size_t i = 0; i < n_defs; i++) {
        if (defs[i].type != OPT_LIST)
            continue;
        struct opt_list *l = (struct opt_list *)((char *)cfg + defs[i].offset);
        free(l->items);
        l->items = NULL;
        l->n = 0;
    }
}

static int
append_wrapped(struct buf *out, const char *text, size_t indent, size_t width)
{
    size_t col = indent;
    const char *p = text;
    int rc = 0;
    while (*p && rc == 0) {
        while (*p == ' ')
            p++;
        size_t wlen = strcspn(p, " ");
        if (col > indent && col + 1 + wlen > width) {
            rc = buf_printf(out, "\n%*s", (int)indent, "");
            col = indent;
        } else if (col > indent) {
            rc = buf_append_char(out, ' ');
            col++;
        }
        if (rc == 0)
            rc = buf_append(out, p, wlen);
        col += wlen;
        p += wlen;
    }
    return rc ? rc : buf_append_char(out, '\n');
}

int
opt_help_text(const struct opt_def *defs, size_t n_defs, struct buf *out)
{
    int rc = 0;
    for (size_t i = 0; i < n_defs && rc == 0; i++) {
        const struct opt_def *d = &defs[i];
        char head[96];
        int n;
        if (d->short_name)
            n = snprintf(head, sizeof(head), "  -%c, --%s%s%s", d->short_name, d->name,
                         d->arg_name ? " " : "", d->arg_name ? d->arg_name : "");
        else
            n = snprintf(head, sizeof(head), "      --%s%s%s", d->name, d->arg_name ? " " : "",
                         d->arg_name ? d->arg_name : "");
        rc = buf_append_str(out, head);
        if (rc == 0 && n >= 28)
            rc = buf_printf(out, "\n%28s", "");
        else if (rc == 0)
            rc = buf_printf(out, "%*s", 28 - n, "");
        if (rc)
            break;
        struct buf h;
        buf_init(&h, 0);
        rc = buf_append_str(&h, d->help);
        if (rc == 0 && d->def && d->type != OPT_FLAG)
            rc = buf_printf(&h, " (default: %s)", d->def);
        if (rc == 0)
            rc = append_wrapped(out, (const char *)h.ptr, 28, 80);
        buf_release(&h);
    }
    return rc;
}

int
opt_help_markdown(const struct opt_def *defs, size_t n_defs, struct buf *out)
{
    static const char *const type_names[] = {"flag",     "integer", "size",
                                             "duration", "string",  "string, repeatable"};
    int rc = buf_append_str(out, "| option | type | default | range | description |\n"
                                 "|---|---|---|---|---|\n");
    for (size_t i = 0; i < n_defs && rc == 0; i++) {
        const struct opt_def *d = &defs[i];
        char range[64] = "";
        if (d->type == OPT_INT || d->type == OPT_SIZE || d->type == OPT_DURATION)
            snprintf(range, sizeof(range), "%lld – %lld%s", (long long)d->min, (long long)d->max,
                     d->type == OPT_SIZE       ? " bytes"
                     : d->type == OPT_DURATION ? " ms"
                                               : "");
        char shortname[8] = "";
        if (d->short_name)
            snprintf(shortname, sizeof(shortname), "`-%c`, ", d->short_name);
        rc = buf_printf(out, "| %s`--%s%s%s` | %s | %s | %s | %s |\n", shortname, d->name,
                        d->arg_name ? " " : "", d->arg_name ? d->arg_name : "", type_names[d->type],
                        d->def && d->type != OPT_FLAG ? d->def : "", range, d->help);
    }
    return rc;
}
