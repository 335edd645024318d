// SPDX-License-Identifier: Apache-2.0
// The parser registry: one line per protocol. A parser that is not built in is NULL.
#include "proto/proto.h"

#include <stdlib.h>
#include <string.h>

#include "proto/registry-int.h"

const struct proto_parser *const proto_parsers[PROTO_COUNT] = {
    [PROTO_DICOM] = PROTO_PARSER_DICOM, [PROTO_HL7] = PROTO_PARSER_HL7,
    [PROTO_HTTP] = PROTO_PARSER_HTTP,   [PROTO_DNS] = PROTO_PARSER_DNS,
    [PROTO_TLS] = PROTO_PARSER_TLS,     [PROTO_SMB2] = PROTO_PARSER_SMB2,
    [PROTO_RDP] = PROTO_PARSER_RDP,
};

const struct proto_parser *
proto_by_name(const char *name)
{
    for (int i = 0; i < PROTO_COUNT; i++)
        if (proto_parsers[i] && strcmp(proto_parsers[i]->name, name) == 0)
            return proto_parsers[i];
    return NULL;
}

const char *
proto_name(enum proto_id id)
{
    static const char *const names[PROTO_COUNT] = {
        [PROTO_NONE] = "other", [PROTO_DICOM] = "dicom", [PROTO_HL7] = "hl7",
        [PROTO_HTTP] = "http",  [PROTO_DNS] = "dns",     [PROTO_TLS] = "tls",
        [PROTO_SMB2] = "smb2",  [PROTO_RDP] = "rdp",
    };
    return id < PROTO_COUNT ? names[id] : "other";
}

/* The accountant of the calling thread. A thread-local rather than a parameter so that parsers
 * keep allocating as they would with malloc; each worker thread sets its own. */
static _Thread_local struct proto_mem *mem_current;

/* Each block starts with its length, padded to 16 so what follows stays aligned. */
#define HDR_LEN 16

void
proto_mem_use(struct proto_mem *m)
{
    mem_current = m;
}

void *
proto_malloc(size_t len)
{
    struct proto_mem *m = mem_current;
    if (len > SIZE_MAX - HDR_LEN)
        return NULL;
    size_t total = len + HDR_LEN;
    if (m && m->cap && (total > m->cap || m->used > m->cap - total)) {
        m->n_refused++;
        return NULL;
    }
    unsigned char *b = malloc(total);
    if (!b)
        return NULL;
    memcpy(b, &total, sizeof(total));
    if (m) {
        m->used += total;
        if (m->used > m->used_max)
            m->used_max = m->used;
    }
    return b + HDR_LEN;
}

void *
proto_calloc(size_t n, size_t len)
{
    if (len && n > SIZE_MAX / len)
        return NULL;
    void *p = proto_malloc(n * len);
    if (p)
        memset(p, 0, n * len);
    return p;
}

void
proto_free(void *ptr)
{
    if (!ptr)
        return;
    unsigned char *b = (unsigned char *)ptr - HDR_LEN;
    size_t total;
    memcpy(&total, b, sizeof(total));
    struct proto_mem *m = mem_current;
    if (m)
        m->used = m->used >= total ? m->used - total : 0;
    free(b);
}

void *
proto_realloc(void *ptr, size_t len)
{
    if (!ptr)
        return proto_malloc(len);
    unsigned char *b = (unsigned char *)ptr - HDR_LEN;
    size_t old_total;
    memcpy(&old_total, b, sizeof(old_total));
    if (len > SIZE_MAX - HDR_LEN)
        return NULL;
    size_t total = len + HDR_LEN;
    struct proto_mem *m = mem_current;
    if (m && m->cap && total > old_total && m->used + (total - old_total) > m->cap) {
        m->n_refused++;
        return NULL;
    }
    unsigned char *nb = realloc(b, total);
    if (!nb)
        return NULL;
    memcpy(nb, &total, sizeof(total));
    if (m) {
        m->used = m->used - old_total + total;
        if (m->used > m->used_max)
            m->used_max = m->used;
    }
    return nb + HDR_LEN;
}
