// SPDX-License-Identifier: Apache-2.0
// File digests through OpenSSL's EVP interface (see filehash.h).
#include "proto/filehash.h"

#include <openssl/evp.h>
#include <string.h>

#include "proto/proto.h"

enum { FH_MD5 = 0, FH_SHA1, FH_SHA256, FH_N };

struct filehash {
    EVP_MD_CTX *md[FH_N]; /* owned; NULL for a digest not computed */
    uint64_t len;
    bool failed; /* OpenSSL failed an update: no digest */
};

static const EVP_MD *
fh_md(int i)
{
    switch (i) {
    case FH_MD5:
        return EVP_md5();
    case FH_SHA1:
        return EVP_sha1();
    default:
        return EVP_sha256();
    }
}

struct filehash *
filehash_new(uint8_t mask)
{
    static const uint8_t bits[FH_N] = {PROTO_HASH_MD5, PROTO_HASH_SHA1, PROTO_HASH_SHA256};
    size_t n = 0;
    for (int i = 0; i < FH_N; i++)
        n += (mask & bits[i]) != 0;
    if (n == 0)
        return NULL;
    /* The tail past the struct is never used: it stands for OpenSSL's contexts (filehash.h). */
    struct filehash *h = proto_calloc(1, sizeof(*h) + n * FILEHASH_EVP_LEN);
    if (!h)
        return NULL;
    size_t n_ok = 0;
    for (int i = 0; i < FH_N; i++) {
        if (!(mask & bits[i]))
            continue;
        h->md[i] = EVP_MD_CTX_new();
        if (h->md[i] && EVP_DigestInit_ex(h->md[i], fh_md(i), NULL) == 1) {
            n_ok++;
            continue;
        }
        /* Refused (no memory, or MD5 under FIPS): the other digests go on without it. */
        EVP_MD_CTX_free(h->md[i]);
        h->md[i] = NULL;
    }
    if (n_ok == 0) {
        filehash_free(h);
        return NULL;
    }
    return h;
}

void
filehash_update(struct filehash *h, const uint8_t *data, size_t len)
{
    if (len == 0 || h->failed)
        return;
    h->len += len;
    for (int i = 0; i < FH_N; i++)
        if (h->md[i] && EVP_DigestUpdate(h->md[i], data, len) != 1)
            h->failed = true;
}

static void
hex(const uint8_t *b, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[b[i] >> 4];
        out[2 * i + 1] = digits[b[i] & 15];
    }
    out[2 * n] = '\0';
}

void
filehash_final(struct filehash *h, struct filehash_digest *out)
{
    memset(out, 0, sizeof(*out));
    if (h->failed || h->len == 0)
        return;
    char *const dst[FH_N] = {out->md5, out->sha1, out->sha256};
    static const unsigned lens[FH_N] = {FILEHASH_MD5_HEX_LEN / 2, FILEHASH_SHA1_HEX_LEN / 2,
                                        FILEHASH_SHA256_HEX_LEN / 2};
    for (int i = 0; i < FH_N; i++) {
        uint8_t md[EVP_MAX_MD_SIZE];
        unsigned n = 0;
        if (!h->md[i])
            continue;
        if (EVP_DigestFinal_ex(h->md[i], md, &n) != 1 || n != lens[i]) {
            memset(out, 0, sizeof(*out));
            return;
        }
        hex(md, n, dst[i]);
    }
    out->size = h->len;
    out->done = true;
}

void
filehash_free(struct filehash *h)
{
    if (!h)
        return;
    for (int i = 0; i < FH_N; i++)
        EVP_MD_CTX_free(h->md[i]);
    proto_free(h);
}

void
filehash_eve(const struct filehash_digest *d, struct jsonw *w)
{
    jsonw_key(w, "size");
    jsonw_u64(w, d->size);
    if (d->md5[0]) {
        jsonw_key(w, "md5");
        jsonw_strn(w, d->md5, FILEHASH_MD5_HEX_LEN);
    }
    if (d->sha1[0]) {
        jsonw_key(w, "sha1");
        jsonw_strn(w, d->sha1, FILEHASH_SHA1_HEX_LEN);
    }
    if (d->sha256[0]) {
        jsonw_key(w, "sha256");
        jsonw_strn(w, d->sha256, FILEHASH_SHA256_HEX_LEN);
    }
}
