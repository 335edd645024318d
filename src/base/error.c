// SPDX-License-Identifier: Apache-2.0
// The error-code table: messages and names for our codes, strerror for the system's.
#include "base/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const messages[] = {
#define IASO_ERR_MSG_(name, msg) msg,
    IASO_ERRORS(IASO_ERR_MSG_)
#undef IASO_ERR_MSG_
};

static const char *const names[] = {
#define IASO_ERR_NAME_(name, msg) "IASO_E_" #name,
    IASO_ERRORS(IASO_ERR_NAME_)
#undef IASO_ERR_NAME_
};

const char *
iaso_strerror(int code)
{
    if (code == 0)
        return "success";
    if (code > IASO_E_BASE_ && code < IASO_E_END_)
        return messages[code - IASO_E_BASE_ - 1];
    if (code < 0 && code > -4096)
        return strerror(-code);
    return "unknown error";
}

const char *
iaso_errname(int code)
{
    if (code == 0)
        return "OK";
    if (code > IASO_E_BASE_ && code < IASO_E_END_)
        return names[code - IASO_E_BASE_ - 1];
    if (code < 0 && code > -4096) {
        const char *n = strerrorname_np(-code);
        return n ? n : "E?";
    }
    return "UNKNOWN";
}

int
err_set(struct errbuf *eb, int code, const char *fmt, ...)
{
    if (eb) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(eb->msg, sizeof(eb->msg), fmt, ap);
        va_end(ap);
    }
    return code;
}
