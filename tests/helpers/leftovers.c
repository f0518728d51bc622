#include "leftovers.h"

#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wiharness/node.h"
#include "wiharness/core.h"

int wih_test_procs_naming(const char *dir)
{
    DIR *d = opendir("/proc");
    struct dirent *e;
    int n = 0;
    while (d && (e = readdir(d))) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9' || atoi(e->d_name) == getpid()) continue;
        char p[300];
        snprintf(p, sizeof p, "/proc/%s/cmdline", e->d_name);
        size_t len = 0;
        char *c = wih_read_file(p, 1 << 16, &len, NULL);
        for (size_t i = 0; c && i < len; i++)
            if (!c[i]) c[i] = ' ';
        snprintf(p, sizeof p, "/proc/%s/stat", e->d_name);
        char *s = wih_read_file(p, 1 << 16, NULL, NULL);
        char *rp = s ? strrchr(s, ')') : NULL;
        bool zombie = rp && rp[2] == 'Z';
        if (c && strstr(c, dir) && !zombie) {
            printf("left running: pid %s: %s\n", e->d_name, c);
            n++;
        }
        free(c);
        free(s);
    }
    if (d) closedir(d);
    return n;
}

void wih_test_check_clean(const char *dir, const cJSON *snap, const cJSON *recs)
{
    ck_assert_int_eq(wih_test_procs_naming(dir), 0);
    node_plan p;
    if (snap && node_plan_from_json(cJSON_GetObjectItem(snap, "node"), &p) == 0) {
        cJSON *lo = node_leftovers(&p, recs);
        char *s = cJSON_PrintUnformatted(lo);
        ck_assert_msg(cJSON_GetArraySize(lo) == 0, "left behind: %s", s);
        free(s);
        cJSON_Delete(lo);
        char *ipam = wih_path_join(p.dir, "cni/ipam");
        ck_assert_msg(access(ipam, F_OK) != 0, "IPAM leases left in %s", ipam);
        free(ipam);
        node_plan_free(&p);
    }
    char *mi = wih_read_file("/proc/self/mountinfo", 16 << 20, NULL, NULL);
    ck_assert_msg(!strstr(mi, dir), "a mount under %s is left", dir);
    free(mi);
}
