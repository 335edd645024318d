// SPDX-License-Identifier: Apache-2.0
// libFuzzer target for the DICOM parser. Input: records of a header byte h and (h >> 1) + 1
// bytes sent in direction h & 1 (0 client, 1 server), fed in that order, so the fuzzer controls
// both the bytes and how they are split. Probe runs on the first bytes of each direction; end()
// runs last, after a gap of (size % 1024) bytes. Invariants checked: parse() never fails with
// anything but one of our codes and keeps failing once it failed; events are well-formed JSON for
// the writer; patient fields and patient query keys only ever hold pseudonyms.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/error.h"
#include "base/jsonw.h"
#include "proto/dicom.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Patient fields hold a pseudonym or nothing. */
static void
check_pseudonym(const char *v)
{
    if (v[0] != '\0' && (strncmp(v, "phi:", 4) != 0 || strlen(v) != PHI_PSEUDONYM_LEN))
        abort();
}

static void
check_dimse(const struct dicom_dimse *m)
{
    check_pseudonym(m->patient_name);
    check_pseudonym(m->patient_id);
    check_pseudonym(m->patient_birth_date);
    if (m->n_keys > DICOM_KEYS_MAX)
        abort();
    for (uint32_t i = 0; i < m->n_keys; i++)
        if (m->keys[i].is_patient)
            check_pseudonym(m->keys[i].value);
}

static void
fuzz_emit(void *user, const struct proto_event *ev)
{
    struct buf *out = user;
    struct jsonw w;
    if (ev->proto != PROTO_DICOM || ev->kind < DICOM_EVENT_ASSOCIATE_RQ ||
        ev->kind > DICOM_EVENT_ASSOCIATION || ev->data == NULL)
        abort();
    buf_reset(out);
    jsonw_begin(&w, out);
    jsonw_object_begin(&w);
    dicom_parser.eve(ev, &w);
    jsonw_object_end(&w);
    if (jsonw_end(&w) != 0)
        abort();
    if (ev->kind == DICOM_EVENT_DIMSE)
        check_dimse(ev->data);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct phi phi;
    struct buf out;
    phi_init_test(&phi, 0x42);
    buf_init(&out, 0);
    struct proto_ctx ctx = {.emit = fuzz_emit, .user = &out, .phi = &phi};
    void *state = calloc(1, dicom_parser.state_len);
    if (!state)
        return 0;
    bool probed[2] = {false, false};
    bool failed = false;
    size_t off = 0;
    while (off < size) {
        uint8_t h = data[off++];
        int dir = h & 1;
        size_t n = (size_t)(h >> 1) + 1;
        if (n > size - off)
            n = size - off;
        if (!probed[dir]) {
            probed[dir] = true;
            enum proto_probe p = dicom_parser.probe(data + off, n, dir);
            if (p != PROTO_PROBE_NO && p != PROTO_PROBE_YES && p != PROTO_PROBE_NEED_MORE)
                abort();
        }
        int rc = dicom_parser.parse(state, &ctx, dir, data + off, n, off);
        if (rc > 0 || (rc < 0 && (rc <= IASO_E_BASE_ || rc >= IASO_E_END_)))
            abort();
        if (failed && rc == 0)
            abort(); /* once it gave up, it stays given up */
        if (rc < 0)
            failed = true;
        off += n;
    }
    /* A capture gap of some length in whatever state the input left the parser: counted
     * inside a data-set fragment, a give-up anywhere else. */
    if (!failed) {
        int rc = dicom_parser.gap(state, &ctx, (int)(size & 1), size % 1024);
        if (rc > 0 || (rc < 0 && (rc <= IASO_E_BASE_ || rc >= IASO_E_END_)))
            abort();
        if (rc < 0 && dicom_parser.parse(state, &ctx, 0, data, size ? 1 : 0, size) == 0 && size)
            abort(); /* given up after a gap: stays given up */
    }
    dicom_parser.end(state, &ctx, size);
    free(state);
    buf_release(&out);
    return 0;
}
