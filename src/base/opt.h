// SPDX-License-Identifier: Apache-2.0
// The option table. Every option of a command is declared once, as data: its type, bounds,
// default and help. Parsing the command line, `--help` and the reference pages in docs/ all
// come from that one table, so they cannot disagree.
#ifndef IASO_BASE_OPT_H
#define IASO_BASE_OPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/error.h"

enum opt_type {
    OPT_FLAG,     /* bool; no argument */
    OPT_INT,      /* int64_t */
    OPT_SIZE,     /* int64_t bytes; accepts k/M/G suffixes */
    OPT_DURATION, /* int64_t milliseconds; accepts ms/s/m/h/d suffixes, plain = seconds */
    OPT_STRING,   /* const char *; borrowed from argv or the default */
    OPT_LIST,     /* struct opt_list; repeatable */
};

/* The values of a repeatable option, in command-line order. `items` is owned, the strings
 * borrowed from argv. */
struct opt_list {
    const char **items;
    size_t n;
};

struct opt_def {
    const char *name; /* long name, without "--" */
    int short_name;   /* a letter, or 0 */
    enum opt_type type;
    const char *arg_name; /* shown in help: "FILE", "N" */
    int64_t min, max;     /* bounds for numbers */
    const char *def;      /* default as it would be typed, or NULL */
    const char *help;     /* one or more sentences */
    size_t offset;        /* where the value lives in the config struct */
};

/* Sets every option to its default. Fails only on a bad table (a default out of bounds). */
int opt_defaults(const struct opt_def *defs, size_t n_defs, void *cfg, struct errbuf *eb);

/*
 * Parses argv[first..argc) against the table with getopt_long. Non-option arguments are left
 * in argv, moved to the end; *first_operand receives the index of the first one. Errors name the
 * option and what is wrong (IASO_E_USAGE).
 */
int opt_parse(const struct opt_def *defs, size_t n_defs, void *cfg, int argc, char **argv,
              int first, int *first_operand, struct errbuf *eb);

/*
 * Parses a configuration file's text, one option a line: `name = value` with the long option
 * names (no "--"), `# comments`, blank lines; a flag alone or `= true`/`false`. Values may be
 * quoted with "". The text is modified in place and the values point into it, so it must live as
 * long as cfg. Errors name the file (`name`), the line and the option (IASO_E_USAGE).
 */
int opt_parse_text(const struct opt_def *defs, size_t n_defs, void *cfg, const char *name,
                   char *text, struct errbuf *eb);

/* Frees what opt_parse allocated (lists). */
void opt_release(const struct opt_def *defs, size_t n_defs, void *cfg);

/* The options as `--help` shows them, wrapped to 80 columns. */
int opt_help_text(const struct opt_def *defs, size_t n_defs, struct buf *out);
/* The options as a Markdown table for docs/. */
int opt_help_markdown(const struct opt_def *defs, size_t n_defs, struct buf *out);

#endif
