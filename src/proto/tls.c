// SPDX-License-Identifier: Apache-2.0
// TLS handshake parser: record layer, handshake reassembly, ClientHello/ServerHello with
// JA3/JA3S/JA4, the server's first certificate (DER parsed by OpenSSL). See tls.h.
#include "proto/tls.h"

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"

/* TLSCiphertext may carry 2^14 + 2048 bytes (RFC 5246 6.2.3); anything longer is not TLS. */
#define TLS_RECORD_MAX (16384 + 2048)

enum {
    TLS_CT_CHANGE_CIPHER_SPEC = 20,
    TLS_CT_ALERT = 21,
    TLS_CT_HANDSHAKE = 22,
    TLS_CT_APPLICATION_DATA = 23,
    TLS_CT_HEARTBEAT = 24,
};

enum {
    TLS_HS_CLIENT_HELLO = 1,
    TLS_HS_SERVER_HELLO = 2,
    TLS_HS_CERTIFICATE = 11,
};

enum {
    TLS_EXT_SERVER_NAME = 0,
    TLS_EXT_SUPPORTED_GROUPS = 10,
    TLS_EXT_EC_POINT_FORMATS = 11,
    TLS_EXT_SIGNATURE_ALGORITHMS = 13,
    TLS_EXT_ALPN = 16,
    TLS_EXT_SUPPORTED_VERSIONS = 43,
};

/* One direction: the record being read and the handshake message being assembled. */
struct tls_dir {
    uint8_t hdr[5]; /* record header */
    uint8_t hdr_have;
    uint8_t rec_type;
    uint16_t rec_left; /* body bytes of the current record still to come */
    uint8_t hs_hdr[4]; /* handshake message header */
    uint8_t hs_have;
    uint32_t msg_len;  /* from the header (up to 2^24 - 1) */
    uint32_t msg_have; /* body bytes seen */
    uint32_t msg_keep; /* body bytes to keep (at most TLS_MSG_MAX); 0 for messages we skip */
    uint32_t msg_cap;  /* bytes allocated at msg */
    uint8_t *msg;      /* owns: the kept bytes so far, grown as they arrive */
    bool keep;         /* this message is one we parse */
    bool done;         /* encrypted from here on: ignore the rest */
};

struct tls_state {
    struct tls_dir dir[2];
    bool hello_retry; /* TLS 1.3 HelloRetryRequest seen: ChangeCipherSpec is only compatibility */
};

static const uint16_t tls_ports[] = {443, 465, 636, 853, 993, 995, 2762, 5061, 6514, 8443, 0};

/* ---- names ---- */

const char *
tls_version_name(uint16_t v)
{
    switch (v) {
    case 0x0300:
        return "SSLv3";
    case 0x0301:
        return "TLS 1.0";
    case 0x0302:
        return "TLS 1.1";
    case 0x0303:
        return "TLS 1.2";
    case 0x0304:
        return "TLS 1.3";
    default:
        return NULL;
    }
}

static const struct {
    uint16_t id;
    const char *name;
} tls_ciphers[] = {
    {0x0004, "TLS_RSA_WITH_RC4_128_MD5"},
    {0x0005, "TLS_RSA_WITH_RC4_128_SHA"},
    {0x000a, "TLS_RSA_WITH_3DES_EDE_CBC_SHA"},
    {0x002f, "TLS_RSA_WITH_AES_128_CBC_SHA"},
    {0x0033, "TLS_DHE_RSA_WITH_AES_128_CBC_SHA"},
    {0x0035, "TLS_RSA_WITH_AES_256_CBC_SHA"},
    {0x0039, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA"},
    {0x003c, "TLS_RSA_WITH_AES_128_CBC_SHA256"},
    {0x003d, "TLS_RSA_WITH_AES_256_CBC_SHA256"},
    {0x0067, "TLS_DHE_RSA_WITH_AES_128_CBC_SHA256"},
    {0x006b, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA256"},
    {0x009c, "TLS_RSA_WITH_AES_128_GCM_SHA256"},
    {0x009d, "TLS_RSA_WITH_AES_256_GCM_SHA384"},
    {0x009e, "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256"},
    {0x009f, "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384"},
    {0x00ff, "TLS_EMPTY_RENEGOTIATION_INFO_SCSV"},
    {0x1301, "TLS_AES_128_GCM_SHA256"},
    {0x1302, "TLS_AES_256_GCM_SHA384"},
    {0x1303, "TLS_CHACHA20_POLY1305_SHA256"},
    {0x1304, "TLS_AES_128_CCM_SHA256"},
    {0x1305, "TLS_AES_128_CCM_8_SHA256"},
    {0x5600, "TLS_FALLBACK_SCSV"},
    {0xc009, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA"},
    {0xc00a, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA"},
    {0xc013, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA"},
    {0xc014, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA"},
    {0xc023, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256"},
    {0xc024, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384"},
    {0xc027, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256"},
    {0xc028, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384"},
    {0xc02b, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"},
    {0xc02c, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"},
    {0xc02f, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"},
    {0xc030, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"},
    {0xcca8, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"},
    {0xcca9, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"},
    {0xccaa, "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256"},
};

const char *
tls_cipher_name(uint16_t id)
{
    for (size_t i = 0; i < sizeof(tls_ciphers) / sizeof(tls_ciphers[0]); i++)
        if (tls_ciphers[i].id == id)
            return tls_ciphers[i].name;
    return NULL;
}

/* ---- fingerprint helpers ---- */

/* GREASE values (RFC 8701): 0x0a0a, 0x1a1a, ..., 0xfafa. */
static bool
is_grease(uint16_t v)
{
    return (v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff);
}

/* A list of values as fingerprints see them: GREASE left out, capped at TLS_LIST_MAX. */
struct u16list {
    uint16_t v[TLS_LIST_MAX];
    uint32_t n;
};

static void
list_add(struct u16list *l, uint16_t v, bool *truncated)
{
    if (is_grease(v))
        return;
    if (l->n == TLS_LIST_MAX) {
        *truncated = true;
        return;
    }
    l->v[l->n++] = v;
}

/* A bounded string builder; output is cut at cap - 1 and always NUL-terminated. */
struct sbuf {
    char *p;
    size_t len, cap;
};

static void
sb_put(struct sbuf *b, const char *s, size_t n)
{
    if (b->cap == 0)
        return;
    if (n > b->cap - 1 - b->len)
        n = b->cap - 1 - b->len;
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

/* Appends v in decimal, or (hex_digits > 0) as that many lowercase or uppercase hex digits. */
static void
sb_num(struct sbuf *b, unsigned v, int hex_digits, bool upper)
{
    static const char lower_digits[] = "0123456789abcdef", upper_digits[] = "0123456789ABCDEF";
    char tmp[16];
    size_t n = 0;
    if (hex_digits > 0) {
        const char *digits = upper ? upper_digits : lower_digits;
        for (int i = hex_digits - 1; i >= 0 && n < sizeof(tmp); i--)
            tmp[n++] = digits[(v >> (4 * i)) & 15];
    } else {
        char rev[16];
        size_t k = 0;
        do {
            rev[k++] = (char)('0' + v % 10);
            v /= 10;
        } while (v && k < sizeof(rev));
        while (k > 0)
            tmp[n++] = rev[--k];
    }
    sb_put(b, tmp, n);
}

/* Appends the values joined by sep, as decimal (JA3) or 4-digit hex (JA4). */
static void
sb_list(struct sbuf *b, const struct u16list *l, bool hex, char sep)
{
    for (uint32_t i = 0; i < l->n; i++) {
        if (i)
            sb_put(b, &sep, 1);
        sb_num(b, l->v[i], hex ? 4 : 0, false);
    }
}

static void
hex_digest(const EVP_MD *md, const char *s, size_t len, char *out, size_t out_hex)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned int d_len = 0;
    if (!EVP_Digest(s, len, d, &d_len, md, NULL))
        d_len = 0;
    size_t i = 0;
    for (; i < out_hex && i / 2 < d_len; i++)
        out[i] = hex[(i & 1) ? d[i / 2] & 15 : d[i / 2] >> 4];
    for (; i < out_hex; i++)
        out[i] = '0';
    out[out_hex] = '\0';
}

static int
cmp_u16(const void *a, const void *b)
{
    uint16_t x = *(const uint16_t *)a, y = *(const uint16_t *)b;
    return (x > y) - (x < y);
}

static const char *
ja4_version(uint16_t v)
{
    switch (v) {
    case 0x0304:
        return "13";
    case 0x0303:
        return "12";
    case 0x0302:
        return "11";
    case 0x0301:
        return "10";
    case 0x0300:
        return "s3";
    case 0x0200:
        return "s2";
    default:
        return "00";
    }
}

static bool
is_alnum(uint8_t c)
{
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/* JA4's sorted-list hash: the first 12 hex of SHA-256, or twelve zeros for an empty list. */
static void
ja4_hash(struct sbuf *scratch, const struct u16list *sorted, const struct u16list *tail,
         char out[13])
{
    if (sorted->n == 0) {
        memcpy(out, "000000000000", 13);
        return;
    }
    scratch->len = 0;
    sb_list(scratch, sorted, true, ',');
    if (tail && tail->n) {
        sb_put(scratch, "_", 1);
        sb_list(scratch, tail, true, ',');
    }
    hex_digest(EVP_sha256(), scratch->p, scratch->len, out, 12);
}

/* ---- ClientHello ---- */

struct hello_lists {
    struct u16list ciphers, exts, groups, formats, sigalgs, versions;
};

static int
client_ext(struct tls_client_hello *ch, struct hello_lists *l, uint16_t type, struct bytes body,
           bool *has_sni)
{
    struct cursor c;
    cursor_init(&c, body.ptr, body.len);
    switch (type) {
    case TLS_EXT_SERVER_NAME: {
        *has_sni = true;
        if (body.len == 0) /* a server's empty echo; clients send a list */
            break;
        struct cursor list;
        struct bytes b = cursor_take(&c, cursor_be16(&c));
        cursor_init(&list, b.ptr, b.len);
        while (cursor_left(&list) > 0) {
            uint8_t name_type = cursor_u8(&list);
            struct bytes name = cursor_take(&list, cursor_be16(&list));
            if (list.err)
                return IASO_E_FORMAT;
            if (name_type == 0 && ch->sni.len == 0)
                ch->sni = name;
        }
        break;
    }
    case TLS_EXT_ALPN: {
        struct bytes b = cursor_take(&c, cursor_be16(&c));
        struct cursor list;
        cursor_init(&list, b.ptr, b.len);
        while (cursor_left(&list) > 0)
            cursor_skip(&list, cursor_u8(&list));
        if (list.err)
            return IASO_E_FORMAT;
        ch->alpn = b;
        break;
    }
    case TLS_EXT_SUPPORTED_VERSIONS:
    case TLS_EXT_SUPPORTED_GROUPS:
    case TLS_EXT_SIGNATURE_ALGORITHMS: {
        size_t n = type == TLS_EXT_SUPPORTED_VERSIONS ? cursor_u8(&c) : cursor_be16(&c);
        if (n % 2 != 0)
            return IASO_E_FORMAT;
        struct u16list *dst = type == TLS_EXT_SUPPORTED_VERSIONS ? &l->versions
                              : type == TLS_EXT_SUPPORTED_GROUPS ? &l->groups
                                                                 : &l->sigalgs;
        for (size_t i = 0; i < n / 2 && !c.err; i++)
            list_add(dst, cursor_be16(&c), &ch->truncated);
        break;
    }
    case TLS_EXT_EC_POINT_FORMATS: {
        size_t n = cursor_u8(&c);
        for (size_t i = 0; i < n && !c.err; i++)
            list_add(&l->formats, cursor_u8(&c), &ch->truncated);
        break;
    }
    default:
        break;
    }
    return c.err ? IASO_E_FORMAT : 0;
}

static int
client_hello(const struct proto_ctx *ctx, int dir, const uint8_t *msg, size_t len, uint64_t ts_us)
{
    struct tls_client_hello ch;
    struct hello_lists l;
    char ja3[TLS_JA3_MAX];
    memset(&ch, 0, sizeof(ch));
    memset(&l, 0, sizeof(l));

    struct cursor c;
    cursor_init(&c, msg, len);
    ch.legacy_version = cursor_be16(&c);
    cursor_skip(&c, 32); /* random */
    uint8_t sid_len = cursor_u8(&c);
    if (sid_len > 32) /* RFC 8446 4.1.2: opaque legacy_session_id<0..32> */
        return IASO_E_FORMAT;
    cursor_skip(&c, sid_len);
    uint16_t cs_len = cursor_be16(&c);
    if (c.err || cs_len % 2 != 0 || cs_len == 0)
        return IASO_E_FORMAT;
    ch.n_ciphers = cs_len / 2;
    for (uint32_t i = 0; i < ch.n_ciphers; i++)
        list_add(&l.ciphers, cursor_be16(&c), &ch.truncated);
    cursor_skip(&c, cursor_u8(&c)); /* compression methods */
    if (c.err)
        return IASO_E_FORMAT;

    bool has_sni = false;
    if (cursor_left(&c) > 0) {
        struct bytes exts = cursor_take(&c, cursor_be16(&c));
        if (c.err)
            return IASO_E_FORMAT;
        struct cursor e;
        cursor_init(&e, exts.ptr, exts.len);
        while (cursor_left(&e) > 0) {
            uint16_t type = cursor_be16(&e);
            struct bytes body = cursor_take(&e, cursor_be16(&e));
            if (e.err)
                return IASO_E_FORMAT;
            ch.n_extensions++;
            list_add(&l.exts, type, &ch.truncated);
            int rc = client_ext(&ch, &l, type, body, &has_sni);
            if (rc < 0)
                return rc;
        }
    }

    /* The highest version offered (supported_versions, RFC 8446 4.2.1), else the legacy one. */
    ch.version = ch.legacy_version;
    if (l.versions.n > 0) {
        ch.version = 0;
        for (uint32_t i = 0; i < l.versions.n; i++)
            if (l.versions.v[i] > ch.version)
                ch.version = l.versions.v[i];
    }

    /* JA3: SSLVersion,Ciphers,Extensions,EllipticCurves,EllipticCurvePointFormats. */
    struct sbuf b = {ja3, 0, sizeof(ja3)};
    ja3[0] = '\0';
    sb_num(&b, ch.legacy_version, 0, false);
    sb_put(&b, ",", 1);
    sb_list(&b, &l.ciphers, false, '-');
    sb_put(&b, ",", 1);
    sb_list(&b, &l.exts, false, '-');
    sb_put(&b, ",", 1);
    sb_list(&b, &l.groups, false, '-');
    sb_put(&b, ",", 1);
    sb_list(&b, &l.formats, false, '-');
    hex_digest(EVP_md5(), b.p, b.len, ch.ja3_hash, 32);
    ch.ja3 = ja3;

    /* JA4_a: t, version, d/i, cipher count, extension count, ALPN first and last character. */
    char alpn2[3] = "00";
    if (ch.alpn.len > 1 && ch.alpn.ptr[0] > 0) {
        const uint8_t *first = ch.alpn.ptr + 1;
        size_t n = ch.alpn.ptr[0]; /* validated to fit in client_ext */
        if (is_alnum(first[0]) && is_alnum(first[n - 1])) {
            alpn2[0] = (char)first[0];
            alpn2[1] = (char)first[n - 1];
        } else {
            static const char hex[] = "0123456789abcdef";
            alpn2[0] = hex[first[0] >> 4];
            alpn2[1] = hex[first[n - 1] & 15];
        }
    }
    unsigned n_c = l.ciphers.n > 99 ? 99 : l.ciphers.n;
    unsigned n_e = l.exts.n > 99 ? 99 : l.exts.n;
    char a[16];
    int a_len = snprintf(a, sizeof(a), "t%s%c%02u%02u%s", ja4_version(ch.version),
                         has_sni ? 'd' : 'i', n_c, n_e, alpn2);
    if (a_len != 10)
        return IASO_E_FORMAT; /* cannot happen: every part has a fixed width */

    /* JA4_b and JA4_c: hashes of the sorted lists (JA4_c with the signature algorithms). */
    struct u16list sorted;
    sorted = l.ciphers;
    qsort(sorted.v, sorted.n, sizeof(sorted.v[0]), cmp_u16);
    char hb[13], hc[13];
    char scratch[TLS_JA3_MAX];
    struct sbuf s = {scratch, 0, sizeof(scratch)};
    ja4_hash(&s, &sorted, NULL, hb);
    sorted.n = 0;
    for (uint32_t i = 0; i < l.exts.n; i++)
        if (l.exts.v[i] != TLS_EXT_SERVER_NAME && l.exts.v[i] != TLS_EXT_ALPN)
            sorted.v[sorted.n++] = l.exts.v[i];
    qsort(sorted.v, sorted.n, sizeof(sorted.v[0]), cmp_u16);
    ja4_hash(&s, &sorted, &l.sigalgs, hc);
    memcpy(ch.ja4, a, 10);
    ch.ja4[10] = '_';
    memcpy(ch.ja4 + 11, hb, 12);
    ch.ja4[23] = '_';
    memcpy(ch.ja4 + 24, hc, 13); /* with its NUL */

    struct proto_event ev = {PROTO_TLS, TLS_EVENT_CLIENT_HELLO, dir, ts_us, &ch};
    ctx->emit(ctx->user, &ev);
    return 0;
}

/* ---- ServerHello ---- */

/* RFC 8446 4.1.3: a ServerHello with this random is a HelloRetryRequest. */
static const uint8_t hrr_random[32] = {
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
};

static int
server_hello(struct tls_state *s, const struct proto_ctx *ctx, int dir, const uint8_t *msg,
             size_t len, uint64_t ts_us)
{
    struct tls_server_hello sh;
    struct u16list exts;
    char ja3s[TLS_JA3_MAX];
    bool has_versions = false;
    memset(&sh, 0, sizeof(sh));
    exts.n = 0;

    struct cursor c;
    cursor_init(&c, msg, len);
    sh.legacy_version = cursor_be16(&c);
    struct bytes random = cursor_take(&c, 32);
    uint8_t sid_len = cursor_u8(&c);
    if (sid_len > 32)
        return IASO_E_FORMAT;
    cursor_skip(&c, sid_len);
    sh.cipher_suite = cursor_be16(&c);
    cursor_u8(&c); /* compression method */
    if (c.err || !random.ptr)
        return IASO_E_FORMAT;
    sh.hello_retry = memcmp(random.ptr, hrr_random, sizeof(hrr_random)) == 0;
    sh.version = sh.legacy_version;

    if (cursor_left(&c) > 0) {
        struct bytes all = cursor_take(&c, cursor_be16(&c));
        if (c.err)
            return IASO_E_FORMAT;
        struct cursor e;
        cursor_init(&e, all.ptr, all.len);
        while (cursor_left(&e) > 0) {
            uint16_t type = cursor_be16(&e);
            struct bytes body = cursor_take(&e, cursor_be16(&e));
            if (e.err)
                return IASO_E_FORMAT;
            /* JA3S keeps every extension type (servers do not send GREASE); past
             * TLS_LIST_MAX types it is over the first ones (no server sends that many). */
            if (exts.n < TLS_LIST_MAX)
                exts.v[exts.n++] = type;
            struct cursor x;
            cursor_init(&x, body.ptr, body.len);
            if (type == TLS_EXT_SUPPORTED_VERSIONS) {
                sh.version = cursor_be16(&x);
                has_versions = true;
            } else if (type == TLS_EXT_ALPN) {
                struct bytes list = cursor_take(&x, cursor_be16(&x));
                struct cursor y;
                cursor_init(&y, list.ptr, list.len);
                sh.alpn = cursor_take(&y, cursor_u8(&y)); /* exactly one name (RFC 7301 3.1) */
                if (y.err)
                    return IASO_E_FORMAT;
            }
            if (x.err)
                return IASO_E_FORMAT;
        }
    }

    struct sbuf b = {ja3s, 0, sizeof(ja3s)};
    ja3s[0] = '\0';
    sb_num(&b, sh.legacy_version, 0, false);
    sb_put(&b, ",", 1);
    sb_num(&b, sh.cipher_suite, 0, false);
    sb_put(&b, ",", 1);
    sb_list(&b, &exts, false, '-');
    hex_digest(EVP_md5(), b.p, b.len, sh.ja3s_hash, 32);
    sh.ja3s = ja3s;

    struct proto_event ev = {PROTO_TLS, TLS_EVENT_SERVER_HELLO, dir, ts_us, &sh};
    ctx->emit(ctx->user, &ev);

    /* TLS 1.3 encrypts everything after the ServerHello, both ways (a HelloRetryRequest is
     * followed by a second ClientHello in clear). */
    if (has_versions && sh.hello_retry)
        s->hello_retry = true;
    if (has_versions && !sh.hello_retry) {
        s->dir[0].done = true;
        s->dir[1].done = true;
    }
    return 0;
}

/* ---- Certificate ---- */

static void
name_string(const X509_NAME *name, char *out, size_t cap)
{
    out[0] = '\0';
    BIO *bio = BIO_new(BIO_s_mem());
    if (!bio)
        return;
    /* RFC 2253/4514 order and escaping, UTF-8 kept as is. */
    if (X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0) {
        char *p = NULL;
        long n = BIO_get_mem_data(bio, &p);
        if (n > 0 && p) {
            size_t k = (size_t)n < cap - 1 ? (size_t)n : cap - 1;
            memcpy(out, p, k);
            out[k] = '\0';
        }
    }
    BIO_free(bio);
}

static void
time_string(const ASN1_TIME *t, char out[TLS_TIME_MAX])
{
    struct tm tm;
    out[0] = '\0';
    if (!t || ASN1_TIME_to_tm(t, &tm) != 1)
        return;
    /* "YYYY-MM-DDTHH:MM:SS"; ASN1_TIME_to_tm checked the ranges. */
    struct sbuf b = {out, 0, TLS_TIME_MAX};
    const unsigned v[6] = {(unsigned)(tm.tm_year + 1900) % 10000,
                           (unsigned)(tm.tm_mon + 1) % 100,
                           (unsigned)tm.tm_mday % 100,
                           (unsigned)tm.tm_hour % 100,
                           (unsigned)tm.tm_min % 100,
                           (unsigned)tm.tm_sec % 100};
    static const char seps[] = "--T::";
    for (int i = 0; i < 6; i++) {
        if (i)
            sb_put(&b, &seps[i - 1], 1);
        unsigned x = v[i];
        char d[4] = {(char)('0' + x / 1000), (char)('0' + x / 100 % 10), (char)('0' + x / 10 % 10),
                     (char)('0' + x % 10)};
        sb_put(&b, i == 0 ? d : d + 2, i == 0 ? 4 : 2);
    }
}

static int
certificate(const struct proto_ctx *ctx, int dir, const uint8_t *msg, size_t len, size_t msg_len,
            uint64_t ts_us)
{
    struct tls_certificate certbuf;
    struct tls_certificate *cert = &certbuf;
    memset(cert, 0, sizeof(*cert));
    struct cursor c;
    cursor_init(&c, msg, len);
    uint32_t list_len = (uint32_t)cursor_u8(&c) << 16;
    list_len |= cursor_be16(&c);
    if (c.err || list_len + 3 != msg_len)
        return IASO_E_FORMAT;
    struct bytes first = {NULL, 0};
    while (cursor_left(&c) >= 3) {
        uint32_t n = (uint32_t)cursor_u8(&c) << 16;
        n |= cursor_be16(&c);
        cert->n_certs++;
        if (cert->n_certs == 1 && n <= cursor_left(&c))
            first = cursor_take(&c, n);
        else if (!cursor_skip(&c, n))
            break; /* cut at TLS_MSG_MAX: count what we saw */
    }
    X509 *x = NULL;
    if (first.len > 0) {
        const unsigned char *p = first.ptr;
        x = d2i_X509(NULL, &p, (long)first.len); /* first.len < TLS_MSG_MAX */
    }
    if (x) {
        name_string(X509_get_subject_name(x), cert->subject, sizeof(cert->subject));
        name_string(X509_get_issuer_name(x), cert->issuer, sizeof(cert->issuer));
        const ASN1_INTEGER *serial = X509_get0_serialNumber(x);
        const unsigned char *sp = ASN1_STRING_get0_data(serial);
        int sn = ASN1_STRING_length(serial);
        struct sbuf b = {cert->serial, 0, sizeof(cert->serial)};
        for (int i = 0; sp && i < sn; i++) {
            if (i)
                sb_put(&b, ":", 1);
            sb_num(&b, sp[i], 2, true);
        }
        time_string(X509_get0_notBefore(x), cert->not_before);
        time_string(X509_get0_notAfter(x), cert->not_after);
        X509_free(x);
    }
    if (cert->n_certs > 0) {
        struct proto_event ev = {PROTO_TLS, TLS_EVENT_CERTIFICATE, dir, ts_us, cert};
        ctx->emit(ctx->user, &ev);
    }
    return 0;
}

/* ---- handshake and record layers ---- */

static bool
wanted(int dir, uint8_t type)
{
    if (dir == PROTO_TOSERVER)
        return type == TLS_HS_CLIENT_HELLO;
    return type == TLS_HS_SERVER_HELLO || type == TLS_HS_CERTIFICATE;
}

static int
message_done(struct tls_state *s, const struct proto_ctx *ctx, int dir, uint64_t ts_us)
{
    struct tls_dir *d = &s->dir[dir];
    uint8_t type = d->hs_hdr[0];
    int rc = 0;
    if (d->keep) {
        if (type == TLS_HS_CLIENT_HELLO)
            rc = client_hello(ctx, dir, d->msg, d->msg_keep, ts_us);
        else if (type == TLS_HS_SERVER_HELLO)
            rc = server_hello(s, ctx, dir, d->msg, d->msg_keep, ts_us);
        else if (type == TLS_HS_CERTIFICATE)
            rc = certificate(ctx, dir, d->msg, d->msg_keep, d->msg_len, ts_us);
    }
    proto_free(d->msg);
    d->msg = NULL;
    d->msg_cap = 0;
    d->keep = false;
    d->hs_have = 0;
    return rc;
}

/* Feeds handshake-record body bytes: assembles messages across records and pieces. */
static int
handshake_feed(struct tls_state *s, const struct proto_ctx *ctx, int dir, const uint8_t *p,
               size_t n, uint64_t ts_us)
{
    struct tls_dir *d = &s->dir[dir];
    while (n > 0 && !d->done) {
        if (d->hs_have < 4) {
            size_t k = 4u - d->hs_have < n ? 4u - d->hs_have : n;
            memcpy(d->hs_hdr + d->hs_have, p, k);
            d->hs_have = (uint8_t)(d->hs_have + k);
            p += k;
            n -= k;
            if (d->hs_have < 4)
                return 0;
            d->msg_len = (uint32_t)d->hs_hdr[1] << 16 | load_be16(d->hs_hdr + 2);
            d->msg_have = 0;
            d->msg_keep = 0;
            if (wanted(dir, d->hs_hdr[0])) {
                /* A hello we cannot hold whole cannot be fingerprinted: give up. Of a longer
                 * Certificate the first TLS_MSG_MAX bytes hold the server's own certificate. */
                if (d->msg_len > TLS_MSG_MAX && d->hs_hdr[0] != TLS_HS_CERTIFICATE)
                    return IASO_E_LIMIT;
                d->msg_keep = d->msg_len < TLS_MSG_MAX ? d->msg_len : TLS_MSG_MAX;
                d->keep = true;
            }
            if (d->msg_len == 0) {
                int rc = message_done(s, ctx, dir, ts_us);
                if (rc < 0)
                    return rc;
            }
            continue;
        }
        size_t k = d->msg_len - d->msg_have < n ? d->msg_len - d->msg_have : n;
        if (d->keep && d->msg_have < d->msg_keep) {
            size_t room = d->msg_keep - d->msg_have;
            size_t m = k < room ? k : room;
            if (d->msg_have + m > d->msg_cap) {
                /* Grown with the bytes that arrive, not the announced length, so a bare header
                 * costs nothing; never past msg_keep. */
                size_t cap = d->msg_cap ? d->msg_cap : 512;
                while (cap < d->msg_have + m)
                    cap *= 2;
                if (cap > d->msg_keep)
                    cap = d->msg_keep;
                uint8_t *grown = proto_realloc(d->msg, cap);
                if (!grown)
                    return IASO_E_NOMEM;
                d->msg = grown;
                d->msg_cap = (uint32_t)cap;
            }
            memcpy(d->msg + d->msg_have, p, m);
        }
        d->msg_have += (uint32_t)k;
        p += k;
        n -= k;
        if (d->msg_have == d->msg_len) {
            int rc = message_done(s, ctx, dir, ts_us);
            if (rc < 0)
                return rc;
        }
    }
    return 0;
}

static enum proto_probe
tls_probe(const uint8_t *data, size_t len, int dir)
{
    /* Record header: handshake, version 3.0-3.4, a length that fits a record. */
    static const uint8_t want[2] = {TLS_HS_CLIENT_HELLO, TLS_HS_SERVER_HELLO};
    if (dir != PROTO_TOSERVER && dir != PROTO_TOCLIENT)
        return PROTO_PROBE_NO;
    if (len >= 1 && data[0] != TLS_CT_HANDSHAKE)
        return PROTO_PROBE_NO;
    if (len >= 2 && data[1] != 3)
        return PROTO_PROBE_NO;
    if (len >= 3 && data[2] > 4)
        return PROTO_PROBE_NO;
    if (len >= 5) {
        uint16_t n = load_be16(data + 3);
        if (n < 4 || n > TLS_RECORD_MAX)
            return PROTO_PROBE_NO;
    }
    if (len >= 6 && data[5] != want[dir])
        return PROTO_PROBE_NO;
    /* The hello's own version is 3.x too. */
    if (len >= 10 && data[9] != 3)
        return PROTO_PROBE_NO;
    return len >= 10 ? PROTO_PROBE_YES : PROTO_PROBE_NEED_MORE;
}

static int
tls_parse(void *state, const struct proto_ctx *ctx, int dir, const uint8_t *data, size_t len,
          uint64_t ts_us)
{
    struct tls_state *s = state;
    if (dir != PROTO_TOSERVER && dir != PROTO_TOCLIENT)
        return IASO_E_INVAL;
    struct tls_dir *d = &s->dir[dir];
    size_t off = 0;
    while (off < len && !d->done) {
        if (d->hdr_have < 5) {
            size_t k = 5u - d->hdr_have < len - off ? 5u - d->hdr_have : len - off;
            memcpy(d->hdr + d->hdr_have, data + off, k);
            d->hdr_have = (uint8_t)(d->hdr_have + k);
            off += k;
            if (d->hdr_have < 5)
                break;
            uint8_t type = d->hdr[0];
            uint16_t rec_len = load_be16(d->hdr + 3);
            if (type < TLS_CT_CHANGE_CIPHER_SPEC || type > TLS_CT_HEARTBEAT || d->hdr[1] != 3 ||
                rec_len > TLS_RECORD_MAX)
                return IASO_E_FORMAT;
            /* After a HelloRetryRequest a TLS 1.3 client sends a dummy ChangeCipherSpec
             * (RFC 8446 D.4) before its second ClientHello, still in clear. */
            bool compat_ccs = type == TLS_CT_CHANGE_CIPHER_SPEC && s->hello_retry;
            if ((type == TLS_CT_CHANGE_CIPHER_SPEC && !compat_ccs) ||
                type == TLS_CT_APPLICATION_DATA) {
                d->done = true; /* encrypted from here on */
                break;
            }
            /* A handshake message must not be interleaved with other records. */
            if (type != TLS_CT_HANDSHAKE && d->hs_have > 0)
                return IASO_E_FORMAT;
            d->rec_type = type;
            d->rec_left = rec_len;
            if (rec_len == 0)
                d->hdr_have = 0;
            continue;
        }
        size_t k = d->rec_left < len - off ? d->rec_left : len - off;
        if (d->rec_type == TLS_CT_HANDSHAKE) {
            int rc = handshake_feed(s, ctx, dir, data + off, k, ts_us);
            if (rc < 0)
                return rc;
        }
        off += k;
        d->rec_left = (uint16_t)(d->rec_left - k);
        if (d->rec_left == 0)
            d->hdr_have = 0;
    }
    return 0;
}

static int
tls_gap(void *state, const struct proto_ctx *ctx, int dir, size_t len)
{
    struct tls_state *s = state;
    (void)ctx;
    (void)len;
    if (dir != PROTO_TOSERVER && dir != PROTO_TOCLIENT)
        return IASO_E_INVAL;
    /* Past the clear handshake nothing matters; before it, record boundaries are lost. */
    return s->dir[dir].done ? 0 : IASO_E_TRUNC;
}

static void
tls_end(void *state, const struct proto_ctx *ctx, uint64_t ts_us)
{
    struct tls_state *s = state;
    (void)ctx;
    (void)ts_us;
    for (int i = 0; i < 2; i++) {
        proto_free(s->dir[i].msg);
        s->dir[i].msg = NULL;
    }
}

/* ---- EVE ---- */

static void
eve_version(struct jsonw *w, uint16_t v)
{
    const char *name = tls_version_name(v);
    char hex[8];
    if (!name) {
        snprintf(hex, sizeof(hex), "0x%04x", v);
        name = hex;
    }
    jsonw_str(w, name);
}

static void
eve_hash(struct jsonw *w, const char *hash, const char *str)
{
    jsonw_object_begin(w);
    jsonw_key(w, "hash");
    jsonw_str(w, hash);
    jsonw_key(w, "string");
    jsonw_str(w, str);
    jsonw_object_end(w);
}

static void
tls_eve(const struct proto_event *ev, struct jsonw *w)
{
    switch (ev->kind) {
    case TLS_EVENT_CLIENT_HELLO: {
        const struct tls_client_hello *ch = ev->data;
        jsonw_key(w, "event");
        jsonw_str(w, "client_hello");
        if (ch->sni.len) {
            jsonw_key(w, "sni");
            jsonw_strn(w, (const char *)ch->sni.ptr, ch->sni.len);
        }
        jsonw_key(w, "version");
        eve_version(w, ch->version);
        if (ch->alpn.len) {
            jsonw_key(w, "alpn");
            jsonw_array_begin(w);
            struct cursor c;
            cursor_init(&c, ch->alpn.ptr, ch->alpn.len);
            while (cursor_left(&c) > 0) {
                struct bytes p = cursor_take(&c, cursor_u8(&c));
                jsonw_strn(w, (const char *)p.ptr, p.len);
            }
            jsonw_array_end(w);
        }
        jsonw_key(w, "ja3");
        eve_hash(w, ch->ja3_hash, ch->ja3);
        jsonw_key(w, "ja4");
        jsonw_str(w, ch->ja4);
        jsonw_key(w, "cipher_count");
        jsonw_u64(w, ch->n_ciphers);
        jsonw_key(w, "extension_count");
        jsonw_u64(w, ch->n_extensions);
        if (ch->truncated) {
            jsonw_key(w, "truncated");
            jsonw_bool(w, true);
        }
        break;
    }
    case TLS_EVENT_SERVER_HELLO: {
        const struct tls_server_hello *sh = ev->data;
        jsonw_key(w, "event");
        jsonw_str(w, sh->hello_retry ? "hello_retry_request" : "server_hello");
        jsonw_key(w, "version");
        eve_version(w, sh->version);
        jsonw_key(w, "cipher_suite");
        const char *name = tls_cipher_name(sh->cipher_suite);
        char hex[8];
        if (!name) {
            snprintf(hex, sizeof(hex), "0x%04x", sh->cipher_suite);
            name = hex;
        }
        jsonw_str(w, name);
        if (sh->alpn.len) {
            jsonw_key(w, "alpn");
            jsonw_strn(w, (const char *)sh->alpn.ptr, sh->alpn.len);
        }
        jsonw_key(w, "ja3s");
        eve_hash(w, sh->ja3s_hash, sh->ja3s);
        break;
    }
    case TLS_EVENT_CERTIFICATE: {
        const struct tls_certificate *c = ev->data;
        jsonw_key(w, "event");
        jsonw_str(w, "certificate");
        jsonw_key(w, "subject");
        jsonw_strn(w, c->subject, strlen(c->subject));
        jsonw_key(w, "issuerdn");
        jsonw_strn(w, c->issuer, strlen(c->issuer));
        jsonw_key(w, "serial");
        jsonw_str(w, c->serial);
        jsonw_key(w, "notbefore");
        jsonw_str(w, c->not_before);
        jsonw_key(w, "notafter");
        jsonw_str(w, c->not_after);
        jsonw_key(w, "cert_count");
        jsonw_u64(w, c->n_certs);
        break;
    }
    default:
        break;
    }
}

const struct proto_parser tls_parser = {
    .name = "tls",
    .id = PROTO_TLS,
    .tcp = true,
    .udp = false,
    .ports = tls_ports,
    .probe = tls_probe,
    .state_len = sizeof(struct tls_state),
    .init = NULL,
    .parse = tls_parse,
    .gap = tls_gap,
    .end = tls_end,
    .eve = tls_eve,
};
