// SPDX-License-Identifier: Apache-2.0
// libFuzzer target for incident bodies: the input is a JSON document as a client would POST or
// PATCH it. It goes through the incident checks for both kinds, whole and partial (the field
// tables, the nested classification, victims and indicators, the value syntax), the combined
// state check, each NIS2 stage's field table, and the report snapshot and printable page made
// from it. Nothing may crash; a refusal must be IASO_E_INVAL with a sentence; the page must be
// produced and must not carry a tag from the input (every text is escaped). Breaking that traps.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "base/buf.h"
#include "base/error.h"
#include "centre/api.h"
#include "centre/incident.h"
#include "centre/nis2.h"

#define NOW INT64_C(1795000000) /* 2026-11-18T09:46:40Z */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A refusal is IASO_E_INVAL with a NUL-terminated sentence in msg; NOMEM may happen. */
static void
check_refusal(int rc, const char *msg, size_t msg_len)
{
    if (rc == 0 || rc == IASO_E_NOMEM)
        return;
    if (rc != IASO_E_INVAL || msg[0] == '\0' || strnlen(msg, msg_len) == msg_len)
        __builtin_trap();
}

static void
check_page(const json_t *doc)
{
    struct buf out;
    buf_init(&out, 16u << 20);
    int rc = nis2_export_html(doc, &out);
    if (rc != 0 && rc != IASO_E_NOMEM && rc != IASO_E_LIMIT)
        __builtin_trap();
    /* Only our own markup: the page has no script at all, whatever the input says. */
    if (rc == 0 && (!out.ptr || strcasestr((const char *)out.ptr, "<script") ||
                    strcasestr((const char *)out.ptr, "<img")))
        __builtin_trap();
    buf_release(&out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_error_t err;
    json_t *obj = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &err);
    if (!obj)
        return 0;
    char msg[400];
    static const enum incident_kind kinds[] = {INCIDENT_CYBER, INCIDENT_VIOLENCE};
    for (size_t k = 0; k < 2; k++) {
        for (int partial = 0; partial < 2; partial++) {
            msg[0] = '\0';
            int rc = incident_fields_check(obj, kinds[k], partial != 0, msg, sizeof(msg));
            check_refusal(rc, msg, sizeof(msg));
        }
    }
    msg[0] = '\0';
    check_refusal(incident_state_check(obj, NOW, msg, sizeof(msg)), msg, sizeof(msg));

    for (size_t s = 0; s < NIS2_STAGE_N; s++) {
        size_t n = 0;
        const struct api_field *fields = nis2_stage_fields((enum nis2_stage)s, &n);
        msg[0] = '\0';
        check_refusal(api_fields_check(obj, fields, n, false, msg, sizeof(msg)), msg, sizeof(msg));
        /* the input as the incident and as the answers, then as a whole export document */
        json_t *snap = nis2_snapshot((enum nis2_stage)s, NOW, NIS2_BASIS_AWARE, obj, obj);
        if (snap) {
            json_t *doc = json_object();
            json_object_set_new(doc, "stage", json_string(nis2_stage_name((enum nis2_stage)s)));
            json_object_set(doc, "tlp", json_object_get(obj, "tlp"));
            json_object_set_new(doc, "content", snap);
            check_page(doc);
            json_decref(doc);
        }
    }
    check_page(obj);
    json_decref(obj);
    return 0;
}
