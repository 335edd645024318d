// SPDX-License-Identifier: Apache-2.0
// Digests of the files the parsers see pass whole (HTTP bodies, SMB2 files): MD5, SHA-1 and
// SHA-256, whichever ctx->file_hashes asks for (PROTO_HASH_* in proto.h), so the detectors can
// match them against shared threat indicators.
//
// A parser makes a struct filehash when a file starts (never before, and only when asked), feeds
// it the file's bytes in order as they stream by (nothing is buffered), and, when it knows the
// file passed whole, writes the digests into its event with filehash_final(). What "whole" means
// is the parser's to say (http.h, smb2.h); whatever it cannot vouch for gets no digest.
//
// Memory: one block from proto_malloc (so counted against the memory cap) plus the digest
// contexts OpenSSL allocates itself, out of the accountant's sight: about 520 bytes for the three
// with OpenSSL 3.0. The block is made FILEHASH_EVP_LEN bytes per digest longer than it needs so
// the cap counts them too. Each parser holds a fixed, small number of these per flow (its header
// says how many). The first one made in a process also makes OpenSSL load its default provider
// (about 100 KB, once).
//
// Thread safety: a struct filehash belongs to one flow's parser state; different ones may be
// used from different threads at once.
#ifndef IASO_PROTO_FILEHASH_H
#define IASO_PROTO_FILEHASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/jsonw.h"

#define FILEHASH_MD5_HEX_LEN 32
#define FILEHASH_SHA1_HEX_LEN 40
#define FILEHASH_SHA256_HEX_LEN 64
/* What OpenSSL 3.0 allocates per digest context (measured: 516 bytes for all three), rounded
 * up; charged to the accountant with the struct. */
#define FILEHASH_EVP_LEN 256

/* The digests of one file that passed whole: the data of an event. */
struct filehash_digest {
    bool done;     /* set only for a whole, non-empty file; the rest is meaningless otherwise */
    uint64_t size; /* bytes hashed */
    /* Lower-case hex, NUL-terminated; "" for a digest not asked for (or refused by OpenSSL,
     * as MD5 is in FIPS mode). */
    char md5[FILEHASH_MD5_HEX_LEN + 1];
    char sha1[FILEHASH_SHA1_HEX_LEN + 1];
    char sha256[FILEHASH_SHA256_HEX_LEN + 1];
};

struct filehash;

/* A new hashing of the digests in mask (PROTO_HASH_* bits). NULL when mask asks for none, when
 * OpenSSL refuses them all, or when memory is refused: the file then gets no digest. */
struct filehash *filehash_new(uint8_t mask);

/* The next len bytes of the file. */
void filehash_update(struct filehash *h, const uint8_t *data, size_t len);

/* Ends the hashing and fills *out. An empty file (no byte fed) gets no digest (out->done false):
 * its digests are the same for every empty file and match nothing. h must be freed after. */
void filehash_final(struct filehash *h, struct filehash_digest *out);

/* Frees h (NULL is fine), finished or not. */
void filehash_free(struct filehash *h);

/* Writes "size":N and the digests computed as members of the current JSON object. */
void filehash_eve(const struct filehash_digest *d, struct jsonw *w);

#endif
