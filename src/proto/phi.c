// SPDX-License-Identifier: Apache-2.0
// Pseudonymisation of patient identifiers; see phi.h.
#include "proto/phi.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const class_names[] = {"name", "id", "birthdate", "address", "phone", "other"};

static void
phi_key_state(struct phi *p)
{
    crypto_auth_hmacsha256_init(&p->keyed, p->key, sizeof(p->key));
}

void
phi_init_test(struct phi *p, uint8_t fill)
{
    memset(p->key, fill, sizeof(p->key));
    p->clear = false;
    phi_key_state(p);
}

int
phi_load_key(struct phi *p, const char *path, struct errbuf *eb)
{
    p->clear = false;
    if (sodium_init() < 0)
        return err_set(eb, IASO_E_IO, "cannot initialise libsodium");
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0 && errno == ENOENT) {
        /* First run: make the site's secret. O_EXCL so two sensors starting at once agree. */
        uint8_t key[PHI_KEY_LEN];
        randombytes_buf(key, sizeof(key));
        int wfd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (wfd >= 0) {
            ssize_t n = write(wfd, key, sizeof(key));
            int wrc = n == (ssize_t)sizeof(key) && fsync(wfd) == 0 ? 0 : -errno;
            close(wfd);
            sodium_memzero(key, sizeof(key));
            if (wrc < 0 || n != (ssize_t)sizeof(key)) {
                unlink(path);
                return err_set(eb, wrc ? wrc : IASO_E_IO, "%s: cannot write the site key: %s", path,
                               strerror(wrc ? -wrc : EIO));
            }
        } else if (errno != EEXIST) {
            int e = errno;
            return err_set(eb, -e,
                           "%s: cannot create the site key: %s (choose a writable place with "
                           "--site-key)",
                           path, strerror(e));
        }
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    }
    if (fd < 0) {
        int e = errno;
        return err_set(eb, -e, "%s: cannot read the site key: %s", path, strerror(e));
    }
    struct stat st;
    int rc = 0;
    if (fstat(fd, &st) != 0) {
        rc = err_set(eb, -errno, "%s: cannot read the site key", path);
    } else if (!S_ISREG(st.st_mode) || st.st_size != PHI_KEY_LEN) {
        rc =
            err_set(eb, IASO_E_FORMAT, "%s: not a site key (%d bytes expected)", path, PHI_KEY_LEN);
    } else if (st.st_mode & 077) {
        rc = err_set(eb, IASO_E_PERM,
                     "%s: the site key is readable by others (mode %03o); chmod 600 it", path,
                     (unsigned)(st.st_mode & 0777));
    } else if (read(fd, p->key, PHI_KEY_LEN) != PHI_KEY_LEN) {
        rc = err_set(eb, IASO_E_IO, "%s: cannot read the site key", path);
    } else {
        phi_key_state(p);
    }
    close(fd);
    return rc;
}

/* Normalises into out: trims spaces and '^' at both ends, folds ASCII case for names. */
static size_t
normalise(enum phi_class cls, const char *v, size_t len, char *out, size_t out_len)
{
    while (len && (v[0] == ' ' || v[0] == '^'))
        v++, len--;
    while (len && (v[len - 1] == ' ' || v[len - 1] == '^'))
        len--;
    if (len > out_len)
        len = out_len;
    for (size_t i = 0; i < len; i++) {
        char c = v[i];
        if (cls == PHI_NAME && c >= 'a' && c <= 'z')
            c = (char)(c - 'a' + 'A');
        out[i] = c;
    }
    return len;
}

size_t
phi_pseudonymise(const struct phi *p, enum phi_class cls, const char *value, size_t len, char *out)
{
    char norm[1024];
    size_t n = normalise(cls, value, len, norm, sizeof(norm));
    if (n == 0) {
        out[0] = 0;
        return 0;
    }
    if (p->clear) {
        if (n > PHI_VALUE_MAX - 1)
            n = PHI_VALUE_MAX - 1;
        memcpy(out, norm, n);
        out[n] = 0;
        return n;
    }
    crypto_auth_hmacsha256_state st = p->keyed;
    uint8_t mac[crypto_auth_hmacsha256_BYTES];
    const char *cn = class_names[cls];
    crypto_auth_hmacsha256_update(&st, (const uint8_t *)cn, strlen(cn) + 1);
    crypto_auth_hmacsha256_update(&st, (const uint8_t *)norm, n);
    crypto_auth_hmacsha256_final(&st, mac);
    static const char hex[] = "0123456789abcdef";
    memcpy(out, "phi:", 4);
    for (int i = 0; i < 16; i++) {
        out[4 + 2 * i] = hex[mac[i] >> 4];
        out[5 + 2 * i] = hex[mac[i] & 15];
    }
    out[PHI_PSEUDONYM_LEN] = 0;
    return PHI_PSEUDONYM_LEN;
}
