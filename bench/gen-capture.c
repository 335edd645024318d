// SPDX-License-Identifier: Apache-2.0
//
// iaso-bench-gen: writes a deterministic synthetic capture for the throughput benchmark. A classic
// pcap file (Ethernet, microsecond timestamps) holding thousands of concurrent TCP flows, each with
// a 3-way handshake, in-order data in both directions with consistent seq/ack numbers, delayed
// pure ACKs, and a FIN (sometimes RST) teardown; plus DNS request/response pairs (~5% of packets)
// and a few percent IPv6 flows. Application bytes are framed like the real protocols (HTTP, TLS
// records, SMB2 READ over NBSS, DICOM PDUs with an association, HL7 over MLLP) so that parsers and
// reference dissectors walk the messages instead of giving up on noise; the bulk payload inside
// the framing is pseudo-random. Everything comes from a fixed-seed PRNG: the same arguments give
// the same file, byte for byte. Nothing is sent anywhere; this only writes a file.

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GEN_SIZE_MB_DEFAULT 1024
#define GEN_FLOWS_DEFAULT 4000
#define GEN_SEED_DEFAULT 0x1a50c0ffeeULL
#define GEN_OUT_BUF_LEN (8u << 20) /* large buffered fwrite */
#define GEN_POOL_LEN (1u << 20)    /* payload bytes are copied out of this pool */
#define GEN_N_CLIENTS 4096         /* client hosts; each has its own port counter */
#define GEN_N_DNS 64               /* DNS queries that may be outstanding at once */
#define GEN_MSS4 1460              /* 1514-byte frames over IPv4 */
#define GEN_MSS6 1440              /* 1514-byte frames over IPv6 */
#define GEN_FRAME_MAX 1600         /* largest frame plus its record header, with slack */
#define GEN_EPOCH_S 1700000000u    /* first timestamp: 2023-11-14, fixed for determinism */
#define GEN_TLS_REC_MAX 16384      /* TLS plaintext record limit */
#define GEN_DICOM_PDV_MAX 16372    /* PDV data per P-DATA-TF for a 16 KiB max PDU length */
#define MSG_LIT_MAX 448            /* literal (header) bytes per message */
#define MSG_PARTS_MAX 6

enum app { APP_TLS, APP_HTTP, APP_SMB, APP_DICOM, APP_DICOM_ALT, APP_HL7, APP_COUNT };

static const uint16_t app_port[APP_COUNT] = {443, 80, 445, 104, 11112, 2575};
/* Share of new TCP flows per application, in per mille. */
static const uint16_t app_weight[APP_COUNT] = {400, 210, 90, 60, 40, 200};

enum part_kind { PART_LIT, PART_RANDOM, PART_TEXT, PART_TLS, PART_DICOM };

struct part {
    uint8_t kind;
    uint16_t lit_off; /* PART_LIT: where in msg.lit */
    uint32_t len;     /* bytes on the wire for LIT/RANDOM/TEXT; data bytes for TLS/DICOM */
};

/* One application message being written into TCP segments; a flow has one in flight. */
struct msg {
    uint8_t lit[MSG_LIT_MAX];
    uint16_t lit_len;
    struct part parts[MSG_PARTS_MAX];
    uint8_t n_parts;
    uint8_t part_i;
    uint32_t part_pos; /* bytes of parts[part_i] written (LIT/RANDOM/TEXT) */
    uint32_t left;     /* wire bytes of the message not yet written */
    uint32_t abort_at; /* RST the flow once left drops to this (0: never) */
    /* Record framing (TLS records, DICOM PDUs) inside a PART_TLS/PART_DICOM part. */
    uint8_t rec_started;
    uint8_t rec_hdr[24];
    uint8_t rec_hdr_len;
    uint8_t rec_hdr_pos;
    uint32_t rec_body_left; /* random bytes left in the current record */
    uint32_t rec_data_left; /* data bytes not yet assigned to a record */
};

enum phase { PH_SYN, PH_SYNACK, PH_ACK, PH_DATA, PH_FIN1, PH_FIN2, PH_FIN3, PH_RST, PH_DONE };

struct side {
    uint32_t seq; /* next sequence number this side sends */
    uint16_t ip_id;
    uint8_t n_unacked; /* data segments received and not yet acknowledged */
    uint8_t addr[16];  /* IPv4 in the first 4 bytes */
    uint16_t port;
};

struct flow {
    uint8_t phase;
    uint8_t app;
    uint8_t is_v6;
    uint8_t sender; /* 0 client, 1 server: who sends the message in flight */
    uint8_t closer; /* side that sends the FIN or RST */
    uint8_t ends_rst;
    uint16_t n_trans; /* request/response exchanges in this flow */
    uint16_t trans_i;
    uint32_t id;
    struct side side[2];
    struct msg msg;
};

struct dns_slot {
    uint8_t busy;
    uint16_t id;
    uint16_t port;
    uint16_t client;
    uint32_t host;
    uint16_t qtype;
};

struct prng {
    uint64_t s[4];
};

struct gen {
    struct prng rng;
    FILE *out;
    uint8_t *buf;
    size_t buf_len;
    uint64_t bytes_target;
    uint64_t bytes_written; /* file bytes, including buffered ones */
    uint64_t clock_ns;
    uint8_t *pool_random;
    uint8_t *pool_text;
    uint32_t pool_pos;
    uint16_t client_port[GEN_N_CLIENTS];
    struct flow *flows;
    uint32_t n_flows;
    struct dns_slot dns[GEN_N_DNS];
    uint32_t next_flow_id;
    /* statistics for the summary line */
    uint64_t n_packets;
    uint64_t n_tcp_flows;
    uint64_t n_fin;
    uint64_t n_rst;
    uint64_t n_dns_packets;
    uint64_t n_v6_packets;
    uint64_t n_full_frames;
    uint64_t n_pure_acks;
    int write_error;
};

/* xoshiro256** seeded through splitmix64: small, fast and identical on every platform. */
static uint64_t
splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t
rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static uint64_t
prng_next(struct prng *p)
{
    uint64_t *s = p->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

static void
prng_seed(struct prng *p, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        p->s[i] = splitmix64(&seed);
}

/* Uniform in [0, n); n > 0. The multiply-shift bias is far below anything that matters here. */
static uint32_t
prng_below(struct prng *p, uint32_t n)
{
    return (uint32_t)(((prng_next(p) >> 32) * n) >> 32);
}

static uint32_t
prng_range(struct prng *p, uint32_t lo, uint32_t hi)
{
    return lo + prng_below(p, hi - lo + 1);
}

/* Roughly log-uniform in [lo, hi]: a random octave, then uniform inside it. Integers only. */
static uint32_t
prng_logu(struct prng *p, uint32_t lo, uint32_t hi)
{
    uint32_t n_oct = 0;
    while (n_oct < 31 && ((uint64_t)lo << (n_oct + 1)) <= hi)
        n_oct++;
    if (n_oct == 0)
        return prng_range(p, lo, hi);
    uint32_t k = prng_below(p, n_oct);
    uint64_t a = (uint64_t)lo << k;
    uint64_t b = (uint64_t)lo << (k + 1);
    if (b > hi)
        b = hi;
    return (uint32_t)(a + prng_below(p, (uint32_t)(b - a)));
}

static void
put16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void
put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static void
put16le(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void
put32le(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static void
put64le(uint8_t *p, uint64_t v)
{
    put32le(p, (uint32_t)v);
    put32le(p + 4, (uint32_t)(v >> 32));
}

/* ---- messages ---------------------------------------------------------------------------- */

static void
msg_reset(struct msg *m)
{
    m->lit_len = 0;
    m->n_parts = 0;
    m->part_i = 0;
    m->part_pos = 0;
    m->left = 0;
    m->abort_at = 0;
    m->rec_started = 0;
}

static void
msg_add_part(struct msg *m, uint8_t kind, uint16_t lit_off, uint32_t len, uint32_t wire_len)
{
    if (m->n_parts == MSG_PARTS_MAX || len == 0)
        return;
    m->parts[m->n_parts].kind = kind;
    m->parts[m->n_parts].lit_off = lit_off;
    m->parts[m->n_parts].len = len;
    m->n_parts++;
    m->left += wire_len;
}

/* Appends literal bytes; a literal right after a literal extends it. Overlong input is cut. */
static void
msg_lit(struct msg *m, const void *bytes, size_t len)
{
    size_t room = MSG_LIT_MAX - m->lit_len;
    if (len > room)
        len = room;
    if (len == 0)
        return;
    memcpy(m->lit + m->lit_len, bytes, len);
    struct part *last = m->n_parts ? &m->parts[m->n_parts - 1] : NULL;
    if (last && last->kind == PART_LIT && last->lit_off + last->len == m->lit_len) {
        last->len += (uint32_t)len;
        m->left += (uint32_t)len;
    } else {
        msg_add_part(m, PART_LIT, m->lit_len, (uint32_t)len, (uint32_t)len);
    }
    m->lit_len = (uint16_t)(m->lit_len + len);
}

__attribute__((format(printf, 2, 3))) static void
msg_litf(struct msg *m, const char *fmt, ...)
{
    char tmp[MSG_LIT_MAX];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    msg_lit(m, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

static void
msg_fill(struct msg *m, uint8_t kind, uint32_t len)
{
    msg_add_part(m, kind, 0, len, len);
}

/* Wire length of data_len bytes cut into records of rec_max, each with hdr_len bytes of header
 * (plus first_extra on the first record). */
static uint32_t
records_wire_len(uint32_t data_len, uint32_t rec_max, uint32_t hdr_len)
{
    uint32_t n_rec = (data_len + rec_max - 1) / rec_max;
    return data_len + n_rec * hdr_len;
}

/* TLS application data: data_len plaintext bytes in records of at most 16 KiB. */
static void
msg_tls(struct msg *m, uint32_t data_len)
{
    msg_add_part(m, PART_TLS, 0, data_len, records_wire_len(data_len, GEN_TLS_REC_MAX, 5));
}

/* DICOM data set of one Pixel Data element with value_len bytes, carried in P-DATA-TF PDUs of one
 * PDV each; the 8-byte element header is the start of the first PDV's data. */
static void
msg_dicom_data(struct msg *m, uint32_t value_len)
{
    value_len &= ~1u; /* DICOM values, and so PDVs here, have even lengths */
    uint32_t data_len = value_len + 8;
    msg_add_part(m, PART_DICOM, 0, data_len, records_wire_len(data_len, GEN_DICOM_PDV_MAX, 12));
}

/* Starts the next record of a TLS/DICOM part: builds its header and sets how much body follows. */
static void
msg_record_start(struct msg *m, const struct part *p)
{
    uint8_t *h = m->rec_hdr;
    int first = !m->rec_started;
    if (first) {
        m->rec_started = 1;
        m->rec_data_left = p->len;
    }
    if (p->kind == PART_TLS) {
        uint32_t n = m->rec_data_left < GEN_TLS_REC_MAX ? m->rec_data_left : GEN_TLS_REC_MAX;
        h[0] = 0x17; /* application data */
        h[1] = 0x03;
        h[2] = 0x03;
        put16(h + 3, n);
        m->rec_hdr_len = 5;
        m->rec_body_left = n;
        m->rec_data_left -= n;
    } else {
        uint32_t n = m->rec_data_left < GEN_DICOM_PDV_MAX ? m->rec_data_left : GEN_DICOM_PDV_MAX;
        int last = n == m->rec_data_left;
        h[0] = 0x04; /* P-DATA-TF */
        h[1] = 0;
        put32(h + 2, n + 6);
        put32(h + 6, n + 2);        /* PDV item length */
        h[10] = 1;                  /* presentation context */
        h[11] = last ? 0x02 : 0x00; /* data set; last fragment or not */
        m->rec_hdr_len = 12;
        m->rec_body_left = n;
        m->rec_data_left -= n;
        if (first) {
            /* (7FE0,0010) Pixel Data, implicit VR little endian, value fills the rest */
            put16le(h + 12, 0x7fe0);
            put16le(h + 14, 0x0010);
            put32le(h + 16, p->len - 8);
            m->rec_hdr_len = 20;
            m->rec_body_left -= 8;
        }
    }
    m->rec_hdr_pos = 0;
}

static void
pool_copy(struct gen *g, const uint8_t *pool, uint8_t *out, size_t n)
{
    while (n > 0) {
        size_t k = GEN_POOL_LEN - g->pool_pos;
        if (k > n)
            k = n;
        memcpy(out, pool + g->pool_pos, k);
        out += k;
        n -= k;
        g->pool_pos = (uint32_t)((g->pool_pos + k) % GEN_POOL_LEN);
    }
}

/* Writes the next n bytes of the message (n <= m->left) into out. */
static void
msg_write(struct gen *g, struct msg *m, uint8_t *out, size_t n)
{
    size_t done = 0;
    while (done < n && m->part_i < m->n_parts) {
        const struct part *p = &m->parts[m->part_i];
        size_t want = n - done;
        int part_done = 0;
        if (p->kind == PART_TLS || p->kind == PART_DICOM) {
            if (!m->rec_started)
                msg_record_start(m, p);
            if (m->rec_hdr_pos < m->rec_hdr_len) {
                size_t k = (size_t)(m->rec_hdr_len - m->rec_hdr_pos);
                if (k > want)
                    k = want;
                memcpy(out + done, m->rec_hdr + m->rec_hdr_pos, k);
                m->rec_hdr_pos = (uint8_t)(m->rec_hdr_pos + k);
                done += k;
            } else if (m->rec_body_left > 0) {
                size_t k = m->rec_body_left < want ? m->rec_body_left : want;
                pool_copy(g, g->pool_random, out + done, k);
                m->rec_body_left -= (uint32_t)k;
                done += k;
            } else if (m->rec_data_left > 0) {
                msg_record_start(m, p);
            } else {
                part_done = 1;
            }
            if (!part_done && m->rec_hdr_pos == m->rec_hdr_len && m->rec_body_left == 0 &&
                m->rec_data_left == 0)
                part_done = 1;
            if (part_done)
                m->rec_started = 0;
        } else {
            size_t k = p->len - m->part_pos;
            if (k > want)
                k = want;
            if (p->kind == PART_LIT)
                memcpy(out + done, m->lit + p->lit_off + m->part_pos, k);
            else
                pool_copy(g, p->kind == PART_TEXT ? g->pool_text : g->pool_random, out + done, k);
            m->part_pos += (uint32_t)k;
            done += k;
            part_done = m->part_pos == p->len;
        }
        if (part_done) {
            m->part_i++;
            m->part_pos = 0;
        }
    }
    if (done < n) /* only if the lengths above disagree; keeps the frame defined */
        memset(out + done, 0, n - done);
    m->left -= (uint32_t)n;
}

/* ---- application messages ---------------------------------------------------------------- */

/* Response body sizes: mostly small, some medium, a few bulk, as on the web. The tail is kept
 * short enough that most flows finish within the file and tens of thousands start. */
static uint32_t
size_web_response(struct prng *r)
{
    uint32_t u = prng_below(r, 1000);
    if (u < 800)
        return prng_logu(r, 100, 6000);
    if (u < 990)
        return prng_logu(r, 6000, 64000);
    return prng_logu(r, 64000, 1000000);
}

static const char dicom_ct_sop[] = "1.2.840.10008.5.1.4.1.1.2"; /* CT Image Storage */

/* Appends one implicit-VR-little-endian element with an even-padded value. */
static size_t
dicom_elem(uint8_t *p, uint16_t group, uint16_t elem, const void *val, size_t len)
{
    size_t padded = (len + 1) & ~(size_t)1;
    put16le(p, group);
    put16le(p + 2, elem);
    put32le(p + 4, (uint32_t)padded);
    memcpy(p + 8, val, len);
    if (padded > len)
        p[8 + len] = 0;
    return 8 + padded;
}

static size_t
dicom_elem_us(uint8_t *p, uint16_t elem, uint16_t v)
{
    uint8_t b[2];
    put16le(b, v);
    return dicom_elem(p, 0x0000, elem, b, 2);
}

/* A command set (group 0000) for C-STORE-RQ or C-STORE-RSP, wrapped in one P-DATA-TF PDU. */
static void
msg_dicom_command(struct msg *m, int is_rsp, uint16_t msg_id, uint32_t instance)
{
    uint8_t cmd[256];
    char uid[64];
    int uid_len = snprintf(uid, sizeof(uid), "1.2.826.0.1.3680043.9.7433.1.%" PRIu32, instance);
    if (uid_len < 0)
        uid_len = 0;
    size_t n = 12; /* group length element goes first, filled in below */
    n += dicom_elem(cmd + n, 0x0000, 0x0002, dicom_ct_sop, sizeof(dicom_ct_sop) - 1);
    n += dicom_elem_us(cmd + n, 0x0100, is_rsp ? 0x8001 : 0x0001);
    n += dicom_elem_us(cmd + n, is_rsp ? 0x0120 : 0x0110, msg_id);
    if (!is_rsp)
        n += dicom_elem_us(cmd + n, 0x0700, 0); /* priority medium */
    n += dicom_elem_us(cmd + n, 0x0800, is_rsp ? 0x0101 : 0x0000);
    if (is_rsp)
        n += dicom_elem_us(cmd + n, 0x0900, 0); /* status success */
    n += dicom_elem(cmd + n, 0x0000, 0x1000, uid, (size_t)uid_len);
    uint8_t gl[4];
    put32le(gl, (uint32_t)(n - 12));
    dicom_elem(cmd, 0x0000, 0x0000, gl, 4);

    uint8_t hdr[12];
    hdr[0] = 0x04;
    hdr[1] = 0;
    put32(hdr + 2, (uint32_t)(n + 6));
    put32(hdr + 6, (uint32_t)(n + 2));
    hdr[10] = 1;
    hdr[11] = 0x03; /* command, last fragment */
    msg_lit(m, hdr, sizeof(hdr));
    msg_lit(m, cmd, n);
}

static size_t
dicom_item(uint8_t *p, uint8_t type, const char *s)
{
    size_t len = strlen(s);
    p[0] = type;
    p[1] = 0;
    put16(p + 2, (uint32_t)len);
    memcpy(p + 4, s, len);
    return 4 + len;
}

static void
dicom_ae(uint8_t *p, const char *ae)
{
    size_t len = strlen(ae);
    memset(p, ' ', 16);
    memcpy(p, ae, len < 16 ? len : 16);
}

/* A-ASSOCIATE-RQ (is_ac 0) or -AC (is_ac 1) for one presentation context, CT storage, implicit
 * VR little endian, max PDU length 16 KiB. */
static void
msg_dicom_associate(struct msg *m, int is_ac, uint32_t modality)
{
    uint8_t b[320];
    char calling[17];
    snprintf(calling, sizeof(calling), "CT%" PRIu32, modality % 1000);
    memset(b, 0, 74);
    b[0] = is_ac ? 0x02 : 0x01;
    put16(b + 6, 1); /* protocol version */
    dicom_ae(b + 10, "PACS_STORE");
    dicom_ae(b + 26, calling);
    size_t n = 74;
    n += dicom_item(b + n, 0x10, "1.2.840.10008.3.1.1.1");
    size_t pc = n;
    b[pc] = is_ac ? 0x21 : 0x20;
    b[pc + 1] = 0;
    b[pc + 4] = 1; /* context id */
    b[pc + 5] = 0;
    b[pc + 6] = 0; /* result: acceptance (reserved in the RQ) */
    b[pc + 7] = 0;
    n += 8;
    if (!is_ac)
        n += dicom_item(b + n, 0x30, dicom_ct_sop);
    n += dicom_item(b + n, 0x40, "1.2.840.10008.1.2");
    put16(b + pc + 2, (uint32_t)(n - pc - 4));
    size_t ui = n;
    b[ui] = 0x50;
    b[ui + 1] = 0;
    n += 4;
    b[n] = 0x51;
    b[n + 1] = 0;
    put16(b + n + 2, 4);
    put32(b + n + 4, 16384);
    n += 8;
    n += dicom_item(b + n, 0x52, "1.2.826.0.1.3680043.9.7433");
    put16(b + ui + 2, (uint32_t)(n - ui - 4));
    put32(b + 2, (uint32_t)(n - 6));
    msg_lit(m, b, n);
}

static void
msg_dicom_release(struct msg *m, int is_rp)
{
    uint8_t b[10] = {is_rp ? 0x06 : 0x05, 0, 0, 0, 0, 4, 0, 0, 0, 0};
    msg_lit(m, b, sizeof(b));
}

/* SMB2 header, 64 bytes, for READ (command 8). */
static void
smb2_header(uint8_t *h, int is_rsp, uint64_t msg_id, uint32_t tree, uint64_t session)
{
    memset(h, 0, 64);
    h[0] = 0xfe;
    h[1] = 'S';
    h[2] = 'M';
    h[3] = 'B';
    put16le(h + 4, 64);
    put16le(h + 6, 1);     /* credit charge */
    put16le(h + 12, 0x08); /* READ */
    put16le(h + 14, 1);    /* credits */
    put32le(h + 16, is_rsp ? 1 : 0);
    put64le(h + 24, msg_id);
    put32le(h + 36, tree);
    put64le(h + 40, session);
}

static void
msg_smb_read(struct msg *m, int is_rsp, const struct flow *f, uint32_t read_len)
{
    uint8_t b[4 + 64 + 49];
    uint64_t msg_id = (uint64_t)f->trans_i + 10;
    uint64_t session = 0x0000100000000000ULL | f->id;
    size_t n;
    smb2_header(b + 4, is_rsp, msg_id, 5, session);
    uint8_t *body = b + 4 + 64;
    if (!is_rsp) {
        memset(body, 0, 49);
        put16le(body, 49);
        body[2] = 0x50;                                   /* padding */
        put32le(body + 4, read_len);                      /* length */
        put64le(body + 8, (uint64_t)f->trans_i * 65536u); /* offset */
        put64le(body + 16, f->id);                        /* file id, persistent */
        put64le(body + 24, f->id);                        /* file id, volatile */
        put32le(body + 32, 1);                            /* minimum count */
        n = 4 + 64 + 49;
    } else {
        memset(body, 0, 16);
        put16le(body, 17);
        body[2] = 0x50; /* data offset from the SMB2 header */
        put32le(body + 4, read_len);
        n = 4 + 64 + 16;
    }
    uint32_t nbss_len = (uint32_t)(n - 4) + (is_rsp ? read_len : 0);
    b[0] = 0; /* session message */
    b[1] = (uint8_t)(nbss_len >> 16);
    b[2] = (uint8_t)(nbss_len >> 8);
    b[3] = (uint8_t)nbss_len;
    msg_lit(m, b, n);
    if (is_rsp)
        msg_fill(m, PART_RANDOM, read_len);
}

/* Builds the next message of flow f: a request (client) or a response (server). */
static void
flow_begin_message(struct gen *g, struct flow *f, uint8_t sender)
{
    struct prng *r = &g->rng;
    struct msg *m = &f->msg;
    int last = f->trans_i + 1 == f->n_trans;
    msg_reset(m);
    f->sender = sender;
    switch (f->app) {
    case APP_TLS:
        msg_tls(m, sender == 0 ? prng_logu(r, 80, 1800) : size_web_response(r));
        break;
    case APP_HTTP:
        if (sender == 0) {
            msg_litf(m,
                     "GET /api/v1/item/%" PRIu32 "/%u HTTP/1.1\r\nHost: srv%u.hospital.internal\r\n"
                     "User-Agent: iaso-bench/1.0\r\nAccept: */*\r\nCookie: s=",
                     f->id, f->trans_i, f->side[1].addr[3]);
            msg_fill(m, PART_TEXT, prng_logu(r, 16, 900));
            msg_lit(m, "\r\n\r\n", 4);
        } else {
            uint32_t body = size_web_response(r);
            msg_litf(
                m,
                "HTTP/1.1 200 OK\r\nServer: bench\r\nContent-Type: application/octet-stream\r\n"
                "Content-Length: %" PRIu32 "\r\n\r\n",
                body);
            msg_fill(m, PART_RANDOM, body);
        }
        break;
    case APP_SMB: {
        uint32_t u = prng_below(r, 1000);
        uint32_t read_len = u < 600 ? prng_logu(r, 512, 8192) : prng_logu(r, 8192, 65536);
        if (u >= 995)
            read_len = 1048576;
        msg_smb_read(m, sender, f, read_len);
        break;
    }
    case APP_DICOM:
    case APP_DICOM_ALT:
        if (f->trans_i == 0) {
            msg_dicom_associate(m, sender, f->side[0].addr[3]);
        } else if (last) {
            msg_dicom_release(m, sender);
        } else {
            uint16_t msg_id = (uint16_t)f->trans_i;
            msg_dicom_command(m, sender, msg_id, f->id * 64u + f->trans_i);
            if (sender == 0)
                msg_dicom_data(m, prng_below(r, 10) == 0 ? 524288 + 2048 /* CT slice */
                                                         : prng_logu(r, 2048, 65536));
        }
        break;
    case APP_HL7:
    default:
        if (sender == 0) {
            msg_litf(m,
                     "\x0bMSH|^~\\&|LAB|HOSP|HIS|HOSP|20231114120000||ORU^R01|%" PRIu32
                     "%04u|P|2.5\rPID|1||%" PRIu32 "^^^HOSP^MR||DOE^JANE||19700101|F\r"
                     "OBR|1|||CBC\rOBX|1|TX|||",
                     f->id, f->trans_i, 100000u + f->id % 900000u);
            msg_fill(m, PART_TEXT, prng_logu(r, 100, 3000));
            msg_lit(m, "\r\x1c\r", 3);
        } else {
            msg_litf(m,
                     "\x0bMSH|^~\\&|HIS|HOSP|LAB|HOSP|20231114120001||ACK^R01|A%" PRIu32
                     "%04u|P|2.5\rMSA|AA|%" PRIu32 "%04u\r\x1c\r",
                     f->id, f->trans_i, f->id, f->trans_i);
        }
        break;
    }
    /* A few flows are reset by the client part way through their last response. */
    if (f->ends_rst && last && sender == 1 && f->closer == 0 && m->left > 4000)
        m->abort_at = m->left / 2;
}

/* ---- frames ------------------------------------------------------------------------------ */

static void
gen_flush(struct gen *g)
{
    if (g->buf_len > 0 && fwrite(g->buf, 1, g->buf_len, g->out) != g->buf_len)
        g->write_error = errno ? errno : EIO;
    g->buf_len = 0;
}

static uint8_t *
gen_reserve(struct gen *g)
{
    if (GEN_OUT_BUF_LEN - g->buf_len < GEN_FRAME_MAX)
        gen_flush(g);
    return g->buf + g->buf_len;
}

/* Commits a frame of frame_len bytes whose pcap record header is still to be written. */
static void
gen_commit(struct gen *g, uint8_t *rec, uint32_t frame_len)
{
    /* Inter-frame gap for a link near 1 Gbit/s (8 ns per byte), jittered by 0.5x..1.5x. */
    uint64_t gap = (uint64_t)frame_len * 8u * (512u + prng_below(&g->rng, 1024)) / 1024u;
    g->clock_ns += gap + 200;
    uint64_t us = g->clock_ns / 1000u;
    uint32_t hdr[4] = {GEN_EPOCH_S + (uint32_t)(us / 1000000u), (uint32_t)(us % 1000000u),
                       frame_len, frame_len};
    memcpy(rec, hdr, sizeof(hdr)); /* pcap record headers are in the writer's byte order */
    g->buf_len += 16 + frame_len;
    g->bytes_written += 16 + frame_len;
    g->n_packets++;
    if (frame_len >= 1514)
        g->n_full_frames++;
}

static void
mac_from(uint8_t *mac, const uint8_t *addr, int is_v6, uint8_t tag)
{
    const uint8_t *a = is_v6 ? addr + 12 : addr;
    mac[0] = 0x02;
    mac[1] = tag;
    memcpy(mac + 2, a, 4);
}

static uint16_t
ip4_checksum(const uint8_t *h)
{
    uint32_t sum = 0;
    for (int i = 0; i < 20; i += 2)
        sum += (uint32_t)(h[i] << 8 | h[i + 1]);
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

/* Writes Ethernet + IP headers; returns the length written. l4_len is the IP payload length. */
static size_t
write_l2l3(uint8_t *p, int is_v6, const uint8_t *src, const uint8_t *dst, uint8_t proto,
           uint32_t l4_len, uint16_t ip_id, uint8_t ttl)
{
    mac_from(p, dst, is_v6, 0x00);
    mac_from(p + 6, src, is_v6, 0x00);
    if (!is_v6) {
        p[12] = 0x08;
        p[13] = 0x00;
        uint8_t *ip = p + 14;
        ip[0] = 0x45;
        ip[1] = 0;
        put16(ip + 2, 20 + l4_len);
        put16(ip + 4, ip_id);
        put16(ip + 6, 0x4000); /* don't fragment */
        ip[8] = ttl;
        ip[9] = proto;
        ip[10] = 0;
        ip[11] = 0;
        memcpy(ip + 12, src, 4);
        memcpy(ip + 16, dst, 4);
        put16(ip + 10, ip4_checksum(ip));
        return 34;
    }
    p[12] = 0x86;
    p[13] = 0xdd;
    uint8_t *ip = p + 14;
    put32(ip, 0x60000000u);
    put16(ip + 4, l4_len);
    ip[6] = proto;
    ip[7] = ttl;
    memcpy(ip + 8, src, 16);
    memcpy(ip + 24, dst, 16);
    return 54;
}

enum { TCP_FIN = 0x01, TCP_SYN = 0x02, TCP_RST = 0x04, TCP_PSH = 0x08, TCP_ACK = 0x10 };

/* Emits one TCP segment from side `from` of f carrying payload_len bytes of the message. */
static void
emit_tcp(struct gen *g, struct flow *f, int from, uint8_t flags, uint32_t payload_len)
{
    struct side *s = &f->side[from];
    struct side *d = &f->side[1 - from];
    uint8_t *rec = gen_reserve(g);
    uint8_t *p = rec + 16;
    uint32_t tcp_len = (flags & TCP_SYN) ? 24 : 20;
    size_t off = write_l2l3(p, f->is_v6, s->addr, d->addr, 6, tcp_len + payload_len, s->ip_id,
                            from ? 60 : 64);
    s->ip_id++;
    uint8_t *t = p + off;
    put16(t, s->port);
    put16(t + 2, d->port);
    put32(t + 4, s->seq);
    put32(t + 8, (flags & TCP_ACK) ? d->seq : 0);
    t[12] = (uint8_t)((tcp_len / 4) << 4);
    t[13] = flags;
    put16(t + 14, 65535);
    put32(t + 16, 0); /* checksum zero, urgent pointer zero */
    if (flags & TCP_SYN) {
        t[20] = 2; /* MSS option */
        t[21] = 4;
        put16(t + 22, f->is_v6 ? GEN_MSS6 : GEN_MSS4);
    }
    if (payload_len > 0) {
        msg_write(g, &f->msg, t + tcp_len, payload_len);
        d->n_unacked++;
    } else if (flags == TCP_ACK) {
        g->n_pure_acks++;
    }
    if (flags & TCP_ACK)
        s->n_unacked = 0;
    s->seq += payload_len + ((flags & (TCP_SYN | TCP_FIN)) ? 1u : 0u);
    if (f->is_v6)
        g->n_v6_packets++;
    gen_commit(g, rec, (uint32_t)(off + tcp_len + payload_len));
}

static void
addr4(uint8_t *a, uint8_t b1, uint8_t b2, uint8_t b3)
{
    memset(a, 0, 16);
    a[0] = 10;
    a[1] = b1;
    a[2] = b2;
    a[3] = b3;
}

static void
addr6(uint8_t *a, uint8_t b1, uint8_t b2, uint8_t b3)
{
    memset(a, 0, 16);
    a[0] = 0xfd;
    a[13] = b1;
    a[14] = b2;
    a[15] = b3;
}

/* Client hosts live in 10.10.0.0/16, 250 to a /24. */
static void
client_addr4(uint8_t *a, uint32_t client)
{
    addr4(a, 10, (uint8_t)(client / 250), (uint8_t)(1 + client % 250));
}

static void
flow_start(struct gen *g, struct flow *f)
{
    struct prng *r = &g->rng;
    memset(f, 0, sizeof(*f));
    f->id = g->next_flow_id++;
    g->n_tcp_flows++;

    uint32_t w = prng_below(r, 1000);
    uint8_t app = 0;
    while (app + 1 < APP_COUNT && w >= app_weight[app]) {
        w -= app_weight[app];
        app++;
    }
    f->app = app;
    f->is_v6 = prng_below(r, 100) < 3;

    uint32_t client = prng_below(r, GEN_N_CLIENTS);
    uint8_t server = (uint8_t)(1 + prng_below(r, app == APP_TLS || app == APP_HTTP ? 60 : 6));
    if (f->is_v6) {
        addr6(f->side[0].addr, 0x10, (uint8_t)(client >> 8), (uint8_t)client);
        addr6(f->side[1].addr, 0x20, app, server);
    } else {
        client_addr4(f->side[0].addr, client);
        addr4(f->side[1].addr, 20, app, server);
    }
    /* Each client counts its ephemeral ports up, so a 4-tuple is not reused within a file. */
    uint16_t port = g->client_port[client];
    g->client_port[client] = (uint16_t)(port >= 60999 ? 32768 : port + 1);
    f->side[0].port = port;
    f->side[1].port = app_port[app];
    f->side[0].seq = (uint32_t)prng_next(r);
    f->side[1].seq = (uint32_t)prng_next(r);
    f->side[0].ip_id = (uint16_t)prng_next(r);
    f->side[1].ip_id = (uint16_t)prng_next(r);

    switch (app) {
    case APP_TLS:
        f->n_trans = (uint16_t)prng_range(r, 1, 4);
        break;
    case APP_HTTP:
        f->n_trans = (uint16_t)prng_range(r, 1, 3);
        break;
    case APP_SMB:
        f->n_trans = (uint16_t)prng_range(r, 2, 8);
        break;
    case APP_DICOM:
    case APP_DICOM_ALT:
        f->n_trans = (uint16_t)prng_range(r, 3, 6); /* associate, stores, release */
        break;
    default:
        f->n_trans = (uint16_t)prng_range(r, 2, 20);
        break;
    }
    f->ends_rst = prng_below(r, 100) < 4;
    f->closer = prng_below(r, 10) < 7 ? 0 : 1;
    f->phase = PH_SYN;
}

/* Emits the next packet of flow f. */
static void
flow_step(struct gen *g, struct flow *f)
{
    struct msg *m = &f->msg;
    switch (f->phase) {
    case PH_SYN:
        emit_tcp(g, f, 0, TCP_SYN, 0);
        f->phase = PH_SYNACK;
        return;
    case PH_SYNACK:
        emit_tcp(g, f, 1, TCP_SYN | TCP_ACK, 0);
        f->phase = PH_ACK;
        return;
    case PH_ACK:
        emit_tcp(g, f, 0, TCP_ACK, 0);
        f->phase = PH_DATA;
        flow_begin_message(g, f, 0);
        return;
    case PH_DATA:
        break;
    case PH_FIN1:
        emit_tcp(g, f, f->closer, TCP_FIN | TCP_ACK, 0);
        f->phase = PH_FIN2;
        return;
    case PH_FIN2:
        emit_tcp(g, f, 1 - f->closer, TCP_FIN | TCP_ACK, 0);
        f->phase = PH_FIN3;
        return;
    case PH_FIN3:
        emit_tcp(g, f, f->closer, TCP_ACK, 0);
        f->phase = PH_DONE;
        g->n_fin++;
        return;
    case PH_RST:
    default:
        emit_tcp(g, f, f->closer, TCP_RST | TCP_ACK, 0);
        f->phase = PH_DONE;
        g->n_rst++;
        return;
    }

    int s = f->sender;
    if (m->abort_at != 0 && m->left <= m->abort_at) {
        emit_tcp(g, f, f->closer, TCP_RST | TCP_ACK, 0);
        f->phase = PH_DONE;
        g->n_rst++;
        return;
    }
    /* The receiver acknowledges every second full segment, like a delayed-ACK stack. */
    if (f->side[1 - s].n_unacked >= 2) {
        emit_tcp(g, f, 1 - s, TCP_ACK, 0);
        return;
    }
    uint32_t mss = f->is_v6 ? GEN_MSS6 : GEN_MSS4;
    uint32_t len = m->left < mss ? m->left : mss;
    emit_tcp(g, f, s, (uint8_t)(TCP_ACK | (len == m->left ? TCP_PSH : 0)), len);
    if (m->left > 0)
        return;
    if (s == 0) {
        flow_begin_message(g, f, 1);
        return;
    }
    f->trans_i++;
    if (f->trans_i < f->n_trans)
        flow_begin_message(g, f, 0);
    else
        f->phase = f->ends_rst ? PH_RST : PH_FIN1;
}

/* ---- DNS --------------------------------------------------------------------------------- */

static void
emit_dns(struct gen *g, struct dns_slot *q, int is_rsp)
{
    uint8_t cli[16];
    uint8_t srv[16];
    client_addr4(cli, q->client);
    addr4(srv, 0, 0, 53);
    uint8_t dns[160];
    put16(dns, q->id);
    put16(dns + 2, is_rsp ? 0x8180 : 0x0100);
    put16(dns + 4, 1);
    put16(dns + 6, is_rsp ? 1 : 0);
    put16(dns + 8, 0);
    put16(dns + 10, 0);
    size_t n = 12;
    char label[24];
    int ll = snprintf(label, sizeof(label), "h%05" PRIu32, q->host % 100000u);
    dns[n++] = (uint8_t)ll;
    memcpy(dns + n, label, (size_t)ll);
    n += (size_t)ll;
    static const char tail[] = "\x08hospital\x08internal";
    memcpy(dns + n, tail, sizeof(tail)); /* includes the root label */
    n += sizeof(tail);
    put16(dns + n, q->qtype);
    put16(dns + n + 2, 1);
    n += 4;
    if (is_rsp) {
        put16(dns + n, 0xc00c);
        put16(dns + n + 2, q->qtype);
        put16(dns + n + 4, 1);
        put32(dns + n + 6, 300);
        n += 10;
        if (q->qtype == 28) {
            put16(dns + n, 16);
            addr6(dns + n + 2, 0x30, (uint8_t)(q->host >> 8), (uint8_t)q->host);
            n += 18;
        } else {
            put16(dns + n, 4);
            addr4(dns + n + 2, 30, (uint8_t)(q->host >> 8), (uint8_t)q->host);
            n += 6;
        }
    }
    uint8_t *rec = gen_reserve(g);
    uint8_t *p = rec + 16;
    const uint8_t *src = is_rsp ? srv : cli;
    const uint8_t *dst = is_rsp ? cli : srv;
    size_t off = write_l2l3(p, 0, src, dst, 17, (uint32_t)(8 + n), q->id, 64);
    uint8_t *u = p + off;
    put16(u, is_rsp ? 53 : q->port);
    put16(u + 2, is_rsp ? q->port : 53);
    put16(u + 4, (uint32_t)(8 + n));
    put16(u + 6, 0);
    memcpy(u + 8, dns, n);
    g->n_dns_packets++;
    gen_commit(g, rec, (uint32_t)(off + 8 + n));
}

static void
dns_step(struct gen *g)
{
    struct dns_slot *q = &g->dns[prng_below(&g->rng, GEN_N_DNS)];
    if (q->busy) {
        emit_dns(g, q, 1);
        q->busy = 0;
        return;
    }
    q->busy = 1;
    q->id = (uint16_t)prng_next(&g->rng);
    q->port = (uint16_t)prng_range(&g->rng, 1024, 65535);
    q->client = (uint16_t)prng_below(&g->rng, GEN_N_CLIENTS);
    q->host = prng_below(&g->rng, 5000);
    q->qtype = prng_below(&g->rng, 5) == 0 ? 28 : 1;
    emit_dns(g, q, 0);
}

/* ---- main -------------------------------------------------------------------------------- */

static int
parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    char *end = NULL;
    if (s == NULL || *s == '\0' || *s == '-')
        return -EINVAL;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno != 0 || *end != '\0' || v < min || v > max)
        return -EINVAL;
    *out = v;
    return 0;
}

static void
usage(FILE *f)
{
    fprintf(f, "usage: iaso-bench-gen [-o FILE] [--size-mb N] [--flows N] [--seed N]\n"
               "Writes a deterministic synthetic pcap of concurrent TCP flows (HTTP, TLS, SMB,\n"
               "DICOM, HL7) plus DNS, for benchmarks.\n"
               "  -o, --output FILE  where to write (default iaso-bench.pcap; '-' for stdout)\n"
               "  --size-mb N        file size in MiB (default 1024)\n"
               "  --flows N          concurrent TCP flows (default 4000)\n"
               "  --seed N           PRNG seed (default 0x1a50c0ffee)\n");
}

int
main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"output", required_argument, NULL, 'o'}, {"size-mb", required_argument, NULL, 's'},
        {"flows", required_argument, NULL, 'f'},  {"seed", required_argument, NULL, 'S'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
    };
    const char *path = "iaso-bench.pcap";
    uint64_t size_mb = GEN_SIZE_MB_DEFAULT;
    uint64_t n_flows = GEN_FLOWS_DEFAULT;
    uint64_t seed = GEN_SEED_DEFAULT;
    struct gen *g = NULL;
    int status = 1;
    int c;

    while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
        switch (c) {
        case 'o':
            path = optarg;
            break;
        case 's':
            if (parse_u64(optarg, 1, 1u << 20, &size_mb) < 0) {
                fprintf(stderr, "iaso-bench-gen: --size-mb %s: expected 1..1048576\n", optarg);
                return 2;
            }
            break;
        case 'f':
            if (parse_u64(optarg, 1, 1000000, &n_flows) < 0) {
                fprintf(stderr, "iaso-bench-gen: --flows %s: expected 1..1000000\n", optarg);
                return 2;
            }
            break;
        case 'S':
            if (parse_u64(optarg, 0, UINT64_MAX, &seed) < 0) {
                fprintf(stderr, "iaso-bench-gen: --seed %s: expected an unsigned integer\n",
                        optarg);
                return 2;
            }
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind != argc) {
        usage(stderr);
        return 2;
    }

    g = calloc(1, sizeof(*g));
    if (g == NULL)
        goto out_oom;
    g->buf = malloc(GEN_OUT_BUF_LEN);
    g->pool_random = malloc(GEN_POOL_LEN);
    g->pool_text = malloc(GEN_POOL_LEN);
    g->flows = calloc((size_t)n_flows, sizeof(*g->flows));
    if (!g->buf || !g->pool_random || !g->pool_text || !g->flows)
        goto out_oom;
    g->n_flows = (uint32_t)n_flows;
    g->bytes_target = size_mb << 20;
    prng_seed(&g->rng, seed);

    for (uint32_t i = 0; i < GEN_POOL_LEN; i += 8) {
        uint64_t v = prng_next(&g->rng);
        memcpy(g->pool_random + i, &v, 8);
    }
    /* Text for HTTP cookies and HL7 fields: no CR, no MLLP or HL7 delimiters. */
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 .";
    for (uint32_t i = 0; i < GEN_POOL_LEN; i++)
        g->pool_text[i] = (uint8_t)alphabet[prng_below(&g->rng, sizeof(alphabet) - 1)];
    for (uint32_t i = 0; i < GEN_N_CLIENTS; i++)
        g->client_port[i] = (uint16_t)prng_range(&g->rng, 32768, 50000);

    if (path[0] == '-' && path[1] == '\0') {
        g->out = stdout;
    } else {
        g->out = fopen(path, "wb");
        if (g->out == NULL) {
            fprintf(stderr, "iaso-bench-gen: %s: %s\n", path, strerror(errno));
            goto out;
        }
    }

    /* Global header: classic pcap, microseconds, snaplen 65535, Ethernet. */
    uint32_t gh[6] = {0xa1b2c3d4u, 0x00040002u, 0, 0, 65535, 1};
    memcpy(g->buf, gh, sizeof(gh));
    g->buf_len = sizeof(gh);
    g->bytes_written = sizeof(gh);

    for (uint32_t i = 0; i < g->n_flows; i++)
        flow_start(g, &g->flows[i]);

    while (g->bytes_written < g->bytes_target && !g->write_error) {
        if (prng_below(&g->rng, 20) == 0) {
            dns_step(g);
            continue;
        }
        struct flow *f = &g->flows[prng_below(&g->rng, g->n_flows)];
        if (f->phase == PH_DONE)
            flow_start(g, f);
        flow_step(g, f);
    }
    gen_flush(g);
    if (g->out != stdout && fclose(g->out) != 0 && !g->write_error)
        g->write_error = errno ? errno : EIO;
    g->out = NULL;
    if (g->write_error) {
        fprintf(stderr, "iaso-bench-gen: %s: write failed: %s\n", path, strerror(g->write_error));
        goto out;
    }
    uint64_t frame_bytes = g->bytes_written - 24 - 16 * g->n_packets;
    fprintf(stderr,
            "iaso-bench-gen: %s: %" PRIu64 " bytes, %" PRIu64 " packets (mean frame %.0f bytes; "
            "%.1f%% 1514-byte, %.1f%% pure ACK, %.1f%% DNS, %.1f%% IPv6), %" PRIu64
            " TCP flows (%" PRIu64 " FIN, %" PRIu64 " RST, rest open at the end), %.2f s of "
            "traffic\n",
            path, g->bytes_written, g->n_packets, (double)frame_bytes / (double)g->n_packets,
            100.0 * (double)g->n_full_frames / (double)g->n_packets,
            100.0 * (double)g->n_pure_acks / (double)g->n_packets,
            100.0 * (double)g->n_dns_packets / (double)g->n_packets,
            100.0 * (double)g->n_v6_packets / (double)g->n_packets, g->n_tcp_flows, g->n_fin,
            g->n_rst, (double)g->clock_ns / 1e9);
    status = 0;
    goto out;

out_oom:
    fprintf(stderr, "iaso-bench-gen: out of memory\n");
out:
    if (g != NULL) {
        if (g->out != NULL && g->out != stdout)
            fclose(g->out);
        free(g->flows);
        free(g->pool_text);
        free(g->pool_random);
        free(g->buf);
        free(g);
    }
    return status;
}
