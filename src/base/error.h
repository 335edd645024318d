// SPDX-License-Identifier: Apache-2.0
// Error codes for the whole project. Functions return 0 on success and a negative code on
// failure: either -errno passed through from the system, or one of ours from the table below.
// Ours start far below the errno range so the two never collide.
#ifndef IASO_BASE_ERROR_H
#define IASO_BASE_ERROR_H

#include <stddef.h>

/* X(NAME, message) */
#define IASO_ERRORS(X)                                                                             \
    X(AGAIN, "need more input")                                                                    \
    X(NOMEM, "out of memory")                                                                      \
    X(INVAL, "invalid argument")                                                                   \
    X(RANGE, "value out of range")                                                                 \
    X(FORMAT, "malformed input")                                                                   \
    X(TRUNC, "input truncated")                                                                    \
    X(LIMIT, "configured limit reached")                                                           \
    X(IO, "input/output error")                                                                    \
    X(NOTFOUND, "not found")                                                                       \
    X(EXIST, "already exists")                                                                     \
    X(PERM, "permission denied")                                                                   \
    X(UNSUPPORTED, "not supported")                                                                \
    X(CAPTURE, "capture error")                                                                    \
    X(USAGE, "bad usage")

enum iaso_error {
    IASO_E_BASE_ = -10000,
#define IASO_ERR_ENUM_(name, msg) IASO_E_##name,
    IASO_ERRORS(IASO_ERR_ENUM_)
#undef IASO_ERR_ENUM_
        IASO_E_END_
};

/* Returns a static sentence for any code: ours, -errno, or 0 ("success"). */
const char *iaso_strerror(int code);

/* Returns the symbolic name ("IASO_E_NOMEM", "ENOENT", ...) of a code. */
const char *iaso_errname(int code);

/*
 * An optional place for a library to leave a human sentence about a failure, for the caller to
 * print. Libraries never print themselves. `errbuf` may be NULL, in which case nothing is kept.
 */
struct errbuf {
    char msg[256];
};

/* Formats into `eb` (if not NULL) and returns `code`, so `return err_set(eb, rc, "...")` works. */
int err_set(struct errbuf *eb, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
