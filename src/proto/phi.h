// SPDX-License-Identifier: Apache-2.0
// Patient data stays home: every patient identifier (name, ID, birth date, address, phone, ...)
// that a parser meets is replaced by a keyed hash before it goes into an event. The same value
// gives the same pseudonym at one site, so one patient is recognisable across events, but without
// the site's secret nobody can tell who it is, or even test a guess.
//
// The pseudonym is "phi:" and the first 16 bytes of HMAC-SHA-256(site key, field class || 0x00 ||
// normalised value) in hex. The field class ("name", "id", "birthdate", "address", "phone",
// "other") keeps equal strings of different meaning apart. Names are normalised (case and the
// DICOM/HL7 component separators '^' and spaces at the ends) so "DOE^JOHN" and "Doe^John^^" match.
//
// An operator may opt in to clear values for local forensics (phi.clear); the sensor never sends
// events off the machine with it on.
#ifndef IASO_PROTO_PHI_H
#define IASO_PROTO_PHI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sodium.h>

#include "base/error.h"

#define PHI_KEY_LEN 32
#define PHI_PSEUDONYM_LEN 36 /* "phi:" + 32 hex digits */
#define PHI_VALUE_MAX 128    /* longest value written, pseudonym or (opted-in) clear text */

enum phi_class { PHI_NAME, PHI_ID, PHI_BIRTHDATE, PHI_ADDRESS, PHI_PHONE, PHI_OTHER };

struct phi {
    uint8_t key[PHI_KEY_LEN];
    bool clear; /* operator opted in to clear values: local forensics only */
    /* The HMAC state after the key went in, copied for each value: keying costs two SHA-256
     * blocks, which would otherwise be paid on every identifier. */
    crypto_auth_hmacsha256_state keyed;
};

/*
 * Loads the per-site secret from path, creating it (mode 0600, 32 random bytes from libsodium)
 * if it does not exist. Fails with a sentence if it cannot be read, created, or has the wrong
 * size or permissions open to others.
 */
int phi_load_key(struct phi *p, const char *path, struct errbuf *eb);

/* A fixed key, for tests and fuzzing. */
void phi_init_test(struct phi *p, uint8_t fill);

/*
 * Writes the pseudonym of value[0..len) (or, with p->clear, the value itself, cut to
 * PHI_VALUE_MAX - 1 bytes) and a NUL into out, which holds at least PHI_VALUE_MAX bytes.
 * Returns the length written. An empty value (after normalising) gives an empty string.
 */
size_t phi_pseudonymise(const struct phi *p, enum phi_class cls, const char *value, size_t len,
                        char *out);

#endif
