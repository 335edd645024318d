// SPDX-License-Identifier: Apache-2.0
// HL7 v2 over MLLP and without it: framing, segment splitting with the message's own encoding
// characters, MSH/MSA/ERR facts, batches, and pseudonymised patient identifiers (see hl7.h).
//
// The state machine works on one byte at a time (with a fast path that takes runs of ordinary
// bytes in one go, so a large OBX costs a scan and one copy) and keeps only the segment being
// read (its first HL7_SEG_KEEP bytes), the facts of the open message and of the open batch, so it
// resumes at any byte boundary and its memory does not depend on the input. Field values are
// borrowed views (struct bytes) into that segment buffer, split with bounds-checked memchr.
#include "proto/hl7.h"

#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "base/parse.h"

#define MLLP_SB 0x0B /* start block */
#define MLLP_EB 0x1C /* end block (followed by CR) */

/* One direction. Heap-allocated on its first byte: most of it is the segment buffer. */
struct hl7_dir {
    bool in_frame;   /* between 0x0B and 0x1C */
    bool frame_skip; /* the frame passed HL7_MSG_MAX: bytes ignored until 0x1C */
    bool line_skip;  /* after a gap outside a frame: ignore bytes up to the next CR/LF */
    bool msg_open, batch_open;
    bool seg_trunc;  /* the segment being read is longer than HL7_SEG_KEEP */
    char fs, cs, rs; /* field, component and repetition separators in force */
    uint64_t frame_len;
    uint64_t skipped;   /* garbage since the last message */
    uint64_t seg_total; /* bytes of the segment being read, terminator excluded */
    size_t seg_len;     /* bytes of it kept in seg */
    uint8_t seg[HL7_SEG_KEEP];
    struct hl7_message msg;
    struct hl7_batch batch;
};

struct hl7_state {
    struct hl7_dir *dir[2]; /* owned; NULL until the direction sends a byte */
};

/* Splits a value on a separator, piece by piece, without copying. */
struct splitter {
    struct bytes rest;
    bool done;
};

static struct splitter
split_begin(struct bytes v)
{
    struct splitter sp = {v, false};
    return sp;
}

static bool
split_next(struct splitter *sp, char sep, struct bytes *piece)
{
    if (sp->done)
        return false;
    const uint8_t *p = sp->rest.len ? memchr(sp->rest.ptr, (unsigned char)sep, sp->rest.len) : NULL;
    if (!p) {
        *piece = sp->rest;
        sp->done = true;
        return true;
    }
    size_t n = (size_t)(p - sp->rest.ptr);
    *piece = bytes_make(sp->rest.ptr, n);
    sp->rest = bytes_make(p + 1, sp->rest.len - n - 1);
    return true;
}

/* Piece idx (0-based) of v split on sep; empty when there are fewer pieces. */
static struct bytes
split_at(struct bytes v, char sep, unsigned idx)
{
    struct splitter sp = split_begin(v);
    struct bytes piece = {NULL, 0};
    for (unsigned i = 0; i <= idx; i++)
        if (!split_next(&sp, sep, &piece))
            return bytes_make(NULL, 0);
    return piece;
}

/* A separator must be a printable, non-alphanumeric ASCII character. */
static bool
plausible_sep(uint8_t c)
{
    if (c < 0x21 || c > 0x7e)
        return false;
    return !((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'));
}

static bool
is_header_id(const uint8_t *p)
{
    return memcmp(p, "MSH", 3) == 0 || memcmp(p, "FHS", 3) == 0 || memcmp(p, "BHS", 3) == 0;
}

static void
str_set(struct hl7_str *s, struct bytes b)
{
    size_t n = b.len < HL7_STR_MAX - 1 ? b.len : HL7_STR_MAX - 1;
    if (n)
        memcpy(s->s, b.ptr, n);
    s->len = (uint8_t)n;
}

static void
hd_set(struct hl7_hd *h, struct bytes field, char cs)
{
    str_set(&h->full, field);
    str_set(&h->ns, split_at(field, cs, 0));
}

/* Field n of the segment: for MSH/FHS/BHS, field 1 is the separator itself, so the split is
 * shifted by one. */
static struct bytes
seg_field(const struct hl7_dir *d, bool is_header, unsigned n)
{
    struct bytes seg = bytes_make(d->seg, d->seg_len);
    return split_at(seg, d->fs, is_header ? n - 1 : n);
}

/*
 * Pseudonymises a patient value. The message's component and repetition separators are mapped
 * to the standard '^' and '~' first, so one patient gives one pseudonym whatever encoding
 * characters the sender chose.
 */
static void
pseudo(const struct hl7_dir *d, const struct proto_ctx *ctx, enum phi_class cls, struct bytes v,
       char *out)
{
    char norm[256]; /* longer values are cut: names and ids are far shorter */
    size_t n = v.len < sizeof(norm) ? v.len : sizeof(norm);
    for (size_t i = 0; i < n; i++) {
        char c = (char)v.ptr[i];
        if (c == d->cs)
            c = '^';
        else if (c == d->rs)
            c = '~';
        norm[i] = c;
    }
    if (n == 0) {
        out[0] = '\0';
        return;
    }
    phi_pseudonymise(ctx->phi, cls, norm, n, out);
}

static void
emit(const struct proto_ctx *ctx, int kind, int dir, uint64_t ts_us, const void *data)
{
    struct proto_event ev = {PROTO_HL7, kind, dir, ts_us, data};
    ctx->emit(ctx->user, &ev);
}

static void
finish_message(struct hl7_dir *d, const struct proto_ctx *ctx, int dir, uint64_t ts_us)
{
    if (!d->msg_open)
        return;
    d->msg_open = false;
    emit(ctx, HL7_EVENT_MESSAGE, dir, ts_us, &d->msg);
}

static void
close_batch(struct hl7_dir *d, const struct proto_ctx *ctx, int dir, uint64_t ts_us)
{
    if (!d->batch_open)
        return;
    d->batch_open = false;
    emit(ctx, HL7_EVENT_BATCH, dir, ts_us, &d->batch);
}

/* A segment id is three upper-case letters or digits, the first a letter, then the field
 * separator or the end. Anything else is free text that a stray line end cut off (an LF inside a
 * TX field, say): it is counted, never listed, as it may hold patient data. */
static bool
valid_segment_id(const struct hl7_dir *d)
{
    if (d->seg_len < 3 || (d->seg_len > 3 && d->seg[3] != (uint8_t)d->fs))
        return false;
    for (size_t i = 0; i < 3; i++) {
        uint8_t c = d->seg[i];
        bool ok = (c >= 'A' && c <= 'Z') || (i > 0 && c >= '0' && c <= '9');
        if (!ok)
            return false;
    }
    return true;
}

static void
add_segment_id(struct hl7_message *m, const struct hl7_dir *d)
{
    if (!valid_segment_id(d)) {
        if (m->n_bad_segments < UINT32_MAX)
            m->n_bad_segments++;
        return;
    }
    if (m->n_segments < UINT32_MAX)
        m->n_segments++;
    if (m->n_ids >= HL7_SEG_IDS_MAX)
        return;
    char *id = m->ids[m->n_ids++];
    memcpy(id, d->seg, 3);
    id[3] = '\0';
}

/* Reads the separators of a header segment (MSH/FHS/BHS) into d. */
static struct bytes
read_encoding(struct hl7_dir *d)
{
    d->fs = (char)d->seg[3];
    struct bytes enc = seg_field(d, true, 2);
    d->cs = enc.len > 0 ? (char)enc.ptr[0] : '^';
    d->rs = enc.len > 1 ? (char)enc.ptr[1] : '~';
    return enc;
}

static void
open_message(struct hl7_dir *d, uint64_t total)
{
    struct hl7_message *m = &d->msg;
    memset(m, 0, sizeof(*m));
    struct bytes enc = read_encoding(d);
    m->is_mllp = d->in_frame;
    m->in_batch = d->batch_open;
    m->field_sep = d->fs;
    m->enc_len = (uint8_t)(enc.len < sizeof(m->enc) ? enc.len : sizeof(m->enc));
    if (m->enc_len)
        memcpy(m->enc, enc.ptr, m->enc_len);
    hd_set(&m->sending_application, seg_field(d, true, 3), d->cs);
    hd_set(&m->sending_facility, seg_field(d, true, 4), d->cs);
    hd_set(&m->receiving_application, seg_field(d, true, 5), d->cs);
    hd_set(&m->receiving_facility, seg_field(d, true, 6), d->cs);
    str_set(&m->date_time, split_at(seg_field(d, true, 7), d->cs, 0));
    struct bytes type = seg_field(d, true, 9);
    str_set(&m->message_type, split_at(type, d->cs, 0));
    str_set(&m->trigger_event, split_at(type, d->cs, 1));
    str_set(&m->message_structure, split_at(type, d->cs, 2));
    str_set(&m->control_id, seg_field(d, true, 10));
    str_set(&m->processing_id, split_at(seg_field(d, true, 11), d->cs, 0));
    str_set(&m->version, split_at(seg_field(d, true, 12), d->cs, 0));
    m->length = total;
    m->skipped_bytes = d->skipped;
    m->seg_truncated = d->seg_trunc;
    d->skipped = 0;
    add_segment_id(m, d);
    d->msg_open = true;
    if (d->batch_open && d->batch.n_messages < UINT32_MAX)
        d->batch.n_messages++;
}

static void
open_batch(struct hl7_dir *d, const uint8_t *id)
{
    struct hl7_batch *b = &d->batch;
    memset(b, 0, sizeof(*b));
    read_encoding(d);
    b->is_mllp = d->in_frame;
    memcpy(b->header, id, 3);
    hd_set(&b->sending_application, seg_field(d, true, 3), d->cs);
    hd_set(&b->sending_facility, seg_field(d, true, 4), d->cs);
    hd_set(&b->receiving_application, seg_field(d, true, 5), d->cs);
    hd_set(&b->receiving_facility, seg_field(d, true, 6), d->cs);
    str_set(&b->date_time, split_at(seg_field(d, true, 7), d->cs, 0));
    str_set(&b->name, seg_field(d, true, 9));
    str_set(&b->control_id, seg_field(d, true, 11));
    str_set(&b->reference, seg_field(d, true, 12));
    d->batch_open = true;
}

/* BTS or FTS: ends the open message, and the batch when it closes the batch's own header. */
static void
batch_trailer(struct hl7_dir *d, const struct proto_ctx *ctx, int dir, uint64_t ts_us, bool is_file)
{
    finish_message(d, ctx, dir, ts_us);
    if (!d->batch_open)
        return;
    bool file_header = d->batch.header[0] == 'F';
    if (file_header != is_file)
        return; /* a BTS inside a file: the file goes on */
    struct bytes count = seg_field(d, false, 1);
    int64_t v;
    if (count.len && parse_i64((const char *)count.ptr, count.len, 0, UINT32_MAX, &v) == 0) {
        d->batch.has_count = true;
        d->batch.trailer_count = (uint32_t)v;
    }
    d->batch.closed = true;
    close_batch(d, ctx, dir, ts_us);
}

static void
read_pid(struct hl7_dir *d, const struct proto_ctx *ctx)
{
    struct hl7_message *m = &d->msg;
    struct splitter reps = split_begin(seg_field(d, false, 3));
    struct bytes rep;
    while (m->n_patient_ids < HL7_PATIENT_IDS_MAX && split_next(&reps, d->rs, &rep)) {
        struct bytes id = split_at(rep, d->cs, 0);
        if (id.len)
            pseudo(d, ctx, PHI_ID, id, m->patient_ids[m->n_patient_ids++]);
    }
    if (m->n_patient_ids == 0) {
        /* Before v2.3.1 the external id in PID-2 was often the only one. */
        struct bytes id = split_at(split_at(seg_field(d, false, 2), d->rs, 0), d->cs, 0);
        if (id.len)
            pseudo(d, ctx, PHI_ID, id, m->patient_ids[m->n_patient_ids++]);
    }
    pseudo(d, ctx, PHI_NAME, split_at(seg_field(d, false, 5), d->rs, 0), m->patient_name);
    pseudo(d, ctx, PHI_BIRTHDATE, split_at(seg_field(d, false, 7), d->cs, 0), m->birth_date);
    pseudo(d, ctx, PHI_ADDRESS, split_at(seg_field(d, false, 11), d->rs, 0), m->address);
    pseudo(d, ctx, PHI_PHONE, split_at(seg_field(d, false, 13), d->rs, 0), m->phone_home);
    pseudo(d, ctx, PHI_PHONE, split_at(seg_field(d, false, 14), d->rs, 0), m->phone_business);
    pseudo(d, ctx, PHI_ID, seg_field(d, false, 19), m->ssn);
}

/* One complete segment of total bytes (terminator included) sits in d->seg. */
static void
process_segment(struct hl7_dir *d, const struct proto_ctx *ctx, int dir, uint64_t ts_us,
                uint64_t total)
{
    const uint8_t *id = d->seg;
    if (d->seg_len >= 4 && is_header_id(id) && plausible_sep(d->seg[3])) {
        finish_message(d, ctx, dir, ts_us);
        if (id[0] == 'M') {
            open_message(d, total);
        } else if (id[0] == 'F' || !d->batch_open || d->batch.header[0] != 'F') {
            close_batch(d, ctx, dir, ts_us);
            open_batch(d, id);
        } else {
            /* A BHS inside a file (FHS): counted; the file's header facts stand. */
            read_encoding(d);
            if (d->batch.n_batches < UINT32_MAX)
                d->batch.n_batches++;
        }
        return;
    }
    bool has_id = d->seg_len >= 3 && (d->seg_len == 3 || d->seg[3] == (uint8_t)d->fs);
    if (has_id && d->batch_open && (memcmp(id, "BTS", 3) == 0 || memcmp(id, "FTS", 3) == 0)) {
        batch_trailer(d, ctx, dir, ts_us, id[0] == 'F');
        return;
    }
    if (!d->msg_open) {
        d->skipped += total;
        return;
    }
    struct hl7_message *m = &d->msg;
    if (m->oversize)
        return;
    if (!d->in_frame && m->length + total > HL7_MSG_MAX) {
        /* Without MLLP the cap is per message: ignore the rest up to the next header. */
        m->oversize = true;
        return;
    }
    m->length += total;
    m->seg_truncated |= d->seg_trunc;
    add_segment_id(m, d);
    if (!has_id)
        return;
    if (memcmp(id, "PID", 3) == 0 && m->patient_name[0] == '\0' && m->n_patient_ids == 0) {
        read_pid(d, ctx);
    } else if (memcmp(id, "MRG", 3) == 0 && m->prior_patient_id[0] == '\0') {
        struct bytes prior = split_at(split_at(seg_field(d, false, 1), d->rs, 0), d->cs, 0);
        pseudo(d, ctx, PHI_ID, prior, m->prior_patient_id);
    } else if (memcmp(id, "MSA", 3) == 0 && !m->has_msa) {
        m->has_msa = true;
        str_set(&m->ack_code, seg_field(d, false, 1));
        str_set(&m->ack_control_id, seg_field(d, false, 2));
    } else if (memcmp(id, "ERR", 3) == 0) {
        m->has_err = true;
    }
}

static void
seg_reset(struct hl7_dir *d)
{
    d->seg_len = 0;
    d->seg_total = 0;
    d->seg_trunc = false;
}

/* The segment being read ends; term is the number of terminator bytes (0 or 1). */
static void
end_segment(struct hl7_dir *d, const struct proto_ctx *ctx, int dir, uint64_t ts_us, unsigned term)
{
    if (d->seg_total == 0) {
        /* The LF of a CRLF, or blank lines: part of the message, not a segment. */
        if (d->msg_open && !d->msg.oversize && d->msg.length < HL7_MSG_MAX)
            d->msg.length += term;
    } else {
        process_segment(d, ctx, dir, ts_us, d->seg_total + term);
    }
    seg_reset(d);
}

static void
end_frame(struct hl7_dir *d, const struct proto_ctx *ctx, int dir, uint64_t ts_us, bool terminated)
{
    if (!d->frame_skip)
        end_segment(d, ctx, dir, ts_us, 0);
    seg_reset(d);
    if (d->msg_open && !terminated)
        d->msg.unterminated = true;
    finish_message(d, ctx, dir, ts_us);
    close_batch(d, ctx, dir, ts_us);
    d->in_frame = false;
    d->frame_skip = false;
    d->frame_len = 0;
}

/* Outside a frame: ends what was read as HL7 without MLLP. */
static void
end_raw(struct hl7_dir *d, const struct proto_ctx *ctx, int dir, uint64_t ts_us)
{
    finish_message(d, ctx, dir, ts_us);
    close_batch(d, ctx, dir, ts_us);
}

static void
seg_byte(struct hl7_dir *d, const struct proto_ctx *ctx, int dir, uint64_t ts_us, uint8_t b)
{
    if (b == '\r' || b == '\n') {
        end_segment(d, ctx, dir, ts_us, 1);
        return;
    }
    if (d->seg_len < sizeof(d->seg))
        d->seg[d->seg_len++] = b;
    else
        d->seg_trunc = true;
    d->seg_total++;
}

static void
dir_byte(struct hl7_dir *d, const struct proto_ctx *ctx, int dir, uint64_t ts_us, uint8_t b)
{
    if (d->in_frame) {
        if (b == MLLP_EB) {
            end_frame(d, ctx, dir, ts_us, true);
            return;
        }
        if (b == MLLP_SB) {
            /* A new start block before the end block: the frame was cut; resynchronise. */
            end_frame(d, ctx, dir, ts_us, false);
            d->in_frame = true;
            return;
        }
        d->frame_len++;
        if (d->frame_skip)
            return;
        if (d->frame_len > HL7_MSG_MAX) {
            d->frame_skip = true;
            if (d->msg_open)
                d->msg.oversize = true;
            seg_reset(d);
            return;
        }
        seg_byte(d, ctx, dir, ts_us, b);
        return;
    }
    if (b == MLLP_SB) {
        d->skipped += d->seg_total;
        seg_reset(d);
        end_raw(d, ctx, dir, ts_us);
        d->line_skip = false;
        d->in_frame = true;
        return;
    }
    if (d->line_skip) {
        if (b == '\r' || b == '\n')
            d->line_skip = false;
        d->skipped++;
        return;
    }
    seg_byte(d, ctx, dir, ts_us, b);
}

static bool
is_special(uint8_t b)
{
    return b == '\r' || b == '\n' || b == MLLP_SB || b == MLLP_EB;
}

/*
 * The fast path: how many bytes from p on dir_byte() would only append to the segment being read
 * (or skip, in an oversize frame). Big OBX values pass through here in one go. Zero when the
 * next byte needs dir_byte().
 */
static size_t
plain_run(const struct hl7_dir *d, const uint8_t *p, size_t len)
{
    if (d->line_skip)
        return 0;
    if (d->in_frame && !d->frame_skip) {
        if (d->frame_len >= HL7_MSG_MAX)
            return 0;
        uint64_t room = HL7_MSG_MAX - d->frame_len;
        if (len > room)
            len = (size_t)room;
    }
    size_t n = 0;
    if (d->frame_skip) {
        while (n < len && p[n] != MLLP_SB && p[n] != MLLP_EB)
            n++;
    } else {
        while (n < len && !is_special(p[n]))
            n++;
    }
    return n;
}

/* Applies a run found by plain_run(): what dir_byte() would do byte by byte. */
static void
take_run(struct hl7_dir *d, const uint8_t *p, size_t n)
{
    if (d->in_frame)
        d->frame_len += n;
    if (d->frame_skip)
        return;
    size_t room = sizeof(d->seg) - d->seg_len;
    size_t keep = n < room ? n : room;
    if (keep)
        memcpy(d->seg + d->seg_len, p, keep);
    d->seg_len += keep;
    if (keep < n)
        d->seg_trunc = true;
    d->seg_total += n;
}

static struct hl7_dir *
dir_get(struct hl7_state *st, int dir)
{
    struct hl7_dir **slot = &st->dir[dir ? 1 : 0];
    if (!*slot) {
        *slot = proto_calloc(1, sizeof(**slot));
        if (*slot) {
            (*slot)->fs = '|';
            (*slot)->cs = '^';
            (*slot)->rs = '~';
        }
    }
    return *slot;
}

static int
hl7_parse(void *state, const struct proto_ctx *ctx, int dir, const uint8_t *data, size_t len,
          uint64_t ts_us)
{
    struct hl7_dir *d = dir_get(state, dir);
    if (!d)
        return -1; /* out of memory: give up on the flow */
    size_t i = 0;
    while (i < len) {
        size_t n = plain_run(d, data + i, len - i);
        if (n) {
            take_run(d, data + i, n);
            i += n;
        } else {
            dir_byte(d, ctx, dir, ts_us, data[i++]);
        }
    }
    return 0;
}

static int
hl7_gap(void *state, const struct proto_ctx *ctx, int dir, size_t len)
{
    (void)len;
    struct hl7_state *st = state;
    struct hl7_dir *d = st->dir[dir ? 1 : 0];
    if (!d)
        return 0;
    /* The segment being read lost bytes: drop it. What the message had so far is emitted. */
    seg_reset(d);
    if (d->in_frame) {
        d->frame_skip = true; /* keeps end_frame from reading the dropped segment */
        end_frame(d, ctx, dir, 0, false);
    } else {
        if (d->msg_open)
            d->msg.unterminated = true;
        end_raw(d, ctx, dir, 0);
        d->line_skip = true;
    }
    return 0;
}

static void
hl7_end(void *state, const struct proto_ctx *ctx, uint64_t ts_us)
{
    struct hl7_state *st = state;
    for (int dir = 0; dir < 2; dir++) {
        struct hl7_dir *d = st->dir[dir];
        if (!d)
            continue;
        if (d->in_frame) {
            end_frame(d, ctx, dir, ts_us, false);
        } else {
            if (!d->line_skip)
                end_segment(d, ctx, dir, ts_us, 0);
            end_raw(d, ctx, dir, ts_us);
        }
        proto_free(d);
        st->dir[dir] = NULL;
    }
}

static enum proto_probe
hl7_probe(const uint8_t *data, size_t len, int dir)
{
    (void)dir;
    size_t off = 0;
    if (len == 0)
        return PROTO_PROBE_NEED_MORE;
    bool mllp = data[0] == MLLP_SB;
    if (mllp)
        off = 1;
    /* "MSH" (or FHS/BHS), a separator, one to five encoding characters, the separator again. */
    static const char *const ids[] = {"MSH", "FHS", "BHS"};
    bool prefix = false;
    for (size_t k = 0; k < 3; k++) {
        size_t n = len - off < 3 ? len - off : 3;
        if (memcmp(data + off, ids[k], n) == 0)
            prefix = true;
    }
    if (!prefix)
        return PROTO_PROBE_NO;
    if (len - off < 4)
        return PROTO_PROBE_NEED_MORE;
    uint8_t fs = data[off + 3];
    if (!plausible_sep(fs))
        return PROTO_PROBE_NO;
    for (size_t i = 1; i <= 6; i++) {
        if (off + 3 + i >= len)
            return PROTO_PROBE_NEED_MORE;
        uint8_t c = data[off + 3 + i];
        if (c == fs)
            return i >= 2 ? PROTO_PROBE_YES : PROTO_PROBE_NO; /* MSH-2 needs >= 1 char */
        if (!plausible_sep(c))
            return PROTO_PROBE_NO;
    }
    return PROTO_PROBE_NO;
}

static void
put_str(struct jsonw *w, const char *quoted_key, size_t key_len, const struct hl7_str *s)
{
    if (!s->len)
        return;
    jsonw_key_quoted(w, quoted_key, key_len);
    jsonw_strn(w, s->s, s->len);
}

#define PUT_STR(w, key, s) put_str((w), "\"" key "\":", sizeof(key) + 2, (s))

static void
put_hd(struct jsonw *w, const char *key, const char *key_full, const struct hl7_hd *h)
{
    if (!h->full.len)
        return;
    jsonw_key_str(w, key);
    jsonw_strn(w, h->ns.s, h->ns.len);
    if (!bytes_eq(bytes_make(h->ns.s, h->ns.len), bytes_make(h->full.s, h->full.len))) {
        jsonw_key_str(w, key_full);
        jsonw_strn(w, h->full.s, h->full.len);
    }
}

static void
put_hds(struct jsonw *w, const struct hl7_hd *sa, const struct hl7_hd *sf, const struct hl7_hd *ra,
        const struct hl7_hd *rf)
{
    put_hd(w, "sending_application", "sending_application_full", sa);
    put_hd(w, "sending_facility", "sending_facility_full", sf);
    put_hd(w, "receiving_application", "receiving_application_full", ra);
    put_hd(w, "receiving_facility", "receiving_facility_full", rf);
}

static void
put_phi(struct jsonw *w, const char *key, const char *v)
{
    if (!v[0])
        return;
    jsonw_key_str(w, key);
    jsonw_str(w, v);
}

static void
eve_message(const struct hl7_message *m, struct jsonw *w)
{
    jsonw_key(w, "framing");
    jsonw_str(w, m->is_mllp ? "mllp" : "none");
    jsonw_key(w, "encoding_characters");
    char enc[7] = {m->field_sep};
    memcpy(enc + 1, m->enc, m->enc_len);
    jsonw_strn(w, enc, 1u + m->enc_len);
    put_hds(w, &m->sending_application, &m->sending_facility, &m->receiving_application,
            &m->receiving_facility);
    PUT_STR(w, "date_time", &m->date_time);
    PUT_STR(w, "message_type", &m->message_type);
    PUT_STR(w, "trigger_event", &m->trigger_event);
    PUT_STR(w, "message_structure", &m->message_structure);
    PUT_STR(w, "control_id", &m->control_id);
    PUT_STR(w, "processing_id", &m->processing_id);
    PUT_STR(w, "version", &m->version);
    jsonw_key(w, "segments");
    jsonw_array_begin(w);
    for (unsigned i = 0; i < m->n_ids; i++)
        jsonw_strn(w, m->ids[i], strlen(m->ids[i]));
    jsonw_array_end(w);
    if (m->n_segments > m->n_ids) {
        jsonw_key(w, "segments_more");
        jsonw_u64(w, m->n_segments - m->n_ids);
    }
    if (m->n_patient_ids) {
        put_phi(w, "patient_id", m->patient_ids[0]);
        if (m->n_patient_ids > 1) {
            jsonw_key(w, "patient_ids");
            jsonw_array_begin(w);
            for (unsigned i = 0; i < m->n_patient_ids; i++)
                jsonw_str(w, m->patient_ids[i]);
            jsonw_array_end(w);
        }
    }
    put_phi(w, "patient_name", m->patient_name);
    put_phi(w, "birth_date", m->birth_date);
    put_phi(w, "address", m->address);
    put_phi(w, "phone_home", m->phone_home);
    put_phi(w, "phone_business", m->phone_business);
    put_phi(w, "ssn", m->ssn);
    put_phi(w, "prior_patient_id", m->prior_patient_id);
    if (m->has_msa) {
        PUT_STR(w, "ack_code", &m->ack_code);
        PUT_STR(w, "ack_control_id", &m->ack_control_id);
    }
    if (m->n_bad_segments) {
        jsonw_key(w, "bad_segments");
        jsonw_u64(w, m->n_bad_segments);
    }
    if (m->has_err) {
        jsonw_key(w, "has_err");
        jsonw_bool(w, true);
    }
    if (m->in_batch) {
        jsonw_key(w, "in_batch");
        jsonw_bool(w, true);
    }
    jsonw_key(w, "length");
    jsonw_u64(w, m->length);
    if (m->oversize) {
        jsonw_key(w, "oversize");
        jsonw_bool(w, true);
    }
    if (m->unterminated) {
        jsonw_key(w, "unterminated");
        jsonw_bool(w, true);
    }
    if (m->seg_truncated) {
        jsonw_key(w, "segment_truncated");
        jsonw_bool(w, true);
    }
    if (m->skipped_bytes) {
        jsonw_key(w, "skipped_bytes");
        jsonw_u64(w, m->skipped_bytes);
    }
}

static void
eve_batch(const struct hl7_batch *b, struct jsonw *w)
{
    jsonw_key(w, "framing");
    jsonw_str(w, b->is_mllp ? "mllp" : "none");
    jsonw_key(w, "header");
    jsonw_strn(w, b->header, 3);
    put_hds(w, &b->sending_application, &b->sending_facility, &b->receiving_application,
            &b->receiving_facility);
    PUT_STR(w, "date_time", &b->date_time);
    PUT_STR(w, "name", &b->name);
    PUT_STR(w, "control_id", &b->control_id);
    PUT_STR(w, "reference", &b->reference);
    jsonw_key(w, "messages");
    jsonw_u64(w, b->n_messages);
    if (b->n_batches) {
        jsonw_key(w, "batches");
        jsonw_u64(w, b->n_batches);
    }
    if (b->has_count) {
        jsonw_key(w, "trailer_count");
        jsonw_u64(w, b->trailer_count);
    }
    jsonw_key(w, "closed");
    jsonw_bool(w, b->closed);
}

static void
hl7_eve(const struct proto_event *ev, struct jsonw *w)
{
    if (ev->kind == HL7_EVENT_MESSAGE)
        eve_message(ev->data, w);
    else if (ev->kind == HL7_EVENT_BATCH)
        eve_batch(ev->data, w);
}

static const uint16_t hl7_ports[] = {2575, 0};

const struct proto_parser hl7_parser = {
    .name = "hl7",
    .id = PROTO_HL7,
    .tcp = true,
    .udp = false,
    .ports = hl7_ports,
    .probe = hl7_probe,
    .state_len = sizeof(struct hl7_state),
    .init = NULL,
    .parse = hl7_parse,
    .gap = hl7_gap,
    .end = hl7_end,
    .eve = hl7_eve,
};
