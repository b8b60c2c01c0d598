/* rw_labels_fuzz.c - libFuzzer target for the [remote_write] external_labels parser.
 *
 * Any input (up to its first NUL) is checked with rw_check_labels(): it returns 0 or
 * -EINVAL with a message naming external_labels. When accepted, rw_build() on a one-row
 * table agrees and the request it builds (snappy, protobuf) unpacks to one series whose
 * label names are valid, unique and sorted in byte order, with __name__, window, by and
 * group holding the row's values and no empty value.
 */
#include <errno.h>
#include <snappy-c.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"
#include "exporters/remote_write.h"
#include "remote.pb-c.h"

static const char *const windows[] = {"28d", NULL};
static const struct kpi_def fam = {.name = "adoption_ratio", .help = "help", .windows = windows};

static void fail(const char *what, const char *in)
{
    fprintf(stderr, "rw_labels_fuzz: %s (input \"%s\")\n", what, in);
    abort();
}

static int valid_name(const char *s)
{
    if (!*s || (*s >= '0' && *s <= '9'))
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '_'))
            return 0;
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *in = xstrndup((const char *)data, size);
    char err[256] = "";
    int rc = rw_check_labels(in, err, sizeof err);
    if (rc != 0 && rc != -EINVAL)
        fail("unexpected return", in);
    if (rc == -EINVAL && !strstr(err, "external_labels"))
        fail("error without a message", in);
    struct kpi_table t = {0};
    kpi_table_add(&t, "adoption_ratio", "28d", "org", "all", 1, 2, 10, 0, 0);
    uint8_t *body = NULL;
    size_t len = 0;
    int n = rw_build(&t, &fam, 1, in, 0, 1000, &body, &len);
    if ((rc == 0) != (n == 1))
        fail("rw_build disagrees with rw_check_labels", in);
    if (n == 1) {
        size_t plen;
        if (snappy_uncompressed_length((const char *)body, len, &plen) != SNAPPY_OK)
            fail("bad snappy", in);
        char *packed = xmalloc(plen + 1);
        if (snappy_uncompress((const char *)body, len, packed, &plen) != SNAPPY_OK)
            fail("bad snappy", in);
        Prometheus__WriteRequest *req =
            prometheus__write_request__unpack(NULL, plen, (const uint8_t *)packed);
        if (!req || req->n_timeseries != 1 || req->timeseries[0]->n_labels < 4)
            fail("bad request", in);
        const Prometheus__TimeSeries *ts = req->timeseries[0];
        int fixed = 0;
        for (size_t i = 0; i < ts->n_labels; i++) {
            const char *k = ts->labels[i]->name, *v = ts->labels[i]->value;
            if (!valid_name(k) || !*v)
                fail("invalid label", in);
            if (i && strcmp(ts->labels[i - 1]->name, k) >= 0)
                fail("labels not sorted or not unique", in);
            fixed += (!strcmp(k, "__name__") && !strcmp(v, "cadre_adoption_ratio")) +
                     (!strcmp(k, "window") && !strcmp(v, "28d")) +
                     (!strcmp(k, "by") && !strcmp(v, "org")) +
                     (!strcmp(k, "group") && !strcmp(v, "all"));
        }
        if (fixed != 4)
            fail("KPI labels lost", in);
        prometheus__write_request__free_unpacked(req, NULL);
        xfree(packed);
    }
    xfree(body);
    kpi_table_clear(&t);
    xfree(in);
    return 0;
}
