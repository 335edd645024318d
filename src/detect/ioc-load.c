// SPDX-License-Identifier: Apache-2.0
// Loading indicator files (see ioc.h): reading a file whole, telling its format by content, the
// MISP feed directory, and what the three loaders share (ioc-csv.c, ioc-stix.c, ioc-misp.c): the
// report helpers and the timestamp parser.
//
// How a report counts. A record is one unit of the input that may carry indicators: a CSV data
// row (blank and '#' comment lines are not records), a STIX object of a bundle (objects that are
// not indicators are records too, counted as skipped), a MISP attribute (in Event.Attribute, in
// Event.Object[].Attribute or in an attribute collection; a MISP object is only the container of
// its attributes), and a feed event file that could not be read. Every record ends up in exactly
// one of four states:
//   - loaded: every value it carried was added or was a duplicate (n_loaded / n_duplicate count
//     those values, not records: a STIX pattern with three addresses gives three);
//   - skipped (n_skipped): not meant for detection;
//   - unsupported (n_unsupported): nothing of it is added, because some part of it cannot be
//     matched and loading the rest would change its meaning;
//   - invalid (n_invalid): malformed. A record of several values some of which the store rejects
//     counts as invalid once, and its other values are still added (a STIX pattern is a
//     disjunction, so each of its values is an indicator on its own).
// So n_records == loaded records + n_skipped + n_unsupported + n_invalid, and every unsupported
// or invalid record is counted under one reason.
#include "detect/ioc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "base/timefmt.h"

/* The largest file read: as much as the store's value arena can hold, so a larger file could
 * not load anyway. */
#define IOC_FILE_MAX ((size_t)4 << 30)
/* A feed's manifest names events by UUID; anything longer or with other characters is not one
 * and could name a path outside the directory. */
#define IOC_FEED_UUID_MAX 64

const char *
ioc_format_name(enum ioc_format f)
{
    switch (f) {
    case IOC_FMT_CSV:
        return "csv";
    case IOC_FMT_STIX:
        return "stix";
    case IOC_FMT_MISP:
        return "misp";
    case IOC_FMT_AUTO:
        break;
    }
    return "auto";
}

/* ---- the report ---- */

void
ioc_report_reason(struct ioc_load_report *r, bool unsupported, const char *reason)
{
    if (unsupported)
        r->n_unsupported++;
    else
        r->n_invalid++;
    /* Compare as stored: a reason longer than the slot is kept cut, and must meet itself. */
    char cut[sizeof(r->reasons[0].reason)];
    snprintf(cut, sizeof(cut), "%s", reason);
    for (uint32_t i = 0; i < r->n_reasons; i++) {
        if (r->reasons[i].unsupported == unsupported && strcmp(r->reasons[i].reason, cut) == 0) {
            r->reasons[i].n++;
            return;
        }
    }
    if (r->n_reasons >= IOC_LOAD_REASONS_MAX)
        return; /* counted in the totals only */
    memcpy(r->reasons[r->n_reasons].reason, cut, sizeof(cut));
    r->reasons[r->n_reasons].n = 1;
    r->reasons[r->n_reasons].unsupported = unsupported;
    r->n_reasons++;
}

void
ioc_report_problem(struct ioc_load_report *r, const char *where, const char *fmt, ...)
{
    if (r->n_problems >= IOC_LOAD_PROBLEMS_MAX)
        return;
    char *p = r->problems[r->n_problems++];
    size_t cap = sizeof(r->problems[0]);
    int n = snprintf(p, cap, "%s: ", where);
    if (n >= 0 && (size_t)n < cap) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(p + n, cap - (size_t)n, fmt, ap);
        va_end(ap);
    }
    /* The text quotes the input, which may hold anything: keep terminal controls out of it. */
    for (; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = '?';
}

void
ioc_report_added(struct ioc_load_report *r, enum ioc_type t, int rc, const struct ioc_meta *m,
                 int64_t now_us)
{
    if (rc == 1) {
        r->n_loaded++;
        if ((unsigned)t < IOC_TYPE_COUNT)
            r->n_type[t]++;
        if (now_us && m && m->valid_until_us && m->valid_until_us <= now_us)
            r->n_expired++;
    } else if (rc == 0) {
        r->n_duplicate++;
    } else if (rc == IASO_E_FORMAT) {
        char reason[64];
        snprintf(reason, sizeof(reason), "invalid %s value", ioc_type_name(t));
        ioc_report_reason(r, false, reason);
    }
}

/* ---- time ---- */

/* Reads exactly n digits at s[*i]. */
static bool
digits(const char *s, size_t len, size_t *i, int n, int *out)
{
    int v = 0;
    for (int k = 0; k < n; k++, (*i)++) {
        if (*i >= len || s[*i] < '0' || s[*i] > '9')
            return false;
        v = v * 10 + (s[*i] - '0');
    }
    *out = v;
    return true;
}

static int
days_in_month(int y, int m)
{
    static const int dm[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : dm[m - 1];
}

/* ".123456789": microseconds from the first six digits; the rest must be digits too. */
static bool
fraction_us(const char *s, size_t len, size_t *i, int64_t *us)
{
    int64_t v = 0;
    int n = 0;
    size_t start = *i;
    for (; *i < len && s[*i] >= '0' && s[*i] <= '9'; (*i)++, n++)
        if (n < 6)
            v = v * 10 + (s[*i] - '0');
    for (; n < 6; n++)
        v *= 10;
    *us = v;
    return *i > start;
}

int
ioc_parse_time(const char *s, size_t len, int64_t *out_us)
{
    while (len && (*s == ' ' || *s == '\t')) {
        s++;
        len--;
    }
    while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
        len--;
    size_t i = 0;
    int64_t frac = 0;
    /* Unix seconds: digits only, then an optional fraction. */
    while (i < len && s[i] >= '0' && s[i] <= '9')
        i++;
    if (i > 0 && (i == len || s[i] == '.')) {
        if (i > 12)
            return IASO_E_RANGE; /* past year 9999 */
        int64_t secs = 0;
        for (size_t k = 0; k < i; k++)
            secs = secs * 10 + (s[k] - '0');
        if (i < len) {
            i++;
            if (!fraction_us(s, len, &i, &frac) || i != len)
                return IASO_E_FORMAT;
        }
        *out_us = secs * 1000000 + frac;
        return 0;
    }
    i = 0;
    int y, mo, d, h = 0, mi = 0, sec = 0;
    if (!digits(s, len, &i, 4, &y) || i >= len || s[i++] != '-' || !digits(s, len, &i, 2, &mo) ||
        i >= len || s[i++] != '-' || !digits(s, len, &i, 2, &d))
        return IASO_E_FORMAT;
    if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo))
        return IASO_E_RANGE;
    int64_t offset_s = 0;
    if (i < len) {
        if (s[i] != 'T' && s[i] != 't' && s[i] != ' ')
            return IASO_E_FORMAT;
        i++;
        if (!digits(s, len, &i, 2, &h) || i >= len || s[i++] != ':' || !digits(s, len, &i, 2, &mi))
            return IASO_E_FORMAT;
        if (i < len && s[i] == ':') {
            i++;
            if (!digits(s, len, &i, 2, &sec))
                return IASO_E_FORMAT;
            if (i < len && (s[i] == '.' || s[i] == ',')) {
                i++;
                if (!fraction_us(s, len, &i, &frac))
                    return IASO_E_FORMAT;
            }
        }
        if (h > 23 || mi > 59 || sec > 60)
            return IASO_E_RANGE;
        if (i < len && (s[i] == 'Z' || s[i] == 'z')) {
            i++;
        } else if (i < len && (s[i] == '+' || s[i] == '-')) {
            int sign = s[i++] == '-' ? -1 : 1;
            int oh, om = 0;
            if (!digits(s, len, &i, 2, &oh))
                return IASO_E_FORMAT;
            if (i < len && s[i] == ':')
                i++;
            if (i < len && !digits(s, len, &i, 2, &om))
                return IASO_E_FORMAT;
            if (oh > 23 || om > 59)
                return IASO_E_RANGE;
            offset_s = (int64_t)sign * (oh * 3600 + om * 60);
        }
        if (i != len)
            return IASO_E_FORMAT;
    }
    int64_t t = timefmt_days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + (int64_t)h * 3600 +
                (int64_t)mi * 60 + sec - offset_s;
    *out_us = t * 1000000 + frac;
    return 0;
}

/* ---- files ---- */

/* Reads path whole into a new buffer (NUL-terminated, for the reader's comfort). */
static int
read_whole(const char *path, char **out, size_t *out_len, struct errbuf *eb)
{
    int rc = 0;
    char *buf = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return err_set(eb, -errno, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        rc = err_set(eb, -errno, "%s: cannot stat: %s", path, strerror(errno));
        goto out;
    }
    /* The size is a hint (pipes have none, files may grow): read until the end either way. */
    size_t cap = S_ISREG(st.st_mode) && st.st_size > 0 ? (size_t)st.st_size + 1 : 65536;
    if (cap > IOC_FILE_MAX + 1)
        cap = IOC_FILE_MAX + 1;
    size_t len = 0;
    buf = malloc(cap);
    if (!buf) {
        rc = err_set(eb, IASO_E_NOMEM, "%s: no memory to read %zu bytes", path, cap);
        goto out;
    }
    for (;;) {
        if (len + 1 >= cap) {
            if (cap > IOC_FILE_MAX) {
                rc = err_set(eb, IASO_E_LIMIT, "%s: larger than %zu bytes, the most we load", path,
                             IOC_FILE_MAX);
                goto out;
            }
            size_t ncap = cap * 2 > IOC_FILE_MAX + 1 ? IOC_FILE_MAX + 1 : cap * 2;
            char *nb = realloc(buf, ncap);
            if (!nb) {
                rc = err_set(eb, IASO_E_NOMEM, "%s: no memory to read %zu bytes", path, ncap);
                goto out;
            }
            buf = nb;
            cap = ncap;
        }
        ssize_t n = read(fd, buf + len, cap - 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = err_set(eb, -errno, "%s: read failed: %s", path, strerror(errno));
            goto out;
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    buf[len] = '\0';
    *out = buf;
    *out_len = len;
    buf = NULL;
out:
    free(buf);
    close(fd);
    return rc;
}

/* The last component of a path, for naming a source. */
static const char *
base_name(const char *path)
{
    size_t n = strlen(path);
    while (n > 1 && path[n - 1] == '/')
        n--;
    size_t i = n;
    while (i > 0 && path[i - 1] != '/')
        i--;
    return path + i;
}

/*
 * Tells STIX from MISP without parsing the whole document: the first member of the top-level
 * object that decides ("Event", "response" or "Attribute": MISP; "type": STIX). A top-level list
 * is MISP (a list of events or attributes). Returns IOC_FMT_AUTO when nothing decides.
 */
static enum ioc_format
sniff_json(const char *p, size_t len)
{
    size_t i = 0;
    while (i < len && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n'))
        i++;
    if (i < len && p[i] == '[')
        return IOC_FMT_MISP;
    if (i >= len || p[i] != '{')
        return IOC_FMT_AUTO;
    int depth = 0;
    bool want_key = false;
    for (; i < len; i++) {
        char c = p[i];
        if (c == '"') {
            size_t start = ++i;
            while (i < len && p[i] != '"')
                i += p[i] == '\\' ? 2 : 1;
            if (i >= len)
                break;
            if (depth == 1 && want_key) {
                size_t n = i - start;
                const char *k = p + start;
                if ((n == 5 && memcmp(k, "Event", 5) == 0) ||
                    (n == 8 && memcmp(k, "response", 8) == 0) ||
                    (n == 9 && memcmp(k, "Attribute", 9) == 0))
                    return IOC_FMT_MISP;
                if (n == 4 && memcmp(k, "type", 4) == 0)
                    return IOC_FMT_STIX;
            }
            want_key = false;
        } else if (c == '{' || c == '[') {
            depth++;
            want_key = depth == 1;
        } else if (c == '}' || c == ']') {
            depth--;
            if (depth <= 0)
                break;
        } else if (c == ',' && depth == 1) {
            want_key = true;
        }
    }
    return IOC_FMT_AUTO;
}

static bool
feed_uuid_ok(const char *u)
{
    size_t n = strlen(u);
    if (n == 0 || n > IOC_FEED_UUID_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = u[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') ||
              c == '-'))
            return false;
    }
    return true;
}

/* One event file of a feed that could not be used: a record, invalid. */
static void
feed_event_bad(struct ioc_load_report *r, const char *uuid, const char *reason, const char *why)
{
    r->n_records++;
    ioc_report_reason(r, false, reason);
    ioc_report_problem(r, uuid, "%s", why);
}

/* A MISP feed: manifest.json names the events, each in <uuid>.json beside it. */
static int
load_feed(struct ioc_store *s, const char *dir, const char *source, int64_t now_us,
          struct ioc_load_report *r, struct errbuf *eb)
{
    char path[4096];
    char *data = NULL;
    size_t len = 0;
    json_t *manifest = NULL;
    r->format = IOC_FMT_MISP;
    int n = snprintf(path, sizeof(path), "%s/manifest.json", dir);
    if (n < 0 || (size_t)n >= sizeof(path))
        return err_set(eb, IASO_E_INVAL, "%s: path too long", dir);
    int rc = read_whole(path, &data, &len, eb);
    if (rc < 0) {
        err_set(eb, rc, "%s: not a MISP feed directory (no readable manifest.json: %s)", dir,
                iaso_strerror(rc));
        goto out;
    }
    json_error_t jerr;
    manifest = json_loadb(data, len, 0, &jerr);
    if (!manifest || !json_is_object(manifest)) {
        rc = err_set(eb, IASO_E_FORMAT,
                     "%s: manifest.json is not a JSON object of events (%s, line %d)", dir,
                     manifest ? "a list or value" : jerr.text, jerr.line);
        goto out;
    }
    free(data);
    data = NULL;
    const char *uuid;
    json_t *v;
    json_object_foreach(manifest, uuid, v)
    {
        (void)v;
        if (!feed_uuid_ok(uuid)) {
            feed_event_bad(r, "manifest.json", "MISP feed: bad event uuid",
                           "an event key is not a UUID; skipped");
            continue;
        }
        n = snprintf(path, sizeof(path), "%s/%s.json", dir, uuid);
        if (n < 0 || (size_t)n >= sizeof(path)) {
            rc = err_set(eb, IASO_E_INVAL, "%s: path too long", dir);
            goto out;
        }
        struct errbuf feb;
        rc = read_whole(path, &data, &len, &feb);
        if (rc < 0) {
            feed_event_bad(r, uuid, "MISP feed: missing event file", feb.msg);
            rc = 0;
            continue;
        }
        rc = ioc_load_misp_append(s, data, len, source, now_us, r, &feb);
        free(data);
        data = NULL;
        if (rc == IASO_E_NOMEM || rc == IASO_E_LIMIT) {
            err_set(eb, rc, "%s/%s.json: %s", dir, uuid, feb.msg);
            goto out;
        }
        if (rc < 0) {
            /* The event file as a whole is unusable (the loader counted nothing of it): one
             * invalid record for it. */
            feed_event_bad(r, uuid, "MISP feed: unreadable event file", feb.msg);
            rc = 0;
        }
    }
out:
    json_decref(manifest);
    free(data);
    return rc;
}

static int64_t
now_us_get(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
        return 0;
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int
ioc_load_path(struct ioc_store *s, const char *path, enum ioc_format fmt, const char *source,
              struct ioc_load_report *r, struct errbuf *eb)
{
    struct ioc_load_report local;
    if (!r)
        r = &local;
    memset(r, 0, sizeof(*r));
    r->format = fmt;
    if (!source)
        source = base_name(path);
    int64_t now = now_us_get();
    struct stat st;
    if (stat(path, &st) != 0)
        return err_set(eb, -errno, "%s: %s", path, strerror(errno));
    if (S_ISDIR(st.st_mode)) {
        if (fmt != IOC_FMT_AUTO && fmt != IOC_FMT_MISP)
            return err_set(eb, IASO_E_FORMAT,
                           "%s: a directory (only a MISP feed can be one; use a file for %s)", path,
                           ioc_format_name(fmt));
        return load_feed(s, path, source, now, r, eb);
    }
    char *data = NULL;
    size_t len = 0;
    int rc = read_whole(path, &data, &len, eb);
    if (rc < 0)
        return rc;
    if (fmt == IOC_FMT_AUTO) {
        size_t off = len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0 ? 3 : 0;
        size_t i = off;
        while (i < len && (data[i] == ' ' || data[i] == '\t' || data[i] == '\r' || data[i] == '\n'))
            i++;
        if (i < len && (data[i] == '{' || data[i] == '[')) {
            fmt = sniff_json(data + off, len - off);
            if (fmt == IOC_FMT_AUTO) {
                free(data);
                return err_set(eb, IASO_E_FORMAT,
                               "%s: JSON, but neither a STIX bundle or object (no \"type\") nor "
                               "a MISP export (no \"Event\", \"response\" or \"Attribute\")",
                               path);
            }
        } else {
            fmt = IOC_FMT_CSV;
        }
    }
    struct errbuf leb;
    leb.msg[0] = '\0';
    switch (fmt) {
    case IOC_FMT_STIX:
        rc = ioc_load_stix(s, data, len, source, now, r, &leb);
        break;
    case IOC_FMT_MISP:
        rc = ioc_load_misp(s, data, len, source, now, r, &leb);
        break;
    case IOC_FMT_CSV:
    case IOC_FMT_AUTO:
        rc = ioc_load_csv(s, data, len, source, now, r, &leb);
        break;
    }
    free(data);
    if (rc < 0)
        err_set(eb, rc, "%s: %s", path, leb.msg);
    return rc;
}
