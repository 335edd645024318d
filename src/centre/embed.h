// SPDX-License-Identifier: Apache-2.0
// Files embedded in the binary at build time by scripts/embed.py: the SQL migrations and the
// browser UI. One table per use, sorted by path.
#ifndef IASO_CENTRE_EMBED_H
#define IASO_CENTRE_EMBED_H

#include <stddef.h>

struct embed_file {
    const char *path;          /* relative to the embedded folder, '/'-separated */
    const unsigned char *data; /* NUL-terminated, static */
    size_t len;                /* without the NUL */
};

/* The migrations, "sqlite/0001-init.sql", "postgres/0001-init.sql", ... */
extern const struct embed_file embed_migrations[];
extern const size_t embed_migrations_n;

/* The browser UI, "index.html", "app.js", ... */
extern const struct embed_file embed_web[];
extern const size_t embed_web_n;

#endif
