// SPDX-License-Identifier: Apache-2.0
// Every option of `iaso sensor`, declared once: the command line, --help and
// docs/sensor-options.md all come from this table.
#include <stddef.h>

#include "sensor/sensor.h"

#define F(field) offsetof(struct sensor_config, field)
#define DAY_MS (INT64_C(86400000))

const struct opt_def sensor_options[] = {
    {"config", 0, OPT_STRING, "FILE", 0, 0, NULL,
     "Read options from FILE first: one `name = value` a line, with the long option names "
     "(no --), `#` comments, flags as `name` or `name = true`. Options on the command line come "
     "after and win; repeatable ones (read, indicators, threshold) add up.",
     F(config_path)},
    {"read", 'r', OPT_LIST, "FILE", 0, 0, NULL,
     "Read packets from a pcap or pcapng file. Repeat to read several files as one stream, "
     "merged in timestamp order.",
     F(read)},
    {"interface", 'i', OPT_STRING, "IF", 0, 0, NULL,
     "Capture live from a network interface (a mirror or TAP port). Needs root or "
     "cap_net_raw.",
     F(interface)},
    {"eve", 'e', OPT_STRING, "PATH", 0, 0, "-",
     "Write events as EVE JSON lines to PATH (appended); - is standard output.", F(eve_path)},
    {"stats", 's', OPT_FLAG, NULL, 0, 0, NULL,
     "Print counters (packets, bytes, decode events, flows, evictions, reassembly gaps and "
     "drops) on standard error at the end.",
     F(stats)},
    {"progress", 0, OPT_FLAG, NULL, 0, 0, NULL,
     "Show a progress line on standard error while reading files, even when it is not a "
     "terminal.",
     F(progress)},
    {"no-progress", 0, OPT_FLAG, NULL, 0, 0, NULL,
     "Never show the progress line (it is shown by default when standard error is a terminal).",
     F(no_progress)},
    {"workers", 'w', OPT_INT, "N", 1, 64, "1",
     "Worker threads. Flows are spread over them by a symmetric hash of their addresses and "
     "ports, so both directions of a flow meet in one worker.",
     F(workers)},
    {"flow-max", 0, OPT_INT, "N", 64, 100000000, "1000000",
     "Most flows tracked at once, all workers together. When the table is full the flow idle "
     "the longest is ended (reason \"forced\") and counted as an eviction.",
     F(flow_max)},
    {"flow-memcap", 0, OPT_SIZE, "SIZE", 1 << 20, INT64_C(1) << 40, "1G",
     "Memory for flow entries, all workers together; lowers --flow-max when it would not fit.",
     F(flow_memcap)},
    {"timeout-tcp-new", 0, OPT_DURATION, "TIME", 1000, DAY_MS, "60s",
     "Idle timeout of a TCP flow not yet established (handshake incomplete).",
     F(timeout_ms[FLOW_TO_TCP_NEW])},
    {"timeout-tcp-established", 0, OPT_DURATION, "TIME", 1000, DAY_MS, "600s",
     "Idle timeout of an established TCP flow.", F(timeout_ms[FLOW_TO_TCP_ESTABLISHED])},
    {"timeout-tcp-closed", 0, OPT_DURATION, "TIME", 0, DAY_MS, "10s",
     "Time a TCP flow is kept after FIN from both sides or RST, for late packets.",
     F(timeout_ms[FLOW_TO_TCP_CLOSED])},
    {"timeout-udp-new", 0, OPT_DURATION, "TIME", 1000, DAY_MS, "30s",
     "Idle timeout of a UDP flow that has seen one direction only.",
     F(timeout_ms[FLOW_TO_UDP_NEW])},
    {"timeout-udp-established", 0, OPT_DURATION, "TIME", 1000, DAY_MS, "120s",
     "Idle timeout of a UDP flow that has seen both directions.",
     F(timeout_ms[FLOW_TO_UDP_ESTABLISHED])},
    {"timeout-other-new", 0, OPT_DURATION, "TIME", 1000, DAY_MS, "30s",
     "Idle timeout of other flows (ICMP, other IP protocols) seen in one direction.",
     F(timeout_ms[FLOW_TO_OTHER_NEW])},
    {"timeout-other-established", 0, OPT_DURATION, "TIME", 1000, DAY_MS, "120s",
     "Idle timeout of other flows seen in both directions.",
     F(timeout_ms[FLOW_TO_OTHER_ESTABLISHED])},
    {"stream-dir-max", 0, OPT_SIZE, "SIZE", 4096, INT64_C(1) << 30, "1M",
     "Out-of-order TCP bytes held per direction of a connection while waiting for a missing "
     "segment; past it the hole is declared a gap.",
     F(stream_dir_max)},
    {"stream-memcap", 0, OPT_SIZE, "SIZE", 1 << 20, INT64_C(1) << 40, "256M",
     "Out-of-order TCP bytes held by all connections together, all workers together.",
     F(stream_memcap)},
    {"defrag-memcap", 0, OPT_SIZE, "SIZE", 65536, INT64_C(1) << 36, "32M",
     "Bytes of IP fragments held while datagrams are put back together.", F(defrag_memcap)},
    {"defrag-max", 0, OPT_INT, "N", 16, 10000000, "65536",
     "Fragmented datagrams being put back together at once.", F(defrag_max)},
    {"defrag-timeout", 0, OPT_DURATION, "TIME", 1000, 3600000, "60s",
     "Time an incomplete fragmented datagram is kept.", F(defrag_timeout_ms)},
    {"snaplen", 0, OPT_INT, "BYTES", 64, 262144, "262144",
     "Live capture: bytes kept of each packet.", F(snaplen)},
    {"buffer-size", 0, OPT_SIZE, "SIZE", 1 << 20, INT64_C(1) << 32, "64M",
     "Live capture: the kernel's capture ring.", F(buffer_size)},
    {"queue-size", 0, OPT_SIZE, "SIZE", 1 << 20, INT64_C(1) << 32, "16M",
     "With several workers: the queue from the capture thread to each worker.", F(queue_size)},
    {"no-parsers", 0, OPT_FLAG, NULL, 0, 0, NULL,
     "Track flows and reassemble TCP streams, but parse no application protocol (no DICOM, "
     "HL7, HTTP, DNS, TLS, SMB or RDP events, no inventory roles).",
     F(no_parsers)},
    {"app-memcap", 0, OPT_SIZE, "SIZE", 65536, INT64_C(1) << 40, "256M",
     "Memory for protocol parser state, all flows and workers together; a flow that does not "
     "fit is tracked without protocol parsing, and counted.",
     F(app_memcap)},
    {"inventory", 0, OPT_STRING, "PATH", 0, 0, NULL,
     "Keep an inventory of the hosts seen (roles, device facts, protocols, peers, device kind) "
     "and write it to PATH as JSON when the sensor stops; `iaso sensor inventory PATH` shows it.",
     F(inventory_path)},
    {"inventory-max", 0, OPT_INT, "N", 16, 10000000, "65536",
     "Most hosts in the inventory; hosts past it are counted, not added.", F(inventory_max)},
    {"indicators", 0, OPT_LIST, "PATH", 0, 0, NULL,
     "Load shared threat indicators and alert on traffic that matches them: a CSV file "
     "(type,value,... with a header), a STIX 2.1 bundle, a MISP event or collection, or a MISP "
     "feed directory; told apart by content. Repeat for several. What each file gave is "
     "printed at start; they are reloaded, without stopping the capture, on SIGHUP or when a "
     "file changes. `iaso indicators check PATH` shows what a file would load.",
     F(indicators)},
    {"file-hashes", 0, OPT_STRING, "LIST", 0, 0, NULL,
     "Digests of the files that pass whole over HTTP and SMB, written in their events: a "
     "comma-separated list of md5, sha1 and sha256, or none. By default, those the loaded "
     "indicators hold hashes of (none without such indicators), so file-hash indicators match.",
     F(file_hashes)},
    {"home-net", 0, OPT_STRING, "CIDRS", 0, 0, NULL,
     "The hospital's own networks, comma-separated (e.g. 10.0.0.0/8,fd00::/8): DICOM or HL7 "
     "with an address outside them raises an alert. Default: the private, unique-local and "
     "link-local ranges.",
     F(home_net)},
    {"baseline", 0, OPT_STRING, "PATH", 0, 0, NULL,
     "Keep the baseline of who talks to whom (DICOM AE titles and hosts, HL7 applications, SMB "
     "clients per share, RDP clients per server) in PATH, a text file read at start and "
     "written at exit; after learning, a pair not in it raises an alert. See docs/baseline.md "
     "and `iaso sensor baseline`.",
     F(baseline_path)},
    {"learn", 0, OPT_FLAG, NULL, 0, 0, NULL,
     "Record new pairs into the baseline silently, raising no baseline alert.", F(learn)},
    {"learn-period", 0, OPT_DURATION, "TIME", 0, 365 * DAY_MS, "7d",
     "When the baseline file does not exist yet, learn for this long (traffic time) before "
     "new pairs raise alerts.",
     F(learn_period_ms)},
    {"threshold", 0, OPT_LIST, "NAME=VALUE", 0, 0, NULL,
     "Set a behaviour detector's threshold, e.g. scan_ports=200; repeatable. "
     "`iaso sensor --thresholds` lists them with their defaults.",
     F(thresholds)},
    {"thresholds", 0, OPT_FLAG, NULL, 0, 0, NULL,
     "List the behaviour detectors' thresholds with their defaults and exit.", F(list_thresholds)},
    {"alert-burst", 0, OPT_INT, "N", 0, 1000000, "50",
     "Most alerts per source address and --alert-window in each worker; more are counted, not "
     "written, so an attack cannot flood the log. 0: no limit.",
     F(alert_burst)},
    {"alert-window", 0, OPT_DURATION, "TIME", 1000, DAY_MS, "60s", "The window of --alert-burst.",
     F(alert_window_ms)},
    {"site-key", 0, OPT_STRING, "PATH", 0, 0, "/var/lib/iaso/site.key",
     "The site's secret for pseudonymising patient identifiers (32 bytes, mode 0600), created "
     "on first run. The environment variable IASO_SITE_KEY, when set, replaces the default.",
     F(site_key)},
    {"phi-clear", 0, OPT_FLAG, NULL, 0, 0, NULL,
     "Write patient names, IDs, birth dates and addresses in clear instead of pseudonyms. For "
     "local forensics only: never send such output off this machine.",
     F(phi_clear)},
    {"log-level", 0, OPT_STRING, "LEVEL", 0, 0, "warn",
     "Diagnostics on standard error: error, warn, info or debug.", F(log_level)},
    {"help", 'h', OPT_FLAG, NULL, 0, 0, NULL, "Show this help and exit.", F(help)},
    {"help-markdown", 0, OPT_FLAG, NULL, 0, 0, NULL,
     "Print the option reference as Markdown (it is docs/sensor-options.md) and exit.",
     F(help_markdown)},
};

const size_t sensor_n_options = sizeof(sensor_options) / sizeof(sensor_options[0]);
