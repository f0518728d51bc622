/* What a node needs (preflight) and the names it uses (the plan): a node
 * name, a bridge name and a /24 of 10.244.0.0/16 that no host interface and
 * no host route uses, so two chains on one machine never collide. */
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wiharness/node.h"

static bool exec_ok(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode) && access(p, X_OK) == 0;
}

static char *in_path(const char *name)
{
    static const char *const dirs[] = {"/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin", NULL};
    for (const char *const *d = dirs; *d; d++) {
        char *p = wih_path_join(*d, name);
        if (exec_ok(p)) return p;
        free(p);
    }
    return NULL;
}

char *node_preflight(void)
{
    wih_buf b;
    wih_buf_init(&b, 1 << 16);
    if (geteuid() != 0) wih_buf_adds(&b, "; root (the node creates a bridge, network namespaces, mounts and cgroups)");
    static const char *const progs[] = {"containerd", "ctr", "runc", "ip", NULL};
    for (const char *const *p = progs; *p; p++) {
        char *f = in_path(*p);
        if (!f) wih_buf_addf(&b, "; %s (Debian: apt-get install %s)", *p,
                             !strcmp(*p, "ip") ? "iproute2" : !strcmp(*p, "ctr") ? "containerd" : *p);
        free(f);
    }
    static const char *const cni[] = {"bridge", "host-local", "loopback", NULL};
    for (const char *const *c = cni; *c; c++) {
        char *f = wih_path_join("/usr/lib/cni", *c);
        if (!exec_ok(f)) wih_buf_addf(&b, "; /usr/lib/cni/%s (apt-get install containernetworking-plugins)", *c);
        free(f);
    }
    wih_err *e = NULL;
    char *kl = wih_tool_path(WIH_TOOL_KUBELET, &e);
    if (!kl) wih_buf_addf(&b, "; %s", wih_err_str(e));
    wih_err_free(e);
    free(kl);
    char *fs = wih_read_file("/proc/filesystems", 1 << 16, NULL, NULL);
    if (!fs || !strstr(fs, "\toverlay\n")) wih_buf_adds(&b, "; the overlay filesystem (modprobe overlay)");
    free(fs);
    struct stat st;
    if (stat("/sys/fs/cgroup", &st) != 0) wih_buf_adds(&b, "; cgroups mounted at /sys/fs/cgroup");
    if (stat("/proc/sys/net/ipv4", &st) != 0) wih_buf_adds(&b, "; IPv4 networking (/proc/sys/net/ipv4)");
    if (!b.len) {
        wih_buf_free(&b);
        return NULL;
    }
    char *s = wih_strdup(b.data + 2);
    wih_buf_free(&b);
    return s;
}

/* true when 10.244.n.0/24 overlaps an address of a host interface or a route */
static bool subnet_used(int n)
{
    uint32_t net = (10u << 24) | (244u << 16) | ((uint32_t)n << 8);
    struct ifaddrs *ifa = NULL;
    bool used = false;
    if (getifaddrs(&ifa) == 0) {
        for (struct ifaddrs *i = ifa; i && !used; i = i->ifa_next) {
            if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET) continue;
            uint32_t a = ntohl(((struct sockaddr_in *)i->ifa_addr)->sin_addr.s_addr);
            used = (a & 0xffffff00u) == net;
        }
        freeifaddrs(ifa);
    }
    char *routes = wih_read_file("/proc/net/route", 1 << 20, NULL, NULL);
    char *save = NULL;
    for (char *l = routes ? strtok_r(routes, "\n", &save) : NULL; l && !used; l = strtok_r(NULL, "\n", &save)) {
        char ifn[64];
        unsigned dst, gw, flags, mask;
        int ref, use, metric;
        if (sscanf(l, "%63s %x %x %x %d %d %d %x", ifn, &dst, &gw, &flags, &ref, &use, &metric, &mask) != 8) continue;
        if (!mask) continue; /* the default route overlaps everything; it does not make a /24 local */
        uint32_t d = ntohl(dst), m = ntohl(mask);
        used = (net & m) == (d & m) || (d & 0xffffff00u) == net;
    }
    free(routes);
    return used;
}

wih_err *node_plan_new(const char *state_dir, node_plan *p)
{
    memset(p, 0, sizeof *p);
    p->id = wih_random_hex(3);
    p->name = wih_asprintf("wih-%s", p->id);
    p->bridge = wih_asprintf("wih0-%s", p->id);
    p->dir = wih_path_join(state_dir, "node");
    int start = (int)(strtoul(p->id, NULL, 16) % 250) + 1;
    for (int k = 0; k < 250; k++) {
        int n = (start + k) % 250 + 1; /* 1..250 */
        if (subnet_used(n)) continue;
        p->subnet = wih_asprintf("10.244.%d.0/24", n);
        p->gateway = wih_asprintf("10.244.%d.1", n);
        return NULL;
    }
    node_plan_free(p);
    return wih_err_new(WIH_EXIT_INFRA, "no free /24 in 10.244.0.0/16 for the node's bridge");
}

void node_plan_free(node_plan *p)
{
    free(p->name);
    free(p->id);
    free(p->bridge);
    free(p->subnet);
    free(p->gateway);
    free(p->dir);
    memset(p, 0, sizeof *p);
}

cJSON *node_plan_json(const node_plan *p)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", p->name);
    cJSON_AddStringToObject(o, "id", p->id);
    cJSON_AddStringToObject(o, "bridge", p->bridge);
    cJSON_AddStringToObject(o, "subnet", p->subnet);
    cJSON_AddStringToObject(o, "gateway", p->gateway);
    cJSON_AddStringToObject(o, "dir", p->dir);
    return o;
}

int node_plan_from_json(const cJSON *j, node_plan *p)
{
    memset(p, 0, sizeof *p);
    const char *k[] = {"name", "id", "bridge", "subnet", "gateway", "dir"};
    char **dst[] = {&p->name, &p->id, &p->bridge, &p->subnet, &p->gateway, &p->dir};
    for (int i = 0; i < 6; i++) {
        const char *v = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, k[i]));
        if (!v) {
            node_plan_free(p);
            return -1;
        }
        *dst[i] = wih_strdup(v);
    }
    return 0;
}
