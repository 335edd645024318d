// SPDX-License-Identifier: Apache-2.0
// `iaso sensor baseline list|accept|remove PATH ...`: the operator's view of the baseline file
// that `iaso sensor --baseline PATH` keeps, and the way to accept or remove pairs. The file is
// saved through baseline_save(), which merges what a running sensor wrote meanwhile and which
// the sensor merges in turn at its next save (see detect/baseline.h).
#include "cli/cli.h"

#include "base/timefmt.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "base/buf.h"
#include "base/error.h"
#include "detect/baseline.h"

#define EXIT_FAIL 1
#define EXIT_USAGE 2

static const char *const usage_text =
    "usage: iaso sensor baseline list PATH [--pending]\n"
    "       iaso sensor baseline accept PATH --all-pending\n"
    "       iaso sensor baseline accept PATH [--note TEXT] KIND FIELDS...\n"
    "       iaso sensor baseline remove PATH KIND FIELDS...\n"
    "\n"
    "The baseline of who talks to whom that `iaso sensor --baseline PATH` keeps.\n"
    "\n"
    "  list     the pairs, sorted, as the file has them (STATE KIND FIELDS...\n"
    "           first= last= n= note=, separated by tabs); --pending: only the\n"
    "           new pairs that raised an alert and wait for review\n"
    "  accept   accept every pending pair, or one pair (added if it is not there,\n"
    "           so legitimate pairs can be entered before they are seen); --note\n"
    "           keeps a word on why\n"
    "  remove   remove a pair (it raises an alert again when it is next seen)\n"
    "\n"
    "Kinds and their fields:\n"
    "  dicom       CLIENT CALLING_AE SERVER CALLED_AE\n"
    "  dicom-move  SERVER DESTINATION_AE\n"
    "  hl7         SENDER SENDING_APP SENDING_FACILITY RECEIVER RECEIVING_APP\n"
    "              RECEIVING_FACILITY\n"
    "  rdp         CLIENT SERVER\n"
    "  smb         CLIENT SERVER SHARE\n"
    "Addresses are IPv4 or IPv6. Names are written as in the file: \"-\" for an\n"
    "empty value, \\xHH for a byte that is not printable ASCII. Copy them from\n"
    "`list`.\n"
    "\n"
    "A running sensor takes the change in at its next save. Accepting a pair it\n"
    "has not saved yet works too: the two are merged.\n"
    "\n"
    "Exit status: 0 on success; 1 when the file cannot be read or written, or the\n"
    "pair to remove is not in it; 2 on bad usage.\n";

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int
usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "iaso sensor baseline: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n(see `iaso sensor baseline --help`)\n");
    va_end(ap);
    return EXIT_USAGE;
}

static bool
file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 || errno != ENOENT;
}

static struct baseline *
open_for_edit(const char *path, bool must_exist)
{
    if (must_exist && !file_exists(path)) {
        fprintf(stderr,
                "iaso sensor baseline: %s: no such file (the sensor writes it with "
                "--baseline PATH)\n",
                path);
        return NULL;
    }
    /* No cap of its own: the file holds what the sensor's cap let in. Tombstones are kept, so a
     * removal reaches a sensor that has not saved since. */
    struct baseline_config c = {.pairs_max = UINT32_MAX, .keep_removed = true};
    struct errbuf eb = {""};
    struct baseline *b = baseline_open(path, &c, &eb);
    if (!b)
        fprintf(stderr, "iaso sensor baseline: %s\n", eb.msg);
    return b;
}

static int
save(struct baseline *b, const char *path)
{
    struct errbuf eb = {""};
    if (baseline_save(b, path, &eb) < 0) {
        fprintf(stderr, "iaso sensor baseline: %s\n", eb.msg);
        return EXIT_FAIL;
    }
    return 0;
}

static int
cmd_list(const char *path, bool pending_only)
{
    struct baseline *b = open_for_edit(path, true);
    if (!b)
        return EXIT_FAIL;
    struct buf out;
    buf_init(&out, 0);
    unsigned flags = BASELINE_FORMAT_NO_HEADER | (pending_only ? BASELINE_FORMAT_PENDING_ONLY : 0);
    int rc = baseline_format(b, &out, flags);
    if (rc < 0) {
        fprintf(stderr, "iaso sensor baseline: %s: %s\n", path, iaso_strerror(rc));
        buf_release(&out);
        baseline_free(b);
        return EXIT_FAIL;
    }
    fwrite(out.ptr, 1, out.len, stdout);
    buf_release(&out);
    struct baseline_stats st;
    baseline_stats(b, &st);
    char when[TIMEFMT_UTC_LEN + 1] = "";
    if (st.learn == BASELINE_LEARN_UNTIL)
        timefmt_utc(st.learn_until_us, when, sizeof(when));
    printf("# %llu pairs (%llu pending, %llu removed); learning %s%s\n",
           (unsigned long long)st.n_pairs, (unsigned long long)st.n_pending,
           (unsigned long long)st.n_removed,
           st.learn == BASELINE_LEARN_AUTO    ? "not started (the sensor's first event starts it)"
           : st.learn == BASELINE_LEARN_UNTIL ? "until "
                                              : "done",
           when);
    baseline_free(b);
    return 0;
}

static void
print_words(const char *const *words, size_t n)
{
    for (size_t i = 0; i < n; i++)
        printf("%s%s", i ? " " : "", words[i]);
}

static int
cmd_accept(const char *path, bool all_pending, const char *note, const char *const *words,
           size_t n_words)
{
    struct baseline *b = open_for_edit(path, all_pending);
    if (!b)
        return EXIT_FAIL;
    int status = 0;
    if (all_pending) {
        size_t n = baseline_accept_pending(b);
        if (n > 0)
            status = save(b, path);
        if (status == 0)
            printf("%s: accepted %zu pending pair%s\n", path, n, n == 1 ? "" : "s");
        baseline_free(b);
        return status;
    }
    struct errbuf eb = {""};
    int rc = baseline_set(b, words, n_words, BASELINE_ACCEPTED, note, &eb);
    if (rc < 0) {
        fprintf(stderr, "iaso sensor baseline: %s\n", eb.msg);
        baseline_free(b);
        return rc == IASO_E_INVAL ? EXIT_USAGE : EXIT_FAIL;
    }
    status = save(b, path);
    if (status == 0) {
        printf("%s: %s ", path, rc == 1 ? "added" : "accepted");
        print_words(words, n_words);
        printf("\n");
    }
    baseline_free(b);
    return status;
}

static int
cmd_remove(const char *path, const char *const *words, size_t n_words)
{
    struct baseline *b = open_for_edit(path, true);
    if (!b)
        return EXIT_FAIL;
    struct errbuf eb = {""};
    int rc = baseline_remove(b, words, n_words, &eb);
    int status = 0;
    if (rc < 0) {
        fprintf(stderr, "iaso sensor baseline: %s: %s\n", path, eb.msg);
        status = rc == IASO_E_INVAL ? EXIT_USAGE : EXIT_FAIL;
    } else {
        status = save(b, path);
        if (status == 0) {
            printf("%s: removed ", path);
            print_words(words, n_words);
            printf("\n");
        }
    }
    baseline_free(b);
    return status;
}

int
cmd_sensor_baseline(int argc, char **argv)
{
    if (argc < 4) {
        fputs(usage_text, stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[3];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        fputs(usage_text, stdout);
        return 0;
    }
    bool is_list = strcmp(cmd, "list") == 0, is_accept = strcmp(cmd, "accept") == 0;
    if (!is_list && !is_accept && strcmp(cmd, "remove") != 0)
        return usage_error("unknown command '%s' (list, accept or remove)", cmd);

    /* Options anywhere before "--"; the rest is PATH then KIND FIELDS (a field may look like an
     * option: put it after "--"). */
    bool pending = false, all_pending = false, options_done = false;
    const char *note = NULL;
    const char *pos[2 + 6 + 1];
    size_t n_pos = 0;
    for (int i = 4; i < argc; i++) {
        const char *a = argv[i];
        if (!options_done && a[0] == '-' && a[1] == '-') {
            if (strcmp(a, "--") == 0) {
                options_done = true;
            } else if (strcmp(a, "--help") == 0) {
                fputs(usage_text, stdout);
                return 0;
            } else if (strcmp(a, "--pending") == 0 && is_list) {
                pending = true;
            } else if (strcmp(a, "--all-pending") == 0 && is_accept) {
                all_pending = true;
            } else if (strcmp(a, "--note") == 0 && is_accept) {
                if (++i == argc)
                    return usage_error("%s needs a value", a);
                note = argv[i];
            } else {
                return usage_error("unknown option '%s' for this command", a);
            }
            continue;
        }
        if (n_pos == sizeof(pos) / sizeof(pos[0]))
            return usage_error("too many arguments (from '%s' on)", a);
        pos[n_pos++] = a;
    }
    if (n_pos == 0)
        return usage_error("%s needs the baseline's PATH", cmd);
    const char *path = pos[0];
    if (is_list) {
        if (n_pos > 1)
            return usage_error("list takes only PATH, not '%s'", pos[1]);
        return cmd_list(path, pending);
    }
    if (all_pending && (n_pos > 1 || note))
        return usage_error("%s", "--all-pending takes no pair and no --note");
    if (!all_pending && n_pos < 2)
        return usage_error("%s: give KIND FIELDS..., or --all-pending", cmd);
    if (is_accept)
        return cmd_accept(path, all_pending, note, pos + 1, n_pos - 1);
    return cmd_remove(path, pos + 1, n_pos - 1);
}
