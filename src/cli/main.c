// SPDX-License-Identifier: Apache-2.0
// `iaso`: one binary, git-style subcommands. Only this folder prints and picks exit statuses;
// the work is done by the libraries under src/.
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "cli/cli.h"
#include "detect/behave.h"
#include "base/log.h"
#include "base/opt.h"
#include "sensor/sensor.h"

#define EXIT_USAGE 2

static const char *const top_usage =
    "usage: iaso <command> [options]\n"
    "\n"
    "Iaso protects hospitals from attack and helps them recover.\n"
    "\n"
    "commands:\n"
    "  sensor     read a mirror port or capture files; decode, track flows, raise alerts,\n"
    "             write EVE JSON\n"
    "  centre     the centre: serve the API and UI where hospitals report incidents, and\n"
    "             manage organisations, users and tokens\n"
    "  indicators check threat indicator files (CSV, STIX 2.1, MISP) before loading them\n"
    "  version    print the version\n"
    "  help       show this help, or `iaso help <command>` for one command\n";

static const char *const sensor_usage =
    "usage: iaso sensor --read FILE [--read FILE ...] [options]\n"
    "       iaso sensor --interface IF [options]\n"
    "       iaso sensor inventory PATH\n"
    "       iaso sensor baseline list|accept|remove PATH ...\n"
    "\n"
    "Reads packets from capture files (pcap or pcapng; several are merged in\n"
    "timestamp order) or from a live interface. Decodes Ethernet, VLAN, Linux\n"
    "cooked capture, IPv4 and IPv6 (fragments put back together), TCP, UDP and\n"
    "ICMP; tracks flows; reassembles TCP streams; parses DICOM, HL7 v2, HTTP/FHIR,\n"
    "DNS, TLS, SMB2 and RDP; writes EVE JSON: one `flow` event per flow when it\n"
    "ends, the protocols' events, and `alert` events from the shared indicators\n"
    "(--indicators), the baseline of who talks to whom (--baseline) and the\n"
    "behaviour detectors (--thresholds lists them). See docs/detection.md.\n"
    "\n"
    "Exit status: 0 on success; 1 when the input could not be read (a missing or\n"
    "broken file; a capture cut short, after what came before the cut was\n"
    "processed) or an indicator or baseline file is unusable; 2 on bad usage.\n"
    "\n"
    "options:\n";

static void
print_stat(const char *key, unsigned long long v)
{
    fprintf(stderr, "%s: %llu\n", key, v);
}

static void
print_stats(const struct sensor_stats *s)
{
    double secs = s->wall_s > 0 ? s->wall_s : 1e-9;
    print_stat("packets", s->n_packets);
    print_stat("bytes", s->n_bytes);
    print_stat("packets_no_ip", s->n_no_ip);
    print_stat("packets_no_flow", s->n_no_flow);
    print_stat("ipv4", s->decode.n_ipv4);
    print_stat("ipv6", s->decode.n_ipv6);
    print_stat("tcp", s->decode.n_tcp);
    print_stat("udp", s->decode.n_udp);
    print_stat("icmp", s->decode.n_icmp);
    print_stat("fragments", s->decode.n_fragments);
    print_stat("datagrams_reassembled", s->n_datagrams_reassembled);
    print_stat("decode_events", s->n_decode_events);
    for (int i = 0; i < DECODE_EV_COUNT; i++)
        if (s->decode.n_events[i])
            fprintf(stderr, "  %s: %llu\n", decode_event_name((enum decode_event)i),
                    (unsigned long long)s->decode.n_events[i]);
    print_stat("flows_created", s->flow.n_created);
    print_stat("flows_active_max", s->flow.n_active_max);
    print_stat("flows_timed_out", s->flow.n_timed_out);
    print_stat("flows_evicted", s->flow.n_evicted);
    print_stat("flows_tcp_reuse", s->flow.n_reused);
    print_stat("flows_ended_at_shutdown", s->flow.n_shutdown);
    print_stat("flow_bytes_each", s->flow_bytes_each);
    print_stat("reasm_segments", s->reasm.n_segments);
    print_stat("reasm_bytes_delivered", s->reasm.bytes_delivered);
    print_stat("reasm_out_of_order", s->reasm.n_out_of_order);
    print_stat("reasm_retransmissions", s->reasm.n_retransmissions);
    print_stat("reasm_overlaps", s->reasm.n_overlaps);
    print_stat("reasm_overlap_diff", s->reasm.n_overlap_diff);
    print_stat("reasm_gaps", s->reasm.n_gaps);
    print_stat("reasm_gap_bytes", s->reasm.gap_bytes);
    print_stat("reasm_drops_dir_cap", s->reasm.n_dir_cap);
    print_stat("reasm_drops_memcap", s->reasm.n_memcap);
    print_stat("reasm_data_after_fin", s->reasm.n_after_fin);
    print_stat("reasm_held_max", s->reasm.held_len_max);
    print_stat("defrag_held_bytes", s->defrag_mem_len);
    for (int i = 1; i < PROTO_COUNT; i++) {
        const struct proto_parser *p = proto_parsers[i];
        if (!p)
            continue;
        fprintf(stderr, "app_%s_flows: %llu\n", p->name,
                (unsigned long long)s->app.proto[i].n_flows);
        fprintf(stderr, "app_%s_events: %llu\n", p->name,
                (unsigned long long)s->app.proto[i].n_events);
        fprintf(stderr, "app_%s_gave_up: %llu\n", p->name,
                (unsigned long long)s->app.proto[i].n_gave_up);
    }
    print_stat("app_unknown_flows", s->app.n_unknown);
    print_stat("app_memcap_drops", s->app.n_memcap);
    print_stat("app_memory_max", s->app_mem_max);
    print_stat("app_memory_refused", s->app_mem_refused);
    const struct detect_stats *d = &s->detect;
    print_stat("indicators", d->ioc.n_indicators);
    for (int i = 0; i < IOC_TYPE_COUNT; i++)
        if (d->ioc.n_type[i])
            fprintf(stderr, "  %s: %llu\n", ioc_type_name((enum ioc_type)i),
                    (unsigned long long)d->ioc.n_type[i]);
    print_stat("indicator_memory", d->ioc.mem_bytes);
    print_stat("indicator_bytes_each",
               d->ioc.n_indicators ? d->ioc.mem_bytes / d->ioc.n_indicators : 0);
    print_stat("indicator_reloads", d->n_reloads);
    print_stat("indicator_reload_failures", d->n_reload_failures);
    uint64_t n_alerts = 0;
    for (int i = 0; i < RULE_COUNT; i++)
        n_alerts += d->alerts.n_raised[i];
    print_stat("alerts", n_alerts);
    for (int i = 0; i < RULE_COUNT; i++)
        if (d->alerts.n_raised[i])
            fprintf(stderr, "  %s: %llu\n", rules[i].name,
                    (unsigned long long)d->alerts.n_raised[i]);
    print_stat("alerts_deduplicated", d->alerts.n_dedup);
    print_stat("alerts_rate_limited", d->alerts.n_ratelimited);
    print_stat("baseline_pairs", d->n_baseline_pairs);
    print_stat("baseline_pending", d->n_baseline_pending);
    print_stat("behaviour_sources", d->n_behave_sources);
    print_stat("behaviour_sources_evicted", d->n_behave_evicted);
    print_stat("queue_waits", s->n_queue_waits);
    print_stat("eve_bytes", s->n_eve_bytes);
    if (s->is_live) {
        print_stat("kernel_received", s->n_kernel_received);
        print_stat("kernel_dropped", s->n_kernel_dropped);
        print_stat("interface_dropped", s->n_if_dropped);
    }
    print_stat("workers", (unsigned long long)s->n_workers);
    for (int i = 0; i < s->n_workers && i < 64; i++)
        fprintf(stderr, "worker_%d_packets: %llu\n", i, (unsigned long long)s->n_worker_packets[i]);
    fprintf(stderr, "wall_seconds: %.3f\n", s->wall_s);
    fprintf(stderr, "setup_seconds: %.3f\n", s->setup_s);
    fprintf(stderr, "throughput_mbps: %.1f\n", (double)s->n_bytes * 8 / 1e6 / secs);
    fprintf(stderr, "throughput_kpps: %.1f\n", (double)s->n_packets / 1e3 / secs);
}

static void
show_progress(void *user, const struct sensor_progress *p)
{
    (void)user;
    double pct =
        p->file_bytes_total ? 100.0 * (double)p->file_bytes_read / (double)p->file_bytes_total : 0;
    fprintf(stderr, "\r%5.1f%%  %.1f of %.1f MB, %llu packets, %.2f Gbit/s   ", pct,
            (double)p->file_bytes_read / 1e6, (double)p->file_bytes_total / 1e6,
            (unsigned long long)p->n_packets,
            p->wall_s > 0 ? (double)p->n_bytes * 8 / 1e9 / p->wall_s : 0);
}

/* The behaviour detectors' thresholds: a table for --thresholds, Markdown for the docs. */
static int
thresholds_text(struct buf *b, bool markdown)
{
    int rc = 0;
    if (markdown)
        rc = buf_append_str(b, "\n## Behaviour thresholds\n\n"
                               "Set with `--threshold NAME=VALUE` (repeatable); "
                               "`iaso sensor --thresholds` prints this list.\n\n"
                               "| name | default | unit | meaning |\n|---|---|---|---|\n");
    for (size_t i = 0; rc == 0 && i < behave_param_count(); i++) {
        const struct behave_param *p = behave_param_at(i);
        if (markdown)
            rc = buf_printf(b, "| `%s` | %s | %s | %s |\n", p->name, p->def, p->unit, p->help);
        else
            rc = buf_printf(b, "  %-28s %-8s %-12s %s\n", p->name, p->def, p->unit, p->help);
    }
    return rc;
}

static void
on_signal(int sig)
{
    (void)sig;
    sensor_stop();
}

static void
on_hup(int sig)
{
    (void)sig;
    sensor_reload();
}

/* A whole text file, NUL-terminated, at most 1 MiB; NULL with a sentence in eb. */
static char *
read_text_file(const char *path, struct errbuf *eb)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        err_set(eb, IASO_E_IO, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = (size_t)1 << 20;
    char *text = malloc(cap + 1);
    size_t n = text ? fread(text, 1, cap + 1, f) : 0;
    bool bad = ferror(f) != 0;
    fclose(f);
    if (!text || bad || n > cap) {
        err_set(eb, IASO_E_IO, "%s: %s", path,
                !text ? "out of memory"
                : bad ? "cannot read"
                      : "larger than 1 MiB");
        free(text);
        return NULL;
    }
    text[n] = '\0';
    return text;
}

static int
cmd_sensor(int argc, char **argv)
{
    struct sensor_config cfg;
    struct errbuf eb = {""};
    int status = 0;
    if (opt_defaults(sensor_options, sensor_n_options, &cfg, &eb) < 0) {
        fprintf(stderr, "iaso sensor: %s\n", eb.msg);
        return 1;
    }
    /* The site key's place may come from the environment; a --site-key given still wins. */
    const char *env_key = getenv("IASO_SITE_KEY");
    if (env_key && *env_key)
        cfg.site_key = env_key;
    const char *default_key = cfg.site_key;
    int first_operand = argc;
    /* A configuration file is read before the command line, which then wins. */
    char *config_text = NULL;
    for (int i = 2; i < argc && argv[i]; i++) {
        const char *arg = argv[i], *path = NULL;
        if (strcmp(arg, "--config") == 0 && i + 1 < argc)
            path = argv[i + 1];
        else if (strncmp(arg, "--config=", 9) == 0)
            path = arg + 9;
        else if (strcmp(arg, "--") == 0)
            break;
        if (!path)
            continue;
        free(config_text);
        config_text = read_text_file(path, &eb);
        if (!config_text ||
            opt_parse_text(sensor_options, sensor_n_options, &cfg, path, config_text, &eb) < 0) {
            fprintf(stderr, "iaso sensor: %s\n", eb.msg);
            status = config_text ? EXIT_USAGE : 1;
            goto out;
        }
    }
    if (opt_parse(sensor_options, sensor_n_options, &cfg, argc, argv, 2, &first_operand, &eb) < 0) {
        fprintf(stderr, "iaso sensor: %s\n(see `iaso sensor --help`)\n", eb.msg);
        status = EXIT_USAGE;
        goto out;
    }
    if (cfg.help || cfg.help_markdown) {
        struct buf b;
        buf_init(&b, 0);
        if (cfg.help)
            buf_append_str(&b, sensor_usage);
        else
            buf_append_str(&b, "# `iaso sensor` options\n\n"
                               "Generated by `iaso sensor --help-markdown` from the option table "
                               "in `src/sensor/config.c`; edit the table, not this page.\n\n"
                               "Sizes take k, M and G suffixes (powers of 1024); durations take "
                               "ms, s, m, h and d (a plain number is seconds).\n\n");
        int rc = cfg.help ? opt_help_text(sensor_options, sensor_n_options, &b)
                          : opt_help_markdown(sensor_options, sensor_n_options, &b);
        if (rc == 0 && cfg.help_markdown)
            rc = thresholds_text(&b, true);
        if (rc == 0)
            fwrite(b.ptr, 1, b.len, stdout);
        buf_release(&b);
        goto out;
    }
    if (cfg.list_thresholds) {
        struct buf b;
        buf_init(&b, 0);
        buf_printf(&b, "  %-28s %-8s %-12s %s\n", "NAME", "DEFAULT", "UNIT", "MEANING");
        if (thresholds_text(&b, false) == 0)
            fwrite(b.ptr, 1, b.len, stdout);
        buf_release(&b);
        goto out;
    }
    if (first_operand < argc) {
        fprintf(stderr, "iaso sensor: unexpected argument '%s' (files are read with --read)\n",
                argv[first_operand]);
        status = EXIT_USAGE;
        goto out;
    }
    enum log_level level;
    if (log_level_parse(cfg.log_level, &level) < 0) {
        fprintf(stderr, "iaso sensor: --log-level %s: expected error, warn, info or debug\n",
                cfg.log_level);
        status = EXIT_USAGE;
        goto out;
    }
    log_set_level(level);
    if (cfg.read.n == 0 && !cfg.interface) {
        fprintf(stderr, "iaso sensor: nothing to read: give --read FILE or --interface IF\n"
                        "(see `iaso sensor --help`)\n");
        status = EXIT_USAGE;
        goto out;
    }
    if (cfg.read.n > 0 && cfg.interface) {
        fprintf(stderr, "iaso sensor: give either --read or --interface, not both\n");
        status = EXIT_USAGE;
        goto out;
    }

    if (cfg.site_key == default_key && strcmp(cfg.site_key, "/var/lib/iaso/site.key") == 0)
        mkdir("/var/lib/iaso", 0700); /* first run with the default place; errors come later */

    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sa.sa_handler = on_hup;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    bool progress = cfg.read.n > 0 && !cfg.no_progress && (cfg.progress || isatty(STDERR_FILENO));
    struct sensor_stats stats;
    int rc = sensor_run(&cfg, &stats, progress ? show_progress : NULL, NULL, &eb);
    if (progress)
        fprintf(stderr, "\r%78s\r", "");
    if (rc < 0) {
        fprintf(stderr, "iaso sensor: %s\n", eb.msg);
        status = rc == IASO_E_USAGE ? EXIT_USAGE : 1;
    }
    if (cfg.stats)
        print_stats(&stats);
out:
    opt_release(sensor_options, sensor_n_options, &cfg);
    free(config_text);
    return status;
}

int
main(int argc, char **argv)
{
    if (argc < 2) {
        fputs(top_usage, stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "sensor") == 0) {
        if (argc > 2 && strcmp(argv[2], "inventory") == 0)
            return cmd_sensor_inventory(argc, argv);
        if (argc > 2 && strcmp(argv[2], "baseline") == 0)
            return cmd_sensor_baseline(argc, argv);
        return cmd_sensor(argc, argv);
    }
    if (strcmp(cmd, "centre") == 0)
        return cmd_centre(argc, argv);
    if (strcmp(cmd, "indicators") == 0)
        return cmd_indicators(argc, argv);
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
        printf("iaso %s\n", IASO_VERSION);
        return 0;
    }
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        if (argc > 2 && strcmp(argv[2], "sensor") == 0) {
            char *args[] = {argv[0], (char *)"sensor", (char *)"--help", NULL};
            return cmd_sensor(3, args);
        }
        fputs(top_usage, stdout);
        return 0;
    }
    fprintf(stderr, "iaso: unknown command '%s'\n\n%s", cmd, top_usage);
    return EXIT_USAGE;
}
