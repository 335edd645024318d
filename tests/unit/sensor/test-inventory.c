// SPDX-License-Identifier: Apache-2.0
// The host inventory: roles, facts, peers, caps, merging, classification, JSON.
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sensor/inventory.h"

static struct inv_addr
v4(uint8_t last)
{
    struct inv_addr a;
    memset(&a, 0, sizeof(a));
    a.ip_version = 4;
    a.ip.b[0] = 10;
    a.ip.b[3] = last;
    return a;
}

static char *
json_of(struct inventory *inv, struct buf *b)
{
    buf_init(b, 0);
    assert_int_equal(inventory_to_json(inv, b), 0);
    return (char *)b->ptr;
}

static void
test_modality_and_pacs(void **state)
{
    (void)state;
    struct inventory *inv = inventory_new(100);
    struct inv_addr ct = v4(5), pacs = v4(2), ws = v4(9);
    const uint8_t mac[6] = {2, 0, 0, 0, 0, 5};
    inventory_mac(inv, &ct, mac, 1000000);
    inventory_conversation(inv, &ct, &pacs, PROTO_DICOM, 104, 1000000, 2000000);
    inventory_role(inv, &ct, INV_ROLE_DICOM_SCU, "CT01            ", 16, 1000000);
    inventory_role(inv, &pacs, INV_ROLE_DICOM_SCP, "PACS", 4, 1000000);
    inventory_role(inv, &pacs, INV_ROLE_DICOM_SCP, "PACS", 4, 1000000); /* once only */
    inventory_fact(inv, &ct, INV_FACT_MODALITY, "CT", 2, 1000000);
    inventory_fact(inv, &ct, INV_FACT_MANUFACTURER, "Acme\x01Medical", 12, 1000000);
    inventory_conversation(inv, &ws, &pacs, PROTO_SMB2, 445, 3000000, 4000000);
    assert_int_equal(inventory_n_hosts(inv), 3);
    struct buf b;
    char *j = json_of(inv, &b);
    /* Hosts sorted by address: 10.0.0.2 (pacs), .5 (ct), .9. */
    char *p2 = strstr(j, "\"ip\":\"10.0.0.2\""), *p5 = strstr(j, "\"ip\":\"10.0.0.5\"");
    assert_non_null(p2);
    assert_non_null(p5);
    assert_true(p2 < p5);
    assert_non_null(strstr(j, "\"kind\":\"pacs\""));
    assert_non_null(strstr(j, "\"kind\":\"modality\""));
    assert_non_null(strstr(j, "DICOM SCU 'CT01' sends CT images"));
    assert_non_null(strstr(j, "\"role\":\"dicom_scp\",\"detail\":\"PACS\""));
    assert_non_null(strstr(j, "\"manufacturer\":\"Acme?Medical\"")); /* no control bytes */
    assert_non_null(strstr(j, "\"mac\":\"02:00:00:00:00:05\""));
    assert_non_null(strstr(j, "\"server_ports\":[104,445]"));
    assert_non_null(strstr(j, "\"dicom\":{\"as_client\":0,\"as_server\":1}"));
    assert_null(strstr(j + 1, "\"dicom_scp\",\"detail\":\"PACS\"},{\"role\":\"dicom_scp\""));
    buf_release(&b);
    inventory_free(inv);
}

static void
test_caps_and_merge(void **state)
{
    (void)state;
    struct inventory *a = inventory_new(16), *b = inventory_new(16);
    struct inv_addr server = v4(1);
    /* 40 clients of one server: 32 peers listed, 8 counted; 16 hosts kept. */
    for (int i = 0; i < 40; i++) {
        struct inv_addr c = v4((uint8_t)(100 + i));
        inventory_conversation(a, &c, &server, PROTO_HTTP, 80, 1, 2);
    }
    assert_int_equal(inventory_n_hosts(a), 16);
    assert_int_equal(inventory_n_dropped(a), 25); /* 24 clients and... each dropped lookup */
    struct inv_addr hl7 = v4(50);
    inventory_role(b, &hl7, INV_ROLE_HL7_SENDER, "HIS^HOSP", 8, 5);
    inventory_role(b, &hl7, INV_ROLE_HL7_RECEIVER, "LIS^LAB", 7, 6);
    inventory_merge(a, b); /* a is full: the HL7 host is counted, not added */
    assert_int_equal(inventory_n_hosts(a), 16);
    struct inventory *c = inventory_new(100);
    inventory_merge(c, b);
    struct buf out;
    char *j = json_of(c, &out);
    assert_non_null(strstr(j, "\"kind\":\"hl7_interface_engine\""));
    buf_release(&out);
    inventory_free(a);
    inventory_free(b);
    inventory_free(c);
    inventory_free(NULL);
}

static void
test_write(void **state)
{
    (void)state;
    struct inventory *inv = inventory_new(4);
    struct inv_addr x = v4(7), y = v4(8);
    inventory_conversation(inv, &x, &y, PROTO_NONE, 0, 1, 2);
    char path[] = "/tmp/iaso-inv-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    struct errbuf eb;
    assert_int_equal(inventory_write(inv, path, &eb), 0);
    FILE *f = fopen(path, "r");
    char text[4096] = "";
    size_t n = fread(text, 1, sizeof(text) - 1, f);
    fclose(f);
    text[n] = 0;
    assert_non_null(strstr(text, "\"hosts\":[{\"ip\":\"10.0.0.7\""));
    unlink(path);
    assert_true(inventory_write(inv, "/nonexistent/dir/inv.json", &eb) < 0);
    assert_non_null(strstr(eb.msg, "cannot write the inventory"));
    inventory_free(inv);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_modality_and_pacs),
        cmocka_unit_test(test_caps_and_merge),
        cmocka_unit_test(test_write),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
