/* wiharness version: our version and the real programs we found, with paths. */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "wiharness/cli.h"

typedef struct {
    const char *output;
} version_cfg;

static const wih_opt k_opts[] = {
    {"output", 'o', WIH_OPT_CHOICE, offsetof(version_cfg, output), "text|json", "text (default) or json", false},
};

static int run_version(void *vcfg, int argc, char **argv)
{
    version_cfg *cfg = vcfg;
    (void)argc;
    (void)argv;
    bool json = cfg->output && !strcmp(cfg->output, "json");
    if (cfg->output && !json && strcmp(cfg->output, "text")) {
        fprintf(stderr, "wiharness version: --output must be text or json, not '%s'\n", cfg->output);
        return WIH_EXIT_INPUT;
    }
    wih_tool_info ti[WIH_TOOL_COUNT];
    for (int t = 0; t < WIH_TOOL_COUNT; t++) wih_tool_find((wih_tool)t, true, &ti[t]);
    if (json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "wiharness", WIH_VERSION);
        cJSON *progs = cJSON_AddObjectToObject(o, "programs");
        for (int t = 0; t < WIH_TOOL_COUNT; t++) {
            cJSON *p = cJSON_AddObjectToObject(progs, ti[t].name);
            if (ti[t].version)
                cJSON_AddStringToObject(p, "version", ti[t].version);
            else
                cJSON_AddNullToObject(p, "version");
            if (ti[t].path)
                cJSON_AddStringToObject(p, "path", ti[t].path);
            else
                cJSON_AddNullToObject(p, "path");
            if (ti[t].source) cJSON_AddStringToObject(p, "source", ti[t].source);
            if (ti[t].pinned) cJSON_AddStringToObject(p, "pinned", ti[t].pinned);
        }
        char *s = cJSON_Print(o);
        printf("%s\n", s);
        free(s);
        cJSON_Delete(o);
    } else {
        printf("wiharness %s\n", WIH_VERSION);
        for (int t = 0; t < WIH_TOOL_COUNT; t++) {
            if (!ti[t].path)
                printf("%-24s not found (run ./ci/setup, or set %s)\n", ti[t].name, ti[t].env);
            else
                printf("%-24s %-28s %s (%s)\n", ti[t].name, ti[t].version ? ti[t].version : "(version unknown)",
                       ti[t].path, ti[t].source);
        }
    }
    for (int t = 0; t < WIH_TOOL_COUNT; t++) wih_tool_info_free(&ti[t]);
    return WIH_EXIT_OK;
}

const wih_cmd wih_cmd_version = {
    .name = "version",
    .summary = "print wiharness's version and the real programs it finds (control plane, node, MinIO, kubectl)",
    .details = "kube-apiserver, etcd, MinIO, kubectl, kube-controller-manager, kube-scheduler, kubelet,\n"
               "containerd, runc. Looked up in this order: $WIH_<NAME> (WIH_KUBE_APISERVER, WIH_ETCD,\n"
               "WIH_MINIO, WIH_KUBECTL, WIH_KUBE_CONTROLLER_MANAGER, WIH_KUBE_SCHEDULER, WIH_KUBELET,\n"
               "WIH_CONTAINERD, WIH_RUNC); $KUBEBUILDER_ASSETS (kube-apiserver, etcd); the cache\n"
               "(${XDG_CACHE_HOME:-~/.cache}/wiharness/bin, filled by ./ci/setup; not for containerd and\n"
               "runc, which are Debian's); PATH (and /usr/sbin, /usr/bin for containerd and runc).",
    .opts = k_opts,
    .nopts = sizeof k_opts / sizeof k_opts[0],
    .cfg_size = sizeof(version_cfg),
    .min_args = 0,
    .max_args = 0,
    .run = run_version,
};
