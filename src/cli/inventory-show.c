// SPDX-License-Identifier: Apache-2.0
// `iaso sensor inventory PATH`: the inventory file the sensor wrote, as a table for people.
#include "cli/cli.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

static const char *
str_of(json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));
    return s ? s : "";
}

int
cmd_sensor_inventory(int argc, char **argv)
{
    if (argc != 4 || strcmp(argv[3], "--help") == 0 || strcmp(argv[3], "-h") == 0) {
        fprintf(argc == 4 ? stdout : stderr,
                "usage: iaso sensor inventory PATH\n\n"
                "Shows the inventory that `iaso sensor --inventory PATH` wrote: one line per "
                "host\n(address, MAC, device kind, roles, protocols, peers, last seen), then "
                "the device\nfacts and the evidence for the kind.\n");
        return argc == 4 ? 0 : 2;
    }
    const char *path = argv[3];
    json_error_t err;
    json_t *doc = json_load_file(path, JSON_REJECT_DUPLICATES, &err);
    if (!doc) {
        fprintf(stderr, "iaso sensor inventory: %s: %s (line %d)\n", path, err.text, err.line);
        return 1;
    }
    json_t *hosts = json_object_get(doc, "hosts");
    if (!json_is_array(hosts)) {
        fprintf(stderr, "iaso sensor inventory: %s: not an inventory (no \"hosts\" list)\n", path);
        json_decref(doc);
        return 1;
    }
    printf("%-39s %-17s %-20s %-5s %s\n", "ADDRESS", "MAC", "KIND", "PEERS", "LAST SEEN");
    size_t i;
    json_t *h;
    json_array_foreach(hosts, i, h)
    {
        json_int_t peers = (json_int_t)json_array_size(json_object_get(h, "peers")) +
                           json_integer_value(json_object_get(h, "peers_not_listed"));
        printf("%-39s %-17s %-20s %-5lld %s\n", str_of(h, "ip"), str_of(h, "mac"),
               str_of(h, "kind"), (long long)peers, str_of(h, "last_seen"));
        size_t k;
        json_t *r;
        json_array_foreach(json_object_get(h, "roles"), k, r)
        {
            const char *d = str_of(r, "detail");
            printf("    role      %s%s%s\n", str_of(r, "role"), *d ? " " : "", d);
        }
        const char *key;
        json_t *v;
        json_object_foreach(json_object_get(h, "protocols"), key, v)
        {
            printf("    protocol  %s (client %lld, server %lld)\n", key,
                   (long long)json_integer_value(json_object_get(v, "as_client")),
                   (long long)json_integer_value(json_object_get(v, "as_server")));
        }
        json_object_foreach(json_object_get(h, "device"), key, v)
        {
            printf("    device    %s: %s\n", key, json_string_value(v) ? json_string_value(v) : "");
        }
        json_array_foreach(json_object_get(h, "evidence"), k, r)
        {
            printf("    evidence  %s\n", json_string_value(r) ? json_string_value(r) : "");
        }
    }
    printf("%zu hosts", json_array_size(hosts));
    json_int_t dropped = json_integer_value(json_object_get(doc, "hosts_dropped"));
    if (dropped)
        printf(" (%lld more not kept: --inventory-max)", (long long)dropped);
    printf("\n");
    json_decref(doc);
    return 0;
}
