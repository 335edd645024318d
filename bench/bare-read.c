// SPDX-License-Identifier: Apache-2.0
//
// iaso-bench-bare: the floor the sensor is measured against. It reads a capture with libpcap
// (pcap_open_offline + pcap_next_ex) and does nothing per packet but touch it: the first and last
// captured byte go into a checksum, so the compiler cannot drop the read and the packet's cache
// lines at both ends are loaded. It prints packets, bytes and seconds (CLOCK_MONOTONIC, from open
// to close) as `key: value` lines on stdout.

#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

static double
now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
    char errbuf[PCAP_ERRBUF_SIZE] = "";
    if (argc != 2) {
        fprintf(stderr, "usage: iaso-bench-bare FILE.pcap\n");
        return 2;
    }
    double t0 = now_s();
    pcap_t *p = pcap_open_offline(argv[1], errbuf);
    if (p == NULL) {
        fprintf(stderr, "iaso-bench-bare: %s: %s\n", argv[1], errbuf);
        return 1;
    }
    uint64_t n_packets = 0;
    uint64_t n_bytes = 0;
    uint64_t sum = 0;
    struct pcap_pkthdr *h;
    const u_char *data;
    int rc;
    while ((rc = pcap_next_ex(p, &h, &data)) == 1) {
        n_packets++;
        n_bytes += h->len;
        if (h->caplen > 0)
            sum += (uint64_t)data[0] + data[h->caplen - 1];
    }
    if (rc == PCAP_ERROR) {
        fprintf(stderr, "iaso-bench-bare: %s: %s\n", argv[1], pcap_geterr(p));
        pcap_close(p);
        return 1;
    }
    pcap_close(p);
    double seconds = now_s() - t0;
    printf("packets: %llu\nbytes: %llu\nseconds: %.6f\nchecksum: %llu\n",
           (unsigned long long)n_packets, (unsigned long long)n_bytes, seconds,
           (unsigned long long)sum);
    return 0;
}
