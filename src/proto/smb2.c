// SPDX-License-Identifier: Apache-2.0
// SMB2/3 parser: NBSS framing, SMB2 compounded messages, request/response matching by message
// id, a per-flow table of open file ids, NTLMSSP user names, SMB1 NEGOTIATE dialects, and a count
// of SMB3 encrypted messages. See smb2.h for what is reported and the limits.
//
// Each direction assembles one NBSS message at a time into a heap buffer that holds at most
// SMB2_MSG_MAX bytes, and only the bytes a decision needs: the first 4 (which protocol), then the
// 64-byte SMB2 header, then either the whole message (up to the cap) or, for a lone WRITE request
// or READ response, just the fixed part; the rest of the message is skipped as it streams by. The
// message is parsed when its last byte has been seen, so events do not depend on how the stream
// was split.
//
// File digests: the data of a lone WRITE request or READ response is not kept, so it is hashed as
// it streams by, through a window that data_begin() opens once the fixed part is in (and with it
// the file id and offset) and data_feed() reads; the rest of the bookkeeping (which file, in
// order or not, whole or not) is in the file table entry, settled when the CLOSE is answered.
#include "proto/smb2.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "base/error.h"

/* NBSS packet types (RFC 1002 4.3.1). */
#define NBSS_SESSION_MESSAGE 0x00
#define NBSS_SESSION_REQUEST 0x81
#define NBSS_KEEPALIVE 0x85

#define SMB2_HDR_LEN 64
#define SMB1_HDR_LEN 32
#define SMB1_KEEP_MAX 4096 /* an SMB1 NEGOTIATE is a few hundred bytes; the rest is not parsed */
#define SMB3_TRANSFORM_LEN 52

#define SMB2_FLAGS_RESPONSE 0x00000001u
#define SMB2_FLAGS_ASYNC 0x00000002u
#define SMB2_FLAGS_RELATED 0x00000004u

enum {
    SMB2_NEGOTIATE = 0x00,
    SMB2_SESSION_SETUP = 0x01,
    SMB2_LOGOFF = 0x02,
    SMB2_TREE_CONNECT = 0x03,
    SMB2_TREE_DISCONNECT = 0x04,
    SMB2_CREATE = 0x05,
    SMB2_CLOSE = 0x06,
    SMB2_FLUSH = 0x07,
    SMB2_READ = 0x08,
    SMB2_WRITE = 0x09,
    SMB2_LOCK = 0x0a,
    SMB2_IOCTL = 0x0b,
    SMB2_CANCEL = 0x0c,
    SMB2_ECHO = 0x0d,
    SMB2_QUERY_DIRECTORY = 0x0e,
    SMB2_CHANGE_NOTIFY = 0x0f,
    SMB2_QUERY_INFO = 0x10,
    SMB2_SET_INFO = 0x11,
    SMB2_OPLOCK_BREAK = 0x12,
};

#define STATUS_SUCCESS 0x00000000u
#define STATUS_PENDING 0x00000103u
#define STATUS_MORE_PROCESSING_REQUIRED 0xC0000016u

#define FILE_DELETE_ON_CLOSE 0x00001000u
#define SMB2_CLOSE_FLAG_POSTQUERY_ATTRIB 0x0001u
#define SMB2_0_INFO_FILE 0x01
#define FILE_RENAME_INFORMATION 10
#define FILE_DISPOSITION_INFORMATION 13
#define FILE_END_OF_FILE_INFORMATION 20
#define FILE_DISPOSITION_INFORMATION_EX 64

/* One direction's NBSS framing and the message being assembled. */
struct smb2_dir {
    uint8_t hdr[4];
    uint8_t hdr_have;
    bool in_msg;
    uint8_t type;
    uint8_t stage; /* 0: want the magic, 1: want the SMB2 header, 2: want decided */
    uint32_t full; /* length of the current NBSS message */
    uint32_t left; /* bytes of it not yet seen */
    uint32_t want; /* bytes of it to keep (<= full, <= SMB2_MSG_MAX) */
    uint32_t have; /* bytes kept */
    uint8_t *buf;  /* owned; cap bytes */
    uint32_t cap;
    /* File data of the message (see data_begin): */
    bool data_wanted;  /* a lone WRITE request or READ response: look when its fixed part is in */
    bool data_on;      /* its data is hashed: message bytes [data_from, data_to) */
    uint8_t data_mode; /* FH_READ or FH_WRITE */
    uint8_t data_file; /* index in flow->files ... */
    uint32_t data_seq; /* ... of the entry with this seq (it may go meanwhile) */
    uint32_t data_from, data_to;
    uint64_t data_next; /* file offset of the next byte */
};

struct smb2_pending {
    bool used;
    uint32_t seq; /* age, to drop the oldest and to report leftovers in order */
    uint16_t command;
    bool has_fid;
    uint64_t message_id, session_id;
    uint32_t tree_id;
    uint8_t fid[16];
    uint32_t access, disposition, options, length, ioctl;
    uint64_t offset;
    uint8_t info_type, info_class;
    bool is_rename, is_delete;
    char name[SMB2_NAME_MAX];
    char name2[SMB2_NAME_MAX]; /* rename target */
};

/* How a file's data is being hashed. */
enum { FH_NONE = 0, FH_READ, FH_WRITE, FH_BAD /* written out of order: no digest */ };

struct smb2_file {
    bool used;
    uint32_t seq;
    uint8_t fid[16];
    char name[SMB2_NAME_MAX];
    /* File digests (file_data_start, file_close): */
    uint8_t hash_mode;        /* FH_* */
    struct filehash *hash;    /* owned, or NULL; SMB2_HASH_FILES_MAX per flow at most */
    uint64_t eof;             /* end of file from the CREATE response, or as SET_INFO set it */
    bool eof_set_late;        /* SET_INFO set eof after writing began */
    uint64_t next;            /* file offset the next hashed byte has */
    uint32_t n_writes;        /* WRITEs answered with success */
    uint32_t n_writes_hashed; /* WRITE requests whose data went into hash */
};

struct smb2_tree {
    bool used;
    bool is_ipc, is_admin;
    uint8_t type;
    uint32_t tree_id;
    char share[SMB2_NAME_MAX];
};

/* The per-flow tables, allocated when the first SMB2 message is seen. */
struct smb2_flow {
    uint32_t seq;
    int n_dialects;
    uint16_t dialects[SMB2_DIALECTS_MAX];
    bool has_auth;
    uint64_t auth_message_id;
    char user[SMB2_AUTH_NAME_MAX], domain[SMB2_AUTH_NAME_MAX], host[SMB2_AUTH_NAME_MAX];
    struct smb2_pending pending[SMB2_PENDING_MAX];
    struct smb2_file files[SMB2_FILES_MAX];
    struct smb2_tree trees[SMB2_TREES_MAX];
    uint8_t n_hashing; /* files with a hash */
};

struct smb2_state {
    struct smb2_dir dir[2];
    struct smb2_flow *flow; /* owned */
    uint64_t n_encrypted;
    uint64_t enc_session_id;
};

/* What a chain of compounded commands shares: the file opened by a related CREATE. */
struct smb2_chain {
    bool has_name, has_fid;
    char name[SMB2_NAME_MAX];
    uint8_t fid[16];
};

/* ---- names ---- */

static const char *const command_names[] = {
    "SMB2_COMMAND_NEGOTIATE_PROTOCOL",
    "SMB2_COMMAND_SESSION_SETUP",
    "SMB2_COMMAND_SESSION_LOGOFF",
    "SMB2_COMMAND_TREE_CONNECT",
    "SMB2_COMMAND_TREE_DISCONNECT",
    "SMB2_COMMAND_CREATE",
    "SMB2_COMMAND_CLOSE",
    "SMB2_COMMAND_FLUSH",
    "SMB2_COMMAND_READ",
    "SMB2_COMMAND_WRITE",
    "SMB2_COMMAND_LOCK",
    "SMB2_COMMAND_IOCTL",
    "SMB2_COMMAND_CANCEL",
    "SMB2_COMMAND_KEEPALIVE",
    "SMB2_COMMAND_FIND",
    "SMB2_COMMAND_CHANGE_NOTIFY",
    "SMB2_COMMAND_GET_INFO",
    "SMB2_COMMAND_SET_INFO",
    "SMB2_COMMAND_OPLOCK_BREAK",
};

const char *
smb2_command_name(uint16_t command)
{
    if (command < sizeof(command_names) / sizeof(command_names[0]))
        return command_names[command];
    return "SMB2_COMMAND_UNKNOWN";
}

static const struct {
    uint32_t code;
    const char *name;
} status_names[] = {
    {0x00000000, "STATUS_SUCCESS"},
    {0x00000103, "STATUS_PENDING"},
    {0x00000105, "STATUS_MORE_ENTRIES"},
    {0x0000010B, "STATUS_NOTIFY_CLEANUP"},
    {0x0000010C, "STATUS_NOTIFY_ENUM_DIR"},
    {0x80000005, "STATUS_BUFFER_OVERFLOW"},
    {0x80000006, "STATUS_NO_MORE_FILES"},
    {0xC0000001, "STATUS_UNSUCCESSFUL"},
    {0xC0000002, "STATUS_NOT_IMPLEMENTED"},
    {0xC0000003, "STATUS_INVALID_INFO_CLASS"},
    {0xC0000008, "STATUS_INVALID_HANDLE"},
    {0xC000000D, "STATUS_INVALID_PARAMETER"},
    {0xC000000F, "STATUS_NO_SUCH_FILE"},
    {0xC0000010, "STATUS_INVALID_DEVICE_REQUEST"},
    {0xC0000011, "STATUS_END_OF_FILE"},
    {0xC0000016, "STATUS_MORE_PROCESSING_REQUIRED"},
    {0xC0000022, "STATUS_ACCESS_DENIED"},
    {0xC0000023, "STATUS_BUFFER_TOO_SMALL"},
    {0xC0000033, "STATUS_OBJECT_NAME_INVALID"},
    {0xC0000034, "STATUS_OBJECT_NAME_NOT_FOUND"},
    {0xC0000035, "STATUS_OBJECT_NAME_COLLISION"},
    {0xC000003A, "STATUS_OBJECT_PATH_NOT_FOUND"},
    {0xC0000043, "STATUS_SHARING_VIOLATION"},
    {0xC0000054, "STATUS_FILE_LOCK_CONFLICT"},
    {0xC0000056, "STATUS_DELETE_PENDING"},
    {0xC000005F, "STATUS_NO_SUCH_LOGON_SESSION"},
    {0xC0000064, "STATUS_NO_SUCH_USER"},
    {0xC000006A, "STATUS_WRONG_PASSWORD"},
    {0xC000006D, "STATUS_LOGON_FAILURE"},
    {0xC000006E, "STATUS_ACCOUNT_RESTRICTION"},
    {0xC000006F, "STATUS_INVALID_LOGON_HOURS"},
    {0xC0000070, "STATUS_INVALID_WORKSTATION"},
    {0xC0000071, "STATUS_PASSWORD_EXPIRED"},
    {0xC0000072, "STATUS_ACCOUNT_DISABLED"},
    {0xC00000BA, "STATUS_FILE_IS_A_DIRECTORY"},
    {0xC00000BB, "STATUS_NOT_SUPPORTED"},
    {0xC00000C9, "STATUS_NETWORK_NAME_DELETED"},
    {0xC00000CC, "STATUS_BAD_NETWORK_NAME"},
    {0xC0000101, "STATUS_DIRECTORY_NOT_EMPTY"},
    {0xC0000103, "STATUS_NOT_A_DIRECTORY"},
    {0xC0000120, "STATUS_CANCELLED"},
    {0xC0000128, "STATUS_FILE_CLOSED"},
    {0xC0000184, "STATUS_INVALID_DEVICE_STATE"},
    {0xC0000193, "STATUS_ACCOUNT_EXPIRED"},
    {0xC0000203, "STATUS_USER_SESSION_DELETED"},
    {0xC0000224, "STATUS_PASSWORD_MUST_CHANGE"},
    {0xC0000234, "STATUS_ACCOUNT_LOCKED_OUT"},
    {0xC0000225, "STATUS_NOT_FOUND"},
    {0xC000035C, "STATUS_NETWORK_SESSION_EXPIRED"},
};

const char *
smb2_status_name(uint32_t status)
{
    for (size_t i = 0; i < sizeof(status_names) / sizeof(status_names[0]); i++)
        if (status_names[i].code == status)
            return status_names[i].name;
    return NULL;
}

const char *
smb2_dialect_name(uint16_t dialect)
{
    switch (dialect) {
    case 0x0202:
        return "2.02";
    case 0x0210:
        return "2.10";
    case 0x0222:
        return "2.22";
    case 0x0224:
        return "2.24";
    case 0x02ff:
        return "2.??";
    case 0x0300:
        return "3.00";
    case 0x0302:
        return "3.02";
    case 0x0310:
        return "3.10";
    case 0x0311:
        return "3.11";
    default:
        return "unknown";
    }
}

static const char *
disposition_name(uint32_t d)
{
    static const char *const names[] = {"FILE_SUPERSEDE", "FILE_OPEN",      "FILE_CREATE",
                                        "FILE_OPEN_IF",   "FILE_OVERWRITE", "FILE_OVERWRITE_IF"};
    return d < 6 ? names[d] : "UNKNOWN";
}

static const char *
create_action_name(uint32_t a)
{
    static const char *const names[] = {"FILE_SUPERSEDED", "FILE_OPENED", "FILE_CREATED",
                                        "FILE_OVERWRITTEN"};
    return a < 4 ? names[a] : "UNKNOWN";
}

/* ---- strings ---- */

/* Appends one code point as UTF-8 if it fits in out[0..cap-1) (one byte kept for the NUL). */
static bool
put_utf8(char *out, size_t cap, size_t *n, uint32_t cp)
{
    uint8_t b[4];
    size_t k;
    if (cp < 0x80) {
        b[0] = (uint8_t)cp;
        k = 1;
    } else if (cp < 0x800) {
        b[0] = (uint8_t)(0xc0 | cp >> 6);
        b[1] = (uint8_t)(0x80 | (cp & 0x3f));
        k = 2;
    } else if (cp < 0x10000) {
        b[0] = (uint8_t)(0xe0 | cp >> 12);
        b[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
        b[2] = (uint8_t)(0x80 | (cp & 0x3f));
        k = 3;
    } else {
        b[0] = (uint8_t)(0xf0 | cp >> 18);
        b[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f));
        b[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
        b[3] = (uint8_t)(0x80 | (cp & 0x3f));
        k = 4;
    }
    if (*n + k >= cap)
        return false;
    memcpy(out + *n, b, k);
    *n += k;
    return true;
}

/* UTF-16LE to NUL-terminated UTF-8, cut at a character boundary when out (cap bytes) is full;
 * unpaired surrogates become U+FFFD. Stops at a NUL character. */
static void
utf16_to_utf8(struct bytes in, char *out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i + 1 < in.len; i += 2) {
        uint32_t cp = in.ptr[i] | (uint32_t)in.ptr[i + 1] << 8;
        if (cp == 0)
            break;
        if (cp >= 0xd800 && cp < 0xdc00 && i + 3 < in.len) {
            uint32_t lo = in.ptr[i + 2] | (uint32_t)in.ptr[i + 3] << 8;
            if (lo >= 0xdc00 && lo < 0xe000) {
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                i += 2;
            } else {
                cp = 0xfffd;
            }
        } else if (cp >= 0xd800 && cp < 0xe000) {
            cp = 0xfffd;
        }
        if (!put_utf8(out, cap, &n, cp))
            break;
    }
    out[n] = '\0';
}

/* 8-bit (OEM) bytes, as they are; jsonw_strn fixes what is not UTF-8. */
static void
copy_oem(struct bytes in, char *out, size_t cap)
{
    size_t n = 0;
    while (n < in.len && n + 1 < cap && in.ptr[n] != 0) {
        out[n] = (char)in.ptr[n];
        n++;
    }
    out[n] = '\0';
}

static void
copy_str(char *dst, size_t cap, const char *src)
{
    size_t n = strnlen(src, cap - 1);
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* The bytes at [off, off+len) of a message, where off counts from the SMB2 header; an empty view
 * when they are not all there (a name past the kept bytes is not reported). */
static struct bytes
msg_slice(struct bytes msg, uint32_t off, uint32_t len)
{
    struct bytes b = {NULL, 0};
    if (off > msg.len || len > msg.len - off)
        return b;
    b.ptr = msg.ptr + off;
    b.len = len;
    return b;
}

static bool
fid_is_related(const uint8_t fid[16])
{
    for (int i = 0; i < 16; i++)
        if (fid[i] != 0xff)
            return false;
    return true;
}

/* ---- per-flow tables ---- */

static struct smb2_pending *
pending_new(struct smb2_flow *f, uint64_t message_id)
{
    struct smb2_pending *slot = NULL;
    for (int i = 0; i < SMB2_PENDING_MAX; i++) {
        struct smb2_pending *p = &f->pending[i];
        if (p->used && p->message_id == message_id) {
            slot = p; /* a message id reused: the old request is forgotten */
            break;
        }
        if (!p->used && !slot)
            slot = p;
    }
    if (!slot) {
        /* Full: the oldest request is dropped (its response is then not reported). */
        slot = &f->pending[0];
        for (int i = 1; i < SMB2_PENDING_MAX; i++)
            if (f->pending[i].seq < slot->seq)
                slot = &f->pending[i];
    }
    memset(slot, 0, sizeof(*slot));
    slot->used = true;
    slot->seq = ++f->seq;
    slot->message_id = message_id;
    return slot;
}

static struct smb2_pending *
pending_find(struct smb2_flow *f, uint64_t message_id)
{
    for (int i = 0; i < SMB2_PENDING_MAX; i++)
        if (f->pending[i].used && f->pending[i].message_id == message_id)
            return &f->pending[i];
    return NULL;
}

static struct smb2_file *
file_find(struct smb2_flow *f, const uint8_t fid[16])
{
    for (int i = 0; i < SMB2_FILES_MAX; i++)
        if (f->files[i].used && memcmp(f->files[i].fid, fid, 16) == 0)
            return &f->files[i];
    return NULL;
}

/* Empties a file table entry, its hash freed. */
static void
file_forget(struct smb2_flow *f, struct smb2_file *file)
{
    if (file->hash) {
        filehash_free(file->hash);
        f->n_hashing--;
    }
    memset(file, 0, sizeof(*file));
}

static void
file_add(struct smb2_flow *f, const uint8_t fid[16], const char *name, uint64_t eof)
{
    struct smb2_file *slot = file_find(f, fid);
    for (int i = 0; i < SMB2_FILES_MAX && !slot; i++)
        if (!f->files[i].used)
            slot = &f->files[i];
    if (!slot) {
        /* Full (files opened and never closed): the oldest entry goes. */
        slot = &f->files[0];
        for (int i = 1; i < SMB2_FILES_MAX; i++)
            if (f->files[i].seq < slot->seq)
                slot = &f->files[i];
    }
    file_forget(f, slot);
    slot->used = true;
    slot->seq = ++f->seq;
    memcpy(slot->fid, fid, 16);
    copy_str(slot->name, sizeof(slot->name), name);
    slot->eof = eof;
}

/* ---- file digests ---- */

/* Stops hashing the file; mode says what it is now (FH_NONE: may start over, FH_BAD: never). */
static void
file_hash_drop(struct smb2_flow *f, struct smb2_file *file, uint8_t mode)
{
    if (file->hash) {
        filehash_free(file->hash);
        file->hash = NULL;
        f->n_hashing--;
    }
    file->hash_mode = mode;
    file->next = 0;
}

/* Starts hashing the file from offset 0; false past SMB2_HASH_FILES_MAX or without memory. */
static bool
file_hash_start(struct smb2_flow *f, struct smb2_file *file, uint8_t mode, uint8_t mask)
{
    file_hash_drop(f, file, FH_NONE);
    if (f->n_hashing >= SMB2_HASH_FILES_MAX)
        return false;
    file->hash = filehash_new(mask);
    if (!file->hash)
        return false;
    f->n_hashing++;
    file->hash_mode = mode;
    return true;
}

/* Data is written to (or read from) the file at offset: true when it is to be hashed, the file's
 * hash then ready for it. See smb2.h for the rules. */
static bool
file_data_start(struct smb2_flow *f, struct smb2_file *file, bool is_write, uint64_t offset,
                uint8_t mask)
{
    if (is_write) {
        if (file->hash_mode == FH_WRITE && file->hash && offset == file->next)
            return true;
        /* The first write, at 0, replaces what reading had hashed. */
        if ((file->hash_mode == FH_NONE || file->hash_mode == FH_READ) && offset == 0 &&
            file_hash_start(f, file, FH_WRITE, mask))
            return true;
        file_hash_drop(f, file, FH_BAD); /* a hole, an overlap, or no hash to be had */
        return false;
    }
    if (file->hash_mode == FH_WRITE || file->hash_mode == FH_BAD)
        return false; /* the file is what was written; reading it back changes nothing */
    if (file->hash_mode == FH_READ && file->hash && offset == file->next)
        return true;
    if (offset == 0)
        return file_hash_start(f, file, FH_READ, mask);
    file_hash_drop(f, file, FH_NONE); /* out of order: wait for a read from 0 */
    return false;
}

/* Data of the file could not be hashed (it lies outside its message). */
static void
file_data_lost(struct smb2_flow *f, struct smb2_file *file, bool is_write)
{
    if (is_write)
        file_hash_drop(f, file, FH_BAD);
    else if (file->hash_mode == FH_READ)
        file_hash_drop(f, file, FH_NONE);
}

/* The file's CLOSE was answered with success: its digests go into the event if it passed whole
 * (has_eof: the response carried the file's EndofFile, eof), and the entry goes. */
static void
file_close(struct smb2_flow *f, struct smb2_file *file, bool has_eof, uint64_t eof,
           struct smb2_event *ev)
{
    bool whole = false;
    if (file->hash && file->hash_mode == FH_READ)
        whole = file->n_writes == 0 && file->next == (has_eof ? eof : file->eof);
    else if (file->hash && file->hash_mode == FH_WRITE)
        whole = file->n_writes == file->n_writes_hashed &&
                (has_eof              ? eof == file->next
                 : file->eof_set_late ? file->eof == file->next
                                      : file->eof <= file->next);
    if (whole) {
        filehash_final(file->hash, &ev->file);
        ev->file_written = file->hash_mode == FH_WRITE;
    }
    file_forget(f, file);
}

/* The last path component names the share (\\\\server\\IPC$); a trailing '$' marks the
 * administrative shares (IPC$, ADMIN$, C$) that lateral movement goes for. */
static void
share_kind(const char *path, bool *is_ipc, bool *is_admin)
{
    const char *last = strrchr(path, '\\');
    last = last ? last + 1 : path;
    size_t n = strlen(last);
    *is_admin = n > 0 && last[n - 1] == '$';
    *is_ipc = n == 4 && (last[0] == 'I' || last[0] == 'i') && (last[1] == 'P' || last[1] == 'p') &&
              (last[2] == 'C' || last[2] == 'c') && last[3] == '$';
}

static struct smb2_tree *
tree_find(struct smb2_flow *f, uint32_t tree_id)
{
    for (int i = 0; i < SMB2_TREES_MAX; i++)
        if (f->trees[i].used && f->trees[i].tree_id == tree_id)
            return &f->trees[i];
    return NULL;
}

static void
tree_add(struct smb2_flow *f, uint32_t tree_id, const char *share, uint8_t type)
{
    struct smb2_tree *slot = tree_find(f, tree_id);
    for (int i = 0; i < SMB2_TREES_MAX && !slot; i++)
        if (!f->trees[i].used)
            slot = &f->trees[i];
    if (!slot)
        slot = &f->trees[tree_id % SMB2_TREES_MAX]; /* full: replace one */
    memset(slot, 0, sizeof(*slot));
    slot->used = true;
    slot->tree_id = tree_id;
    slot->type = type;
    copy_str(slot->share, sizeof(slot->share), share);
    share_kind(share, &slot->is_ipc, &slot->is_admin);
}

/* ---- SMB2 requests ---- */

/* Finds the NTLMSSP AUTHENTICATE message in a security blob (inside SPNEGO) and keeps its user,
 * domain and workstation names. */
static void
parse_ntlmssp(struct smb2_flow *f, uint64_t message_id, struct bytes blob)
{
    static const uint8_t sig[8] = {'N', 'T', 'L', 'M', 'S', 'S', 'P', 0};
    size_t at = blob.len;
    for (size_t i = 0; i + sizeof(sig) <= blob.len; i++) {
        if (memcmp(blob.ptr + i, sig, sizeof(sig)) == 0) {
            at = i;
            break;
        }
    }
    if (at == blob.len)
        return;
    struct bytes m = {blob.ptr + at, blob.len - at};
    struct cursor c;
    cursor_init(&c, m.ptr, m.len);
    cursor_skip(&c, 8);
    if (cursor_le32(&c) != 3) /* AUTHENTICATE */
        return;
    uint16_t lens[6];
    uint32_t offs[6];
    for (int i = 0; i < 6; i++) { /* Lm, Nt, Domain, User, Workstation, SessionKey */
        lens[i] = cursor_le16(&c);
        cursor_skip(&c, 2);
        offs[i] = cursor_le32(&c);
    }
    uint32_t flags = cursor_le32(&c);
    if (c.err)
        return;
    bool unicode = flags & 0x1;
    char *outs[3] = {f->domain, f->user, f->host};
    for (int i = 0; i < 3; i++) {
        struct bytes s = msg_slice(m, offs[i + 2], lens[i + 2]);
        if (unicode)
            utf16_to_utf8(s, outs[i], SMB2_AUTH_NAME_MAX);
        else
            copy_oem(s, outs[i], SMB2_AUTH_NAME_MAX);
    }
    f->has_auth = true;
    f->auth_message_id = message_id;
}

/* Reads the 16-byte file id at off in the body, and finds its name. */
static void
request_fid(struct smb2_flow *f, struct smb2_pending *p, struct bytes msg, uint32_t off,
            const struct smb2_chain *chain)
{
    struct bytes b = msg_slice(msg, SMB2_HDR_LEN + off, 16);
    if (!b.len)
        return;
    memcpy(p->fid, b.ptr, 16);
    p->has_fid = true;
    if (fid_is_related(p->fid)) {
        if (chain->has_name)
            copy_str(p->name, sizeof(p->name), chain->name);
        return;
    }
    const struct smb2_file *file = file_find(f, p->fid);
    if (file)
        copy_str(p->name, sizeof(p->name), file->name);
}

static void
smb2_request(struct smb2_flow *f, struct bytes msg, uint16_t command, uint64_t message_id,
             uint32_t tree_id, uint64_t session_id, struct smb2_chain *chain)
{
    if (command == SMB2_CANCEL || command == SMB2_ECHO || command == SMB2_OPLOCK_BREAK)
        return; /* nothing to report */
    struct smb2_pending *p = pending_new(f, message_id);
    p->command = command;
    p->tree_id = tree_id;
    p->session_id = session_id;
    struct cursor c;
    cursor_init(&c, msg.ptr, msg.len);
    cursor_skip(&c, SMB2_HDR_LEN + 2); /* header, StructureSize */

    switch (command) {
    case SMB2_NEGOTIATE: {
        uint16_t n = cursor_le16(&c);
        f->n_dialects = 0;
        struct bytes d = msg_slice(msg, SMB2_HDR_LEN + 36, (uint32_t)n * 2);
        for (size_t i = 0; i + 1 < d.len && f->n_dialects < SMB2_DIALECTS_MAX; i += 2)
            f->dialects[f->n_dialects++] = (uint16_t)(d.ptr[i] | d.ptr[i + 1] << 8);
        break;
    }
    case SMB2_SESSION_SETUP: {
        cursor_skip(&c, 10); /* Flags, SecurityMode, Capabilities, Channel */
        uint16_t off = cursor_le16(&c);
        uint16_t len = cursor_le16(&c);
        if (!c.err)
            parse_ntlmssp(f, message_id, msg_slice(msg, off, len));
        break;
    }
    case SMB2_TREE_CONNECT: {
        cursor_skip(&c, 2); /* Flags */
        uint16_t off = cursor_le16(&c);
        uint16_t len = cursor_le16(&c);
        if (!c.err)
            utf16_to_utf8(msg_slice(msg, off, len), p->name, sizeof(p->name));
        break;
    }
    case SMB2_CREATE: {
        cursor_skip(&c, 1 + 1 + 4 + 8 + 8); /* SecurityFlags ... Reserved */
        p->access = cursor_le32(&c);
        cursor_skip(&c, 8); /* FileAttributes, ShareAccess */
        p->disposition = cursor_le32(&c);
        p->options = cursor_le32(&c);
        uint16_t off = cursor_le16(&c);
        uint16_t len = cursor_le16(&c);
        if (!c.err)
            utf16_to_utf8(msg_slice(msg, off, len), p->name, sizeof(p->name));
        /* A later related command of this chain means this file. */
        chain->has_name = true;
        copy_str(chain->name, sizeof(chain->name), p->name);
        break;
    }
    case SMB2_CLOSE:
        request_fid(f, p, msg, 8, chain); /* StructureSize, Flags, Reserved */
        break;
    case SMB2_READ:  /* Padding(1) Flags(1) Length(4) Offset(8) FileId(16) */
    case SMB2_WRITE: /* DataOffset(2) Length(4) Offset(8) FileId(16) */
        cursor_skip(&c, 2);
        p->length = cursor_le32(&c);
        p->offset = cursor_le64(&c);
        request_fid(f, p, msg, 16, chain);
        break;
    case SMB2_IOCTL:
        cursor_skip(&c, 2); /* Reserved */
        p->ioctl = cursor_le32(&c);
        request_fid(f, p, msg, 8, chain);
        break;
    case SMB2_FLUSH:           /* Reserved1(2) Reserved2(4) FileId */
    case SMB2_LOCK:            /* LockCount(2) LockSequence(4) FileId */
    case SMB2_QUERY_DIRECTORY: /* Class(1) Flags(1) FileIndex(4) FileId */
    case SMB2_CHANGE_NOTIFY:   /* Flags(2) OutputBufferLength(4) FileId */
        request_fid(f, p, msg, 8, chain);
        break;
    case SMB2_QUERY_INFO:
        p->info_type = cursor_u8(&c);
        p->info_class = cursor_u8(&c);
        request_fid(f, p, msg, 24, chain);
        break;
    case SMB2_SET_INFO: {
        p->info_type = cursor_u8(&c);
        p->info_class = cursor_u8(&c);
        uint32_t len = cursor_le32(&c);
        uint16_t off = cursor_le16(&c);
        request_fid(f, p, msg, 16, chain);
        if (c.err || p->info_type != SMB2_0_INFO_FILE)
            break;
        struct bytes info = msg_slice(msg, off, len);
        if (p->info_class == FILE_RENAME_INFORMATION && info.len >= 20) {
            /* ReplaceIfExists(1) Reserved(7) RootDirectory(8) FileNameLength(4) FileName */
            uint32_t n = info.ptr[16] | (uint32_t)info.ptr[17] << 8 | (uint32_t)info.ptr[18] << 16 |
                         (uint32_t)info.ptr[19] << 24;
            utf16_to_utf8(msg_slice(info, 20, n), p->name2, sizeof(p->name2));
            p->is_rename = true;
        } else if (p->info_class == FILE_DISPOSITION_INFORMATION && info.len >= 1) {
            p->is_delete = info.ptr[0] != 0;
        } else if (p->info_class == FILE_DISPOSITION_INFORMATION_EX && info.len >= 4) {
            p->is_delete = info.ptr[0] & 0x1;
        } else if (p->info_class == FILE_END_OF_FILE_INFORMATION && info.len >= 8) {
            /* The size set outright (preallocated before writing, cut or grown after): what a
             * digest is checked against (file_close). */
            struct smb2_file *file = p->has_fid ? file_find(f, p->fid) : NULL;
            if (file) {
                struct cursor e;
                cursor_init(&e, info.ptr, info.len);
                file->eof = cursor_le64(&e);
                file->eof_set_late = file->hash_mode == FH_WRITE || file->hash_mode == FH_BAD;
            }
        }
        break;
    }
    default:
        break;
    }
}

/* ---- SMB2 responses ---- */

static void
emit(const struct proto_ctx *ctx, int kind, int dir, uint64_t ts_us, const struct smb2_event *ev)
{
    struct proto_event pe = {PROTO_SMB2, kind, dir, ts_us, ev};
    ctx->emit(ctx->user, &pe);
}

/* Fills the request's side of an event. */
static void
event_from_pending(struct smb2_flow *f, const struct smb2_pending *p, struct smb2_event *ev)
{
    ev->command = p->command;
    ev->message_id = p->message_id;
    ev->session_id = p->session_id;
    ev->tree_id = p->tree_id;
    copy_str(ev->filename, sizeof(ev->filename), p->name);
    copy_str(ev->new_name, sizeof(ev->new_name), p->name2);
    ev->access = p->access;
    ev->disposition = p->disposition;
    ev->options = p->options;
    ev->offset = p->offset;
    ev->length = p->length;
    ev->ioctl = p->ioctl;
    ev->info_type = p->info_type;
    ev->info_class = p->info_class;
    ev->has_fid = p->has_fid && !fid_is_related(p->fid);
    memcpy(ev->fid, p->fid, 16);
    const struct smb2_tree *t = tree_find(f, p->tree_id);
    if (t && p->command != SMB2_TREE_CONNECT) {
        copy_str(ev->share, sizeof(ev->share), t->share);
        ev->share_type = t->type;
        ev->is_admin_share = t->is_admin;
        ev->is_pipe = t->is_ipc && p->command == SMB2_CREATE;
    }
}

/* The event kind for a request's command. */
static int
event_kind(const struct smb2_pending *p)
{
    switch (p->command) {
    case SMB2_NEGOTIATE:
        return SMB2_EV_NEGOTIATE;
    case SMB2_SESSION_SETUP:
        return SMB2_EV_SESSION_SETUP;
    case SMB2_TREE_CONNECT:
        return SMB2_EV_TREE_CONNECT;
    case SMB2_CREATE:
        return SMB2_EV_CREATE;
    case SMB2_CLOSE:
        return SMB2_EV_CLOSE;
    case SMB2_READ:
        return SMB2_EV_READ;
    case SMB2_WRITE:
        return SMB2_EV_WRITE;
    case SMB2_SET_INFO:
        if (p->is_rename)
            return SMB2_EV_RENAME;
        if (p->is_delete)
            return SMB2_EV_DELETE;
        return SMB2_EV_COMMAND;
    default:
        return SMB2_EV_COMMAND;
    }
}

static void
smb2_response(struct smb2_flow *f, const struct proto_ctx *ctx, int dir, uint64_t ts_us,
              struct bytes msg, uint16_t command, uint32_t status, uint64_t message_id,
              uint32_t tree_id, uint64_t session_id, struct smb2_chain *chain)
{
    struct smb2_pending *p = pending_find(f, message_id);
    if (p && p->command != command)
        p = NULL; /* not the answer to that request */
    if (!p && command != SMB2_NEGOTIATE)
        return; /* the request was not seen: nothing to pair it with */

    struct smb2_event ev;
    memset(&ev, 0, sizeof(ev));
    if (p)
        event_from_pending(f, p, &ev);
    ev.command = command;
    ev.message_id = message_id;
    ev.has_status = true;
    ev.status = status;
    if (session_id)
        ev.session_id = session_id;
    int kind = p ? event_kind(p) : SMB2_EV_NEGOTIATE;

    struct cursor c;
    cursor_init(&c, msg.ptr, msg.len);
    cursor_skip(&c, SMB2_HDR_LEN);
    uint16_t structure_size = cursor_le16(&c);
    bool is_error = structure_size == 9 && status != STATUS_SUCCESS &&
                    command != SMB2_SESSION_SETUP; /* an ERROR response body */

    switch (command) {
    case SMB2_NEGOTIATE:
        if (is_error)
            break;
        ev.security_mode = cursor_le16(&c);
        ev.dialect = cursor_le16(&c);
        cursor_skip(&c, 2);
        ev.has_server_guid = cursor_copy(&c, ev.server_guid, 16);
        ev.n_client_dialects = f->n_dialects;
        memcpy(ev.client_dialects, f->dialects, sizeof(ev.client_dialects));
        break;
    case SMB2_SESSION_SETUP:
        if (status == STATUS_MORE_PROCESSING_REQUIRED)
            goto out; /* an intermediate leg: the final answer is reported */
        if (f->has_auth && f->auth_message_id == message_id) {
            ev.has_ntlmssp = true;
            copy_str(ev.user, sizeof(ev.user), f->user);
            copy_str(ev.domain, sizeof(ev.domain), f->domain);
            copy_str(ev.host, sizeof(ev.host), f->host);
            f->has_auth = false;
        }
        break;
    case SMB2_TREE_CONNECT:
        copy_str(ev.share, sizeof(ev.share), p->name);
        ev.tree_id = tree_id;
        bool is_ipc;
        share_kind(p->name, &is_ipc, &ev.is_admin_share);
        if (is_error)
            break;
        ev.share_type = cursor_u8(&c);
        if (!c.err)
            tree_add(f, tree_id, p->name, ev.share_type);
        break;
    case SMB2_CREATE:
        if (is_error)
            break;
        cursor_skip(&c, 2); /* OplockLevel, Flags */
        ev.create_action = cursor_le32(&c);
        cursor_skip(&c, 40); /* four times, AllocationSize */
        ev.size = cursor_le64(&c);
        cursor_skip(&c, 8); /* FileAttributes, Reserved2 */
        if (!cursor_copy(&c, ev.fid, 16))
            break;
        ev.has_size = true;
        ev.has_fid = true;
        file_add(f, ev.fid, ev.filename, ev.size);
        chain->has_fid = true;
        memcpy(chain->fid, ev.fid, 16);
        break;
    case SMB2_CLOSE:
        if (p->has_fid && fid_is_related(p->fid) && chain->has_fid) {
            memcpy(ev.fid, chain->fid, 16);
            ev.has_fid = true;
        }
        if (ev.has_fid && status == STATUS_SUCCESS) {
            struct smb2_file *file = file_find(f, ev.fid);
            if (file) {
                /* Flags(2) Reserved(4) four times(32) AllocationSize(8) EndofFile(8) */
                uint16_t close_flags = cursor_le16(&c);
                cursor_skip(&c, 4 + 32 + 8);
                uint64_t eof = cursor_le64(&c);
                bool has_eof = !c.err && structure_size == 60 &&
                               (close_flags & SMB2_CLOSE_FLAG_POSTQUERY_ATTRIB);
                file_close(f, file, has_eof, eof, &ev);
            }
        }
        break;
    case SMB2_READ:  /* DataOffset(1) Reserved(1) DataLength(4) */
    case SMB2_WRITE: /* Reserved(2) Count(4) */
        if (is_error)
            break;
        cursor_skip(&c, 2);
        ev.length = cursor_le32(&c);
        if (command == SMB2_WRITE && status == STATUS_SUCCESS) {
            /* Counted against the writes hashed: one missed means no digest. */
            bool related = p->has_fid && fid_is_related(p->fid);
            const uint8_t *fid = related      ? (chain->has_fid ? chain->fid : NULL)
                                 : p->has_fid ? p->fid
                                              : NULL;
            struct smb2_file *file = fid ? file_find(f, fid) : NULL;
            if (file)
                file->n_writes++;
        }
        break;
    default:
        break;
    }
    emit(ctx, kind, dir, ts_us, &ev);
    /* Opened with delete-on-close: the file goes when it is closed. */
    if (kind == SMB2_EV_CREATE && status == STATUS_SUCCESS && (ev.options & FILE_DELETE_ON_CLOSE))
        emit(ctx, SMB2_EV_DELETE, dir, ts_us, &ev);
out:
    if (p)
        p->used = false;
}

/* Parses one SMB2 message, compounded commands included. kept: the bytes kept; full: the
 * message's length on the wire (more when its data was skipped). */
static int
smb2_message(struct smb2_flow *f, const struct proto_ctx *ctx, int dir, uint64_t ts_us,
             const uint8_t *kept, uint32_t have, uint32_t full)
{
    struct smb2_chain chain;
    memset(&chain, 0, sizeof(chain));
    uint32_t off = 0;
    for (int i = 0; i < SMB2_CHAIN_MAX; i++) {
        if (full - off < SMB2_HDR_LEN)
            return IASO_E_FORMAT;
        if (off > have || have - off < SMB2_HDR_LEN)
            return 0; /* the rest was not kept (past SMB2_MSG_MAX) */
        struct cursor c;
        cursor_init(&c, kept + off, have - off);
        uint32_t magic = cursor_be32(&c);
        if (magic != 0xfe534d42)
            return IASO_E_FORMAT;
        cursor_skip(&c, 4); /* StructureSize, CreditCharge */
        uint32_t status = cursor_le32(&c);
        uint16_t command = cursor_le16(&c);
        cursor_skip(&c, 2); /* Credit */
        uint32_t flags = cursor_le32(&c);
        uint32_t next = cursor_le32(&c);
        uint64_t message_id = cursor_le64(&c);
        uint32_t tree_id = 0;
        if (flags & SMB2_FLAGS_ASYNC) {
            cursor_skip(&c, 8); /* AsyncId */
        } else {
            cursor_skip(&c, 4); /* Reserved */
            tree_id = cursor_le32(&c);
        }
        uint64_t session_id = cursor_le64(&c);
        /* The next command starts inside this message, after this header. */
        if (next != 0 && (next < SMB2_HDR_LEN || next > full - off))
            return IASO_E_FORMAT;
        uint32_t end = next ? off + next : full;
        if (end > have)
            end = have;
        struct bytes msg = {kept + off, end - off};
        if (!(flags & SMB2_FLAGS_RELATED))
            memset(&chain, 0, sizeof(chain));
        if (flags & SMB2_FLAGS_RESPONSE) {
            /* An interim answer: the final one follows with the same message id. */
            if (!(status == STATUS_PENDING && (flags & SMB2_FLAGS_ASYNC)))
                smb2_response(f, ctx, dir, ts_us, msg, command, status, message_id, tree_id,
                              session_id, &chain);
        } else {
            smb2_request(f, msg, command, message_id, tree_id, session_id, &chain);
        }
        if (next == 0)
            return 0;
        off += next;
    }
    return 0; /* more than SMB2_CHAIN_MAX commands: the rest is not parsed */
}

/* ---- SMB1 NEGOTIATE ---- */

static void
smb1_message(const struct proto_ctx *ctx, int dir, uint64_t ts_us, const uint8_t *kept,
             uint32_t have)
{
    struct cursor c;
    cursor_init(&c, kept, have);
    cursor_skip(&c, 4);
    uint8_t command = cursor_u8(&c);
    cursor_skip(&c, 4); /* Status */
    uint8_t flags = cursor_u8(&c);
    if (c.err || command != 0x72 || (flags & 0x80)) /* NEGOTIATE request only */
        return;
    cursor_skip(&c, SMB1_HDR_LEN - 10);
    uint8_t word_count = cursor_u8(&c);
    cursor_skip(&c, (size_t)word_count * 2);
    uint16_t byte_count = cursor_le16(&c);
    if (c.err)
        return;
    struct bytes b = cursor_take(&c, byte_count < cursor_left(&c) ? byte_count : cursor_left(&c));

    struct smb2_event ev;
    memset(&ev, 0, sizeof(ev));
    ev.command = 0x72;
    /* Dialects: 0x02 and a NUL-terminated string, repeated. */
    size_t i = 0;
    while (i < b.len && b.ptr[i] == 0x02 && ev.n_smb1_dialects < SMB1_DIALECTS_MAX) {
        i++;
        size_t start = i;
        while (i < b.len && b.ptr[i] != 0)
            i++;
        copy_oem(bytes_make(b.ptr + start, i - start), ev.smb1_dialects[ev.n_smb1_dialects++],
                 SMB1_DIALECT_LEN_MAX);
        i++; /* the NUL */
    }
    emit(ctx, SMB2_EV_SMB1_NEGOTIATE, dir, ts_us, &ev);
}

/* ---- framing ---- */

static int
ensure_flow(struct smb2_state *st)
{
    if (!st->flow) {
        st->flow = proto_calloc(1, sizeof(*st->flow));
        if (!st->flow)
            return IASO_E_NOMEM;
    }
    return 0;
}

/* A whole NBSS message has been seen. */
static int
message_done(struct smb2_state *st, const struct proto_ctx *ctx, int dir, uint64_t ts_us)
{
    struct smb2_dir *d = &st->dir[dir];
    if (d->type != NBSS_SESSION_MESSAGE || d->full == 0)
        return 0;
    if (d->have < 4)
        return IASO_E_FORMAT;
    switch (d->buf[0]) {
    case 0xfe: {
        int rc = ensure_flow(st);
        if (rc < 0)
            return rc;
        return smb2_message(st->flow, ctx, dir, ts_us, d->buf, d->have, d->full);
    }
    case 0xff:
        smb1_message(ctx, dir, ts_us, d->buf, d->have);
        return 0;
    case 0xfd:
        if (st->n_encrypted++ == 0 && d->have >= SMB3_TRANSFORM_LEN) {
            struct cursor c;
            cursor_init(&c, d->buf + 44, 8); /* SessionId */
            st->enc_session_id = cursor_le64(&c);
        }
        return 0;
    default:
        return IASO_E_FORMAT;
    }
}

/* The kept bytes reached `want`: decides how many more of this message to keep. */
static int
decide(struct smb2_dir *d)
{
    if (d->stage == 0) {
        uint32_t magic = load_be32(d->buf);
        if (magic == 0xfe534d42) {
            d->want = d->full < SMB2_HDR_LEN ? d->full : SMB2_HDR_LEN;
            d->stage = 1;
        } else if (magic == 0xff534d42) {
            d->want = d->full < SMB1_KEEP_MAX ? d->full : SMB1_KEEP_MAX;
            d->stage = 2;
        } else if (magic == 0xfd534d42) {
            d->want = d->full < SMB3_TRANSFORM_LEN ? d->full : SMB3_TRANSFORM_LEN;
            d->stage = 2;
        } else {
            return IASO_E_FORMAT;
        }
        return 0;
    }
    /* stage 1: the SMB2 header is here. */
    struct cursor c;
    cursor_init(&c, d->buf, SMB2_HDR_LEN);
    cursor_skip(&c, 12);
    uint16_t command = cursor_le16(&c);
    cursor_skip(&c, 2);
    uint32_t flags = cursor_le32(&c);
    uint32_t next = cursor_le32(&c);
    bool response = flags & SMB2_FLAGS_RESPONSE;
    uint32_t keep = SMB2_MSG_MAX;
    /* File data is not needed: keep the fixed part (48 and 16 bytes) of a lone WRITE request or
     * READ response. */
    if (next == 0 && ((command == SMB2_WRITE && !response) || (command == SMB2_READ && response))) {
        keep = SMB2_HDR_LEN + 48;
        d->data_wanted = true;
    }
    d->want = d->full < keep ? d->full : keep;
    d->stage = 2;
    return 0;
}

static int
grow(struct smb2_dir *d, uint32_t need)
{
    if (need <= d->cap)
        return 0;
    uint32_t cap = d->cap ? d->cap : 256;
    while (cap < need)
        cap *= 2; /* need <= SMB2_MSG_MAX, so this stops there */
    uint8_t *nb = proto_realloc(d->buf, cap);
    if (!nb)
        return IASO_E_NOMEM;
    d->buf = nb;
    d->cap = cap;
    return 0;
}

/* Hashes the bytes p[0..n) of the current message, at message offsets [pos, pos + n), that
 * fall in the data window. */
static void
data_feed(struct smb2_state *st, int dir, uint32_t pos, const uint8_t *p, uint32_t n)
{
    struct smb2_dir *d = &st->dir[dir];
    if (!d->data_on || pos >= d->data_to || pos + n <= d->data_from)
        return;
    uint32_t from = pos > d->data_from ? pos : d->data_from;
    uint32_t to = pos + n < d->data_to ? pos + n : d->data_to;
    struct smb2_file *file = &st->flow->files[d->data_file];
    if (!file->used || file->seq != d->data_seq) {
        d->data_on = false; /* closed or replaced meanwhile, by the other direction */
        return;
    }
    if (file->hash_mode != d->data_mode || file->next != d->data_next || !file->hash) {
        /* The other direction took the file over (a write during a read). */
        d->data_on = false;
        if (d->data_mode == FH_WRITE)
            file_hash_drop(st->flow, file, FH_BAD);
        return;
    }
    filehash_update(file->hash, p + (from - pos), to - from);
    file->next += to - from;
    d->data_next = file->next;
}

/* The fixed part of a lone WRITE request or READ response is in d->buf: if its data belongs to a
 * file to hash, opens the window through which data_feed() hashes it as it streams by. */
static void
data_begin(struct smb2_state *st, const struct proto_ctx *ctx, int dir)
{
    struct smb2_dir *d = &st->dir[dir];
    struct smb2_flow *f = st->flow;
    d->data_wanted = false;
    if (!ctx->file_hashes || !f)
        return;
    struct cursor c;
    cursor_init(&c, d->buf, d->have);
    cursor_skip(&c, 8); /* ProtocolId, StructureSize, CreditCharge */
    uint32_t status = cursor_le32(&c);
    bool is_write = cursor_le16(&c) == SMB2_WRITE;
    cursor_skip(&c, 10); /* Credit, Flags, NextCommand */
    uint64_t message_id = cursor_le64(&c);
    cursor_skip(&c, SMB2_HDR_LEN - 32 + 2); /* to the body, StructureSize */
    uint32_t data_off = 0, len = 0;
    uint64_t offset = 0;
    uint8_t fid[16];
    if (is_write) { /* DataOffset(2) Length(4) Offset(8) FileId(16) */
        data_off = cursor_le16(&c);
        len = cursor_le32(&c);
        offset = cursor_le64(&c);
        if (!cursor_copy(&c, fid, 16))
            return;
    } else { /* DataOffset(1) Reserved(1) DataLength(4); the request has the rest */
        data_off = cursor_u8(&c);
        cursor_skip(&c, 1);
        len = cursor_le32(&c);
        const struct smb2_pending *p = pending_find(f, message_id);
        if (c.err || status != STATUS_SUCCESS || !p || p->command != SMB2_READ || !p->has_fid)
            return;
        memcpy(fid, p->fid, 16);
        offset = p->offset;
    }
    struct smb2_file *file = file_find(f, fid);
    if (!file || len == 0)
        return;
    uint32_t fixed = SMB2_HDR_LEN + (is_write ? 48 : 16);
    if (data_off < fixed || data_off > d->full || len > d->full - data_off) {
        file_data_lost(f, file, is_write);
        return;
    }
    if (!file_data_start(f, file, is_write, offset, ctx->file_hashes))
        return;
    if (is_write)
        file->n_writes_hashed++; /* all of it is in this message, so it will be */
    d->data_on = true;
    d->data_mode = is_write ? FH_WRITE : FH_READ;
    d->data_file = (uint8_t)(file - f->files);
    d->data_seq = file->seq;
    d->data_from = data_off;
    d->data_to = data_off + len;
    d->data_next = offset;
    data_feed(st, dir, 0, d->buf, d->have); /* what of it was kept */
}

static int
smb2_parse(void *state, const struct proto_ctx *ctx, int dir, const uint8_t *data, size_t len,
           uint64_t ts_us)
{
    struct smb2_state *st = state;
    if (dir != 0 && dir != 1)
        return IASO_E_INVAL;
    struct smb2_dir *d = &st->dir[dir];
    while (len > 0) {
        if (!d->in_msg) {
            d->hdr[d->hdr_have++] = *data++;
            len--;
            if (d->hdr_have < 4)
                continue;
            d->hdr_have = 0;
            d->type = d->hdr[0];
            if (d->type == NBSS_SESSION_MESSAGE)
                d->full = (uint32_t)d->hdr[1] << 16 | (uint32_t)d->hdr[2] << 8 | d->hdr[3];
            else if (d->type >= NBSS_SESSION_REQUEST && d->type <= NBSS_KEEPALIVE)
                d->full = (uint32_t)(d->hdr[1] & 1) << 16 | (uint32_t)d->hdr[2] << 8 | d->hdr[3];
            else
                return IASO_E_FORMAT;
            d->in_msg = true;
            d->left = d->full;
            d->have = 0;
            d->stage = 0;
            d->data_wanted = false;
            d->data_on = false;
            d->want = d->type == NBSS_SESSION_MESSAGE ? (d->full < 4 ? d->full : 4) : 0;
        } else if (d->have < d->want) {
            uint32_t n = d->want - d->have;
            if (n > len)
                n = (uint32_t)len;
            int rc = grow(d, d->want);
            if (rc < 0)
                return rc;
            memcpy(d->buf + d->have, data, n);
            d->have += n;
            d->left -= n;
            data += n;
            len -= n;
            while (d->have == d->want && d->stage < 2 && d->want < d->full) {
                rc = decide(d);
                if (rc < 0)
                    return rc;
            }
            if (d->data_wanted && d->stage == 2 && d->have == d->want)
                data_begin(st, ctx, dir);
        } else {
            uint32_t n = d->left;
            if (n > len)
                n = (uint32_t)len;
            data_feed(st, dir, d->full - d->left, data, n);
            d->left -= n;
            data += n;
            len -= n;
        }
        if (d->in_msg && d->left == 0 && d->have == d->want) {
            d->in_msg = false;
            d->data_on = false;
            int rc = message_done(st, ctx, dir, ts_us);
            if (rc < 0)
                return rc;
        }
    }
    return 0;
}

static void
smb2_end(void *state, const struct proto_ctx *ctx, uint64_t ts_us)
{
    struct smb2_state *st = state;
    struct smb2_flow *f = st->flow;
    if (f) {
        /* Requests never answered, oldest first. */
        for (;;) {
            struct smb2_pending *p = NULL;
            for (int i = 0; i < SMB2_PENDING_MAX; i++)
                if (f->pending[i].used && (!p || f->pending[i].seq < p->seq))
                    p = &f->pending[i];
            if (!p)
                break;
            struct smb2_event ev;
            memset(&ev, 0, sizeof(ev));
            event_from_pending(f, p, &ev);
            if (p->command == SMB2_TREE_CONNECT) {
                copy_str(ev.share, sizeof(ev.share), p->name);
                ev.filename[0] = '\0';
            }
            if (p->command == SMB2_NEGOTIATE) {
                ev.n_client_dialects = f->n_dialects;
                memcpy(ev.client_dialects, f->dialects, sizeof(ev.client_dialects));
            }
            emit(ctx, event_kind(p), PROTO_TOSERVER, ts_us, &ev);
            p->used = false;
        }
    }
    if (st->n_encrypted) {
        struct smb2_event ev;
        memset(&ev, 0, sizeof(ev));
        ev.n_encrypted = st->n_encrypted;
        ev.session_id = st->enc_session_id;
        emit(ctx, SMB2_EV_ENCRYPTED, PROTO_TOSERVER, ts_us, &ev);
    }
    if (f)
        for (int i = 0; i < SMB2_FILES_MAX; i++)
            file_forget(f, &f->files[i]);
    proto_free(st->flow);
    st->flow = NULL;
    for (int i = 0; i < 2; i++) {
        proto_free(st->dir[i].buf);
        st->dir[i].buf = NULL;
        st->dir[i].cap = 0;
    }
}

static enum proto_probe
smb2_probe(const uint8_t *data, size_t len, int dir)
{
    if (len == 0)
        return PROTO_PROBE_NEED_MORE;
    if (data[0] == NBSS_SESSION_REQUEST && dir == PROTO_TOSERVER) {
        /* Port 139: a session request with two encoded NetBIOS names (0x20 + 32 letters). */
        if (len < 5)
            return PROTO_PROBE_NEED_MORE;
        return data[4] == 0x20 ? PROTO_PROBE_YES : PROTO_PROBE_NO;
    }
    if (data[0] != NBSS_SESSION_MESSAGE)
        return PROTO_PROBE_NO;
    static const uint8_t tail[3] = {'S', 'M', 'B'};
    for (size_t i = 4; i < len && i < 8; i++) {
        if (i == 4 ? (data[4] != 0xfe && data[4] != 0xff && data[4] != 0xfd)
                   : data[i] != tail[i - 5])
            return PROTO_PROBE_NO;
    }
    return len < 8 ? PROTO_PROBE_NEED_MORE : PROTO_PROBE_YES;
}

/* ---- EVE ---- */

static void
eve_hex_id(struct jsonw *w, const uint8_t *b)
{
    /* A file id as Suricata writes a GUID-like value: 16 bytes, hex, in wire order. */
    char s[40];
    static const char hex[] = "0123456789abcdef";
    size_t n = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            s[n++] = '-';
        s[n++] = hex[b[i] >> 4];
        s[n++] = hex[b[i] & 15];
    }
    jsonw_strn(w, s, n);
}

static void
eve_status(struct jsonw *w, const struct smb2_event *e)
{
    if (!e->has_status)
        return;
    char code[16];
    int n = snprintf(code, sizeof(code), "0x%x", e->status);
    const char *name = smb2_status_name(e->status);
    jsonw_key(w, "status");
    if (name)
        jsonw_str(w, name);
    else
        jsonw_strn(w, code, (size_t)n);
    jsonw_key(w, "status_code");
    jsonw_strn(w, code, (size_t)n);
}

static void
eve_file(struct jsonw *w, const struct smb2_event *e)
{
    if (e->filename[0]) {
        jsonw_key(w, "filename");
        jsonw_str(w, e->filename);
    }
    if (e->share[0]) {
        jsonw_key(w, "share");
        jsonw_str(w, e->share);
    }
    if (e->has_fid) {
        jsonw_key(w, "fuid");
        eve_hex_id(w, e->fid);
    }
}

static void
smb2_eve(const struct proto_event *pe, struct jsonw *w)
{
    const struct smb2_event *e = pe->data;
    jsonw_key(w, "command");
    if (pe->kind == SMB2_EV_SMB1_NEGOTIATE)
        jsonw_str(w, "SMB1_COMMAND_NEGOTIATE_PROTOCOL");
    else if (pe->kind == SMB2_EV_ENCRYPTED)
        jsonw_str(w, "SMB3_TRANSFORM");
    else
        jsonw_str(w, smb2_command_name(e->command));
    eve_status(w, e);
    if (pe->kind != SMB2_EV_SMB1_NEGOTIATE) {
        if (pe->kind != SMB2_EV_ENCRYPTED) {
            jsonw_key(w, "message_id");
            jsonw_u64(w, e->message_id);
        }
        jsonw_key(w, "session_id");
        jsonw_u64(w, e->session_id);
    }
    if (e->tree_id) {
        jsonw_key(w, "tree_id");
        jsonw_u64(w, e->tree_id);
    }

    switch (pe->kind) {
    case SMB2_EV_NEGOTIATE:
        if (e->dialect) {
            jsonw_key(w, "dialect");
            jsonw_str(w, smb2_dialect_name(e->dialect));
            jsonw_key(w, "signing_required");
            jsonw_bool(w, e->security_mode & 0x2);
        }
        jsonw_key(w, "client_dialects");
        jsonw_array_begin(w);
        for (int i = 0; i < e->n_client_dialects; i++)
            jsonw_str(w, smb2_dialect_name(e->client_dialects[i]));
        jsonw_array_end(w);
        if (e->has_server_guid) {
            jsonw_key(w, "server_guid");
            eve_hex_id(w, e->server_guid);
        }
        break;
    case SMB2_EV_SESSION_SETUP:
        if (e->has_ntlmssp) {
            jsonw_key(w, "ntlmssp");
            jsonw_object_begin(w);
            jsonw_key(w, "domain");
            jsonw_str(w, e->domain);
            jsonw_key(w, "user");
            jsonw_str(w, e->user);
            jsonw_key(w, "host");
            jsonw_str(w, e->host);
            jsonw_object_end(w);
        }
        break;
    case SMB2_EV_TREE_CONNECT:
        jsonw_key(w, "share");
        jsonw_str(w, e->share);
        if (e->share_type) {
            static const char *const types[] = {"UNKNOWN", "FILE", "PIPE", "PRINT"};
            jsonw_key(w, "share_type");
            jsonw_str(w, types[e->share_type <= 3 ? e->share_type : 0]);
        }
        jsonw_key(w, "admin_share");
        jsonw_bool(w, e->is_admin_share);
        break;
    case SMB2_EV_CREATE:
        eve_file(w, e);
        if (e->is_pipe) {
            jsonw_key(w, "named_pipe");
            jsonw_str(w, e->filename);
        }
        jsonw_key(w, "disposition");
        jsonw_str(w, disposition_name(e->disposition));
        jsonw_key(w, "access");
        jsonw_str(w, (e->options & FILE_DELETE_ON_CLOSE) ? "delete on close" : "normal");
        jsonw_key(w, "desired_access");
        jsonw_u64(w, e->access);
        jsonw_key(w, "create_options");
        jsonw_u64(w, e->options);
        if (e->has_size) {
            jsonw_key(w, "create_action");
            jsonw_str(w, create_action_name(e->create_action));
            jsonw_key(w, "size");
            jsonw_u64(w, e->size);
        }
        break;
    case SMB2_EV_READ:
    case SMB2_EV_WRITE:
        eve_file(w, e);
        jsonw_key(w, "offset");
        jsonw_u64(w, e->offset);
        jsonw_key(w, "length");
        jsonw_u64(w, e->length);
        break;
    case SMB2_EV_RENAME:
        eve_file(w, e);
        jsonw_key(w, "rename");
        jsonw_object_begin(w);
        jsonw_key(w, "from");
        jsonw_str(w, e->filename);
        jsonw_key(w, "to");
        jsonw_str(w, e->new_name);
        jsonw_object_end(w);
        break;
    case SMB2_EV_DELETE:
        eve_file(w, e);
        jsonw_key(w, "delete_on_close");
        jsonw_bool(w, e->command == SMB2_CREATE);
        break;
    case SMB2_EV_SMB1_NEGOTIATE:
        jsonw_key(w, "client_dialects");
        jsonw_array_begin(w);
        for (int i = 0; i < e->n_smb1_dialects; i++)
            jsonw_str(w, e->smb1_dialects[i]);
        jsonw_array_end(w);
        break;
    case SMB2_EV_ENCRYPTED:
        jsonw_key(w, "encrypted");
        jsonw_bool(w, true);
        jsonw_key(w, "messages");
        jsonw_u64(w, e->n_encrypted);
        break;
    default: /* CLOSE, COMMAND */
        eve_file(w, e);
        if (pe->kind == SMB2_EV_CLOSE && e->file.done) {
            jsonw_key(w, "file");
            jsonw_object_begin(w);
            filehash_eve(&e->file, w);
            jsonw_key(w, "op");
            jsonw_str(w, e->file_written ? "write" : "read");
            jsonw_object_end(w);
        }
        if (e->command == SMB2_IOCTL) {
            jsonw_key(w, "ctl_code");
            jsonw_u64(w, e->ioctl);
        }
        if (e->command == SMB2_SET_INFO || e->command == SMB2_QUERY_INFO) {
            jsonw_key(w, "info_type");
            jsonw_u64(w, e->info_type);
            jsonw_key(w, "info_class");
            jsonw_u64(w, e->info_class);
        }
        break;
    }
}

static const uint16_t smb2_ports[] = {445, 139, 0};

const struct proto_parser smb2_parser = {
    .name = "smb2",
    .id = PROTO_SMB2,
    .tcp = true,
    .udp = false,
    .ports = smb2_ports,
    .probe = smb2_probe,
    .state_len = sizeof(struct smb2_state),
    .init = NULL,
    .parse = smb2_parse,
    .gap = NULL,
    .end = smb2_end,
    .eve = smb2_eve,
};
