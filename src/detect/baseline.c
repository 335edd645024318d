// SPDX-License-Identifier: Apache-2.0
// The baseline of who talks to whom; see baseline.h, and docs/baseline.md for the file.
//
// Pairs live in one open-addressing hash table of pointers (linear probing, at most half full,
// backward-shift deletion), each pair one heap block holding its addresses and its strings one
// after the other. A pair's kind, addresses and strings never change once it is made; its state,
// counters, alert bits and note do, under the mutex (the note only in editing and in merges,
// which hold the save mutex too). A pair is freed only by a merge or an edit, both of which hold
// the save mutex, so a save may read the pairs it copied without the table mutex.
#include "detect/baseline.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <xxhash.h>

#include "base/parse.h"
#include "base/timefmt.h"
#include "proto/dicom.h"
#include "proto/hl7.h"
#include "proto/rdp.h"
#include "proto/smb2.h"
#include "wire/decode.h"

#define BL_FIELDS_MAX 6  /* hl7 */
#define BL_STRS_MAX 4    /* names of one pair (hl7) */
#define BL_TOKENS_MAX 16 /* tokens of one line: state, kind, 6 fields, 4 attributes, slack */
#define BL_SLOTS_MIN 64

/* Bits of bl_pair.alerted: what was raised for the pair in this run. */
#define ALERTED_NEW 1u
#define ALERTED_UPDATE 2u /* BASE_HL7_NEW_PATIENT_UPDATE */

struct kind_def {
    const char *name;
    const char *schema; /* one letter a field, in file order: 'h' an address, 's' a name */
    const char *usage;
    const char *const *keys; /* evidence member names, one a field */
    enum rule_id rule;
};

static const char *const dicom_keys[] = {"client", "calling_ae", "server", "called_ae"};
static const char *const move_keys[] = {"server", "move_destination"};
static const char *const hl7_keys[] = {
    "sender",   "sending_application",   "sending_facility",
    "receiver", "receiving_application", "receiving_facility",
};
static const char *const rdp_keys[] = {"client", "server"};
static const char *const smb_keys[] = {"client", "server", "share"};

static const struct kind_def kinds[BASELINE_KIND_COUNT] = {
    [BASELINE_DICOM] = {"dicom", "hshs", "CLIENT CALLING_AE SERVER CALLED_AE", dicom_keys,
                        RULE_BASE_DICOM_NEW},
    [BASELINE_DICOM_MOVE] = {"dicom-move", "hs", "SERVER DESTINATION_AE", move_keys,
                             RULE_DICOM_MOVE_NEW_DEST},
    [BASELINE_HL7] = {"hl7", "hsshss",
                      "SENDER SENDING_APP SENDING_FACILITY RECEIVER RECEIVING_APP "
                      "RECEIVING_FACILITY",
                      hl7_keys, RULE_BASE_HL7_NEW},
    [BASELINE_RDP] = {"rdp", "hh", "CLIENT SERVER", rdp_keys, RULE_BASE_RDP_NEW},
    [BASELINE_SMB] = {"smb", "hhs", "CLIENT SERVER SHARE", smb_keys, RULE_BASE_SMB_NEW},
};

static const char *const state_names[] = {"learned", "accepted", "pending", "removed"};

/* A pair's identity. The strings are borrowed (from an event, a line, or the pair itself). */
struct bl_key {
    uint8_t kind;
    uint8_t ver[2]; /* IP versions of the addresses used; 0 for one the kind does not have */
    uint8_t len[BL_STRS_MAX];
    struct ipaddr host[2];
    const char *str[BL_STRS_MAX];
};

struct bl_pair {
    uint64_t hash;
    uint64_t first_us, last_us, n; /* 0: not known (a pair added by hand, not seen yet) */
    char *note;                    /* owned, NUL-terminated; NULL: none */
    uint8_t kind, state;
    uint8_t alerted; /* ALERTED_* raised in this run */
    bool dirty;      /* state or note set by this process since the file was last written */
    uint8_t ver[2];
    uint8_t len[BL_STRS_MAX];
    struct ipaddr host[2];
    char str[]; /* the strings, one after the other, without NULs */
};

static const size_t slot_len = sizeof(struct bl_pair *); // NOLINT(bugprone-sizeof-expression)

struct file_id {
    bool valid;
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime;
};

struct baseline {
    struct baseline_config cfg;
    pthread_mutex_t mu;      /* everything below but file and file_learn* */
    pthread_mutex_t save_mu; /* one save, format or merge at a time */
    struct bl_pair **slots;  /* owned: n_slots (a power of two), at most half full */
    size_t n_slots, n_pairs;
    uint64_t str_bytes, note_bytes;
    uint64_t n_kind[BASELINE_KIND_COUNT], n_pending, n_removed;
    uint64_t n_dropped, n_alerts, n_merges;
    enum baseline_learn learn;
    uint64_t learn_until_us;
    /* The file as this process last read or wrote it (under save_mu): a save merges the file
     * when it is another, and takes its learning line when that differs from this one. */
    struct file_id file;
    enum baseline_learn file_learn;
    uint64_t file_learn_until_us;
};

const char *
baseline_kind_name(enum baseline_kind k)
{
    return (unsigned)k < BASELINE_KIND_COUNT ? kinds[k].name : "?";
}

const char *
baseline_state_name(enum baseline_state s)
{
    return (unsigned)s <= BASELINE_REMOVED ? state_names[s] : "?";
}

const char *
baseline_kind_usage(enum baseline_kind k)
{
    return (unsigned)k < BASELINE_KIND_COUNT ? kinds[k].usage : "";
}

/* ---- keys and pairs ---- */

static void
pair_key(const struct bl_pair *p, struct bl_key *k)
{
    k->kind = p->kind;
    memcpy(k->ver, p->ver, sizeof(k->ver));
    memcpy(k->len, p->len, sizeof(k->len));
    memcpy(k->host, p->host, sizeof(k->host));
    const char *s = p->str;
    for (int i = 0; i < BL_STRS_MAX; i++) {
        k->str[i] = s;
        s += p->len[i];
    }
}

static uint64_t
key_hash(const struct bl_key *k)
{
    uint8_t tmp[3 + BL_STRS_MAX + sizeof(k->host) + (size_t)BL_STRS_MAX * BASELINE_FIELD_MAX];
    size_t n = 0;
    tmp[n++] = k->kind;
    tmp[n++] = k->ver[0];
    tmp[n++] = k->ver[1];
    memcpy(tmp + n, k->len, sizeof(k->len));
    n += sizeof(k->len);
    memcpy(tmp + n, k->host, sizeof(k->host));
    n += sizeof(k->host);
    for (int i = 0; i < BL_STRS_MAX; i++) {
        if (k->len[i])
            memcpy(tmp + n, k->str[i], k->len[i]);
        n += k->len[i];
    }
    return XXH3_64bits(tmp, n);
}

static int
host_cmp(uint8_t va, const struct ipaddr *a, uint8_t vb, const struct ipaddr *b)
{
    if (va != vb)
        return va < vb ? -1 : 1;
    return memcmp(a->b, b->b, sizeof(a->b));
}

/* The order of the file: kind, then the fields in file order (addresses by version and bytes,
 * names by bytes, a prefix first). */
static int
key_cmp(const struct bl_key *a, const struct bl_key *b)
{
    if (a->kind != b->kind)
        return a->kind < b->kind ? -1 : 1;
    int h = 0, s = 0;
    for (const char *f = kinds[a->kind].schema; *f; f++) {
        int c;
        if (*f == 'h') {
            c = host_cmp(a->ver[h], &a->host[h], b->ver[h], &b->host[h]);
            h++;
        } else {
            size_t n = a->len[s] < b->len[s] ? a->len[s] : b->len[s];
            c = n ? memcmp(a->str[s], b->str[s], n) : 0;
            if (c == 0 && a->len[s] != b->len[s])
                c = a->len[s] < b->len[s] ? -1 : 1;
            s++;
        }
        if (c)
            return c;
    }
    return 0;
}

static bool
pair_matches(const struct bl_pair *p, const struct bl_key *k)
{
    struct bl_key pk;
    pair_key(p, &pk);
    return key_cmp(&pk, k) == 0;
}

static size_t
pair_size(const struct bl_pair *p)
{
    size_t n = sizeof(*p);
    for (int i = 0; i < BL_STRS_MAX; i++)
        n += p->len[i];
    return n;
}

static struct bl_pair *
pair_new(const struct bl_key *k, uint64_t hash)
{
    size_t n = 0;
    for (int i = 0; i < BL_STRS_MAX; i++)
        n += k->len[i];
    struct bl_pair *p = calloc(1, sizeof(*p) + n);
    if (!p)
        return NULL;
    p->hash = hash;
    p->kind = k->kind;
    memcpy(p->ver, k->ver, sizeof(p->ver));
    memcpy(p->len, k->len, sizeof(p->len));
    memcpy(p->host, k->host, sizeof(p->host));
    char *s = p->str;
    for (int i = 0; i < BL_STRS_MAX; i++) {
        if (k->len[i])
            memcpy(s, k->str[i], k->len[i]);
        s += k->len[i];
    }
    return p;
}

/* ---- the table (callers hold mu, or own the baseline alone) ---- */

static size_t
table_find(const struct baseline *b, const struct bl_key *k, uint64_t hash, bool *found)
{
    size_t mask = b->n_slots - 1;
    for (size_t i = hash & mask;; i = (i + 1) & mask) {
        const struct bl_pair *p = b->slots[i];
        if (!p) {
            *found = false;
            return i;
        }
        if (p->hash == hash && pair_matches(p, k)) {
            *found = true;
            return i;
        }
    }
}

static int
table_grow(struct baseline *b)
{
    size_t n = b->n_slots * 2;
    struct bl_pair **slots = calloc(n, slot_len);
    if (!slots)
        return IASO_E_NOMEM;
    for (size_t i = 0; i < b->n_slots; i++) {
        struct bl_pair *p = b->slots[i];
        if (!p)
            continue;
        size_t j = p->hash & (n - 1);
        while (slots[j])
            j = (j + 1) & (n - 1);
        slots[j] = p;
    }
    free(b->slots);
    b->slots = slots;
    b->n_slots = n;
    return 0;
}

static void
count_state(struct baseline *b, uint8_t state, int delta)
{
    if (state == BASELINE_PENDING)
        b->n_pending += (uint64_t)(int64_t)delta;
    else if (state == BASELINE_REMOVED)
        b->n_removed += (uint64_t)(int64_t)delta;
}

static void
set_state(struct baseline *b, struct bl_pair *p, uint8_t state)
{
    count_state(b, p->state, -1);
    p->state = state;
    count_state(b, state, +1);
}

/* Adds a pair known to be absent, at slot i from table_find. IASO_E_LIMIT past pairs_max. */
static int
table_insert(struct baseline *b, size_t i, const struct bl_key *k, uint64_t hash, uint8_t state,
             struct bl_pair **out)
{
    if (b->n_pairs >= b->cfg.pairs_max)
        return IASO_E_LIMIT;
    if ((b->n_pairs + 1) * 2 > b->n_slots) {
        int rc = table_grow(b);
        if (rc < 0)
            return rc;
        bool found;
        i = table_find(b, k, hash, &found);
    }
    struct bl_pair *p = pair_new(k, hash);
    if (!p)
        return IASO_E_NOMEM;
    p->state = state;
    count_state(b, state, +1);
    b->slots[i] = p;
    b->n_pairs++;
    b->n_kind[p->kind]++;
    b->str_bytes += pair_size(p);
    *out = p;
    return 0;
}

static void
pair_set_note(struct baseline *b, struct bl_pair *p, char *note)
{
    if (p->note)
        b->note_bytes -= strlen(p->note) + 1;
    free(p->note);
    p->note = note;
    if (note)
        b->note_bytes += strlen(note) + 1;
}

/* Removes and frees the pair at slot i, shifting the entries after it back into the hole so
 * that every entry stays reachable from its home slot. */
static void
table_delete(struct baseline *b, size_t i)
{
    struct bl_pair *p = b->slots[i];
    count_state(b, p->state, -1);
    b->n_pairs--;
    b->n_kind[p->kind]--;
    b->str_bytes -= pair_size(p);
    pair_set_note(b, p, NULL);
    free(p);
    b->slots[i] = NULL;
    size_t mask = b->n_slots - 1;
    for (size_t j = (i + 1) & mask; b->slots[j]; j = (j + 1) & mask) {
        size_t home = b->slots[j]->hash & mask;
        bool stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
        if (!stays) {
            b->slots[i] = b->slots[j];
            b->slots[j] = NULL;
            i = j;
        }
    }
}

/* ---- life cycle ---- */

static struct baseline *
baseline_new(const struct baseline_config *c)
{
    struct baseline *b = calloc(1, sizeof(*b));
    if (!b)
        return NULL;
    b->cfg = *c;
    if (b->cfg.pairs_max == 0)
        b->cfg.pairs_max = BASELINE_PAIRS_MAX_DEFAULT;
    b->n_slots = BL_SLOTS_MIN;
    b->slots = calloc(b->n_slots, slot_len);
    if (!b->slots) {
        free(b);
        return NULL;
    }
    pthread_mutex_init(&b->mu, NULL);
    pthread_mutex_init(&b->save_mu, NULL);
    b->learn = BASELINE_LEARN_AUTO;
    b->file_learn = BASELINE_LEARN_AUTO;
    return b;
}

void
baseline_free(struct baseline *b)
{
    if (!b)
        return;
    for (size_t i = 0; i < b->n_slots; i++) {
        if (b->slots[i]) {
            free(b->slots[i]->note);
            free(b->slots[i]);
        }
    }
    free(b->slots);
    pthread_mutex_destroy(&b->mu);
    pthread_mutex_destroy(&b->save_mu);
    free(b);
}

/* ---- text: times, escapes, addresses ---- */

#define TIME_LEN TIMEFMT_UTC_LEN         /* "2026-11-23T10:00:00Z" */
#define TIME_SECONDS_MAX 253402300799ull /* 9999-12-31T23:59:59Z */

/* Whole seconds: the file keeps no more, so a save, load and save give the same bytes. */
static void
time_format(uint64_t ts_us, char out[TIME_LEN + 1])
{
    timefmt_utc(ts_us, out, TIME_LEN + 1);
}

static int
num(const char *s, size_t len, unsigned *out)
{
    unsigned v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    *out = v;
    return 0;
}

/* A time as the file keeps it: whole seconds, at most TIME_SECONDS_MAX. */
static uint64_t
time_in_file(uint64_t ts_us)
{
    uint64_t s = ts_us / 1000000;
    return (s > TIME_SECONDS_MAX ? TIME_SECONDS_MAX : s) * 1000000;
}

/* Exactly "YYYY-MM-DDTHH:MM:SSZ", a real date, 1970 to 9999. */
static int
time_parse(const char *s, size_t len, uint64_t *out)
{
    unsigned y, mo, d, h, mi, se;
    if (len != TIME_LEN || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' ||
        s[16] != ':' || s[19] != 'Z' || num(s, 4, &y) || num(s + 5, 2, &mo) || num(s + 8, 2, &d) ||
        num(s + 11, 2, &h) || num(s + 14, 2, &mi) || num(s + 17, 2, &se))
        return -1;
    static const unsigned mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] ||
        (mo == 2 && d == 29 && !leap) || h > 23 || mi > 59 || se > 59)
        return -1;
    int64_t days = timefmt_days_from_civil(y, mo, d);
    *out = ((uint64_t)days * 86400 + (uint64_t)h * 3600 + (uint64_t)mi * 60 + se) * 1000000;
    return 0;
}

/* Printable ASCII but the backslash as it is, every other byte as \xHH. A field that is empty
 * is "-", and a field that is "-" is "\x2d". */
static int
put_escaped(struct buf *out, const char *s, size_t len, bool field)
{
    if (field && len == 0)
        return buf_append_char(out, '-');
    if (field && len == 1 && s[0] == '-')
        return buf_append_str(out, "\\x2d");
    static const char hex[] = "0123456789abcdef";
    int rc = 0;
    size_t run = 0; /* start of the bytes that need no escape */
    for (size_t i = 0; i < len && rc == 0; i++) {
        uint8_t c = (uint8_t)s[i];
        if (c >= 0x20 && c < 0x7f && c != '\\')
            continue;
        char esc[4] = {'\\', 'x', hex[c >> 4], hex[c & 15]};
        rc = buf_append(out, s + run, i - run);
        if (rc == 0)
            rc = buf_append(out, esc, 4);
        run = i + 1;
    }
    return rc ? rc : buf_append(out, s + run, len - run);
}

static int
hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* The reverse of put_escaped into out (at most `max` bytes). Bytes 0x80 and up are taken as
 * they are (a name typed by hand in UTF-8); control bytes and other backslashes are errors. */
static int
unescape(const char *s, size_t len, bool field, char *out, size_t max, size_t *out_len,
         const char **why)
{
    size_t n = 0;
    if (field && len == 1 && s[0] == '-') {
        *out_len = 0;
        return 0;
    }
    for (size_t i = 0; i < len; i++) {
        uint8_t c = (uint8_t)s[i];
        if (c == '\\') {
            int hi = i + 3 < len && s[i + 1] == 'x' ? hexval(s[i + 2]) : -1;
            int lo = hi >= 0 ? hexval(s[i + 3]) : -1;
            if (lo < 0) {
                *why = "a backslash must start an escape \\xHH";
                return IASO_E_FORMAT;
            }
            c = (uint8_t)(hi << 4 | lo);
            i += 3;
        } else if (c < 0x20 || c == 0x7f) {
            *why = "a control byte (write it as \\xHH)";
            return IASO_E_FORMAT;
        }
        if (n == max) {
            *why = "a value longer than 255 bytes";
            return IASO_E_RANGE;
        }
        out[n++] = (char)c;
    }
    *out_len = n;
    return 0;
}

static int
host_parse(const char *s, size_t len, struct ipaddr *ip, uint8_t *ver)
{
    char tmp[INET6_ADDRSTRLEN + 1];
    if (len == 0 || len >= sizeof(tmp))
        return -1;
    memcpy(tmp, s, len);
    tmp[len] = '\0';
    memset(ip, 0, sizeof(*ip));
    if (inet_pton(AF_INET, tmp, ip->b) == 1) {
        *ver = 4;
        return 0;
    }
    if (inet_pton(AF_INET6, tmp, ip->b) == 1) {
        *ver = 6;
        return 0;
    }
    return -1;
}

/* A value from the file or the command line, made safe to quote in an error: at most 40
 * printable bytes. */
static const char *
quote(const char *s, size_t len, char out[48])
{
    size_t n = 0;
    for (size_t i = 0; i < len && n < 40; i++)
        out[n++] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
    if (len > 40) {
        memcpy(out + n, "...", 3);
        n += 3;
    }
    out[n] = '\0';
    return out;
}

static void
upcase(char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (s[i] >= 'a' && s[i] <= 'z')
            s[i] = (char)(s[i] - 'a' + 'A');
}

static int
kind_from_name(const char *s, size_t len)
{
    for (int k = 0; k < BASELINE_KIND_COUNT; k++)
        if (strlen(kinds[k].name) == len && memcmp(kinds[k].name, s, len) == 0)
            return k;
    return -1;
}

struct tok {
    const char *s;
    size_t len;
};

/* A key from a kind's fields as written (file or command line); the strings go to store. */
static int
key_from_tokens(int kind, const struct tok *t, size_t n_t, struct bl_key *k,
                char store[BL_STRS_MAX][BASELINE_FIELD_MAX], char *why, size_t why_len)
{
    const char *schema = kinds[kind].schema;
    if (n_t != strlen(schema)) {
        snprintf(why, why_len, "%s takes %zu fields (%s), not %zu", kinds[kind].name,
                 strlen(schema), kinds[kind].usage, n_t);
        return IASO_E_INVAL;
    }
    memset(k, 0, sizeof(*k));
    k->kind = (uint8_t)kind;
    int h = 0, s = 0;
    for (size_t i = 0; i < n_t; i++) {
        char q[48];
        if (schema[i] == 'h') {
            if (host_parse(t[i].s, t[i].len, &k->host[h], &k->ver[h]) < 0) {
                snprintf(why, why_len, "field %zu (%s): '%s' is not an IPv4 or IPv6 address", i + 1,
                         kinds[kind].keys[i], quote(t[i].s, t[i].len, q));
                return IASO_E_INVAL;
            }
            h++;
            continue;
        }
        size_t len;
        const char *reason = "";
        if (unescape(t[i].s, t[i].len, true, store[s], BASELINE_FIELD_MAX, &len, &reason) < 0) {
            snprintf(why, why_len, "field %zu (%s): %s", i + 1, kinds[kind].keys[i], reason);
            return IASO_E_INVAL;
        }
        if (kind == BASELINE_SMB)
            upcase(store[s], len); /* share names are case-insensitive */
        k->str[s] = store[s];
        k->len[s] = (uint8_t)len;
        s++;
    }
    for (; s < BL_STRS_MAX; s++)
        k->str[s] = "";
    return 0;
}

/* ---- reading ---- */

struct reader {
    struct baseline *b;
    const char *name;
    size_t line;
    bool has_format, has_learning;
    struct errbuf *eb;
};

static int
line_error(struct reader *r, int code, const char *what)
{
    return err_set(r->eb, code, "%s: line %zu: %s", r->name, r->line, what);
}

static bool
tok_is(const struct tok *t, const char *s)
{
    return t->len == strlen(s) && memcmp(t->s, s, t->len) == 0;
}

static int
read_learning(struct reader *r, const struct tok *t)
{
    if (r->has_learning)
        return line_error(r, IASO_E_FORMAT, "a second learning line");
    r->has_learning = true;
    if (tok_is(t, "auto")) {
        r->b->learn = BASELINE_LEARN_AUTO;
    } else if (tok_is(t, "done")) {
        r->b->learn = BASELINE_LEARN_DONE;
    } else if (t->len > 6 && memcmp(t->s, "until=", 6) == 0 &&
               time_parse(t->s + 6, t->len - 6, &r->b->learn_until_us) == 0) {
        r->b->learn = BASELINE_LEARN_UNTIL;
    } else {
        return line_error(r, IASO_E_FORMAT,
                          "learning takes auto, done or until=YYYY-MM-DDTHH:MM:SSZ");
    }
    return 0;
}

/* first=, last=, n= and note= after a pair's fields, each at most once. */
static int
read_attributes(struct reader *r, const struct tok *t, size_t n_t, struct bl_pair *p)
{
    bool seen[4] = {false, false, false, false};
    for (size_t i = 0; i < n_t; i++) {
        static const char *const names[] = {"first=", "last=", "n=", "note="};
        int a = -1;
        for (int j = 0; j < 4; j++)
            if (t[i].len >= strlen(names[j]) && memcmp(t[i].s, names[j], strlen(names[j])) == 0)
                a = j;
        char q[48], msg[160];
        if (a < 0) {
            snprintf(msg, sizeof(msg),
                     "'%s' is not first=, last=, n= or note=", quote(t[i].s, t[i].len, q));
            return line_error(r, IASO_E_FORMAT, msg);
        }
        if (seen[a])
            return line_error(r, IASO_E_FORMAT, "an attribute given twice");
        seen[a] = true;
        const char *v = t[i].s + strlen(names[a]);
        size_t len = t[i].len - strlen(names[a]);
        if (a <= 1) {
            if (time_parse(v, len, a == 0 ? &p->first_us : &p->last_us) < 0)
                return line_error(r, IASO_E_FORMAT,
                                  "a time must be YYYY-MM-DDTHH:MM:SSZ (UTC, 1970 to 9999)");
        } else if (a == 2) {
            int64_t n;
            if (parse_i64(v, len, 0, INT64_MAX, &n) < 0)
                return line_error(r, IASO_E_FORMAT, "n= takes a count");
            p->n = (uint64_t)n;
        } else {
            char note[BASELINE_NOTE_MAX];
            size_t note_len;
            const char *why = "";
            if (unescape(v, len, false, note, sizeof(note), &note_len, &why) < 0)
                return line_error(r, IASO_E_FORMAT, why);
            if (note_len == 0)
                continue;
            char *copy = malloc(note_len + 1);
            if (!copy)
                return line_error(r, IASO_E_NOMEM, "out of memory");
            memcpy(copy, note, note_len);
            copy[note_len] = '\0';
            pair_set_note(r->b, p, copy);
        }
    }
    return 0;
}

static int
read_line(struct reader *r, const char *s, size_t len)
{
    if (len > 0 && s[len - 1] == '\r') /* written on Windows */
        len--;
    if (len == 0 || s[0] == '#')
        return 0;
    if (memchr(s, '\0', len))
        return line_error(r, IASO_E_FORMAT, "a NUL byte");
    struct tok t[BL_TOKENS_MAX];
    size_t n_t = 0;
    for (size_t start = 0;;) {
        const char *tab = memchr(s + start, '\t', len - start);
        size_t end = tab ? (size_t)(tab - s) : len;
        if (n_t == BL_TOKENS_MAX)
            return line_error(r, IASO_E_FORMAT, "too many tab-separated fields");
        t[n_t].s = s + start;
        t[n_t].len = end - start;
        n_t++;
        if (!tab)
            break;
        start = end + 1;
    }
    char q[48], msg[200];
    if (tok_is(&t[0], "format")) {
        if (r->has_format)
            return line_error(r, IASO_E_FORMAT, "a second format line");
        if (n_t != 2 || !tok_is(&t[1], "1")) {
            snprintf(msg, sizeof(msg), "format '%s' is not one this iaso reads (format 1)",
                     n_t > 1 ? quote(t[1].s, t[1].len, q) : "");
            return line_error(r, IASO_E_UNSUPPORTED, msg);
        }
        r->has_format = true;
        return 0;
    }
    if (!r->has_format)
        return line_error(r, IASO_E_FORMAT,
                          "expected 'format<TAB>1' before anything else (not a baseline file?)");
    if (tok_is(&t[0], "learning")) {
        if (n_t != 2)
            return line_error(r, IASO_E_FORMAT, "learning takes one value");
        return read_learning(r, &t[1]);
    }
    int state = -1;
    for (int i = 0; i <= BASELINE_REMOVED; i++)
        if (tok_is(&t[0], state_names[i]))
            state = i;
    if (state < 0) {
        snprintf(msg, sizeof(msg),
                 "'%s' is not a state (learned, accepted, pending, removed) or a keyword "
                 "(format, learning); are the fields separated by tabs?",
                 quote(t[0].s, t[0].len, q));
        return line_error(r, IASO_E_FORMAT, msg);
    }
    int kind = n_t > 1 ? kind_from_name(t[1].s, t[1].len) : -1;
    if (kind < 0) {
        snprintf(msg, sizeof(msg), "'%s' is not a kind (dicom, dicom-move, hl7, rdp, smb)",
                 n_t > 1 ? quote(t[1].s, t[1].len, q) : "");
        return line_error(r, IASO_E_FORMAT, msg);
    }
    size_t n_fields = strlen(kinds[kind].schema);
    if (n_t < 2 + n_fields) {
        snprintf(msg, sizeof(msg), "%s takes %zu fields (%s), this line has %zu", kinds[kind].name,
                 n_fields, kinds[kind].usage, n_t - 2);
        return line_error(r, IASO_E_FORMAT, msg);
    }
    struct bl_key k;
    char store[BL_STRS_MAX][BASELINE_FIELD_MAX];
    if (key_from_tokens(kind, t + 2, n_fields, &k, store, msg, sizeof(msg)) < 0)
        return line_error(r, IASO_E_FORMAT, msg);
    uint64_t hash = key_hash(&k);
    bool found;
    size_t i = table_find(r->b, &k, hash, &found);
    if (found)
        return line_error(r, IASO_E_FORMAT, "the same pair as an earlier line");
    struct bl_pair *p;
    int rc = table_insert(r->b, i, &k, hash, (uint8_t)state, &p);
    if (rc == IASO_E_LIMIT) {
        snprintf(msg, sizeof(msg), "more than %u pairs (raise the baseline's cap)",
                 (unsigned)r->b->cfg.pairs_max);
        return line_error(r, rc, msg);
    }
    if (rc < 0)
        return line_error(r, rc, iaso_strerror(rc));
    return read_attributes(r, t + 2 + n_fields, n_t - 2 - n_fields, p);
}

/* Reads the complete lines of data; returns the bytes consumed (up to the last newline, or all
 * of it when `last`), or a negative code. */
static int64_t
read_lines(struct reader *r, const char *data, size_t len, bool last)
{
    size_t off = 0;
    while (off < len) {
        const char *nl = memchr(data + off, '\n', len - off);
        if (!nl && !last)
            break;
        size_t end = nl ? (size_t)(nl - data) : len;
        r->line++;
        if (end - off > BASELINE_LINE_MAX)
            return line_error(r, IASO_E_FORMAT, "a line longer than 8192 bytes");
        int rc = read_line(r, data + off, end - off);
        if (rc < 0)
            return rc;
        off = nl ? end + 1 : len;
    }
    if (!last && len - off > BASELINE_LINE_MAX) {
        r->line++;
        return line_error(r, IASO_E_FORMAT, "a line longer than 8192 bytes");
    }
    return (int64_t)off;
}

static int
read_end(struct reader *r)
{
    if (!r->has_format)
        return err_set(r->eb, IASO_E_FORMAT,
                       "%s: not a baseline file (no 'format<TAB>1' line); remove it to start "
                       "learning anew",
                       r->name);
    if (!r->has_learning)
        r->b->learn = BASELINE_LEARN_DONE; /* written by hand: it is what the operator wants */
    r->b->file_learn = r->b->learn;
    r->b->file_learn_until_us = r->b->learn == BASELINE_LEARN_UNTIL ? r->b->learn_until_us : 0;
    return 0;
}

/* Reads an open file into b (empty, owned by the caller) in pieces, so a file of any size needs
 * at most a line and a piece of memory. */
static int
read_fd(struct baseline *b, int fd, const char *name, struct errbuf *eb)
{
    struct reader r = {.b = b, .name = name, .eb = eb};
    struct buf in;
    buf_init(&in, BASELINE_LINE_MAX + 2 * 65536);
    int rc = 0;
    for (;;) {
        rc = buf_reserve(&in, 65536);
        if (rc < 0) {
            rc = err_set(eb, rc, "%s: %s", name, iaso_strerror(rc));
            break;
        }
        ssize_t n = read(fd, in.ptr + in.len, 65536);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = err_set(eb, -errno, "%s: cannot read: %s", name, strerror(errno));
            break;
        }
        in.len += (size_t)n;
        int64_t used = read_lines(&r, (const char *)in.ptr, in.len, n == 0);
        if (used < 0) {
            rc = (int)used;
            break;
        }
        buf_consume(&in, (size_t)used);
        if (n == 0) {
            rc = read_end(&r);
            break;
        }
    }
    buf_release(&in);
    return rc;
}

static void
file_id_of(const struct stat *st, struct file_id *id)
{
    id->valid = true;
    id->dev = st->st_dev;
    id->ino = st->st_ino;
    id->size = st->st_size;
    id->mtime = st->st_mtim;
}

static bool
file_id_eq(const struct file_id *a, const struct file_id *b)
{
    return a->valid && b->valid && a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
           a->mtime.tv_sec == b->mtime.tv_sec && a->mtime.tv_nsec == b->mtime.tv_nsec;
}

/* Loads path into b. 0, IASO_E_NOTFOUND when there is no file, or another code. */
static int
load(struct baseline *b, const char *path, struct file_id *id, struct errbuf *eb)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT)
        return IASO_E_NOTFOUND;
    if (fd < 0)
        return err_set(eb, -errno, "%s: cannot open the baseline: %s", path, strerror(errno));
    struct stat st;
    int rc = 0;
    if (fstat(fd, &st) != 0)
        rc = err_set(eb, -errno, "%s: %s", path, strerror(errno));
    else if (!S_ISREG(st.st_mode))
        rc = err_set(eb, IASO_E_INVAL, "%s: not a regular file", path);
    if (rc == 0)
        file_id_of(&st, id);
    if (rc == 0)
        rc = read_fd(b, fd, path, eb);
    close(fd);
    return rc;
}

/* Drops the tombstones of a freshly read baseline that does not keep them. */
static void
drop_removed(struct baseline *b)
{
    if (b->cfg.keep_removed)
        return;
    for (size_t i = 0; i < b->n_slots;) {
        if (b->slots[i] && b->slots[i]->state == BASELINE_REMOVED)
            table_delete(b, i); /* something may have moved into slot i: look again */
        else
            i++;
    }
}

struct baseline *
baseline_open(const char *path, const struct baseline_config *c, struct errbuf *eb)
{
    struct baseline *b = baseline_new(c);
    if (!b) {
        err_set(eb, IASO_E_NOMEM, "%s: out of memory", path ? path : "baseline");
        return NULL;
    }
    if (!path)
        return b;
    int rc = load(b, path, &b->file, eb);
    if (rc == IASO_E_NOTFOUND)
        return b;
    if (rc < 0) {
        baseline_free(b);
        return NULL;
    }
    drop_removed(b);
    return b;
}

struct baseline *
baseline_parse(const char *name, const char *text, size_t len, const struct baseline_config *c,
               struct errbuf *eb)
{
    struct baseline *b = baseline_new(c);
    if (!b) {
        err_set(eb, IASO_E_NOMEM, "%s: out of memory", name);
        return NULL;
    }
    struct reader r = {.b = b, .name = name, .eb = eb};
    if (read_lines(&r, text, len, true) < 0 || read_end(&r) < 0) {
        baseline_free(b);
        return NULL;
    }
    drop_removed(b);
    return b;
}

/* ---- writing ---- */

struct snap {
    const struct bl_pair *p;
    uint64_t first_us, last_us, n;
    uint8_t state;
};

static int
snap_cmp(const void *a, const void *b)
{
    struct bl_key ka, kb;
    pair_key(((const struct snap *)a)->p, &ka);
    pair_key(((const struct snap *)b)->p, &kb);
    return key_cmp(&ka, &kb);
}

static int
put_pair(struct buf *out, const struct snap *s)
{
    const struct bl_pair *p = s->p;
    struct bl_key k;
    pair_key(p, &k);
    int rc = buf_printf(out, "%s\t%s", state_names[s->state], kinds[p->kind].name);
    int h = 0, i = 0;
    for (const char *f = kinds[p->kind].schema; *f && rc == 0; f++) {
        rc = buf_append_char(out, '\t');
        if (rc == 0 && *f == 'h') {
            char a[INET6_ADDRSTRLEN + 1];
            ipaddr_format(&k.host[h], k.ver[h], a, sizeof(a));
            rc = buf_append_str(out, a);
            h++;
        } else if (rc == 0) {
            rc = put_escaped(out, k.str[i], k.len[i], true);
            i++;
        }
    }
    char t[TIME_LEN + 1];
    if (rc == 0 && s->first_us) {
        time_format(s->first_us, t);
        rc = buf_printf(out, "\tfirst=%s", t);
    }
    if (rc == 0 && s->last_us) {
        time_format(s->last_us, t);
        rc = buf_printf(out, "\tlast=%s", t);
    }
    if (rc == 0 && s->n)
        rc = buf_printf(out, "\tn=%llu", (unsigned long long)s->n);
    if (rc == 0 && p->note) {
        rc = buf_append_str(out, "\tnote=");
        if (rc == 0)
            rc = put_escaped(out, p->note, strlen(p->note), false);
    }
    return rc ? rc : buf_append_char(out, '\n');
}

/* The text of the file; the caller holds save_mu, so the pairs copied stay alive. */
static int
format_locked(struct baseline *b, struct buf *out, unsigned flags, enum baseline_learn *learn,
              uint64_t *learn_until_us)
{
    pthread_mutex_lock(&b->mu);
    struct snap *s = malloc((b->n_pairs ? b->n_pairs : 1) * sizeof(*s));
    size_t n = 0;
    for (size_t i = 0; s && i < b->n_slots; i++) {
        const struct bl_pair *p = b->slots[i];
        if (!p || ((flags & BASELINE_FORMAT_PENDING_ONLY) && p->state != BASELINE_PENDING))
            continue;
        s[n++] = (struct snap){p, p->first_us, p->last_us, p->n, p->state};
    }
    *learn = b->learn;
    *learn_until_us = b->learn_until_us;
    pthread_mutex_unlock(&b->mu);
    if (!s)
        return IASO_E_NOMEM;
    qsort(s, n, sizeof(*s), snap_cmp);
    int rc = 0;
    if (!(flags & BASELINE_FORMAT_NO_HEADER)) {
        rc = buf_append_str(
            out, "# Iaso baseline: who talks to whom (docs/baseline.md). The sensor rewrites this "
                 "file;\n"
                 "# change it with `iaso sensor baseline accept|remove`, or by hand keeping one "
                 "pair a line:\n"
                 "# STATE KIND FIELDS... [first=TIME] [last=TIME] [n=COUNT] [note=TEXT], "
                 "separated by tabs.\n"
                 "format\t1\n");
        char t[TIME_LEN + 1];
        if (rc == 0 && *learn == BASELINE_LEARN_UNTIL) {
            time_format(*learn_until_us, t);
            rc = buf_printf(out, "learning\tuntil=%s\n", t);
        } else if (rc == 0) {
            rc = buf_printf(out, "learning\t%s\n", *learn == BASELINE_LEARN_AUTO ? "auto" : "done");
        }
    }
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = put_pair(out, &s[i]);
    free(s);
    return rc;
}

int
baseline_format(struct baseline *b, struct buf *out, unsigned flags)
{
    enum baseline_learn learn;
    uint64_t until;
    pthread_mutex_lock(&b->save_mu);
    int rc = format_locked(b, out, flags, &learn, &until);
    pthread_mutex_unlock(&b->save_mu);
    return rc;
}

/* Takes what another writer (the operator's tool, a hand edit) changed in the file into b: the
 * file's state and note win for pairs this process did not change itself, tombstones remove
 * (or, when b keeps them, are kept), pairs only in the file are added, counters take the widest
 * span. Pairs only in b stay: they are newer than the file. Holds mu. */
static void
merge(struct baseline *b, struct baseline *from)
{
    pthread_mutex_lock(&b->mu);
    for (size_t j = 0; j < from->n_slots; j++) {
        struct bl_pair *q = from->slots[j];
        if (!q)
            continue;
        struct bl_key k;
        pair_key(q, &k);
        bool found;
        size_t i = table_find(b, &k, q->hash, &found);
        struct bl_pair *p = found ? b->slots[i] : NULL;
        if (!p) {
            if (q->state == BASELINE_REMOVED && !b->cfg.keep_removed)
                continue;
            if (table_insert(b, i, &k, q->hash, q->state, &p) < 0) {
                b->n_dropped++;
                continue;
            }
        } else if (q->state == BASELINE_REMOVED && !b->cfg.keep_removed) {
            table_delete(b, i);
            continue;
        } else if (!p->dirty) {
            set_state(b, p, q->state);
        }
        if (!p->dirty || !found) {
            pair_set_note(b, p, q->note);
            from->note_bytes -= q->note ? strlen(q->note) + 1 : 0;
            q->note = NULL;
        }
        if (q->first_us && (!p->first_us || q->first_us < p->first_us))
            p->first_us = q->first_us;
        if (q->last_us > p->last_us)
            p->last_us = q->last_us;
        if (q->n > p->n)
            p->n = q->n;
    }
    if (from->file_learn != b->file_learn || from->file_learn_until_us != b->file_learn_until_us) {
        b->learn = from->file_learn;
        b->learn_until_us = from->file_learn_until_us;
    }
    b->n_merges++;
    pthread_mutex_unlock(&b->mu);
}

/* Merges path into b when it is not the file this process last read or wrote. */
static int
merge_if_changed(struct baseline *b, const char *path, struct errbuf *eb)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        if (errno == ENOENT)
            return 0;
        return err_set(eb, -errno, "%s: %s", path, strerror(errno));
    }
    struct file_id now;
    file_id_of(&st, &now);
    if (file_id_eq(&now, &b->file))
        return 0;
    struct baseline_config c = b->cfg;
    c.keep_removed = true;
    c.pairs_max = c.pairs_max > UINT32_MAX / 2 ? UINT32_MAX : c.pairs_max * 2;
    struct baseline *from = baseline_new(&c);
    if (!from)
        return err_set(eb, IASO_E_NOMEM, "%s: out of memory", path);
    struct file_id id;
    struct errbuf why = {""};
    int rc = load(from, path, &id, &why);
    if (rc == IASO_E_NOTFOUND) {
        rc = 0;
    } else if (rc < 0) {
        rc = err_set(eb, rc, "%s (the file was changed by someone else and is not overwritten)",
                     why.msg);
    } else {
        merge(b, from);
    }
    baseline_free(from);
    return rc;
}

static int
write_all(int fd, const uint8_t *p, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Writes text to path through a temporary file in the same folder. */
static int
write_atomic(const char *path, const struct buf *text, struct file_id *id, struct errbuf *eb)
{
    char tmp[4096];
    if ((size_t)snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= sizeof(tmp))
        return err_set(eb, IASO_E_RANGE, "%s: path too long", path);
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0)
        return err_set(eb, -errno, "%s: cannot write the baseline: %s", tmp, strerror(errno));
    int rc = fchmod(fd, 0640) == 0 ? 0 : -errno;
    if (rc == 0)
        rc = write_all(fd, text->ptr, text->len);
    if (rc == 0 && fsync(fd) != 0)
        rc = -errno;
    struct stat st;
    memset(&st, 0, sizeof(st));
    if (rc == 0 && fstat(fd, &st) != 0)
        rc = -errno;
    close(fd);
    if (rc == 0 && rename(tmp, path) != 0)
        rc = -errno;
    if (rc < 0) {
        unlink(tmp);
        return err_set(eb, rc, "%s: cannot write the baseline: %s", path, strerror(-rc));
    }
    file_id_of(&st, id);
    return 0;
}

int
baseline_save(struct baseline *b, const char *path, struct errbuf *eb)
{
    char lock_path[4096];
    if ((size_t)snprintf(lock_path, sizeof(lock_path), "%s.lock", path) >= sizeof(lock_path))
        return err_set(eb, IASO_E_RANGE, "%s: path too long", path);
    pthread_mutex_lock(&b->save_mu);
    struct buf text;
    buf_init(&text, 0);
    int rc = 0;
    /* The lock orders this read-merge-write against the operator's tool doing the same. */
    int lock_fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
    if (lock_fd < 0) {
        rc = err_set(eb, -errno, "%s: cannot lock the baseline: %s", lock_path, strerror(errno));
        goto out;
    }
    while (flock(lock_fd, LOCK_EX) != 0) {
        if (errno != EINTR) {
            rc =
                err_set(eb, -errno, "%s: cannot lock the baseline: %s", lock_path, strerror(errno));
            goto out;
        }
    }
    rc = merge_if_changed(b, path, eb);
    if (rc < 0)
        goto out;
    enum baseline_learn learn;
    uint64_t until;
    rc = format_locked(b, &text, 0, &learn, &until);
    if (rc < 0) {
        rc = err_set(eb, rc, "%s: %s", path, iaso_strerror(rc));
        goto out;
    }
    rc = write_atomic(path, &text, &b->file, eb);
    if (rc < 0)
        goto out;
    /* As the file has it (whole seconds), to compare with what a later read finds there. */
    b->file_learn = learn;
    b->file_learn_until_us = learn == BASELINE_LEARN_UNTIL ? time_in_file(until) : 0;
    pthread_mutex_lock(&b->mu);
    for (size_t i = 0; i < b->n_slots; i++)
        if (b->slots[i])
            b->slots[i]->dirty = false;
    pthread_mutex_unlock(&b->mu);
out:
    if (lock_fd >= 0)
        close(lock_fd); /* releases the lock */
    buf_release(&text);
    pthread_mutex_unlock(&b->save_mu);
    return rc;
}

/* ---- events ---- */

bool
baseline_hl7_is_patient_update(const char *type, size_t type_len, const char *event,
                               size_t event_len)
{
    /* Updates of a patient's record and every merge, move, change of identifier, link and
     * unlink: what a forged message would use to alter or hijack a patient's identity. */
    static const char updates[][4] = {
        "A08", "A18", "A24", "A30", "A31", "A34", "A35", "A36", "A37", "A39", "A40",
        "A41", "A42", "A43", "A44", "A45", "A46", "A47", "A48", "A49", "A50", "A51",
    };
    if (type_len != 3 || memcmp(type, "ADT", 3) != 0 || event_len != 3)
        return false;
    for (size_t i = 0; i < sizeof(updates) / sizeof(updates[0]); i++)
        if (memcmp(updates[i], event, 3) == 0)
            return true;
    return false;
}

/* What an event tells: its pair, and the facts its alert shows. */
struct seen {
    struct bl_key k;
    int src_side; /* FLOW_TOSERVER: the client is the one doing it */
    bool patient_update;
    const struct hl7_message *hl7; /* borrowed, HL7 only */
    const struct flow *f;
    bool kept; /* in the baseline (false: pairs_max was reached) */
    char share[BASELINE_FIELD_MAX];
};

static uint8_t
cut(size_t len)
{
    return (uint8_t)(len < BASELINE_FIELD_MAX ? len : BASELINE_FIELD_MAX);
}

static void
set_host(struct bl_key *k, int i, const struct flow *f, int side)
{
    k->host[i] = f->key.addr[side];
    k->ver[i] = f->key.ip_version;
}

static bool
event_pair(const struct flow *f, const struct proto_event *ev, struct seen *s)
{
    struct bl_key *k = &s->k;
    int client = f->client & 1, server = !client;
    memset(k, 0, sizeof(*k));
    for (int i = 0; i < BL_STRS_MAX; i++)
        k->str[i] = "";
    s->src_side = FLOW_TOSERVER;
    if (ev->proto == PROTO_DICOM && ev->kind == DICOM_EVENT_ASSOCIATE_AC) {
        const struct dicom_associate *a = ev->data;
        k->kind = BASELINE_DICOM;
        set_host(k, 0, f, client);
        set_host(k, 1, f, server);
        /* The titles the client asked with, not the AC's echo of them. */
        const char *calling = a->request_calling_ae ? a->request_calling_ae : a->calling_ae;
        const char *called = a->request_called_ae ? a->request_called_ae : a->called_ae;
        k->str[0] = calling;
        k->len[0] = cut(strnlen(calling, DICOM_AE_MAX));
        k->str[1] = called;
        k->len[1] = cut(strnlen(called, DICOM_AE_MAX));
        return true;
    }
    if (ev->proto == PROTO_DICOM && ev->kind == DICOM_EVENT_DIMSE && ev->dir == PROTO_TOSERVER) {
        const struct dicom_dimse *d = ev->data;
        size_t n = strnlen(d->move_destination, sizeof(d->move_destination));
        if (d->command_field != 0x0021 || n == 0) /* C-MOVE-RQ */
            return false;
        k->kind = BASELINE_DICOM_MOVE;
        set_host(k, 0, f, server);
        k->str[0] = d->move_destination;
        k->len[0] = cut(n);
        return true;
    }
    if (ev->proto == PROTO_HL7 && ev->kind == HL7_EVENT_MESSAGE) {
        const struct hl7_message *m = ev->data;
        if (m->has_msa || (m->message_type.len == 3 && memcmp(m->message_type.s, "ACK", 3) == 0))
            return false; /* an acknowledgement answers a pair, it makes none */
        int from = ev->dir == PROTO_TOSERVER ? client : server;
        k->kind = BASELINE_HL7;
        set_host(k, 0, f, from);
        set_host(k, 1, f, !from);
        const struct hl7_str *v[BL_STRS_MAX] = {&m->sending_application.ns, &m->sending_facility.ns,
                                                &m->receiving_application.ns,
                                                &m->receiving_facility.ns};
        for (int i = 0; i < BL_STRS_MAX; i++) {
            k->str[i] = v[i]->s;
            k->len[i] = cut(v[i]->len < HL7_STR_MAX ? v[i]->len : HL7_STR_MAX);
        }
        s->src_side = ev->dir == PROTO_TOSERVER ? FLOW_TOSERVER : FLOW_TOCLIENT;
        s->hl7 = m;
        s->patient_update = baseline_hl7_is_patient_update(
            m->message_type.s, m->message_type.len < HL7_STR_MAX ? m->message_type.len : 0,
            m->trigger_event.s, m->trigger_event.len < HL7_STR_MAX ? m->trigger_event.len : 0);
        return true;
    }
    if (ev->proto == PROTO_SMB2 && ev->kind == SMB2_EV_TREE_CONNECT) {
        const struct smb2_event *e = ev->data;
        if (e->has_status && e->status != 0)
            return false; /* refused: not a pair (probing is another detector's) */
        size_t n = strnlen(e->share, sizeof(e->share));
        const char *last = e->share;
        for (size_t i = 0; i < n; i++)
            if (e->share[i] == '\\')
                last = e->share + i + 1;
        size_t len = cut((size_t)(e->share + n - last));
        memcpy(s->share, last, len);
        upcase(s->share, len);
        k->kind = BASELINE_SMB;
        set_host(k, 0, f, client);
        set_host(k, 1, f, server);
        k->str[0] = s->share;
        k->len[0] = (uint8_t)len;
        return true;
    }
    if (ev->proto == PROTO_RDP && ev->kind == RDP_EVENT_CONNECT_REQUEST) {
        k->kind = BASELINE_RDP;
        set_host(k, 0, f, client);
        set_host(k, 1, f, server);
        return true;
    }
    return false;
}

static void
evidence(struct jsonw *w, const void *arg)
{
    const struct seen *s = arg;
    const struct bl_key *k = &s->k;
    const struct kind_def *d = &kinds[k->kind];
    jsonw_key(w, "baseline");
    jsonw_str(w, d->name);
    int h = 0, i = 0;
    for (size_t j = 0; d->schema[j]; j++) {
        jsonw_key_str(w, d->keys[j]);
        if (d->schema[j] == 'h') {
            char a[INET6_ADDRSTRLEN + 1];
            ipaddr_format(&k->host[h], k->ver[h], a, sizeof(a));
            jsonw_str(w, a);
            h++;
        } else {
            jsonw_strn(w, k->str[i], k->len[i]);
            i++;
        }
    }
    if (k->kind == BASELINE_DICOM_MOVE) {
        char a[INET6_ADDRSTRLEN + 1];
        ipaddr_format(&s->f->key.addr[s->f->client & 1], s->f->key.ip_version, a, sizeof(a));
        jsonw_key(w, "requester");
        jsonw_str(w, a);
    }
    if (s->hl7) {
        jsonw_key(w, "message_type");
        jsonw_strn(w, s->hl7->message_type.s, s->hl7->message_type.len);
        jsonw_key(w, "trigger_event");
        jsonw_strn(w, s->hl7->trigger_event.s, s->hl7->trigger_event.len);
    }
    jsonw_key(w, "kept");
    jsonw_bool(w, s->kept);
}

/* Learning now, at traffic time ts? Starts the automatic period at the first event, unless
 * the operator asked for learning (--learn), which stands in for it: a run that learns on
 * purpose leaves a baseline that alerts in the next run. Holds mu. */
static bool
learning_at(struct baseline *b, uint64_t ts)
{
    if (b->learn == BASELINE_LEARN_AUTO) {
        uint64_t until = ts + b->cfg.auto_learn_us;
        b->learn =
            b->cfg.auto_learn_us && !b->cfg.learn ? BASELINE_LEARN_UNTIL : BASELINE_LEARN_DONE;
        b->learn_until_us = until < ts ? UINT64_MAX : until;
    }
    if (b->learn == BASELINE_LEARN_UNTIL && ts >= b->learn_until_us)
        b->learn = BASELINE_LEARN_DONE;
    return b->cfg.learn || b->learn == BASELINE_LEARN_UNTIL;
}

void
baseline_event(struct baseline *b, struct alert_gate *g, const struct flow *f,
               const struct proto_event *ev)
{
    struct seen s;
    memset(&s, 0, sizeof(s));
    if (!event_pair(f, ev, &s))
        return;
    s.f = f;
    uint64_t hash = key_hash(&s.k);
    uint64_t ts = ev->ts_us;
    unsigned raise = 0;

    pthread_mutex_lock(&b->mu);
    bool learning = learning_at(b, ts);
    bool found;
    size_t i = table_find(b, &s.k, hash, &found);
    struct bl_pair *p = found ? b->slots[i] : NULL;
    if (p && p->state == BASELINE_REMOVED) /* a tombstone (editing only): as if absent */
        set_state(b, p, learning ? BASELINE_LEARNED : BASELINE_PENDING);
    if (!p &&
        table_insert(b, i, &s.k, hash, learning ? BASELINE_LEARNED : BASELINE_PENDING, &p) < 0) {
        b->n_dropped++;
        p = NULL;
    }
    s.kept = p != NULL;
    unsigned want = s.patient_update ? ALERTED_NEW | ALERTED_UPDATE : ALERTED_NEW;
    if (p) {
        if (!p->first_us || ts < p->first_us)
            p->first_us = ts;
        if (ts > p->last_us)
            p->last_us = ts;
        p->n++;
        if (!learning && p->state == BASELINE_PENDING) {
            raise = want & ~(unsigned)p->alerted;
            p->alerted |= (uint8_t)raise;
        }
    } else if (!learning) {
        raise = want;
    }
    if (raise)
        b->n_alerts++;
    pthread_mutex_unlock(&b->mu);

    if (!raise)
        return;
    struct alert a = {
        .rule = (raise & ALERTED_UPDATE) ? RULE_BASE_HL7_NEW_PATIENT_UPDATE : kinds[s.k.kind].rule,
        .flow = f,
        .src_side = s.src_side,
        .ts_us = ts,
        .subject = hash | 1,
        .app_proto = proto_name(ev->proto),
        .evidence = evidence,
        .evidence_arg = &s,
    };
    alert_raise(g, &a);
}

/* ---- editing ---- */

static int
key_from_words(const char *const *words, size_t n_words, struct bl_key *k,
               char store[BL_STRS_MAX][BASELINE_FIELD_MAX], struct errbuf *eb)
{
    memset(k, 0, sizeof(*k));
    if (n_words == 0)
        return err_set(eb, IASO_E_INVAL, "a pair needs a kind (dicom, dicom-move, hl7, rdp, smb)");
    int kind = kind_from_name(words[0], strlen(words[0]));
    char q[48];
    if (kind < 0)
        return err_set(eb, IASO_E_INVAL, "'%s' is not a kind (dicom, dicom-move, hl7, rdp, smb)",
                       quote(words[0], strlen(words[0]), q));
    /* A wrong number of fields is refused by key_from_tokens before it reads any. */
    struct tok t[BL_FIELDS_MAX];
    for (size_t i = 0; i + 1 < n_words && i < BL_FIELDS_MAX; i++)
        t[i] = (struct tok){words[i + 1], strlen(words[i + 1])};
    char why[200];
    if (key_from_tokens(kind, t, n_words - 1, k, store, why, sizeof(why)) < 0)
        return err_set(eb, IASO_E_INVAL, "%s", why);
    return 0;
}

int
baseline_set(struct baseline *b, const char *const *words, size_t n_words,
             enum baseline_state state, const char *note, struct errbuf *eb)
{
    struct bl_key k;
    char store[BL_STRS_MAX][BASELINE_FIELD_MAX];
    int rc = key_from_words(words, n_words, &k, store, eb);
    if (rc < 0)
        return rc;
    char *copy = NULL;
    if (note && *note) {
        size_t len = strlen(note);
        if (len > BASELINE_NOTE_MAX)
            return err_set(eb, IASO_E_INVAL, "the note is longer than %d bytes", BASELINE_NOTE_MAX);
        copy = strdup(note);
        if (!copy)
            return err_set(eb, IASO_E_NOMEM, "out of memory");
    }
    uint64_t hash = key_hash(&k);
    pthread_mutex_lock(&b->save_mu);
    pthread_mutex_lock(&b->mu);
    bool found;
    size_t i = table_find(b, &k, hash, &found);
    struct bl_pair *p = found ? b->slots[i] : NULL;
    if (!p) {
        rc = table_insert(b, i, &k, hash, (uint8_t)state, &p);
        if (rc == IASO_E_LIMIT)
            err_set(eb, rc, "the baseline holds its maximum of %u pairs",
                    (unsigned)b->cfg.pairs_max);
        else if (rc < 0)
            err_set(eb, rc, "out of memory");
        rc = rc < 0 ? rc : 1;
    } else {
        set_state(b, p, (uint8_t)state);
    }
    if (p) {
        p->dirty = true;
        if (note) {
            pair_set_note(b, p, copy);
            copy = NULL;
        }
    }
    pthread_mutex_unlock(&b->mu);
    pthread_mutex_unlock(&b->save_mu);
    free(copy);
    return rc;
}

int
baseline_remove(struct baseline *b, const char *const *words, size_t n_words, struct errbuf *eb)
{
    struct bl_key k;
    char store[BL_STRS_MAX][BASELINE_FIELD_MAX];
    int rc = key_from_words(words, n_words, &k, store, eb);
    if (rc < 0)
        return rc;
    uint64_t hash = key_hash(&k);
    pthread_mutex_lock(&b->save_mu);
    pthread_mutex_lock(&b->mu);
    bool found;
    size_t i = table_find(b, &k, hash, &found);
    if (!found || b->slots[i]->state == BASELINE_REMOVED) {
        rc = err_set(eb, IASO_E_NOTFOUND, "no such pair in the baseline");
    } else if (b->cfg.keep_removed) {
        set_state(b, b->slots[i], BASELINE_REMOVED);
        b->slots[i]->dirty = true;
    } else {
        table_delete(b, i);
    }
    pthread_mutex_unlock(&b->mu);
    pthread_mutex_unlock(&b->save_mu);
    return rc;
}

size_t
baseline_accept_pending(struct baseline *b)
{
    size_t n = 0;
    pthread_mutex_lock(&b->save_mu);
    pthread_mutex_lock(&b->mu);
    for (size_t i = 0; i < b->n_slots; i++) {
        struct bl_pair *p = b->slots[i];
        if (p && p->state == BASELINE_PENDING) {
            set_state(b, p, BASELINE_ACCEPTED);
            p->dirty = true;
            n++;
        }
    }
    pthread_mutex_unlock(&b->mu);
    pthread_mutex_unlock(&b->save_mu);
    return n;
}

void
baseline_stats(struct baseline *b, struct baseline_stats *st)
{
    memset(st, 0, sizeof(*st));
    pthread_mutex_lock(&b->mu);
    st->n_pairs = b->n_pairs;
    memcpy(st->n_pairs_kind, b->n_kind, sizeof(st->n_pairs_kind));
    st->n_pending = b->n_pending;
    st->n_removed = b->n_removed;
    st->n_dropped = b->n_dropped;
    st->n_alerts = b->n_alerts;
    st->n_merges = b->n_merges;
    st->learn = b->learn;
    st->learn_until_us = b->learn_until_us;
    st->learning = b->cfg.learn || b->learn == BASELINE_LEARN_UNTIL ||
                   (b->learn == BASELINE_LEARN_AUTO && b->cfg.auto_learn_us > 0);
    st->mem_bytes = sizeof(*b) + b->n_slots * slot_len + b->str_bytes + b->note_bytes;
    pthread_mutex_unlock(&b->mu);
}
