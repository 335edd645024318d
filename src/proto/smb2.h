// SPDX-License-Identifier: Apache-2.0
// SMB2/3 over the NetBIOS session service (TCP 445 and 139): the file-share protocol that
// ransomware uses to move laterally and to encrypt shares, parsed into one event per completed
// request/response pair (login, share, file open, read, write, rename, delete, ...).
//
// Framing: NBSS messages (type 0x00; keepalives and session setup packets are skipped) each
// carrying one SMB message. SMB2 messages (0xFE 'S' 'M' 'B') are parsed, compounded chains
// included; SMB1 (0xFF 'S' 'M' 'B') is only looked at for its NEGOTIATE (the dialects offered);
// SMB3 encrypted messages (0xFD 'S' 'M' 'B') are counted and reported once at the end of the flow.
// Only the headers of a message are kept: a WRITE request or READ response keeps its fixed part
// and its data bytes are skipped without being buffered.
//
// Requests are matched with their responses by message id, so a response's event names the file
// and the request's parameters; file ids are mapped to names through a small per-flow table.
// Requests whose response never came are reported (without a status) when the flow ends.
//
// SMB carries no patient data in its headers; file names can (a folder named after a patient),
// but they are what the ransomware detectors read and are kept as they are, like HTTP URLs.
//
// File digests (when ctx->file_hashes asks, see filehash.h) come in the CLOSE event ("file":
// {"size", "md5", "sha1", "sha256", "op"}) of a file that passed whole between its CREATE and its
// CLOSE (answered with success), through one file id:
//   written: WRITE requests, each starting where the last ended, the first at offset 0, every one
//     answered with success and hashed, and the file's end after them where the last one ended
//     (EndofFile of the CLOSE response when it carries its attributes; else the file was no
//     bigger at the CREATE, or than a SET_INFO EndOfFile before the writes, and a SET_INFO
//     EndOfFile during or after them set it there);
//   read: READ responses, each starting where the last ended, the first at offset 0, up to the
//     file's end (EndofFile of the CLOSE response when it has it, else of the CREATE response),
//     and no write to it. A read at offset 0 starts over (a client that peeks at the head of a
//     file before reading it all); a read elsewhere out of order stops the hashing until then.
// Written data is hashed from the requests as they stream by, read data from the responses;
// nothing is buffered. A write out of order or overlapping, a failed or unseen write, a write
// inside a compounded message (its data is not streamed) or a file still open when the flow ends:
// no digest. An empty file gets none. At most SMB2_HASH_FILES_MAX files of a flow are hashed at
// once; a file that starts past it gets no digest.
#ifndef IASO_PROTO_SMB2_H
#define IASO_PROTO_SMB2_H

#include <stdbool.h>
#include <stdint.h>

#include "proto/filehash.h"
#include "proto/proto.h"

/* Limits, each capping what an attacker controls. */
#define SMB2_MSG_MAX 65536 /* bytes of one NBSS message kept for parsing (headers only) */
#define SMB2_CHAIN_MAX 32  /* compounded commands parsed per message; clients send ~4 */
/* Requests awaiting a response (credits rarely allow more); beyond it the oldest is dropped. */
#define SMB2_PENDING_MAX 32
/* Open file ids remembered per flow (about 21 KB); beyond it the oldest goes. */
#define SMB2_FILES_MAX 64
/* Files hashed at once per flow (one struct filehash each, under 1 KiB): clients copy files one
 * at a time or a few in parallel; the cap bounds the digest memory of a flow to a few KiB. */
#define SMB2_HASH_FILES_MAX 8
#define SMB2_TREES_MAX 16       /* tree ids (connected shares) remembered per flow */
#define SMB2_NAME_MAX 256       /* bytes of a file or share name kept (UTF-8), longer is cut */
#define SMB2_AUTH_NAME_MAX 64   /* bytes of an NTLMSSP user, domain or host name kept */
#define SMB2_DIALECTS_MAX 16    /* SMB2 dialects kept from a NEGOTIATE request (5 exist) */
#define SMB1_DIALECTS_MAX 16    /* SMB1 dialect strings kept from a NEGOTIATE (clients send ~8) */
#define SMB1_DIALECT_LEN_MAX 24 /* bytes of one SMB1 dialect string kept ("NT LM 0.12") */

enum smb2_event_kind {
    SMB2_EV_NEGOTIATE = 1,
    SMB2_EV_SESSION_SETUP,
    SMB2_EV_TREE_CONNECT,
    SMB2_EV_CREATE,
    SMB2_EV_CLOSE,
    SMB2_EV_READ,
    SMB2_EV_WRITE,
    SMB2_EV_RENAME,
    SMB2_EV_DELETE,
    SMB2_EV_SMB1_NEGOTIATE,
    SMB2_EV_COMMAND,   /* any other command, by name */
    SMB2_EV_ENCRYPTED, /* at the end of a flow that carried SMB3 encrypted messages */
};

/* One event; which fields are meaningful depends on kind (see smb2.c, smb2_eve). Strings are
 * UTF-8 (converted from UTF-16LE), NUL-terminated, cut at their cap. */
struct smb2_event {
    uint16_t command;
    bool has_status; /* false for a request whose response was not seen */
    uint32_t status;
    uint64_t message_id, session_id;
    uint32_t tree_id;

    /* NEGOTIATE */
    uint16_t dialect;
    uint16_t security_mode;
    int n_client_dialects;
    uint16_t client_dialects[SMB2_DIALECTS_MAX];
    bool has_server_guid;
    uint8_t server_guid[16];

    /* SESSION_SETUP: from the NTLMSSP AUTHENTICATE message, when it was seen */
    bool has_ntlmssp;
    char user[SMB2_AUTH_NAME_MAX], domain[SMB2_AUTH_NAME_MAX], host[SMB2_AUTH_NAME_MAX];

    /* TREE_CONNECT, and the share of file events */
    char share[SMB2_NAME_MAX];
    uint8_t share_type;  /* 1 disk, 2 pipe, 3 print; 0 unknown */
    bool is_admin_share; /* IPC$, ADMIN$, C$ ... */

    /* file events */
    char filename[SMB2_NAME_MAX];
    char new_name[SMB2_NAME_MAX]; /* RENAME */
    bool is_pipe;                 /* a named pipe on IPC$ (svcctl, samr, ...) */
    uint32_t access, disposition, options, create_action;
    bool has_size;
    uint64_t size; /* CREATE: end of file */
    bool has_fid;
    uint8_t fid[16];
    uint64_t offset; /* READ, WRITE */
    uint32_t length;
    uint32_t ioctl;                /* IOCTL control code */
    uint8_t info_type, info_class; /* SET_INFO / QUERY_INFO */
    struct filehash_digest file;   /* CLOSE: digests of a file that passed whole (.done) */
    bool file_written;             /* ... by WRITE requests (else read by READ responses) */

    /* SMB1_NEGOTIATE */
    int n_smb1_dialects;
    char smb1_dialects[SMB1_DIALECTS_MAX][SMB1_DIALECT_LEN_MAX];

    /* ENCRYPTED */
    uint64_t n_encrypted;
};

extern const struct proto_parser smb2_parser;

/* Names used in events, exposed for the detectors: "SMB2_COMMAND_CREATE", "STATUS_SUCCESS"
 * (NULL when the code has no name here), "3.11". */
const char *smb2_command_name(uint16_t command);
const char *smb2_status_name(uint32_t status);
const char *smb2_dialect_name(uint16_t dialect);

#endif
